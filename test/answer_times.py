"""Times a node's answers from a process of its own, as `ros2 param get` would see them:
usage `answer_times.py <node>`. It loads whatever Fast DDS profile its environment names
(every process of a pipeline should load the same one). It prints `ready` once both
services have answered, then calls `<node>/get_parameters` and `<node>/enable`, one after
the other, until its stdin closes, and prints the seconds each took as a JSON list
(null: no answer within 10 s)."""

import json
import sys
import threading
import time

import rclpy
from rcl_interfaces.srv import GetParameters
from std_srvs.srv import SetBool


def answer_time(node, client, request, timeout):
    start = time.monotonic()
    future = client.call_async(request)
    rclpy.spin_until_future_complete(node, future, timeout_sec=timeout)
    if future.done():
        return time.monotonic() - start
    client.remove_pending_request(future)
    return None


def main():
    target = sys.argv[1]
    rclpy.init()
    node = rclpy.create_node('answer_times')
    calls = [(node.create_client(GetParameters, f'{target}/get_parameters'),
              GetParameters.Request(names=['overflow'])),
             (node.create_client(SetBool, f'{target}/enable'), SetBool.Request(data=True))]
    deadline = time.monotonic() + 20
    # Until each answered once: a request sent before the server's response writer
    # matched us may go unanswered.
    for client, request in calls:
        while answer_time(node, client, request, 1.0) is None:
            if time.monotonic() > deadline:
                sys.exit(f'answer_times: {target} does not answer')
    print('ready', flush=True)
    closed = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), closed.set()), daemon=True).start()
    times = []
    while not closed.is_set():
        times += [answer_time(node, client, request, 10.0) for client, request in calls]
        time.sleep(0.05)
    print(json.dumps(times), flush=True)
    node.destroy_node()
    rclpy.shutdown()


if __name__ == '__main__':
    main()
