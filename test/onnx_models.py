"""Small ONNX models with known outputs, built with the onnx package, for the tests of the
onnx detector and classifier.

Both compute each colour channel's mean over their input (RGB, 0..1), so the output
depends on the image the node fed in: channel order, scaling and letterbox all show.
"""
import math

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
GREY = 114 / 255

# Detector boxes in input pixels (cx, cy, w, h) of a 320x320 input, and the factor each
# class score gets from the channel means. Box 1 overlaps box 0 in the same class (NMS
# drops it); box 2 overlaps box 0 in another class (kept); 4..7 never score.
BOXES = [(100, 100, 80, 80), (106, 100, 80, 80), (104, 104, 80, 80), (250, 200, 40, 60)]
WEIGHTS = [(1, 0, 0), (0.9, 0, 0), (0, 1, 0), (0, 0, 0.6)]
OBJECTNESS = [1.0, 1.0, 1.0, 0.8]
PADDING = 4
NAMES = ['red', 'green', 'blue']


def _means(inputs):
    return [helper.make_node('ReduceMean', [inputs], ['means'], axes=[2, 3], keepdims=0)]


def _save(path, nodes, inputs, output, initializers, names=None, metadata=()):
    graph = helper.make_graph(nodes, 'test', [inputs], [output], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)])
    model.ir_version = 8
    if names is not None:
        metadata = [*metadata, ('names', repr(dict(enumerate(names))))]
    for key, value in metadata:
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


# What Ultralytics' exports write about each layout, as `auto` reads it.
ULTRALYTICS_METADATA = {
    'end2end': [('end2end', 'True'), ('task', 'detect')],
    'rtdetr': [('description', 'Ultralytics rtdetr-l model trained on coco.yaml'),
               ('end2end', 'False'), ('task', 'detect')],
}


def yolo(path, layout='v8', size=320, names=None, dynamic=False, metadata=()):
    """A YOLO-family detector: the BOXES, class c of box i scoring mean(c) * WEIGHTS[i][c]
    (times OBJECTNESS[i] in YOLOv5's layout). Layouts: v5, v8, end2end (each box's best
    class and score, as corners; no suppression), rtdetr (boxes as fractions of the
    input)."""
    n = len(BOXES) + PADDING
    boxes = np.zeros((1, 4, n), np.float32)
    weights = np.zeros((1, 3, n), np.float32)
    objectness = np.zeros((1, 1, n), np.float32)
    for i, (box, weight, obj) in enumerate(zip(BOXES, WEIGHTS, OBJECTNESS)):
        boxes[0, :, i], weights[0, :, i], objectness[0, 0, i] = box, weight, obj
    if layout == 'end2end':
        cx, cy, w, h = boxes[0].copy()
        boxes[0] = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    elif layout == 'rtdetr':
        boxes /= size
    side = 'S' if dynamic else size
    inputs = helper.make_tensor_value_info('images', TensorProto.FLOAT, [1, 3, side, side])
    nodes = _means('images') + [
        helper.make_node('Unsqueeze', ['means', 'axis2'], ['column']),
        helper.make_node('Mul', ['column', 'weights'], ['scores']),
    ]
    initializers = [numpy_helper.from_array(boxes, 'boxes'),
                    numpy_helper.from_array(weights, 'weights'),
                    numpy_helper.from_array(np.array([2], np.int64), 'axis2')]
    columns = {'v5': ['boxes', 'objectness', 'scores'], 'v8': ['boxes', 'scores'],
               'end2end': ['boxes', 'best', 'class'], 'rtdetr': ['boxes', 'scores']}[layout]
    if layout == 'v5':
        initializers.append(numpy_helper.from_array(objectness, 'objectness'))
    if layout == 'end2end':
        nodes += [helper.make_node('ReduceMax', ['scores'], ['best'], axes=[1], keepdims=1),
                  helper.make_node('ArgMax', ['scores'], ['index'], axis=1, keepdims=1),
                  helper.make_node('Cast', ['index'], ['class'], to=TensorProto.FLOAT)]
    width = {'v5': 8, 'v8': 7, 'end2end': 6, 'rtdetr': 7}[layout]
    if layout == 'v8':
        nodes.append(helper.make_node('Concat', columns, ['output0'], axis=1))
        shape = [1, width, n]
    else:
        nodes += [helper.make_node('Concat', columns, ['rows'], axis=1),
                  helper.make_node('Transpose', ['rows'], ['output0'], perm=[0, 2, 1])]
        shape = [1, n, width]
    output = helper.make_tensor_value_info('output0', TensorProto.FLOAT, shape)
    return _save(path, nodes, inputs, output, initializers, names, metadata)


def shrinking(path):
    """The YOLOv8 detector of `yolo`, whose output has all 8 boxes on a blank input (the
    probe an engine gets at load) and only the first 4 on any other: an output that is
    shorter at run time than the shape the model was loaded with."""
    model = onnx.load(str(yolo(path)))
    graph = model.graph
    for node in graph.node:
        node.output[:] = ['full' if name == 'output0' else name for name in node.output]
    constants = {'zero': np.array(0, np.float32), 'short': np.array([4], np.int64),
                 'long': np.array([8], np.int64), 'start': np.array([0], np.int64),
                 'axis': np.array([2], np.int64)}
    graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in constants.items())
    graph.node.extend([
        helper.make_node('ReduceMax', ['images'], ['peak'], keepdims=0),
        helper.make_node('Greater', ['peak', 'zero'], ['lit']),
        helper.make_node('Where', ['lit', 'short', 'long'], ['end']),
        helper.make_node('Slice', ['full', 'start', 'end', 'axis'], ['output0'])])
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info('output0', TensorProto.FLOAT,
                                                      [1, 7, 'boxes']))
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def classifier(path, size=64, names=None):
    """A classifier: logits 10 x the channel means (class = dominant channel)."""
    inputs = helper.make_tensor_value_info('input', TensorProto.FLOAT, [1, 3, size, size])
    nodes = _means('input') + [helper.make_node('Mul', ['means', 'ten'], ['logits'])]
    output = helper.make_tensor_value_info('logits', TensorProto.FLOAT, [1, 3])
    ten = numpy_helper.from_array(np.array([10], np.float32), 'ten')
    return _save(path, nodes, inputs, output, [ten], names)


def wrong_shape(path):
    """A model whose output is no YOLO layout (1 x 3)."""
    return classifier(path)


def expected_detections(width, height, colour, layout='v8', size=320, confidence=0.25):
    """What the node must report for a uniform `colour` image: (class, score, box in
    image pixels, objectness), best first, after per-class NMS at IoU 0.45 for the
    layouts that leave it to the node (v5, v8)."""
    s = min(size / width, size / height)
    nw, nh = round(width * s), round(height * s)
    pad = ((size - nw) // 2, (size - nh) // 2)
    share = nw * nh / size ** 2
    means = [(c / 255) * share + GREY * (1 - share) for c in colour]
    found = []
    for i, ((cx, cy, w, h), weight) in enumerate(zip(BOXES, WEIGHTS)):
        scores = [m * k for m, k in zip(means, weight)]
        cls = int(np.argmax(scores))
        obj = OBJECTNESS[i] if layout == 'v5' else scores[cls]
        score = scores[cls] * (OBJECTNESS[i] if layout == 'v5' else 1)
        if score < confidence:
            continue
        corners = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
        found.append((cls, score, corners, obj))
    found.sort(key=lambda f: -f[1])
    kept = []
    for f in found:
        if layout in ('end2end', 'rtdetr') or all(
                k[0] != f[0] or _iou(k[2], f[2]) <= 0.45 for k in kept):
            kept.append(f)
    out = []
    for cls, score, (x0, y0, x1, y1), obj in kept:
        x0, x1 = [min(max((v - pad[0]) / s, 0), width) for v in (x0, x1)]
        y0, y1 = [min(max((v - pad[1]) / s, 0), height) for v in (y0, y1)]
        out.append((cls, score, (x0, y0, x1 - x0, y1 - y0), obj))
    return out


def _iou(a, b):
    w = max(min(a[2], b[2]) - max(a[0], b[0]), 0)
    h = max(min(a[3], b[3]) - max(a[1], b[1]), 0)
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def softmax(values):
    e = [math.exp(v - max(values)) for v in values]
    return [x / sum(e) for x in e]
