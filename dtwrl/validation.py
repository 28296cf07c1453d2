"""Input checks shared by every part of dtwrl.

Each check either returns a clean value or raises ``ValueError`` (``TypeError``
for a wrong type) whose message names the offending argument.
"""
import numbers

import numpy as np

#: The local costs every DTW variant in dtwrl understands.
METRIC_NAMES = ("sqeuclidean", "euclidean", "abs")


def as_series(x, name="x"):
    """Validate a time series into a C-contiguous float64 array of shape (n, d).

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
        The series; a 1-D input is one feature (d = 1).
    name : str
        The argument name used in error messages.

    Returns
    -------
    numpy.ndarray, shape (n, d), float64, C-contiguous
        A copy only when the input is not already in that form.

    Raises
    ------
    TypeError
        If ``x`` is not numeric (strings, objects, complex numbers).
    ValueError
        If ``x`` is ragged, empty, not 1-D or 2-D, or holds NaN or inf.

    Examples
    --------
    >>> as_series([1, 2, 3]).shape
    (3, 1)
    >>> as_series([[0.0, 1.0], [2.0, 3.0]], name="y").flags["C_CONTIGUOUS"]
    True
    """
    return _as_float_array(x, name, ndim=2, shape_text="(n,) or (n, d)")


def as_batch(x, name="x"):
    """Validate a batch of series into a C-contiguous float64 array (B, n, d).

    Parameters
    ----------
    x : array_like, shape (B, n) or (B, n, d)
        A 2-D input is a batch of univariate series (d = 1).
    name : str
        The argument name used in error messages.

    Returns
    -------
    numpy.ndarray, shape (B, n, d), float64

    Raises
    ------
    TypeError
        If ``x`` is not numeric.
    ValueError
        If ``x`` is not 2-D or 3-D, is empty, or holds NaN or inf.

    Examples
    --------
    >>> as_batch([[1.0, 2.0, 3.0]]).shape
    (1, 3, 1)
    """
    return _as_float_array(x, name, ndim=3, shape_text="(B, n) or (B, n, d)")


def _as_float_array(x, name, ndim, shape_text):
    """``x`` as a finite, non-empty, C-contiguous float64 array of rank ``ndim``; rank ``ndim - 1`` gains d = 1."""
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{name} must be an array of shape {shape_text}; got {err}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers; got dtype {arr.dtype}")
    if arr.ndim not in (ndim - 1, ndim):
        raise ValueError(f"{name} must have shape {shape_text}; got shape {arr.shape}")
    if arr.ndim == ndim - 1:
        arr = arr[..., None]
    if 0 in arr.shape:
        raise ValueError(f"{name} must not be empty; got shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite; it holds NaN or inf")
    return arr


def check_metric(metric, name="metric"):
    """Validate a local-cost name.

    Parameters
    ----------
    metric : str
        One of ``"sqeuclidean"``, ``"euclidean"``, ``"abs"``.
    name : str
        The argument name used in error messages.

    Returns
    -------
    str
        ``metric`` unchanged.

    Examples
    --------
    >>> check_metric("abs")
    'abs'
    """
    if not isinstance(metric, str) or metric not in METRIC_NAMES:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, METRIC_NAMES))}; got {metric!r}")
    return metric


def check_gamma(gamma, name="gamma"):
    """Validate a smoothing parameter: a finite real number > 0.

    Parameters
    ----------
    gamma : float
        The smoothing strength of a soft minimum.
    name : str
        The argument name used in error messages.

    Returns
    -------
    float

    Examples
    --------
    >>> check_gamma(0.1)
    0.1
    """
    if isinstance(gamma, (bool, np.bool_, str, bytes)) or not (
        isinstance(gamma, numbers.Real) or (hasattr(gamma, "shape") and np.ndim(gamma) == 0)
    ):
        raise TypeError(f"{name} must be a real number > 0; got {gamma!r}")
    value = float(gamma)
    if not np.isfinite(value) or value <= 0.0:
        raise ValueError(f"{name} must be a finite number > 0; got {value}")
    return value


def check_same_dim(x, y, names=("x", "y")):
    """Check that two validated series have the same number of features d.

    Parameters
    ----------
    x, y : numpy.ndarray, shapes (n, d) and (m, d)
        Series already passed through :func:`as_series`.
    names : tuple of str
        The two argument names used in error messages.

    Examples
    --------
    >>> check_same_dim(as_series([1.0, 2.0]), as_series([3.0]))
    """
    if x.shape[-1] != y.shape[-1]:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same number of features d; "
            f"got {names[0]} with d={x.shape[-1]} and {names[1]} with d={y.shape[-1]}"
        )
