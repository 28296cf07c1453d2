"""Independent, deliberately naive references that tests compare against.

Nothing here is fast; everything is obviously correct by enumeration.
"""

from functools import cache

import numpy as np


@cache
def _paths(n, m):
    """Every warping path from (0, 0) to (n-1, m-1), as tuples of cells."""
    if n == 1 and m == 1:
        return (((0, 0),),)
    out = []
    for di, dj in ((1, 1), (1, 0), (0, 1)):
        pi, pj = n - di, m - dj
        if pi >= 1 and pj >= 1:
            for p in _paths(pi, pj):
                out.append(p + ((n - 1, m - 1),))
    return tuple(out)


def all_warping_paths(n, m):
    """All warping paths of an n-by-m grid, each an int array of shape (L, 2).

    >>> len(all_warping_paths(2, 2))   # diagonal, down-right, right-down
    3
    """
    return [np.array(p, dtype=np.int64) for p in _paths(n, m)]


def local_costs(x, y, metric="sqeuclidean"):
    """Cost matrix by explicit double loop; x is (n, d), y is (m, d)."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    C = np.empty((len(x), len(y)))
    for i in range(len(x)):
        for j in range(len(y)):
            diff = x[i] - y[j]
            if metric == "sqeuclidean":
                C[i, j] = np.sum(diff**2)
            elif metric == "euclidean":
                C[i, j] = np.sqrt(np.sum(diff**2))
            elif metric == "abs":
                C[i, j] = np.sum(np.abs(diff))
            else:
                raise ValueError(metric)
    return C


def in_band(n, m, band):
    """Boolean (n, m) mask of the Sakoe-Chiba band, written from the formula in docs/ARCHITECTURE.md."""
    mask = np.ones((n, m), dtype=bool)
    if band is None or n == 1 or m == 1:
        return mask
    for i in range(n):
        for j in range(m):
            mask[i, j] = abs(j * (n - 1) - i * (m - 1)) <= band * min(n - 1, m - 1)
    return mask


def dp_value(C, band=None, smoothed_min=np.min):
    """``R[n, m]`` of the DTW recursion by a plain double loop over the band's cells.

    ``R[i, j] = C[i, j] + smoothed_min([R[i-1, j-1], R[i-1, j], R[i, j-1]])``
    (``np.min``: exact DTW), written directly from the definition, independent
    of the kernels.
    """
    n, m = C.shape
    mask = in_band(n, m, band)
    R = np.full((n + 1, m + 1), np.inf)
    R[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if mask[i - 1, j - 1]:
                R[i, j] = C[i - 1, j - 1] + smoothed_min(np.array([R[i - 1, j - 1], R[i - 1, j], R[i, j - 1]]))
    return R[n, m]


def brute_force_costs(C, band=None):
    """Cost of every warping path inside the band (an array, possibly empty)."""
    n, m = C.shape
    mask = in_band(n, m, band)
    costs = [C[p[:, 0], p[:, 1]].sum() for p in all_warping_paths(n, m) if mask[p[:, 0], p[:, 1]].all()]
    return np.array(costs)


def brute_force_dtw(C, band=None):
    """Exact DTW as the minimum over all enumerated paths."""
    return brute_force_costs(C, band).min()


def brute_force_soft_dtw(C, gamma, band=None):
    """soft-DTW as -gamma * log(sum over paths of exp(-cost / gamma)), computed stably."""
    costs = brute_force_costs(C, band)
    z = -costs / gamma
    zmax = z.max()
    return -gamma * (zmax + np.log(np.exp(z - zmax).sum()))
