"""The Sakoe-Chiba band, defined once for every part of dtwrl.

An int ``band = r >= 0`` allows cell ``(i, j)`` of an ``n``-by-``m`` grid iff

    |j * (n - 1) - i * (m - 1)| <= r * min(n - 1, m - 1)

that is, ``|j - i (m-1)/(n-1)| <= r`` when ``m >= n``: the diagonal is scaled to
run from ``(0, 0)`` to ``(n-1, m-1)`` and ``r`` is the half-width in cells of
the longer series. For ``n == m`` this is the classic ``|i - j| <= r``. When
``n == 1`` or ``m == 1`` every cell is allowed; ``band=None`` allows every cell.
All arithmetic is on integers, so the band is exact at every size; a band
wider than ``max(n, m)`` (which allows every cell) is capped there.
"""

import numbers

import numpy as np


def _check_size(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive int; got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int; got {value}")
    return int(value)


def _check_band_value(band, name="band"):
    """``None`` or a non-negative Python int; bool, floats and negatives are rejected."""
    if band is None:
        return None
    if isinstance(band, (bool, np.bool_)) or not isinstance(band, numbers.Integral):
        raise TypeError(f"{name} must be None or an int >= 0; got {band!r}")
    if band < 0:
        raise ValueError(f"{name} must be None or an int >= 0; got {band}")
    return int(band)


def _bounds(n, m, band):
    """Row bounds (lo, hi) for already validated arguments; lo > hi marks an empty row.

    A band wider than ``max(n, m)`` allows every cell, so it is capped there:
    the integer arithmetic below then cannot overflow int64 (``band=2**62``).
    """
    if band is None or n == 1 or m == 1:
        return np.zeros(n, dtype=np.int64), np.full(n, m - 1, dtype=np.int64)
    band = min(band, max(n, m))
    i = np.arange(n, dtype=np.int64)
    centre = i * (m - 1)
    width = band * min(n - 1, m - 1)
    lo = -((width - centre) // (n - 1))  # ceil((centre - width) / (n - 1))
    hi = (centre + width) // (n - 1)
    return np.maximum(lo, 0), np.minimum(hi, m - 1)


def _connected(lo, hi):
    """True iff a monotone path joins (0, 0) to (n-1, m-1) through the rows' [lo, hi]."""
    return bool(np.all(lo <= hi) and np.all(lo[1:] <= hi[:-1] + 1))


def band_bounds(n, m, band):
    """Inclusive column range allowed in each row of the band.

    Parameters
    ----------
    n, m : int
        Lengths of the two series (rows and columns of the grid).
    band : int >= 0 or None
        Half-width of the band in cells of the longer series; None for no band.

    Returns
    -------
    lo, hi : numpy.ndarray of int64, shape (n,)
        Row ``i`` allows columns ``lo[i] <= j <= hi[i]``, with
        ``lo[i] = max(0, ceil((i (m-1) - r k) / (n-1)))`` and
        ``hi[i] = min(m-1, floor((i (m-1) + r k) / (n-1)))``, ``k = min(n-1, m-1)``.
        A row with ``lo[i] > hi[i]`` is empty (the band is then too narrow,
        see :func:`check_band`).

    Examples
    --------
    >>> lo, hi = band_bounds(4, 4, 1)
    >>> lo.tolist(), hi.tolist()
    ([0, 0, 1, 2], [1, 2, 3, 3])
    """
    n, m = _check_size(n, "n"), _check_size(m, "m")
    return _bounds(n, m, _check_band_value(band))


def band_mask(n: int, m: int, band: int | None) -> np.ndarray:
    """Boolean mask of the cells inside the band.

    Parameters
    ----------
    n, m, band
        As for :func:`band_bounds` (None allows every cell).

    Returns
    -------
    numpy.ndarray of bool, shape (n, m)
        ``mask[i, j]`` is True iff ``|j (n-1) - i (m-1)| <= band * min(n-1, m-1)``.

    Examples
    --------
    >>> band_mask(3, 5, 1).astype(int)
    array([[1, 1, 0, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 0, 1, 1]])
    """
    lo, hi = band_bounds(n, m, band)
    j = np.arange(m, dtype=np.int64)
    return (j >= lo[:, None]) & (j <= hi[:, None])


def min_band(n: int, m: int) -> int:
    """Smallest band whose cells still connect (0, 0) to (n-1, m-1).

    Parameters
    ----------
    n, m : int
        Lengths of the two series.

    Returns
    -------
    int
        0 when ``n == m`` or either length is 1; otherwise the least ``r`` for
        which every row of the band is non-empty and overlaps or touches the
        row above it.

    Examples
    --------
    >>> min_band(5, 5), min_band(3, 5), min_band(10, 2)
    (0, 1, 4)
    """
    n, m = _check_size(n, "n"), _check_size(m, "m")
    low, high = 0, max(n, m)  # band = max(n, m) allows every cell
    while low < high:  # connectivity only grows with the band: bisect
        mid = (low + high) // 2
        if _connected(*_bounds(n, m, mid)):
            high = mid
        else:
            low = mid + 1
    return low


def check_band(n, m, band, name="band"):
    """Validate a band for an n-by-m grid.

    Parameters
    ----------
    n, m, band
        As for :func:`band_bounds`.
    name : str
        The argument name used in error messages.

    Returns
    -------
    int or None
        ``band`` as a Python int (or None).

    Raises
    ------
    TypeError
        If ``band`` is not None or an int (bool and floats are rejected).
    ValueError
        If ``band`` is negative, or so narrow that no warping path fits in it;
        the message gives :func:`min_band`.

    Examples
    --------
    >>> check_band(3, 5, 1)
    1
    """
    band = _check_band_value(band, name)
    _connected_bounds(_check_size(n, "n"), _check_size(m, "m"), band, name)
    return band


def _connected_bounds(n, m, band, name="band"):
    """Row bounds of a validated band value, raising if no warping path fits inside it."""
    lo, hi = _bounds(n, m, band)
    if band is not None and not _connected(lo, hi):
        raise ValueError(
            f"{name}={band} is too narrow for lengths n={n} and m={m}: no warping path "
            f"fits inside it; the smallest band that works is {min_band(n, m)}"
        )
    return lo, hi
