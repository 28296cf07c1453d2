"""The compiled lookahead (envs.observation's block DP, as WarpingBatch runs it) against a plain per-cell reference.

The reference is the definition in ``envs.observation``, written as directly as
possible in Python floats (float64): a DP over the block ahead, one cell at a
time, frontier cells worth their cost plus the terminal value ``H``. Its move
values and features must equal the batch's bitwise (the shipped pretrained
policy reads these values), on grids with unequal lengths, bands, d > 1,
length-1 and length-2 series, every cell including the grid's edges, and
depths both shorter and longer than the grid.
"""

import numpy as np
import pytest

from envs.core import MOVES, WarpingBatch
from envs.observation import LOOKAHEAD_GAP, WINDOW_PAD
from tests.reference import in_band

INF = float("inf")


def reference_move_values(C, allowed, H, i, j, depth):
    """``[Q_diagonal, Q_down, Q_right]`` at (i, j): the cheapest estimated completion through each move's cell."""
    n, m = C.shape
    pe, qe = min(n - 1, i + depth), min(m - 1, j + depth)
    value = {}
    for p in range(pe, i - 1, -1):
        for q in range(qe, j - 1, -1):
            cost = float(C[p, q])
            if not allowed[p, q]:
                value[p, q] = INF
            elif (p == pe and pe < n - 1) or (q == qe and qe < m - 1):  # the frontier: cost plus terminal value
                value[p, q] = cost + float(H[p, q])
            elif p == n - 1 and q == m - 1:  # the end cell
                value[p, q] = cost + 0.0
            else:  # successors beyond the block do not exist here (the grid ends there)
                succ = [value.get((p + di, q + dj), INF) for di, dj in MOVES.tolist()]
                value[p, q] = cost + min(succ)
    return [value.get((i + di, j + dj), INF) for di, dj in MOVES.tolist()]


def reference_features(q, scale):
    """The ``"lookahead"`` row of move values ``q`` (envs.observation), as float32."""
    best = min(q)
    out = []
    for v in q:
        if v == INF or best == INF:
            out.append(WINDOW_PAD)
        else:
            d = (v - best) / scale
            out.append(0.0 if d <= 0.0 else LOOKAHEAD_GAP + (1.0 - LOOKAHEAD_GAP) * d / (d + 1.0))
    return np.array(out, dtype=np.float32)


def _check_cells(batch, rows, cells):
    """``move_values``, ``observe_cells`` and the features at ``cells`` equal the reference bitwise."""
    obs, first = batch.observe_cells(rows, cells)
    for t, (b, (i, j)) in enumerate(zip(rows, cells)):
        C = batch.cost_matrix(b)
        allowed = in_band(*C.shape, batch.band)
        for r, (_, depth) in enumerate(batch.lookahead):
            q = reference_move_values(C, allowed, batch._terminal[r, b], i, j, depth)
            assert batch.move_values([b], [[i, j]], row=r)[0].tolist() == q, (b, i, j, r)
            np.testing.assert_array_equal(obs["lookahead"][t, r], reference_features(q, batch.scales[b]))
            if r == 0:
                assert first[t].tolist() == q


def _pairs(rng, shapes, d):
    return [(rng.standard_normal((n, d)), rng.standard_normal((m, d))) for n, m in shapes]


@pytest.mark.parametrize(
    "shapes, d, band, lookahead",
    [
        ([(9, 13), (13, 9), (1, 7), (6, 1), (2, 2), (2, 5)], 1, None, ((2, 3), (8, 3))),
        ([(11, 14), (12, 12), (2, 3), (7, 5)], 3, 2, ((3, 4), (1, 4), (2, 2))),
        ([(10, 10), (2, 2), (8, 8)], 2, 0, ((2, 1),)),
        ([(6, 9), (9, 6), (1, 2), (2, 1)], 1, None, ((2, 16), (8, 16))),
    ],
)
def test_lookahead_equals_the_reference_at_every_cell(shapes, d, band, lookahead):
    rng = np.random.default_rng(len(shapes) + d)
    pairs = _pairs(rng, shapes, d)
    pairs.append((np.round(pairs[0][0]), np.round(pairs[0][1])))  # integer-valued costs: many exact ties
    batch = WarpingBatch(window=3, band=band, lookahead=lookahead)
    batch.reset(pairs)
    rows, cells = [], []
    for b in range(batch.num):
        n, m = batch.lengths[b]
        allowed = in_band(n, m, band)
        for i in range(n):
            for j in range(m):
                if allowed[i, j] and (i, j) != (n - 1, m - 1):
                    rows.append(b)
                    cells.append((i, j))
    _check_cells(batch, rows, cells)


def test_lookahead_along_episodes_equals_the_reference():
    """The observation the vector env's stepping kernel writes (step then observe in one pass), at every step."""
    rng = np.random.default_rng(5)
    pairs = _pairs(rng, [(15, 11), (8, 14), (2, 9), (12, 12)], 2)
    batch = WarpingBatch(window=5, band=4, lookahead=((2, 5), (8, 5)))
    batch.reset(pairs)
    skip = np.zeros(batch.num, dtype=bool)
    obs = batch.observation()
    while not batch.done.all():
        live = np.flatnonzero(~batch.done)
        for b in live.tolist():
            C = batch.cost_matrix(b)
            i, j = batch.positions[b]
            for r, (_, depth) in enumerate(batch.lookahead):
                q = reference_move_values(C, in_band(*C.shape, 4), batch._terminal[r, b], i, j, depth)
                np.testing.assert_array_equal(obs["lookahead"][b, r], reference_features(q, batch.scales[b]))
        _, obs = batch._step_observe(rng.integers(0, 3, batch.num), skip)
