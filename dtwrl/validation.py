"""Input checks shared by every part of dtwrl.

Each check either returns a clean value or raises ``ValueError`` (``TypeError``
for a wrong type) whose message names the offending argument.
"""

import numbers

import numba as _numba
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


def as_real_array(x, name, expected):
    """``np.asarray(x)`` of a real dtype (bool, int, float), for the validators of every entry point.

    ``ValueError`` ``"{name} must be {expected}; got ..."`` when NumPy cannot make
    an array of ``x`` (ragged nesting); ``TypeError`` naming ``name`` for any
    other dtype.

    >>> as_real_array([1, 2], "x", "an array of real numbers").dtype.kind
    'i'
    >>> as_real_array(["a"], "x", "an array of real numbers")
    Traceback (most recent call last):
    ...
    TypeError: x must hold real numbers; got dtype <U1
    """
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{name} must be {expected}; got {err}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers; got dtype {arr.dtype}")
    return arr


def _as_float_array(x, name, ndim, shape_text):
    """``x`` as a finite, non-empty, C-contiguous float64 array of rank ``ndim``; rank ``ndim - 1`` gains d = 1."""
    arr = as_real_array(x, name, f"an array of shape {shape_text}")
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


def check_radius(radius, name="radius"):
    """Validate a FastDTW radius: an int >= 1.

    Parameters
    ----------
    radius : int
    name : str
        The argument name used in error messages.

    Returns
    -------
    int

    Examples
    --------
    >>> check_radius(0, "fastdtw_radius")
    Traceback (most recent call last):
    ...
    ValueError: fastdtw_radius must be an int >= 1 (fastdtw fails at radius 0); got 0
    """
    if isinstance(radius, (bool, np.bool_)) or not isinstance(radius, numbers.Integral):
        raise TypeError(f"{name} must be an int >= 1; got {radius!r}")
    if radius < 1:
        # fastdtw 0.3.4 refines radius-0 windows into grids its backtrack cannot cross and
        # then fails with IndexError on most inputs (github.com/slaypni/fastdtw/issues/17).
        raise ValueError(f"{name} must be an int >= 1 (fastdtw fails at radius 0); got {radius}")
    return int(radius)


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


def _cost_bound(span, metric):
    """Largest local cost between frames whose features differ by at most ``span`` (..., d) -> (...).

    It follows the kernels' own arithmetic (squares are formed even for
    "euclidean"), so it is infinite exactly when a kernel could overflow.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if metric == "abs":
            return span.sum(axis=-1)
        squares = (span * span).sum(axis=-1)
        return np.sqrt(squares) if metric == "euclidean" else squares


def check_cost_range(x, y, metric="sqeuclidean", terms=None, names=("x", "y"), dtype=np.float64):
    """Check that no local cost, nor any sum of ``terms`` of them, overflows ``dtype``.

    Every local cost between ``x[i]`` and ``y[j]`` is at most the cost between
    two frames whose features differ by the spread of the pair's values; a
    warping path sums at most ``n + m - 1`` of them. If that bound is not a
    finite ``dtype`` number the pair is refused, rather than returning ``inf``
    or a corrupt path.

    Parameters
    ----------
    x, y : numpy.ndarray, shapes (n, d) and (m, d) (or batches (B, n, d), (B, m, d))
        Validated series (:func:`as_series`, :func:`as_batch`).
    metric : {"sqeuclidean", "euclidean", "abs"}
    terms : int or None
        How many local costs are summed; None means a whole path, ``n + m - 1``.
    names : tuple of str
        The two argument names used in error messages.
    dtype : numpy dtype
        Where the sums are formed.

    Raises
    ------
    ValueError
        "x and y: the local costs overflow float64; rescale the series".

    Examples
    --------
    >>> check_cost_range(as_series([1e200]), as_series([-1e200]))
    Traceback (most recent call last):
    ...
    ValueError: x and y: the local costs overflow float64 (largest |value| 1e+200); rescale the series
    """
    if terms is None:
        terms = x.shape[-2] + y.shape[-2] - 1
    with np.errstate(over="ignore", invalid="ignore"):
        span = np.maximum(x.max(axis=-2), y.max(axis=-2)) - np.minimum(x.min(axis=-2), y.min(axis=-2))
        bound = _cost_bound(span, metric) * float(terms)
    if not np.all(bound <= np.finfo(dtype).max):
        largest = max(float(np.abs(x).max()), float(np.abs(y).max()))
        raise ValueError(
            f"{names[0]} and {names[1]}: the local costs overflow {np.dtype(dtype).name} "
            f"(largest |value| {largest:.3g}); rescale the series"
        )


def bad_padded_paths(indices, lengths, n, m):
    """Which padded paths are not warping paths of the n-by-m grid (vectorised).

    Parameters
    ----------
    indices : numpy.ndarray of int, shape (B, L, 2)
        Path ``b`` is ``indices[b, :lengths[b]]``; the rest is padding.
    lengths : numpy.ndarray of int, shape (B,)
    n, m : int

    Returns
    -------
    numpy.ndarray of bool, shape (B,)
        True where a length is outside ``[1, L]``, or the path does not start
        at (0, 0), end at (n-1, m-1), or step by (1, 1), (1, 0), (0, 1).

    Examples
    --------
    >>> bad_padded_paths(np.array([[[0, 0], [1, 1]], [[0, 0], [0, 0]]]), np.array([2, 2]), 2, 2).tolist()
    [False, True]
    """
    indices = np.ascontiguousarray(indices)  # its own integer type: no int64 copy of a batch's paths
    if indices.dtype.kind not in "iu":
        indices = indices.astype(np.int64)
    lengths = np.ascontiguousarray(lengths, dtype=np.int64)
    if indices.shape[1] == 0:
        return np.ones(indices.shape[0], dtype=bool)
    return _njit_bad_padded_paths(indices, lengths, int(n), int(m))


@_numba.njit(cache=True, nogil=True)
def _njit_bad_padded_paths(indices, lengths, n, m):
    """:func:`bad_padded_paths`' loop: one pass over each path's counted cells (the padding is never read)."""
    B, L = indices.shape[0], indices.shape[1]
    bad = np.zeros(B, dtype=np.bool_)
    for b in range(B):
        length = lengths[b]
        if length < 1 or length > L or indices[b, 0, 0] != 0 or indices[b, 0, 1] != 0:
            bad[b] = True
            continue
        if indices[b, length - 1, 0] != n - 1 or indices[b, length - 1, 1] != m - 1:
            bad[b] = True
            continue
        for t in range(1, length):
            di = indices[b, t, 0] - indices[b, t - 1, 0]
            dj = indices[b, t, 1] - indices[b, t - 1, 1]
            if di < 0 or di > 1 or dj < 0 or dj > 1 or di + dj == 0:
                bad[b] = True
                break
    return bad


def check_path(path, n, m, name="path"):
    """Validate one warping path of an n-by-m grid into an int64 array (L, 2).

    Parameters
    ----------
    path : array_like of int, shape (L, 2)
        From (0, 0) to (n-1, m-1) in steps (1, 1), (1, 0) or (0, 1).
    n, m : int
        The grid's size.
    name : str
        The argument name used in error messages.

    Returns
    -------
    numpy.ndarray of int64, shape (L, 2), C-contiguous

    Raises
    ------
    ValueError
        Not integers, wrong shape, wrong start or end cell, or an illegal step
        (the message gives the first one).

    Examples
    --------
    >>> check_path([[0, 0], [1, 0], [2, 1]], 3, 2).tolist()
    [[0, 0], [1, 0], [2, 1]]
    >>> check_path([[0, 0], [1, 1], [0, 1], [1, 1]], 2, 2)
    Traceback (most recent call last):
    ...
    ValueError: path has an illegal step (-1, 0) at index 1; steps must be (1, 1), (1, 0) or (0, 1)
    """
    try:
        arr = np.asarray(path)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{name} must be an integer array of shape (L, 2); got {err}") from None
    if arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must be an integer array of shape (L, 2); got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
        raise ValueError(f"{name} must have shape (L, 2) with L >= 1; got shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    if tuple(arr[0]) != (0, 0):
        raise ValueError(f"{name} must start at (0, 0); it starts at {tuple(arr[0].tolist())}")
    if tuple(arr[-1]) != (n - 1, m - 1):
        raise ValueError(f"{name} must end at (n-1, m-1) = ({n - 1}, {m - 1}); it ends at {tuple(arr[-1].tolist())}")
    steps = np.diff(arr, axis=0)
    legal = ((steps == 0) | (steps == 1)).all(axis=1) & (steps.sum(axis=1) > 0)
    if not legal.all():
        k = int(np.argmin(legal))
        raise ValueError(
            f"{name} has an illegal step {tuple(steps[k].tolist())} at index {k}; "
            "steps must be (1, 1), (1, 0) or (0, 1)"
        )
    return arr


def check_padded_paths(indices, lengths, n, m, names=("paths", "lengths")):
    """Validate padded warping paths (B, L, 2) with their lengths (B,); the error names the first bad pair.

    ``names`` are the two argument names; the pair's index is appended as
    ``[b]``, or replaces ``{b}`` in a name that holds it.

    Examples
    --------
    >>> check_padded_paths(np.array([[[0, 0], [1, 0]]]), np.array([2]), 2, 2, ("paths_idx", "path_lengths"))
    Traceback (most recent call last):
    ...
    ValueError: paths_idx[0] must end at (n-1, m-1) = (1, 1); it ends at (1, 0)
    """
    indices, lengths = np.asarray(indices), np.asarray(lengths)
    if indices.ndim != 3 or indices.shape[-1] != 2 or lengths.shape != indices.shape[:1]:
        raise ValueError(
            f"{names[0]} and {names[1]} must have shapes (B, L, 2) and (B,); got {indices.shape} and {lengths.shape}"
        )
    bad = bad_padded_paths(indices, lengths, n, m)
    if bad.any():
        b = int(np.argmax(bad))
        L = indices.shape[1]
        path_name, length_name = (name.format(b=b) if "{b}" in name else f"{name}[{b}]" for name in names)
        if not 1 <= lengths[b] <= L:
            raise ValueError(f"{length_name} must lie in [1, {L}] (the padded length); got {int(lengths[b])}")
        check_path(indices[b, : lengths[b]], n, m, name=path_name)  # raises with the details
