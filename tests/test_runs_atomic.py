"""dtwrl.runs writes atomically: a SIGKILL in the middle of a write leaves the old file or the new one.

A child process rewrites one large file in a loop, alternating two contents
(every byte "a", then every byte "b"), and is killed with SIGKILL at random
moments. After each kill the file must hold exactly one of the two complete
contents. The same harness with a plain ``open(..., "w")`` writer tears the
file (it is truncated before it is refilled), which shows the test can fail.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dtwrl import runs

SIZE = 4 * 1024 * 1024  # large enough that one write takes a few milliseconds

CHILD = r"""
import sys
from pathlib import Path
path, size, mode = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
contents = ["a" * size, "b" * size]
if mode == "atomic":
    from dtwrl.runs import atomic_write_text as write
else:
    def write(target, text):
        with open(target, "w") as handle:
            handle.write(text)
write(path, contents[0])
print("ready", flush=True)
k = 1
while True:
    write(path, contents[k % 2])
    k += 1
"""


def _kill_mid_write(path, mode, rng):
    """Start a writer child, let it write for a random moment, SIGKILL it; return the file's bytes."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(SIZE), mode],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    try:
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(float(rng.uniform(0.0, 0.15)))
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    return path.read_bytes()


def _whole(data):
    return len(data) == SIZE and data in (b"a" * SIZE, b"b" * SIZE)


def test_sigkill_mid_write_leaves_a_whole_old_or_new_file(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "metrics.json"
    for attempt in range(6):
        data = _kill_mid_write(path, "atomic", rng)
        assert _whole(data), f"attempt {attempt}: torn file of {len(data)} bytes"


def test_the_harness_catches_a_torn_plain_write(tmp_path):
    """Control: a non-atomic writer killed the same way is caught torn within a few attempts."""
    rng = np.random.default_rng(1)
    path = tmp_path / "metrics.json"
    for _ in range(20):
        if not _whole(_kill_mid_write(path, "plain", rng)):
            return
    pytest.fail("20 kills never caught a plain write mid-way: the harness cannot tell atomic from torn")


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = runs.write_json(tmp_path / "metrics.json", {"ratio": 1.0})
    with pytest.raises(ValueError, match="metrics.json"):
        runs.write_json(path, {"ratio": float("nan")})
    assert runs.read_json(path) == {"ratio": 1.0}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]
