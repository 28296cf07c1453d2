"""A quiet start for the command-line scripts: they print their own output only.

- Before TensorFlow is first imported, TensorFlow's C++ log threshold is raised
  (``TF_CPP_MIN_LOG_LEVEL=3``, unless the user already set it), which hides the
  "Unable to register cuDNN/cuFFT/cuBLAS factory" lines a CPU build prints at
  import.
- XLA's ``Compiled cluster using XLA!`` line, with absl's ``WARNING: All log
  messages before absl::InitializeLog() is called are written to STDERR`` before
  it, ignores that threshold: TensorFlow 2.15 logs it through its own copy of
  absl's C++ logging, whose settings are not exported to Python. Both lines are
  printed at most once per process, so right after ``import tensorflow`` one tiny
  XLA cluster is compiled with the process's stderr (fd 2) sent to
  ``/dev/null`` (:func:`consume_xla_notices`; skipped when the user asks for
  INFO logs with ``TF_CPP_MIN_LOG_LEVEL=0``).
- AutoGraph recompiles TF-Agents functions such as ``policy_state is ()``; the
  ``SyntaxWarning: "is" with a literal`` that Python raises while compiling
  that generated code (files ``__autograph_generated_file*``) is ignored.
- tf-agents 0.19 imports the unmaintained ``gym`` package, which prints a
  banner from ``gym_notices``; an empty notice table is installed in its place.

Other Python warnings and errors are untouched.

>>> import os
>>> quiet_start()
>>> "TF_CPP_MIN_LOG_LEVEL" in os.environ
True
"""

import importlib.abc
import importlib.util
import os
import sys
import types
import warnings

AUTOGRAPH_FILES = r".*__autograph_generated_file"


def quiet_start() -> None:
    """Silence the start-up and one-time noise of TensorFlow's C++ runtime, AutoGraph and gym (idempotent)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", category=SyntaxWarning, module=AUTOGRAPH_FILES)
    if "gym" not in sys.modules and "gym_notices.notices" not in sys.modules:
        silent = types.ModuleType("gym_notices.notices")
        silent.notices = {}
        sys.modules["gym_notices.notices"] = silent
    if "tensorflow" in sys.modules:
        consume_xla_notices()
    elif not any(isinstance(finder, _AfterTensorFlow) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterTensorFlow())


def consume_xla_notices() -> None:
    """Compile one tiny XLA cluster with fd 2 sent to /dev/null, so XLA's once-per-process lines go there.

    Does nothing when ``TF_CPP_MIN_LOG_LEVEL`` is 0 (the user wants INFO logs) or after its first call.
    """
    if getattr(consume_xla_notices, "done", False) or os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") in ("", "0"):
        return
    consume_xla_notices.done = True
    import tensorflow as tf

    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            tf.function(lambda x: x + 1.0, jit_compile=True)(tf.constant(0.0))
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _AfterTensorFlow(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` by the usual finders, then runs :func:`consume_xla_notices` once it is imported."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenConsume(spec.loader)
        return spec


class _ThenConsume(importlib.abc.Loader):
    """A loader that runs the wrapped loader, then :func:`consume_xla_notices`; everything else is delegated."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        module.__loader__ = module.__spec__.loader = self.loader  # leave no trace on the module
        consume_xla_notices()

    def __getattr__(self, name):
        return getattr(self.loader, name)
