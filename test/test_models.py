"""vision_node with real models over DDS: the cascade detector on real photos, ONNX
detectors and classifiers built by the tests, cascade and ONNX second stages, and
models swapped while frames flow."""
import subprocess

import cv2
import numpy as np
import pytest
import skimage.data
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rust_vision.msg import DetectionArray
from sensor_msgs.msg import CompressedImage, Image

import onnx_models
from scenes import iou
from conftest import (get_parameter, image_msg, installed, publish_all, python_node,
                      ros_only_env, set_parameter, spin_until, spin_until_time)

FACES = cv2.data.haarcascades + 'haarcascade_frontalface_default.xml'
EYES = cv2.data.haarcascades + 'haarcascade_eye.xml'
ASTRONAUT_FACE = (177, 66, 95, 95)  # where cv2.CascadeClassifier finds it
BATCH = ('-p', 'qos:=reliable', '-p', 'overflow:=all')


def box(d):
    return (d.x, d.y, d.width, d.height)


def frames(node, images, encoding='rgb8'):
    return [image_msg(rgb, encoding, f'frame{i}', node.get_clock().now().to_msg())
            for i, rgb in enumerate(images)]


def jpeg(rgb, frame_id):
    msg = CompressedImage(format='jpeg')
    msg.data = cv2.imencode('.jpg', cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    msg.header.frame_id = frame_id
    return msg


def run(rclpy_node, collect, namespace, messages, msg_type=None, topic='image'):
    results = collect(DetectionArray, f'/{namespace}/detections')
    warmup = jpeg(np.zeros((8, 8, 3), np.uint8), 'warmup') if msg_type else None
    publish_all(rclpy_node, f'/{namespace}/{topic}', messages, results, msg_type=msg_type,
                warmup=warmup)
    spin_until(rclpy_node, lambda: len(results.messages) >= len(messages), timeout=60)
    spin_until_time(rclpy_node, 0.3)
    assert [m.header.frame_id for m in results.messages] == \
        [m.header.frame_id for m in messages]
    return results.messages


def test_cascade_finds_the_astronauts_face_raw_and_jpeg(vision_node, rclpy_node, collect):
    vision_node('-r', '__ns:=/faces', *BATCH, '-p', 'transport:=both',
                '-p', 'detector:=cascade', '-p', f'cascade.model:={FACES}',
                '-p', 'cascade.min_neighbors:=5', '-p', 'cascade.label:=face')
    astronaut = skimage.data.astronaut()
    [raw] = run(rclpy_node, collect, 'faces', frames(rclpy_node, [astronaut]))
    [compressed] = run(rclpy_node, collect, 'faces', [jpeg(astronaut, 'frame0')],
                       CompressedImage, 'image/compressed')
    for result in (raw, compressed):
        [face] = result.detections
        assert face.label == 'face' and 0.5 < face.score < 1
        assert iou(box(face), ASTRONAUT_FACE) >= 0.9, box(face)


def test_cascade_classifier_finds_eyes_in_the_face(vision_node, rclpy_node, collect):
    vision_node('-r', '__ns:=/eyes', *BATCH, '-p', 'detector:=cascade',
                '-p', f'cascade.model:={FACES}', '-p', 'cascade.min_neighbors:=5',
                '-p', 'classifier:=cascade', '-p', f'classifier_model:={EYES}')
    [result] = run(rclpy_node, collect, 'eyes', frames(rclpy_node, [skimage.data.astronaut()]))
    [face] = result.detections
    assert face.label == 'frontalface_default'
    assert face.classification_label == 'eye' and face.classification_score > 0.5


# Each ONNX test runs on both engines: tract, and ONNX Runtime from the onnxruntime
# package (found by vision_node itself), with `auto` providers falling back to the CPU.
ENGINES = {'tract': ('-p', 'onnx_backend:=tract'),
           'onnxruntime': ('-p', 'onnx_backend:=onnxruntime', '-p', 'onnx_provider:=auto',
                           '-p', 'onnx_threads:=1')}


def engine_used(node, engine):
    """The engine vision_node says runs its ONNX model, checked against `engine`."""
    text = node.output()
    want = 'ONNX on tract' if engine == 'tract' else 'ONNX on ONNX Runtime (CPU'
    assert want in text, text


# Each layout, with the way the node learns it: from the shape (v8), from onnx.layout
# (v5: 8 boxes are not YOLOv5's anchor count, so the shape is ambiguous), from
# Ultralytics' metadata (end2end, rtdetr).
LAYOUTS = [('v8', 'file', ()), ('v5', 'metadata', ('-p', 'onnx.layout:=yolov5')),
           ('end2end', 'metadata', ()), ('rtdetr', 'file', ())]


@pytest.mark.parametrize('engine', ENGINES)
@pytest.mark.parametrize('layout,labels,how', LAYOUTS)
def test_onnx_detector_end_to_end(vision_node, rclpy_node, collect, tmp_path, layout, labels,
                                  how, engine):
    names = onnx_models.NAMES
    model = onnx_models.yolo(tmp_path / f'yolo_{layout}.onnx', layout,
                             names=names if labels == 'metadata' else None,
                             metadata=onnx_models.ULTRALYTICS_METADATA.get(layout, ()))
    args = ['-p', f'onnx.model:={model}', *how]
    if labels == 'file':
        (tmp_path / 'labels.txt').write_text('\n'.join(names) + '\n')
        args += ['-p', f'onnx.labels:={tmp_path / "labels.txt"}']
    ns = f'yolo_{layout}_{engine}'
    node = vision_node('-r', f'__ns:=/{ns}', *BATCH, '-p', 'detector:=onnx', *args,
                       *ENGINES[engine])
    colour = (230, 200, 200)
    image = np.full((480, 640, 3), colour, np.uint8)
    [result] = run(rclpy_node, collect, ns, frames(rclpy_node, [image]))
    want = onnx_models.expected_detections(640, 480, colour, layout)
    # v5, v8: box 1 suppressed by box 0, box 2 of another class kept; the others come
    # suppressed by the model, which this one does not do, so all four are reported.
    assert len(want) == (3 if layout in ('v5', 'v8') else 4)
    got = result.detections
    assert [(d.class_id, d.label) for d in got] == [(c, names[c]) for c, *_ in want]
    for d, (_, score, truth, objectness) in zip(got, want):
        assert d.score == pytest.approx(score, abs=2e-3)
        assert d.objectness == pytest.approx(objectness, abs=2e-3)
        assert np.allclose(box(d), truth, atol=0.05), (box(d), truth)

    # A knob changes at runtime without reloading: a higher confidence drops box 3.
    set_parameter(rclpy_node, f'/{ns}/vision_node', 'onnx.confidence', 0.5)
    [result] = run(rclpy_node, collect, ns, frames(rclpy_node, [image]))
    assert len(result.detections) == len(onnx_models.expected_detections(
        640, 480, colour, layout, confidence=0.5)) == len(want) - 1
    engine_used(node, engine)


@pytest.mark.parametrize('engine', ENGINES)
def test_onnx_classifier_names_the_dominant_channel(
        vision_node, rclpy_node, collect, tmp_path, engine):
    model = onnx_models.classifier(tmp_path / 'classes.onnx', names=onnx_models.NAMES)
    node = vision_node('-r', f'__ns:=/cls_{engine}', *BATCH, '-p', 'classifier:=onnx',
                       '-p', f'classifier_model:={model}', *ENGINES[engine])
    image = np.zeros((240, 320, 3), np.uint8)
    image[20:100, 20:120] = (220, 30, 30)
    image[130:220, 180:300] = (20, 40, 210)
    [result] = run(rclpy_node, collect, f'cls_{engine}', frames(rclpy_node, [image]))
    got = sorted((d.x, d.classification_label, d.classification_score)
                 for d in result.detections)
    assert [g[1] for g in got] == ['red', 'blue']
    red = onnx_models.softmax([10 * c / 255 for c in (220, 30, 30)])[0]
    assert got[0][2] == pytest.approx(red, abs=1e-3)
    engine_used(node, engine)


def test_an_onnx_output_shorter_at_run_time_fails_those_frames_only(
        vision_node, rclpy_node, collect, tmp_path):
    """A model whose output has fewer boxes at run time than on the blank input it was
    probed with at load (ONNX Runtime runs it; tract refuses an output without a fixed
    shape at start-up): each such frame fails with cause `internal`, logged once, and the
    other frames, the accounting and shutdown go on."""
    model = onnx_models.shrinking(tmp_path / 'shrinking.onnx')
    node = vision_node('-r', '__ns:=/shrinking', *BATCH, '-p', 'detector:=onnx',
                       '-p', f'onnx.model:={model}', *ENGINES['onnxruntime'])
    # A 320 x 320 frame fills the model's input: black is its blank input, as at load.
    black, lit = np.zeros((320, 320, 3), np.uint8), np.full((320, 320, 3), 200, np.uint8)
    results = collect(DetectionArray, '/shrinking/detections')
    publish_all(rclpy_node, '/shrinking/image', frames(rclpy_node, [black, lit] * 3),
                results, warmup=frames(rclpy_node, [black])[0])
    spin_until(rclpy_node, lambda: len(results.messages) >= 3, timeout=60)
    # Sequence numbers count every frame vision_node received, warm-ups included.
    first = results.messages[0].sequence
    assert [(m.header.frame_id, m.sequence - first) for m in results.messages] == \
        [('frame0', 0), ('frame2', 2), ('frame4', 4)]
    assert node.stop() == 0
    output = node.output()
    reason = "the model's output has 28 values where the shape it was loaded with has 56"
    assert output.count(reason) == 1 and ', internal: internal error: ' in output, output
    assert (f'frames received {first + 6}, results published {first + 3}, '
            'failed 3 (internal: 3), dropped 0') in output, output
    assert 'panicked' not in output and 'ERROR' not in output, output


@pytest.mark.parametrize('args,reason', [
    (('-p', 'detector:=onnx', '-p', 'onnx.model:=/nonexistent/yolo.onnx'), 'no such file'),
    (('-p', 'detector:=onnx', '-p', 'onnx.model:={wrong}'), 'is not 1 x rows x columns'),
    (('-p', 'detector:=onnx', '-p', 'onnx.model:={end2end}'),
     'output shape [1, 8, 6] is ambiguous: it may be the end-to-end 1 x boxes x 6'),
    (('-p', 'detector:=onnx', '-p', 'onnx.model:={wrong_yolo}', '-p', 'onnx.layout:=end2end'),
     'output shape [1, 7, 8] is not the end-to-end 1 x boxes x 6'),
    (('-p', 'onnx.layout:=yolov9',), 'is not one of auto, yolov5, yolov8, end2end, rtdetr'),
    (('-p', 'detector:=onnx', '-p', 'onnx.model:={garbage}'), 'not an ONNX model'),
    (('-p', 'detector:=onnx', '-p', 'onnx.model:={huge}'),
     "the model's input height is 100000, over the largest input size, 4096"),
    (('-p', 'detector:=cascade', '-p', 'cascade.model:={garbage}'), 'not XML'),
    (('-p', 'detector:=cascade'), 'needs cascade.model'),
    (('-p', 'detector:=onnx', '-p', 'onnx.model:={yolo}', '-p', 'onnx_backend:=onnxruntime',
      '-p', 'onnx_library:=/nonexistent/libonnxruntime.so'),
     'onnx_library /nonexistent/libonnxruntime.so: no such file'),
    (('-p', 'detector:=onnx', '-p', 'onnx.model:={yolo}', '-p', 'onnx_provider:=cuda'),
     'onnx_provider cuda: no CUDA execution provider in this library'),
    (('-p', 'detector:=onnx', '-p', 'onnx.model:={yolo}', '-p', 'onnx_provider:=tensorrt'),
     'onnx_provider tensorrt: no TensorRT execution provider in this library'),
    (('-p', 'onnx_provider:=gpu',), 'is not one of cpu, cuda, tensorrt, auto'),
    (('-p', 'classifier:=onnx', '-p', 'classifier_model:={wrong_yolo}'),
     'is not 1 x classes'),
])
def test_bad_models_stop_the_node_at_start_up(tmp_path, args, reason):
    files = {'wrong': onnx_models.wrong_shape(tmp_path / 'wrong.onnx'),
             'wrong_yolo': onnx_models.yolo(tmp_path / 'yolo.onnx'),
             'end2end': onnx_models.yolo(tmp_path / 'end2end.onnx', 'end2end'),
             'yolo': tmp_path / 'yolo.onnx',
             'huge': onnx_models.yolo(tmp_path / 'huge.onnx', size=100000),
             'garbage': tmp_path / 'garbage.bin'}
    files['garbage'].write_bytes(b'\x00\x01 not a model')
    args = [a.format(**files) for a in args]
    done = subprocess.run([str(installed('vision_node')), '--ros-args', *args],
                          env=ros_only_env(), capture_output=True, text=True, timeout=60)
    printed = done.stdout + done.stderr
    assert done.returncode == 2, printed
    assert reason in printed and 'panicked' not in printed, printed


def test_onnxruntime_without_a_library_is_a_start_up_error(tmp_path):
    """Where no python3 on PATH has the onnxruntime package and nothing names a library,
    asking for ONNX Runtime stops the node with what to do."""
    model = onnx_models.yolo(tmp_path / 'yolo.onnx')
    env = {**ros_only_env(), 'PATH': str(tmp_path)}  # no python3 at all
    done = subprocess.run([str(installed('vision_node')), '--ros-args', '-p', 'detector:=onnx',
                           '-p', f'onnx.model:={model}', '-p', 'onnx_backend:=onnxruntime'],
                          env=env, capture_output=True, text=True, timeout=60)
    printed = done.stdout + done.stderr
    assert done.returncode == 2, printed
    assert 'none was found' in printed and 'pip install onnxruntime' in printed, printed


def test_models_swap_at_runtime_while_frames_flow(vision_node, rclpy_node, collect,
                                                  tmp_path):
    """The new model loads in the background: no frame waits for it, none is lost, the
    results switch to it once loaded, and a model that fails to load leaves the running
    one in place, with the reason logged and in the diagnostics."""
    from diagnostic_msgs.msg import DiagnosticArray
    from rcl_interfaces.msg import Log
    node = vision_node('-r', '__ns:=/swap', *BATCH)
    results = collect(DetectionArray, '/swap/detections')
    diagnostics = collect(DiagnosticArray, '/diagnostics')
    logs = collect(Log, '/rosout', QoSProfile(depth=1000,
                                              reliability=ReliabilityPolicy.RELIABLE))
    astronaut = skimage.data.astronaut()
    publisher = rclpy_node.create_publisher(
        Image, '/swap/image', QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))
    sent = []

    def stream(seconds):
        end = len(sent) + int(seconds * 10)
        while len(sent) < end:
            msg = image_msg(astronaut, 'rgb8', f'f{len(sent)}',
                            rclpy_node.get_clock().now().to_msg())
            publisher.publish(msg)
            sent.append(msg.header.frame_id)
            spin_until_time(rclpy_node, 0.1)

    spin_until(rclpy_node, lambda: publisher.get_subscription_count() > 0)
    stream(1.0)
    spin_until(rclpy_node, lambda: len(results.messages) == len(sent))  # blobs ran
    set_parameter(rclpy_node, '/swap/vision_node', 'cascade.model', FACES)
    set_parameter(rclpy_node, '/swap/vision_node', 'detector', 'cascade')
    stream(3.0)
    spin_until(rclpy_node, lambda: any(
        d.label == 'frontalface_default' for m in results.messages for d in m.detections))
    # A broken model: accepted as a path, refused when loaded; the faces keep coming.
    broken = tmp_path / 'broken.xml'
    broken.write_text('<opencv_storage><cascade/></opencv_storage>')
    set_parameter(rclpy_node, '/swap/vision_node', 'cascade.model', str(broken))
    stream(2.0)
    publisher.wait_for_all_acked()
    spin_until(rclpy_node, lambda: len(results.messages) >= len(sent), timeout=60)
    assert [m.header.frame_id for m in results.messages] == sent
    labels = [{d.label for d in m.detections} for m in results.messages]
    first_face = next(i for i, s in enumerate(labels) if 'frontalface_default' in s)
    assert 'blob' in set().union(*labels[:first_face]), 'blobs ran before the swap'
    assert all('frontalface_default' in s for s in labels[first_face:]), labels
    spin_until(rclpy_node, lambda: any(
        kv.key == 'model error' for m in diagnostics.messages for s in m.status
        for kv in s.values))
    text = ' '.join(m.msg for m in logs.messages)
    assert 'cascade.model not applied' in text and 'broken.xml' in text, text
    assert f'setting cascade.model to "{FACES}" back' in text, text
    # The parameter says what runs, so the failed model poisons no later change.
    assert get_parameter(rclpy_node, '/swap/vision_node', 'cascade.model') == FACES
    missing = set_parameter(rclpy_node, '/swap/vision_node', 'cascade.model', '/missing.xml')
    assert not missing.successful and '/missing.xml: no such file' in missing.reason
    assert set_parameter(rclpy_node, '/swap/vision_node', 'cascade.min_neighbors',
                         1000).successful
    before = len(sent)
    stream(1.0)
    publisher.wait_for_all_acked()
    spin_until(rclpy_node, lambda: len(results.messages) >= len(sent), timeout=60)
    assert not any(m.detections for m in results.messages[before:]), 'min_neighbors applied'
    assert 'cascade.min_neighbors not applied' not in ' '.join(m.msg for m in logs.messages)
    assert node.proc.poll() is None


def test_a_change_refused_by_the_running_model_is_set_back(
        vision_node, rclpy_node, tmp_path):
    """A layout the running model does not have fails as the pipeline is built, before
    the change returns: the parameter is set back by then, and the node goes on
    answering and taking changes."""
    model = onnx_models.yolo(tmp_path / 'yolo.onnx')
    node = vision_node('-r', '__ns:=/refused', *BATCH, '-p', 'detector:=onnx',
                       '-p', f'onnx.model:={model}')
    target = '/refused/vision_node'
    assert set_parameter(rclpy_node, target, 'onnx.layout', 'end2end').successful
    assert get_parameter(rclpy_node, target, 'onnx.layout') == 'auto'
    assert set_parameter(rclpy_node, target, 'onnx.confidence', 0.5).successful
    assert get_parameter(rclpy_node, target, 'onnx.confidence') == 0.5
    assert node.stop() == 0
    output = node.output()
    assert 'onnx.layout not applied' in output and 'is not the end-to-end' in output, output
    assert 'setting onnx.layout to "auto" back' in output, output


def test_image_publisher_folder_of_photos_through_the_face_cascade(
        vision_node, rclpy_node, collect, tmp_path):
    """The real image_publisher with a folder source (natural sort order, JPEG) feeding
    the cascade: one result per file, in file order, the face in the astronaut only."""
    folder = tmp_path / 'photos'
    folder.mkdir()
    for name, photo in [('10', 'astronaut'), ('2', 'chelsea'), ('1', 'coffee')]:
        cv2.imwrite(str(folder / f'{name}.png'),
                    cv2.cvtColor(getattr(skimage.data, photo)(), cv2.COLOR_RGB2BGR))
    vision_node('-r', '__ns:=/folder', *BATCH, '-p', 'transport:=compressed',
                '-p', 'detector:=cascade', '-p', f'cascade.model:={FACES}',
                '-p', 'cascade.min_neighbors:=5')
    results = collect(DetectionArray, '/folder/detections')
    results.wait_matched(rclpy_node)
    publisher = subprocess.run(
        python_node('image_publisher', '--source', str(folder), '--compress', 'jpeg',
                    '--quality', '95', '--rate', '0', ns='/folder'),
        capture_output=True, text=True, timeout=60)
    assert publisher.returncode == 0, publisher.stderr
    assert '3 frames' in publisher.stdout
    # The progress bar is for terminals: in a pipe (a launch log) it would be one long line.
    assert '3/3' not in publisher.stderr and '\r' not in publisher.stderr
    spin_until(rclpy_node, lambda: len(results.messages) >= 3)
    sizes = [(m.image_width, m.image_height) for m in results.messages]
    assert sizes == [(600, 400), (451, 300), (512, 512)]  # 1.png, 2.png, 10.png
    assert [len(m.detections) for m in results.messages] == [0, 0, 1]
    assert iou(box(results.messages[2].detections[0]), ASTRONAUT_FACE) >= 0.9
