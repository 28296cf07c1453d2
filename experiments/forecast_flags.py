"""The flags the forecasting scripts share, each defined once with its default and help.

``forecast.py``, ``study.py`` (which runs ``forecast.py``'s cells) and
``rl_forecast.py`` build their ``Args`` from these groups plus their own flags::

    @dataclasses.dataclass
    class Args(ForecastTaskArgs, FitArgs):
        losses: tuple[str, ...] = field(...)

The groups' flags come first in ``--help`` (the last base's first, as dataclasses order them).
"""

import dataclasses

from experiments.cli import field

__all__ = ["FitArgs", "ForecastTaskArgs", "SingleRunArgs"]


@dataclasses.dataclass
class ForecastTaskArgs:
    """Every forecasting script: the forecaster, the test metric, the synthetic task and the output root."""

    model: str = field("mlp", "forecaster: mlp, gru or cnn")
    eval_gamma: float = field(1.0, "gamma of the soft-DTW test metric")
    synthetic_series: int = field(500, "series per split of the synthetic_steps task")
    out_dir: str = field("results", "root folder of the run outputs")


@dataclasses.dataclass
class FitArgs:
    """``forecast.py`` and ``study.py``: the Keras fit of every model and the split of the series."""

    batch_size: int = field(32, "series per optimizer step")
    learning_rate: float = field(1e-3, "Adam step size")
    validation_split: float = field(0.2, "share of the train series held out for early stopping and selection")
    input_fraction: float = field(0.6, "share of each series used as input (when there is no horizon)")
    test_fraction: float = field(0.3, "share of the series of a .csv/.npy file that are test series")


@dataclasses.dataclass
class SingleRunArgs:
    """``forecast.py`` and ``rl_forecast.py`` (one run folder): model width, subsets, figure and progress bars."""

    hidden_units: int = field(256, "hidden width of the mlp/cnn, state size of the gru")
    max_train: int = field(0, "use at most this many train series (0: all)")
    max_test: int = field(0, "score at most this many test series (0: all)")
    num_plot: int = field(3, "test series drawn in the forecast figure")
    progress: bool = field(True, "show tqdm bars (--no-progress to hide)")
