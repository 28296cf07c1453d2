"""Forecasting tasks: the past of each series is the input, its future the target."""

import numbers
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .synthetic import _check_int, synthetic_step_task
from .ucr import load_ucr

#: Seeds of the built-in "synthetic_steps" task (train, test).
SYNTHETIC_STEPS_SEEDS = (0, 1)


def forecast_split(X, input_fraction=0.6):
    """Split equal-length series into inputs (the first part) and targets (the rest).

    Parameters
    ----------
    X : array_like, shape (N, n) or (N, n, d)
        Equal-length series; a 2-D array holds N univariate series.
    input_fraction : float
        Share of each series used as input, in (0, 1); the input length is
        ``round(input_fraction * n)``.

    Returns
    -------
    inputs : numpy.ndarray, shape (N, n_in, d), float64
    targets : numpy.ndarray, shape (N, n - n_in, d), float64

    Raises
    ------
    ValueError
        ``X`` is ragged, of the wrong rank, not finite, or too short for both parts
        to hold at least 2 points; ``input_fraction`` is not in (0, 1).

    Examples
    --------
    >>> inputs, targets = forecast_split(np.zeros((4, 150, 1)))
    >>> inputs.shape, targets.shape
    ((4, 90, 1), (4, 60, 1))
    """
    if (
        not isinstance(input_fraction, numbers.Real)
        or isinstance(input_fraction, (bool, np.bool_))
        or not 0.0 < input_fraction < 1.0
    ):
        raise ValueError(f"input_fraction must be a number in (0, 1); got {input_fraction!r}")
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("X must be an array (N, n) or (N, n, d) of equal-length numeric series") from None
    if X.ndim == 2:
        X = X[:, :, None]
    if X.ndim != 3 or 0 in X.shape:
        raise ValueError(f"X must have shape (N, n) or (N, n, d) with N, n, d >= 1; got {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("X must be finite; it holds NaN or inf")
    n = X.shape[1]
    n_in = int(round(input_fraction * n))
    if n_in < 2 or n - n_in < 2:
        raise ValueError(
            f"X is too short: length {n} with input_fraction={input_fraction} gives "
            f"{n_in} input and {n - n_in} target points; each part needs >= 2"
        )
    return np.ascontiguousarray(X[:, :n_in]), np.ascontiguousarray(X[:, n_in:])


def load_forecasting_task(
    name_or_path: str | os.PathLike, input_fraction: float = 0.6, n_series: int = 500
) -> tuple[tuple[NDArray[np.float64], NDArray[np.float64]], tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """Train and test (inputs, targets) for a UCR/UEA dataset or the DILATE step task.

    ``"synthetic_steps"`` is :func:`synthetic_step_task` with its defaults
    (20 input and 20 target steps), ``n_series`` series per split, seeded with
    ``SYNTHETIC_STEPS_SEEDS`` (0 for train, 1 for test); ``input_fraction`` is
    not used. Anything else goes to :func:`load_ucr` and each split is cut by
    :func:`forecast_split`; class labels are ignored.

    Parameters
    ----------
    name_or_path : str or os.PathLike
        ``"synthetic_steps"``, a dataset name or a directory that :func:`load_ucr`
        accepts (not a single file: both splits are needed).
    input_fraction : float
        See :func:`forecast_split`.
    n_series : int
        Series per split for ``"synthetic_steps"`` (the paper uses 500).

    Returns
    -------
    train : (inputs, targets)
    test : (inputs, targets)
        Arrays (N, n_in, d) and (N, n_out, d).

    Examples
    --------
    >>> (x_tr, y_tr), (x_te, y_te) = load_forecasting_task("GunPoint")
    >>> x_tr.shape, y_te.shape
    ((50, 90, 1), (150, 60, 1))
    >>> (x_tr, y_tr), _ = load_forecasting_task("synthetic_steps", n_series=10)
    >>> x_tr.shape, y_tr.shape
    ((10, 20, 1), (10, 20, 1))
    """
    if isinstance(name_or_path, str) and name_or_path == "synthetic_steps":
        n_series = _check_int(n_series, "n_series", 1)
        return tuple(synthetic_step_task(n_series, seed) for seed in SYNTHETIC_STEPS_SEEDS)
    if isinstance(name_or_path, (str, os.PathLike)) and Path(name_or_path).is_file():
        raise ValueError(
            "name_or_path must name a dataset or a directory holding both splits, not one file; "
            f"got {str(name_or_path)!r}"
        )
    splits = []
    for split in ("train", "test"):
        X, _ = load_ucr(name_or_path, split=split)
        if isinstance(X, list):
            raise ValueError(f"name_or_path: {str(name_or_path)!r} ({split}) has series of unequal lengths")
        splits.append(forecast_split(X, input_fraction))
    return tuple(splits)


@dataclass
class ForecastSplit:
    """Input windows and their true continuations, one pair per series, lengths free.

    Attributes
    ----------
    inputs : list of numpy.ndarray
        ``inputs[i]`` is the observed past of series i, float64 ``(n_in_i, d)``.
    targets : list of numpy.ndarray
        ``targets[i]`` is what follows it, float64 ``(n_out_i, d)``.

    Examples
    --------
    >>> split = ForecastSplit([np.zeros((3, 1)), np.zeros((5, 1))], [np.ones((2, 1)), np.ones((2, 1))])
    >>> len(split), split.input_lengths.tolist(), split.equal_length
    (2, [3, 5], False)
    """

    inputs: list
    targets: list

    def __post_init__(self):
        if len(self.inputs) != len(self.targets):
            raise ValueError(f"inputs and targets differ in number: {len(self.inputs)} vs {len(self.targets)}")

    def __len__(self):
        return len(self.inputs)

    @property
    def input_lengths(self):
        """``(N,)`` int array of the input lengths."""
        return np.array([len(x) for x in self.inputs], dtype=np.int64)

    @property
    def target_lengths(self):
        """``(N,)`` int array of the target lengths."""
        return np.array([len(y) for y in self.targets], dtype=np.int64)

    @property
    def dim(self):
        """Features per step, ``d``."""
        return self.inputs[0].shape[1]

    @property
    def equal_length(self):
        """True when every input has one length and every target another."""
        return len(set(self.input_lengths.tolist())) == 1 and len(set(self.target_lengths.tolist())) == 1

    def head(self, count):
        """The first ``count`` pairs (all of them for ``count`` 0)."""
        return self if not count else ForecastSplit(self.inputs[:count], self.targets[:count])

    def subset(self, index):
        """The pairs at the positions ``index`` (a sequence of ints)."""
        return ForecastSplit([self.inputs[i] for i in index], [self.targets[i] for i in index])

    def as_arrays(self):
        """``(inputs (N, n_in, d), targets (N, n_out, d))`` for equal lengths; raises ``ValueError`` otherwise."""
        if not self.equal_length:
            raise ValueError("the split has series of unequal lengths; it has no single array form")
        return np.stack(self.inputs), np.stack(self.targets)


@dataclass
class ForecastTask:
    """A named forecasting task: a train and a test :class:`ForecastSplit` and how they were made.

    Attributes
    ----------
    name : str
    train, test : ForecastSplit
    rule : str
        One sentence: how the series were cut and split (for tables).
    horizon : int or None
        The fixed forecast horizon, when the task has one.
    """

    name: str
    train: ForecastSplit
    test: ForecastSplit
    rule: str
    horizon: int = None


def _as_series_list(X, name):
    """A list of float64 ``(n_i, d)`` arrays from an array (N, n[, d]) or a list of (n_i[, d]) arrays."""
    if isinstance(X, np.ndarray):
        if X.ndim == 2:
            X = X[:, :, None]
        if X.ndim != 3:
            raise ValueError(f"{name} must have shape (N, n) or (N, n, d) or be a list of series; got {X.shape}")
        return [np.asarray(x, dtype=np.float64) for x in X]
    series = []
    for i, x in enumerate(X):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2 or 0 in x.shape:
            raise ValueError(f"{name}[{i}] must have shape (n,) or (n, d) with n, d >= 1; got {x.shape}")
        series.append(x)
    if not series:
        raise ValueError(f"{name} holds no series")
    if len({s.shape[1] for s in series}) > 1:
        raise ValueError(f"{name}: the series differ in their number of features d")
    return series


def fill_missing(series, name="series"):
    """Replace NaN values by linear interpolation in time (held constant before the first / after the last value).

    Parameters
    ----------
    series : array_like, shape (n,) or (n, d)
    name : str
        Named in the error message.

    Returns
    -------
    numpy.ndarray, shape (n, d), float64

    Raises
    ------
    ValueError
        If a feature of the series has no observed value at all.

    Examples
    --------
    >>> fill_missing([np.nan, 1.0, np.nan, 3.0, np.nan]).ravel().tolist()
    [1.0, 1.0, 2.0, 3.0, 3.0]
    """
    x = np.array(series, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    t = np.arange(len(x))
    for k in range(x.shape[1]):
        seen = np.isfinite(x[:, k])
        if not seen.any():
            raise ValueError(f"{name}: every value is missing")
        if not seen.all():
            x[:, k] = np.interp(t, t[seen], x[seen, k])
    return x


def split_series(series, input_fraction=0.6, horizon=None, name="series"):
    """Cut every series into an input window and its continuation, each at its own length.

    Parameters
    ----------
    series : array (N, n) or (N, n, d), or list of arrays (n_i,) or (n_i, d)
    input_fraction : float in (0, 1)
        Without ``horizon``: series i gives ``round(input_fraction * n_i)``
        input points and the rest as target.
    horizon : int >= 1 or None
        The last ``horizon`` points of each series are the target (and
        ``input_fraction`` is not used).
    name : str
        Named in error messages.

    Returns
    -------
    ForecastSplit

    Raises
    ------
    ValueError
        A series too short for 2 input points and (with a fraction) 2 target
        points, a horizon longer than a series allows, or bad arguments.

    Examples
    --------
    >>> split = split_series([np.arange(10.0), np.arange(5.0)], input_fraction=0.6)
    >>> split.input_lengths.tolist(), split.target_lengths.tolist()
    ([6, 3], [4, 2])
    >>> split_series([np.arange(10.0)], horizon=3).targets[0].ravel().tolist()
    [7.0, 8.0, 9.0]
    """
    series = _as_series_list(series, name)
    if horizon is None:
        _check_fraction(input_fraction)
    else:
        horizon = _check_int(horizon, "horizon", 1)
    inputs, targets = [], []
    for i, x in enumerate(series):
        n = len(x)
        if horizon is not None:
            n_in = n - horizon
            if n_in < 2:
                raise ValueError(
                    f"horizon {horizon} is too long for {name}[{i}] of length {n}: at least 2 input points must remain"
                )
        else:
            n_in = int(round(input_fraction * n))
            if n_in < 2 or n - n_in < 2:
                raise ValueError(
                    f"{name}[{i}] is too short: length {n} with input_fraction={input_fraction} "
                    f"gives {n_in} input and {n - n_in} target points; each part needs >= 2"
                )
        inputs.append(np.ascontiguousarray(x[:n_in]))
        targets.append(np.ascontiguousarray(x[n_in:]))
    return ForecastSplit(inputs, targets)


def _check_fraction(value, name="input_fraction"):
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)) or not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be a number in (0, 1); got {value!r}")
    return float(value)


def holdout_split(series, test_fraction=0.3, seed=0):
    """Split a set of series into train and test series by a seeded random choice.

    The rule: the series are permuted by ``numpy.random.default_rng(seed)``;
    the first ``ceil(test_fraction * N)`` of the permutation are the test
    series, the others the train series, both kept in file order.

    Parameters
    ----------
    series : list of arrays
    test_fraction : float in (0, 1)
    seed : int

    Returns
    -------
    train, test : list of arrays

    Raises
    ------
    ValueError
        Fewer than 2 series, or a fraction leaving one side empty.

    Examples
    --------
    >>> train, test = holdout_split([np.zeros(4)] * 10)
    >>> len(train), len(test)
    (7, 3)
    """
    test_fraction = _check_fraction(test_fraction, "test_fraction")
    n_test = int(np.ceil(test_fraction * len(series)))
    if len(series) < 2 or n_test >= len(series):
        raise ValueError(
            f"{len(series)} series cannot be split into train and test with "
            f"test_fraction={test_fraction}; at least one of each is needed"
        )
    test = np.zeros(len(series), dtype=bool)
    test[np.random.default_rng(seed).permutation(len(series))[:n_test]] = True
    return [s for s, t in zip(series, test) if not t], [s for s, t in zip(series, test) if t]


def rolling_origin_task(series, horizon, name="tsf"):
    """The Monash evaluation: the last ``horizon`` points of each series are its test target.

    Series i of length ``n_i`` gives the test pair (its first ``n_i - h``
    points -> its last ``h``) and the train pair (its first ``n_i - 2h`` points
    -> the ``h`` points before the test target). Training never sees a test
    target, and every series is both trained on and forecast.

    Parameters
    ----------
    series : list of arrays (n_i,) or (n_i, d)
        Missing values (NaN) are filled by :func:`fill_missing` first.
    horizon : int >= 1
    name : str

    Returns
    -------
    train, test : ForecastSplit

    Raises
    ------
    ValueError
        If a series is shorter than ``2 * horizon + 2`` (its train input needs 2 points).

    Examples
    --------
    >>> train, test = rolling_origin_task([np.arange(10.0)], horizon=3)
    >>> train.inputs[0].ravel().tolist(), train.targets[0].ravel().tolist(), test.targets[0].ravel().tolist()
    ([0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0])
    """
    horizon = _check_int(horizon, "horizon", 1)
    series = [fill_missing(s, f"{name}[{i}]") for i, s in enumerate(_as_series_list(series, name))]
    short = [i for i, s in enumerate(series) if len(s) < 2 * horizon + 2]
    if short:
        i = short[0]
        raise ValueError(
            f"horizon {horizon} is too long for {name}[{i}] of length {len(series[i])}: the "
            f"rolling-origin split needs >= 2 * horizon + 2 = {2 * horizon + 2} points "
            f"({len(short)} series are too short)"
        )
    test = split_series(series, horizon=horizon, name=name)
    train = split_series([s[:-horizon] for s in series], horizon=horizon, name=name)
    return train, test


def load_forecast_task(
    dataset: str | os.PathLike,
    input_fraction: float = 0.6,
    horizon: int | None = None,
    n_series: int = 500,
    test_fraction: float = 0.3,
    seed: int = 0,
) -> ForecastTask:
    """A :class:`ForecastTask` from a built-in name, a UCR/UEA folder or split file, a ``.tsf``, ``.csv`` or ``.npy``.

    The rules, by kind of ``dataset``:

    - ``"synthetic_steps"``: DILATE's step task (:func:`load_forecasting_task`).
    - a UCR/UEA name or folder, or a ``*_TRAIN.ts``/``.tsv`` file (whose
      ``*_TEST`` sibling is the test split): the archive's own train/test
      split; every series is cut by :func:`split_series` at its own length.
    - a Monash ``.tsf`` file: :func:`rolling_origin_task` with the file's
      ``@horizon`` (or ``horizon`` when given); missing values are interpolated.
    - a ``.csv`` or ``.npy`` file of series (:func:`~dtwrl.datasets.load_series_file`):
      :func:`holdout_split` (seeded, ``test_fraction`` of the series are test
      series), then :func:`split_series` (``horizon`` when given, else ``input_fraction``).

    Parameters
    ----------
    dataset : str or os.PathLike
    input_fraction : float in (0, 1)
    horizon : int >= 1 or None
    n_series : int
        Series per split of ``"synthetic_steps"``.
    test_fraction : float in (0, 1)
        For ``.csv``/``.npy`` files.
    seed : int
        Seed of the ``.csv``/``.npy`` holdout split.

    Returns
    -------
    ForecastTask

    Raises
    ------
    ValueError
        Unknown dataset, unreadable file, empty data, series too short for the
        cut (the message says which), a ``.tsf`` without ``@horizon`` and no
        ``horizon``.
    FileNotFoundError
        A path that does not exist.

    Examples
    --------
    >>> task = load_forecast_task("GunPoint")
    >>> task.name, len(task.train), task.train.input_lengths[0], task.test.target_lengths[0]
    ('GunPoint', 50, 90, 60)
    """
    from .series_files import SERIES_FILE_SUFFIXES, load_series_file
    from .tsf import load_tsf

    if horizon is not None:
        horizon = _check_int(horizon, "horizon", 1)
    path = Path(dataset)
    label = re.sub(r"_(TRAIN|TEST)$", "", path.stem) or "dataset"
    cut = (
        f"the last {horizon} points of each series are its target"
        if horizon
        else (f"the first {input_fraction:g} of each series (rounded) is the input, the rest the target")
    )
    if isinstance(dataset, str) and dataset == "synthetic_steps":
        train, test = load_forecasting_task(dataset, n_series=n_series)
        return ForecastTask(
            "synthetic_steps",
            ForecastSplit(list(train[0]), list(train[1])),
            ForecastSplit(list(test[0]), list(test[1])),
            f"DILATE's step task: {n_series} train and {n_series} test series, 20 -> 20 steps",
            20,
        )
    suffix = path.suffix.lower()
    if path.is_file() and suffix == ".tsf":
        data = load_tsf(path)
        h = horizon or data.horizon
        if h is None:
            raise ValueError(f"{path.name} has no @horizon; give a horizon")
        train, test = rolling_origin_task(data.series, h, name=label)
        return ForecastTask(
            label,
            train,
            test,
            f"Monash rolling origin: each series' last {h} points are its test "
            f"target, the {h} before them its train target",
            h,
        )
    if path.is_file() and suffix in SERIES_FILE_SUFFIXES:
        train_series, test_series = holdout_split(load_series_file(path), test_fraction, seed)
        return ForecastTask(
            label,
            split_series(train_series, input_fraction, horizon, label),
            split_series(test_series, input_fraction, horizon, label),
            f"{test_fraction:g} of the series (seeded permutation, seed {seed}) are test series; {cut}",
            horizon,
        )
    if path.is_file():
        if "_TRAIN" not in path.name:
            raise ValueError(f"a file must be .tsf, .csv, .npy, or a *_TRAIN.ts/.tsv split; got {path.name!r}")
        test_path = path.with_name(path.name.replace("_TRAIN", "_TEST"))
        if not test_path.is_file():
            raise ValueError(f"{path.name!r} has no test split beside it ({test_path.name!r})")
        splits = [load_ucr(p)[0] for p in (path, test_path)]
    else:
        if isinstance(dataset, str) and (os.sep in dataset or dataset.startswith(".")) and not path.exists():
            raise ValueError(f"path {dataset!r} does not exist")
        splits = [load_ucr(dataset, split=s)[0] for s in ("train", "test")]
    train, test = (split_series(X, input_fraction, horizon, f"{label} {s}") for X, s in zip(splits, ("train", "test")))
    return ForecastTask(label, train, test, f"the archive's train/test split; {cut}", horizon)
