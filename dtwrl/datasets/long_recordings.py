"""The long recordings of ``../shared/data/long/`` and their one train / test split.

Each recording (a ``.csv``: index or timestamp, value, ...) is cut once in
time: its first :data:`TRAIN_FRACTION` of samples are the ``"train"`` split
(what ``experiments/pretrain_aligner.py --max-length`` trains on), the rest
the ``"test"`` split (what ``experiments/benchmark_aligner.py --long``
evaluates on: halves of the test parts, test parts of different ECG-like
recordings, the ElectricDevices test part tiled and warped). The two splits
share no sample; :func:`split_bounds` is the one definition of the cut.

>>> split_bounds(10_000, "train"), split_bounds(10_000, "test")
((0, 4000), (4000, 10000))
"""

import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .series_files import load_series_file

__all__ = ["LONG_SPLITS", "TRAIN_FRACTION", "load_long_recordings", "read_recording", "split_bounds"]

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


def read_recording(path: str | os.PathLike) -> NDArray[np.float64]:
    """One long recording as ``(n, 1)`` float64: the value column (the second) of its ``.csv`` rows.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = path.write_text("0,1.5\\n1,2.5\\n2,0.5\\n")
    >>> read_recording(path).ravel().tolist()
    [1.5, 2.5, 0.5]
    """
    rows = load_series_file(path)  # one row per sample: index or timestamp, value, ...
    if any(len(row) < 2 for row in rows):
        raise ValueError(f"{Path(path).name}: every row must hold an index and a value")
    return np.ascontiguousarray(np.array([row[1, 0] for row in rows], dtype=np.float64)[:, None])


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
