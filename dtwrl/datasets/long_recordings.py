"""The long recordings of ``../shared/data/long/`` and their one train / test split.

Each recording (a ``.csv``: index or timestamp, value, ...; see :func:`read_recording`) is cut once in
time: its first :data:`TRAIN_FRACTION` of samples are the ``"train"`` split
(what ``experiments/pretrain_aligner.py --max-length`` trains on), the rest
the ``"test"`` split (what ``experiments/benchmark_aligner.py --long``
evaluates on: halves of the test parts, test parts of different recordings
of one kind (the ECG ones here), the ElectricDevices test part tiled and warped). The two splits
share no sample; :func:`split_bounds` is the one definition of the cut.

>>> split_bounds(10_000, "train"), split_bounds(10_000, "test")
((0, 4000), (4000, 10000))
"""

import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .forecasting import fill_missing

__all__ = ["LONG_SPLITS", "MISSING_CELLS", "TRAIN_FRACTION", "load_long_recordings", "read_recording", "split_bounds"]

#: Share of every recording (its first samples) in the ``"train"`` split; the rest is ``"test"``.
TRAIN_FRACTION = 0.4
#: The named splits :func:`load_long_recordings` accepts.
LONG_SPLITS = ("train", "test", "all")


def split_bounds(n: int, split: str) -> tuple[int, int]:
    """``(start, stop)`` of ``split`` in a recording of ``n`` samples: ``series[start:stop]``.

    Parameters
    ----------
    n : int >= 2
        Length of the recording.
    split : {"train", "test", "all"}

    Returns
    -------
    tuple of int

    Examples
    --------
    >>> split_bounds(11_532, "test")
    (4612, 11532)
    """
    if split not in LONG_SPLITS:
        raise ValueError(f"split must be one of {LONG_SPLITS}; got {split!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an int >= 2; got {n!r}")
    cut = max(1, min(int(n), int(TRAIN_FRACTION * n)))
    return {"train": (0, cut), "test": (cut, int(n)), "all": (0, int(n))}[split]


#: Value cells read as a missing sample (case-insensitive; ``nan`` parses as one too).
MISSING_CELLS = frozenset({"", "?", "na", "n/a", "null", "none"})


def read_recording(path: str | os.PathLike) -> NDArray[np.float64]:
    """One long recording as ``(n, 1)`` float64: the value column of its ``.csv`` rows.

    A row is ``index or timestamp, value, ...``: the value is the second
    column, and the first is not read, so it may be a date. A file of one
    column holds the values alone. A first row whose value is not a number is
    a header of column names; blank lines and ``#`` comments are skipped. An
    empty, ``?``, ``NA`` or ``nan`` value is a missing sample, filled by linear
    interpolation in time (``dtwrl.datasets.forecasting.fill_missing``); any
    other value that is not a finite number is refused, naming its line.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> rows = ["time,value,label", "2020-01-01 00:00,1.5,0", "2020-01-01 00:01,,0", "2020-01-01 00:02,0.5,1"]
    >>> _ = path.write_text("\\n".join(rows))
    >>> read_recording(path).ravel().tolist()
    [1.5, 1.0, 0.5]
    """
    path = Path(path)
    values, first = [], True
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            cells = [cell.strip() for cell in line.strip().split(",")]
            if cells == [""] or cells[0].startswith("#"):
                continue
            header, first = first, False  # only the first row may be column names
            cell = cells[1] if len(cells) > 1 else cells[0]
            if cell.lower() in MISSING_CELLS:
                values.append(np.nan)
                continue
            try:
                value = float(cell)
            except ValueError:
                if header:
                    continue
                raise ValueError(f"{path.name}, line {number}: the value {cell!r} is not a number") from None
            if np.isinf(value):
                raise ValueError(f"{path.name}, line {number}: the value must be finite; got {cell!r}")
            values.append(value)
    if len(values) < 2:
        raise ValueError(f"{path.name}: a recording needs at least 2 samples; got {len(values)}")
    return np.ascontiguousarray(fill_missing(values, path.name))


def load_long_recordings(root: str | os.PathLike, split: str) -> dict[str, NDArray[np.float64]]:
    """``{file stem: (n_split, 1) series}`` of every ``.csv`` recording under ``root``, cut to ``split``.

    Parameters
    ----------
    root : str or os.PathLike
        Folder of the long recordings (``../shared/data/long``); a missing folder gives ``{}``.
    split : {"train", "test", "all"}
        See :func:`split_bounds`.

    Returns
    -------
    dict
        In file-name order.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "a.csv").write_text("".join(f"{i},{i}\\n" for i in range(10)))
    >>> load_long_recordings(root, "train")["a"].ravel().tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    if split not in LONG_SPLITS:
        raise ValueError(f"split must be one of {LONG_SPLITS}; got {split!r}")
    out = {}
    for path in sorted(Path(root).glob("*.csv")):
        series = read_recording(path)
        start, stop = split_bounds(len(series), split)
        out[path.stem] = np.ascontiguousarray(series[start:stop])
    return out
