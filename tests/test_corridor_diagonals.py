"""Corridors on the diagonal kernel (one pair vectorised along anti-diagonals over its own corridor): values and
gradients against a dense reference with +inf off the corridor, every metric, dtype, storing mode and odd shape;
the per-diagonal row intervals and work counts; and the rule that picks it or the lane kernel by estimated work."""

import numpy as np
import pytest
import tensorflow as tf

from dtwrl import corridors as cr
from dtwrl.tf import _kernel as kn
from dtwrl.tf import _kernel_ops as ko
from dtwrl.tf import _lanes
from dtwrl.tf import _wavefront as wf
from dtwrl.tf.cost import grid_costs
from dtwrl.tf.sdtw import soft_dtw
from tests.test_corridor_memory import _far_apart_corridors

pytestmark = pytest.mark.skipif(_lanes.library() is None, reason="the C++ lane kernel is not built")


def _dense_reference(x, y, corridor, gamma, metric, x_lengths, y_lengths):
    """Value and gradients of soft-DTW on the dense costs with +inf off the corridor (the wavefront)."""
    xt, yt = tf.constant(x), tf.constant(y)
    with tf.GradientTape() as tape:
        tape.watch([xt, yt])
        allowed = tf.constant(np.transpose(cr.corridor_mask(corridor, y.shape[1]), (1, 2, 0)))
        D = tf.where(allowed, grid_costs(xt, yt, metric), tf.constant(np.inf, xt.dtype))
        xl, yl = tf.constant(x_lengths, tf.int32), tf.constant(y_lengths, tf.int32)
        value = wf.dp_value(D, gamma, "entropy", None, xl, yl)
    return (value.numpy(), *(g.numpy() for g in tape.gradient(value, [xt, yt])))


def _on(monkeypatch, kernel):
    """Every corridor call of the C++ engine on ``kernel`` ("diagonals" or "lanes"); returns the kernels run."""
    ran = []
    monkeypatch.setattr(ko, "corridor_engine", lambda *args, **kwargs: ran.append(kernel) or kernel)
    return ran


@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean", "abs"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode", ["stored", "light", "tiny corridor store"])
def test_the_diagonal_kernel_equals_the_dense_reference(rng, monkeypatch, metric, dtype, mode):
    B, n, m, d = 7, 19, 26, 3
    x_lengths, y_lengths = rng.integers(1, n + 1, B), rng.integers(1, m + 1, B)
    x_lengths[:3], y_lengths[:3] = [n, 1, n], [m, m, 1]  # full lengths, and a single row and a single column
    x, y = rng.normal(size=(B, n, d)).astype(dtype), rng.normal(size=(B, m, d)).astype(dtype)
    corridor = _far_apart_corridors(rng, x_lengths, y_lengths, n)
    if mode == "tiny corridor store":
        monkeypatch.setenv(ko.ENV_CORRIDOR_STORE, "0.0001")
        assert np.all(ko.diagonal_block(B, n, m, 8, False, [2] * B, [5] * B) == 2)  # ~sqrt of the diagonals
    ran = _on(monkeypatch, "diagonals")
    xt, yt = tf.constant(x), tf.constant(y)
    with tf.GradientTape() as tape:
        tape.watch([xt, yt])
        value = soft_dtw(
            xt, yt, 0.4, metric=metric, corridor=corridor, x_lengths=x_lengths, y_lengths=y_lengths,
            implementation="light" if mode == "light" else "kernel",
        )  # fmt: skip
    got = (value.numpy(), *(g.numpy() for g in tape.gradient(value, [xt, yt])))
    assert ran == ["diagonals"]
    expected = _dense_reference(x.astype(np.float64), y.astype(np.float64), corridor, 0.4, metric, x_lengths, y_lengths)
    tol = 1e-6 if dtype == np.float64 else 2e-4
    for g, e in zip(got, expected):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, e, rtol=tol, atol=tol * max(1.0, np.abs(e).max()))


@pytest.mark.parametrize("block", [None, 1, 2, 5])
def test_every_output_of_the_diagonal_kernel_equals_the_lane_kernel(rng, block):
    """_lanes.diagonal_batch against _lanes.batch on the same corridors: every ``want``, metric and regularizer,
    one-cell-wide corridors (anti-diagonals without a cell) among them."""
    for B, n, m, d in ((5, 17, 12, 2), (3, 1, 9, 1), (3, 9, 1, 1), (4, 30, 30, 1)):
        x_lengths, y_lengths = rng.integers(1, n + 1, B), rng.integers(1, m + 1, B)
        x, y, D = rng.normal(size=(B, n, d)), rng.normal(size=(B, m, d)), np.abs(rng.normal(size=(B, n, m)))
        corridor = _far_apart_corridors(rng, x_lengths, y_lengths, n)
        path = cr.random_path(x_lengths[-1], y_lengths[-1], rng)  # one cell wide
        corridor[-1] = cr.widen_paths([[path]], x_lengths[-1:], y_lengths[-1:], n, 0)[0]
        for metric in (kn.SQEUCLIDEAN, kn.EUCLIDEAN, kn.ABS, kn.PRECOMPUTED):
            for regularizer, want in ((kn.ENTROPY, kn.GRADIENT), (kn.L2, kn.GRADIENT), (kn.ENTROPY, kn.ALIGNMENT)):
                want = kn.ALIGNMENT if metric == kn.PRECOMPUTED else want
                args = (x, y, D, x_lengths, y_lengths)
                lanes = _lanes.batch(*args, -1, metric, 0.6, regularizer, want, map, corridor=corridor)
                diagonals = _lanes.diagonal_batch(*args, metric, 0.6, regularizer, want, map, block, corridor)
                for got, expected in zip(diagonals, lanes):
                    np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-12)


def test_work_counts_follow_the_corridors(rng):
    B, n, m = 9, 40, 33
    x_lengths, y_lengths = rng.integers(1, n + 1, B), rng.integers(1, m + 1, B)
    corridor = _far_apart_corridors(rng, x_lengths, y_lengths, n)
    cells = cr.corridor_cells(corridor, x_lengths)
    np.testing.assert_array_equal(_lanes.diagonal_vectors(corridor, x_lengths, y_lengths, 1), cells)
    mask = cr.corridor_mask(corridor, m)
    for b in range(B):  # each anti-diagonal's cells, padded to 4
        i, j = np.nonzero(mask[b, : x_lengths[b]])
        per_diagonal = np.bincount(i + j, minlength=x_lengths[b] + y_lengths[b] - 1)
        expected = np.sum(-(-per_diagonal // 4))
        one = slice(b, b + 1)
        assert _lanes.diagonal_vectors(corridor[one], x_lengths[one], y_lengths[one], 4)[0] == expected
    order = _lanes.group_order(x_lengths, y_lengths, corridor)
    union = 0
    for group in np.array_split(order, [4, 8]):
        lo, hi = _lanes.union_bounds(corridor, group, x_lengths[group], y_lengths[group], -1)
        union += int(np.sum(hi - lo))
    assert _lanes.lane_cells(corridor, x_lengths, y_lengths, 4) == union


def test_the_rule_picks_diagonals_for_scattered_corridors_and_lanes_for_a_narrow_band(rng):
    n = 512
    lengths = [n] * 16
    scattered = np.stack([cr.widen_paths([[cr.random_path(n, n, rng)]], [n], [n], n, 8)[0] for _ in range(16)])
    for itemsize in (4, 8):
        assert ko.corridor_engine(scattered, lengths, lengths, itemsize) == "diagonals"
        assert ko.corridor_engine(scattered[:4], lengths[:4], lengths[:4], itemsize) == "diagonals"  # half-width
        narrow = cr.band_corridor(lengths, lengths, n, 3)
        assert ko.corridor_engine(narrow, lengths, lengths, itemsize) == "lanes"
    same = np.repeat(scattered[:1], 16, axis=0)  # identical corridors: a group's union is each corridor
    assert ko.corridor_engine(same, lengths, lengths, 4) == "lanes"
    assert not ko._diagonal(16, 3, None, 4)  # bands and full batches keep the lane kernel
    assert not ko._diagonal(16, -1, None, 4) and ko._diagonal(15, -1, None, 4)


def test_soft_dtw_runs_each_kernel_the_rule_picks(rng, monkeypatch):
    n = 300
    lengths = [n] * 4
    x, y = rng.normal(size=(4, n, 1)), rng.normal(size=(4, n, 1))
    calls = []
    original = _lanes.diagonal_batch
    monkeypatch.setattr(_lanes, "diagonal_batch", lambda *a, **k: calls.append(len(a[3])) or original(*a, **k))
    scattered = np.stack([cr.widen_paths([[cr.random_path(n, n, rng)]], [n], [n], n, 10)[0] for _ in range(4)])
    narrow = cr.band_corridor(lengths, lengths, n, 2)
    values = {}
    for name, corridor in (("scattered", scattered), ("narrow", narrow)):
        values[name] = soft_dtw(x, y, 0.5, corridor=corridor, implementation="kernel").numpy()
        np.testing.assert_allclose(values[name], soft_dtw(x, y, 0.5, corridor=corridor, implementation="numba"))
    assert calls == [4]  # the scattered corridors only


def test_the_build_hash_covers_the_included_header(tmp_path, monkeypatch):
    header = tmp_path / "_diagonals.h"
    header.write_bytes(_lanes.HEADERS[0].read_bytes() + b"\n// edited\n")
    before = _lanes.library_path()
    monkeypatch.setattr(_lanes, "HEADERS", (header,))
    assert _lanes.library_path() != before  # an edited header builds a new library


def test_a_pair_stores_its_weights_within_a_lanes_share_of_the_corridor_store(monkeypatch):
    monkeypatch.delenv(ko.ENV_MEMORY, raising=False)
    monkeypatch.delenv(ko.ENV_CORRIDOR_STORE, raising=False)
    vectors, diagonals = [10_000, 12_000], [16383, 16383]  # 1.9 and 2.3 MB of weights (192 bytes a vector)
    assert ko.diagonal_block(8, 8192, 8192, 4, False, vectors, diagonals).tolist() == [16383, 127]  # 32 MB / 16
    assert ko.diagonal_block(8, 8192, 8192, 8, False, vectors, diagonals).tolist() == [16383, 16383]  # 32 MB / 8
    assert ko.diagonal_block(8, 8192, 8192, 4, True, vectors, diagonals).tolist() == [127, 127]
    monkeypatch.setenv(ko.ENV_CORRIDOR_STORE, "64")
    assert ko.diagonal_block(8, 8192, 8192, 4, False, vectors, diagonals).tolist() == [16383, 16383]
