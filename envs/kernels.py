"""The compiled kernels of ``WarpingBatch``: load pairs, move, observe, roll a policy out.

Every kernel takes the batch's state as the plain tuple of a :class:`BatchState`'s
fields (arrays and layout scalars), makes it a ``BatchState`` again (free in
compiled code) and writes into it in place; per-call inputs and outputs
(actions, rewards, the ``replaced`` flags, the observation arrays) are separate
arguments. A plain tuple because numba's dispatcher types one from a C
fingerprint, while it types a NamedTuple in Python, field by field: about 3 us
more per call, paid several times per batch step. ``WarpingBatch``
(``envs.core``) builds the tuple whenever its layout changes and otherwise only
reads the arrays back.

State layout
------------
For N alignments and slabs of ``rows`` x ``cols`` cells per alignment:

- ``raw`` float64 (N rows cols,) and ``allowed`` int8 (N rows cols,): the
  flat padded slabs of local costs and of "cell is enterable" flags (filled
  only with a band: ``banded`` False leaves them unread, all 0); cell
  (i, j) of alignment b is the flat index ``base[b] + i * cols + j`` with
  ``base[b] = b * rows * cols``.
- ``terminal`` float32 (L, N rows cols): the terminal values ``H`` of each
  lookahead row (``envs.observation``), flat in the same way.
- ``pos``, ``end`` int64 (N,): flat index of the current and the end cell;
  ``ij`` int64 (N, 2): the current cell; ``lengths`` int64 (N, 2): (n, m).
- ``paths`` int64 (N, rows + cols, 2) and ``length`` int64 (N,): the cells
  visited so far; ``pending`` float64 (N,): the start cell's cost, paid by the
  first move; ``path_costs`` float64 (N,); ``done`` bool (N,).
- per pair: ``scale``, ``factor`` (the reward factor) and ``dtw_cost``
  float64 (N,), ``band_den`` int64 (N,) (the ``band_offset`` denominator).
- layout and configuration: ``depths`` int64 (L,) and ``scales`` float64 (L,)
  of the lookahead rows, ``rows``, ``cols`` (int) and ``banded`` (bool: False
  promises every grid cell is enterable).

Speed
-----
A step or an observation is O(N k^2) gathers at ``pos + offset``, with no
Python loop over alignments: the vector environment steps and observes every
alignment in one kernel call per batch step and loads every pair of a reset in
one more (``njit_costs_and_dtw`` runs ``dtwrl.exact_dtw``'s DP recurrence row
by row as each row of costs is filled, while it is in L1). Each kernel loops
over the alignments itself, never calling a compiled helper that takes arrays
once per alignment (numba reference-counts each array argument of such a call
with atomic operations, which cost more than a move), and prefetches the cells
an alignment is about to read a few alignments ahead (the slabs are far larger
than the caches, so those reads are mostly misses, and overlapping them
matters).

>>> from envs.core import WarpingBatch
>>> batch = WarpingBatch(window=3, lookahead=())
>>> batch.reset([([0.0, 1.0, 2.0], [0.0, 2.0])])
>>> state = BatchState(*batch._state)  # the batch's state, as a BatchState
>>> state.rows, state.cols, state.lengths.tolist(), int(state.end[0] - state.base[0])  # end: (2, 1), flat
(5, 4, [[3, 2]], 9)
>>> rows, cells = njit_active(state.done.view(np.uint8), state.ij)
>>> rows.tolist(), cells.tolist()
([0], [[0, 0]])
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from dtwrl.local_cost import _njit_cost_row

from .observation import (
    WINDOW_PAD,
    _njit_lookahead_feature,
    _njit_lookahead_q2,
    _njit_position,
)
from .packing import SMALLEST_PAIR_SCALE
from .prefetch import PREFETCH_AHEAD, prefetch
from .terminal import pool_buffers, pool_row, terminal_from_pooled

__all__ = [
    "MOVES",
    "PREFERENCE",
    "BatchState",
    "njit_active",
    "njit_costs_and_dtw",
    "njit_load",
    "njit_move",
    "njit_observe",
    "njit_step",
    "njit_step_observe",
    "active_into",
    "legal_actions",
    "next_active",
    "run_loop",
]

#: ``MOVES[a]`` is the (di, dj) step of action ``a`` (0 diagonal, 1 down, 2 right).
MOVES = np.array([[1, 1], [1, 0], [0, 1]], dtype=np.int64)
#: Replacement order for an illegal action: the action itself, then the legal move closest in direction (down and
#: right are 45 degrees from the diagonal and 90 degrees from each other).
PREFERENCE = np.array([[0, 1, 2], [1, 0, 2], [2, 0, 1]])


class BatchState(NamedTuple):
    """The state of N alignments that every kernel takes, as the plain tuple of these fields (module docstring)."""

    raw: np.ndarray
    allowed: np.ndarray
    terminal: np.ndarray
    base: np.ndarray
    pos: np.ndarray
    end: np.ndarray
    ij: np.ndarray
    lengths: np.ndarray
    paths: np.ndarray
    length: np.ndarray
    pending: np.ndarray
    path_costs: np.ndarray
    done: np.ndarray
    scale: np.ndarray
    factor: np.ndarray
    dtw_cost: np.ndarray
    band_den: np.ndarray
    depths: np.ndarray
    scales: np.ndarray
    rows: int
    cols: int
    banded: bool


@njit(cache=True)
def njit_costs_and_dtw(x, y, code, lo, hi, out, scales, pool):
    """Fill ``out[:n, :m]`` with the local costs; return (their sum over the band, the exact DTW cost).

    Each row is also pooled for the lookahead's terminal values
    (``envs.terminal.pool_row`` with ``pool`` from ``envs.terminal.pool_buffers(n, m,
    scales)``; no work for an empty ``scales``) as soon as its DP is done, while it is in L1.

    One pass over the rows: each row's costs come from ``dtwrl.cost_matrix``'s
    own row kernel (bitwise the same values), then one loop over its band cells
    carries both the running sum (row-major order, as a plain sum over the band
    would) and ``dtwrl.exact_dtw``'s DP recurrence ``R[i, j] = min(R[i-1, j-1],
    R[i-1, j], R[i, j-1]) + C[i, j]`` on two rolling rows. The two dependency
    chains are independent, so they overlap, and the row is read while it is in
    L1. Without a band, rows go two at a time (``_njit_dtw_row_pair``: two DP
    chains and the sum overlap). Each value is computed by the same operations
    in the same order as ``_njit_dtw_value`` over the matrix, so the cost is
    bitwise the same.
    """
    n, m = x.shape[0], y.shape[0]
    prev = np.full(m + 1, np.inf)  # column j at index j + 1; index 0 is a +inf sentinel
    cur = np.full(m + 1, np.inf)
    row = out[0]
    _njit_cost_row(x, y, 0, 0, m, code, row)
    total = 0.0
    acc = 0.0
    for j in range(lo[0], hi[0] + 1):  # lo[0] == 0
        total += row[j]
        acc += row[j]
        cur[j + 1] = acc
    full = _full_rows(lo, hi, m)
    pool_row(row, lo[0], hi[0], full, 0, n, m, scales, pool)
    first = 1
    if full:  # no band: rows two at a time, while two are left (row i + 1 goes to cur)
        for i in range(1, n - 1, 2):
            total = _njit_dtw_row_pair(x, y, code, i, out, total, cur, prev)
            pool_row(out[i], 0, m - 1, full, i, n, m, scales, pool)
            pool_row(out[i + 1], 0, m - 1, full, i + 1, n, m, scales, pool)
            first = i + 2
    for i in range(first, n):
        prev, cur = cur, prev
        row = out[i]
        _njit_cost_row(x, y, i, 0, m, code, row)
        cur[lo[i]] = np.inf  # column lo[i] - 1, read as the next row's diagonal: stale from row i - 2
        left = np.inf  # R[i, j - 1], kept in a register
        for j in range(lo[i], hi[i] + 1):
            c = row[j]
            total += c
            left = _dtw_cell(prev[j], prev[j + 1], left, c)
            cur[j + 1] = left
        pool_row(row, lo[i], hi[i], full, i, n, m, scales, pool)
    return total, cur[m]


@njit(cache=True, inline="always")
def _dtw_cell(diag, up, left, cost):
    """``min(diag, up, left) + cost`` (the minimum taken in that order): one cell of the DTW recurrence."""
    best = diag
    if up < best:
        best = up
    if left < best:
        best = left
    return best + cost


@njit(cache=True, inline="always")
def _full_rows(lo, hi, m):
    """True when every band row spans all m columns (no band)."""
    for i in range(lo.shape[0]):  # noqa: SIM110 (numba compiles this loop; all() over a generator it does not)
        if lo[i] != 0 or hi[i] != m - 1:
            return False
    return True


@njit(cache=True, inline="always")
def _njit_dtw_row_pair(x, y, code, i, out, total, above, scratch):
    """Rows i and i + 1 of ``njit_costs_and_dtw`` on a grid with no band; returns the running cost sum.

    ``above`` holds DP row i - 1 (column j at index j + 1, index 0 a +inf
    sentinel) and receives row i + 1; ``scratch`` receives row i. Both rows'
    costs are filled first; then one loop computes row i at column j and row
    i + 1 at column j - 1 (which overwrites index j of row i - 1 after its last
    read), two independent dependency chains, and adds two costs per iteration
    to the running sum in row-major order (all of row i, then row i + 1), a
    third. Every value is the same expression, in the same order, as in the
    row-by-row loop, so the bits are the same.
    """
    m = y.shape[0]
    upper, lower = out[i], out[i + 1]
    _njit_cost_row(x, y, i, 0, m, code, upper)
    _njit_cost_row(x, y, i + 1, 0, m, code, lower)
    inf = np.inf
    mid = scratch  # row i
    mid[0] = inf
    left_a = inf  # R[i, j - 1]
    left_b = inf  # R[i + 1, j - 2]
    for j in range(m + 1):
        e = 2 * j  # the running sum takes costs 2j and 2j + 1 of the row-major sequence (row i, row i + 1)
        if e < m:
            total += upper[e]
        elif e < 2 * m:
            total += lower[e - m]
        if e + 1 < m:
            total += upper[e + 1]
        elif e + 1 < 2 * m:
            total += lower[e + 1 - m]
        if j < m:
            left_a = _dtw_cell(above[j], above[j + 1], left_a, upper[j])
            mid[j + 1] = left_a
        if j >= 1:
            left_b = _dtw_cell(mid[j - 1], mid[j], left_b, lower[j - 1])
            above[j] = left_b
    return total


@njit(cache=True)
def njit_load(state, indices, meta, xs, ys, lo, hi, same, code, band, pair_scaled, reward_scale, replaced):
    """Start alignment ``indices[k]`` on pair ``k`` for every k; return the first k that cannot start, or -1.

    Pair k cannot start when its local costs overflow (its scale is not finite), or when ``pair_scaled`` and its
    scale is below ``SMALLEST_PAIR_SCALE`` (``1 / scale``, the reward factor, would overflow); its scale is left in
    ``scale[indices[k]]`` for the caller's message.

    Pair k is ``x = xs[a:a + meta[k, 0]]`` (``a = meta[k, 5]``) and ``y = ys[c:c + meta[k, 1]]``
    (``c = meta[k, 6]``), flat, ``meta[k, 4]`` features, with band rows ``lo``/``hi[r:r + meta[k, 2]]``
    (``r = meta[k, 7]``; see ``envs.packing.pack_pairs``).
    For each pair: fills the padded slabs ``raw[b]`` (``C[i, j]`` inside the grid) and, with a band
    (``band >= 0``), ``allowed[b]`` (1 on band cells, 0 elsewhere), computes the scale (mean local cost over
    the band cells, 1 if that mean is 0), the exact DTW cost and the terminal values ``H`` of every lookahead
    scale, and puts the alignment in cell (0, 0). One call for every pair of a reset: no Python per pair. A
    pair with ``same[k] >= 0`` is pair ``same[k]`` again (an earlier one of this call, e.g. one of K rollouts
    of a pair): its slabs, scale and DTW cost are copied from that alignment instead of computed again (the
    same values).
    """
    state = BatchState(*state)
    num, rows, cols = state.base.shape[0], state.rows, state.cols
    raw = state.raw.reshape(num, rows, cols)
    allowed = state.allowed.reshape(num, rows, cols)
    terminal = state.terminal.reshape(state.terminal.shape[0], num, rows, cols)
    lengths, band_den, scale, factor = state.lengths, state.band_den, state.scale, state.factor
    dtw_cost = state.dtw_cost
    ij, pos, end, base, paths, length = state.ij, state.pos, state.end, state.base, state.paths, state.length
    pending, path_costs, done, scales = state.pending, state.path_costs, state.done, state.scales
    for k in range(indices.shape[0]):
        b = indices[k]
        n, m, d = meta[k, 2], meta[k, 3], meta[k, 4]
        x = xs[meta[k, 5] : meta[k, 5] + n * d].reshape(n, d)
        y = ys[meta[k, 6] : meta[k, 6] + m * d].reshape(m, d)
        lo_k = lo[meta[k, 7] : meta[k, 7] + n]
        hi_k = hi[meta[k, 7] : meta[k, 7] + n]
        if same[k] >= 0:
            a = indices[same[k]]
            raw[b] = raw[a]
            if band >= 0:
                allowed[b] = allowed[a]
            terminal[:, b] = terminal[:, a]
            scale[b], factor[b], dtw_cost[b], band_den[b] = scale[a], factor[a], dtw_cost[a], band_den[a]
            lengths[b, 0], lengths[b, 1] = n, m
        else:
            pool = pool_buffers(n, m, scales)
            total, value = njit_costs_and_dtw(x, y, code, lo_k, hi_k, raw[b], scales, pool)  # raw beyond: never read
            # without a band no kernel reads the flags; with one, unchanged lengths mean allowed[b] holds them
            if band >= 0 and (lengths[b, 0] != n or lengths[b, 1] != m):
                allowed[b] = 0
                for i in range(n):
                    allowed[b, i, lo_k[i] : hi_k[i] + 1] = 1
            count = 0
            for i in range(n):
                count += hi_k[i] - lo_k[i] + 1
            s = total / count
            if s == 0.0:
                s = 1.0  # every band cost is 0: any positive scale maps them to 0
            scale[b] = s
            if not np.isfinite(s) or (pair_scaled and s < SMALLEST_PAIR_SCALE):
                return k
            factor[b] = 1.0 / s if pair_scaled else reward_scale
            dtw_cost[b] = value
            lengths[b, 0], lengths[b, 1] = n, m
            r = max(n, m) - 1 if band < 0 else band
            band_den[b] = r * (min(n, m) - 1)
            terminal_from_pooled(pool, n, m, scales, terminal, b)
        ij[b, 0], ij[b, 1] = 0, 0
        pos[b] = base[b]
        end[b] = base[b] + (n - 1) * cols + m - 1
        paths[b, 0, 0], paths[b, 0, 1] = 0, 0
        length[b] = 1
        pending[b] = raw[b, 0, 0]
        path_costs[b] = 0.0
        done[b] = False
        replaced[b] = False
    return -1


@njit(cache=True, inline="always")
def _enterable(allowed, banded, k, i, j, n, m):
    """Whether cell (i, j), flat index ``k``, of an n-by-m grid is enterable: its ``allowed`` flag, or without a
    band (``banded`` False) whether it lies in the grid, which leaves the flags unread (fewer cache lines a step)."""
    if banded:
        return allowed[k] == 1
    return i < n and j < m


@njit(cache=True)
def _njit_first_bad(actions):
    """Index of the first action outside 0..2, or -1."""
    for b in range(actions.shape[0]):
        if actions[b] < 0 or actions[b] > 2:
            return b
    return -1


@njit(cache=True)
def njit_move(state, actions, rewards, replaced):
    """Move every alignment ``b`` by action ``actions[b]`` (0..2; see ``WarpingBatch.step``), into ``state``.

    A finished alignment stays and earns 0. The loop over alignments is inside:
    numba reference-counts every array argument of a call (two atomic
    operations each), which a call per alignment would pay every step.
    """
    state = BatchState(*state)
    ij, pos, end, cols, pending = state.ij, state.pos, state.end, state.cols, state.pending
    path_costs, length, paths, raw = state.path_costs, state.length, state.paths, state.raw
    allowed, factor, done, lengths, banded = state.allowed, state.factor, state.done, state.lengths, state.banded
    num = pos.shape[0]
    for b in range(num):
        if b + PREFETCH_AHEAD < num:  # the cells a later alignment's move reads: many misses in flight, not one
            q = pos[b + PREFETCH_AHEAD]
            if banded:
                prefetch(allowed, q + 1)
                prefetch(allowed, q + cols)
                prefetch(allowed, q + cols + 1)
            prefetch(raw, q + 1)
            prefetch(raw, q + cols)
            prefetch(raw, q + cols + 1)
        a = actions[b]
        replaced[b] = False
        p = pos[b]
        if p == end[b]:
            rewards[b] = 0.0
            continue
        i, j, n, m = ij[b, 0], ij[b, 1], lengths[b, 0], lengths[b, 1]
        if not _enterable(
            allowed, banded, p + MOVES[a, 0] * cols + MOVES[a, 1], i + MOVES[a, 0], j + MOVES[a, 1], n, m
        ):
            replaced[b] = True
            for c in range(1, 3):
                alt = PREFERENCE[a, c]
                if _enterable(
                    allowed,
                    banded,
                    p + MOVES[alt, 0] * cols + MOVES[alt, 1],
                    i + MOVES[alt, 0],
                    j + MOVES[alt, 1],
                    n,
                    m,
                ):
                    a = alt
                    break
        ij[b, 0] += MOVES[a, 0]
        ij[b, 1] += MOVES[a, 1]
        p += MOVES[a, 0] * cols + MOVES[a, 1]
        pos[b] = p
        cost = raw[p] + pending[b]
        pending[b] = 0.0
        path_costs[b] += cost
        paths[b, length[b], 0] = ij[b, 0]
        paths[b, length[b], 1] = ij[b, 1]
        length[b] += 1
        done[b] = p == end[b]
        rewards[b] = 0.0 - cost * factor[b]


@njit(cache=True)
def njit_step(state, actions, rewards, replaced):
    """Advance every unfinished alignment by one cell; return the index of a bad action (nothing moved) or -1."""
    bad = _njit_first_bad(actions)
    if bad < 0:
        njit_move(state, actions, rewards, replaced)
    return bad


@njit(cache=True)
def njit_step_observe(state, actions, rewards, replaced, skip, window, position, mask, look):
    """``njit_step``, then the observation of every alignment ``b`` with ``skip[b] == 0``, in one call."""
    bad = _njit_first_bad(actions)
    if bad >= 0:
        return bad
    njit_move(state, actions, rewards, replaced)
    rows, cells = njit_active(skip, BatchState(*state).ij)
    njit_observe(state, rows, rows, cells, window, position, mask, look, np.empty((0, 3)))
    return -1


@njit(cache=True)
def njit_active(skip, ij):
    """The alignments with ``skip == 0`` (int64, in order) and their current cells (int64 (T, 2))."""
    count = 0
    for b in range(skip.shape[0]):
        count += skip[b] == 0
    rows = np.empty(count, dtype=np.int64)
    cells = np.empty((count, 2), dtype=np.int64)
    active_into(skip, ij, rows, cells)
    return rows, cells


@njit(inline="always")
def active_into(skip, ij, active, cells):
    """The alignments with ``skip[b]`` false (in order) into ``active``, their cells into ``cells``; their count."""
    count = 0
    for b in range(skip.shape[0]):
        if not skip[b]:
            active[count] = b
            cells[count, 0], cells[count, 1] = ij[b, 0], ij[b, 1]
            count += 1
    return count


@njit(cache=True)
def njit_observe(state, outs, rows, cells, window, position, mask, look, q_first):
    """Write into row ``outs[t]`` of the observation arrays the observation of alignment ``rows[t]`` at ``cells[t]``.

    ``q_first[t]`` (when it has rows) receives the raw move values of the
    first lookahead row (see ``WarpingBatch.observe_cells``). Every query runs in this
    one call (no per-query call of a function taking arrays: numba
    reference-counts each array argument), the lookahead first (its blocks
    hold the window), then the window, mask and position features; the cells
    of the query ``PREFETCH_AHEAD`` further on are prefetched. ``banded``
    False promises that every grid cell is enterable (no band): the lookahead
    then reads no ``allowed`` flag, nor do the window, the mask and the moves.
    """
    state = BatchState(*state)
    banded, base, lengths, band_den, cols = state.banded, state.base, state.lengths, state.band_den, state.cols
    raw, allowed, scale, terminal, depths = state.raw, state.allowed, state.scale, state.terminal, state.depths
    num = rows.shape[0]
    levels = depths.shape[0]
    if levels > 0:
        q_a = np.empty((num, 3))
        q_b = np.empty((num, 3))
        g = 0
        while g < levels:  # consecutive rows of equal depth share one DP pass; a row alone is a pair with itself
            u = g + 1 if g + 1 < levels and depths[g + 1] == depths[g] else g
            _njit_lookahead_q2(
                raw, allowed, terminal[g], terminal[u], base, lengths, cols, rows, cells, depths[g], banded, q_a, q_b
            )
            for t in range(num):
                o, s = outs[t], scale[rows[t]]
                best = min(q_a[t, 0], min(q_a[t, 1], q_a[t, 2]))
                for a in range(3):
                    look[o, g, a] = _njit_lookahead_feature(q_a[t, a], best, s)
                if u > g:
                    best = min(q_b[t, 0], min(q_b[t, 1], q_b[t, 2]))
                    for a in range(3):
                        look[o, u, a] = _njit_lookahead_feature(q_b[t, a], best, s)
                if g == 0 and q_first.shape[0] > 0:
                    q_first[t, 0], q_first[t, 1], q_first[t, 2] = q_a[t, 0], q_a[t, 1], q_a[t, 2]
            g = u + 1
    k = window.shape[1]
    for t in range(num):
        if t + PREFETCH_AHEAD < num:  # (after a lookahead pass over all queries, these cells may be evicted)
            q = base[rows[t + PREFETCH_AHEAD]] + cells[t + PREFETCH_AHEAD, 0] * cols + cells[t + PREFETCH_AHEAD, 1]
            for _ in range(k):
                prefetch(raw, q)
                prefetch(raw, q + k - 1)
                if banded:
                    prefetch(allowed, q)
                    prefetch(allowed, q + k - 1)
                q += cols
        o, b = outs[t], rows[t]
        i, j = cells[t, 0], cells[t, 1]
        n, m = lengths[b, 0], lengths[b, 1]
        p = base[b] + i * cols + j
        s = scale[b]
        for r in range(k):
            q = p + r * cols
            for c in range(k):
                if _enterable(allowed, banded, q + c, i + r, j + c, n, m):
                    v = raw[q + c]
                    window[o, r, c] = v / (v + s)
                else:
                    window[o, r, c] = WINDOW_PAD
        for a in range(3):
            mask[o, a] = _enterable(
                allowed, banded, p + MOVES[a, 0] * cols + MOVES[a, 1], i + MOVES[a, 0], j + MOVES[a, 1], n, m
            )
        _njit_position(position, o, i, j, n - 1, m - 1, band_den[b])


@njit(inline="always")
def next_active(done, ij, mask, active, cells):
    """:func:`active_into` of the unfinished alignments, after giving the finished ones an all-zero ``mask`` row.

    A step of the compiled rollout loops (``run_loop``, ``envs.corridor_batch``'s), written in place: no array is
    allocated per step.
    """
    for b in range(done.shape[0]):
        if done[b]:
            mask[b, 0], mask[b, 1], mask[b, 2] = 0, 0, 0
    return active_into(done, ij, active, cells)


@njit(inline="always")
def legal_actions(actions, moves):
    """``moves[b] = actions[b]``, an action outside 0..2 read as 0 (a step of the compiled rollout loops)."""
    for b in range(actions.shape[0]):
        a = actions[b]
        moves[b] = 0 if a < 0 or a > 2 else a


@njit
def run_loop(policy, params, max_steps, observe, move, state, ij, done, window, position, mask, look, replaced):
    """Observe the unfinished alignments, let ``policy`` fill the actions, move; until all are done or ``max_steps``.

    The rollout loop of ``WarpingBatch.run_policy``: ``observe(state, outs, rows, cells, window, position, mask,
    look, q_values)`` writes the observation rows (as ``njit_observe``) and ``move(state, actions, rewards,
    replaced)`` moves every alignment (as ``njit_move``); ``ij`` and ``done`` are the alignments' cells and done
    flags inside ``state``. Returns whether every alignment is done. (``envs.corridor_batch`` has its own loop,
    compiled without reference counts.)
    """
    num = ij.shape[0]
    actions = np.zeros(num, dtype=np.int64)
    moves = np.zeros(num, dtype=np.int64)
    rewards = np.empty(num)
    no_values = np.empty((0, 3))
    active = np.empty(num, dtype=np.int64)
    cells = np.empty((num, 2), dtype=np.int64)
    for _ in range(max_steps):
        count = next_active(done, ij, mask, active, cells)
        if count == 0:
            return True
        rows = active[:count]
        observe(state, rows, rows, cells[:count], window, position, mask, look, no_values)
        policy(window, position, look, mask, params, actions)
        legal_actions(actions, moves)
        move(state, moves, rewards, replaced)
    return np.all(done)
