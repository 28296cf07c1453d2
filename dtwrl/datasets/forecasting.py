"""Forecasting tasks: the past of each series is the input, its future the target."""
import numbers
import os
from pathlib import Path

import numpy as np

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


def load_forecasting_task(name_or_path, input_fraction=0.6, n_series=500):
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
            f"name_or_path must name a dataset or a directory holding both splits, not one file; got {str(name_or_path)!r}"
        )
    splits = []
    for split in ("train", "test"):
        X, _ = load_ucr(name_or_path, split=split)
        if isinstance(X, list):
            raise ValueError(f"name_or_path: {str(name_or_path)!r} ({split}) has series of unequal lengths")
        splits.append(forecast_split(X, input_fraction))
    return tuple(splits)
