"""Local costs between the frames of two series, computed exactly in numba.

Every cost is formed from the differences ``x[i] - y[j]`` (never the
``|x|^2 + |y|^2 - 2 x.y`` expansion), so ``C[i, j]`` is exactly 0 where the
frames are equal.
"""

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

from . import memory
from .validation import METRIC_NAMES, as_series, check_cost_range, check_metric, check_same_dim

#: Names accepted by every ``metric=`` argument.
METRICS = METRIC_NAMES

# metric name -> integer code understood by the numba kernels
_METRIC_CODES = {name: code for code, name in enumerate(METRICS)}


def _metric_code(metric):
    return _METRIC_CODES[check_metric(metric)]


@njit(cache=True, inline="always")
def _njit_local_cost(x, y, i, j, code):
    """Local cost between x[i] and y[j]; code 0 sqeuclidean, 1 euclidean, 2 abs."""
    s = 0.0
    if code == 2:
        for k in range(x.shape[1]):
            s += abs(x[i, k] - y[j, k])
        return s
    for k in range(x.shape[1]):
        diff = x[i, k] - y[j, k]
        s += diff * diff
    if code == 1:
        return np.sqrt(s)
    return s


@njit(cache=True, inline="always")
def _njit_cost_row(x, y, i, start, stop, code, out):
    """out[j] = local cost of (x[i], y[j]) for start <= j < stop, bit-identical to _njit_local_cost.

    The univariate loops are specialised (no inner loop over d, no branch per cell) so
    they vectorise; for d = 1, ``0.0 + v == v`` exactly, so the values do not change.
    """
    if x.shape[1] == 1:
        xi = x[i, 0]
        if code == 2:
            for j in range(start, stop):
                out[j] = abs(xi - y[j, 0])
        else:
            for j in range(start, stop):
                diff = xi - y[j, 0]
                out[j] = diff * diff
            if code == 1:
                for j in range(start, stop):
                    out[j] = np.sqrt(out[j])
    else:
        for j in range(start, stop):
            out[j] = _njit_local_cost(x, y, i, j, code)


@njit(cache=True)
def _njit_cost_matrix(x, y, code):
    n, m = x.shape[0], y.shape[0]
    out = np.empty((n, m))
    for i in range(n):
        _njit_cost_row(x, y, i, 0, m, code, out[i])
    return out


def cost_matrix(x: ArrayLike, y: ArrayLike, metric: str = "sqeuclidean") -> NDArray[np.float64]:
    """Matrix of local costs between every frame of ``x`` and every frame of ``y``.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
    y : array_like, shape (m,) or (m, d)
    metric : {"sqeuclidean", "euclidean", "abs"}
        ``sqeuclidean``: ``C[i, j] = sum_k (x[i, k] - y[j, k])**2``;
        ``euclidean``: its square root; ``abs``: ``sum_k |x[i, k] - y[j, k]|``.

    Returns
    -------
    numpy.ndarray, shape (n, m), float64

    Raises
    ------
    ValueError
        Bad series (see :func:`dtwrl.validation.as_series`), different ``d``,
        an unknown metric, or values so large that a local cost overflows float64.

    Examples
    --------
    >>> cost_matrix([0.0, 1.0], [0.0, 2.0, 4.0])
    array([[ 0.,  4., 16.],
           [ 1.,  1.,  9.]])
    >>> cost_matrix([[0.0, 0.0]], [[3.0, 4.0]], metric="euclidean")
    array([[5.]])
    """
    x, y = as_series(x, "x"), as_series(y, "y")
    check_same_dim(x, y)
    code = _metric_code(metric)
    check_cost_range(x, y, metric, terms=1)
    if 8 * len(x) * len(y) > memory.ALWAYS_FITS:
        memory.check_fits(
            8 * len(x) * len(y),
            "x and y",
            f"the cost matrix of {len(x)} x {len(y)} float64 cells",
            "dtwrl.dtw and dtwrl.dtw_path compute the costs row by row without it",
        )
    return _njit_cost_matrix(x, y, code)
