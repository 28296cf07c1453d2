"""Every experiment script answers --help with its usage and exits 0; a script starts without TF or gym noise."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# a script runs as __main__; the helper modules beside them (common, quiet, reporting, ...) do not
SCRIPTS = sorted(p.stem for p in (ROOT / "experiments").glob("*.py") if 'if __name__ == "__main__"' in p.read_text())


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_and_an_unknown_flag(script, capsys):
    """--help prints the usage and exits 0; a bad flag is ONE stderr line naming it, with no usage block and
    status 2 (experiments/cli.py)."""
    module = importlib.import_module(f"experiments.{script}")
    for argv, code in ((["--help"], 0), (["--no-such-flag"], 2)):
        with pytest.raises(SystemExit) as exit_info:
            module.main(argv)
        assert exit_info.value.code == code
    out, err = capsys.readouterr()
    assert out.startswith("usage:")
    assert err.startswith("error: --no-such-flag: ") and err.count("\n") == 1, err


def test_a_script_prints_only_its_own_output():
    """After ``import experiments``: no C++ registration lines, gym banner, XLA notice or AutoGraph SyntaxWarning.

    It loads TensorFlow and tf-agents, has AutoGraph convert a TF-Agents function that compares with
    ``is not ()`` (``SyntaxWarning: "is not" with a literal``) and compiles an XLA cluster (``Compiled
    cluster using XLA!`` after absl's ``All log messages before absl::InitializeLog()``): stderr stays empty.
    """
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(ROOT)
    code = (
        "import experiments, tensorflow as tf; from tf_agents.utils import common; "
        "assert tf.function(common.safe_has_state)(tf.constant(1.0)); "
        "print(tf.function(lambda x: 2.0 * x, jit_compile=True)(tf.constant(1.0)).numpy(), tf.__loader__.__module__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and result.stdout.split() == ["2.0", "_frozen_importlib_external"], result.stderr
    assert result.stderr == ""


def test_the_user_can_still_ask_for_tensorflow_info_logs():
    """``TF_CPP_MIN_LOG_LEVEL=0`` is the user's choice: the XLA notice is not consumed then."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "0"}
    code = "import experiments, tensorflow as tf; tf.function(lambda x: 2.0 * x, jit_compile=True)(tf.constant(1.0))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and "Compiled cluster using XLA!" in result.stderr, result.stderr[-2000:]
