"""Run folders of the experiment scripts: ``results/<experiment>/<run-name>/``, their config, seeds and TensorBoard.

The run name is ``{env}__{exp}__{seed}__{time}`` (:func:`run_name`). Every file
is written through :mod:`dtwrl.runs`, atomically.
"""

import os
import random
import sys
from pathlib import Path

import numpy as np

from agents.training.config import run_name  # noqa: F401 (the one run-name scheme)
from dtwrl import runs
from dtwrl.runs import write_json
from experiments.cli import fail

__all__ = ["checked_run_dir", "run_name", "seed_everything", "tensorboard_command", "write_config"]


def checked_run_dir(experiment, name, root="results", flag="--out-dir"):
    """Create and return ``<root>/<experiment>/<name>/`` (with ``figures/``), blaming ``flag`` for a bad root.

    The last step of validation: call it only once every other flag and input
    has been checked, so that a refused run leaves no folder behind. A root
    that exists but is not a folder, or cannot be written to, is a
    :class:`CLIError` for ``flag``, raised before anything is created.

    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> checked_run_dir("demo", "run1", root).relative_to(root).as_posix()
    'demo/run1'
    """
    root_path = Path(root)
    existing = next((p for p in [root_path, *root_path.parents] if p.exists()), None)
    if root_path.exists() and not root_path.is_dir():
        fail(flag, f"{str(root)!r} exists and is not a folder")
    if existing is not None and not existing.is_dir():
        fail(flag, f"{str(existing)!r} is a file, so {str(root)!r} cannot be a folder")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        fail(flag, f"{str(existing)!r} is not writable")
    try:
        return runs.make_run_dir(root, experiment, name)
    except OSError as error:
        fail(flag, f"cannot create the run folder under {str(root)!r} ({error.strerror or error})")


def write_config(run_dir, config):
    """Write a dataclass or dict to ``<run_dir>/config.json`` (atomically)."""
    return write_json(Path(run_dir) / "config.json", config)


def seed_everything(seed):
    """Seed Python's ``random``, NumPy's global generator and TensorFlow (if imported); return a Generator.

    >>> int(seed_everything(0).integers(10)) == int(np.random.default_rng(0).integers(10))
    True
    """
    random.seed(seed)
    np.random.seed(seed)
    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(seed)
    return np.random.default_rng(seed)


def tensorboard_command(logdir):
    """The shell line that watches ``logdir`` in TensorBoard."""
    return f"tensorboard --logdir {logdir}"
