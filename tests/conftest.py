"""Shared pytest fixtures: quiet TensorFlow, the shared and the vendored UCR folders, seeded RNGs.

Tests that need the full shared files take ``ucr_root`` and get the ``shared_data`` marker here;
tests/test_bare_clone.py runs them in a copy of the repository without ``../shared`` and checks
that each passes or skips with the reason below. Other tests read only vendored files:
dtwrl/datasets/data (GunPoint) and the trimmed copies in tests/data (``small_ucr_root``).
"""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SMALL_UCR_ROOT = REPO_ROOT / "tests" / "data" / "ucr"
NO_SHARED_DATA = "shared UCR data not found: set DTWRL_UCR_ROOT or place shared/ beside the clone"


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
        pytest.skip(NO_SHARED_DATA)
    return root


@pytest.fixture(scope="session")
def small_ucr_root():
    """Trimmed copies of UCR files vendored in tests/data/ucr (ItalyPowerDemand; see its README)."""
    return SMALL_UCR_ROOT


def pytest_collection_modifyitems(items):
    """Mark every test that takes ``ucr_root`` with ``shared_data``."""
    for item in items:
        if "ucr_root" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.shared_data)


@pytest.fixture
def rng():
    """A fresh, fixed-seed NumPy generator for each test."""
    return np.random.default_rng(20261126)
