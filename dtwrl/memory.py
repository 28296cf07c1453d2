"""The memory a new array may take, and a clear refusal for an O(n m) array that would not fit in it.

Exact DTW's path, a cost matrix and the dense observation of the warping env
hold a whole n x m grid. On long pairs that exceeds memory, and the failure
used to surface as ``MemoryError: Allocation failed`` deep inside numba, as
``OSError: Cannot allocate memory``, or as the system killing the process.
:func:`check_fits` refuses first, saying what needs the memory and what to
use instead.

>>> check_fits(10**18, "x and y", "a path of 10**9 x 10**9 cells", "use dtwrl.dtw")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: x and y: a path of 10**9 x 10**9 cells would take 1e+09 GB, more than the ... GB available; use dtwrl.dtw
"""

__all__ = ["ALWAYS_FITS", "available_bytes", "check_fits"]

#: Allocations up to this many bytes (64 MB) are not checked: reading the available memory takes tens of
#: microseconds, as long as exact DTW on a short pair.
ALWAYS_FITS = 2**26


def available_bytes(meminfo="/proc/meminfo"):
    """The memory the system can give new allocations without swapping (Linux ``MemAvailable``), or None elsewhere.

    >>> available_bytes() is None or available_bytes() > 0
    True
    """
    try:
        with open(meminfo, encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_fits(need, name, what, instead):
    """``ValueError`` naming ``name`` when ``need`` bytes (for ``what``) exceed :func:`available_bytes`.

    Parameters
    ----------
    need : int
        Bytes the caller is about to allocate.
    name : str
        The argument the error names (``"x and y"``, ``"pairs"``).
    what : str
        What holds the memory, e.g. ``"dtw_path keeps one byte per grid cell: 300000 x 300000 cells"``.
    instead : str
        The way out, e.g. ``"dtwrl.dtw gives the value in O(m) memory"``.

    Where the available memory is unknown (no ``/proc/meminfo``), and for ``need`` up to :data:`ALWAYS_FITS`,
    nothing is checked.
    """
    if need <= ALWAYS_FITS:
        return
    free = available_bytes()
    if free is not None and need > free:
        raise ValueError(
            f"{name}: {what} would take {need / 1e9:.3g} GB, more than the {free / 1e9:.3g} GB available; {instead}"
        )
