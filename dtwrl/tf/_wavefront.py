"""Private anti-diagonal dynamic-programming engine behind soft-DTW and smoothed DTW.

One engine serves every smoothed-min DTW in dtwrl (Mensch & Blondel, 2018):

    R[i, j] = D[i, j] + min_Omega(R[i-1, j-1], R[i-1, j], R[i, j-1]),  R[-1, -1] = 0,

with ``min_Omega`` the negentropy soft-min (soft-DTW, Cuturi & Blondel 2017) or the
squared-L2 (sparsemax) smoothed min. A cell's three *transition weights*
``q = grad min_Omega`` (non-negative, summing to one) drive the backward
recursion for ``E = dR[end]/dD`` and the Hessian-vector product.

Layout. Costs are read batch-last, ``(n, m, B)``. The sweeps run over the
``K = n + m - 1`` anti-diagonals ``i + j = k`` with ``tf.while_loop``: each
step gathers the rows of one diagonal (indexed by the row ``i``; off-grid
slots hold ``+inf``) and updates all its cells of the whole batch at once.
Diagonal ``k`` has cells only in rows ``max(0, k - m + 1) .. min(k, n - 1)``,
so the diagonals are cut into a few consecutive *phases* (one loop each), each
working on the static row window that holds every cell of its diagonals: a
square grid's sweeps touch about 60% of the ``K * n`` slots instead of all of
them. The forward sweep writes the diagonals of R in place into one buffer
``(K + 2, n + 1, B)`` (the two virtual start diagonals first, and a sentinel
row ``i = -1`` in each) and reads its two predecessors back from it; the
backward sweeps recompute each diagonal's weights from the two stored
diagonals before it with the forward's own expression (one third of the memory
of storing three weights per cell, and no exponential of an R difference
across a cost). Every sweep is compiled with XLA.

The sweeps assume validated input: the public wrappers in :mod:`dtwrl.tf.sdtw`
and :mod:`dtwrl.tf.smoothed` validate with :mod:`dtwrl.tf.checks` before they
call :func:`dp_value` or :func:`dp_alignment`.
"""

import functools

import numpy as np
import tensorflow as tf
from tensorflow.compiler.tf2xla.python.xla import dynamic_slice, dynamic_update_slice

REGULARIZERS = ("entropy", "l2")


# ----------------------------------------------------------------------------
# the smoothed min of three candidates and its Jacobian
# ----------------------------------------------------------------------------
def _smoothed_min3(a, b, c, gamma, regularizer):
    """Smoothed min of three same-shape tensors (entries may be +inf).

    Returns ``(value, (qa, qb, qc))``: the smoothed min and its gradient, the
    transition weights. Where all three are +inf the value is +inf and the
    weights are 0; a +inf candidate always gets weight exactly 0.
    """
    amin = tf.minimum(tf.minimum(a, b), c)
    finite = tf.math.is_finite(amin)
    base = tf.where(finite, amin, tf.zeros_like(amin))
    inv_gamma = 1.0 / gamma
    if regularizer == "entropy":
        # -gamma log sum exp(-a / gamma) with the min subtracted: the min's term is exp(0) = 1,
        # so two exponentials per cell (of the middle and the largest candidate) suffice
        amid = tf.maximum(tf.minimum(a, b), tf.minimum(tf.maximum(a, b), c))
        amax = tf.maximum(tf.maximum(a, b), c)
        e_mid = tf.exp((base - amid) * inv_gamma)
        e_max = tf.exp((base - amax) * inv_gamma)
        tail = e_mid + e_max
        value = tf.where(finite, base - gamma * tf.math.log1p(tail), amin)
        scale = tf.where(finite, 1.0 / (1.0 + tail), tf.zeros_like(tail))
        one = tf.ones_like(tail)

        def weight(v):
            return tf.where(tf.equal(v, amin), one, tf.where(tf.equal(v, amax), e_max, e_mid)) * scale

        return value, (weight(a), weight(b), weight(c))
    da, db, dc = (a - base) * inv_gamma, (b - base) * inv_gamma, (c - base) * inv_gamma
    # squared L2: q = sparsemax(-a / gamma); in units of gamma the sorted gaps to the
    # min are 0 <= d2 <= d3, and the support holds 1, 2 or 3 candidates.
    d2 = tf.maximum(tf.minimum(da, db), tf.minimum(tf.maximum(da, db), dc))
    d3 = tf.maximum(tf.maximum(da, db), dc)
    one = tf.ones_like(d2)
    thresh = tf.where(1.0 + d2 > 2.0 * d3, (1.0 + d2 + d3) / 3.0, tf.where(d2 < 1.0, 0.5 * (1.0 + d2), one))
    qa, qb, qc = tf.nn.relu(thresh - da), tf.nn.relu(thresh - db), tf.nn.relu(thresh - dc)
    zero = tf.zeros_like(qa)
    penalty = (
        tf.where(qa > 0, qa * da, zero)
        + tf.where(qb > 0, qb * db, zero)
        + tf.where(qc > 0, qc * dc, zero)
        + 0.5 * (qa * qa + qb * qb + qc * qc)
    )
    value = tf.where(finite, base + gamma * penalty, amin)
    return value, (qa, qb, qc)


def _weight_jvp(q, rdot, gamma, regularizer):
    """Directional derivative of the transition weights q of a cell.

    ``q`` and ``rdot`` are triples (weights and tangents of the three
    predecessors). With ``w = q`` (entropy) or ``w = 1[q > 0]`` (squared L2),
    ``dq_p = -(w_p / gamma) * (rdot_p - sum_r w_r rdot_r / sum_r w_r)``.
    """
    if regularizer == "entropy":
        w = q
    else:
        w = tuple(tf.cast(qp > 0, qp.dtype) for qp in q)
    wsum = w[0] + w[1] + w[2]
    mean = tf.math.divide_no_nan(w[0] * rdot[0] + w[1] * rdot[1] + w[2] * rdot[2], wsum)
    inv_gamma = 1.0 / gamma
    return tuple(-inv_gamma * wp * (rp - mean) for wp, rp in zip(w, rdot))


# ----------------------------------------------------------------------------
# anti-diagonals of a (n, m, B) grid
# ----------------------------------------------------------------------------
def _diagonal(D, k, fill, lo=0, width=None):
    """Rows ``lo .. lo + width - 1`` (all rows by default) of the anti-diagonal ``i + j = k`` of D (n, m, B).

    Returns (width, B), indexed by row; ``fill`` off the grid.
    """
    shape = tf.shape(D)
    n, m = shape[0], shape[1]
    i = lo + tf.range(n if width is None else width)
    j = k - i
    cells = tf.gather_nd(D, tf.stack([i, tf.clip_by_value(j, 0, m - 1)], axis=1))
    return tf.where(((j >= 0) & (j < m))[:, None], cells, tf.cast(fill, D.dtype))


def _segments(n, m):
    """Split the anti-diagonals into phases ``(k0, k1, lo, width)`` of static row windows.

    Diagonal ``k`` has its cells in rows ``max(0, k - m + 1) .. min(k, n - 1)``;
    each phase of consecutive diagonals works on the rows ``lo .. lo + width - 1``
    that hold every cell of its diagonals, so the sweeps skip the off-grid half of
    a square grid's diagonals (about 60% of the slots remain with 8 phases instead
    of 100%). Without static ``n`` and ``m`` there is one phase over all rows.
    """
    if not isinstance(n, int) or not isinstance(m, int):
        return [(0, n + m - 1, 0, n)]
    K = n + m - 1
    count = max(1, min(8, K // 32))
    bounds = [round(s * K / count) for s in range(count + 1)]
    phases = []
    for k0, k1 in zip(bounds[:-1], bounds[1:]):
        lo, hi = max(0, k0 - m + 1), min(k1 - 1, n - 1)
        phases.append((k0, k1, lo, hi - lo + 1))
    return phases


def _static_nm(X):
    """(n, m) of a (n, m, ...) tensor, as Python ints where static."""
    n, m = X.shape[0], X.shape[1]
    shape = tf.shape(X)
    return (n if n is not None else shape[0]), (m if m is not None else shape[1])


def _sweep(phases, body, state, reverse=False):
    """Run ``state = body(k, *state, lo=lo, width=width)`` over every diagonal of every phase, in order or reversed.

    One ``tf.while_loop`` per phase, so that each phase's row window has a static size.
    """
    for k0, k1, lo, width in reversed(phases) if reverse else phases:
        step = functools.partial(body, lo=lo, width=width)
        if reverse:
            state = tf.while_loop(
                lambda k, *_, k0=k0: k >= k0,
                lambda k, *st, step=step: (k - 1, *step(k, *st)),
                (k1 - 1, *state),
                maximum_iterations=k1 - k0,
            )[1:]
        else:
            state = tf.while_loop(
                lambda k, *_, k1=k1: k < k1,
                lambda k, *st, step=step: (k + 1, *step(k, *st)),
                (k0, *state),
                maximum_iterations=k1 - k0,
            )[1:]
    return state


def _grid(Xs, m):
    """Diagonal-major (K, n, B) back to the grid (n, m, B): ``X[i, j] = Xs[i + j, i]``."""
    n = tf.shape(Xs)[1]
    i = tf.broadcast_to(tf.range(n)[:, None], (n, m))
    j = tf.broadcast_to(tf.range(m)[None, :], (n, m))
    return tf.gather_nd(Xs, tf.stack([i + j, i], axis=-1))


def band_allowed(n, m, band, x_lengths, y_lengths):
    """(n, m, B) mask of the Sakoe-Chiba band of each pair, from its own lengths.

    Cell (i, j) of pair b is allowed iff ``nb == 1`` or ``mb == 1`` or
    ``|j (nb - 1) - i (mb - 1)| <= band * min(nb - 1, mb - 1)``
    (docs/ARCHITECTURE.md), with ``nb, mb`` the pair's lengths.
    """
    i = tf.range(n, dtype=tf.int64)[:, None, None]
    j = tf.range(m, dtype=tf.int64)[None, :, None]
    nb = tf.cast(x_lengths, tf.int64)[None, None, :] - 1
    mb = tf.cast(y_lengths, tf.int64)[None, None, :] - 1
    lhs = tf.abs(j * nb - i * mb)
    return (lhs <= band * tf.minimum(nb, mb)) | (nb == 0) | (mb == 0)


# ----------------------------------------------------------------------------
# the three sweeps
# ----------------------------------------------------------------------------
def _predecessors(Rs, k, lo, width):
    """The three predecessors (diagonal, up, left) of rows ``lo .. lo + width - 1`` of diagonal k, each (width, B).

    ``Rs`` holds the diagonals -2 .. K-1 (index ``k + 2``), each with a leading sentinel row ``i = -1``.
    """
    B = _batch(Rs)
    prev2 = dynamic_slice(Rs, [k, lo, 0], [1, width + 1, B])[0]
    prev1 = dynamic_slice(Rs, [k + 1, lo, 0], [1, width + 1, B])[0]
    return prev2[:-1], prev1[:-1], prev1[1:]


def _weights(Rs, k, gamma, regularizer, lo, width):
    """Transition weights (3 x (width, B)) of rows ``lo ..`` of diagonal k, from the stored diagonals k-2 and k-1.

    The same expression on the same operands as in the forward sweep, so the
    weights are those the forward pass used; no exponential of an R difference
    taken across a cost (which loses all digits for small gamma) is ever formed.
    """
    return _smoothed_min3(*_predecessors(Rs, k, lo, width), gamma, regularizer)[1]


def _batch(X):
    """The batch size (last axis) of X, a Python int where static."""
    return X.shape[-1] if X.shape[-1] is not None else tf.shape(X)[-1]


def _geometry(Rs):
    """(n, m, K) of the stored diagonals (K + 2, n + 1, B), Python ints where static."""
    K, n1 = Rs.shape[0], Rs.shape[1]
    shape = tf.shape(Rs)
    K = K - 2 if K is not None else shape[0] - 2
    n = n1 - 1 if n1 is not None else shape[1] - 1
    return n, K - n + 1, K


def _forward(D, gamma, regularizer, x_lengths, ends):
    """Forward sweep over the anti-diagonals of costs D (n, m, B).

    ``x_lengths``, ``ends`` (B,) int32 or None: each pair's rows and end
    diagonal ``x_len + y_len - 2``; None when every pair ends at (n-1, m-1).

    Returns
    -------
    value : (B,) R at each pair's end cell.
    Rs : (K + 2, n + 1, B) the diagonals -2 .. K-1 of R, each with a leading
        sentinel row ``i = -1`` (+inf, except ``R[-1, -1] = 0`` on diagonal -2).
        The sweep reads its two previous diagonals from this buffer and writes
        the grid rows of each new one into it in place (no per-step
        concatenation or copy); every other slot keeps its +inf.
    """
    n, m = _static_nm(D)
    B = _batch(D)
    K = n + m - 1
    dtype = D.dtype
    Rs = tf.fill(tf.stack([K + 2, n + 1, B]), tf.constant(np.inf, dtype))
    # R[-1, -1] = 0, written as zeros computed from D (finite or +inf, never NaN): a
    # zero constant would let XLA constant-fold the whole buffer into a literal
    # (seconds of compilation, and a copy of it on every call)
    start = 0.0 * tf.minimum(D[:1, :1, :], tf.constant(1.0, dtype))
    Rs = dynamic_update_slice(Rs, start, [0, 0, 0])

    def body(k, Rs, lo, width):
        soft, _ = _smoothed_min3(*_predecessors(Rs, k, lo, width), gamma, regularizer)
        new = _diagonal(D, k, np.inf, lo, width) + soft
        return (dynamic_update_slice(Rs, new[None], [k + 2, lo + 1, 0]),)

    (Rs,) = _sweep(_segments(n, m), body, (Rs,))
    if ends is None:
        value = Rs[K + 1, n]
    else:
        value = tf.gather_nd(Rs, tf.stack([ends + 2, x_lengths, tf.range(B)], axis=1))
    return value, Rs


def _backward(Rs, gamma, regularizer, x_lengths, ends, source=None):
    """Backward sweep: the expected alignment E (or its tangent), diagonal-major (K, n, B).

    ``E[c] = sum over successors s of c of (E[s] q_s(c) + S_s(c))``, with
    ``q_s(c)`` the weight successor ``s`` gives cell ``c`` and ``S`` the optional
    tangent term ``source = (Es, Qdot)``: ``Es[s] * Qdot_s(c)``. Without a
    source each pair's end cell is seeded with 1, so ``E = dR[end] / dD``.
    Off-grid slots of E are 0.
    """
    n, m, K = _geometry(Rs)
    B = _batch(Rs)
    dtype = Rs.dtype
    # E times the weights of the two diagonals after the current one, each (n + 1, B)
    # with a trailing zero row (the successor row i = n)
    zero = tf.zeros(tf.stack([n + 1, B]), dtype)
    if source is None:
        rows = tf.range(n)[:, None]
        if ends is None:
            seed_rows = tf.equal(rows, n - 1) & tf.ones((1, B), tf.bool)
            ends = tf.fill(tf.reshape(B, [1]), K - 1)
        else:
            seed_rows = tf.equal(rows, (x_lengths - 1)[None, :])
    Es = tf.zeros(tf.stack([K, n, B]), dtype)

    def body(k, fd1, fd2, fu1, fl1, Es, lo, width):
        # fd2: E times diagonal weights of diagonal k+2; fu1, fl1: E times up / left weights of k+1
        e = (fd2 + fu1)[lo + 1 : lo + 1 + width] + fl1[lo : lo + width]
        if source is None:
            e = e + tf.cast(seed_rows[lo : lo + width] & tf.equal(ends, k)[None, :], dtype)
        f = [e * q for q in _weights(Rs, k, gamma, regularizer, lo, width)]
        if source is not None:
            e_k = dynamic_slice(source[0], [k, lo, 0], [1, width, B])[0]
            qdot = dynamic_slice(source[1], [k, 0, lo, 0], [1, 3, width, B])[0]
            f = [fp + e_k * qdot[p] for p, fp in enumerate(f)]
        f = [tf.pad(fp, [[lo, n + 1 - lo - width], [0, 0]]) for fp in f]
        return f[0], fd1, f[1], f[2], dynamic_update_slice(Es, e[None], [k, lo, 0])

    *_, Es = _sweep(_segments(n, m), body, (zero, zero, zero, zero, Es), reverse=True)
    return Es


def _tangent_forward(Rs, Z, gamma, regularizer):
    """Forward tangent sweep along Z (n, m, B): the weights' tangents Qdot (K, 3, n, B), 0 off the grid."""
    n, m, K = _geometry(Rs)
    B = _batch(Rs)
    dtype = Rs.dtype
    Rdot = tf.zeros(tf.stack([K + 2, n + 1, B]), dtype)  # tangents of Rs, same layout
    Qdot = tf.zeros(tf.stack([K, 3, n, B]), dtype)

    def body(k, Rdot, Qdot, lo, width):
        q = _weights(Rs, k, gamma, regularizer, lo, width)
        rdot = _predecessors(Rdot, k, lo, width)
        new = _diagonal(Z, k, 0.0, lo, width) + q[0] * rdot[0] + q[1] * rdot[1] + q[2] * rdot[2]
        qdot = tf.stack(_weight_jvp(q, rdot, gamma, regularizer))
        Rdot = dynamic_update_slice(Rdot, new[None], [k + 2, lo + 1, 0])
        return Rdot, dynamic_update_slice(Qdot, qdot[None], [k, 0, lo, 0])

    _, Qdot = _sweep(_segments(n, m), body, (Rdot, Qdot))
    return Qdot


def _mask_band(D, fill, band, x_lengths, y_lengths):
    """D (n, m, B) with ``fill`` outside each pair's band."""
    if band is None:
        return D
    shape = tf.shape(D)
    xl = tf.fill(shape[2:], shape[0]) if x_lengths is None else x_lengths
    yl = tf.fill(shape[2:], shape[1]) if y_lengths is None else y_lengths
    return tf.where(band_allowed(shape[0], shape[1], band, xl, yl), D, tf.cast(fill, D.dtype))


def _ends(x_lengths, y_lengths):
    return None if x_lengths is None else x_lengths + y_lengths - 2


def _value_sweep(D, gamma, regularizer, band, x_lengths, y_lengths):
    """(value (B,), stored diagonals Rs) of costs D (n, m, B)."""
    D = _mask_band(D, np.inf, band, x_lengths, y_lengths)
    return _forward(D, gamma, regularizer, x_lengths, _ends(x_lengths, y_lengths))


def _alignment_sweep(Rs, gamma, regularizer, x_lengths, y_lengths):
    """(E (n, m, B), diagonal-major E (K, n, B)) from the stored diagonals."""
    Es = _backward(Rs, gamma, regularizer, x_lengths, _ends(x_lengths, y_lengths))
    shape = tf.shape(Rs)
    return _grid(Es, shape[0] - shape[1]), Es  # m = K - n + 1 with K = shape[0] - 2


def _hvp_sweep(Rs, Es, Z, gamma, regularizer, band, x_lengths, y_lengths):
    """Hessian-vector product (n, m, B) of the value along Z (n, m, B)."""
    Z = _mask_band(Z, 0.0, band, x_lengths, y_lengths)
    Qdot = _tangent_forward(Rs, Z, gamma, regularizer)
    Edot = _backward(Rs, gamma, regularizer, x_lengths, _ends(x_lengths, y_lengths), source=(Es, Qdot))
    return _grid(Edot, tf.shape(Z)[1])


# Each sweep is compiled by XLA once per shape: the loops run as fused native code
# eagerly, inside tf.function and (inlined) inside an outer jit_compile=True function.
# No reduce_retracing: the phases of a sweep need the static n and m of each shape
_compile = functools.partial(tf.function, autograph=False, jit_compile=True)
_value_sweep_fn = _compile(_value_sweep)
_alignment_sweep_fn = _compile(_alignment_sweep)
_hvp_sweep_fn = _compile(_hvp_sweep)
# The sweeps are never differentiated by autodiff (the custom gradients below stand in
# for that), so their tensor inputs are cut from any tape with tf.stop_gradient.
_cut = tf.stop_gradient


# ----------------------------------------------------------------------------
# differentiable entry points on cost grids (n, m, B)
# ----------------------------------------------------------------------------
def _alignment_from_rows(D, Rs, gamma, regularizer, band, x_lengths, y_lengths):
    """E = dR[end]/dD (n, m, B) from the stored diagonals, with the Hessian-vector product as its gradient."""

    @tf.custom_gradient
    def alignment(D, Rs):
        E, Es = _alignment_sweep_fn(_cut(Rs), gamma, regularizer, x_lengths, y_lengths)

        def grad(Z):
            return _hvp_sweep_fn(_cut(Rs), _cut(Es), _cut(Z), gamma, regularizer, band, x_lengths, y_lengths), None

        return E, grad

    return alignment(D, Rs)


def dp_value(D, gamma, regularizer, band=None, x_lengths=None, y_lengths=None):
    """Smoothed DTW value (B,) of validated costs D laid out (n, m, B); differentiable twice."""
    gamma = tf.constant(gamma, D.dtype)

    @tf.custom_gradient
    def value(D):
        val, Rs = _value_sweep_fn(_cut(D), gamma, regularizer, band, x_lengths, y_lengths)

        def grad(g):
            E = _alignment_from_rows(D, _cut(Rs), gamma, regularizer, band, x_lengths, y_lengths)
            return g[None, None, :] * E

        return val, grad

    return value(D)


def dp_alignment(D, gamma, regularizer, band=None, x_lengths=None, y_lengths=None):
    """Expected alignment (n, m, B) = dR[end]/dD of validated costs laid out (n, m, B); differentiable."""
    gamma = tf.constant(gamma, D.dtype)
    _, Rs = _value_sweep_fn(_cut(D), gamma, regularizer, band, x_lengths, y_lengths)
    return _alignment_from_rows(D, Rs, gamma, regularizer, band, x_lengths, y_lengths)
