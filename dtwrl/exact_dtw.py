"""Exact Dynamic Time Warping: value, optimal path, path cost and cost-to-go.

The accumulated cost obeys

    R[i, j] = C[i, j] + min(R[i-1, j-1], R[i-1, j], R[i, j-1]),   R[0, 0] = C[0, 0]

over the cells allowed by the band, and ``dtw = R[n-1, m-1]``. The kernels
compute local costs on the fly, one band row at a time (no cost matrix), keep
two rolling rows of ``R`` and visit only each row's band columns. The path kernel stores one uint8 back-pointer per
band cell (0 diagonal, 1 from above, 2 from the left); ties prefer the
diagonal, then above, then left. Both kernels accumulate along the path in the
same order as :func:`path_cost`, so ``path_cost(x, y, dtw_path(x, y)[1]) ==
dtw(x, y)`` holds exactly.
"""

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

from . import memory
from .bands import _check_band_value, _connected_bounds
from .local_cost import _metric_code, _njit_cost_row, _njit_local_cost
from .validation import as_real_array, as_series, check_cost_range, check_path, check_same_dim

# Pseudo metric code: ``a`` is a precomputed (n, m) cost matrix, ``b`` is unused.
_FROM_MATRIX = -1
_DIAG, _UP, _LEFT = 0, 1, 2


@njit(cache=True, inline="always")
def _njit_band_row_costs(a, b, i, lo, hi, code, out):
    """out[j] = C[i, j] for the row's band columns lo[i] <= j <= hi[i]."""
    if code == _FROM_MATRIX:
        for j in range(lo[i], hi[i] + 1):
            out[j] = a[i, j]
    else:
        _njit_cost_row(a, b, i, lo[i], hi[i] + 1, code, out)


@njit(cache=True)
def _njit_dtw_value(a, b, code, n, m, lo, hi):
    """DTW value with two rolling rows; column j lives at index j + 1, index 0 is a +inf sentinel."""
    # the local costs of the current row are computed ahead in one vectorisable loop
    return _njit_dtw_value_rows(a, b, code, n, m, lo, hi, np.full(m + 1, np.inf), np.full(m + 1, np.inf), np.empty(m))


@njit(cache=True, _nrt=False)
def _njit_dtw_value_rows(a, b, code, n, m, lo, hi, prev, cur, cost):
    """:func:`_njit_dtw_value` on its rows, allocated by the caller: compiled without reference counts (``_nrt``),
    which numba would otherwise update at every row (the swap, the inlined cost row) and which cost as much as the
    cells of a narrow band's or a corridor's row."""
    _njit_band_row_costs(a, b, 0, lo, hi, code, cost)
    acc = 0.0
    for j in range(hi[0] + 1):
        acc += cost[j]
        cur[j + 1] = acc
    for i in range(1, n):
        prev, cur = cur, prev
        _njit_band_row_costs(a, b, i, lo, hi, code, cost)
        cur[lo[i]] = np.inf  # column lo[i] - 1, read as the next row's diagonal: stale from row i - 2
        left = np.inf  # R[i, j - 1], kept in a register
        for j in range(lo[i], hi[i] + 1):
            best = prev[j]
            if prev[j + 1] < best:
                best = prev[j + 1]
            if left < best:
                best = left
            left = best + cost[j]
            cur[j + 1] = left
    return cur[m]


@njit(cache=True)
def _njit_dtw_path(a, b, code, n, m, lo, hi):
    """DTW value and optimal path; back-pointers are stored only for band cells."""
    start = np.empty(n + 1, dtype=np.int64)
    start[0] = 0
    for i in range(n):
        start[i + 1] = start[i] + hi[i] - lo[i] + 1
    ptr = np.empty(start[n], dtype=np.uint8)
    path = np.empty((n + m - 1, 2), dtype=np.int64)
    rows = (np.full(m + 1, np.inf), np.full(m + 1, np.inf), np.empty(m))
    value, k = _njit_dtw_path_rows(a, b, code, n, m, lo, hi, start, ptr, path, *rows)
    return value, path[k:].copy()


@njit(cache=True, _nrt=False)
def _njit_dtw_path_rows(a, b, code, n, m, lo, hi, start, ptr, path, prev, cur, cost):
    """:func:`_njit_dtw_path`'s DP and walk back into ``ptr`` and ``path``, its buffers allocated by the caller:
    compiled without reference counts (see :func:`_njit_dtw_value_rows`). Returns (value, first path row)."""
    _njit_band_row_costs(a, b, 0, lo, hi, code, cost)
    acc = 0.0
    for j in range(hi[0] + 1):
        acc += cost[j]
        cur[j + 1] = acc
        ptr[j] = _LEFT
    for i in range(1, n):
        prev, cur = cur, prev
        _njit_band_row_costs(a, b, i, lo, hi, code, cost)
        cur[lo[i]] = np.inf
        row = start[i] - lo[i]
        left = np.inf
        for j in range(lo[i], hi[i] + 1):
            best = prev[j]
            move = _DIAG
            if prev[j + 1] < best:
                best = prev[j + 1]
                move = _UP
            if left < best:
                best = left
                move = _LEFT
            left = best + cost[j]
            cur[j + 1] = left
            ptr[row + j] = move
    i, j, k = n - 1, m - 1, n + m - 2
    path[k, 0], path[k, 1] = i, j
    while i > 0 or j > 0:
        move = ptr[start[i] - lo[i] + j]
        if move != _LEFT:
            i -= 1
        if move != _UP:
            j -= 1
        k -= 1
        path[k, 0], path[k, 1] = i, j
    return cur[m], k


@njit(cache=True)
def _njit_cost_to_go(C, lo, hi):
    n, m = C.shape
    G = np.full((n, m), np.inf)
    G[n - 1, m - 1] = C[n - 1, m - 1]
    for i in range(n - 1, -1, -1):
        for j in range(hi[i], lo[i] - 1, -1):
            if i == n - 1 and j == m - 1:
                continue
            best = np.inf
            if i + 1 < n and j + 1 < m:
                best = G[i + 1, j + 1]
            if i + 1 < n and G[i + 1, j] < best:
                best = G[i + 1, j]
            if j + 1 < m and G[i, j + 1] < best:
                best = G[i, j + 1]
            G[i, j] = C[i, j] + best
    return G


@njit(cache=True)
def _njit_path_cost(x, y, path, code):
    s = 0.0
    for k in range(path.shape[0]):
        s += _njit_local_cost(x, y, path[k, 0], path[k, 1], code)
    return s


def _prepare(x, y, metric, band):
    x, y = as_series(x, "x"), as_series(y, "y")
    check_same_dim(x, y)
    code = _metric_code(metric)
    check_cost_range(x, y, metric)
    n, m = len(x), len(y)
    lo, hi = _connected_bounds(n, m, _check_band_value(band))
    return x, y, code, n, m, lo, hi


def _as_cost(C, name="C"):
    C = as_real_array(C, name, "a 2-D array of local costs")
    if C.ndim != 2 or C.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (n, m); got shape {C.shape}")
    C = np.ascontiguousarray(C, dtype=np.float64)
    if not np.isfinite(C).all():
        raise ValueError(f"{name} must be finite; it holds NaN or inf")
    with np.errstate(over="ignore"):
        total = np.abs(C).max() * (C.shape[0] + C.shape[1] - 1)
    if not np.isfinite(total):
        raise ValueError(f"{name}: the costs overflow float64 when summed along a path; rescale them")
    return C


def dtw(x: ArrayLike, y: ArrayLike, metric: str = "sqeuclidean", band: int | None = None) -> float:
    """Exact DTW cost between two series.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
    y : array_like, shape (m,) or (m, d)
    metric : {"sqeuclidean", "euclidean", "abs"}
        Local cost ``C[i, j]`` between frames (see :func:`dtwrl.cost_matrix`).
    band : int >= 0 or None
        Sakoe-Chiba half-width (see :mod:`dtwrl.bands`); None for no constraint.

    Returns
    -------
    float
        ``min over warping paths P of sum_{(i, j) in P} C[i, j]``, both end
        cells included, no square root. O(n m) time, O(m) memory.

    Examples
    --------
    >>> dtw([0.0, 1.0, 2.0], [0.0, 2.0])
    1.0
    >>> x, y = [0.0, 0.0, 1.0, 2.0], [0.0, 1.0, 2.0, 2.0]
    >>> dtw(x, y), dtw(x, y, band=0)
    (0.0, 2.0)
    """
    return float(_njit_dtw_value(*_prepare(x, y, metric, band)))


def dtw_path(
    x: ArrayLike, y: ArrayLike, metric: str = "sqeuclidean", band: int | None = None
) -> tuple[float, NDArray[np.int64]]:
    """Exact DTW cost and one optimal warping path.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
    y : array_like, shape (m,) or (m, d)
    metric : {"sqeuclidean", "euclidean", "abs"}
    band : int >= 0 or None

    Returns
    -------
    cost : float
        Equal to :func:`dtw` and to ``path_cost(x, y, path, metric)``.
    path : numpy.ndarray of int64, shape (L, 2)
        From (0, 0) to (n-1, m-1) in steps (1, 1), (1, 0), (0, 1); among equal
        optima the backtrack prefers the diagonal.

    Examples
    --------
    >>> cost, path = dtw_path([0.0, 1.0, 2.0], [0.0, 2.0])
    >>> cost, path.tolist()
    (1.0, [[0, 0], [1, 0], [2, 1]])
    """
    args = _prepare(x, y, metric, band)
    n, m, lo, hi = args[3:]
    if n * m > memory.ALWAYS_FITS:  # (on short pairs the check would cost more than it could ever catch)
        memory.check_fits(
            int((hi - lo + 1).sum()),
            "x and y",
            f"dtw_path keeps one byte per grid cell to walk its path back: {n} x {m} cells"
            + ("" if band is None else f" in a band of {band}"),
            "dtwrl.dtw gives the value in O(m) memory, a band narrows the grid, and "
            "agents.PolicyAligner.pretrained() aligns long pairs in linear memory",
        )
    cost, path = _njit_dtw_path(*args)
    return float(cost), path


def dtw_path_from_cost(C, band=None):
    """Exact DTW cost and optimal path over a precomputed cost matrix.

    Parameters
    ----------
    C : array_like, shape (n, m)
        Finite local costs.
    band : int >= 0 or None

    Returns
    -------
    cost : float
    path : numpy.ndarray of int64, shape (L, 2)

    Examples
    --------
    >>> cost, path = dtw_path_from_cost([[0.0, 5.0], [1.0, 0.0]])
    >>> cost, path.tolist()
    (0.0, [[0, 0], [1, 1]])
    """
    C = _as_cost(C)
    n, m = C.shape
    lo, hi = _connected_bounds(n, m, _check_band_value(band))
    cost, path = _njit_dtw_path(C, C, _FROM_MATRIX, n, m, lo, hi)
    return float(cost), path


def cost_to_go(C, band=None):
    """Cost of the cheapest path from every cell to the end cell.

    Parameters
    ----------
    C, band
        As in :func:`dtw_path_from_cost`; paths stay inside the band.

    Returns
    -------
    numpy.ndarray, shape (n, m), float64
        ``G[i, j] = C[i, j] + min(G[i+1, j+1], G[i+1, j], G[i, j+1])`` with
        ``G[n-1, m-1] = C[n-1, m-1]``: the cost of the cheapest path from
        ``(i, j)`` to ``(n-1, m-1)``, ``C[i, j]`` included; ``inf`` outside the
        band. ``G[0, 0]`` equals the DTW cost, and the optimal move from
        ``(i, j)`` enters the successor with the smallest ``G``.

    Examples
    --------
    >>> cost_to_go([[0.0, 5.0], [1.0, 0.0]])
    array([[0., 5.],
           [1., 0.]])
    """
    C = _as_cost(C)
    n, m = C.shape
    lo, hi = _connected_bounds(n, m, _check_band_value(band))
    return _njit_cost_to_go(C, lo, hi)


def path_cost(x: ArrayLike, y: ArrayLike, path: ArrayLike, metric: str = "sqeuclidean") -> float:
    """Sum of the local costs of every cell on a warping path.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
    y : array_like, shape (m,) or (m, d)
    path : array_like of int, shape (L, 2)
        From (0, 0) to (n-1, m-1) in steps (1, 1), (1, 0), (0, 1).
    metric : {"sqeuclidean", "euclidean", "abs"}

    Returns
    -------
    float
        ``sum_{(i, j) in path} C[i, j]``, accumulated from the start cell.

    Raises
    ------
    ValueError
        If ``path`` is not a warping path of the n-by-m grid, or the values are
        so large that its cost overflows float64.

    Examples
    --------
    >>> path_cost([0.0, 1.0, 2.0], [0.0, 2.0], [[0, 0], [1, 0], [2, 1]])
    1.0
    """
    x, y = as_series(x, "x"), as_series(y, "y")
    check_same_dim(x, y)
    code = _metric_code(metric)
    path = check_path(path, len(x), len(y))
    check_cost_range(x, y, metric, terms=len(path))
    return float(_njit_path_cost(x, y, path, code))


def cost_ratio(cost: ArrayLike, best: ArrayLike) -> np.ndarray:
    """``cost / best`` elementwise, with ``0 / 0 = 1`` and ``c / 0 = inf`` for c > 0.

    Parameters
    ----------
    cost, best : array_like of float
        A path's cost and the exact DTW cost (``0 <= best <= cost``).

    Returns
    -------
    numpy.ndarray of float64 (a 0-d array for scalar input)

    Examples
    --------
    >>> cost_ratio([3.0, 0.0, 1.0], [2.0, 0.0, 0.0]).tolist()
    [1.5, 1.0, inf]
    """
    cost, best = np.asarray(cost, dtype=np.float64), np.asarray(best, dtype=np.float64)
    return np.divide(cost, best, out=np.where(cost == 0.0, 1.0, np.inf), where=best > 0.0)
