"""SIGTERM and Ctrl-C as a flag that a role's loop polls, so it can stop between steps and leave clean state."""

import signal
import threading

EXIT_SERVER_LOST = 3  # a role lost the Reverb server (the learner checkpointed; rerun to resume)
EXIT_STOPPED = 130  # stopped by SIGTERM/Ctrl-C (the learner checkpointed)


class StopFlag:
    """Set by SIGTERM or SIGINT (once installed); a second signal raises ``KeyboardInterrupt``.

    >>> flag = StopFlag()
    >>> flag.is_set()
    False
    >>> flag.set("test"); flag.reason
    'test'
    """

    def __init__(self):
        self._event = threading.Event()
        self.reason = None

    def set(self, reason):
        self.reason = reason
        self._event.set()

    def is_set(self):
        return self._event.is_set()

    def wait(self, timeout):
        """Sleep up to ``timeout`` seconds; True when stopped."""
        return self._event.wait(timeout)

    def install(self):
        """Handle SIGTERM and SIGINT in the main thread; returns self."""

        def handle(signum, frame):
            if self.is_set():
                raise KeyboardInterrupt(signal.Signals(signum).name)
            self.set(signal.Signals(signum).name)

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)
        return self
