"""DTW with a smoothed min operator (Mensch & Blondel, 2018), batched in TensorFlow.

For a strongly convex regulariser ``Omega`` on the simplex,
``max_Omega(a) = max_q <q, a> - gamma Omega(q)`` and ``min_Omega(a) = -max_Omega(-a)``;
the DTW recursion with ``min_Omega`` in place of ``min`` is differentiable and
its gradient ``E = dR[end]/dD`` is the expected alignment:

- ``"entropy"`` (negentropy): ``min_Omega(a) = -gamma log sum_k exp(-a_k / gamma)``,
  i.e. soft-DTW, identical to :func:`dtwrl.soft_dtw`;
- ``"l2"`` (squared L2, ``Omega(q) = ||q||^2 / 2``):
  ``min_Omega(a) = <q, a> + gamma / 2 ||q||^2`` with ``q = sparsemax(-a / gamma)``,
  whose weights are often exactly 0, so the alignment is sparse.

Both share one engine (:mod:`dtwrl.tf._wavefront`) with soft-DTW: the same
anti-diagonal forward pass, backward recursion and Hessian-vector product,
each with the operator's own transition weights and Jacobian.
"""

from . import _wavefront as wf
from .sdtw import prepare_pair, series_alignment, series_value


def _check_regularizer(regularizer):
    if not isinstance(regularizer, str) or regularizer not in wf.REGULARIZERS:
        raise ValueError(f"regularizer must be one of {', '.join(map(repr, wf.REGULARIZERS))}; got {regularizer!r}")
    return regularizer


def smoothed_dtw(
    x,
    y,
    gamma=1.0,
    regularizer="entropy",
    band=None,
    metric="sqeuclidean",
    x_lengths=None,
    y_lengths=None,
    implementation="auto",
    corridor=None,
):
    """Smoothed DTW value of each pair of two batches.

    Parameters
    ----------
    x : tf.Tensor or array_like, shape (B, n, d) or (B, n)
    y : tf.Tensor or array_like, shape (B, m, d) or (B, m)
        Same dtype (float32 or float64) and ``d``; rank 2 means univariate.
    gamma : float > 0
        Smoothing strength; ``gamma -> 0`` gives exact DTW for both regularisers.
        ``gamma`` and ``1 / gamma`` must be normal numbers of the dtype (in
        float32, ``gamma >= 1.2e-38``).
    regularizer : {"entropy", "l2"}
        ``"entropy"`` is soft-DTW; ``"l2"`` the sparsemax smoothed min (module docstring).
    band, metric, x_lengths, y_lengths, implementation, corridor
        As in :func:`dtwrl.soft_dtw` (both regularisers run on every engine, corridors included).

    Returns
    -------
    tf.Tensor, shape (B,)
        ``R[x_len - 1, y_len - 1]`` of the recursion
        ``R[i, j] = C[i, j] + min_Omega(R[i-1, j-1], R[i-1, j], R[i, j-1])``;
        differentiable twice.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0, 1.0, 2.0]]); y = np.array([[0.0, 2.0]])
    >>> round(float(smoothed_dtw(x, y, gamma=1.0, regularizer="l2")[0]), 4)
    2.25
    """
    regularizer = _check_regularizer(regularizer)
    x, y, gamma, metric, band, x_lengths, y_lengths, engine, corridor = prepare_pair(
        x, y, gamma, metric, band, x_lengths, y_lengths, implementation, corridor
    )
    return series_value(x, y, gamma, regularizer, metric, band, x_lengths, y_lengths, engine, corridor)


def smoothed_dtw_alignment(
    x,
    y,
    gamma=1.0,
    regularizer="entropy",
    band=None,
    metric="sqeuclidean",
    x_lengths=None,
    y_lengths=None,
    implementation="auto",
    corridor=None,
):
    """Expected alignment ``E = d smoothed_dtw / dC`` of each pair, differentiable.

    Parameters are those of :func:`smoothed_dtw`.

    Returns
    -------
    tf.Tensor, shape (B, n, m)
        For ``"l2"`` most cells are exactly 0 (a sparse alignment); rows and
        columns beyond a pair's lengths are 0 for both regularisers.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0, 0.0, 3.0]]); y = np.array([[0.0, 3.0, 3.0]])
    >>> smoothed_dtw_alignment(x, y, gamma=0.5, regularizer="l2").numpy()[0].tolist()
    [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]
    """
    regularizer = _check_regularizer(regularizer)
    x, y, gamma, metric, band, x_lengths, y_lengths, engine, corridor = prepare_pair(
        x, y, gamma, metric, band, x_lengths, y_lengths, implementation, corridor
    )
    return series_alignment(x, y, gamma, regularizer, metric, band, x_lengths, y_lengths, engine, corridor)
