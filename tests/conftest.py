"""Shared pytest fixtures: quiet TensorFlow, the shared UCR folder, seeded RNGs."""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _find_ucr_root():
    """The shared UCR/UEA folder: $DTWRL_UCR_ROOT, else ../shared/data/ucr beside the clone."""
    env = os.environ.get("DTWRL_UCR_ROOT")
    candidates = [Path(env)] if env else []
    candidates.append(REPO_ROOT.parent / "shared" / "data" / "ucr")
    for path in candidates:
        if path.is_dir():
            return path
    return None


@pytest.fixture(scope="session")
def ucr_root():
    """Path to the shared UCR/UEA data (GunPoint, ItalyPowerDemand, BasicMotions)."""
    root = _find_ucr_root()
    if root is None:
        pytest.skip("shared UCR data not found: set DTWRL_UCR_ROOT or place shared/ beside the clone")
    return root


@pytest.fixture
def rng():
    """A fresh, fixed-seed NumPy generator for each test."""
    return np.random.default_rng(20261126)
