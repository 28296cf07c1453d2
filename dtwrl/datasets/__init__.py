"""Data for dtwrl: UCR/UEA loaders, vendored GunPoint, synthetic generators, pair sources.

>>> from dtwrl.datasets import load_ucr, SyntheticPairs
>>> X, y = load_ucr("GunPoint")
>>> X.shape
(50, 150, 1)
"""

from .forecasting import (
    SYNTHETIC_STEPS_SEEDS,
    ForecastSplit,
    ForecastTask,
    fill_missing,
    forecast_split,
    holdout_split,
    load_forecast_task,
    load_forecasting_task,
    rolling_origin_task,
    split_series,
)
from .long_recordings import load_long_recordings
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
from .series_files import SERIES_FILE_SUFFIXES, load_series_file
from .synthetic import (
    random_monotone_warp,
    random_smooth_waveform,
    resample,
    synthetic_step_task,
    synthetic_warp_pair,
)
from .tsf import TSFData, load_tsf
from .ucr import builtin_datasets, load_ts, load_tsv, load_ucr

__all__ = [
    "ArrayPairs",
    "CallablePairs",
    "DatasetPairs",
    "ForecastSplit",
    "ForecastTask",
    "PairSource",
    "SERIES_FILE_SUFFIXES",
    "SYNTHETIC_STEPS_SEEDS",
    "SyntheticPairs",
    "TSFData",
    "as_pair_source",
    "builtin_datasets",
    "fill_missing",
    "forecast_split",
    "gunpoint_pairs",
    "holdout_split",
    "iter_pairs",
    "load_forecast_task",
    "load_forecasting_task",
    "load_long_recordings",
    "load_pair_source",
    "load_series",
    "load_series_file",
    "load_ts",
    "load_tsf",
    "load_tsv",
    "load_ucr",
    "random_monotone_warp",
    "random_smooth_waveform",
    "resample",
    "save_pair_source",
    "rolling_origin_task",
    "split_series",
    "synthetic_step_task",
    "synthetic_warp_pair",
]
