"""The exact cost-to-go inside a corridor around a multiresolution path: O((n + m) w) cells, no n x m array.

The corridor observation (``envs.observation``, a lookahead row ``(CORRIDOR,
r)``) reads the values this module computes once per pair:

1. A pyramid of mean-pooled series: a series longer than ``coarsest`` is
   pooled by 2 (pairs of frames averaged, an odd last frame kept alone), level
   after level, until both are at most ``coarsest`` long.
2. At the coarsest level, the exact DP over the whole (at most
   ``coarsest x coarsest``) grid.
3. Level by level towards the original series, as FastDTW does: the optimal
   path of the coarser level is projected (a coarse cell covers the 2 x 2,
   2 x 1 or 1 x 2 fine cells it pooled) and widened by ``radius`` cells in
   every direction; the rows' column ranges ``[lo[i], hi[i]]`` are made
   monotone, so every corridor cell reaches the end cell inside the corridor.
   Unlike FastDTW, the DP inside each corridor runs *backward*: it gives the
   cost-to-go ``G[i, j] = C[i, j] + min(G[i+1, j+1], G[i+1, j], G[i, j+1])``
   (``G[n-1, m-1] = C[n-1, m-1]``, +inf outside the corridor) of every corridor
   cell, and the next level's path follows its argmin from (0, 0).
   Under ``"sqeuclidean"`` this runs twice: with FastDTW's cost of the pooled
   means, and with the mean of the fine costs a pooled cell stands for (the
   pooled means' cost plus both frames' spreads, their summed variances; see
   :func:`_njit_pool`). Each alone loses on some real recordings (tiled
   ElectricDevices, ECG pairs) where the other holds the path; the finest
   level keeps the projected corridor that holds the cheaper path (found by a
   forward DP in O(m) memory, so only one corridor's values are ever held;
   their union, one range per row, would fill in every cell between two
   diverging paths: no longer linear).
4. With a Sakoe-Chiba band, the finest corridor is cut to the band; when the
   cut leaves (0, 0) without a path to the end, the radius doubles until it
   does (at worst the corridor is the band).

Each level touches its corridor's cells once; the corridor's width is about
``2 (radius + 1)`` cells around the path, so a pair costs O((n + m) radius)
time and memory (plus O(coarsest^2) at the top), never an n x m array.

>>> x = np.sin(np.linspace(0, 6, 50))[:, None]
>>> c = build_corridor(x, x[::2], "sqeuclidean", radius=2, coarsest=8)
>>> c.lo[0], c.hi[-1], bool(c.cells < 50 * 25)
(0, 24, True)
>>> float(c.value(0, 0)) == 0.0 or float(c.value(0, 0)) > 0
True
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from dtwrl.bands import band_bounds, check_band
from dtwrl.exact_dtw import _njit_dtw_value
from dtwrl.local_cost import _metric_code, _njit_cost_row

#: Default length below which a series is no longer pooled (the coarsest level's exact DP is <= COARSEST^2 cells).
COARSEST = 128


class Corridor(NamedTuple):
    """The finest level's corridor of one pair and its exact cost-to-go.

    Attributes
    ----------
    lo, hi : numpy.ndarray of int64, shape (n,)
        Row ``i`` of the corridor holds columns ``lo[i] <= j <= hi[i]``; both nondecreasing.
    offsets : numpy.ndarray of int64, shape (n + 1,)
        ``G[i, j]`` is ``values[offsets[i] + j - lo[i]]``.
    values : numpy.ndarray of float64, shape (offsets[-1],)
        The cost-to-go restricted to the corridor (and band); +inf where no path inside them reaches the end.
    radius : int
        The radius the corridor was built with (doubled from the one asked where a band required it).
    """

    lo: np.ndarray
    hi: np.ndarray
    offsets: np.ndarray
    values: np.ndarray
    radius: int

    @property
    def cells(self):
        """Number of corridor cells (what the finest DP touched)."""
        return int(self.offsets[-1])

    def value(self, i, j):
        """``G[i, j]``: +inf outside the corridor."""
        if self.lo[i] <= j <= self.hi[i]:
            return self.values[self.offsets[i] + j - self.lo[i]]
        return np.inf


@njit(cache=True)
def _njit_pool(x, spread):
    """Frames (2t, 2t+1) merged for each t (an odd last frame kept alone): (means (ceil(n/2), d), spreads).

    ``spread[t]`` is the summed per-feature variance of the fine frames a merged frame stands for; with equal
    halves, the merged spread is the mean of the halves' spreads plus ``|mean_a - mean_b|^2 / 4``.
    """
    n, d = x.shape
    out = np.empty(((n + 1) // 2, d))
    merged = np.empty((n + 1) // 2)
    for t in range(n // 2):
        gap = 0.0
        for k in range(d):
            out[t, k] = 0.5 * (x[2 * t, k] + x[2 * t + 1, k])
            diff = x[2 * t, k] - x[2 * t + 1, k]
            gap += diff * diff
        merged[t] = 0.5 * (spread[2 * t] + spread[2 * t + 1]) + 0.25 * gap
    if n % 2:
        out[n // 2] = x[n - 1]
        merged[n // 2] = spread[n - 1]
    return out, merged


@njit(cache=True)
def _njit_corridor_dp(x, y, code, lo, hi, sx, sy):
    """Backward DP inside the corridor rows ``[lo[i], hi[i]]``; returns (offsets, values).

    ``lo`` and ``hi`` must be nondecreasing (every corridor here is; a band is applied by cutting them to it first).
    Empty rows (``lo > hi``) hold no cell. Local costs are ``dtwrl.cost_matrix``'s row kernel's values (bitwise),
    plus ``sx[i] + sy[j]`` when ``sx`` has entries (pooled levels). Two dense rolling rows hold the row below and the
    row being computed (+inf off their ranges, index m a +inf sentinel), so the inner loop reads without range
    checks: since the ranges never move left going down, an index below the row's range was never written, and
    the one index past it is reset after each row.
    """
    n, m = x.shape[0], y.shape[0]
    offsets = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        offsets[i + 1] = offsets[i] + max(hi[i] - lo[i] + 1, 0)
    values = np.empty(offsets[n])
    rows = (np.empty(m), np.full(m + 1, np.inf), np.full(m + 1, np.inf))
    _njit_corridor_dp_rows(x, y, code, lo, hi, sx, sy, offsets, values, np.empty(0, np.uint8), *rows)
    return offsets, values


@njit(cache=True, inline="always")
def _njit_set_move(moves, k, move):
    """Store ``move`` (0..3) as cell ``k``'s two bits of the packed ``moves`` (zeroed first): four cells a byte."""
    moves[k >> 2] |= np.uint8(move << ((k & 3) << 1))


@njit(cache=True, inline="always")
def _njit_get_move(moves, k):
    """Cell ``k``'s move from the packed ``moves`` (:func:`_njit_set_move`)."""
    return (moves[k >> 2] >> ((k & 3) << 1)) & 3


def _packed_moves(cells):
    """Zeroed room for ``cells`` packed moves (:func:`_njit_set_move`)."""
    return np.zeros((cells + 3) // 4, dtype=np.uint8)


@njit(cache=True, _nrt=False)
def _njit_corridor_dp_rows(x, y, code, lo, hi, sx, sy, offsets, values, moves, row, below, cur):
    """:func:`_njit_corridor_dp`'s DP, its rolling rows allocated by the caller; returns ``G[0, 0]``.

    It keeps what the caller gives room for: each cell's value in ``values``, and/or in ``moves``
    (:func:`_packed_moves`: two bits a cell) the move to its cheapest successor (0 diagonal, 1 down, 2 right, ties
    in that order; 3 where every successor is +inf, as at the end cell), which :func:`_njit_walk` follows; an empty
    array keeps nothing. Compiled without reference counts (``_nrt``), which numba would otherwise update at every
    row (the swap, the inlined cost row) and which cost about a quarter of a corridor's build (perf).
    """
    spread = sx.shape[0] > 0
    keep_values, keep_moves = values.shape[0] > 0, moves.shape[0] > 0
    n, m = x.shape[0], y.shape[0]
    for i in range(n - 1, -1, -1):
        a, z = lo[i], hi[i]
        if z < a:
            for j in range(m + 1):  # nothing reaches the end through an empty row: every row above is +inf
                below[j] = np.inf
            continue
        _njit_cost_row(x, y, i, a, z + 1, code, row)
        if spread:
            for j in range(a, z + 1):
                row[j] += sx[i] + sy[j]
        right = np.inf
        if i == n - 1 and z == m - 1:  # the end cell: its cost alone
            right = row[z]
            cur[z] = right
            if keep_moves:
                _njit_set_move(moves, offsets[i] + z - a, 3)
            z -= 1
        for j in range(z, a - 1, -1):
            diag, down = below[j + 1], below[j]
            if keep_moves:
                move, least = 3, np.inf
                if diag < least:
                    move, least = 0, diag
                if down < least:
                    move, least = 1, down
                if right < least:
                    move = 2
                _njit_set_move(moves, offsets[i] + j - a, move)
            best = diag if diag < down else down
            right = row[j] + (best if best < right else right)
            cur[j] = right
        cur[hi[i] + 1] = np.inf  # stale from two rows below, read next as the diagonal of column hi[i]
        if keep_values:
            for j in range(a, hi[i] + 1):
                values[offsets[i] + j - a] = cur[j]
        below, cur = cur, below
    return below[0] if lo[0] == 0 and hi[0] >= 0 else np.inf


def _corridor_cost(x, y, code, lo, hi):
    """The optimal path cost inside the corridor rows ``[lo[i], hi[i]]`` (nondecreasing, inside the band; +inf if
    a row is empty or the rows miss (0, 0) or the end cell): ``dtwrl.dtw``'s rolling-row forward DP on those rows,
    O(m) memory."""
    if lo[0] != 0 or hi[-1] != len(y) - 1 or np.any(hi < lo):
        return np.inf
    return _njit_dtw_value(x, y, code, len(x), len(y), lo, hi)


#: Moves of :func:`_njit_corridor_dp_rows`' ``moves`` (0 diagonal, 1 down, 2 right); 3: no finite successor.
_STEPS = np.array([[1, 1], [1, 0], [0, 1]], dtype=np.int64)


@njit(cache=True)
def _njit_walk(lo, offsets, moves, n, m):
    """The path from (0, 0) along ``moves`` (:func:`_njit_corridor_dp_rows`); empty where it meets a dead end.

    It walks twice, counting the cells and then writing them, so the path takes exactly its own length.
    """
    path = np.empty((_njit_follow(lo, offsets, moves, n, m, np.empty((0, 2), np.int64)), 2), np.int64)
    _njit_follow(lo, offsets, moves, n, m, path)
    return path


@njit(cache=True)
def _njit_follow(lo, offsets, moves, n, m, path):
    """The number of cells of :func:`_njit_walk`'s path (0 at a dead end), written into ``path`` if it has room."""
    i = j = length = 0
    while True:
        if path.shape[0] > 0:
            path[length, 0], path[length, 1] = i, j
        length += 1
        if i == n - 1 and j == m - 1:
            return length
        move = _njit_get_move(moves, offsets[i] + j - lo[i])
        if move == 3:
            return 0
        i, j = i + _STEPS[move, 0], j + _STEPS[move, 1]


def _corridor_path(x, y, code, lo, hi, sx, sy):
    """``(path, G[0, 0])``: the path from (0, 0) that always enters the successor with the smallest cost-to-go inside
    the corridor rows (ties: diagonal, down, right), from a backward DP that keeps two bits per cell (its move)
    instead of its float64 value (:func:`_njit_corridor_dp`'s values give the same path)."""
    n, m = x.shape[0], y.shape[0]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.maximum(hi - lo + 1, 0), out=offsets[1:])
    moves = _packed_moves(int(offsets[n]))
    rows = (np.empty(m), np.full(m + 1, np.inf), np.full(m + 1, np.inf))
    value = _njit_corridor_dp_rows(x, y, code, lo, hi, sx, sy, offsets, np.empty(0), moves, *rows)
    return _njit_walk(lo, offsets, moves, n, m), value


@njit(cache=True)
def _njit_project(path, n, m, fx, fy, radius):
    """Rows ``(lo, hi)`` of the corridor at the finer level: ``path``'s cells blown up by (fx, fy), widened by radius.

    The ranges are then made monotone (lo nondecreasing from the end, hi from the start), which keeps the path's
    cells and makes every corridor cell reach (n-1, m-1) inside the corridor.
    """
    lo = np.full(n, m, dtype=np.int64)
    hi = np.full(n, -1, dtype=np.int64)
    for t in range(path.shape[0]):
        for i in range(fx * path[t, 0], min(fx * path[t, 0] + fx, n)):
            lo[i] = min(lo[i], fy * path[t, 1])
            hi[i] = max(hi[i], min(fy * path[t, 1] + fy - 1, m - 1))
    wlo = np.empty(n, dtype=np.int64)
    whi = np.empty(n, dtype=np.int64)
    for i in range(n):  # widen: a cell (i, j) joins when some path cell lies within radius in both directions
        a, b = m, -1
        for r in range(max(0, i - radius), min(n, i + radius + 1)):
            if hi[r] >= 0:
                a = min(a, lo[r])
                b = max(b, hi[r])
        wlo[i] = max(a - radius, 0)
        whi[i] = min(b + radius, m - 1)
    for i in range(n - 2, -1, -1):
        wlo[i] = min(wlo[i], wlo[i + 1])
    for i in range(1, n):
        whi[i] = max(whi[i], whi[i - 1])
    return wlo, whi


def _pyramid(x, y, coarsest):
    """``[(x, y, sx, sy), ...]`` from the original series (spreads 0) to the coarsest level."""
    levels = [(x, y, np.zeros(len(x)), np.zeros(len(y)))]
    while len(levels[-1][0]) > coarsest or len(levels[-1][1]) > coarsest:
        a, b, sa, sb = levels[-1]
        a, sa = _njit_pool(a, sa) if len(a) > coarsest else (a, sa)
        b, sb = _njit_pool(b, sb) if len(b) > coarsest else (b, sb)
        levels.append((a, b, sa, sb))
    return levels


def build_corridor(x, y, metric="sqeuclidean", radius=2, band=None, coarsest=COARSEST):
    """The corridor and its exact cost-to-go for one validated pair (see the module docstring).

    Parameters
    ----------
    x, y : numpy.ndarray of float64, shapes (n, d) and (m, d)
    metric : {"sqeuclidean", "euclidean", "abs"}
    radius : int >= 0
        Cells added around the projected path at each level.
    band : int >= 0 or None
        Sakoe-Chiba half-width (``dtwrl.bands``) the corridor is cut to.
    coarsest : int >= 2
        Series at most this long are not pooled further.

    Returns
    -------
    Corridor
    """
    return _finest_level(x, y, metric, radius, band, coarsest, _values_inside)


def corridor_path(x, y, metric="sqeuclidean", radius=2, band=None, coarsest=COARSEST):
    """The optimal path inside :func:`build_corridor`'s corridor, without holding its cost-to-go.

    From (0, 0) the path always enters the successor with the smallest cost-to-go ``G`` (ties: diagonal, down,
    right), the move ``agents.HeuristicAligner``'s default rule takes at every step of the corridor observation:
    the same corridor, and a backward DP with the same values that keeps each corridor cell's move in two bits
    instead of its float64 value, so the path is bitwise the rollout's in 1/32 of the memory of the finest values.

    Parameters are :func:`build_corridor`'s. Returns int64 ``(L, 2)`` from (0, 0) to (n-1, m-1).

    >>> x = np.sin(np.linspace(0, 6, 50))[:, None]
    >>> path = corridor_path(x, x[::2], radius=2, coarsest=8)
    >>> path[0].tolist(), path[-1].tolist()
    ([0, 0], [49, 24])
    """
    return _finest_level(x, y, metric, radius, band, coarsest, _argmin_path_inside)


def _finest_level(x, y, metric, radius, band, coarsest, finish):
    """The pyramid, the coarse paths, then ``finish`` on the finest corridor (see :func:`_cut`)."""
    code = _metric_code(metric)
    band_rows = None
    if band is not None:
        check_band(len(x), len(y), band, "band")
        band_rows = band_bounds(len(x), len(y), band)
    levels = _pyramid(x, y, coarsest)
    if len(levels) == 1:  # short series: the corridor is the whole grid (cut to the band)
        return _cut(x, y, code, band_rows, radius, (), finish)
    seeds = [_coarse_path(levels, code, radius, spread) for spread in ((False, True) if code == 0 else (False,))]
    del levels  # the pooled series are not needed at the finest level
    return _cut(x, y, code, band_rows, radius, seeds, finish)


def _values_inside(x, y, code, lo, hi, radius):
    """``(Corridor, whether (0, 0) reaches the end inside)``: the finest level of :func:`build_corridor`."""
    offsets, values = _njit_corridor_dp(x, y, code, lo, hi, np.empty(0), np.empty(0))
    corridor = Corridor(lo, hi, offsets, values, radius)
    return corridor, bool(np.isfinite(corridor.value(0, 0)))


def _argmin_path_inside(x, y, code, lo, hi, radius):
    """``(path, whether (0, 0) reaches the end inside)``: the finest level of :func:`corridor_path`."""
    path, value = _corridor_path(x, y, code, lo, hi, np.empty(0), np.empty(0))
    return path, bool(np.isfinite(value))


def _coarse_path(levels, code, radius, spread):
    """The optimal path inside the corridor of level 1 (the finest pooled level), refined from the coarsest level.

    ``spread``: a pooled cell's cost also counts its frames' spreads (``sx[i] + sy[j]``, sqeuclidean only), which
    makes it the mean of the fine costs it pools; without it, the cost of the pooled means (FastDTW's).
    """
    top_x, top_y = levels[-1][:2]
    lo, hi = np.zeros(len(top_x), dtype=np.int64), np.full(len(top_x), len(top_y) - 1, dtype=np.int64)
    for level in range(len(levels) - 1, 0, -1):
        a, b, sa, sb = levels[level]
        spreads = (sa, sb) if spread else (np.empty(0), np.empty(0))
        path, _ = _corridor_path(a, b, code, lo, hi, *spreads)
        fine_x, fine_y = levels[level - 1][:2]
        fx, fy = (2 if len(fine_x) > len(a) else 1), (2 if len(fine_y) > len(b) else 1)
        if level > 1:
            lo, hi = _njit_project(path, len(fine_x), len(fine_y), fx, fy, radius)
    return path, fx, fy


def _cut(x, y, code, band_rows, radius, seeds, finish):
    """``finish`` (the finest DP) on the seed's projected corridor (the whole grid without seeds), cut to the band
    rows ``(band_lo, band_hi)`` if given (so the DP never meets a cell outside the band).

    With two seeds, the one whose corridor holds the cheaper path (a forward DP in O(m) memory) is kept, so only
    one corridor's values are ever held. The radius doubles until (0, 0) reaches the end inside.
    """
    n, m = len(x), len(y)

    def cut(lo, hi):
        if band_rows is None:
            return lo, hi
        return np.maximum(lo, band_rows[0]), np.minimum(hi, band_rows[1])

    while True:
        ranges = [cut(*_njit_project(path, n, m, fx, fy, radius)) for path, fx, fy in seeds]
        if not ranges:
            ranges = [cut(np.zeros(n, dtype=np.int64), np.full(n, m - 1, dtype=np.int64))]
        if len(ranges) > 1:
            costs = [_corridor_cost(x, y, code, lo, hi) for lo, hi in ranges]
            ranges = [ranges[int(np.argmin(costs))]]
        lo, hi = ranges.pop()
        result, reaches = finish(x, y, code, lo, hi, radius)
        if reaches or not seeds:
            return result
        radius = 2 * radius + 1
