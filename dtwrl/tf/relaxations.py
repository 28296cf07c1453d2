"""Differentiable relaxations of DTW in TensorFlow: fixed-path DTW and DILATE.

* :func:`path_cost_tf` sums the local costs along given warping paths; its
  gradient reaches only the frames on the paths.
* :func:`fixed_path_dtw` computes the optimal DTW path outside the gradient
  (NumPy, through ``tf.numpy_function``) and differentiates the cost along it:
  the value is exact DTW and the gradient is DTW's subgradient, the gradient of
  the cost of the path that is optimal at the current inputs (DTW's gradient
  wherever that path is the unique optimum).
* :func:`dilate` is DILATE (Le Guen and Thome, 2019): a soft-DTW shape term plus
  a temporal term that penalises alignments far from the diagonal.

Every function takes batches ``y_true (B, n, d)`` and ``y_pred (B, m, d)``
(``(B, n)`` and ``(B, m)`` for univariate series), returns one value per pair,
shape ``(B,)``, in the dtype of ``y_pred`` (``y_true`` is cast to it; NumPy
float arrays keep their dtype, integers become float32).
Bad input raises ``ValueError`` when executing eagerly; inside a
``tf.function`` the NaN/inf and batch-size checks run in the graph and raise
``tf.errors.InvalidArgumentError`` naming the argument.
"""
import numbers

import numpy as np
import tensorflow as tf

from ..aligners import ExactDTWAligner, align_batch, get_aligner, pad_paths
from .sdtw import soft_dtw_alignment_from_cost, soft_dtw_from_cost
from ._wavefront import check_lengths
from .cost import pairwise_costs
from ..validation import check_gamma, check_metric


def _as_batch_tf(x, name, dtype=None):
    """Tensor (B, n, d) of a floating dtype; a rank-2 input is univariate."""
    if not tf.is_tensor(x):
        arr = np.asarray(x)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers; got dtype {arr.dtype}")
        x = tf.convert_to_tensor(arr if arr.dtype.kind == "f" else arr.astype(np.float32))
    if dtype is not None:
        x = tf.cast(x, dtype)
    elif x.dtype.is_integer:
        x = tf.cast(x, tf.float32)
    elif not x.dtype.is_floating:
        raise TypeError(f"{name} must hold real numbers; got dtype {x.dtype.name}")
    rank = x.shape.rank
    if rank == 2:
        x = x[:, :, tf.newaxis]
    elif rank != 3:
        raise ValueError(f"{name} must have shape (B, n) or (B, n, d); got shape {x.shape}")
    if any(size == 0 for size in x.shape):
        raise ValueError(f"{name} must not be empty; got shape {x.shape}")
    if tf.executing_eagerly():
        if not bool(tf.reduce_all(tf.math.is_finite(x))):
            raise ValueError(f"{name} must be finite; it holds NaN or inf")
        return x
    return tf.debugging.assert_all_finite(x, f"{name} must be finite; it holds NaN or inf")


def check_pair_tf(y_true, y_pred):
    """Validate a batch of pairs for the TensorFlow losses.

    Parameters
    ----------
    y_true : tensor-like, shape (B, n) or (B, n, d)
        Cast to the dtype of ``y_pred``.
    y_pred : real tensor-like, shape (B, m) or (B, m, d)

    Returns
    -------
    y_true, y_pred : tf.Tensor, shapes (B, n, d) and (B, m, d)

    Raises
    ------
    ValueError
        Wrong rank, empty, NaN or inf (eagerly), different static batch sizes
        or feature dimensions. In a graph the NaN/inf and dynamic batch-size
        checks raise ``tf.errors.InvalidArgumentError``.

    Examples
    --------
    >>> a, b = check_pair_tf([[0.0, 1.0]], [[0.0, 1.0, 2.0]])
    >>> a.shape.as_list(), b.shape.as_list()
    ([1, 2, 1], [1, 3, 1])
    """
    y_pred = _as_batch_tf(y_pred, "y_pred")
    y_true = _as_batch_tf(y_true, "y_true", dtype=y_pred.dtype)
    for axis, what in ((0, "number of series B"), (2, "number of features d")):
        a, b = y_true.shape[axis], y_pred.shape[axis]
        if a is not None and b is not None and a != b:
            raise ValueError(f"y_true and y_pred must have the same {what}; got {a} and {b}")
    if y_true.shape[0] is None or y_pred.shape[0] is None:
        with tf.control_dependencies(
            [tf.debugging.assert_equal(tf.shape(y_true)[0], tf.shape(y_pred)[0],
                                       message="y_true and y_pred must have the same number of series B")]
        ):
            y_pred = tf.identity(y_pred)
    return y_true, y_pred


def _local_cost_tf(a, b, metric):
    """Local cost between frames a and b (..., d) -> (...); euclidean has gradient 0 at a == b."""
    diff = a - b
    if metric == "abs":
        return tf.reduce_sum(tf.abs(diff), axis=-1)
    sq = tf.reduce_sum(tf.square(diff), axis=-1)
    if metric == "sqeuclidean":
        return sq
    positive = sq > 0
    return tf.where(positive, tf.sqrt(tf.where(positive, sq, tf.ones_like(sq))), tf.zeros_like(sq))


def path_cost_tf(y_true, y_pred, paths_idx, path_lengths, metric="sqeuclidean"):
    """Differentiable cost of given warping paths, one per pair.

    Parameters
    ----------
    y_true : tensor-like, shape (B, n) or (B, n, d)
    y_pred : real tensor-like, shape (B, m) or (B, m, d)
    paths_idx : int tensor-like, shape (B, Lmax, 2)
        ``paths_idx[b, k] = (i, j)``: the k-th cell of path b (row ``i`` of
        ``y_true[b]``, column ``j`` of ``y_pred[b]``); rows past ``path_lengths[b]``
        are padding and must hold valid cells (e.g. ``(0, 0)`` as
        :func:`dtwrl.aligners.pad_paths` writes).
    path_lengths : int tensor-like, shape (B,)
        Number of cells ``L_b`` of each path.
    metric : {"sqeuclidean", "euclidean", "abs"}
        Local cost ``c(u, v)``: ``sum_k (u_k - v_k)^2``, its square root, or
        ``sum_k |u_k - v_k|``.

    Returns
    -------
    tf.Tensor, shape (B,)
        ``cost[b] = sum_{k < L_b} c(y_true[b, i_k], y_pred[b, j_k])``. Padding
        contributes 0 to the value and the gradient. The gradient with respect
        to ``y_pred[b, j]`` sums over the path cells in column ``j`` only. The
        euclidean cost uses gradient 0 where the two frames are equal.

    Examples
    --------
    >>> path = [[[0, 0], [1, 0], [2, 1]]]
    >>> path_cost_tf([[0.0, 1.0, 2.0]], [[0.0, 2.0]], path, [3]).numpy().tolist()
    [1.0]
    """
    metric = check_metric(metric)
    y_true, y_pred = check_pair_tf(y_true, y_pred)
    paths_idx = tf.convert_to_tensor(paths_idx)
    path_lengths = tf.convert_to_tensor(path_lengths)
    if not paths_idx.dtype.is_integer or paths_idx.shape.rank != 3 or paths_idx.shape[-1] not in (None, 2):
        raise ValueError(
            f"paths_idx must be an int tensor of shape (B, Lmax, 2); got {paths_idx.dtype.name} {paths_idx.shape}"
        )
    if not path_lengths.dtype.is_integer or path_lengths.shape.rank != 1:
        raise ValueError(
            f"path_lengths must be an int tensor of shape (B,); got {path_lengths.dtype.name} {path_lengths.shape}"
        )
    return _path_cost(y_true, y_pred, paths_idx, path_lengths, metric)


def _path_cost(y_true, y_pred, paths_idx, path_lengths, metric):
    """:func:`path_cost_tf` on already validated arguments."""
    rows = tf.gather(y_true, paths_idx[:, :, 0], batch_dims=1)  # (B, Lmax, d)
    cols = tf.gather(y_pred, paths_idx[:, :, 1], batch_dims=1)
    mask = tf.sequence_mask(path_lengths, tf.shape(paths_idx)[1], dtype=y_pred.dtype)
    return tf.reduce_sum(_local_cost_tf(rows, cols, metric) * mask, axis=1)


def _align_ragged(aligner, y_true, y_pred, x_lengths, y_lengths):
    """:func:`align_batch` on pairs cut to their own lengths (pairs of equal lengths share one call)."""
    groups = {}
    for b, key in enumerate(zip(x_lengths.tolist(), y_lengths.tolist())):
        groups.setdefault(key, []).append(b)
    paths = [None] * len(y_true)
    for (n, m), members in groups.items():
        idx, lengths = align_batch(aligner, y_true[members, :n], y_pred[members, :m])
        for k, b in enumerate(members):
            paths[b] = idx[k, :lengths[k]]
    return pad_paths(paths)


def align_tf(aligner, y_true, y_pred, x_lengths=None, y_lengths=None):
    """Run an aligner on the values of two tensors, outside the gradient.

    Parameters
    ----------
    aligner : callable, "exact" or "fastdtw"
        Follows the aligner protocol of :mod:`dtwrl.aligners`.
    y_true : tf.Tensor, shape (B, n, d)
    y_pred : tf.Tensor, shape (B, m, d)
    x_lengths, y_lengths : int tensor-like, shape (B,), optional
        True lengths of padded ``y_true`` / ``y_pred``: each pair is aligned on
        its first ``x_lengths[b]`` and ``y_lengths[b]`` frames (pairs of the
        same lengths in one aligner call). Both or neither.

    Returns
    -------
    paths_idx : tf.Tensor of int32, shape (B, Lmax, 2)
    path_lengths : tf.Tensor of int32, shape (B,)
        The padded paths (:func:`dtwrl.aligners.align_batch`), computed in
        NumPy by ``tf.numpy_function``; this works eagerly and in graphs
        (``model.fit``), and no gradient flows through it.

    Examples
    --------
    >>> idx, lengths = align_tf("exact", tf.constant([[0.0, 1.0, 1.0]]), tf.constant([[0.0, 1.0]]))
    >>> idx.numpy()[0].tolist(), lengths.numpy().tolist()
    ([[0, 0], [1, 1], [2, 1]], [3])
    """
    aligner = get_aligner(aligner)
    if x_lengths is None:
        idx, lengths = tf.numpy_function(
            lambda a, b: align_batch(aligner, a, b),
            [tf.stop_gradient(y_true), tf.stop_gradient(y_pred)],
            [tf.int32, tf.int32],
            name="align",
        )
    else:
        idx, lengths = tf.numpy_function(
            lambda a, b, la, lb: _align_ragged(aligner, a, b, la, lb),
            [tf.stop_gradient(y_true), tf.stop_gradient(y_pred), x_lengths, y_lengths],
            [tf.int32, tf.int32],
            name="align",
        )
    idx.set_shape([y_true.shape[0], None, 2])
    lengths.set_shape([y_true.shape[0]])
    return idx, lengths


def fixed_path_dtw(y_true, y_pred, metric="sqeuclidean", band=None):
    """Exact DTW with the gradient of its optimal path (DTW's subgradient).

    Parameters
    ----------
    y_true : tensor-like, shape (B, n) or (B, n, d)
    y_pred : real tensor-like, shape (B, m) or (B, m, d)
    metric : {"sqeuclidean", "euclidean", "abs"}
    band : int >= 0 or None
        Sakoe-Chiba half-width (:mod:`dtwrl.bands`).

    Returns
    -------
    tf.Tensor, shape (B,)
        ``DTW(y_true[b], y_pred[b]) = sum_{(i, j) in P*_b} c(y_true[b, i], y_pred[b, j])``
        with ``P*_b`` the optimal path of :func:`dtwrl.dtw_path`, found in NumPy
        on the current values and held fixed; the gradient is that of the sum
        along ``P*_b``, which is a subgradient of DTW (its gradient wherever the
        optimal path is unique).

    Examples
    --------
    >>> fixed_path_dtw([[0.0, 1.0, 2.0]], [[0.0, 2.0]]).numpy().tolist()
    [1.0]
    """
    return aligned_path_cost(y_true, y_pred, ExactDTWAligner(metric=metric, band=band), metric)


def check_pair_lengths(y_true, y_pred, x_lengths, y_lengths):
    """Validated (x_lengths, y_lengths) int32 (B,), both None or both set (one given: the other is full)."""
    if x_lengths is None and y_lengths is None:
        return None, None
    x_lengths = check_lengths(x_lengths, y_true.shape[1], y_true.shape[0], "x_lengths")
    y_lengths = check_lengths(y_lengths, y_pred.shape[1], y_pred.shape[0], "y_lengths")
    if x_lengths is None:
        x_lengths = tf.fill(tf.shape(y_lengths), tf.shape(y_true)[1])
    if y_lengths is None:
        y_lengths = tf.fill(tf.shape(x_lengths), tf.shape(y_pred)[1])
    return x_lengths, y_lengths


def aligned_path_cost(y_true, y_pred, aligner, metric="sqeuclidean", x_lengths=None, y_lengths=None):
    """Differentiable cost along the paths an aligner chooses for the current values.

    Parameters
    ----------
    y_true : tensor-like, shape (B, n) or (B, n, d)
    y_pred : real tensor-like, shape (B, m) or (B, m, d)
    aligner : callable, "exact" or "fastdtw"
        Follows the aligner protocol of :mod:`dtwrl.aligners`; it runs in NumPy
        (:func:`align_tf`) and no gradient flows through the path choice.
    metric : {"sqeuclidean", "euclidean", "abs"}
        Local cost summed along the paths.
    x_lengths, y_lengths : int tensor-like, shape (B,), optional
        True lengths of padded ``y_true`` / ``y_pred``; each pair's path runs
        from (0, 0) to its own end ``(x_lengths[b] - 1, y_lengths[b] - 1)``
        and the padding gets no cost and no gradient.

    Returns
    -------
    tf.Tensor, shape (B,)
        ``sum_{(i, j) in P_b} c(y_true[b, i], y_pred[b, j])`` with
        ``P_b = aligner(y_true, y_pred)[b]`` (see :func:`path_cost_tf`).

    Examples
    --------
    >>> aligned_path_cost([[0.0, 1.0, 2.0]], [[0.0, 2.0]], "exact").numpy().tolist()
    [1.0]
    >>> aligned_path_cost([[0.0, 1.0, 2.0]], [[0.0, 2.0]], "exact", x_lengths=[2], y_lengths=[1]).numpy().tolist()
    [1.0]
    """
    metric = check_metric(metric)
    y_true, y_pred = check_pair_tf(y_true, y_pred)
    x_lengths, y_lengths = check_pair_lengths(y_true, y_pred, x_lengths, y_lengths)
    idx, lengths = align_tf(aligner, y_true, y_pred, x_lengths, y_lengths)
    return _path_cost(y_true, y_pred, idx, lengths, metric)


def check_alpha(alpha, name="alpha"):
    """Validate a mixing weight: a real number in [0, 1].

    Parameters
    ----------
    alpha : float
    name : str
        The argument name used in error messages.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``alpha`` is not a real number (bool and strings are refused).
    ValueError
        If ``alpha`` is outside [0, 1] or NaN.

    Examples
    --------
    >>> check_alpha(0.5)
    0.5
    """
    if isinstance(alpha, (bool, np.bool_, str, bytes)) or not isinstance(alpha, (numbers.Real, np.floating)):
        raise TypeError(f"{name} must be a real number in [0, 1]; got {alpha!r}")
    value = float(alpha)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1]; got {value}")
    return value


def temporal_penalty(n, m, dtype=tf.float32):
    """DILATE's temporal penalty matrix, normalised by the grid size.

    Parameters
    ----------
    n, m : int or scalar int tensor
        Lengths of ``y_true`` and ``y_pred``.
    dtype : tf.DType

    Returns
    -------
    tf.Tensor, shape (n, m)
        ``Omega[i, j] = (i - j)^2 / (n m)``; for ``n == m = N`` this is Le Guen
        and Thome's ``(i - j)^2 / N^2``.

    Examples
    --------
    >>> temporal_penalty(2, 2).numpy()
    array([[0.  , 0.25],
           [0.25, 0.  ]], dtype=float32)
    """
    i = tf.range(n, dtype=dtype)[:, tf.newaxis]
    j = tf.range(m, dtype=dtype)[tf.newaxis, :]
    return tf.square(i - j) / (tf.cast(n, dtype) * tf.cast(m, dtype))


def dilate(y_true, y_pred, alpha=0.5, gamma=0.01, band=None, metric="sqeuclidean", x_lengths=None, y_lengths=None):
    """DILATE: soft-DTW shape term plus a temporal distortion term.

    Follows Le Guen and Thome, "Shape and Time Distortion Loss for Training
    Deep Time Series Forecasting Models" (NeurIPS 2019), per pair:

        DILATE = alpha * sdtw_gamma(C) + (1 - alpha) * <A_gamma(C), Omega>

    with ``C`` the local cost matrix of the pair (squared Euclidean in the
    paper), ``sdtw_gamma`` soft-DTW, ``A_gamma = d sdtw_gamma / d C`` the soft
    alignment (:func:`dtwrl.soft_dtw_alignment`) and
    ``Omega[i, j] = (i - j)^2 / (n m)`` (:func:`temporal_penalty`; the authors'
    code divides ``(i - j)^2`` by ``N^2`` for equal lengths ``N``). Their batch
    loss is the batch mean of this per-pair value, which is what a Keras loss
    with the default reduction computes. The temporal term is differentiated
    through the alignment's own gradient (a Hessian-vector product of
    soft-DTW), as in the paper.

    Parameters
    ----------
    y_true : tensor-like, shape (B, n) or (B, n, d)
    y_pred : real tensor-like, shape (B, m) or (B, m, d)
    alpha : float in [0, 1]
        Weight of the shape term; ``alpha = 1`` is soft-DTW, ``alpha = 0`` the
        temporal term alone.
    gamma : float > 0
        soft-DTW smoothing (the paper uses 0.01).
    band : int >= 0 or None
        Sakoe-Chiba half-width for both terms.
    metric : {"sqeuclidean", "euclidean", "abs"}
    x_lengths, y_lengths : int tensor-like, shape (B,), optional
        True lengths ``n_b`` and ``m_b`` of padded ``y_true`` / ``y_pred``: both
        terms see only each pair's own grid, and its temporal penalty is
        ``(i - j)^2 / (n_b m_b)``.

    Returns
    -------
    tf.Tensor, shape (B,)

    Examples
    --------
    >>> y = [[0.0, 1.0, 0.0]]
    >>> float(dilate(y, y, alpha=0.0, gamma=0.01)[0]) < 1e-6  # aligned on the diagonal
    True
    >>> padded = [[0.0, 1.0, 0.0, 9.0]]
    >>> a = dilate(y, y, gamma=0.1)
    >>> b = dilate(padded, padded, gamma=0.1, x_lengths=[3], y_lengths=[3])
    >>> bool(abs(float(a[0]) - float(b[0])) < 1e-6)
    True
    """
    alpha = check_alpha(alpha)
    gamma = check_gamma(gamma)
    metric = check_metric(metric)
    y_true, y_pred = check_pair_tf(y_true, y_pred)
    x_lengths, y_lengths = check_pair_lengths(y_true, y_pred, x_lengths, y_lengths)
    costs = pairwise_costs(y_true, y_pred, metric)  # (B, n, m), shared by both terms
    lengths = {"x_lengths": x_lengths, "y_lengths": y_lengths}
    total = 0.0
    if alpha > 0.0:
        total = alpha * soft_dtw_from_cost(costs, gamma=gamma, band=band, **lengths)
    if alpha < 1.0:
        align = soft_dtw_alignment_from_cost(costs, gamma=gamma, band=band, **lengths)
        omega = temporal_penalty(tf.shape(costs)[1], tf.shape(costs)[2], costs.dtype)
        if x_lengths is not None:  # (i - j)^2 / (n m) -> (i - j)^2 / (n_b m_b); the alignment is 0 off each grid
            grid = tf.cast(tf.shape(costs)[1] * tf.shape(costs)[2], costs.dtype)
            omega = omega * grid / tf.cast(x_lengths * y_lengths, costs.dtype)[:, tf.newaxis, tf.newaxis]
        total = total + (1.0 - alpha) * tf.reduce_sum(align * omega, axis=[1, 2])
    return total
