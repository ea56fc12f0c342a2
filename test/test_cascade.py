"""The cascade detector against OpenCV's cv2.CascadeClassifier, on real photos.

Golden tests: the same cascade files (the ones opencv-python ships), the same images
and the same detectMultiScale parameters; every OpenCV detection must be matched by one
of ours at IoU >= 0.8, with no extra detections. The raw windows (minNeighbors 0) are
compared too, and must be the same set exactly. LBP is checked with cascades the test
writes itself, as opencv-python ships no LBP model.
"""
import json
import subprocess

import cv2
import numpy as np
import pytest
import skimage.data

from conftest import TARGET
from scenes import iou

MODELS = cv2.data.haarcascades
DETECT = TARGET / 'debug' / 'examples' / 'cascade_detect'


def composite(size, background, pieces):
    """`pieces` ((image, scale, (x, y)) ...) resized and pasted onto `background`."""
    canvas = cv2.resize(background, size, interpolation=cv2.INTER_AREA)
    for image, scale, (x, y) in pieces:
        piece = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        h, w = piece.shape[:2]
        canvas[y:y + h, x:x + w] = piece[:canvas.shape[0] - y, :canvas.shape[1] - x]
    return canvas


def images():
    """Real photos (BGR) and composites of them at several scales and positions."""
    astronaut = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)
    chelsea = cv2.cvtColor(skimage.data.chelsea(), cv2.COLOR_RGB2BGR)
    coffee = cv2.cvtColor(skimage.data.coffee(), cv2.COLOR_RGB2BGR)
    face = astronaut[30:300, 120:330]
    cat = chelsea[20:260, 60:340]
    return {
        'astronaut': astronaut,
        'chelsea': chelsea,
        'faces_720p': composite((1280, 720), coffee, [
            (face, 0.6, (40, 60)), (face, 1.0, (420, 200)), (face, 1.7, (820, 150))]),
        'faces_vga': composite((640, 480), coffee, [
            (face, 0.45, (500, 20)), (face, 0.8, (60, 250))]),
        'cats_720p': composite((1280, 720), coffee, [
            (cat, 0.7, (30, 400)), (cat, 1.5, (700, 100))]),
    }


# (model, images, detectMultiScale parameters)
CASES = [
    ('frontalface_default', ['astronaut', 'faces_720p', 'faces_vga'], {}),
    ('frontalface_alt', ['astronaut', 'faces_720p'], {}),
    ('frontalface_alt2', ['astronaut', 'faces_vga'], {'scale_factor': 1.05}),
    ('frontalface_alt_tree', ['astronaut'], {}),
    ('profileface', ['astronaut'], {}),
    ('eye', ['astronaut', 'faces_720p'], {'min_neighbors': 5}),
    ('eye_tree_eyeglasses', ['astronaut'], {}),
    ('smile', ['astronaut'], {'min_neighbors': 20, 'min_size': (30, 15)}),
    ('frontalcatface', ['chelsea'], {}),
    ('frontalcatface_extended', ['chelsea', 'cats_720p'], {}),
    ('upperbody', ['astronaut'], {'scale_factor': 1.2, 'max_size': (400, 400)}),
]


def opencv(model_path, image, params):
    boxes = cv2.CascadeClassifier(str(model_path)).detectMultiScale(
        image, params.get('scale_factor', 1.1), params.get('min_neighbors', 3),
        minSize=params.get('min_size', (0, 0)), maxSize=params.get('max_size', (0, 0)))
    return [tuple(b) for b in np.asarray(boxes).reshape(-1, 4).tolist()]


def ours(model_path, files, params):
    args = [str(DETECT), '--model', str(model_path),
            '--scale-factor', str(params.get('scale_factor', 1.1)),
            '--min-neighbors', str(params.get('min_neighbors', 3)),
            '--min-size', *map(str, params.get('min_size', (0, 0))),
            '--max-size', *map(str, params.get('max_size', (0, 0))),
            *map(str, files)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return [[tuple(b[:4]) for b in json.loads(line)['boxes']]
            for line in out.stdout.splitlines()]


@pytest.fixture(scope='module')
def image_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp('photos')
    files = {}
    for name, image in images().items():
        files[name] = folder / f'{name}.png'
        cv2.imwrite(str(files[name]), image)
    return files


def assert_same_detections(theirs, mine, what):
    unmatched = list(mine)
    for box in theirs:
        best = max(unmatched, key=lambda m: iou(box, m), default=None)
        assert best is not None and iou(box, best) >= 0.8, (
            f'{what}: OpenCV found {box}, we did not (ours: {mine})')
        unmatched.remove(best)
    assert not unmatched, f'{what}: extra detections {unmatched} (OpenCV: {theirs})'


@pytest.mark.parametrize('model,names,params', CASES, ids=[c[0] for c in CASES])
def test_detections_match_opencv(image_files, model, names, params):
    path = f'{MODELS}haarcascade_{model}.xml'
    results = ours(path, [image_files[n] for n in names], params)
    found = 0
    for name, mine in zip(names, results):
        theirs = opencv(path, cv2.imread(str(image_files[name])), params)
        assert_same_detections(theirs, mine, f'{model} on {name}')
        found += len(theirs)
    if model.startswith('frontalface'):
        assert found >= len(names), f'{model} found no face in some image: {results}'


def test_the_astronauts_face_where_opencv_finds_it(image_files):
    [[face]] = ours(f'{MODELS}haarcascade_frontalface_default.xml',
                    [image_files['astronaut']], {'min_neighbors': 5})
    assert iou(face, (177, 66, 95, 95)) >= 0.9, face


@pytest.mark.parametrize('model', ['frontalface_default', 'smile', 'eye_tree_eyeglasses'])
def test_raw_windows_are_the_same_set(image_files, model):
    """Before grouping (minNeighbors 0) every window must agree: pyramid, integral
    images (upright, squared and tilted), variance normalisation and stage sums."""
    path = f'{MODELS}haarcascade_{model}.xml'
    [mine] = ours(path, [image_files['astronaut']], {'min_neighbors': 0})
    theirs = opencv(path, cv2.imread(str(image_files['astronaut'])), {'min_neighbors': 0})
    assert len(theirs) > 0
    assert sorted(mine) == sorted(theirs)


def lbp_cascade(seed, stages=4, trees=6, depth2=False):
    """An LBP cascade in opencv_traincascade's format, with random features and
    subsets; stage thresholds of 0.6 let some thousand windows of 640x480 through."""
    rng = np.random.default_rng(seed)
    features, weak = [], []
    for _ in range(stages * trees * 2):
        w, h = rng.integers(1, 6, size=2)
        x, y = rng.integers(0, 24 - 3 * w + 1), rng.integers(0, 24 - 3 * h + 1)
        features.append(f'<_><rect>{x} {y} {w} {h}</rect></_>')
    f = 0
    for s in range(stages):
        trees_xml = []
        for t in range(trees):
            nodes = 2 if depth2 and t % 2 else 1
            internal = []
            for n in range(nodes):
                subset = rng.integers(-2**31, 2**31, size=8)
                left, right = (1, 0) if (nodes == 2 and n == 0) else (0, -1)
                if nodes == 2 and n == 1:
                    left, right = -1, -2
                internal.append(f'{left} {right} {f} ' + ' '.join(map(str, subset)))
                f += 1
            leaves = ' '.join(f'{v:.6f}' for v in rng.uniform(-1, 1, size=nodes + 1))
            trees_xml.append(f'<_><internalNodes>{" ".join(internal)}</internalNodes>'
                             f'<leafValues>{leaves}</leafValues></_>')
        weak.append(f'<_><maxWeakCount>{trees}</maxWeakCount>'
                    '<stageThreshold>0.6</stageThreshold>'
                    f'<weakClassifiers>{"".join(trees_xml)}</weakClassifiers></_>')
    return (
        '<?xml version="1.0"?><opencv_storage>'
        '<cascade type_id="opencv-cascade-classifier"><stageType>BOOST</stageType>'
        '<featureType>LBP</featureType><height>24</height><width>24</width>'
        '<stageParams><boostType>GAB</boostType><maxDepth>1</maxDepth>'
        f'<maxWeakCount>{trees}</maxWeakCount></stageParams>'
        '<featureParams><maxCatCount>256</maxCatCount><featSize>1</featSize>'
        f'</featureParams><stageNum>{stages}</stageNum>'
        f'<stages>{"".join(weak)}</stages><features>{"".join(features)}</features>'
        '</cascade></opencv_storage>')


@pytest.mark.parametrize('seed,depth2', [(1, False), (3, True)])
def test_lbp_cascades_match_opencv(image_files, tmp_path, seed, depth2):
    path = tmp_path / f'lbp_{seed}.xml'
    path.write_text(lbp_cascade(seed, depth2=depth2))
    for min_neighbors in (0, 3):
        params = {'min_neighbors': min_neighbors, 'scale_factor': 1.25}
        [mine] = ours(path, [image_files['faces_vga']], params)
        theirs = opencv(path, cv2.imread(str(image_files['faces_vga'])), params)
        if min_neighbors == 0:
            assert len(theirs) > 0, 'the cascade lets no window through; a weak test'
            assert sorted(mine) == sorted(theirs)
        else:
            assert_same_detections(theirs, mine, f'LBP cascade {seed}')


@pytest.mark.parametrize('text,reason', [
    ('not xml', 'not XML'),
    ('<opencv_storage><cascade type_id="opencv-haar-classifier"/></opencv_storage>',
     'old-format'),
    ('<opencv_storage><cascade><stageType>BOOST</stageType><featureType>HOG'
     '</featureType><height>24</height><width>24</width><features/><stages/>'
     '</cascade></opencv_storage>', 'feature type'),
])
def test_bad_model_files_are_refused_with_the_reason(tmp_path, text, reason):
    path = tmp_path / 'bad.xml'
    path.write_text(text)
    out = subprocess.run([str(DETECT), '--model', str(path)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode != 0
    assert reason in out.stderr and str(path) in out.stderr, out.stderr
