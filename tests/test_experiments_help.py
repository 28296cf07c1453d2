"""Every experiment script answers --help with its usage and exits 0; a script starts without TF or gym noise."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(
    p.stem
    for p in (ROOT / "experiments").glob("*.py")
    if p.name not in {"__init__.py", "common.py", "quiet.py", "reporting.py"}
)


@pytest.mark.parametrize("script", SCRIPTS)
def test_help(script, capsys):
    module = importlib.import_module(f"experiments.{script}")
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("usage:")


def test_a_script_starts_quietly():
    """A script that loads TensorFlow and tf-agents prints its help with no C++ registration lines or gym banner."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(ROOT)
    code = "import experiments, tf_agents, tensorflow; print('ready')"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and result.stdout.strip() == "ready", result.stderr[-2000:]
    assert "Unable to register" not in result.stderr and "Gym has been unmaintained" not in result.stderr, result.stderr
