"""FastDTW (Salvador and Chan, 2007) as an approximate oracle, priced in dtwrl's local cost.

FastDTW coarsens both series, solves the small problem and refines the path
within ``radius`` cells at each finer level. Its path is feasible but not
always optimal, so ``fastdtw_path(x, y)[0] >= dtw(x, y)``.
"""

import numpy as np
from fastdtw import fastdtw
from numpy.typing import ArrayLike, NDArray

from .exact_dtw import path_cost
from .local_cost import _metric_code
from .validation import as_series, check_cost_range, check_radius, check_same_dim


def _sqeuclidean_scalar(a, b):
    diff = a - b
    return diff * diff


def _abs_scalar(a, b):
    return abs(a - b)


def _sqeuclidean_vector(a, b):
    diff = a - b
    return float(np.dot(diff, diff))


def _euclidean_vector(a, b):
    diff = a - b
    return float(np.sqrt(np.dot(diff, diff)))


def _abs_vector(a, b):
    return float(np.abs(a - b).sum())


# metric -> (dist for scalar frames, dist for vector frames); for d = 1 the
# euclidean distance sqrt((a - b)^2) is |a - b|.
_DISTS = {
    "sqeuclidean": (_sqeuclidean_scalar, _sqeuclidean_vector),
    "euclidean": (_abs_scalar, _euclidean_vector),
    "abs": (_abs_scalar, _abs_vector),
}


def fastdtw_path(
    x: ArrayLike, y: ArrayLike, radius: int = 1, metric: str = "sqeuclidean"
) -> tuple[float, NDArray[np.int64]]:
    """FastDTW's warping path, with its cost recomputed under dtwrl's local cost.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
    y : array_like, shape (m,) or (m, d)
    radius : int >= 1
        FastDTW's refinement radius; larger is slower and closer to exact.
        Radius 0 is rejected: the ``fastdtw`` package crashes on it.
    metric : {"sqeuclidean", "euclidean", "abs"}
        Local cost used both to guide FastDTW and to price its path.

    Returns
    -------
    cost : float
        ``path_cost(x, y, path, metric)``: the sum of local costs along the
        path, directly comparable with :func:`dtwrl.dtw` (never smaller).
    path : numpy.ndarray of int64, shape (L, 2)

    Examples
    --------
    >>> cost, path = fastdtw_path([0.0, 1.0, 2.0], [0.0, 2.0])
    >>> cost, path.shape[1]
    (1.0, 2)
    """
    x, y = as_series(x, "x"), as_series(y, "y")
    check_same_dim(x, y)
    _metric_code(metric)
    radius = check_radius(radius)
    check_cost_range(x, y, metric)  # else fastdtw's own sums overflow into a broken path
    scalar_dist, vector_dist = _DISTS[metric]
    if x.shape[1] == 1:
        _, raw_path = fastdtw(x[:, 0], y[:, 0], radius=radius, dist=scalar_dist)
    else:
        _, raw_path = fastdtw(x, y, radius=radius, dist=vector_dist)
    path = np.array(raw_path, dtype=np.int64).reshape(-1, 2)
    return path_cost(x, y, path, metric), path
