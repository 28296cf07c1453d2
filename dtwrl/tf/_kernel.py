"""Private numba kernel for smoothed-min DTW on CPU: value, gradient and expected alignment, batch-parallel.

The same recursion as :mod:`dtwrl.tf._wavefront` (Mensch & Blondel, 2018)::

    R[i, j] = C[i, j] + min_Omega(R[i-1, j-1], R[i-1, j], R[i, j-1]),  R[-1, -1] = 0,

run pair by pair (slices of the batch in parallel threads, the GIL released), row by row, in float64
whatever the input dtype. Each cell's three transition weights ``q`` (the
gradient of ``min_Omega``) are stored by the forward pass, so the backward
recursion of Cuturi & Blondel (2017) for ``E = dR[end]/dC`` takes no
exponential: each cell pushes ``E[i, j] * q`` to its three predecessors.

Memory. Nothing of size ``B x n x m`` is built when the costs come from the
series: each row's local costs are computed on the fly from ``x`` and ``y``
and the gradient is chained to ``x`` and ``y`` row by row (``E`` is never
stored). Only the weights of the pairs in flight are held: ``3 x cells`` of
the input dtype per pair and thread, where ``cells`` counts the cells inside
the pair's own lengths and band (a band cuts time and memory alike). With
``block`` rows per block the weights of one block only are held: a first
forward pass keeps one row of R every ``block`` rows (the checkpoints), and
the backward pass recomputes each block's weights from its checkpoint before
running through it: one more forward pass for ``O(block x m + n x m / block)``
memory instead of ``O(n x m)`` (memory-light mode, ``block ~ sqrt(n)``).

Every pair has its own lengths ``(nb, mb)`` and its Sakoe-Chiba band (the
docs/ARCHITECTURE.md formula): row ``i`` holds the columns
``j`` with ``|j (nb - 1) - i (mb - 1)| <= band * min(nb - 1, mb - 1)``, a
contiguous span, so a banded pair costs ``O(cells in band)``. A corridor
(:mod:`dtwrl.corridors`: any per-row spans ``[lo, hi]``, monotone and connected)
replaces the band's spans, so a pair costs ``O(cells in its corridor)``.

The entry points assume validated input (the wrappers in :mod:`dtwrl.tf.sdtw`).
"""

import math

import numpy as np
from numba import njit

ENTROPY, L2 = 0, 1
REGULARIZER_CODES = {"entropy": ENTROPY, "l2": L2}
SQEUCLIDEAN, EUCLIDEAN, ABS, PRECOMPUTED = 0, 1, 2, 3
METRIC_CODES = {"sqeuclidean": SQEUCLIDEAN, "euclidean": EUCLIDEAN, "abs": ABS}
VALUE, GRADIENT, ALIGNMENT = 0, 1, 2
IN_FLIGHT = 4  # rows of a pair computed together by the forward pass (skewed wavefront of rows)
SLOTS = IN_FLIGHT + 1  # row buffers: the rows in flight and the one before them
_INF = np.inf


@njit(inline="always")
def _exp_gap(gap, single):
    """exp(gap) for a gap <= 0 (or -inf), in float32 arithmetic when ``single`` (float32 input), as float64."""
    if single:
        return np.float64(math.exp(np.float32(gap)))
    return math.exp(gap)


@njit(inline="always")
def _log1p(t, single):
    if single:
        return np.float64(math.log1p(np.float32(t)))
    return math.log1p(t)


@njit(inline="always")
def _smoothed_min3(a, b, c, gamma, inv_gamma, regularizer, single):
    """(value, qa, qb, qc) of the smoothed min of three float64 candidates (+inf allowed).

    All three +inf: value +inf, weights 0. A +inf candidate gets weight exactly 0.
    The same expressions as ``_wavefront._smoothed_min3``. With ``single`` (float32 input) the
    exponentials and the logarithm run in float32 (half the latency; their relative error, 6e-8,
    is that of the float32 result), the rest in float64.
    """
    amin = min(a, min(b, c))
    if amin == _INF:
        return _INF, 0.0, 0.0, 0.0
    if regularizer == ENTROPY:
        # two exponentials: the min's own term is exp(0) = 1
        if a == amin:
            tb, tc = _exp_gap((amin - b) * inv_gamma, single), _exp_gap((amin - c) * inv_gamma, single)
            scale = 1.0 / (1.0 + tb + tc)
            return amin - gamma * _log1p(tb + tc, single), scale, tb * scale, tc * scale
        if b == amin:
            ta, tc = _exp_gap((amin - a) * inv_gamma, single), _exp_gap((amin - c) * inv_gamma, single)
            scale = 1.0 / (1.0 + ta + tc)
            return amin - gamma * _log1p(ta + tc, single), ta * scale, scale, tc * scale
        ta, tb = _exp_gap((amin - a) * inv_gamma, single), _exp_gap((amin - b) * inv_gamma, single)
        scale = 1.0 / (1.0 + ta + tb)
        return amin - gamma * _log1p(ta + tb, single), ta * scale, tb * scale, scale
    # squared L2: q = sparsemax(-a / gamma); sorted gaps to the min (in units of gamma) 0 <= d2 <= d3
    da, db, dc = (a - amin) * inv_gamma, (b - amin) * inv_gamma, (c - amin) * inv_gamma
    d2 = max(min(da, db), min(max(da, db), dc))
    d3 = max(max(da, db), dc)
    if 1.0 + d2 > 2.0 * d3:
        thresh = (1.0 + d2 + d3) / 3.0
    elif d2 < 1.0:
        thresh = 0.5 * (1.0 + d2)
    else:
        thresh = 1.0
    qa, qb, qc = max(thresh - da, 0.0), max(thresh - db, 0.0), max(thresh - dc, 0.0)
    penalty = 0.5 * (qa * qa + qb * qb + qc * qc)
    if qa > 0.0:
        penalty += qa * da
    if qb > 0.0:
        penalty += qb * db
    if qc > 0.0:
        penalty += qc * dc
    return amin + gamma * penalty, qa, qb, qc


@njit
def _spans(nb, mb, band, corridor):
    """(lo, hi) (nb,) int64: row i of a pair holds the columns lo[i] <= j < hi[i].

    From the pair's corridor (nb, 2) of inclusive bounds when it has rows, else from the band
    (docs/ARCHITECTURE.md).
    """
    if corridor.shape[0] > 0:
        return corridor[:nb, 0].copy(), corridor[:nb, 1] + 1
    lo = np.zeros(nb, np.int64)
    hi = np.full(nb, mb, np.int64)
    if band >= 0 and nb > 1 and mb > 1:
        rows, cols = nb - 1, mb - 1
        width = band * min(rows, cols)
        for i in range(nb):
            centre = i * cols
            lo[i] = max(0, -((width - centre) // rows))  # ceil((centre - width) / rows)
            hi[i] = min(mb, (centre + width) // rows + 1)
    return lo, hi


@njit(inline="always")
def _row_costs(x, y, D, b, i, lo, hi, metric, out):
    """Local costs C[i, lo:hi] of pair b into out[lo:hi] (float64)."""
    if metric == PRECOMPUTED:
        for j in range(lo, hi):
            out[j] = D[b, i, j]
        return
    d = x.shape[2]
    for j in range(lo, hi):
        s = 0.0
        for k in range(d):
            diff = np.float64(x[b, i, k]) - np.float64(y[b, j, k])
            s += abs(diff) if metric == ABS else diff * diff
        out[j] = math.sqrt(s) if metric == EUCLIDEAN else s


@njit(inline="always")
def _forward_rows(x, y, D, b, r0, r1, lo, hi, metric, gamma, inv_gamma, regularizer, rows, written, costs, weights):
    """Forward pass over the rows r0 .. r1-1 of pair b, from R[r0 - 1] held in rows[(r0 - 1) % SLOTS].

    ``rows`` (SLOTS, mb + 1) float64 holds R[i] at ``rows[i % SLOTS, j + 1]`` (slot 0 is column -1, +inf);
    every slot outside the cells written is +inf: ``written[p]`` is the span last written into row buffer
    p, reset to +inf before the buffer is reused. ``weights`` (3, cells of the block) or a (3, 0) array:
    where to store each cell's transition weights (diagonal, up, left), block-row-major.

    ``IN_FLIGHT`` rows run at once, skewed by one column each (cell (i + r, t - r) at step t): their cells
    are independent, so the latency of one cell's exponentials and logarithm overlaps the others'.
    """
    store = weights.shape[1] > 0
    single = weights.itemsize == 4
    offsets = np.zeros(IN_FLIGHT + 1, np.int64)
    for i in range(r0, r1, IN_FLIGHT):
        count = min(IN_FLIGHT, r1 - i)
        for r in range(count):
            p = (i + r) % SLOTS
            for q in range(written[p, 0], written[p, 1]):
                rows[p, q] = _INF
            written[p, 0], written[p, 1] = lo[i + r] + 1, hi[i + r] + 1
            _row_costs(x, y, D, b, i + r, lo[i + r], hi[i + r], metric, costs[r])
            offsets[r + 1] = offsets[r] + hi[i + r] - lo[i + r]
        for t in range(lo[i], hi[i + count - 1] + count - 1):
            for r in range(count):
                row, j = i + r, t - r
                if j >= lo[row] and j < hi[row]:
                    prev, cur = rows[(row - 1) % SLOTS], rows[row % SLOTS]
                    soft, qd, qu, ql = _smoothed_min3(
                        prev[j], prev[j + 1], cur[j], gamma, inv_gamma, regularizer, single
                    )
                    cur[j + 1] = costs[r, j] + soft
                    if store:
                        w = offsets[r] + j - lo[row]
                        weights[0, w] = qd
                        weights[1, w] = qu
                        weights[2, w] = ql
        offsets[0] = offsets[count]


@njit(inline="always")
def _push_gradient(x, y, b, i, lo, hi, metric, e, gx, gy):
    """Chain row i of E (e[lo:hi]) to the gradients of pair b: gx[i] += sum_j e_j dC_ij/dx_i, gy[j] likewise."""
    d = x.shape[2]
    for j in range(lo, hi):
        ej = e[j]
        if ej == 0.0:
            continue
        if metric == EUCLIDEAN:
            s = 0.0
            for k in range(d):
                diff = np.float64(x[b, i, k]) - np.float64(y[b, j, k])
                s += diff * diff
            if s == 0.0:
                continue
            ej = ej / math.sqrt(s)
        for k in range(d):
            diff = np.float64(x[b, i, k]) - np.float64(y[b, j, k])
            if metric == SQEUCLIDEAN:
                g = 2.0 * ej * diff
            elif metric == EUCLIDEAN:
                g = ej * diff
            else:
                g = ej if diff > 0.0 else (-ej if diff < 0.0 else 0.0)
            gx[i, k] += g
            gy[j, k] -= g


@njit(inline="always")
def _backward_rows(x, y, b, r0, r1, lo, hi, nb, mb, metric, weights, acc, e, gx, gy, E):
    """Backward pass over rows r1-1 .. r0 of pair b, consuming the block's stored weights.

    ``acc`` (2, mb + 1): accumulated E of rows i and i-1 (``acc[i % 2, j + 1]``), zero elsewhere; each cell,
    once final, pushes ``E * q`` to its three predecessors. Row i of E goes to the gradients (``gx``, ``gy``)
    or to ``E[b, i]`` (when E has cells).
    """
    k = weights.shape[1]
    for i in range(r1 - 1, r0 - 1, -1):
        cur, prev = acc[i % 2], acc[(i + 1) % 2]
        a, c = lo[i], hi[i]
        k -= c - a
        for j in range(c - 1, a - 1, -1):
            ej = cur[j + 1]
            if i == nb - 1 and j == mb - 1:
                ej += 1.0
            e[j] = ej
            w = k + j - a
            cur[j] += ej * weights[2, w]
            prev[j] += ej * weights[0, w]
            prev[j + 1] += ej * weights[1, w]
        if E.shape[1] > 0:
            for j in range(a, c):
                E[b, i, j] = e[j]
        else:
            _push_gradient(x, y, b, i, a, c, metric, e, gx, gy)
        for p in range(a, c + 1):
            cur[p] = 0.0


@njit(inline="always")
def _pair(x, y, D, b, nb, mb, band, corridor, metric, gamma, regularizer, want, block, gx, gy, E):
    """Value of pair b (and, per ``want``, its gradients or alignment, written in place)."""
    inv_gamma = 1.0 / gamma
    lo, hi = _spans(nb, mb, band, corridor)
    rows = np.full((SLOTS, mb + 1), _INF)
    rows[SLOTS - 1, 0] = 0.0  # R[-1, -1] = 0 (row -1 lives in the last buffer)
    written = np.zeros((SLOTS, 2), np.int64)
    written[SLOTS - 1, 1] = 1
    costs = np.empty((IN_FLIGHT, mb))
    dtype = x.dtype
    none = np.empty((3, 0), dtype)
    if want == VALUE:
        _forward_rows(x, y, D, b, 0, nb, lo, hi, metric, gamma, inv_gamma, regularizer, rows, written, costs, none)
        return rows[(nb - 1) % SLOTS, mb]
    nblocks = (nb + block - 1) // block
    # checkpoints: R[r0 - 1] of each block r0 = s * block (a first, storage-free pass when there are several blocks)
    checkpoints = np.empty((nblocks, mb + 1))
    checkpoints[0] = rows[SLOTS - 1]
    for s in range(1, nblocks):
        r0 = (s - 1) * block
        _forward_rows(
            x, y, D, b, r0, r0 + block, lo, hi, metric, gamma, inv_gamma, regularizer, rows, written, costs, none
        )
        checkpoints[s] = rows[(r0 + block - 1) % SLOTS]
    acc = np.zeros((2, mb + 1))
    e = np.zeros(mb)
    value = 0.0
    for s in range(nblocks - 1, -1, -1):
        r0, r1 = s * block, min(nb, (s + 1) * block)
        rows[:] = _INF
        rows[(r0 - 1) % SLOTS] = checkpoints[s]
        written[:] = 0
        written[(r0 - 1) % SLOTS, 1] = mb + 1
        cells = 0
        for i in range(r0, r1):
            cells += hi[i] - lo[i]
        weights = np.empty((3, cells), dtype)
        _forward_rows(x, y, D, b, r0, r1, lo, hi, metric, gamma, inv_gamma, regularizer, rows, written, costs, weights)
        if s == nblocks - 1:
            value = rows[(nb - 1) % SLOTS, mb]
        _backward_rows(x, y, b, r0, r1, lo, hi, nb, mb, metric, weights, acc, e, gx, gy, E)
    return value


@njit(nogil=True, cache=True)
def batch(x, y, D, x_lengths, y_lengths, band, corridor, metric, gamma, regularizer, want, block):
    """Smoothed DTW of every pair of a batch (releases the GIL: callers run slices of the batch in threads).

    Parameters
    ----------
    x, y : (B, n, d), (B, m, d) float32/float64 series, or (1, 1, 1) placeholders of D's dtype when
        ``metric == PRECOMPUTED``.
    D : (B, n, m) costs when ``metric == PRECOMPUTED``, else a (1, 1, 1) placeholder.
    x_lengths, y_lengths : (B,) int64, each pair's valid rows and columns.
    band : Sakoe-Chiba half-width, or -1 for none.
    corridor : (B, n, 2) int64 inclusive column bounds of each row of each pair (a validated corridor,
        :func:`dtwrl.tf.checks.check_corridor`; it replaces the band), or a (B, 0, 2) array for none.
    metric, regularizer, want : the codes of this module.
    gamma : float > 0.
    block : rows per block of stored weights (``>= n`` stores a pair's weights at once).

    Returns
    -------
    values : (B,) float64
    gx, gy : (B, n, d), (B, m, d) float64 gradients of each value (zeros unless ``want == GRADIENT``)
    E : (B, n, m) float64 expected alignment (``want == ALIGNMENT``), else (B, 0, 0)
    """
    B = x_lengths.shape[0]
    grads = want == GRADIENT
    gx = np.zeros((B, x.shape[1], x.shape[2]) if grads else (B, 0, 0))
    gy = np.zeros((B, y.shape[1], y.shape[2]) if grads else (B, 0, 0))
    n, m = (D.shape[1], D.shape[2]) if metric == PRECOMPUTED else (x.shape[1], y.shape[1])
    E = np.zeros((B, n, m) if want == ALIGNMENT else (B, 0, 0))
    values = np.empty(B)
    for b in range(B):
        values[b] = _pair(
            x,
            y,
            D,
            b,
            x_lengths[b],
            y_lengths[b],
            band,
            corridor[b],
            metric,
            gamma,
            regularizer,
            want,
            block,
            gx[b],
            gy[b],
            E,
        )
    return values, gx, gy, E
