"""Synthetic scenes with known ground truth: coloured shapes on a plain background.

Shared by image_publisher and the tests. Boxes are in pixels of the image, top-left
origin, the same convention as rust_vision/Detection: a shape covering pixel columns
10..19 has x 10 and width 10.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

BACKGROUND = (40, 40, 40)
# Saturated colours whose chroma and BT.601 luma both stand out from the background, so
# that vision_node's blobs detector finds them by colour (rgb8, bgr8) or brightness (mono8).
COLOURS = {
    'red': (220, 40, 40),
    'green': (40, 200, 40),
    'blue': (60, 90, 240),
    'yellow': (230, 210, 40),
    'magenta': (210, 50, 210),
    'cyan': (40, 200, 210),
}
ENCODINGS = ('rgb8', 'bgr8', 'mono8')


@dataclass
class Shape:
    """One shape of a scene and its true bounding box, pixels."""

    kind: str  # 'rectangle' or 'ellipse'
    colour: str
    x: int
    y: int
    width: int
    height: int

    def to_dict(self) -> dict:
        return asdict(self)


def make_scene(width: int, height: int, shapes: int, rng: np.random.Generator,
               noise: int = 0) -> tuple[np.ndarray, list[Shape]]:
    """An RGB image (height x width x 3, uint8) with up to `shapes` non-overlapping shapes.

    Shapes keep a gap of at least 4 pixels from each other, so that each is one blob.
    Fewer shapes are placed when the image has no room for more.
    """
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[:] = BACKGROUND
    if noise:
        jitter = rng.integers(-noise, noise + 1, size=image.shape)
        image[:] = np.clip(image.astype(np.int16) + jitter, 0, 255).astype(np.uint8)
    placed: list[Shape] = []
    smallest = max(12, min(width, height) // 12)
    largest = max(smallest + 1, min(width, height) // 4)
    for _ in range(shapes * 50):
        if len(placed) == shapes:
            break
        w, h = (int(v) for v in rng.integers(smallest, largest, size=2))
        if w >= width or h >= height:
            continue
        x, y = int(rng.integers(0, width - w)), int(rng.integers(0, height - h))
        if any(x < s.x + s.width + 4 and s.x < x + w + 4 and
               y < s.y + s.height + 4 and s.y < y + h + 4 for s in placed):
            continue
        colour = list(COLOURS)[len(placed) % len(COLOURS)]
        kind = 'rectangle' if rng.integers(0, 2) == 0 else 'ellipse'
        _draw(image, kind, x, y, w, h, COLOURS[colour])
        placed.append(Shape(kind, colour, x, y, w, h))
    return image, placed


def _draw(image: np.ndarray, kind: str, x: int, y: int, w: int, h: int, colour) -> None:
    if kind == 'rectangle':
        image[y:y + h, x:x + w] = colour
        return
    # Pixel centres inside the ellipse inscribed in the box; its widest row and column
    # span the whole box, so the box is the shape's exact extent.
    yy, xx = np.mgrid[0:h, 0:w]
    cx, cy = (w - 1) / 2, (h - 1) / 2
    inside = ((xx - cx) / (w / 2)) ** 2 + ((yy - cy) / (h / 2)) ** 2 <= 1.0
    image[y:y + h, x:x + w][inside] = colour


def encode(rgb: np.ndarray, encoding: str) -> tuple[bytes, int]:
    """Pixel bytes and step of `rgb` in a sensor_msgs/Image encoding."""
    if encoding == 'rgb8':
        out = rgb
    elif encoding == 'bgr8':
        out = rgb[:, :, ::-1]
    elif encoding == 'mono8':
        # BT.601 luma, rounded as vision_node computes it.
        weights = np.array([299, 587, 114], dtype=np.uint32)
        out = ((rgb.astype(np.uint32) @ weights + 500) // 1000).astype(np.uint8)
    else:
        raise ValueError(f'unsupported encoding {encoding!r} (one of {", ".join(ENCODINGS)})')
    out = np.ascontiguousarray(out)
    return out.tobytes(), out.strides[0]


def iou(a, b) -> float:
    """Intersection over union of two (x, y, width, height) boxes."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(w, 0) * max(h, 0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0
