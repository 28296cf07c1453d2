"""The corridor engine's memory follows its cells: row buffers and checkpoints over each row's union corridor,
half-width lane groups, the memory-light mode forced or automatic; values and gradients stay exact."""

import numpy as np
import pytest
import tensorflow as tf

from dtwrl import corridors as cr
from dtwrl.tf import _kernel as kn
from dtwrl.tf import _kernel_ops as ko
from dtwrl.tf import _lanes
from dtwrl.tf import _wavefront as wf
from dtwrl.tf.sdtw import soft_dtw

pytestmark = pytest.mark.skipif(_lanes.library() is None, reason="the C++ lane kernel is not built")


def _far_apart_corridors(rng, x_lengths, y_lengths, n):
    """Corridors whose rows' intervals differ wildly between pairs: paths along the top edge then the right one,
    along the left edge then the bottom one, or random moves, each widened by its own radius (0 to 4)."""
    out = np.zeros((len(x_lengths), n, 2), np.int64)
    for b, (nb, mb) in enumerate(zip(x_lengths, y_lengths)):
        kind = b % 3
        if kind == 0:  # right first, then down
            path = np.array([(0, j) for j in range(mb)] + [(i, mb - 1) for i in range(1, nb)])
        elif kind == 1:  # down first, then right
            path = np.array([(i, 0) for i in range(nb)] + [(nb - 1, j) for j in range(1, mb)])
        else:
            path = cr.random_path(nb, mb, rng)
        out[b] = cr.widen_paths([[path]], [nb], [mb], n, int(rng.integers(5)))[0]
    return out


def _dense_reference(x, y, corridor, gamma, x_lengths, y_lengths):
    """Value and gradients of soft-DTW on dense costs with +inf off the corridor (the wavefront), in float64."""
    xt, yt = tf.constant(x, tf.float64), tf.constant(y, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch([xt, yt])
        D = tf.reduce_sum(tf.square(xt[:, :, None] - yt[:, None]), axis=-1)
        D = tf.where(cr.corridor_mask(corridor, y.shape[1]), D, tf.constant(np.inf, tf.float64))
        xl, yl = tf.constant(x_lengths, tf.int32), tf.constant(y_lengths, tf.int32)
        value = wf.dp_value(tf.transpose(D, (1, 2, 0)), gamma, "entropy", None, xl, yl)
    return (value.numpy(), *(g.numpy() for g in tape.gradient(value, [xt, yt])))


@pytest.mark.parametrize("B", [3, 8, 17])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode", ["light", "tiny budget", "tiny corridor store"])
def test_light_mode_on_far_apart_corridors_equals_the_dense_reference(rng, monkeypatch, B, dtype, mode):
    n, m = 23, 31
    x_lengths, y_lengths = rng.integers(2, n + 1, B), rng.integers(2, m + 1, B)
    x_lengths[:2], y_lengths[0] = n, m
    x, y = rng.normal(size=(B, n, 2)), rng.normal(size=(B, m, 2))
    corridor = _far_apart_corridors(rng, x_lengths, y_lengths, n)
    assert corridor[0, 11, 0] > corridor[1, 11, 1] + 9  # disjoint rows: one group's union is none of its corridors
    if mode == "tiny budget":
        monkeypatch.setenv(ko.ENV_MEMORY, "0.0001")
    elif mode == "tiny corridor store":
        monkeypatch.setenv(ko.ENV_CORRIDOR_STORE, "0.0001")
    engine = "light" if mode == "light" else "kernel"
    monkeypatch.setattr(ko, "corridor_engine", lambda *args, **kwargs: "lanes")  # the lane kernel's light mode
    lo, hi = _lanes.union_bounds(corridor, [0], x_lengths[:1], y_lengths[:1], -1)
    assert ko.lane_block(B, np.dtype(dtype).itemsize, engine == "light", corridor=True)(lo, hi) < n
    xt, yt = tf.constant(x.astype(dtype)), tf.constant(y.astype(dtype))
    with tf.GradientTape() as tape:
        tape.watch([xt, yt])
        value = soft_dtw(
            xt, yt, gamma=0.4, corridor=corridor, x_lengths=x_lengths, y_lengths=y_lengths, implementation=engine
        )
    got = (value.numpy(), *(g.numpy() for g in tape.gradient(value, [xt, yt])))
    expected = _dense_reference(x.astype(dtype), y.astype(dtype), corridor, 0.4, x_lengths, y_lengths)
    tol = 1e-6 if dtype == np.float64 else 2e-4
    for g, e in zip(got, expected):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, e, rtol=tol, atol=tol * max(1.0, np.abs(e).max()))


@pytest.mark.parametrize("block", [1, 2, 5, 100])
def test_every_block_of_the_lane_kernel_equals_storing_every_row(rng, block):
    """_lanes.batch directly, half-width (B = 5 float64: 4 lanes a group) and full groups, every ``want``."""
    for B in (3, 5, 9):
        n, m = 17, 12
        x_lengths, y_lengths = rng.integers(1, n + 1, B), rng.integers(1, m + 1, B)
        x, y = rng.normal(size=(B, n, 1)), rng.normal(size=(B, m, 1))
        corridor = _far_apart_corridors(rng, x_lengths, y_lengths, n)
        for want in (kn.VALUE, kn.GRADIENT, kn.ALIGNMENT):
            args = (x, y, None, x_lengths, y_lengths, -1, kn.SQEUCLIDEAN, 0.5, kn.ENTROPY, want, map)
            full = _lanes.batch(*args, corridor=corridor)
            light = _lanes.batch(*args, block=block, corridor=corridor)
            for got, expected in zip(light, full):
                np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-13)


def _diagonal_corridor(n, m, cells):
    """A valid corridor of n rows from (0, 0) to (n-1, m-1) with at most ``cells`` columns per row."""
    lo = np.round(np.arange(n) * (m - 1) / (n - 1)).astype(np.int64)
    corridor = np.stack([lo, np.minimum(lo + cells - 1, m - 1)], axis=-1)[None]
    return cr.check_corridor(corridor, [n], [m], n)


def test_the_scratch_follows_the_corridor_cells_not_the_grid_width():
    n, cells = 2000, 24
    narrow, wide = _diagonal_corridor(n, n, cells), _diagonal_corridor(n, 10 * n, cells)
    for itemsize, B in ((4, 8), (4, 16), (8, 8)):
        vector = _lanes.group_width(B, itemsize) * itemsize
        for block in (n, 26):  # all the weights, and the memory-light mode
            sizes = []
            for corridor, m in ((narrow, n), (wide, 10 * n)):
                lo, hi = _lanes.union_bounds(corridor, [0], [n], [m], -1)
                sizes.append(_lanes.scratch_bytes(lo, hi, block, kn.GRADIENT, vector))
            assert sizes[1] < 1.1 * sizes[0], (itemsize, B, block, sizes)
            grid = _lanes.scratch_bytes(np.zeros(n, np.int64), np.full(n, 10 * n), block, kn.GRADIENT, vector)
            assert grid > 50 * sizes[1]  # the full grid of the same pair: its width, not its cells
    light = _lanes.scratch_bytes(*_lanes.union_bounds(wide, [0], [n], [10 * n], -1), 26)
    assert light < 2 * 2**20  # checkpoints and rows over 24-column rows: well under 2 MB at 20,000 columns


def test_a_corridor_past_its_store_cap_runs_light_and_the_cap_is_checked(monkeypatch):
    lo, hi = np.arange(4096), np.arange(4096) + 200  # 3 x 4096 x 200 weights of 64 bytes: 157 MB
    monkeypatch.delenv(ko.ENV_MEMORY, raising=False)
    monkeypatch.delenv(ko.ENV_CORRIDOR_STORE, raising=False)
    assert ko.lane_block(16, 4, light=False)(lo, hi) == 4096  # a band or the grid: the 1 GB budget
    assert ko.lane_block(16, 4, light=False, corridor=True)(lo, hi) == 37  # round(sqrt(4096 / 3))
    monkeypatch.setenv(ko.ENV_CORRIDOR_STORE, "200")
    assert ko.lane_block(16, 4, light=False, corridor=True)(lo, hi) == 4096
    monkeypatch.setenv(ko.ENV_CORRIDOR_STORE, "none")
    with pytest.raises(ValueError, match=ko.ENV_CORRIDOR_STORE):
        ko.lane_block(16, 4, light=False, corridor=True)


def prepare_diagonal_pair(n, cells):
    """One float64 pair of n x n on the diagonal kernel over a corridor ``cells`` columns wide, memory-light (blocks of
    64 diagonals): the call :func:`experiments.memory.fresh_peak_mb` measures, warmed up on a short pair."""

    def pair(k):
        x, y = np.linspace(0, 1, k)[None, :, None], np.linspace(0, 1, k)[None, :, None] ** 2
        corridor = _diagonal_corridor(k, k, cells)
        gradient = (kn.SQEUCLIDEAN, 0.1, kn.ENTROPY, kn.GRADIENT, map, 64)
        return lambda: _lanes.diagonal_batch(x, y, None, [k], [k], *gradient, corridor)

    pair(n // 64)()
    return pair(n)


def test_the_diagonal_kernels_buffers_follow_the_corridor_not_the_grid():
    from experiments.memory import fresh_peak_mb

    n = 2**18  # float64, 2 MB per number a row: the series' copies and their gradients take 6, the diagonals' index 1
    rise = fresh_peak_mb(prepare_diagonal_pair, n, 8)
    assert rise < 20, rise  # 13 MB; with 10 diagonal buffers spanning the grid's rows (21 MB) and an int64 index, 37
