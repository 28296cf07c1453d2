"""The SIMD lane kernel (dtwrl/tf/_lanes.cpp through dtwrl.tf._lanes) on its own: every output against the numba
kernel and brute force, lane groups of mixed lengths, float32 against float64, and its build and fallback."""

import shutil

import numpy as np
import pytest

from dtwrl.bands import min_band
from dtwrl.tf import _kernel as kn
from dtwrl.tf import _lanes
from tests import reference as ref

# without a compiler dtwrl runs the numba kernel; with one, a failed build is a failure, not a skip
pytestmark = pytest.mark.skipif(shutil.which(_lanes._compiler()) is None, reason="no C++ compiler on PATH")


def _numba(x, y, D, xl, yl, band, metric, gamma, regularizer, want):
    dtype = (D if metric == kn.PRECOMPUTED else x).dtype
    dummy = np.zeros((1, 1, 1), dtype)
    if metric == kn.PRECOMPUTED:
        x = y = dummy
    else:
        D = dummy
    return kn.batch(x, y, D, xl, yl, band, np.zeros((len(xl), 0, 2), np.int64), metric, gamma, regularizer, want, 10**9)


def _geometry(rng, B, n, m, band):
    """Random lengths per pair, kept where the band admits a path."""
    xl, yl = rng.integers(1, n + 1, B), rng.integers(1, m + 1, B)
    if band >= 0:
        ok = np.array([band >= min_band(a, b) for a, b in zip(xl, yl)])
        xl, yl = np.where(ok, xl, n), np.where(ok, yl, m)
    return xl.astype(np.int64), yl.astype(np.int64)


@pytest.mark.parametrize("metric", [kn.SQEUCLIDEAN, kn.EUCLIDEAN, kn.ABS, kn.PRECOMPUTED])
@pytest.mark.parametrize("regularizer", [kn.ENTROPY, kn.L2])
@pytest.mark.parametrize("band", [-1, 2])
def test_every_output_equals_the_numba_kernel_in_float64(rng, metric, regularizer, band):
    # 21 pairs: a full group of 8 float64 lanes, another, and a padded one; lengths differ inside each group
    B, n, m = 21, 9, 7
    x, y = rng.normal(size=(B, n, 2)), rng.normal(size=(B, m, 2))
    D = np.abs(rng.normal(size=(B, n, m)))
    xl, yl = _geometry(rng, B, n, m, band)
    wants = (kn.VALUE, kn.ALIGNMENT) if metric == kn.PRECOMPUTED else (kn.VALUE, kn.GRADIENT, kn.ALIGNMENT)
    series = (None, None, D) if metric == kn.PRECOMPUTED else (x, y, None)
    for want in wants:
        expected = _numba(x, y, D, xl, yl, band, metric, 0.7, regularizer, want)
        got = _lanes.batch(*series, xl, yl, band, metric, 0.7, regularizer, want, map)
        for g, e in zip(got, expected):
            assert g.shape == e.shape and g.dtype == np.float64
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("block", [1, 2, 3, 8])
def test_the_memory_light_mode_equals_storing_every_row(rng, block):
    """Blocks of rows recomputed from checkpoints: the same numbers, for every block size, band and length mix."""
    B, n, m = 11, 9, 12
    x, y = rng.normal(size=(B, n, 2)), rng.normal(size=(B, m, 2))
    for band in (-1, 3):
        xl, yl = _geometry(rng, B, n, m, band)
        for want in (kn.GRADIENT, kn.ALIGNMENT):
            full = _lanes.batch(x, y, None, xl, yl, band, kn.SQEUCLIDEAN, 0.5, kn.ENTROPY, want, map)
            light = _lanes.batch(x, y, None, xl, yl, band, kn.SQEUCLIDEAN, 0.5, kn.ENTROPY, want, map, block=block)
            for got, expected in zip(light, full):
                np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-14)


def test_values_equal_brute_force_on_tiny_grids(rng):
    sizes = [(n, m) for n in range(1, 5) for m in range(1, 5)]
    B = len(sizes)
    x, y = rng.uniform(50, 90, size=(B, 4, 1)), rng.uniform(50, 90, size=(B, 4, 1))  # padding must not count
    want = []
    for b, (n, m) in enumerate(sizes):
        x[b, :n], y[b, :m] = rng.normal(size=(n, 1)), rng.normal(size=(m, 1))
        want.append(ref.brute_force_soft_dtw(ref.local_costs(x[b, :n], y[b, :m]), 0.4))
    xl, yl = np.array(sizes, np.int64).T
    for dtype, rtol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        got, *_ = _lanes.batch(x.astype(dtype), y.astype(dtype), None, xl, yl, -1, kn.SQEUCLIDEAN, 0.4, 0, 0, map)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
def test_float32_lanes_agree_with_float64_as_closely_as_float32_allows(rng, scale):
    """float32 runs in float32 (16 lanes): R is rounded to float32 at every cell, so the gradient's relative error
    grows with the path's length and the ratio R / gamma; here, 60 x 50 steps, it stays below 1e-4 of its max."""
    x, y = rng.normal(size=(20, 60, 3)) * scale, rng.normal(size=(20, 50, 3)) * scale
    xl, yl = np.full(20, 60, np.int64), np.full(20, 50, np.int64)
    gamma = 0.5 * scale**2
    want = _numba(x, y, None, xl, yl, -1, kn.SQEUCLIDEAN, gamma, 0, kn.GRADIENT)[:3]
    got = _lanes.batch(x.astype(np.float32), y.astype(np.float32), None, xl, yl, -1, 0, gamma, 0, 1, map)[:3]
    for g, w in zip(got, want):
        assert g.dtype == np.float32 and np.isfinite(g).all()
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4 * np.abs(w).max())


def test_far_off_predecessors_underflow_to_exact_zero_weights(rng):
    """gamma tiny against the costs: most weights are exp(-huge) = 0, E is a hard 0/1 path, nothing is NaN."""
    x, y = rng.normal(size=(16, 40, 1)).astype(np.float32) * 100, rng.normal(size=(16, 30, 1)).astype(np.float32) * 100
    xl, yl = np.full(16, 40, np.int64), np.full(16, 30, np.int64)
    values, _, _, E = _lanes.batch(x, y, None, xl, yl, -1, kn.SQEUCLIDEAN, 1e-3, 0, kn.ALIGNMENT, map)
    assert np.isfinite(values).all() and np.isfinite(E).all()
    assert np.all((E >= 0) & (E <= 1 + 1e-6))
    np.testing.assert_allclose(E[:, 0, 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(E[:, -1, -1], 1.0, rtol=1e-6)


def test_the_build_is_keyed_by_source_and_cpu_and_failures_fall_back(tmp_path, monkeypatch):
    monkeypatch.setenv(_lanes.ENV_BUILD_DIR, str(tmp_path))
    path = _lanes.library_path()
    assert path.parent == tmp_path and path.name.startswith("_lanes-") and path.suffix == ".so"
    assert _lanes.build() == path and path.exists()
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    monkeypatch.setattr(_lanes, "_cpu_signature", lambda: "another cpu")
    assert _lanes.library_path() != path  # a library built for one CPU is never loaded on another
    monkeypatch.setenv(_lanes.ENV_CXX, "no-such-compiler-dtwrl")
    monkeypatch.setattr(_lanes, "_STATE", {})
    with pytest.warns(RuntimeWarning, match="numba kernel"):
        assert _lanes.library() is None
    assert "no-such-compiler-dtwrl" in _lanes.reason()
    with pytest.raises(RuntimeError, match="unavailable"):
        _lanes.batch(np.zeros((1, 2, 1)), np.zeros((1, 2, 1)), None, [2], [2], -1, 0, 1.0, 0, 0, map)
