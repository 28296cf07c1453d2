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
Bad input raises ``ValueError`` (``TypeError`` for a wrong type) naming the
argument (:mod:`dtwrl.tf.checks`); inside a ``tf.function`` the checks on values
known only at run time raise ``tf.errors.InvalidArgumentError`` naming it.
"""

import numpy as np
import tensorflow as tf

from ..aligners import ExactDTWAligner, align_batch_groups, get_aligner, pad_paths
from ..corridors import widen_cells
from ..validation import check_alpha, check_gamma, check_metric
from .checks import check_lengths, check_pair_tf, check_paths
from .cost import pairwise_costs
from .sdtw import soft_dtw, soft_dtw_alignment_from_cost, soft_dtw_from_cost


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
    y_true, y_pred = check_pair_tf(y_true, y_pred, metric)
    n, m = y_true.shape[1], y_pred.shape[1]
    n = tf.shape(y_true)[1] if n is None else n
    m = tf.shape(y_pred)[1] if m is None else m
    paths_idx, path_lengths = check_paths(paths_idx, path_lengths, n, m)
    if None not in (paths_idx.shape[0], y_true.shape[0]) and paths_idx.shape[0] != y_true.shape[0]:
        raise ValueError(f"paths_idx must hold one path per pair (B={y_true.shape[0]}); got {paths_idx.shape[0]}")
    return _path_cost(y_true, y_pred, paths_idx, path_lengths, metric)


def _path_cost(y_true, y_pred, paths_idx, path_lengths, metric):
    """:func:`path_cost_tf` on already validated arguments."""
    rows = tf.gather(y_true, paths_idx[:, :, 0], batch_dims=1)  # (B, Lmax, d)
    cols = tf.gather(y_pred, paths_idx[:, :, 1], batch_dims=1)
    mask = tf.sequence_mask(path_lengths, tf.shape(paths_idx)[1], dtype=y_pred.dtype)
    return tf.reduce_sum(_local_cost_tf(rows, cols, metric) * mask, axis=1)


def _align_numpy(aligner, y_true, y_pred, x_lengths=None, y_lengths=None):
    """:func:`dtwrl.aligners.align_batch_groups` on pairs cut to their own lengths (equal lengths share a call)."""
    if x_lengths is None:
        return align_batch_groups(aligner, y_true, y_pred)
    by_shape = {}
    for b, key in enumerate(zip(x_lengths.tolist(), y_lengths.tolist())):
        by_shape.setdefault(key, []).append(b)
    groups = [[] for _ in range(len(y_true))]
    for (n, m), members in by_shape.items():
        idx, lengths, owners = align_batch_groups(aligner, y_true[members, :n], y_pred[members, :m])
        for p, k in enumerate(owners.tolist()):
            groups[members[k]].append(idx[p, : lengths[p]])
    idx, lengths = pad_paths([path for group in groups for path in group])
    owners = np.repeat(np.arange(len(groups), dtype=np.int32), [len(group) for group in groups])
    return idx, lengths, owners


def align_tf(aligner, y_true, y_pred, x_lengths=None, y_lengths=None):
    """Run an aligner on the values of two tensors, outside the gradient.

    Parameters
    ----------
    aligner : callable, "exact" or "fastdtw"
        Follows the aligner protocol of :mod:`dtwrl.aligners` (one path or a
        group of paths per pair).
    y_true : tf.Tensor, shape (B, n, d)
    y_pred : tf.Tensor, shape (B, m, d)
    x_lengths, y_lengths : int tensor-like, shape (B,), optional
        True lengths of padded ``y_true`` / ``y_pred``: each pair is aligned on
        its first ``x_lengths[b]`` and ``y_lengths[b]`` frames (pairs of the
        same lengths in one aligner call). Both or neither.

    Returns
    -------
    paths_idx : tf.Tensor of int32, shape (P, Lmax, 2)
    path_lengths : tf.Tensor of int32, shape (P,)
    owners : tf.Tensor of int32, shape (P,)
        Every path of the batch, padded (:func:`dtwrl.aligners.align_batch_groups`),
        and the pair each belongs to (``P = B`` and ``owners = range(B)`` for one
        path per pair); computed in NumPy by ``tf.numpy_function``, so this
        works eagerly and in graphs (``model.fit``), and no gradient flows through it.

    Examples
    --------
    >>> idx, lengths, owners = align_tf("exact", tf.constant([[0.0, 1.0, 1.0]]), tf.constant([[0.0, 1.0]]))
    >>> idx.numpy()[0].tolist(), lengths.numpy().tolist(), owners.numpy().tolist()
    ([[0, 0], [1, 1], [2, 1]], [3], [0])
    """
    aligner = get_aligner(aligner)
    values = [tf.stop_gradient(y_true), tf.stop_gradient(y_pred)]
    if x_lengths is not None:
        values += [x_lengths, y_lengths]
    idx, lengths, owners = tf.numpy_function(
        lambda *arrays: _align_numpy(aligner, *arrays), values, [tf.int32, tf.int32, tf.int32], name="align"
    )
    idx.set_shape([None, None, 2])
    lengths.set_shape([None])
    owners.set_shape([None])
    return idx, lengths, owners


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


PATH_REDUCTIONS = ("mean", "softmin", "lattice")
"""How :func:`aligned_path_cost` combines a group of paths of one pair (``gamma`` for all but ``"mean"``)."""


def check_path_reduction(path_reduction, gamma, lattice_radius=0):
    """Validate ``path_reduction``, its ``gamma`` and ``lattice_radius``; returns the three.

    ``gamma`` is required by ``"softmin"`` and ``"lattice"`` (a finite real > 0)
    and refused with ``"mean"``; ``lattice_radius`` is an int >= 0, non-zero
    with ``"lattice"`` only.

    >>> check_path_reduction("softmin", 0.5), check_path_reduction("lattice", 0.1, 3)
    (('softmin', 0.5, 0), ('lattice', 0.1, 3))
    """
    if not isinstance(path_reduction, str) or path_reduction not in PATH_REDUCTIONS:
        raise ValueError(
            f"path_reduction must be one of {', '.join(map(repr, PATH_REDUCTIONS))}; got {path_reduction!r}"
        )
    if path_reduction == "mean":
        if gamma is not None:
            raise ValueError(f"gamma is not used by path_reduction='mean'; got gamma={gamma!r}")
    elif gamma is None:
        raise ValueError(f"gamma is required by path_reduction={path_reduction!r} (a finite real number > 0); got None")
    else:
        gamma = check_gamma(gamma)
    if isinstance(lattice_radius, (bool, np.bool_)) or not isinstance(lattice_radius, (int, np.integer)):
        raise TypeError(f"lattice_radius must be an int >= 0; got {lattice_radius!r}")
    if lattice_radius < 0:
        raise ValueError(f"lattice_radius must be >= 0; got {lattice_radius}")
    if lattice_radius and path_reduction != "lattice":
        raise ValueError(f"lattice_radius applies to path_reduction='lattice' only; got {path_reduction!r}")
    return path_reduction, gamma, int(lattice_radius)


def group_softmin(costs, owners, num_pairs, gamma):
    """Normalised soft minimum of each pair's path costs: ``-gamma log((1 / K_b) sum_k exp(-c_bk / gamma))``.

    Parameters
    ----------
    costs : tf.Tensor, shape (P,)
        One cost per path.
    owners : int tf.Tensor, shape (P,)
        The pair of each path (every pair in ``range(num_pairs)`` owns >= 1 path).
    num_pairs : int or scalar int tensor
    gamma : float > 0

    Returns
    -------
    tf.Tensor, shape (num_pairs,)
        Between the group's minimum (``gamma -> 0``) and its mean (``gamma -> inf``);
        a group of one path gives its cost. The gradient weights path ``k`` of pair
        ``b`` by ``softmax(-c_b / gamma)_k``. Computed shifted by the group minimum,
        so large costs or small ``gamma`` do not overflow.

    Examples
    --------
    >>> costs = tf.constant([1.0, 3.0, 2.0]); owners = tf.constant([0, 0, 1])
    >>> [round(v, 4) for v in group_softmin(costs, owners, 2, 1.0).numpy().tolist()]  # -log((e^-1 + e^-3) / 2)
    [1.5662, 2.0]
    """
    low = tf.stop_gradient(tf.math.unsorted_segment_min(costs, owners, num_pairs))
    weights = tf.exp(-(costs - tf.gather(low, owners)) / gamma)
    total = tf.math.unsorted_segment_sum(weights, owners, num_pairs)
    count = tf.math.unsorted_segment_sum(tf.ones_like(costs), owners, num_pairs)
    return low - gamma * (tf.math.log(total) - tf.math.log(count))


def lattice_mask(paths_idx, path_lengths, owners, shape, radius=0):
    """Cells visited by at least one path of each pair, laid out ``(n, m, B)`` as the soft-DTW engine reads them.

    Parameters
    ----------
    paths_idx : int tf.Tensor, shape (P, Lmax, 2)
    path_lengths : int tf.Tensor, shape (P,)
    owners : int tf.Tensor, shape (P,)
        The pair of each path (:func:`align_tf`'s output).
    shape : (n, m, B)
    radius : int >= 0
        Also every cell within ``radius`` rows and columns of a visited one
        (a ``(2 radius + 1)``-square dilation, FastDTW's window around a path).

    Returns
    -------
    tf.Tensor of bool, shape (n, m, B)

    Examples
    --------
    >>> paths = tf.constant([[[0, 0], [1, 0], [1, 1]], [[0, 0], [0, 1], [1, 1]]])
    >>> mask = lattice_mask(paths, tf.constant([3, 3]), tf.constant([0, 0]), (2, 2, 1))
    >>> mask.numpy()[:, :, 0].tolist()
    [[True, True], [True, True]]
    >>> diagonal = tf.constant([[[0, 0], [1, 1], [2, 2], [3, 3]]])
    >>> lattice_mask(diagonal, tf.constant([4]), tf.constant([0]), (4, 4, 1), radius=1).numpy()[:, :, 0].astype(int)
    array([[1, 1, 1, 0],
           [1, 1, 1, 1],
           [1, 1, 1, 1],
           [0, 1, 1, 1]])
    """
    valid = tf.sequence_mask(path_lengths, tf.shape(paths_idx)[1])
    cells = tf.boolean_mask(paths_idx, valid)
    pairs = tf.boolean_mask(tf.broadcast_to(owners[:, None], tf.shape(valid)), valid)
    indices = tf.stack([cells[:, 0], cells[:, 1], pairs], axis=1)
    visited = tf.scatter_nd(indices, tf.ones_like(pairs), shape) > 0
    if not radius:
        return visited
    image = tf.transpose(tf.cast(visited, tf.float32), (2, 0, 1))[..., None]  # (B, n, m, 1)
    dilated = tf.nn.max_pool2d(image, 2 * radius + 1, 1, "SAME")
    return tf.transpose(dilated[..., 0], (1, 2, 0)) > 0


def lattice_corridor(paths_idx, path_lengths, owners, x_lengths, y_lengths, n, radius=0):
    """The corridor of each pair's lattice: the row hull of its paths' cells, widened by ``radius``.

    :func:`dtwrl.corridors.widen_paths` on the paths of each pair (computed in NumPy by
    ``tf.numpy_function``, outside the gradient). It holds every cell of :func:`lattice_mask` and
    equals it wherever the lattice is contiguous in each row (one path, or paths that touch or
    overlap once widened); where paths leave a gap in a row, the gap is included.

    Parameters
    ----------
    paths_idx, path_lengths, owners : int tf.Tensor
        The paths of the batch, as :func:`align_tf` returns them.
    x_lengths, y_lengths : int tf.Tensor, shape (B,)
    n : int or scalar int tensor
        Rows of the padded grid.
    radius : int >= 0

    Returns
    -------
    tf.Tensor of int64, shape (B, n, 2)

    Examples
    --------
    >>> diagonal = tf.constant([[[0, 0], [1, 1], [2, 2]]])
    >>> lattice_corridor(diagonal, tf.constant([3]), tf.constant([0]), [3], [3], 3).numpy()[0].tolist()
    [[0, 0], [1, 1], [2, 2]]
    """

    def run(idx, lengths, owners, xl, yl, n):
        return widen_cells(owners, idx, xl, yl, int(n), radius, counts=lengths)

    corridor = tf.numpy_function(
        run, [paths_idx, path_lengths, owners, x_lengths, y_lengths, n], tf.int64, stateful=False, name="lattice"
    )
    corridor.set_shape([None, None, 2])
    return corridor


def lattice_softmin(
    y_true, y_pred, paths_idx, path_lengths, owners, metric, gamma, x_lengths=None, y_lengths=None, radius=0
):
    """soft-DTW restricted to the cells the paths of each pair visit: ``-gamma log sum_P exp(-c(P) / gamma)``.

    The sum runs over every warping path ``P`` whose cells all lie on the
    lattice of the pair's paths: the paths themselves and every recombination
    of them where they cross or touch. A group of sampled paths thus stands for
    exponentially many, and the gradient is soft-DTW's expected alignment under
    its Gibbs distribution, restricted to the lattice. It lies at or above
    soft-DTW (fewer paths) and at or below the group's cheapest path cost as
    ``gamma -> 0``; with every cell on the lattice it is soft-DTW.

    The lattice is the corridor of :func:`lattice_corridor` (the row hull of the
    widened paths: their union wherever it is contiguous in each row, else a
    superset that fills the gaps between paths), and the recursion runs on the
    sparse corridor engine (:func:`dtwrl.soft_dtw` with ``corridor=``): time and
    memory grow with the lattice's cells, not with the grid's.

    Parameters
    ----------
    y_true : tf.Tensor, shape (B, n, d)
    y_pred : tf.Tensor, shape (B, m, d)
    paths_idx, path_lengths, owners : int tf.Tensor
        The paths of the batch, as :func:`align_tf` returns them.
    metric : {"sqeuclidean", "euclidean", "abs"}
    gamma : float > 0
    x_lengths, y_lengths : int tf.Tensor, shape (B,), optional
        True lengths of padded pairs.
    radius : int >= 0
        Widen the lattice by ``radius`` cells around every visited cell
        (:func:`lattice_mask`); soft-DTW itself once it covers the grid.

    Returns
    -------
    tf.Tensor, shape (B,)

    Examples
    --------
    >>> y_true, y_pred = tf.constant([[[0.0], [1.0]]]), tf.constant([[[0.0], [1.0]]])
    >>> diagonal = tf.constant([[[0, 0], [1, 1]]])
    >>> value = lattice_softmin(y_true, y_pred, diagonal, tf.constant([2]), tf.constant([0]), "sqeuclidean", 0.1)
    >>> float(value[0])  # one path on the lattice: its cost
    0.0
    """
    shape = tf.shape(y_true)
    xl = tf.fill(shape[:1], shape[1]) if x_lengths is None else x_lengths
    yl = tf.fill(shape[:1], tf.shape(y_pred)[1]) if y_lengths is None else y_lengths
    corridor = lattice_corridor(paths_idx, path_lengths, owners, xl, yl, shape[1], radius)
    return soft_dtw(y_true, y_pred, gamma, metric=metric, x_lengths=x_lengths, y_lengths=y_lengths, corridor=corridor)


def aligned_path_cost(
    y_true,
    y_pred,
    aligner,
    metric="sqeuclidean",
    x_lengths=None,
    y_lengths=None,
    path_reduction="mean",
    gamma=None,
    lattice_radius=0,
):
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
    path_reduction : {"mean", "softmin", "lattice"}
        How the costs ``c_b1..c_bK`` of a group of K paths of pair ``b`` (e.g.
        sampled policy paths) become its value: ``"mean"``, their mean, a
        Monte-Carlo estimate of the expected path cost; ``"softmin"``,
        ``-gamma log((1 / K) sum_k exp(-c_bk / gamma))`` (:func:`group_softmin`),
        soft-DTW's Gibbs smoothing restricted to the sampled paths: its gradient
        weights each path by ``softmax(-c_b / gamma)``, the best of the K as
        ``gamma -> 0`` and the mean as ``gamma -> inf``. One path per pair: both
        give its cost. ``"lattice"``, soft-DTW at ``gamma`` over every path on
        the union of the group's cells (:func:`lattice_softmin`), which
        recombines the K paths where they meet.
    gamma : float > 0 or None
        Smoothing of ``"softmin"`` and ``"lattice"``, on the scale of the
        (unnormalised) path costs; None with ``"mean"``.
    lattice_radius : int >= 0
        ``"lattice"`` only: widen the lattice by this many cells around every
        cell on a path (:func:`lattice_mask`).

    Returns
    -------
    tf.Tensor, shape (B,)
        ``sum_{(i, j) in P_b} c(y_true[b, i], y_pred[b, j])`` with
        ``P_b = aligner(y_true, y_pred)[b]`` (see :func:`path_cost_tf`); for a
        group of K paths their costs reduced by ``path_reduction``.

    Examples
    --------
    >>> aligned_path_cost([[0.0, 1.0, 2.0]], [[0.0, 2.0]], "exact").numpy().tolist()
    [1.0]
    >>> aligned_path_cost([[0.0, 1.0, 2.0]], [[0.0, 2.0]], "exact", x_lengths=[2], y_lengths=[1]).numpy().tolist()
    [1.0]
    >>> two_paths = lambda a, b: [[[[0, 0], [1, 0], [2, 1]], [[0, 0], [0, 1], [1, 1], [2, 1]]]]  # costs 1 and 5
    >>> aligned_path_cost([[0.0, 1.0, 2.0]], [[0.0, 2.0]], two_paths).numpy().tolist()
    [3.0]
    >>> value = aligned_path_cost([[0.0, 1.0, 2.0]], [[0.0, 2.0]], two_paths, path_reduction="softmin", gamma=1.0)
    >>> round(float(value[0]), 3)  # -log((e^-1 + e^-5) / 2) = 1.67495
    1.675
    """
    path_reduction, gamma, lattice_radius = check_path_reduction(path_reduction, gamma, lattice_radius)
    metric = check_metric(metric)
    y_true, y_pred = check_pair_tf(y_true, y_pred, metric)
    x_lengths, y_lengths = check_pair_lengths(y_true, y_pred, x_lengths, y_lengths)
    aligner = get_aligner(aligner)
    if path_reduction == "lattice" and x_lengths is None and hasattr(aligner, "lattice_corridors"):
        # an aligner that keeps each pair's lattice (dtwrl.aligners.ReusedPaths): the same corridor, not rebuilt
        corridor = tf.numpy_function(
            lambda a, b: aligner.lattice_corridors(a, b, lattice_radius),
            [tf.stop_gradient(y_true), tf.stop_gradient(y_pred)],
            tf.int64,
            name="lattice",
        )
        corridor.set_shape([None, None, 2])
        return soft_dtw(y_true, y_pred, gamma, metric=metric, corridor=corridor)
    idx, lengths, owners = align_tf(aligner, y_true, y_pred, x_lengths, y_lengths)
    if path_reduction == "lattice":
        return lattice_softmin(
            y_true, y_pred, idx, lengths, owners, metric, gamma, x_lengths, y_lengths, lattice_radius
        )
    # one row per path: pair b's series repeated for each of its K_b paths, then the mean per pair
    costs = _path_cost(tf.gather(y_true, owners), tf.gather(y_pred, owners), idx, lengths, metric)
    if path_reduction == "softmin":
        return group_softmin(costs, owners, tf.shape(y_pred)[0], tf.cast(gamma, costs.dtype))
    return tf.math.unsorted_segment_mean(costs, owners, tf.shape(y_pred)[0])


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
    y_true, y_pred = check_pair_tf(y_true, y_pred, metric)
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
