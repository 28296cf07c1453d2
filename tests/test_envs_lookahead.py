"""The compiled lookahead (envs.observation's block DP, as WarpingBatch runs it) against a plain per-cell reference.

The reference is the definition in ``envs.observation``, written as directly as
possible in Python floats (float64): the terminal values ``H`` (mean-pooled
costs, their exact coarse cost-to-go, read bilinearly) over the whole grid, and
a DP over the block ahead, one cell at a time, frontier cells worth their cost
plus ``H``. Its move
values and features must equal the batch's bitwise (the shipped pretrained
policy reads these values), on grids with unequal lengths, bands, d > 1,
length-1 and length-2 series, every cell including the grid's edges, and
depths both shorter and longer than the grid.
"""

import numpy as np
import pytest

from envs.core import MOVES, WarpingBatch
from envs.observation import LANES, LOOKAHEAD_GAP, WINDOW_PAD, _njit_lookahead_q2_blocks
from tests.reference import in_band

INF = float("inf")


def reference_terminal(C, allowed, scale):
    """``H`` (float32, (n, m)) of one lookahead row, in the order of operations envs.observation documents."""
    n, m = C.shape
    N, M = -(-n // scale), -(-m // scale)
    pooled = np.full((N, M), INF)
    for ci in range(N):
        acc, cnt = [0.0] * m, [0.0] * m  # column sums over the coarse row's fine rows, in row order
        for i in range(ci * scale, min(n, ci * scale + scale)):
            for j in range(m):
                acc[j] += float(C[i, j]) * float(allowed[i, j])
                cnt[j] += float(allowed[i, j])
        for cj in range(M):
            total, cells = 0.0, 0.0
            for j in range(cj * scale, min(m, cj * scale + scale)):
                total += acc[j]
                cells += cnt[j]
            pooled[ci, cj] = total / cells if cells > 0 else INF
    G = np.full((N + 1, M + 1), INF)
    for ci in range(N - 1, -1, -1):
        for cj in range(M - 1, -1, -1):
            best = 0.0 if (ci, cj) == (N - 1, M - 1) else min(G[ci + 1, cj + 1], G[ci + 1, cj], G[ci, cj + 1])
            G[ci, cj] = pooled[ci, cj] + best
    G = G[:N, :M]
    finite = bool(np.isfinite(G).all())
    H = np.empty((n, m), dtype=np.float32)
    for p in range(n):
        u = min(max((p + 0.5) / scale - 0.5, 0.0), N - 1.0)
        ci0, fu = int(u), u - int(u)
        ci1 = min(ci0 + 1, N - 1)
        for q in range(m):
            v = min(max((q + 0.5) / scale - 0.5, 0.0), M - 1.0)
            cj0, fv = int(v), v - int(v)
            cj1 = min(cj0 + 1, M - 1)
            if finite:  # along ci first, then along cj
                low = scale * ((1.0 - fu) * G[ci0, cj0] + fu * G[ci1, cj0])
                high = scale * ((1.0 - fu) * G[ci0, cj1] + fu * G[ci1, cj1])
                H[p, q] = low + fv * (high - low)
                continue
            total, weight = 0.0, 0.0  # the corners with a finite cost-to-go, weights renormalised
            for corner in range(4):
                ci = ci1 if corner & 1 else ci0
                cj = cj1 if corner & 2 else cj0
                w = (fu if corner & 1 else 1.0 - fu) * (fv if corner & 2 else 1.0 - fv)
                if w > 0.0 and G[ci, cj] < INF:
                    total += w * G[ci, cj]
                    weight += w
            H[p, q] = scale * total / weight if weight > 0.0 else INF
    return H


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
    terminal = {}
    for t, (b, (i, j)) in enumerate(zip(rows, cells)):
        C = batch.cost_matrix(b)
        allowed = in_band(*C.shape, batch.band)
        for r, (scale, depth) in enumerate(batch.lookahead):
            if (b, r) not in terminal:
                terminal[b, r] = reference_terminal(C, allowed, scale)
                np.testing.assert_array_equal(batch._terminal[r, b, : C.shape[0], : C.shape[1]], terminal[b, r])
            q = reference_move_values(C, allowed, terminal[b, r], i, j, depth)
            assert batch.move_values([b], [[i, j]], row=r)[0].tolist() == q, (b, i, j, r)
            np.testing.assert_array_equal(obs["lookahead"][t, r], reference_features(q, batch.scales[b]))
            if r == 0:
                assert first[t].tolist() == q


def _pairs(rng, shapes, d):
    return [(rng.standard_normal((n, d)), rng.standard_normal((m, d))) for n, m in shapes]


def _band_cells(batch, band):
    """Every band cell but the end cell of every alignment: (rows, cells) for ``_check_cells``."""
    rows, cells = [], []
    for b in range(batch.num):
        n, m = batch.lengths[b]
        allowed = in_band(n, m, band)
        for i in range(n):
            for j in range(m):
                if allowed[i, j] and (i, j) != (n - 1, m - 1):
                    rows.append(b)
                    cells.append((i, j))
    return rows, cells


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
    _check_cells(batch, *_band_cells(batch, band))


@pytest.mark.parametrize("band", [None, 3])
def test_lookahead_after_the_slabs_grow_equals_the_reference(band):
    """A longer pair enlarges the slabs: every alignment's terminal values are rebuilt from its stored costs."""
    rng = np.random.default_rng(9)
    batch = WarpingBatch(window=3, band=band, lookahead=((2, 3), (3, 2)))
    batch.reset(_pairs(rng, [(7, 9), (8, 6)], 2))
    before = batch._rows, batch._cols
    batch.reset(_pairs(rng, [(14, 12)], 2), [1])  # rows and cols grow: alignment 0 keeps its pair
    assert batch._rows > before[0] and batch._cols > before[1]
    _check_cells(batch, *_band_cells(batch, band))


def test_lookahead_along_episodes_equals_the_reference():
    """The observation the vector env's stepping kernel writes (step then observe in one pass), at every step."""
    rng = np.random.default_rng(5)
    pairs = _pairs(rng, [(15, 11), (8, 14), (2, 9), (12, 12)], 2)
    batch = WarpingBatch(window=5, band=4, lookahead=((2, 5), (8, 5)))
    batch.reset(pairs)
    skip = np.zeros(batch.num, dtype=bool)
    allowed = [in_band(*batch.lengths[b], 4) for b in range(batch.num)]
    terminal = {
        (b, r): reference_terminal(batch.cost_matrix(b), allowed[b], scale)
        for b in range(batch.num)
        for r, (scale, _) in enumerate(batch.lookahead)
    }
    obs = batch.observation()
    while not batch.done.all():
        live = np.flatnonzero(~batch.done)
        for b in live.tolist():
            i, j = batch.positions[b]
            for r, (_, depth) in enumerate(batch.lookahead):
                q = reference_move_values(batch.cost_matrix(b), allowed[b], terminal[b, r], i, j, depth)
                np.testing.assert_array_equal(obs["lookahead"][b, r], reference_features(q, batch.scales[b]))
        _, obs = batch._step_observe(rng.integers(0, 3, batch.num), skip)


@pytest.mark.parametrize("band", [None, 4])
def test_lane_groups_of_every_fill_equal_the_one_block_dp(band):
    """Every count of interior queries (full lane groups, a partial last group, a small one that goes to the
    one-block DP) gives the one-block DP's move values bitwise."""
    rng = np.random.default_rng(11)
    batch = WarpingBatch(window=3, band=band, lookahead=((2, 5), (3, 5)))
    batch.reset(_pairs(rng, [(30, 28), (26, 31)], 2))
    rows, cells = _band_cells(batch, band)
    interior = [t for t, (b, (i, j)) in enumerate(zip(rows, cells)) if i + 5 < 29 and j + 5 < 27]
    for count in range(1, 2 * LANES + 2):
        pick = np.array(interior[:count] + [len(rows) - 1])  # and one query at the grid's edge
        r, c = np.asarray(rows)[pick], np.asarray(cells)[pick]
        expected = np.empty((len(pick), 3)), np.empty((len(pick), 3))
        terminal = batch._flat_terminal
        _njit_lookahead_q2_blocks(
            batch._flat_raw,
            batch._flat_allowed,
            terminal[0],
            terminal[1],
            batch._base,
            batch._lengths,
            batch._cols,
            r.astype(np.int64),
            c.astype(np.int64),
            5,
            band is not None,
            *expected,
        )
        for row in range(2):
            np.testing.assert_array_equal(batch.move_values(r, c, row), expected[row], err_msg=f"{count} {row}")
