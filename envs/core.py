"""``WarpingBatch``: the NumPy state of N warping-path alignments stepped at once.

The single environment, the vector environment and ``agents.PolicyAligner``
all step through this class, so the observation has exactly one
implementation.

Grid and moves
--------------
Pair ``b`` aligns ``x`` (n rows, index ``i``) with ``y`` (m columns, index
``j``). An alignment starts in cell (0, 0) and ends in (n-1, m-1). Action 0
(``DIAGONAL``) enters (i+1, j+1), 1 (``DOWN``) enters (i+1, j), 2 (``RIGHT``)
enters (i, j+1). A move is legal iff the cell it enters lies in the grid and
in the Sakoe-Chiba band (``dtwrl.bands``). Every legal move keeps the end cell
reachable, because the band's rows are monotone and connected.

Memory layout and speed
-----------------------
At reset each pair's local costs are computed once (numba, with
``dtwrl.cost_matrix``'s own row kernel) into two padded slabs of shape ``(N, rows,
cols)``, ``rows >= n_max + k - 1`` and ``cols >= m_max + k - 1`` (``k`` the
window, at least one row and column of padding): the exact float64 costs and
an int8 flag "cell is enterable" (in the grid and the band). The same pass
computes the pair's scale and its exact DTW cost (``dtwrl.exact_dtw``'s DP
recurrence, run row by row as each row of costs is filled, while it is in L1;
bitwise the value ``dtwrl.dtw`` returns). The current cell of alignment ``b``
is one flat index ``pos[b] = b * rows * cols + i * cols + j``, so a step or an
observation is O(N k^2) gathers at ``pos + offset``. They run in compiled
numba kernels over the NumPy state arrays with no Python loop over alignments;
the vector environment steps and observes every alignment in one kernel call
per batch step and loads every pair of a reset in one more. Each kernel loops
over the alignments itself, never calling a compiled helper that takes arrays
once per alignment (numba reference-counts each array argument of such a call
with atomic operations, which cost more than a move), and prefetches the cells
an alignment is about to read a few alignments ahead (the slabs are far larger
than the caches, so those reads are mostly misses, and overlapping them
matters). Memory:
``(9 + 4 L) * N * rows * cols`` bytes (0.6 MB per alignment at n = m = 256 without lookahead, L its rows),
8 more per cell once
:meth:`WarpingBatch.expert_actions` has been called (the cost-to-go slab).
"""

import numbers
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numba import njit

from dtwrl.bands import band_bounds, check_band
from dtwrl.exact_dtw import cost_to_go
from dtwrl.local_cost import _metric_code, _njit_cost_row
from dtwrl.validation import as_series, check_metric, check_same_dim

from .observation import (
    DEFAULT_LOOKAHEAD,
    POSITION_FEATURES,
    POSITION_HIGH,
    POSITION_LOW,
    WINDOW_PAD,
    _njit_lookahead_feature,
    _njit_lookahead_q2,
    _njit_position,
    _njit_terminal_values,
    check_lookahead,
    is_corridor,
    lookahead_arrays,
    observation_spec,
)
from .prefetch import PREFETCH_AHEAD, prefetch

__all__ = [
    "DIAGONAL",
    "DOWN",
    "RIGHT",
    "MOVES",
    "POSITION_FEATURES",
    "POSITION_HIGH",
    "POSITION_LOW",
    "WINDOW_PAD",
    "WarpingBatch",
]

#: Action ids.
DIAGONAL, DOWN, RIGHT = 0, 1, 2
#: ``MOVES[a]`` is the (di, dj) step of action ``a``.
MOVES = np.array([[1, 1], [1, 0], [0, 1]], dtype=np.int64)
_MOVES = MOVES.copy()  # the kernels' private copy
# Replacement order for an illegal action: the action itself, then the legal
# move closest in direction (down and right are 45 degrees from the diagonal
# and 90 degrees from each other).
_PREFERENCE = np.array([[DIAGONAL, DOWN, RIGHT], [DOWN, DIAGONAL, RIGHT], [RIGHT, DIAGONAL, DOWN]])


@lru_cache(maxsize=4096)
def _band_rows(n, m, band):
    """Validated band bounds (lo, hi) of an n-by-m grid, cached: pair lengths repeat."""
    check_band(n, m, band, "band")
    return band_bounds(n, m, band)


@njit(cache=True)
def _njit_costs_and_dtw(x, y, code, lo, hi, out):
    """Fill ``out[:n, :m]`` with the local costs; return (their sum over the band, the exact DTW cost).

    One pass over the rows: each row's costs come from ``dtwrl.cost_matrix``'s
    own row kernel (bitwise the same values), then one loop over its band cells
    carries both the running sum (row-major order, as a plain sum over the band
    would) and ``dtwrl.exact_dtw``'s DP recurrence ``R[i, j] = min(R[i-1, j-1],
    R[i-1, j], R[i, j-1]) + C[i, j]`` on two rolling rows. The two dependency
    chains are independent, so they overlap, and the row is read while it is in
    L1. Each value is computed by the same operations in the same order as
    ``_njit_dtw_value`` over the matrix, so the cost is bitwise the same.
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
    for i in range(1, n):
        prev, cur = cur, prev
        row = out[i]
        _njit_cost_row(x, y, i, 0, m, code, row)
        cur[lo[i]] = np.inf  # column lo[i] - 1, read as the next row's diagonal: stale from row i - 2
        left = np.inf  # R[i, j - 1], kept in a register
        for j in range(lo[i], hi[i] + 1):
            c = row[j]
            total += c
            best = prev[j]
            if prev[j + 1] < best:
                best = prev[j + 1]
            if left < best:
                best = left
            left = best + c
            cur[j + 1] = left
    return total, cur[m]


@njit(cache=True)
def _njit_first_nonfinite(xs, ys, meta):
    """``2 k + side`` for the first pair k whose x (side 0) or y (side 1) holds a NaN or inf, or -1."""
    for k in range(meta.shape[0]):
        for t in range(meta[k, 5], meta[k, 5] + meta[k, 0]):
            if not np.isfinite(xs[t]):
                return 2 * k
        for t in range(meta[k, 6], meta[k, 6] + meta[k, 1]):
            if not np.isfinite(ys[t]):
                return 2 * k + 1
    return -1


@njit(cache=True)
def _njit_load(
    indices,
    meta,
    xs,
    ys,
    lo,
    hi,
    code,
    band,
    pair_scaled,
    reward_scale,
    raw,
    allowed,
    lengths,
    band_den,
    scale,
    factor,
    dtw_cost,
    ij,
    pos,
    end,
    base,
    paths,
    length,
    pending,
    path_costs,
    done,
    replaced,
    terminal,
    scales,
):
    """Start alignment ``indices[k]`` on pair ``k`` for every k; return the first k whose local costs overflow, or -1.

    Pair k is ``x = xs[a:a + meta[k, 0]]`` (``a = meta[k, 5]``) and ``y = ys[c:c + meta[k, 1]]``
    (``c = meta[k, 6]``), flat, ``meta[k, 4]`` features, with band rows ``lo``/``hi[r:r + meta[k, 2]]``
    (``r = meta[k, 7]``; see ``_pack_pairs``).
    For each pair: fills the padded slabs ``raw[b]`` (``C[i, j]`` inside the grid) and ``allowed[b]`` (1 on
    band cells, 0 elsewhere), computes the scale (mean local cost over the band cells, 1 if that mean is 0),
    the exact DTW cost and the terminal values ``H`` of every lookahead scale, and puts the alignment in cell
    (0, 0). One call for every pair of a reset: no Python per pair.
    """
    cols = raw.shape[2]
    for k in range(indices.shape[0]):
        b = indices[k]
        n, m, d = meta[k, 2], meta[k, 3], meta[k, 4]
        x = xs[meta[k, 5] : meta[k, 5] + n * d].reshape(n, d)
        y = ys[meta[k, 6] : meta[k, 6] + m * d].reshape(m, d)
        lo_k = lo[meta[k, 7] : meta[k, 7] + n]
        hi_k = hi[meta[k, 7] : meta[k, 7] + n]
        total, value = _njit_costs_and_dtw(x, y, code, lo_k, hi_k, raw[b])  # raw outside the grid is never read
        if lengths[b, 0] != n or lengths[b, 1] != m:  # else allowed[b] already holds this grid and band
            allowed[b] = 0
            for i in range(n):
                allowed[b, i, lo_k[i] : hi_k[i] + 1] = 1
        count = 0
        for i in range(n):
            count += hi_k[i] - lo_k[i] + 1
        s = total / count
        if not np.isfinite(s):
            return k
        if s == 0.0:
            s = 1.0  # every band cost is 0: any positive scale maps them to 0
        scale[b] = s
        factor[b] = 1.0 / s if pair_scaled else reward_scale
        dtw_cost[b] = value
        lengths[b, 0], lengths[b, 1] = n, m
        r = max(n, m) - 1 if band < 0 else band
        band_den[b] = r * (min(n, m) - 1)
        ij[b, 0], ij[b, 1] = 0, 0
        pos[b] = base[b]
        end[b] = base[b] + (n - 1) * cols + m - 1
        paths[b, 0, 0], paths[b, 0, 1] = 0, 0
        length[b] = 1
        pending[b] = raw[b, 0, 0]
        path_costs[b] = 0.0
        done[b] = False
        replaced[b] = False
        for t in range(scales.shape[0]):
            _njit_terminal_values(raw[b], allowed[b], n, m, scales[t], terminal[t, b])
    return -1


@njit(cache=True)
def _njit_first_bad(actions):
    """Index of the first action outside 0..2, or -1."""
    for b in range(actions.shape[0]):
        if actions[b] < 0 or actions[b] > 2:
            return b
    return -1


@njit(cache=True)
def _njit_move(
    actions, ij, pos, end, cols, pending, path_costs, length, paths, raw, allowed, factor, done, rewards, replaced
):
    """Move every alignment ``b`` by action ``actions[b]`` (0..2; see WarpingBatch.step).

    A finished alignment stays and earns 0. The loop over alignments is inside:
    numba reference-counts every array argument of a call (two atomic
    operations each), which a call per alignment would pay every step.
    """
    num = pos.shape[0]
    for b in range(num):
        if b + PREFETCH_AHEAD < num:  # the cells a later alignment's move reads: many misses in flight, not one
            q = pos[b + PREFETCH_AHEAD]
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
        if allowed[p + _MOVES[a, 0] * cols + _MOVES[a, 1]] == 0:
            replaced[b] = True
            for c in range(1, 3):
                alt = _PREFERENCE[a, c]
                if allowed[p + _MOVES[alt, 0] * cols + _MOVES[alt, 1]] == 1:
                    a = alt
                    break
        ij[b, 0] += _MOVES[a, 0]
        ij[b, 1] += _MOVES[a, 1]
        p += _MOVES[a, 0] * cols + _MOVES[a, 1]
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
def _njit_step(
    actions, ij, pos, end, cols, pending, path_costs, length, paths, raw, allowed, factor, done, rewards, replaced
):
    """Advance every unfinished alignment by one cell; return the index of a bad action (nothing moved) or -1."""
    bad = _njit_first_bad(actions)
    if bad < 0:
        _njit_move(
            actions,
            ij,
            pos,
            end,
            cols,
            pending,
            path_costs,
            length,
            paths,
            raw,
            allowed,
            factor,
            done,
            rewards,
            replaced,
        )
    return bad


@njit(cache=True)
def _njit_step_observe(
    actions,
    ij,
    pos,
    end,
    cols,
    pending,
    path_costs,
    length,
    paths,
    raw,
    allowed,
    factor,
    done,
    rewards,
    replaced,
    skip,
    lengths,
    band_den,
    scale,
    window,
    position,
    mask,
    terminal,
    base,
    depths,
    banded,
    look,
):
    """``_njit_step``, then the observation of every alignment ``b`` with ``skip[b] == 0``, in one call."""
    bad = _njit_first_bad(actions)
    if bad >= 0:
        return bad
    _njit_move(
        actions, ij, pos, end, cols, pending, path_costs, length, paths, raw, allowed, factor, done, rewards, replaced
    )
    rows, cells = _njit_active(skip, ij)
    _njit_observe(
        rows,
        rows,
        cells,
        banded,
        base,
        lengths,
        band_den,
        cols,
        raw,
        allowed,
        scale,
        window,
        position,
        mask,
        terminal,
        depths,
        look,
        np.empty((0, 3)),
    )
    return -1


@njit(cache=True)
def _njit_active(skip, ij):
    """The alignments with ``skip == 0`` (int64, in order) and their current cells (int64 (T, 2))."""
    count = 0
    for b in range(skip.shape[0]):
        count += skip[b] == 0
    rows = np.empty(count, dtype=np.int64)
    cells = np.empty((count, 2), dtype=np.int64)
    count = 0
    for b in range(skip.shape[0]):
        if skip[b] == 0:
            rows[count] = b
            cells[count, 0], cells[count, 1] = ij[b, 0], ij[b, 1]
            count += 1
    return rows, cells


@njit(cache=True)
def _njit_observe(
    outs,
    rows,
    cells,
    banded,
    base,
    lengths,
    band_den,
    cols,
    raw,
    allowed,
    scale,
    window,
    position,
    mask,
    terminal,
    depths,
    look,
    q_first,
):
    """Write into row ``outs[t]`` of the observation arrays the observation of alignment ``rows[t]`` at ``cells[t]``.

    ``q_first[t]`` (when it has rows) receives the raw move values of the
    first lookahead row (see WarpingBatch.observe_cells). Every query runs in this
    one call (no per-query call of a function taking arrays: numba
    reference-counts each array argument), the lookahead first (its blocks
    hold the window), then the window, mask and position features; the cells
    of the query ``PREFETCH_AHEAD`` further on are prefetched. ``banded``
    False promises that every grid cell is enterable (no band): the lookahead
    then reads no ``allowed`` flag (the window and mask still do).
    """
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
                prefetch(allowed, q)
                prefetch(allowed, q + k - 1)
                q += cols
        o, b = outs[t], rows[t]
        i, j = cells[t, 0], cells[t, 1]
        p = base[b] + i * cols + j
        s = scale[b]
        for r in range(k):
            q = p + r * cols
            for c in range(k):
                if allowed[q + c] == 1:
                    v = raw[q + c]
                    window[o, r, c] = v / (v + s)
                else:
                    window[o, r, c] = WINDOW_PAD
        for a in range(3):
            mask[o, a] = allowed[p + _MOVES[a, 0] * cols + _MOVES[a, 1]]
        _njit_position(position, o, i, j, lengths[b, 0] - 1, lengths[b, 1] - 1, band_den[b])


@njit
def _njit_run(
    policy,
    params,
    max_steps,
    ij,
    pos,
    end,
    cols,
    pending,
    path_costs,
    length,
    paths,
    raw,
    allowed,
    factor,
    done,
    replaced,
    lengths,
    band_den,
    scale,
    window,
    position,
    mask,
    terminal,
    base,
    depths,
    banded,
    look,
):
    """Observe every alignment, let ``policy`` fill the actions, move; until all are done or ``max_steps``."""
    num = pos.shape[0]
    actions = np.zeros(num, dtype=np.int64)
    moves = np.zeros(num, dtype=np.int64)
    rewards = np.empty(num)
    no_values = np.empty((0, 3))
    for _ in range(max_steps):
        rows, cells = _njit_active(done.view(np.uint8), ij)
        if rows.shape[0] == 0:
            return True
        for b in range(num):
            if done[b]:
                mask[b, 0], mask[b, 1], mask[b, 2] = 0, 0, 0
        _njit_observe(
            rows,
            rows,
            cells,
            banded,
            base,
            lengths,
            band_den,
            cols,
            raw,
            allowed,
            scale,
            window,
            position,
            mask,
            terminal,
            depths,
            look,
            no_values,
        )
        policy(window, position, look, mask, params, actions)
        for b in range(num):
            a = actions[b]
            moves[b] = 0 if a < 0 or a > 2 else a
        _njit_move(
            moves, ij, pos, end, cols, pending, path_costs, length, paths, raw, allowed, factor, done, rewards, replaced
        )
    for b in range(num):  # noqa: SIM110 (numba compiles this loop; all() over a generator it does not)
        if not done[b]:
            return False
    return True


def _check_window(window):
    if isinstance(window, (bool, np.bool_)) or not isinstance(window, numbers.Integral):
        raise TypeError(f"window must be an int >= 1; got {window!r}")
    if window < 1:
        raise ValueError(f"window must be an int >= 1; got {window}")
    return int(window)


def _check_reward_scale(reward_scale):
    if isinstance(reward_scale, str):
        if reward_scale != "pair":
            raise ValueError(f"reward_scale must be a positive number or 'pair'; got {reward_scale!r}")
        return reward_scale
    if isinstance(reward_scale, (bool, np.bool_)) or not isinstance(reward_scale, numbers.Real):
        raise TypeError(f"reward_scale must be a positive number or 'pair'; got {reward_scale!r}")
    value = float(reward_scale)
    if not np.isfinite(value) or value <= 0.0:
        raise ValueError(f"reward_scale must be a finite number > 0 or 'pair'; got {value}")
    return value


_FLOAT64 = np.dtype(np.float64)


def _is_plain_series(x):
    """True for what pair sources return: a C-contiguous float64 ``numpy.ndarray`` (n, d), n, d >= 1.

    ``dtwrl.validation.as_series`` returns such an array as it is once it is
    known to be finite (``_pack_pairs`` checks that for all pairs at once).
    """
    return (
        type(x) is np.ndarray
        and x.dtype is _FLOAT64  # builtin dtypes are singletons; any other float64 dtype takes the slow path
        and x.ndim == 2
        and x.shape[0] > 0
        and x.shape[1] > 0
        and x.flags.c_contiguous
    )


def _stacked(arrays):
    """The arrays concatenated along their first axis (the array itself when there is one)."""
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


class _Packed(NamedTuple):
    """Validated pairs, packed for ``_njit_load``: the series, per-pair sizes and offsets, flat values, band rows."""

    series: list  # [(x, y)], (n, d) and (m, d) float64
    meta: np.ndarray  # int64 (P, 8): x.size, y.size, n, m, d, and the offsets of pair k in xs, ys and lo/hi
    xs: np.ndarray  # float64, every x flattened, one after the other
    ys: np.ndarray
    lo: np.ndarray  # int64, every pair's band rows, one after the other
    hi: np.ndarray


def _pack_pairs(pairs, band):
    """Validate ``[(x, y), ...]`` (errors name ``pairs[k]``) and pack them for ``_njit_load``."""
    if not isinstance(pairs, (list, tuple)) or len(pairs) == 0:
        raise ValueError(f"pairs must be a non-empty list of (x, y) pairs; got {type(pairs).__name__}")
    series, slow = [], False
    for k, pair in enumerate(pairs):
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise ValueError(f"pairs[{k}] must be an (x, y) pair of series")
        x, y = pair
        if not (_is_plain_series(x) and _is_plain_series(y) and x.shape[1] == y.shape[1]):
            x = as_series(x, f"pairs[{k}][0]")
            y = as_series(y, f"pairs[{k}][1]")
            check_same_dim(x, y, (f"pairs[{k}][0]", f"pairs[{k}][1]"))
            slow = True
        if len(x) == 1 and len(y) == 1:
            raise ValueError(f"pairs[{k}] has two series of length 1: the alignment has no move to make")
        series.append((x, y))
    rows, x_at, y_at, row_at = [], 0, 0, 0
    for x, y in series:  # sizes and offsets in Python ints: a few pairs per call, cheaper than array calls
        rows.append((x.size, y.size, len(x), len(y), x.shape[1], x_at, y_at, row_at))
        x_at, y_at, row_at = x_at + x.size, y_at + y.size, row_at + len(x)
    meta = np.array(rows, dtype=np.int64)
    xs = _stacked([x.reshape(-1) for x, _ in series])
    ys = _stacked([y.reshape(-1) for _, y in series])
    if not slow:  # the fast path skipped as_series' finiteness check: one pass over all values instead
        bad = _njit_first_nonfinite(xs, ys, meta)
        if bad >= 0:
            k, side = divmod(bad, 2)
            as_series(series[k][side], f"pairs[{k}][{side}]")  # raises, naming the argument
    rows = [_band_rows(len(x), len(y), band) for x, y in series]  # (lo, hi) of each pair
    return _Packed(series, meta, xs, ys, _stacked([r[0] for r in rows]), _stacked([r[1] for r in rows]))


class WarpingBatch:
    """N warping-path alignments, stepped at once.

    Parameters
    ----------
    window : int >= 1
        Side ``k`` of the observed window of local costs.
    metric : {"sqeuclidean", "euclidean", "abs"}
        Local cost between frames (see ``dtwrl.cost_matrix``).
    band : int >= 0 or None
        Sakoe-Chiba half-width (see ``dtwrl.bands``); moves leaving it are masked.
    reward_scale : float > 0 or "pair"
        Rewards are ``-reward_scale * c`` for a float, ``-c / s`` for ``"pair"``
        (``s`` the pair's scale, see Notes). :attr:`path_costs` is unscaled.
    lookahead : sequence of (int, int)
        ``(scale, depth)`` rows of the ``"lookahead"`` observation key
        (``envs.observation``); () leaves the key out (the window-only observation).
        ``((CORRIDOR, r),)`` (``envs.observation.corridor_lookahead``) selects the
        linear corridor observation: the constructor then returns an
        ``envs.corridor_batch.CorridorBatch``, with the same methods, that never
        builds an n x m array.

    Attributes
    ----------
    num : int
        Number of alignments N (set by :meth:`reset`).
    done : numpy.ndarray of bool, shape (N,)
        True once an alignment has entered its end cell.
    path_costs : numpy.ndarray of float64, shape (N,)
        Exact cost of each path so far (start cell included after the first step).
    replaced : numpy.ndarray of bool, shape (N,)
        Which actions of the last :meth:`step` were illegal and replaced.

    Notes
    -----
    Observation, per alignment at cell (i, j) of an n-by-m grid:

    - ``"window"`` float32 (k, k): ``window[a, b]`` describes cell
      ``(i + a, j + b)``, so rows run along x (down) and columns along y
      (right); ``window[0, 0]`` is the current cell, ``window[1, 1]``,
      ``window[1, 0]`` and ``window[0, 1]`` are the cells actions 0, 1, 2
      enter. The value is ``c / (c + s)`` in [0, 1), with ``c`` the local
      cost and ``s`` the pair's scale: the mean local cost over the band's
      cells (1 if that mean is 0). This is invariant to the scale of the data,
      bounded, and resolves costs near the typical cost best. Cells beyond the
      grid or outside the band read ``WINDOW_PAD = 1.0``, the value of an
      infinitely expensive cell.
    - ``"position"`` float32 (6,), see ``POSITION_FEATURES``:
      ``row_progress = i / (n-1)`` and ``col_progress = j / (m-1)`` (1 when
      the length is 1); ``diagonal_offset = col_progress - row_progress`` in
      [-1, 1], positive right of the scaled diagonal;
      ``band_offset = (j (n-1) - i (m-1)) / (r min(n-1, m-1))`` in [-1, 1],
      where the band edges are -1 and 1 (``r = max(n, m) - 1``, the band that
      allows every cell, when ``band`` is None; 0 when the denominator is 0);
      ``remaining = ((n-1-i) + (m-1-j)) / (n + m - 2)``, the fraction of the
      unit moves left; ``row_share = (n-1-i) / ((n-1-i) + (m-1-j))``, the
      share of them that must go down (0.5 at the end cell).
    - ``"lookahead"`` float32 (L, 3), when ``lookahead`` is not empty: per move,
      the scale-free model-predictive estimate of ``envs.observation`` (0 for the
      move whose best completion is estimated cheapest). The coarse cost-to-go
      it reads is computed at reset (O(n m)).
    - ``"action_mask"`` int8 (3,): 1 where the action's cell is enterable; all
      0 at the end cell.

    Reward for entering cell (i, j) is ``-C[i, j]`` (scaled, see
    ``reward_scale``); the first step also pays for the start cell, so the
    undiscounted return is minus the path cost exactly.

    Examples
    --------
    >>> batch = WarpingBatch(window=3, lookahead=())
    >>> batch.reset([([0.0, 1.0, 2.0], [0.0, 2.0]), ([0.0, 1.0], [1.0, 1.0, 0.0])])
    >>> obs = batch.observation()
    >>> obs["window"].shape, obs["position"].shape, obs["action_mask"].tolist()
    ((2, 3, 3), (2, 6), [[1, 1, 1], [1, 1, 1]])
    >>> batch.step([DOWN, RIGHT]).tolist()     # enter (1, 0) and (0, 1); start cells paid too
    [-1.0, -2.0]
    >>> while not batch.done.all():
    ...     _ = batch.step(batch.expert_actions())
    >>> batch.path_costs.tolist(), batch.dtw_costs().tolist()   # the detour cost 1 more on pair 2
    ([1.0, 3.0], [1.0, 2.0])
    """

    def __new__(cls, window=7, metric="sqeuclidean", band=None, reward_scale=1.0, lookahead=DEFAULT_LOOKAHEAD):
        """A ``envs.corridor_batch.CorridorBatch`` when ``lookahead`` selects the corridor observation."""
        if cls is WarpingBatch and is_corridor(check_lookahead(lookahead)):
            from .corridor_batch import CorridorBatch

            return CorridorBatch(
                window=window, metric=metric, band=band, reward_scale=reward_scale, lookahead=lookahead
            )
        return super().__new__(cls)

    def __init__(self, window=7, metric="sqeuclidean", band=None, reward_scale=1.0, lookahead=DEFAULT_LOOKAHEAD):
        self.window = _check_window(window)
        self.lookahead = check_lookahead(lookahead)
        self._spec = observation_spec(self.window, self.lookahead)  # built once: every step allocates from it
        self._scales, self._depths = lookahead_arrays(self.lookahead)
        self._no_lookahead = np.empty((0, 0, 3), dtype=np.float32)  # the kernels' "lookahead" without one
        self.metric = check_metric(metric)
        self.band = check_band(1, 1, band)  # type and sign; the size check happens per pair
        self.reward_scale = _check_reward_scale(reward_scale)
        self._code = _metric_code(self.metric)
        self.num = 0
        self._rows = self._cols = 0

    # ------------------------------------------------------------------ reset
    def reset(self, pairs, indices=None):
        """Start new alignments.

        Parameters
        ----------
        pairs : list of (x, y)
            Series of shapes (n,) or (n, d) and (m,) or (m, d), same d.
        indices : array_like of int or None
            None: the batch becomes ``len(pairs)`` fresh alignments. Otherwise
            the distinct alignments ``indices`` restart with ``pairs`` (same
            length) and the others keep their state.

        Raises
        ------
        ValueError
            Bad series (wrong rank, empty, NaN or inf, different d), a pair of
            two length-1 series, a band too narrow for a pair, bad indices.
        """
        packed = _pack_pairs(pairs, self.band)
        count = len(packed.series)
        pad = max(self.window - 1, 1)
        rows = int(packed.meta[:, 2].max()) + pad
        cols = int(packed.meta[:, 3].max()) + pad
        if indices is None:
            if count == self.num:
                rows, cols = max(rows, self._rows), max(cols, self._cols)
            self._allocate(count, rows, cols)
            indices = np.arange(count)
        else:
            indices = self._check_indices(indices, count)
            if rows > self._rows or cols > self._cols:
                self._grow(max(rows, self._rows), max(cols, self._cols))
        self._load(packed, indices)

    def _check_indices(self, indices, count):
        if self.num == 0:
            raise ValueError("indices can only be given after a first reset(pairs) of the whole batch")
        idx = np.asarray(indices)
        if idx.dtype.kind not in "iu" or idx.ndim != 1:
            raise ValueError(f"indices must be a 1-D array of ints; got {idx!r}")
        idx = idx.tolist()
        if len(idx) != count:
            raise ValueError(f"indices must have one entry per pair: got {len(idx)} indices for {count} pairs")
        if min(idx) < 0 or max(idx) >= self.num or len(set(idx)) != len(idx):
            raise ValueError(f"indices must be distinct and lie in [0, {self.num}); got {idx}")
        return np.array(idx, dtype=np.int64)

    def _allocate(self, num, rows, cols):
        """Fresh state for ``num`` alignments; the slabs are reused when their shape is unchanged."""
        if (num, rows, cols) != (self.num, self._rows, self._cols):
            self._raw = np.zeros((num, rows, cols))
            self._allowed = np.zeros((num, rows, cols), dtype=np.int8)
            self._paths = np.zeros((num, rows + cols, 2), dtype=np.int64)
            self._terminal = np.zeros((len(self._depths), num, rows, cols), dtype=np.float32)
        self.num, self._rows, self._cols = num, rows, cols
        self._series = [None] * num
        self._ctg = None
        self._ctg_ready = np.zeros(num, dtype=bool)
        self._dtw = np.zeros(num)
        self._scale = np.ones(num)
        self._factor = np.ones(num)
        self._lengths = np.ones((num, 2), dtype=np.int64)  # (n, m)
        self._band_den = np.zeros(num, dtype=np.int64)
        self._ij = np.zeros((num, 2), dtype=np.int64)
        self._end = np.zeros(num, dtype=np.int64)
        self._pending = np.zeros(num)
        self._length = np.ones(num, dtype=np.int64)
        self.path_costs = np.zeros(num)
        self.done = np.zeros(num, dtype=bool)
        self.replaced = np.zeros(num, dtype=bool)
        self._flatten()

    def _grow(self, rows, cols):
        """Enlarge the slabs, keeping every alignment's state."""
        old_rows, old_cols = self._rows, self._cols
        raw, allowed, paths = self._raw, self._allowed, self._paths
        self._raw = np.zeros((self.num, rows, cols))
        self._allowed = np.zeros((self.num, rows, cols), dtype=np.int8)
        self._paths = np.zeros((self.num, rows + cols, 2), dtype=np.int64)
        self._raw[:, :old_rows, :old_cols] = raw
        self._allowed[:, :old_rows, :old_cols] = allowed
        self._paths[:, : old_rows + old_cols] = paths
        self._terminal = np.zeros((len(self._depths), self.num, rows, cols), dtype=np.float32)
        self._rows, self._cols = rows, cols
        for b in range(self.num):
            if self._series[b] is not None:
                self._load_terminal(b)
        self._ctg = None
        self._ctg_ready[:] = False
        self._flatten()

    def _load_terminal(self, b):
        """Fill alignment ``b``'s terminal values ``H`` of every lookahead row (envs.observation)."""
        n, m = self._lengths[b]
        for t, s in enumerate(self._scales.tolist()):
            _njit_terminal_values(self._raw[b], self._allowed[b], n, m, s, self._terminal[t, b])

    def _flatten(self):
        """Flat views of the slabs, the flat current and end cells, after the layout changed."""
        self._flat_raw = self._raw.reshape(-1)
        self._flat_terminal = self._terminal.reshape(len(self._depths), self.num * self._rows * self._cols)
        self._flat_allowed = self._allowed.reshape(-1)
        self._base = np.arange(self.num, dtype=np.int64) * (self._rows * self._cols)
        self._pos = self._base + self._ij[:, 0] * self._cols + self._ij[:, 1]
        self._end = self._base + (self._lengths[:, 0] - 1) * self._cols + self._lengths[:, 1] - 1

    def _load(self, packed, indices):
        """Start the alignments ``indices`` (int64) on the ``_pack_pairs`` pairs, in one kernel call."""
        pair_scaled = self.reward_scale == "pair"
        bad = _njit_load(
            indices,
            packed.meta,
            packed.xs,
            packed.ys,
            packed.lo,
            packed.hi,
            self._code,
            -1 if self.band is None else self.band,
            pair_scaled,
            1.0 if pair_scaled else self.reward_scale,
            self._raw,
            self._allowed,
            self._lengths,
            self._band_den,
            self._scale,
            self._factor,
            self._dtw,
            self._ij,
            self._pos,
            self._end,
            self._base,
            self._paths,
            self._length,
            self._pending,
            self.path_costs,
            self.done,
            self.replaced,
            self._terminal,
            self._scales,
        )
        loaded = len(packed.series) if bad < 0 else bad
        for b, pair in zip(indices[:loaded].tolist(), packed.series):
            self._series[b] = pair
        self._ctg_ready[indices[:loaded]] = False
        if bad >= 0:
            raise ValueError(f"pairs[{bad}]: the local costs overflow float64; rescale the series")

    # ------------------------------------------------------------------- step
    def step(self, actions):
        """Move every unfinished alignment by one cell.

        Parameters
        ----------
        actions : array_like of int, shape (N,)
            0 diagonal, 1 down, 2 right. An illegal action is replaced by the
            legal move closest in direction (diagonal, down, right for 0; down,
            diagonal, right for 1; right, diagonal, down for 2) and flagged in
            :attr:`replaced`; finished alignments ignore theirs.

        Returns
        -------
        numpy.ndarray of float64, shape (N,)
            ``-C[cell entered]`` (plus ``-C[0, 0]`` on an alignment's first
            step) times the reward factor; 0 for finished alignments.
        """
        if self.num == 0:
            raise RuntimeError("call reset(pairs) before step(actions)")
        a = self._checked_actions(actions)
        rewards = np.empty(self.num)
        self.replaced = np.zeros(self.num, dtype=bool)
        bad = _njit_step(
            a,
            self._ij,
            self._pos,
            self._end,
            self._cols,
            self._pending,
            self.path_costs,
            self._length,
            self._paths,
            self._flat_raw,
            self._flat_allowed,
            self._factor,
            self.done,
            rewards,
            self.replaced,
        )
        if bad >= 0:
            raise ValueError(f"actions must be 0 (diagonal), 1 (down) or 2 (right); got actions[{bad}] = {a[bad]}")
        return rewards

    def _checked_actions(self, actions):
        a = np.asarray(actions)
        if a.shape != (self.num,) or a.dtype.kind not in "iu":
            raise ValueError(f"actions must be an int array of shape ({self.num},); got {a.dtype} {a.shape}")
        return a.astype(np.int64, copy=False)

    def _step_observe(self, actions, skip):
        """:meth:`step` then :meth:`observation`, in one kernel call (one pass over the alignments).

        Parameters
        ----------
        actions : array_like of int, shape (N,)
        skip : numpy.ndarray of bool, shape (N,)
            Alignments whose observation rows are left unwritten (uninitialised):
            the caller is about to reset them and fills their rows with
            :meth:`_observe_rows` afterwards.

        Returns
        -------
        rewards : numpy.ndarray of float64, shape (N,)
        observation : dict of fresh arrays, as :meth:`observation`
        """
        if self.num == 0:
            raise RuntimeError("call reset(pairs) before step(actions)")
        a = self._checked_actions(actions)
        rewards = np.empty(self.num)
        self.replaced = np.zeros(self.num, dtype=bool)
        obs = self._empty_observation()
        bad = _njit_step_observe(
            a,
            self._ij,
            self._pos,
            self._end,
            self._cols,
            self._pending,
            self.path_costs,
            self._length,
            self._paths,
            self._flat_raw,
            self._flat_allowed,
            self._factor,
            self.done,
            rewards,
            self.replaced,
            skip.view(np.uint8),
            self._lengths,
            self._band_den,
            self._scale,
            obs["window"],
            obs["position"],
            obs["action_mask"],
            *self._lookahead_args(obs),
        )
        if bad >= 0:
            raise ValueError(f"actions must be 0 (diagonal), 1 (down) or 2 (right); got actions[{bad}] = {a[bad]}")
        return rewards, obs

    # ------------------------------------------------------------ observation
    def observation(self):
        """The observation of every alignment (see the class Notes for the layout).

        Returns
        -------
        dict
            ``"window"`` float32 (N, k, k), ``"position"`` float32 (N, 6),
            ``"lookahead"`` float32 (N, L, 3) when L > 0, ``"action_mask"``
            int8 (N, 3); fresh arrays.
        """
        if self.num == 0:
            raise RuntimeError("call reset(pairs) before observation()")
        obs = self._empty_observation()
        rows = np.arange(self.num)
        self._observe_into(obs, rows, rows, self._ij)
        return obs

    def observation_spec(self):
        """``{key: (shape, dtype, low, high)}`` of one alignment's observation (``envs.observation``)."""
        return dict(self._spec)

    def _empty_observation(self):
        return {key: np.empty((self.num, *shape), dtype=dtype) for key, (shape, dtype, _, _) in self._spec.items()}

    def _lookahead_args(self, obs):
        look = obs.get("lookahead")
        if look is None:
            look = np.empty((self.num, 0, 3), dtype=np.float32)
        return self._flat_terminal, self._base, self._depths, self.band is not None, look

    def run_policy(self, policy, params):
        """Step every alignment to its end cell with a compiled policy, in one compiled loop (no Python per step).

        Parameters
        ----------
        policy : numba-compiled function
            ``policy(window, position, lookahead, action_mask, params, actions)``
            reads the batch's observation arrays (``lookahead`` is (N, 0, 3)
            without a lookahead; finished alignments have an all-0 mask) and
            writes one action per alignment into ``actions`` (int64 (N,)).
            An illegal action is replaced as in :meth:`step`; one outside 0..2 becomes 0.
        params : tuple
            Passed to ``policy`` unchanged (e.g. its weights).

        Raises
        ------
        RuntimeError
            If an alignment is not done after n + m steps (cannot happen with legal moves).
        """
        if self.num == 0:
            raise RuntimeError("call reset(pairs) before run_policy()")
        obs = self._empty_observation()
        self.replaced = np.zeros(self.num, dtype=bool)
        max_steps = int(self._lengths.sum(axis=1).max())
        ok = _njit_run(
            policy,
            params,
            max_steps,
            self._ij,
            self._pos,
            self._end,
            self._cols,
            self._pending,
            self.path_costs,
            self._length,
            self._paths,
            self._flat_raw,
            self._flat_allowed,
            self._factor,
            self.done,
            self.replaced,
            self._lengths,
            self._band_den,
            self._scale,
            obs["window"],
            obs["position"],
            obs["action_mask"],
            *self._lookahead_args(obs),
        )
        if not ok:
            raise RuntimeError("run_policy: an alignment did not reach its end cell within n + m steps")

    def observe_cells(self, rows, cells):
        """Observations of alignments at arbitrary cells of their grids (for search).

        Also the first lookahead row's raw values.

        Parameters
        ----------
        rows : array_like of int, shape (T,)
            Alignment of each query.
        cells : array_like of int, shape (T, 2)
            Cell (i, j) of each query, inside that alignment's grid.

        Returns
        -------
        observation : dict
            As :meth:`observation`, one row per query.
        values : numpy.ndarray of float64, shape (T, 3)
            :meth:`move_values` of lookahead row 0 (all +inf without a lookahead).
        """
        if self.num == 0:
            raise RuntimeError("call reset(pairs) before observe_cells()")
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        cells = np.ascontiguousarray(cells, dtype=np.int64).reshape(-1, 2)
        if len(rows) != len(cells) or (len(rows) and (rows.min() < 0 or rows.max() >= self.num)):
            raise ValueError("rows must index alignments and match cells in length")
        if len(rows) and (np.any(cells < 0) or np.any(cells >= self._lengths[rows])):
            raise ValueError("cells must lie inside their alignments' grids")
        obs = {key: np.empty((len(rows), *shape), dtype=dtype) for key, (shape, dtype, _, _) in self._spec.items()}
        values = np.full((len(rows), 3), np.inf)
        self._observe_into(obs, np.arange(len(rows)), rows, cells, values)
        return obs, values

    def move_values(self, rows, cells, row=0):
        """Lookahead move values in raw cost units at arbitrary cells (for search).

        Parameters
        ----------
        rows : array_like of int, shape (T,)
            Alignment of each query.
        cells : array_like of int, shape (T, 2)
            Cell (i, j) of each query, inside that alignment's grid.
        row : int
            Which ``lookahead`` row (scale, depth) to use.

        Returns
        -------
        numpy.ndarray of float64, shape (T, 3)
            ``Q[t, a]``: the estimated cost of the best path from ``cells[t]``
            that enters the cell of move ``a`` (that cell's cost included, the
            current cell's not); +inf for illegal moves.
        """
        if not self.lookahead:
            raise ValueError("move_values needs a batch built with a non-empty lookahead")
        if not 0 <= row < len(self.lookahead):
            raise ValueError(f"row must lie in [0, {len(self.lookahead)}); got {row}")
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        cells = np.ascontiguousarray(cells, dtype=np.int64).reshape(-1, 2)
        out = np.empty((len(rows), 3))
        terminal = self._flat_terminal[row]
        depth = int(self._depths[row])
        args = (self._flat_raw, self._flat_allowed, terminal, terminal, self._base, self._lengths, self._cols)
        _njit_lookahead_q2(*args, rows, cells, depth, self.band is not None, out, np.empty((len(rows), 3)))
        return out

    def _observe_rows(self, obs, rows):
        """Write the observation of the alignments ``rows`` (int64 array) into those rows of ``obs``."""
        self._observe_into(obs, rows, rows, self._ij[rows])

    def _observe_into(self, obs, outs, rows, cells, q_first=None):
        """Write into row ``outs[t]`` of ``obs`` the observation of alignment ``rows[t]`` at ``cells[t]`` (int64);
        ``q_first[t]``, if given, receives the raw move values of the first lookahead row."""
        _njit_observe(
            outs,
            rows,
            cells,
            self.band is not None,
            self._base,
            self._lengths,
            self._band_den,
            self._cols,
            self._flat_raw,
            self._flat_allowed,
            self._scale,
            obs["window"],
            obs["position"],
            obs["action_mask"],
            self._flat_terminal,
            self._depths,
            obs.get("lookahead", self._no_lookahead),
            np.empty((0, 3)) if q_first is None else q_first,
        )

    # ---------------------------------------------------------------- queries
    def expert_actions(self):
        """The optimal move from every current cell, on the optimal path or off it.

        The move enters the successor with the smallest cost-to-go
        ``G = dtwrl.exact_dtw.cost_to_go(C, band)`` (ties prefer diagonal, then
        down), so following it from any cell completes the cheapest path from
        that cell. ``G`` is computed once per pair, on first use.

        Returns
        -------
        numpy.ndarray of int64, shape (N,)
            0 for finished alignments.
        """
        if self.num == 0:
            raise RuntimeError("call reset(pairs) before expert_actions()")
        missing = np.flatnonzero(~self._ctg_ready)
        if missing.size:
            if self._ctg is None:
                self._ctg = np.full(self._raw.shape, np.inf)
            for b in missing.tolist():
                n, m = self._lengths[b]
                self._ctg[b] = np.inf  # clear what a longer previous pair left beyond this grid
                self._ctg[b, :n, :m] = cost_to_go(self._raw[b, :n, :m], self.band)
            self._ctg_ready[missing] = True
        offsets = MOVES[:, 0] * self._cols + MOVES[:, 1]
        ahead = self._ctg.reshape(-1)[self._pos[:, None] + offsets]
        return np.where(self.done, 0, np.argmin(ahead, axis=1))

    def dtw_costs(self, indices=None):
        """Exact DTW cost of each pair under the batch's metric and band (computed at reset).

        Parameters
        ----------
        indices : array_like of int or None
            Which alignments; None for all.

        Returns
        -------
        numpy.ndarray of float64
        """
        return self._dtw.copy() if indices is None else self._dtw[np.asarray(indices, dtype=np.int64)]

    def paths(self, indices=None):
        """The cells visited so far, start cell included.

        Parameters
        ----------
        indices : array_like of int or None
            Which alignments; None for all.

        Returns
        -------
        list of numpy.ndarray of int64, shape (L, 2)
        """
        idx = range(self.num) if indices is None else np.asarray(indices, dtype=np.int64).tolist()
        return [self._paths[b, : self._length[b]].copy() for b in idx]

    def cost_matrix(self, index):
        """The exact local-cost matrix (n, m) of alignment ``index`` (a copy)."""
        n, m = self._lengths[index]
        return self._raw[index, :n, :m].copy()

    def series(self, index):
        """The validated pair ``(x, y)``, shapes (n, d) and (m, d), of alignment ``index``."""
        return self._series[index]

    @property
    def positions(self):
        """int64 (N, 2): the current cell (i, j) of every alignment (a copy)."""
        return self._ij.copy()

    @property
    def lengths(self):
        """int64 (N, 2): (n, m) of every pair (a copy)."""
        return self._lengths.copy()

    @property
    def scales(self):
        """float64 (N,): each pair's scale ``s``, the mean local cost over its band cells (a copy)."""
        return self._scale.copy()

    @property
    def reward_factors(self):
        """float64 (N,): the factor applied to ``-C`` in the rewards (a copy)."""
        return self._factor.copy()
