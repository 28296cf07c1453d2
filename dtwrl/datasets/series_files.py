"""Loaders for plain files of series: ``.csv`` (one univariate series per row) and ``.npy`` arrays.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "demo.csv"
>>> _ = path.write_text("1,2,3,4\\n5,6,7\\n")
>>> [s.ravel().tolist() for s in load_series_file(path)]
[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0]]
"""

import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["SERIES_FILE_SUFFIXES", "load_series_file"]

#: File suffixes :func:`load_series_file` reads.
SERIES_FILE_SUFFIXES = (".csv", ".npy")


def _load_csv(path):
    series, header = [], None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            cells = [cell.strip() for cell in line.strip().split(",")]
            while cells and cells[-1] == "":  # ragged rows exported from a spreadsheet end in empty cells
                cells.pop()
            if not cells or cells[0].startswith("#"):
                continue
            if header is None and not series and not any(_is_number(c) for c in cells):
                header = line.strip()  # the first row, of column names (only the first: "1;2;3" rows are not)
                continue
            try:
                values = np.array([float(cell) for cell in cells], dtype=np.float64)
            except ValueError:
                bad = next(c for c in cells if not _is_number(c))
                raise ValueError(
                    f"{path.name}, line {number}: {bad!r} is not a number (one series per row, comma-separated numbers)"
                ) from None
            if not np.isfinite(values).all():
                raise ValueError(f"{path.name}, line {number}: values must be finite")
            series.append(values[:, None])
    if not series and header is not None:
        raise ValueError(
            f"{path.name}: holds no series; its one row, {header[:40]!r}, reads as a header of column names "
            "(one series per row, comma-separated numbers)"
        )
    return series


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _load_npy(path):
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as err:
        raise ValueError(f"{path.name}: not a numeric .npy array ({err})") from None
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{path.name}: must hold real numbers; got dtype {array.dtype}")
    if array.ndim not in (2, 3) or 0 in array.shape:
        raise ValueError(f"{path.name}: must have shape (N, n) or (N, n, d) with N, n, d >= 1; got {array.shape}")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"{path.name}: values must be finite; it holds NaN or inf")
    if array.ndim == 2:
        array = array[:, :, None]
    return list(array)


def load_series_file(path: str | os.PathLike) -> list[NDArray[np.float64]]:
    """Read every series of a ``.csv`` or ``.npy`` file.

    Parameters
    ----------
    path : str or os.PathLike
        ``.csv``: one univariate series per row, comma-separated numbers; rows
        may differ in length (trailing empty cells are ignored, blank lines and
        ``#`` comments skipped, a first row of column names is a header).
        ``.npy``: a real array ``(N, n)`` (N univariate
        series) or ``(N, n, d)``.

    Returns
    -------
    list of numpy.ndarray
        One float64 array ``(n_i, d)`` per series.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Another suffix, a cell that is not a number, a non-finite value, a
        wrong shape, or a file without any series.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "demo.npy"
    >>> np.save(path, np.zeros((3, 5, 2)))
    >>> [s.shape for s in load_series_file(path)]
    [(5, 2), (5, 2), (5, 2)]
    """
    path = Path(path)
    if path.suffix.lower() not in SERIES_FILE_SUFFIXES:
        raise ValueError(f"{path.name}: a series file must end in {' or '.join(SERIES_FILE_SUFFIXES)}")
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    series = _load_csv(path) if path.suffix.lower() == ".csv" else _load_npy(path)
    if not series:
        raise ValueError(f"{path.name}: holds no series")
    return series
