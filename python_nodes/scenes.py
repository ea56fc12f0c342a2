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
ENCODINGS = ('rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8', 'mono16', 'yuv422', 'yuv422_yuy2',
             'bayer_rggb8', 'bayer_bggr8', 'bayer_gbrg8', 'bayer_grbg8')
# Encodings without colour: vision_node's blobs detector needs blobs.mode:=bright for them.
GREY_ENCODINGS = ('mono8', 'mono16')


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


def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma, rounded as vision_node computes it."""
    weights = np.array([299, 587, 114], dtype=np.uint32)
    return ((rgb.astype(np.uint32) @ weights + 500) // 1000).astype(np.uint8)


def to_yuv422(rgb: np.ndarray, order: str) -> np.ndarray:
    """BT.601 limited-range YUV 4:2:2, pairs of pixels sharing the mean of their U and V;
    `order` is 'uyvy' or 'yuyv'. The width must be even."""
    f = rgb.astype(np.float64)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
    u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
    v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
    u = (u[:, 0::2] + u[:, 1::2]) / 2
    v = (v[:, 0::2] + v[:, 1::2]) / 2
    planes = {'y0': y[:, 0::2], 'y1': y[:, 1::2], 'u': u, 'v': v}
    names = ('u', 'y0', 'v', 'y1') if order == 'uyvy' else ('y0', 'u', 'y1', 'v')
    packed = np.stack([planes[n] for n in names], axis=-1)
    return np.clip(np.rint(packed), 0, 255).astype(np.uint8).reshape(rgb.shape[0], -1)


def to_bayer(rgb: np.ndarray, pattern: str) -> np.ndarray:
    """The raw mosaic a Bayer sensor with `pattern` (e.g. 'rggb') would record."""
    channel = {'r': 0, 'g': 1, 'b': 2}
    out = np.empty(rgb.shape[:2], dtype=np.uint8)
    for i, colour in enumerate(pattern):
        dy, dx = divmod(i, 2)
        out[dy::2, dx::2] = rgb[dy::2, dx::2, channel[colour]]
    return out


def encode(rgb: np.ndarray, encoding: str) -> tuple[bytes, int]:
    """Pixel bytes and step of `rgb` in a sensor_msgs/Image encoding (16-bit values
    little-endian, is_bigendian 0)."""
    alpha = np.full(rgb.shape[:2] + (1,), 255, dtype=np.uint8)
    if encoding == 'rgb8':
        out = rgb
    elif encoding == 'bgr8':
        out = rgb[:, :, ::-1]
    elif encoding == 'rgba8':
        out = np.concatenate([rgb, alpha], axis=2)
    elif encoding == 'bgra8':
        out = np.concatenate([rgb[:, :, ::-1], alpha], axis=2)
    elif encoding == 'mono8':
        out = luma(rgb)
    elif encoding == 'mono16':
        out = (luma(rgb).astype('<u2') * 257)
    elif encoding == 'yuv422':
        out = to_yuv422(rgb, 'uyvy')
    elif encoding == 'yuv422_yuy2':
        out = to_yuv422(rgb, 'yuyv')
    elif encoding.startswith('bayer_') and encoding in ENCODINGS:
        out = to_bayer(rgb, encoding[len('bayer_'):-1])
    else:
        raise ValueError(f'unsupported encoding {encoding!r} (one of {", ".join(ENCODINGS)})')
    out = np.ascontiguousarray(out)
    return out.tobytes(), out.strides[0]


def compress(rgb: np.ndarray, codec: str, quality: int = 90) -> bytes:
    """JPEG or PNG bytes of `rgb`, as image_transport's compressed publisher makes them."""
    import cv2

    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if codec == 'jpeg' else []
    ok, data = cv2.imencode(f'.{codec}', rgb[:, :, ::-1], params)
    if not ok:
        raise ValueError(f'cv2 could not encode {codec}')
    return data.tobytes()


def iou(a, b) -> float:
    """Intersection over union of two (x, y, width, height) boxes."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(w, 0) * max(h, 0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0
