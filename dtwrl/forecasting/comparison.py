"""Compare training losses on one forecasting task: normalise, lay out, train, select on validation, score.

This is the logic behind ``experiments/forecast.py`` and ``experiments/study.py``:

1. :class:`PreparedTask` normalises a :class:`~dtwrl.datasets.ForecastTask`
   (statistics from the train split only, :class:`~dtwrl.forecasting.preprocessing.Normalizer`)
   and lays its free-length series out for the model
   (:class:`~dtwrl.forecasting.preprocessing.SeriesLayout`: padding with lengths for
   the GRU, resampling for the MLP and CNN).
2. :func:`train_candidate` trains one model for one loss configuration and
   seed on the train part, with a validation part that is the same for every
   loss of that seed (:meth:`PreparedTask.validation_indices`).
3. :func:`select_candidate` trains every candidate configuration (e.g. every
   γ, and every DILATE α) and keeps the one whose forecasts have the lowest
   exact DTW on the validation part (``select="val_dtw"``).
4. :meth:`PreparedTask.scores` scores a model on the test split, every series
   at its true length, in the normalised units and in the original units.
5. :func:`compare_losses` runs the losses of one seed under the default
   protocol, ``init="mse"``: the MSE model of the seed is trained first (and
   reported), and every other loss starts from its weights (Cuturi and
   Blondel's "Euclidean initialization"); with ``keep_start=True`` the MSE
   weights are one more candidate of the selection, so the chosen model is never
   worse on validation DTW than the MSE model. ``init="random"`` starts every
   loss from the seed's random weights.

>>> from dtwrl.datasets import load_forecast_task
>>> prepared = PreparedTask(load_forecast_task("GunPoint"), normalize="zscore", model="mlp")
>>> prepared.train_arrays[0].shape, prepared.layout.takes_lengths
((50, 90, 1), False)
"""

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from . import training
from .metrics import dtw_score, evaluate_forecasts
from .models import TAKES_LENGTHS, build_forecaster
from .preprocessing import Normalizer, SeriesLayout

__all__ = [
    "GAMMA_LOSSES",
    "METRICS",
    "SELECTIONS",
    "INITS",
    "training_order",
    "Candidate",
    "FitSettings",
    "PreparedTask",
    "Trial",
    "compare_losses",
    "describe",
    "loss_candidates",
    "result_row",
    "run_trial",
    "select_candidate",
    "train_candidate",
    "trial_id",
]

#: Losses of :func:`dtwrl.losses.get_loss` that take the smoothing ``gamma`` (DILATE also ``alpha``).
GAMMA_LOSSES = ("soft_dtw", "soft_dtw_divergence", "sparse_dtw", "dilate")

#: Test metrics of every comparison (means over test series, each at its true length).
METRICS = ("mse", "dtw", "soft_dtw", "tdi")

#: How :func:`select_candidate` can choose among configurations.
SELECTIONS = ("none", "val_dtw")

#: How :func:`compare_losses` starts every loss other than MSE: from the MSE model of the seed (the default) or
#: from the seed's random weights.
INITS = ("mse", "random")


def loss_candidates(name, gammas=(1.0,), alphas=(0.5,)):
    """The ``get_loss`` keyword arguments to try for a loss: every γ (and, for DILATE, every α); ``[{}]`` otherwise.

    >>> loss_candidates("dilate", gammas=(1.0, 0.1), alphas=(0.5,))
    [{'gamma': 1.0, 'alpha': 0.5}, {'gamma': 0.1, 'alpha': 0.5}]
    >>> loss_candidates("mse", gammas=(1.0, 0.1))
    [{}]
    """
    if name not in GAMMA_LOSSES:
        return [{}]
    if name == "dilate":
        return [{"gamma": float(g), "alpha": float(a)} for g in gammas for a in alphas]
    return [{"gamma": float(g)} for g in gammas]


def describe(loss_kwargs):
    """A short label of a configuration's γ and α: ``{"gamma": 0.1, "alpha": 0.5}`` -> ``"γ=0.1, α=0.5"``.

    >>> describe({"gamma": 0.1, "alpha": 0.5}), describe({})
    ('γ=0.1, α=0.5', '')
    """
    symbols = {"gamma": "γ", "alpha": "α"}
    return ", ".join(f"{symbols[k]}={v:g}" for k, v in loss_kwargs.items() if k in symbols)


@dataclass
class FitSettings:
    """How every model of a comparison is built and trained (see :func:`dtwrl.forecasting.training.fit_forecaster`)."""

    model: str = "mlp"
    hidden_units: int = 256
    epochs: int = 200
    batch_size: int = 32
    learning_rate: float = 1e-3
    validation_split: float = 0.2
    patience: int = 20
    monitor: str = "val_loss"
    eval_gamma: float = 1.0


@dataclass
class Candidate:
    """One trained configuration: its loss keyword arguments, the model and how it went.

    ``is_start`` marks the MSE starting point offered to the selection (``keep_start=True``), not trained here.
    """

    loss_kwargs: dict
    model: tf.keras.Model
    history: training.History
    val_dtw: float
    seconds: float
    is_start: bool = False
    trial: str = ""
    writer: object = None


@dataclass
class Trial:
    """One loss of one seed, trained and scored (:func:`run_trial`).

    Attributes
    ----------
    name : str
        The loss name.
    seed : int
    scores : dict
        :meth:`PreparedTask.scores` of the chosen candidate.
    chosen : Candidate
        The candidate of lowest validation DTW (the MSE start itself when it was offered and won).
    tried : list of Candidate
        The candidates trained for this loss (not the start).
    start : Candidate or None
        The MSE model this loss started from (``None`` for MSE itself and under ``init="random"``).
    """

    name: str
    seed: int
    scores: dict
    chosen: Candidate
    tried: list
    start: Candidate = None

    @property
    def worse_than_start(self):
        """Whether every trained candidate has a higher validation DTW than the MSE model it started from."""
        return self.start is not None and min(c.val_dtw for c in self.tried) > self.start.val_dtw

    @property
    def kept_start(self):
        """Whether the selection kept the MSE starting weights (``keep_start=True`` and no candidate beat them)."""
        return self.chosen.is_start


class PreparedTask:
    """A forecasting task normalised and laid out for one model family.

    Parameters
    ----------
    task : dtwrl.datasets.ForecastTask
    normalize : {"zscore", "zscore-series", "none"}
    model : {"mlp", "gru", "cnn"}
        The GRU takes lengths when the task has series of unequal lengths; the
        others get resampled windows.

    Attributes
    ----------
    train, test : ForecastSplit
        Normalised.
    train_arrays, test_arrays : tuple
        ``(X, Y, x_lengths, y_lengths)`` of :meth:`SeriesLayout.arrays`.
    """

    def __init__(self, task, normalize="zscore", model="mlp"):
        self.task = task
        self.model_name = model
        self.normalizer = Normalizer(normalize).fit(task.train)
        self.train = self.normalizer.transform(task.train)
        self.test = self.normalizer.transform(task.test)
        same = (
            self.train.equal_length
            and self.test.equal_length
            and self.train.input_lengths[0] == self.test.input_lengths[0]
            and self.train.target_lengths[0] == self.test.target_lengths[0]
        )
        self.layout = SeriesLayout.fit([self.train, self.test], takes_lengths=model in TAKES_LENGTHS and not same)
        self.train_arrays = self.layout.arrays(self.train)
        self.test_arrays = self.layout.arrays(self.test)

    @property
    def units(self):
        """The units of the normalised metrics, as a phrase."""
        return self.normalizer.units

    def validation_indices(self, fraction, seed):
        """``(train_idx, val_idx)``: a seeded split of the train series, the same for every loss of a seed."""
        n_val = training.check_validation_split(fraction, len(self.train))
        order = np.random.default_rng(seed).permutation(len(self.train))
        return np.sort(order[n_val:]), np.sort(order[:n_val])

    def build_model(self, settings):
        """A fresh forecaster for this layout (seed TensorFlow before calling it)."""
        X, Y = self.train_arrays[:2]
        kwargs = {"units" if settings.model == "gru" else "hidden_units": settings.hidden_units}
        if self.layout.takes_lengths:
            kwargs["lengths"] = True
        return build_forecaster(settings.model, X.shape[1], Y.shape[1], X.shape[2], **kwargs)

    def forecasts(self, model, split="test", index=None):
        """Normalised forecasts, a list of ``(n_out_i, d)`` arrays at each series' true horizon."""
        X, _, x_lengths, _ = self.train_arrays if split == "train" else self.test_arrays
        horizons = (self.train if split == "train" else self.test).target_lengths
        if index is not None:
            X, x_lengths, horizons = X[index], x_lengths[index], horizons[index]
        predictions = training.predict(model, X, x_lengths=x_lengths)
        return self.layout.forecasts(predictions, horizons)

    def validation_dtw(self, model, val_idx):
        """Mean exact DTW of the forecasts of the validation series (normalised units, true lengths)."""
        targets = [self.train.targets[i] for i in val_idx]
        return dtw_score(targets, self.forecasts(model, "train", val_idx))

    def scores(self, model, gamma=1.0):
        """Test metrics: ``{metric: value}`` in normalised units and ``{"orig_" + metric: value}`` in original units.

        The original-unit metrics are left out for ``normalize="none"`` (they are the same).
        """
        forecasts = self.forecasts(model)
        scores = evaluate_forecasts(self.test.targets, forecasts, gamma=gamma)
        if self.normalizer.kind != "none":
            raw = self.normalizer.inverse(forecasts, self.task.test.inputs)
            original = evaluate_forecasts(self.task.test.targets, raw, gamma=gamma)
            scores.update({f"orig_{k}": v for k, v in original.items()})
        return scores

    def arrays(self, index):
        """The train arrays of the series at ``index``."""
        return tuple(a[index] for a in self.train_arrays)


def train_candidate(prepared, loss, loss_kwargs, seed, settings, split, init_weights=None, writer=None, progress=False):
    """Train one model for one loss configuration and seed.

    Parameters
    ----------
    prepared : PreparedTask
    loss : str or tf.keras.losses.Loss
        A :func:`dtwrl.losses.get_loss` name or a loss object.
    loss_kwargs : dict
        Keyword arguments of ``get_loss`` (ignored for a loss object; kept for the record).
    seed : int
        Seeds the weights (``tf.keras.utils.set_random_seed``) and the batch order.
    settings : FitSettings
    split : tuple (train_idx, val_idx)
        From :meth:`PreparedTask.validation_indices`.
    init_weights : list or None
        Start from these weights (the MSE model's under ``init="mse"``).
    writer : tf.summary.SummaryWriter or None
        Receives ``losses/train``, ``losses/val`` per epoch.
    progress : bool

    Returns
    -------
    Candidate
    """
    tf.keras.utils.set_random_seed(seed)  # the one place seeds are set: weights, then batch order
    model = prepared.build_model(settings)
    if init_weights is not None:
        model.set_weights(init_weights)
    train_idx, val_idx = split
    start = time.perf_counter()
    history = training.fit_forecaster(
        model,
        prepared.arrays(train_idx),
        loss,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        learning_rate=settings.learning_rate,
        validation_data=prepared.arrays(val_idx),
        patience=settings.patience,
        log_dir=writer,
        seed=seed,
        progress=progress,
        monitor=settings.monitor,
        loss_kwargs=loss_kwargs if isinstance(loss, str) else None,
    )
    seconds = time.perf_counter() - start
    return Candidate(dict(loss_kwargs), model, history, prepared.validation_dtw(model, val_idx), seconds)


def select_candidate(candidates):
    """The candidate of lowest validation DTW (the first one on ties).

    >>> from types import SimpleNamespace as C
    >>> tried = [C(val_dtw=2.0, loss_kwargs={"gamma": 1}), C(val_dtw=1.0, loss_kwargs={"gamma": 0.1})]
    >>> select_candidate(tried).loss_kwargs
    {'gamma': 0.1}
    """
    if not candidates:
        raise ValueError("candidates must not be empty")
    return min(candidates, key=lambda c: c.val_dtw)


def trial_id(name, loss_kwargs, seed):
    """The TensorBoard / checkpoint name of one trained model: ``soft_dtw_g0.1__3``.

    >>> trial_id("dilate", {"gamma": 0.01, "alpha": 0.5}, 0)
    'dilate_g0.01_a0.5__0'
    """
    return name + "".join(f"_{k[0]}{v:g}" for k, v in loss_kwargs.items()) + f"__{seed}"


def run_trial(
    prepared, name, group, seed, settings, log_dir=None, start=None, keep_start=False, progress=False, hparams=None
):
    """Train every candidate of one loss for one seed, keep the best on validation DTW, score it on the test split.

    Parameters
    ----------
    prepared : PreparedTask
    name : str
        The loss name (for records).
    group : list of (dict, tf.keras.losses.Loss)
        The candidate configurations: ``get_loss`` keyword arguments and the built loss.
    seed : int
    settings : FitSettings
    log_dir : path or None
        Each candidate logs ``losses/train`` and ``losses/val`` under
        ``log_dir/<trial_id>``; the chosen one also ``eval/<metric>`` and its
        HParams (``hparams`` plus loss, γ, α and seed).
    start : Candidate or None
        The MSE model of this seed: every candidate starts from its weights.
    keep_start : bool
        Offer ``start`` itself to the selection (after the trained candidates, which win ties), so
        the chosen model's validation DTW is never above the start's.
    progress : bool
    hparams : dict or None
        Extra HParams of the run (model, normalisation, dataset, ...).

    Returns
    -------
    Trial
    """
    if keep_start and start is None:
        raise ValueError("keep_start=True needs a start (the MSE model of the seed)")
    split = prepared.validation_indices(settings.validation_split, seed)
    init_weights = None if start is None else start.model.get_weights()
    tried = []
    for kwargs, loss in group:
        trial = trial_id(name, kwargs, seed)
        writer = None if log_dir is None else tf.summary.create_file_writer(str(log_dir) + f"/{trial}")
        cand = train_candidate(
            prepared, loss, kwargs, seed, settings, split, init_weights=init_weights, writer=writer, progress=progress
        )
        cand.trial, cand.writer = trial, writer
        tried.append(cand)
    offered = tried + ([dataclasses.replace(start, is_start=True, seconds=0.0, writer=None)] if keep_start else [])
    chosen = select_candidate(offered)
    scores = prepared.scores(chosen.model, gamma=settings.eval_gamma)
    if chosen.writer is not None:
        from tensorboard.plugins.hparams import api as hp

        with chosen.writer.as_default(step=len(chosen.history.history["loss"])):
            hp.hparams({"loss": name, "seed": seed, **(hparams or {}), **chosen.loss_kwargs}, trial_id=chosen.trial)
            for metric in METRICS:
                tf.summary.scalar(f"eval/{metric}", scores[metric])
    for cand in tried:
        if cand.writer is not None:
            cand.writer.close()
    return Trial(name, seed, scores, chosen, tried, start)


def training_order(methods, init="mse"):
    """The methods in the order they train: under ``init="mse"``, MSE first (added when missing).

    >>> training_order(["soft_dtw", "mse", "dilate"]), training_order(["soft_dtw"], init="random")
    (('mse', 'soft_dtw', 'dilate'), ('soft_dtw',))
    """
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    methods = tuple(methods)
    return ("mse",) + tuple(m for m in methods if m != "mse") if init == "mse" else methods


def compare_losses(
    prepared, groups, seed, settings, *, init="mse", keep_start=False, log_dir=None, progress=False, hparams=None
):
    """Train and score the losses of one seed under one protocol; the high-level entry point of a comparison.

    Under ``init="mse"`` (the default) the MSE model of ``seed`` is trained first (a ``("mse", ...)``
    group is added in front when ``groups`` has none) and every other loss starts from its
    weights: soft-DTW's landscape has many phase-shifted minima at long horizons, and MSE finds
    the right phase first. ``init="random"`` starts every loss from the seed's random weights.

    Parameters
    ----------
    prepared : PreparedTask
    groups : sequence of (str, list of (dict, tf.keras.losses.Loss))
        ``(loss name, candidates)`` pairs, candidates as :func:`run_trial` takes them; a name may
        repeat (one group per γ when nothing is selected).
    seed : int
    settings : FitSettings
    init : {"mse", "random"}
    keep_start : bool
        ``init="mse"`` only: the MSE weights are a candidate of every other loss's selection.
    log_dir, progress, hparams :
        See :func:`run_trial`.

    Returns
    -------
    list of Trial
        MSE's first under ``init="mse"``, then one per group in order.

    Examples
    --------
    >>> from dtwrl.datasets import load_forecast_task
    >>> from dtwrl.losses import get_loss
    >>> task = load_forecast_task("GunPoint")
    >>> task.train, task.test = task.train.head(10), task.test.head(4)
    >>> prepared = PreparedTask(task)
    >>> settings = FitSettings(hidden_units=8, epochs=2)
    >>> groups = [("soft_dtw", [({"gamma": 0.1}, get_loss("soft_dtw", gamma=0.1))])]
    >>> trials = compare_losses(prepared, groups, 0, settings, keep_start=True)
    >>> [t.name for t in trials], trials[1].start is trials[0].chosen
    (['mse', 'soft_dtw'], True)
    >>> trials[1].chosen.val_dtw <= trials[0].chosen.val_dtw
    True
    """
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    if keep_start and init != "mse":
        raise ValueError("keep_start=True needs init='mse'")
    groups = list(groups)
    if init == "mse":
        from dtwrl.losses import get_loss

        mse = [g for g in groups if g[0] == "mse"] or [("mse", [({}, get_loss("mse"))])]
        groups = mse[:1] + [g for g in groups if g[0] != "mse"]
    trials, start = [], None
    for name, group in groups:
        from_mse = init == "mse" and name != "mse"
        trial = run_trial(
            prepared,
            name,
            group,
            seed,
            settings,
            log_dir=log_dir,
            start=start if from_mse else None,
            keep_start=keep_start and from_mse,
            progress=progress,
            hparams=hparams,
        )
        if init == "mse" and name == "mse":
            start = trial.chosen
        trials.append(trial)
    return trials


def result_row(task_name, settings, normalize, trial):
    """One metrics row of a trained (or chosen) model: what it is, how training went, its test scores and its start.

    ``val_dtw_start`` is the validation DTW of the MSE model the loss started from (empty without one),
    ``worse_than_start`` whether every trained candidate's validation DTW is above it, and
    ``kept_start`` whether the selection kept the MSE weights.
    """
    chosen, tried, history = trial.chosen, trial.tried, trial.chosen.history
    candidates = tried + ([chosen] if trial.kept_start else [])
    return {
        "dataset": task_name,
        "model": settings.model,
        "normalize": normalize,
        "loss": trial.name,
        "gamma": chosen.loss_kwargs.get("gamma", ""),
        "alpha": chosen.loss_kwargs.get("alpha", ""),
        "seed": trial.seed,
        "epochs": len(history.history["loss"]),
        "best_epoch": history.best_epoch,
        f"best_{settings.monitor}": min(history.history.get(settings.monitor) or [float("nan")]),
        "val_dtw": chosen.val_dtw,
        "candidates": "; ".join(
            f"{'mse start' if c.is_start else describe(c.loss_kwargs) or trial.name}: val_dtw={c.val_dtw:.4g}"
            for c in candidates
        ),
        "val_dtw_start": "" if trial.start is None else trial.start.val_dtw,
        "worse_than_start": trial.worse_than_start,
        "kept_start": trial.kept_start,
        "train_seconds": round(sum(c.seconds for c in tried), 3),
        "epoch_seconds": round(float(np.median(history.epoch_seconds[1:] or history.epoch_seconds)), 5),
        **{m: float(v) for m, v in trial.scores.items()},
    }
