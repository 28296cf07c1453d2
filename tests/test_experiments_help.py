"""Every experiment script answers --help with its usage and exits 0, with no traceback and no start-up noise."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(
    p.name
    for p in (ROOT / "experiments").glob("*.py")
    if p.name not in {"__init__.py", "common.py", "quiet.py", "reporting.py"}
)


@pytest.mark.parametrize("script", SCRIPTS)
def test_help(script):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / script), "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("usage:"), result.stdout[:200]
    assert "Traceback" not in result.stderr and "Unable to register" not in result.stderr, result.stderr[-2000:]
