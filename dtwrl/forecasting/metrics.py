"""Test-split metrics for forecasts: MSE, exact DTW, soft-DTW and TDI.

Every function takes a batch of targets ``y_true`` ``(N, n)`` or ``(N, n, d)``
and forecasts ``y_pred`` ``(N, m)`` or ``(N, m, d)`` (2-D arrays are batches of
univariate series, as in :mod:`dtwrl.losses`), or two lists of N series
``(n_i,)``/``(n_i, d)`` and ``(m_i,)``/``(m_i, d)`` of free lengths. Each
pair is scored at its own lengths and the mean over the ``N`` pairs is
returned as a Python float.

>>> import numpy as np
>>> y = np.array([[0.0, 1.0, 2.0, 3.0]])
>>> evaluate_forecasts(y, y + 1.0, gamma=1.0)["mse"]
1.0
"""

import numpy as np
import tensorflow as tf

from ..aligners import ExactDTWAligner, check_pair_batches
from ..exact_dtw import dtw
from ..tf.sdtw import soft_dtw
from ..validation import as_series, check_gamma, check_metric


def _pairs(y_true, y_pred):
    """A list of N validated float64 pairs ``((n_i, d), (m_i, d))`` from two batches or two lists of series."""
    if isinstance(y_true, (list, tuple)) or isinstance(y_pred, (list, tuple)):
        if len(y_true) != len(y_pred) or not len(y_true):
            raise ValueError(
                f"y_true and y_pred must hold the same number (>= 1) of series; got {len(y_true)} and {len(y_pred)}"
            )
        pairs = [
            (as_series(a, f"y_true[{i}]"), as_series(b, f"y_pred[{i}]")) for i, (a, b) in enumerate(zip(y_true, y_pred))
        ]
        if any(a.shape[1] != b.shape[1] for a, b in pairs) or len({a.shape[1] for a, _ in pairs}) > 1:
            raise ValueError("y_true and y_pred must have one number of features d across all series")
        return pairs
    y_true, y_pred = check_pair_batches(y_true, y_pred)
    return list(zip(y_true, y_pred))


def mse(y_true, y_pred):
    """Mean squared error over every pair, step and feature.

    Parameters
    ----------
    y_true : array_like, shape (N, n) or (N, n, d), or list of N series
    y_pred : array_like, same shape as ``y_true`` (pair by pair)

    Returns
    -------
    float
        ``mean_b mean_{t, k} (y_true[b, t, k] - y_pred[b, t, k])^2``: each
        pair's mean over its steps and features, averaged over pairs (Keras'
        MSE for equal lengths).

    Examples
    --------
    >>> mse([[0.0, 1.0]], [[1.0, 1.0]])
    0.5
    >>> mse([[0.0], [0.0, 0.0, 0.0]], [[2.0], [0.0, 0.0, 3.0]])  # (4 + 3) / 2
    3.5
    """
    pairs = _pairs(y_true, y_pred)
    for a, b in pairs:
        if a.shape != b.shape:
            raise ValueError(f"y_true and y_pred must have the same shape for mse; got {a.shape} and {b.shape}")
    return float(np.mean([np.mean(np.square(a - b)) for a, b in pairs]))


def dtw_score(y_true, y_pred, metric="sqeuclidean", band=None):
    """Mean exact DTW over the pairs.

    Parameters
    ----------
    y_true : array_like, shape (N, n) or (N, n, d)
    y_pred : array_like, shape (N, m) or (N, m, d)
    metric : {"sqeuclidean", "euclidean", "abs"}
    band : int >= 0 or None

    Returns
    -------
    float
        ``mean_b dtw(y_true[b], y_pred[b])`` (:func:`dtwrl.dtw`: the cheapest
        path's sum of local costs, no square root).

    Examples
    --------
    >>> dtw_score([[0.0, 1.0, 2.0], [0.0, 0.0, 0.0]], [[0.0, 2.0, 2.0], [1.0, 1.0, 1.0]])
    2.0
    """
    return float(np.mean([dtw(a, b, metric=metric, band=band) for a, b in _pairs(y_true, y_pred)]))


def root_dtw_score(y_true, y_pred, metric="sqeuclidean", band=None):
    """Mean over the pairs of the square root of exact DTW: the DTW that tslearn reports.

    ``tslearn.metrics.dtw`` returns ``sqrt(sum of squared differences along the
    optimal path)``, and DILATE's authors average it over test series; with the
    default squared Euclidean cost this is ``mean_b sqrt(dtw(y_true[b], y_pred[b]))``.

    Examples
    --------
    >>> root_dtw_score([[0.0, 0.0], [0.0, 0.0]], [[0.0, 2.0], [0.0, 0.0]])  # (sqrt(4) + 0) / 2
    1.0
    """
    return float(np.mean([np.sqrt(dtw(a, b, metric=metric, band=band)) for a, b in _pairs(y_true, y_pred)]))


def soft_dtw_score(y_true, y_pred, gamma=1.0, metric="sqeuclidean", band=None, batch_size=256):
    """Mean soft-DTW over the pairs, computed in float64.

    Parameters
    ----------
    y_true : array_like, shape (N, n) or (N, n, d)
    y_pred : array_like, shape (N, m) or (N, m, d)
    gamma : float > 0
    metric : {"sqeuclidean", "euclidean", "abs"}
    band : int >= 0 or None
    batch_size : int >= 1
        Pairs per call of :func:`dtwrl.soft_dtw` (bounds the memory).

    Returns
    -------
    float
        ``mean_b sdtw_gamma(y_true[b], y_pred[b])``.

    Examples
    --------
    >>> round(soft_dtw_score([[0.0, 1.0]], [[0.0, 1.0]], gamma=1.0), 6)  # -log(1 + 2 e^-1)
    -0.551445
    """
    gamma, metric = check_gamma(gamma), check_metric(metric)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1; got {batch_size!r}")
    pairs = _pairs(y_true, y_pred)
    values = []
    for s in range(0, len(pairs), batch_size):
        chunk = pairs[s : s + batch_size]
        n, m = [np.array([len(p[k]) for p in chunk]) for k in (0, 1)]
        same = len(set(n.tolist())) == 1 and len(set(m.tolist())) == 1
        a, b = (np.stack([_pad(p[k], size.max()) for p in chunk]) for k, size in ((0, n), (1, m)))
        lengths = {} if same else {"x_lengths": n, "y_lengths": m}
        values.append(
            soft_dtw(tf.constant(a), tf.constant(b), gamma=gamma, band=band, metric=metric, **lengths).numpy()
        )
    return float(np.mean(np.concatenate(values)))


def _pad(series, length):
    return np.pad(series, ((0, length - len(series)), (0, 0)))


def tdi(y_true, y_pred, metric="sqeuclidean", band=None):
    """Temporal Distortion Index of DILATE (Le Guen and Thome, 2019).

    For each pair the optimal DTW path ``P*`` (:func:`dtwrl.dtw_path`) is
    scored by how far it strays from the diagonal:

        TDI(y_true, y_pred) = sum_{(i, j) in P*} (i - j)^2 / (n m)

    which for ``n == m = N`` is the ``sum (i - j)^2 / N^2`` of the authors'
    evaluation code (the discrete counterpart of DILATE's temporal term). It
    is 0 when the optimal path is the diagonal; ties between optimal paths are
    broken towards the diagonal.

    Parameters
    ----------
    y_true : array_like, shape (N, n) or (N, n, d)
    y_pred : array_like, shape (N, m) or (N, m, d)
    metric : {"sqeuclidean", "euclidean", "abs"}
        Local cost of the DTW that picks the path (squared Euclidean in the paper).
    band : int >= 0 or None

    Returns
    -------
    float
        Mean TDI over the pairs.

    Examples
    --------
    >>> tdi([[0.0, 1.0, 0.0, 0.0]], [[0.0, 0.0, 1.0, 0.0]])  # path (0,0) (0,1) (1,2) (2,3) (3,3)
    0.1875
    """
    aligner = ExactDTWAligner(metric=metric, band=band)
    scores = []
    for a, b in _pairs(y_true, y_pred):
        (path,) = aligner(a[None], b[None])
        scores.append(np.sum(np.square(path[:, 0] - path[:, 1])) / (len(a) * len(b)))
    return float(np.mean(scores))


def evaluate_forecasts(y_true, y_pred, gamma=1.0, metric="sqeuclidean", band=None):
    """Every test metric of a batch of forecasts.

    Parameters
    ----------
    y_true : array_like, shape (N, n) or (N, n, d)
    y_pred : array_like, same shape as ``y_true``
    gamma : float > 0
        soft-DTW smoothing.
    metric : {"sqeuclidean", "euclidean", "abs"}
        Local cost of the DTW-based metrics.
    band : int >= 0 or None
        Sakoe-Chiba half-width of the DTW-based metrics.

    Returns
    -------
    dict
        ``{"mse": mse, "dtw": dtw_score, "root_dtw": root_dtw_score, "soft_dtw": soft_dtw_score, "tdi": tdi}``,
        each a float mean over the N pairs.

    Examples
    --------
    >>> scores = evaluate_forecasts([[0.0, 1.0, 0.0, 0.0]], [[0.0, 0.0, 1.0, 0.0]])
    >>> scores["mse"], scores["dtw"], scores["tdi"]
    (0.5, 0.0, 0.1875)
    """
    if not isinstance(y_true, (list, tuple)) and not isinstance(y_pred, (list, tuple)):
        y_true, y_pred = check_pair_batches(y_true, y_pred)
    return {
        "mse": mse(y_true, y_pred),
        "dtw": dtw_score(y_true, y_pred, metric=metric, band=band),
        "root_dtw": root_dtw_score(y_true, y_pred, metric=metric, band=band),
        "soft_dtw": soft_dtw_score(y_true, y_pred, gamma=gamma, metric=metric, band=band),
        "tdi": tdi(y_true, y_pred, metric=metric, band=band),
    }
