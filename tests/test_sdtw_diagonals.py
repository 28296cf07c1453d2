"""The diagonal kernel (one pair vectorised along anti-diagonals, dtwrl/tf/_lanes.cpp through
dtwrl.tf._lanes.diagonal_batch): every output against the numba kernel, brute force and finite differences, its
memory-light mode, and the engine's choice of it."""

import shutil

import numpy as np
import pytest
import tensorflow as tf

from dtwrl import soft_dtw
from dtwrl.tf import _kernel as kn
from dtwrl.tf import _kernel_ops as ko
from dtwrl.tf import _lanes
from tests import reference as ref
from tests.test_sdtw_lanes import _numba

pytestmark = pytest.mark.skipif(shutil.which(_lanes._compiler()) is None, reason="no C++ compiler on PATH")

METRICS = [kn.SQEUCLIDEAN, kn.EUCLIDEAN, kn.ABS, kn.PRECOMPUTED]
# odd shapes: n != m, a single row or column, two steps, d = 3, and (per pair) shorter lengths than the arrays
SHAPES = [(2, 23, 17, 3), (1, 1, 9, 1), (1, 9, 1, 2), (1, 2, 2, 1), (1, 1, 1, 1), (2, 40, 41, 1)]


def _case(rng, B, n, m, d):
    x, y = rng.normal(size=(B, n, d)), rng.normal(size=(B, m, d))
    D = np.abs(rng.normal(size=(B, n, m)))
    xl, yl = rng.integers(1, n + 1, B).astype(np.int64), rng.integers(1, m + 1, B).astype(np.int64)
    xl[0], yl[0] = n, m
    return x, y, D, xl, yl


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("regularizer", [kn.ENTROPY, kn.L2])
@pytest.mark.parametrize("block", [None, 1, 3])
def test_every_output_equals_the_numba_kernel_in_float64(rng, metric, regularizer, block):
    wants = (kn.VALUE, kn.ALIGNMENT) if metric == kn.PRECOMPUTED else (kn.VALUE, kn.GRADIENT, kn.ALIGNMENT)
    for B, n, m, d in SHAPES:
        x, y, D, xl, yl = _case(rng, B, n, m, d)
        series = (None, None, D) if metric == kn.PRECOMPUTED else (x, y, None)
        for want in wants:
            expected = _numba(x, y, D, xl, yl, -1, metric, 0.7, regularizer, want)
            got = _lanes.diagonal_batch(*series, xl, yl, metric, 0.7, regularizer, want, map, block)
            for g, e in zip(got, expected):
                assert g.shape == e.shape and g.dtype == np.float64
                np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("metric", METRICS[:3])
def test_float32_agrees_with_float64(rng, metric):
    x, y, _, xl, yl = _case(rng, 3, 70, 53, 2)
    want = _numba(x, y, None, xl, yl, -1, metric, 0.5, kn.ENTROPY, kn.GRADIENT)[:3]
    got = _lanes.diagonal_batch(
        x.astype(np.float32), y.astype(np.float32), None, xl, yl, metric, 0.5, kn.ENTROPY, kn.GRADIENT, map, 7
    )[:3]
    for g, w in zip(got, want):
        assert g.dtype == np.float32 and np.isfinite(g).all()
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4 * np.abs(w).max())


def test_values_equal_brute_force_and_gradients_finite_differences(rng):
    for n, m in [(1, 1), (1, 4), (4, 1), (3, 4), (4, 2)]:
        x, y = rng.normal(size=(1, n, 2)), rng.normal(size=(1, m, 2))
        lengths = np.array([n]), np.array([m])
        value, gx, gy, _ = _lanes.diagonal_batch(x, y, None, *lengths, kn.SQEUCLIDEAN, 0.4, 0, kn.GRADIENT, map, 2)
        brute = ref.brute_force_soft_dtw(ref.local_costs(x[0], y[0]), 0.4)
        np.testing.assert_allclose(value[0], brute, rtol=1e-12)
        for series, grad in ((x, gx), (y, gy)):
            numeric = np.zeros_like(series)
            for idx in np.ndindex(series.shape):
                for sign in (1, -1):
                    series[idx] += sign * 1e-6
                    v = _lanes.diagonal_batch(x, y, None, *lengths, kn.SQEUCLIDEAN, 0.4, 0, kn.VALUE, map)[0][0]
                    numeric[idx] += sign * v / 2e-6
                    series[idx] -= sign * 1e-6
            np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_the_engine_runs_few_full_pairs_on_it_and_others_elsewhere(rng, monkeypatch):
    monkeypatch.delenv(ko.ENV_MEMORY, raising=False)
    calls = []
    original = _lanes.diagonal_batch
    monkeypatch.setattr(_lanes, "diagonal_batch", lambda *a, **k: calls.append(a[3]) or original(*a, **k))
    x, y = tf.constant(rng.normal(size=(1, 30, 2))), tf.constant(rng.normal(size=(1, 20, 2)))
    lengths = {"x_lengths": tf.constant([17]), "y_lengths": tf.constant([9])}
    results = {}
    for engine in ("kernel", "light", "numba"):
        with tf.GradientTape() as tape:
            tape.watch([x, y])
            v = soft_dtw(x, y, gamma=0.3, implementation=engine, **lengths)
        results[engine] = [v.numpy(), *(t.numpy() for t in tape.gradient(v, [x, y]))]
    assert len(calls) == 2  # kernel and light: one pair
    for engine in ("kernel", "light"):
        for got, want in zip(results[engine], results["numba"]):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    soft_dtw(x, y, gamma=0.3, implementation="kernel", band=5)  # a band runs on the lane kernel
    assert len(calls) == 2
    assert ko.diagonal_block(1, 16384, 16384, 4, light=False) == 181  # 3.2 GB of weights: memory-light
    assert ko.diagonal_block(1, 256, 256, 4, light=False) == 511
