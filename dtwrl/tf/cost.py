"""Batched local-cost matrices in TensorFlow, differentiable and GPU-ready.

>>> import tensorflow as tf
>>> from dtwrl.tf.cost import pairwise_costs
>>> x = tf.constant([[[0.0], [1.0]]]); y = tf.constant([[[1.0], [3.0], [0.0]]])
>>> pairwise_costs(x, y).numpy().tolist()
[[[1.0, 9.0, 0.0], [0.0, 4.0, 1.0]]]
"""

import tensorflow as tf

from ..validation import check_metric


def _features_last(x):
    """(B, n, d) -> (d, n, B): the layout the dynamic-programming engine reads."""
    return tf.transpose(x, (2, 1, 0))


# up to this many features the squared distance is summed from direct differences (exact to rounding);
# past it, from one batched Gram matrix
DIRECT_FEATURES = 16


def _sqeuclidean(xt, yt):
    """Squared distances (n, m, B) of features-first xt (d, n, B), yt (d, m, B).

    ``|x|^2 + |y|^2 - 2 x.y`` cancels catastrophically when the series sit far
    from 0 relative to their distance (float32, values ~1e4, distance ~0.1:
    the cost comes out as hundreds). So: direct differences summed feature by
    feature (two (n, m, B) temporaries at a time) for ``d <= DIRECT_FEATURES``;
    for larger ``d`` the Gram form on the pair centred at its joint mean (the
    cost is shift-invariant) and accumulated in float64.
    """
    d = xt.shape[0]
    if d <= DIRECT_FEATURES:
        total = None
        for k in range(d):
            diff = xt[k][:, None, :] - yt[k][None, :, :]
            total = diff * diff if total is None else total + diff * diff
        return total
    dtype = xt.dtype
    xt, yt = tf.cast(xt, tf.float64), tf.cast(yt, tf.float64)
    centre = tf.reduce_mean(tf.concat([xt, yt], axis=1), axis=1, keepdims=True)  # (d, 1, B)
    xt, yt = xt - centre, yt - centre
    xx = tf.reduce_sum(xt * xt, axis=0)[:, None, :]
    yy = tf.reduce_sum(yt * yt, axis=0)[None, :, :]
    cross = tf.einsum("dnb,dmb->nmb", xt, yt)
    return tf.cast(tf.nn.relu(xx + yy - 2.0 * cross), dtype)


def _safe_sqrt(s):
    """sqrt(s) for s >= 0 whose gradient at s == 0 is 0 instead of inf (double-where trick)."""
    positive = s > 0
    root = tf.sqrt(tf.where(positive, s, tf.ones_like(s)))
    return tf.where(positive, root, tf.zeros_like(s))


def _abs(xt, yt):
    # a Python loop over the (static) features: each term is (n, m, B), never (n, m, B, d)
    return tf.add_n([tf.abs(xt[k][:, None, :] - yt[k][None, :, :]) for k in range(xt.shape[0])])


def grid_costs(x, y, metric="sqeuclidean"):
    """Local costs laid out ``(n, m, B)`` (batch last), as :func:`pairwise_costs` transposed.

    This is the layout the soft-DTW engine reads one anti-diagonal at a time.
    """
    metric = check_metric(metric)
    xt, yt = _features_last(x), _features_last(y)
    if metric == "abs":
        return _abs(xt, yt)
    sq = _sqeuclidean(xt, yt)
    return _safe_sqrt(sq) if metric == "euclidean" else sq


def pairwise_costs(x, y, metric="sqeuclidean"):
    """Local-cost matrices of a batch of pairs.

    Parameters
    ----------
    x : tf.Tensor, shape (B, n, d)
    y : tf.Tensor, shape (B, m, d)
        Same dtype (float32 or float64) and the same static ``d``.
    metric : {"sqeuclidean", "euclidean", "abs"}
        ``C[b, i, j]`` is ``sum_k (x[b,i,k] - y[b,j,k])**2`` ("sqeuclidean"),
        its square root ("euclidean", with gradient 0 where the cost is 0) or
        ``sum_k |x[b,i,k] - y[b,j,k]|`` ("abs").

    Returns
    -------
    tf.Tensor, shape (B, n, m)

    Notes
    -----
    "sqeuclidean" sums the squared differences feature by feature when
    ``d <= DIRECT_FEATURES`` (16), and otherwise is ``|x|^2 + |y|^2 - 2 x y^T``
    (one batched matmul, clipped at 0) on the pair centred at its joint mean,
    in float64: never the cancellation of that form on raw float32 values far
    from 0. "abs" sums d terms of shape (B, n, m), one per feature. Nothing
    builds a (B, n, m, d) tensor. The costs are computed batch-last (:func:`grid_costs`) and transposed.

    Examples
    --------
    >>> import tensorflow as tf
    >>> x = tf.constant([[[0.0, 0.0]]]); y = tf.constant([[[3.0, 4.0]]])
    >>> float(pairwise_costs(x, y, "euclidean")[0, 0, 0])
    5.0
    """
    return tf.transpose(grid_costs(x, y, metric), (2, 0, 1))
