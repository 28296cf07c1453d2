"""soft-DTW in TensorFlow: value, expected alignment and divergence, batched.

soft-DTW (Cuturi & Blondel, 2017) replaces the min of the DTW recursion by the
soft-min ``min_gamma(a) = -gamma log sum_k exp(-a_k / gamma)``::

    R[i, j] = D[i, j] + min_gamma(R[i-1, j-1], R[i-1, j], R[i, j-1]),   R[-1, -1] = 0,
    soft_dtw = R[n-1, m-1] = -gamma log sum over warping paths P of exp(-<P, D> / gamma).

The forward pass runs over the ``n + m - 1`` anti-diagonals, each one a
vectorised update of the whole batch. The gradient is a ``tf.custom_gradient``:
the backward recursion of Cuturi & Blondel over the anti-diagonals, driven by
the transition weights stored by the forward pass. The expected alignment
``E = d soft_dtw / dD`` is itself differentiable: its gradient is the
Hessian-vector product of soft-DTW (Mensch & Blondel, 2018), so second-order
losses (e.g. DILATE's temporal term ``<E, Omega>``) train. Everything works
eagerly, inside ``tf.function`` and under ``jit_compile=True`` (XLA).

Batches are ``(B, n, d)`` and ``(B, m, d)``; a rank-2 ``(B, n)`` input is a
batch of univariate series. ``n`` and ``m`` may differ; ``x_lengths`` and
``y_lengths`` (int, shape ``(B,)``) give each pair its own lengths: the value
is read at the pair's own end cell and the padding gets exactly zero
gradient. The band is the Sakoe-Chiba band of docs/ARCHITECTURE.md, computed
per pair from its own lengths.

Three engines compute it (``implementation``): the anti-diagonal wavefront
compiled by XLA (``"tf"``: everywhere, and the engine under ``jit_compile=True``
and on GPU); on CPU a SIMD kernel that runs 16 float32 (8 float64) pairs at once,
one per vector lane (``"kernel"``, C++ built on first use), and a numba kernel,
parallel over the pairs, with float64 accumulation (``"numba"``, with a
memory-light mode ``"light"`` for long series). The compiled kernels compute the
local costs on the fly, never build a ``B x n x m`` tensor for the value and its
gradient, and visit only the cells in the band.
``implementation="auto"`` picks the wavefront under ``jit_compile=True`` and on
GPU, the lane kernel on CPU from two pairs on, and for one pair the wavefront or,
past the memory budget or for a narrow band, the numba kernel
(:mod:`dtwrl.tf._kernel_ops` has the rule and the ``DTWRL_SOFT_DTW_IMPL`` /
``DTWRL_SOFT_DTW_MEMORY_MB`` overrides). All give the same values and gradients
to the rounding of the dtype.

Bad input raises ``ValueError`` (``TypeError`` for a wrong type) naming the
argument (:mod:`dtwrl.tf.checks`). Inside ``tf.function`` a check on values known
only at run time raises ``tf.errors.InvalidArgumentError`` naming the argument;
under ``jit_compile=True`` such a pair's value is NaN instead
(``soft_dtw(..., nonfinite="inf")``: ``+inf`` with a zero gradient in every mode).
``gamma`` and ``1 / gamma`` must be normal numbers of the input's dtype.
"""

import tensorflow as tf

from ..validation import check_gamma, check_metric
from . import _kernel_ops as ko
from . import _wavefront as wf
from . import checks
from .cost import grid_costs


class _GridShape:
    """The static shape (n, m, B) of the cost grid of a pair of batches, without building the grid."""

    def __init__(self, x, y):
        self.shape = tf.TensorShape([x.shape[1], y.shape[1], x.shape[0]])


def _fill_missing_lengths(x, y, x_lengths, y_lengths):
    """``(x_lengths, y_lengths)`` with the one that is None (if only one is) filled with the full length."""
    if (x_lengths is None) == (y_lengths is None):
        return x_lengths, y_lengths
    batch = tf.shape(x)[:1]
    if x_lengths is None:
        return tf.fill(batch, tf.shape(x)[1]), y_lengths
    return x_lengths, tf.fill(batch, tf.shape(y)[1])


def prepare_pair(x, y, gamma, metric, band, x_lengths, y_lengths, implementation="auto", corridor=None):
    """Validate a pair of batches; return (x, y, gamma, metric, band, x_lengths, y_lengths, engine, corridor).

    ``x`` and ``y`` come back as float tensors (B, n, d) and (B, m, d); ``engine`` is the
    resolved implementation (:func:`dtwrl.tf._kernel_ops.resolve`); ``corridor`` an int64 tensor
    (B, n, 2) (:func:`dtwrl.tf.checks.corridor_tensor`) or None.
    """
    gamma = check_gamma(gamma)
    metric = check_metric(metric)
    ko.check_implementation(implementation)
    x, y = checks.as_batch(x, "x"), checks.as_batch(y, "y")
    x, y = checks.check_pair(x, y, metric)
    gamma = checks.check_gamma_dtype(gamma, x.dtype)
    # check_geometry fills a missing side from the grid's dynamic shape; fill it here instead
    x_lengths, y_lengths = _fill_missing_lengths(x, y, x_lengths, y_lengths)
    band, x_lengths, y_lengths = checks.check_geometry(_GridShape(x, y), band, x_lengths, y_lengths)
    if corridor is not None:
        if band is not None:
            raise ValueError(f"band and corridor are exclusive (a corridor holds its own cells); got band={band}")
        corridor = checks.corridor_tensor(corridor, x, y, x_lengths, y_lengths)
    engine = ko.resolve(
        implementation, x.shape[0], x.shape[1], y.shape[1], x.dtype.size, band, corridor=corridor is not None
    )
    return x, y, gamma, metric, band, x_lengths, y_lengths, engine, corridor


def series_value(x, y, gamma, regularizer, metric, band, x_lengths, y_lengths, engine, corridor=None):
    """Smoothed DTW (B,) of validated series by the given engine (within ``corridor``, if any); differentiable twice."""
    if engine == "tf":
        D = grid_costs(x, y, metric)
        D = D if corridor is None else ko.mask_corridor(D, corridor)
        return wf.dp_value(D, gamma, regularizer, band, x_lengths, y_lengths)
    return ko.value_from_series(x, y, gamma, regularizer, metric, band, x_lengths, y_lengths, engine, corridor)


def series_alignment(x, y, gamma, regularizer, metric, band, x_lengths, y_lengths, engine, corridor=None):
    """Expected alignment (B, n, m) of validated series by the given engine; differentiable.

    The alignment is a dense (B, n, m) output: with a corridor, the costs off it are +inf (E is 0 there).
    """
    D = grid_costs(x, y, metric)
    if corridor is not None:
        D = ko.mask_corridor(D, corridor)
    if engine == "tf":
        E = wf.dp_alignment(D, gamma, regularizer, band, x_lengths, y_lengths)
    else:
        E = ko.alignment_from_costs(D, gamma, regularizer, band, x_lengths, y_lengths, engine)
    return to_batch_major(E)


def to_batch_major(E):
    """(n, m, B) -> (B, n, m)."""
    return tf.transpose(E, (2, 0, 1))


def prepare_costs(D, gamma, band, x_lengths, y_lengths, implementation="auto"):
    """Validate a cost batch (B, n, m); return (D laid out (n, m, B), gamma, band, x_lengths, y_lengths, engine)."""
    gamma = check_gamma(gamma)
    ko.check_implementation(implementation)
    D = tf.transpose(checks.check_costs(D, "D"), (1, 2, 0))
    gamma = checks.check_gamma_dtype(gamma, D.dtype)
    band, x_lengths, y_lengths = checks.check_geometry(D, band, x_lengths, y_lengths)
    engine = ko.resolve(implementation, D.shape[2], D.shape[0], D.shape[1], D.dtype.size, band)
    return D, gamma, band, x_lengths, y_lengths, engine


def soft_dtw_from_cost(D, gamma=1.0, band=None, x_lengths=None, y_lengths=None, implementation="auto"):
    """soft-DTW of a batch of cost matrices.

    Parameters
    ----------
    D : tf.Tensor or array_like, shape (B, n, m), float32 or float64
        Local costs ``D[b, i, j]`` of pair ``b``; need not come from a metric.
    gamma : float > 0
        Smoothing; ``gamma -> 0`` gives exact DTW.
    band : int >= 0 or None
        Sakoe-Chiba half-width (docs/ARCHITECTURE.md formula, per pair).
    x_lengths, y_lengths : int array_like, shape (B,), optional
        Valid rows / columns of each pair (``1 <= x_lengths <= n``); a side
        left at None uses its full size.
    implementation : {"auto", "tf", "kernel", "numba", "light"}
        Engine (module docstring): "auto" runs the SIMD lane kernel on CPU from
        two pairs on, else the XLA wavefront (always under ``jit_compile=True``
        and on GPU), or the numba kernel for one long or narrowly banded pair.

    Returns
    -------
    tf.Tensor, shape (B,), dtype of ``D``
        ``R[b, x_len - 1, y_len - 1]`` with ``R`` the soft-DTW recursion
        (module docstring). Differentiable twice in ``D``.

    Examples
    --------
    >>> import numpy as np
    >>> D = np.array([[[0.0, 1.0], [1.0, 0.0]]])
    >>> round(float(soft_dtw_from_cost(D, gamma=1e-3)[0]), 6)
    0.0
    """
    D, gamma, band, x_lengths, y_lengths, engine = prepare_costs(D, gamma, band, x_lengths, y_lengths, implementation)
    if engine == "tf":
        return wf.dp_value(D, gamma, "entropy", band, x_lengths, y_lengths)
    return ko.value_from_costs(D, gamma, "entropy", band, x_lengths, y_lengths, engine)


def soft_dtw_alignment_from_cost(D, gamma=1.0, band=None, x_lengths=None, y_lengths=None, implementation="auto"):
    """Expected alignment ``E = d soft_dtw_from_cost / dD`` of a batch of cost matrices.

    Parameters are those of :func:`soft_dtw_from_cost`.

    Returns
    -------
    tf.Tensor, shape (B, n, m)
        ``E[b, i, j]`` is the probability that cell ``(i, j)`` lies on the path
        under the Gibbs distribution ``p(P) ~ exp(-<P, D> / gamma)``; 0 outside the
        band and the pair's lengths. Its gradient is the soft-DTW Hessian-vector product.

    Examples
    --------
    >>> import numpy as np
    >>> E = soft_dtw_alignment_from_cost(np.zeros((1, 2, 2)), gamma=1.0)
    >>> np.round(E.numpy()[0], 4).tolist()
    [[1.0, 0.3333], [0.3333, 1.0]]
    """
    D, gamma, band, x_lengths, y_lengths, engine = prepare_costs(D, gamma, band, x_lengths, y_lengths, implementation)
    if engine == "tf":
        return to_batch_major(wf.dp_alignment(D, gamma, "entropy", band, x_lengths, y_lengths))
    return to_batch_major(ko.alignment_from_costs(D, gamma, "entropy", band, x_lengths, y_lengths, engine))


def soft_dtw(
    x,
    y,
    gamma=1.0,
    band=None,
    metric="sqeuclidean",
    x_lengths=None,
    y_lengths=None,
    implementation="auto",
    corridor=None,
    nonfinite="error",
):
    """soft-DTW between the pairs of two batches.

    Parameters
    ----------
    x : tf.Tensor or array_like, shape (B, n, d) or (B, n)
    y : tf.Tensor or array_like, shape (B, m, d) or (B, m)
        Same dtype (float32 or float64; integers become float32) and same ``d``.
        Rank 2 means univariate (d = 1).
    gamma : float > 0
        Smoothing strength; ``gamma -> 0`` tends to exact DTW (:func:`dtwrl.dtw`).
    band : int >= 0 or None
        Sakoe-Chiba half-width, per pair from its own lengths.
    metric : {"sqeuclidean", "euclidean", "abs"}
        Local cost (see :func:`dtwrl.tf.cost.pairwise_costs`).
    x_lengths, y_lengths : int array_like, shape (B,), optional
        True lengths of padded series.
    implementation : {"auto", "tf", "kernel", "numba", "light"}
        Engine (module docstring): "auto" runs the SIMD lane kernel on CPU from
        two pairs on, else the XLA wavefront (always under ``jit_compile=True``
        and on GPU), or the numba kernel for one long or narrowly banded pair.
    corridor : int array_like (B, n, 2), str or None
        Restrict each pair to the cells ``lo[b, i] <= j <= hi[b, i]`` of each row
        (inclusive bounds; :mod:`dtwrl.corridors` for the rules and the sources), or a
        source spec such as ``"fastdtw:r=8"`` computed from the current values.
        Exclusive with ``band``. The compiled kernels then take time and memory in
        proportion to the corridor's cells, forward and backward ("auto" picks them
        on CPU); the wavefront ("tf") masks the dense grid.
    nonfinite : {"error", "inf"}
        A pair whose ``x`` or ``y`` holds NaN or inf. "error": ``ValueError``
        eagerly, ``InvalidArgumentError`` in a ``tf.function``, and under
        ``jit_compile=True``, where nothing can raise, the value NaN (module
        docstring). "inf": in every mode, XLA included, the pair's value is
        ``+inf`` and its gradient is zero; the other pairs keep their values
        and gradients. A mean loss then reads ``inf`` (Keras' ``TerminateOnNaN``
        stops on it) while the gradient stays finite. It costs one
        ``is_finite`` pass over ``x`` and ``y``.

    Returns
    -------
    tf.Tensor, shape (B,), dtype of ``x``
        ``-gamma log sum_P exp(-<P, C(x_b, y_b)> / gamma)`` over the warping
        paths ``P`` (inside the band) of each pair.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0, 1.0, 2.0]]); y = np.array([[0.0, 2.0]])
    >>> round(float(soft_dtw(x, y, gamma=1e-3)[0]), 4)   # DTW is 1.0, by two paths: 1 - 1e-3 log 2
    0.9993
    >>> round(float(soft_dtw(x, y, gamma=1.0)[0]), 4)
    0.1227
    >>> float(soft_dtw([[np.nan, 1.0], [0.0, 1.0]], [[1.0], [1.0]], nonfinite="inf")[0])
    inf
    """
    x, y, finite = checks.mask_nonfinite_pairs(x, y, nonfinite)
    x, y, gamma, metric, band, x_lengths, y_lengths, engine, corridor = prepare_pair(
        x, y, gamma, metric, band, x_lengths, y_lengths, implementation, corridor
    )
    value = series_value(x, y, gamma, "entropy", metric, band, x_lengths, y_lengths, engine, corridor)
    return value if finite is None else tf.where(finite, value, tf.constant(float("inf"), value.dtype))


def soft_dtw_alignment(
    x,
    y,
    gamma=1.0,
    band=None,
    metric="sqeuclidean",
    x_lengths=None,
    y_lengths=None,
    implementation="auto",
    corridor=None,
):
    """Expected alignment ``E = d soft_dtw / dC`` of each pair, differentiable.

    Parameters are those of :func:`soft_dtw` (with a corridor, the alignment is still the
    dense (B, n, m) tensor, 0 off the corridor).

    Returns
    -------
    tf.Tensor, shape (B, n, m)
        Cell-on-path probabilities under ``p(P) ~ exp(-<P, C> / gamma)``; rows
        and columns beyond a pair's lengths are 0. Its gradient (through the
        Hessian-vector product of soft-DTW) reaches ``x`` and ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> E = soft_dtw_alignment(np.array([[0.0, 1.0]]), np.array([[0.0, 1.0]]), gamma=0.01)
    >>> np.round(E.numpy()[0], 3).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    x, y, gamma, metric, band, x_lengths, y_lengths, engine, corridor = prepare_pair(
        x, y, gamma, metric, band, x_lengths, y_lengths, implementation, corridor
    )
    return series_alignment(x, y, gamma, "entropy", metric, band, x_lengths, y_lengths, engine, corridor)


def soft_dtw_divergence(
    x,
    y,
    gamma=1.0,
    band=None,
    metric="sqeuclidean",
    x_lengths=None,
    y_lengths=None,
    implementation="auto",
    corridor=None,
):
    """soft-DTW divergence (Blondel, Mensch & Vert, 2021).

    ``div(x, y) = sdtw(x, y) - (sdtw(x, x) + sdtw(y, y)) / 2``, each term with
    the pair's own lengths. It is 0 at ``x == y`` and non-negative for the
    "sqeuclidean" cost.

    Parameters are those of :func:`soft_dtw`, but ``corridor`` must be a source
    spec (:mod:`dtwrl.corridors`): each of the three terms gets the corridor the
    source computes for its own pair (an array made for ``(x, y)`` does not fit
    ``(x, x)`` and ``(y, y)``).

    Returns
    -------
    tf.Tensor, shape (B,)

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0, 1.0, 2.0]])
    >>> float(soft_dtw_divergence(x, x)[0])
    0.0
    """
    gamma = check_gamma(gamma)
    metric = check_metric(metric)
    ko.check_implementation(implementation)
    x, y = checks.as_batch(x, "x"), checks.as_batch(y, "y")
    x, y = checks.check_pair(x, y, metric)
    gamma = checks.check_gamma_dtype(gamma, x.dtype)
    size = None if x.shape[1] is None or y.shape[1] is None else max(x.shape[1], y.shape[1])
    if corridor is not None and not isinstance(corridor, str):
        raise TypeError(
            f"corridor of soft_dtw_divergence must be a source spec such as 'fastdtw:r=8'; got {corridor!r}"
        )
    if corridor is not None and band is not None:
        raise ValueError(f"band and corridor are exclusive (a corridor holds its own cells); got band={band}")
    engine = ko.resolve(implementation, x.shape[0], size, size, x.dtype.size, band, corridor=corridor is not None)

    def term(a, b, a_lengths, b_lengths):
        band_ab, a_lengths, b_lengths = checks.check_geometry(_GridShape(a, b), band, a_lengths, b_lengths)
        cells = None if corridor is None else checks.corridor_tensor(corridor, a, b, a_lengths, b_lengths)
        return series_value(a, b, gamma, "entropy", metric, band_ab, a_lengths, b_lengths, engine, cells)

    x_lengths = checks.check_lengths(x_lengths, x.shape[1], x.shape[0], "x_lengths")
    y_lengths = checks.check_lengths(y_lengths, y.shape[1], y.shape[0], "y_lengths")
    x_lengths, y_lengths = _fill_missing_lengths(x, y, x_lengths, y_lengths)
    xy = term(x, y, x_lengths, y_lengths)
    return xy - 0.5 * (term(x, x, x_lengths, x_lengths) + term(y, y, y_lengths, y_lengths))
