"""Ctrl-C and SIGTERM for the Python nodes: a request to stop, not an exception.

rclpy's own handler shuts the context down at the first SIGINT, so a node can no longer
publish its end of stream, and Python's KeyboardInterrupt then lands wherever the node
happens to be (in destroy_node, in tqdm's exit handler) as a traceback. `ros2 launch`
sends SIGINT to every process at Ctrl-C, after the terminal already has, and SIGTERM
later: each node must end cleanly, once, with exit status 0, whichever comes first.
"""

import signal


class StopRequest:
    """Set by SIGINT or SIGTERM; the node's loop checks it between steps.

    Use with `rclpy.init(signal_handler_options=SignalHandlerOptions.NO)`, so that the
    context stays valid until the node has said goodbye.
    """

    def __init__(self):
        self.signal = None
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._request)

    def _request(self, signum, _frame):
        if self.signal is None:
            self.signal = signal.Signals(signum).name

    def __bool__(self):
        return self.signal is not None

    @staticmethod
    def exiting():
        """From here on the process only exits: ignore both signals. Python's own
        finalisation puts a handler written in Python back to the default, under which
        launch's SIGINT (it follows the terminal's) would kill the process (-2)."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
