"""From a :class:`~dtwrl.datasets.ForecastSplit` of free-length series to model arrays, and back.

Two steps stand between the data and a forecaster:

- **Normalisation** (:class:`Normalizer`): ``"zscore"`` subtracts the mean and
  divides by the standard deviation of every value of the train split (per
  feature), ``"zscore-series"`` uses each series' own input window (what is
  known at forecast time; the target is scaled with the same statistics), and
  ``"none"`` leaves the values alone. :meth:`Normalizer.inverse` maps forecasts
  back to the original units.
- **Layout** (:class:`SeriesLayout`): a model that takes lengths (the GRU
  seq2seq built with ``lengths=True``) gets inputs padded on the left (so the
  last observed value is the last step) and targets padded on the right, with
  the true lengths; a fixed-size model (MLP, CNN) gets every input window and
  every target linearly resampled to one length, and its forecasts are
  resampled back to each series' true horizon. Equal-length data passes
  through unchanged.

>>> import numpy as np
>>> from dtwrl.datasets import ForecastSplit
>>> split = ForecastSplit([np.arange(4.0)[:, None], np.arange(6.0)[:, None]], [np.ones((2, 1)), np.ones((3, 1))])
>>> layout = SeriesLayout.fit([split], takes_lengths=True)
>>> X, Y, x_len, y_len = layout.arrays(split)
>>> X[0, :, 0].tolist(), x_len.tolist(), Y.shape
([0.0, 0.0, 0.0, 1.0, 2.0, 3.0], [4, 6], (2, 3, 1))
"""

from dataclasses import dataclass

import numpy as np

from ..datasets.forecasting import ForecastSplit
from ..datasets.synthetic import resample

__all__ = ["NORMALIZATIONS", "Normalizer", "SeriesLayout", "resample_to"]

#: Names of the normalisations :class:`Normalizer` knows.
NORMALIZATIONS = ("zscore", "zscore-series", "none")

_UNITS = {
    "zscore": "z-score units (mean and std of the train split)",
    "zscore-series": "per-series z-score units (mean and std of each input window)",
    "none": "original units",
}


def _safe_std(std, mean):
    """A std usable as a divisor: a (near-)constant feature gets 1."""
    return np.where(std > 1e-12 * np.maximum(1.0, np.abs(mean)), std, 1.0)


class Normalizer:
    """Scale pairs of series before training and map forecasts back.

    Parameters
    ----------
    kind : {"zscore", "zscore-series", "none"}

    Examples
    --------
    >>> from dtwrl.datasets import ForecastSplit
    >>> train = ForecastSplit([np.array([[0.0], [2.0]])], [np.array([[4.0], [6.0]])])
    >>> norm = Normalizer("zscore").fit(train)
    >>> norm.transform(train).targets[0].ravel().tolist()
    [0.4472135954999579, 1.3416407864998738]
    >>> norm.inverse([np.array([[0.0]])], train.inputs)[0].ravel().tolist()
    [3.0]
    """

    def __init__(self, kind="zscore"):
        if kind not in NORMALIZATIONS:
            raise ValueError(f"kind must be one of {NORMALIZATIONS}; got {kind!r}")
        self.kind = kind
        self.mean = self.std = None

    @property
    def units(self):
        """The units that normalised values are in, as a phrase for tables."""
        return _UNITS[self.kind]

    def fit(self, train):
        """Learn the statistics of ``"zscore"`` from the train :class:`ForecastSplit` (its inputs and targets)."""
        if self.kind == "zscore":
            values = np.concatenate([*train.inputs, *train.targets])
            self.mean = values.mean(axis=0)
            self.std = _safe_std(values.std(axis=0), self.mean)
        return self

    def _stats(self, window):
        if self.kind == "zscore":
            if self.mean is None:
                raise RuntimeError("call fit(train) before transform or inverse")
            return self.mean, self.std
        if self.kind == "zscore-series":
            mean = window.mean(axis=0)
            return mean, _safe_std(window.std(axis=0), mean)
        return 0.0, 1.0

    def transform(self, split):
        """The :class:`ForecastSplit` with inputs and targets scaled (each pair by the stats of its input)."""
        inputs, targets = [], []
        for x, y in zip(split.inputs, split.targets):
            mean, std = self._stats(x)
            inputs.append((x - mean) / std)
            targets.append((y - mean) / std)
        return ForecastSplit(inputs, targets)

    def inverse(self, forecasts, raw_inputs):
        """Forecasts back in original units; ``raw_inputs`` are the unscaled input windows they continue."""
        out = []
        for f, x in zip(forecasts, raw_inputs):
            mean, std = self._stats(x)
            out.append(np.asarray(f, dtype=np.float64) * std + mean)
        return out


def resample_to(series, length):
    """Linear resampling of a series ``(n, d)`` to ``length`` evenly spaced points (end points kept).

    >>> resample_to(np.array([[0.0], [2.0]]), 3).ravel().tolist()
    [0.0, 1.0, 2.0]
    """
    series = np.asarray(series, dtype=np.float64)
    if len(series) == length:
        return series
    if len(series) == 1:
        return np.repeat(series, length, axis=0)
    return resample(series, np.linspace(0.0, len(series) - 1, length))


@dataclass
class SeriesLayout:
    """How free-length pairs become fixed-shape model arrays (see the module docstring).

    Attributes
    ----------
    takes_lengths : bool
        Pad (for a model taking lengths) rather than resample.
    input_length, output_length : int
        The padded or resampled lengths.
    """

    takes_lengths: bool
    input_length: int
    output_length: int

    @classmethod
    def fit(cls, splits, takes_lengths):
        """The layout for ``splits`` (train first): padding covers every split, resampling uses the train lengths."""
        if takes_lengths:
            return cls(
                True, max(int(s.input_lengths.max()) for s in splits), max(int(s.target_lengths.max()) for s in splits)
            )
        return cls(False, int(splits[0].input_lengths.max()), int(splits[0].target_lengths.max()))

    def arrays(self, split):
        """``(X (N, n_in, d), Y (N, n_out, d), x_lengths (N,), y_lengths (N,))``: float32 and int32."""
        N, d = len(split), split.dim
        if not self.takes_lengths:
            X = np.stack([resample_to(x, self.input_length) for x in split.inputs])
            Y = np.stack([resample_to(y, self.output_length) for y in split.targets])
            return (
                X.astype(np.float32),
                Y.astype(np.float32),
                np.full(N, self.input_length, np.int32),
                np.full(N, self.output_length, np.int32),
            )
        X = np.zeros((N, self.input_length, d), np.float32)
        Y = np.zeros((N, self.output_length, d), np.float32)
        for i, (x, y) in enumerate(zip(split.inputs, split.targets)):
            if len(x) > self.input_length or len(y) > self.output_length:
                raise ValueError(
                    f"series {i} is longer than the layout ({len(x)} -> {len(y)} vs "
                    f"{self.input_length} -> {self.output_length})"
                )
            X[i, self.input_length - len(x) :] = x
            Y[i, : len(y)] = y
        return X, Y, split.input_lengths.astype(np.int32), split.target_lengths.astype(np.int32)

    def forecasts(self, predictions, target_lengths):
        """Model outputs ``(N, n_out, d)`` as a list of ``(n_out_i, d)`` forecasts at each true horizon."""
        if self.takes_lengths:
            return [np.asarray(p[:n], dtype=np.float64) for p, n in zip(predictions, target_lengths)]
        return [resample_to(p, int(n)) for p, n in zip(predictions, target_lengths)]
