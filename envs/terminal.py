"""The terminal values ``H`` of the lookahead rows (``envs.observation``), computed at reset for every scale at once.

For each lookahead scale ``s``: the ``s x s`` mean-pooled cost matrix, its
exact coarse cost-to-go ``Gc`` and ``H``, ``s`` times ``Gc`` read bilinearly at
every fine cell. :func:`njit_terminal_values` pools every scale in one pass
over the alignment's cost rows (each row read once, while it is in L1, however
many scales there are); ``envs.kernels.njit_load`` pools each row with
:func:`pool_row` as soon as it has computed its costs, while it is in L1, so a
reset reads its cost matrix only once. Each pooled value is the same
expression, in the same order, as pooling one scale at a time over the whole
matrix, so the bits are the same.

>>> import numpy as np
>>> C = np.arange(12.0).reshape(3, 4)
>>> terminal = np.zeros((2, 1, 3, 4), np.float32)
>>> njit_terminal_values(C, np.ones((3, 4), np.int8), 3, 4, np.array([1, 2]), False, terminal, 0)
>>> terminal[0, 0].tolist()    # scale 1: the exact cost-to-go of C (dtwrl.exact_dtw.cost_to_go)
[[18.0, 18.0, 19.0, 21.0], [26.0, 22.0, 17.0, 18.0], [38.0, 30.0, 21.0, 11.0]]
"""

import numpy as np
from numba import njit

__all__ = ["njit_terminal_values", "pool_buffers", "pool_row", "terminal_from_pooled"]


@njit(cache=True)
def njit_terminal_values(raw, allowed, n, m, scales, banded, terminal, b):
    """Fill ``terminal[t, b, :n, :m]`` with ``H`` of scale ``scales[t]``, for every lookahead row ``t``.

    Parameters
    ----------
    raw : float64 (rows, cols)
        The alignment's local costs, ``C[i, j]`` at ``raw[i, j]`` (finite inside the n x m grid).
    allowed : int8 (rows, cols)
        1 where a cell is enterable (in the grid and the band: one run of columns per row).
    n, m : int
        The grid.
    scales : int64 (L,)
        The lookahead rows' scales (>= 1).
    banded : bool
        False promises that every grid cell is enterable: ``allowed`` is then not read.
    terminal : float32 (L, N, rows, cols)
        The terminal-value slab; cells beyond the grid are left as they are.
    b : int
        The alignment's index in ``terminal``.

    Pools the rows with :func:`pool_row`, then :func:`terminal_from_pooled`.
    ``envs.kernels.njit_load`` pools while it computes the costs instead.
    """
    pool = pool_buffers(n, m, scales)
    for i in range(n):
        lo, hi = 0, m - 1
        if banded:
            while allowed[i, lo] != 1:
                lo += 1
            while allowed[i, hi] != 1:
                hi -= 1
        pool_row(raw[i], lo, hi, not banded, i, n, m, scales, pool)
    terminal_from_pooled(pool, n, m, scales, terminal, b)


@njit(cache=True)
def pool_buffers(n, m, scales):
    """Work arrays of :func:`pool_row` for an n x m grid: ``(pooled, offsets, acc, cnt)``.

    ``pooled`` float64 holds the ``s x s`` mean-pooled cost matrix of each
    scale ``s = scales[t]``, (ceil(n / s), ceil(m / s)), flat in C order at
    ``pooled[offsets[t]:offsets[t + 1]]``; ``acc`` and ``cnt`` float64 (L, m):
    each scale's column sums and counts of its current band of coarse rows.
    """
    levels = scales.shape[0]
    offsets = np.zeros(levels + 1, dtype=np.int64)
    for t in range(levels):
        s = scales[t]
        offsets[t + 1] = offsets[t] + ((n + s - 1) // s) * ((m + s - 1) // s)
    return np.empty(offsets[levels]), offsets, np.zeros((levels, m)), np.zeros((levels, m))


@njit(cache=True, inline="always", error_model="numpy")
def pool_row(costs, lo, hi, full, i, n, m, scales, pool):
    """Add fine row ``i``'s costs (its band cells: columns ``lo..hi``) to every scale's column sums.

    Rows must come in order 0..n-1; a row that ends a band of ``s`` fine rows
    (or the grid) writes that coarse row of ``pooled`` (``pool`` from
    :func:`pool_buffers`). A coarse cell is the mean of its band cells (+inf
    when it has none): the column sums of its fine rows (each from 0.0, in row
    order), summed from 0.0 in column order, over the count of its band cells.
    These are the values of summing ``cost * flag`` over every column (flag 1
    on band cells, 0 elsewhere), bit for bit: ``cost * 1.0`` is ``cost`` and
    adding ``cost * 0.0 = +0.0`` to a sum of non-negative costs leaves it as it
    is. ``full`` (every row spans all m columns) skips the per-cell count: a
    column's count is then the number of fine rows.
    """
    pooled, offsets, acc, cnt = pool
    for t in range(scales.shape[0]):
        total, cells = acc[t], cnt[t]
        if full:
            for j in range(m):
                total[j] += costs[j]
        else:
            for j in range(lo, hi + 1):
                total[j] += costs[j]
                cells[j] += 1.0
        s = scales[t]
        if (i + 1) % s == 0 or i == n - 1:  # the last fine row of coarse row i // s
            ci = i // s
            if full:
                cells[:] = i + 1 - ci * s
            width = (m + s - 1) // s
            _pool_row(total, cells, m, s, pooled[offsets[t] + ci * width : offsets[t] + (ci + 1) * width])
            total[:] = 0.0
            cells[:] = 0.0


@njit(cache=True)
def terminal_from_pooled(pool, n, m, scales, terminal, b):
    """Fill ``terminal[t, b, :n, :m]`` from the pooled costs of :func:`pool_row` (``pool``), every scale ``t``.

    ``H`` is ``s`` times the coarse cost-to-go (:func:`_njit_coarse_cost_to_go`
    of the pooled costs) read bilinearly at each fine cell: the coarse cell
    centres sit at fine coordinates ``s * (ci + 0.5) - 0.5``; a corner whose
    cost-to-go is +inf (no band cell) is left out and the weights renormalised;
    +inf where every corner is. O(n m L).
    """
    pooled, offsets = pool[0], pool[1]
    for t in range(scales.shape[0]):
        s = scales[t]
        coarse = pooled[offsets[t] : offsets[t + 1]].reshape((n + s - 1) // s, (m + s - 1) // s)
        _njit_bilinear(_njit_coarse_cost_to_go(coarse), n, m, s, terminal[t, b])


@njit(cache=True, inline="always", error_model="numpy")
def _pool_row(acc, cnt, m, scale, out):
    """One coarse row of :func:`pool_row` from its column sums ``acc`` and counts ``cnt`` (m,) into ``out``."""
    start = 0
    if scale == 2:  # the default's fine scale: full coarse cells without an inner loop (one the compiler vectorises)
        start = m // 2
        for cj in range(start):
            total = 0.0 + acc[2 * cj]
            total += acc[2 * cj + 1]
            cells = 0.0 + cnt[2 * cj]
            cells += cnt[2 * cj + 1]
            out[cj] = total / cells if cells > 0 else np.inf
    for cj in range(start, out.shape[0]):
        total = 0.0
        cells = 0.0
        for j in range(cj * scale, min(m, cj * scale + scale)):
            total += acc[j]
            cells += cnt[j]
        out[cj] = total / cells if cells > 0 else np.inf


@njit(cache=True)
def _njit_coarse_cost_to_go(pooled):
    """Exact cost-to-go ``Gc`` (N, M) of a coarse cost matrix ``pooled`` (N, M), e.g. from :func:`pool_row`.

    ``Gc[ci, cj]`` is the cheapest sum of coarse costs from (ci, cj) to (N-1, M-1),
    both included, over diagonal/down/right moves; +inf where none exists:
    ``V = c + min(min(V_diag, V_down), V_right)`` with +inf beyond the grid and
    0.0 diagonally past the end cell (``c + 0.0 == c``: costs are >= 0). Rows
    are computed two at a time, row ``ci`` at column ``cj`` with row ``ci - 1``
    at column ``cj + 1``, so two dependency chains overlap; every value is the
    same expression as row by row.
    """
    N, M = pooled.shape
    inf = np.inf
    out = np.empty((N + 1, M + 1))
    out[:, M] = inf
    out[N, :] = inf
    out[N, M] = 0.0
    ci = N - 1
    while ci >= 0:
        pair = ci >= 1
        right = inf  # V[ci, cj + 1]
        diag = out[ci + 1, M]  # V[ci + 1, cj + 1]
        up = inf  # V[ci - 1, cj + 2]: the chain of row ci - 1
        far = inf  # V[ci, cj + 2]
        for cj in range(M - 1, -1, -1):
            below = out[ci + 1, cj]
            best = diag if diag < below else below
            value = pooled[ci, cj] + (best if best < right else right)
            out[ci, cj] = value
            diag = below
            if pair and cj + 1 < M:  # row ci - 1 at column cj + 1: diagonal V[ci, cj + 2], down V[ci, cj + 1]
                best = far if far < right else right
                up = pooled[ci - 1, cj + 1] + (best if best < up else up)
                out[ci - 1, cj + 1] = up
            far = right
            right = value
        if pair:  # row ci - 1 at column 0
            best = far if far < right else right
            out[ci - 1, 0] = pooled[ci - 1, 0] + (best if best < up else up)
        ci -= 2
    return out[:N, :M]


@njit(cache=True, inline="always")
def _coarse_corners(p, scale, N):
    """The two coarse cells (of ``N``) around fine coordinate ``p`` and ``p``'s weight on the second.

    Coarse cell centres sit at fine coordinates ``scale * (c + 0.5) - 0.5``; ``p``
    is clamped to the first and last centre.
    """
    u = min(max((p + 0.5) / scale - 0.5, 0.0), N - 1.0)
    c0 = int(u)
    return c0, min(c0 + 1, N - 1), u - c0


@njit(cache=True)
def _njit_bilinear(coarse, n, m, scale, out):
    """``out[p, q]``: ``scale`` times ``coarse`` (N, M) read bilinearly at fine cell (p, q), p < n, q < m.

    Cells beyond the grid are left as they are.
    """
    N, M = coarse.shape
    if np.all(np.isfinite(coarse)):  # separable fast path: interpolate along ci per fine row, then along cj
        j0 = np.empty(m, dtype=np.int64)
        fv = np.empty(m)
        for q in range(m):
            j0[q], _, fv[q] = _coarse_corners(q, scale, M)
        # Each coarse row expanded to the fine columns once: at[ci, q] = coarse[ci, j0[q]], nxt[ci, q] =
        # coarse[ci, min(j0[q] + 1, M - 1)]. Every fine row is then one contiguous (vectorised) pass, each value
        # the same expression line[j0] + fv * rise[j0] as with per-row arrays line[c] and rise[c] = line[c1] - line[c].
        at = np.empty((N, m))
        nxt = np.empty((N, m))
        for ci in range(N):
            for q in range(m):
                c = j0[q]
                at[ci, q] = coarse[ci, c]
                nxt[ci, q] = coarse[ci, min(c + 1, M - 1)]
        for p in range(n):
            ci0, ci1, fu = _coarse_corners(p, scale, N)
            gu = 1.0 - fu
            a0, a1, b0, b1, row = at[ci0], at[ci1], nxt[ci0], nxt[ci1], out[p]
            for q in range(m):
                level = scale * (gu * a0[q] + fu * a1[q])
                row[q] = level + fv[q] * (scale * (gu * b0[q] + fu * b1[q]) - level)
        return
    for p in range(n):
        ci0, ci1, fu = _coarse_corners(p, scale, N)
        for q in range(m):
            cj0, cj1, fv = _coarse_corners(q, scale, M)
            total = 0.0
            weight = 0.0
            for corner in range(4):
                ci = ci1 if corner & 1 else ci0
                cj = cj1 if corner & 2 else cj0
                w = (fu if corner & 1 else 1.0 - fu) * (fv if corner & 2 else 1.0 - fv)
                g = coarse[ci, cj]
                if w > 0.0 and g < np.inf:
                    total += w * g
                    weight += w
            out[p, q] = scale * total / weight if weight > 0.0 else np.inf
