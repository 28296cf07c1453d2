"""A quiet start for the command-line scripts.

Before TensorFlow is first imported, TensorFlow's C++ log threshold is raised
(``TF_CPP_MIN_LOG_LEVEL=3``, unless the user already set it), which hides the
"Unable to register cuDNN/cuFFT/cuBLAS factory" lines a CPU build prints at
import. tf-agents 0.19 imports the unmaintained ``gym`` package, which prints a
banner from ``gym_notices``; an empty notice table is installed in its place.
Python-level warnings and errors are untouched.

>>> import os
>>> quiet_start()
>>> "TF_CPP_MIN_LOG_LEVEL" in os.environ
True
"""

import os
import sys
import types


def quiet_start() -> None:
    """Silence import-time noise from TensorFlow's C++ runtime and gym (idempotent)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "gym" not in sys.modules and "gym_notices.notices" not in sys.modules:
        silent = types.ModuleType("gym_notices.notices")
        silent.notices = {}
        sys.modules["gym_notices.notices"] = silent
