"""Data for dtwrl: UCR/UEA loaders, vendored GunPoint, synthetic generators, pair sources.

>>> from dtwrl.datasets import load_ucr, SyntheticPairs
>>> X, y = load_ucr("GunPoint")
>>> X.shape
(50, 150, 1)
"""
from .forecasting import SYNTHETIC_STEPS_SEEDS, forecast_split, load_forecasting_task
from .pairs import (
    ArrayPairs,
    CallablePairs,
    DatasetPairs,
    PairSource,
    SyntheticPairs,
    as_pair_source,
    gunpoint_pairs,
    iter_pairs,
    load_pair_source,
    load_series,
    save_pair_source,
)
from .synthetic import (
    random_monotone_warp,
    random_smooth_waveform,
    resample,
    synthetic_step_task,
    synthetic_warp_pair,
)
from .ucr import builtin_datasets, load_ts, load_tsv, load_ucr

__all__ = [
    "ArrayPairs",
    "CallablePairs",
    "DatasetPairs",
    "PairSource",
    "SYNTHETIC_STEPS_SEEDS",
    "SyntheticPairs",
    "as_pair_source",
    "builtin_datasets",
    "forecast_split",
    "gunpoint_pairs",
    "iter_pairs",
    "load_forecasting_task",
    "load_pair_source",
    "load_series",
    "load_ts",
    "load_tsv",
    "load_ucr",
    "random_monotone_warp",
    "random_smooth_waveform",
    "resample",
    "save_pair_source",
    "synthetic_step_task",
    "synthetic_warp_pair",
]
