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


def _sqeuclidean(xt, yt):
    if xt.shape[0] == 1:
        # one feature: the plain difference is (n, m, B) already, and exact
        diff = xt[0][:, None, :] - yt[0][None, :, :]
        return diff * diff
    xx = tf.reduce_sum(xt * xt, axis=0)[:, None, :]
    yy = tf.reduce_sum(yt * yt, axis=0)[None, :, :]
    cross = tf.einsum("dnb,dmb->nmb", xt, yt)
    return tf.nn.relu(xx + yy - 2.0 * cross)


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
    "sqeuclidean" is ``|x|^2 + |y|^2 - 2 x y^T`` (one batched matmul, clipped at
    0) when d > 1 and the plain squared difference when d == 1. "abs" sums d
    terms of shape (B, n, m), one per feature. Nothing builds a (B, n, m, d)
    tensor. The costs are computed batch-last (:func:`grid_costs`) and transposed.

    Examples
    --------
    >>> import tensorflow as tf
    >>> x = tf.constant([[[0.0, 0.0]]]); y = tf.constant([[[3.0, 4.0]]])
    >>> float(pairwise_costs(x, y, "euclidean")[0, 0, 0])
    5.0
    """
    return tf.transpose(grid_costs(x, y, metric), (2, 0, 1))
