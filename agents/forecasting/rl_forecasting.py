"""Forecasters trained on the paths of an RL alignment policy, compared with DTW, FastDTW, soft-DTW and MSE.

The RL-forecasting loop: a forecaster is trained with ``dtwrl.losses.PathLoss``
around an ``agents.PolicyAligner``, and between its training rounds PPO
fine-tunes the policy on the forecaster's own predictions. Each round has two
phases, on one step axis (the model's optimizer steps):

1. The model forecasts ``pairs_per_round`` training inputs. The pairs
   (target, forecast) become the aligner's training pairs
   (``AlignerTrainer.set_pairs``) and PPO runs ``aligner_iterations``
   iterations on them (0: the policy stays frozen).
2. The model trains for ``model_steps`` steps on its loss.

Methods (:data:`METHODS`), each trained from the same initial weights for the
same steps:

- ``"greedy_path"``: the cost along the policy's greedy paths, i.e. minus the
  return of its episode;
- ``"sampled_path"``: the cost of ``samples`` paths sampled from the policy
  at ``temperature`` (``PolicyAligner(samples=K)``), reduced by
  ``path_reduction``: their mean, a Monte-Carlo estimate of the policy's
  expected path cost, their soft minimum at ``path_gamma`` (soft-DTW's Gibbs
  smoothing restricted to the samples, ``dtwrl.losses.PathLoss``), or soft-DTW
  at ``path_gamma`` over every path in the row hull of their cells
  (``"lattice"``, the samples and their recombinations); optionally
  with the greedy path added to every group (``include_greedy``) and the
  temperature annealed geometrically to ``final_temperature`` over the rounds;
- ``"dtw_path"`` and ``"fastdtw_path"``: the cost along the exact DTW path and
  along FastDTW's (radius 1), the oracles;
- ``"soft_dtw"`` (one model per candidate gamma; the gamma of lowest exact DTW
  on the validation split is kept) and ``"mse"``.

>>> config = ComparisonConfig(rounds=2, model_steps=3)
>>> config.rounds * config.model_steps
6
>>> ComparisonConfig(samples=0)
Traceback (most recent call last):
...
agents.fields.FieldError: samples must be >= 1; got 0
>>> ComparisonConfig(path_reduction="softmin")
Traceback (most recent call last):
...
agents.fields.FieldError: path_gamma is required by path_reduction 'softmin'; got None
"""

import dataclasses
import math
import numbers
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from dtwrl.forecasting.comparison import INITS, METRICS, select_candidate, training_order, trial_id
from dtwrl.tf.relaxations import PATH_REDUCTIONS

from ..fields import FieldError, check_int, check_real
from ..policy.aligner import resolve_policy
from .policy_rounds import PolicyRounds

POLICY_METHODS = ("greedy_path", "sampled_path")
"""Methods whose loss follows the RL policy's paths (they fine-tune a policy each)."""
METHODS = POLICY_METHODS + ("dtw_path", "fastdtw_path", "soft_dtw", "mse")
"""Every method a :class:`Comparison` trains."""


ConfigError = FieldError
"""A bad :class:`ComparisonConfig` value: ``field`` names the field, ``message`` says what is wrong."""


@dataclasses.dataclass
class ComparisonConfig:
    """Model, budget and aligner settings shared by every method of a :class:`Comparison`.

    Every field is validated on construction (:class:`ConfigError` names it).
    """

    model: str = "mlp"
    """Forecaster: ``"mlp"``, ``"gru"`` or ``"cnn"`` (``dtwrl.forecasting.models``)."""
    hidden_units: int = 256
    """Hidden width of the mlp/cnn, state size of the gru."""
    rounds: int = 30
    """Rounds of (aligner fine-tuning, model training)."""
    model_steps: int = 20
    """Model optimizer steps per round (every method)."""
    batch_size: int = 32
    """Series per model step."""
    learning_rate: float = 1e-3
    """Adam step size of the model."""
    eval_gamma: float = 1.0
    """gamma of the soft-DTW test metric."""
    pairs_per_round: int = 64
    """Training inputs whose forecasts become the aligner's pairs each round."""
    aligner_iterations: int = 2
    """PPO iterations per round on the model's forecasts (0: the pretrained policy stays frozen)."""
    aligner_num_envs: int = 32
    """Alignments stepped together by PPO while fine-tuning."""
    aligner_collect_steps: int = 64
    """Steps per env per PPO iteration while fine-tuning."""
    critic_warmup_iterations: int = 2
    """First fine-tuning iterations that train only the critic."""
    samples: int = 8
    """Paths sampled per pair by the ``"sampled_path"`` loss."""
    temperature: float = 1.0
    """Sampling temperature of the ``"sampled_path"`` loss (1: the policy's own distribution)."""
    final_temperature: float | None = None
    """Temperature of the last round, reached geometrically from ``temperature`` (None: constant)."""
    path_reduction: str = "mean"
    """How ``"sampled_path"`` reduces a pair's paths: ``"mean"``, ``"softmin"`` or ``"lattice"`` (``PathLoss``)."""
    path_gamma: float | None = None
    """Smoothing of ``"softmin"`` and ``"lattice"``, on the scale of the path costs (required by them only)."""
    lattice_radius: int = 0
    """``"lattice"`` only: widen the lattice by this many cells around every sampled path cell."""
    lattice_every: int = 1
    """``"lattice"`` only: a pair's sampled paths serve its loss for this many steps before it is sampled again
    (``dtwrl.aligners.ReusedPaths``; 1: every step). Steps per epoch: ``ceil(training series / batch_size)``."""
    include_greedy: bool = False
    """Add the policy's greedy path to every pair's sampled paths (``"sampled_path"``)."""
    init: str = "mse"
    """Start of every method but MSE: ``"mse"``, the MSE model of the same seed (trained first by
    :meth:`Comparison.run_all`), or ``"random"``, the seed's random weights."""

    def __post_init__(self):
        from dtwrl.forecasting.models import FORECASTERS

        if self.model not in FORECASTERS:
            raise ConfigError("model", f"must be one of {sorted(FORECASTERS)}; got {self.model!r}")
        for name in (
            "hidden_units",
            "rounds",
            "model_steps",
            "batch_size",
            "pairs_per_round",
            "aligner_num_envs",
            "samples",
        ):
            check_int(self, name, 1)
        for name in ("aligner_iterations", "critic_warmup_iterations"):
            check_int(self, name, 0)
        check_int(self, "aligner_collect_steps", 2)
        for name in ("learning_rate", "eval_gamma", "temperature"):
            check_real(self, name, 0, low_open=True)
        if self.final_temperature is not None:
            check_real(self, "final_temperature", 0, low_open=True)
        if self.init not in INITS:
            raise ConfigError("init", f"must be one of {', '.join(INITS)}; got {self.init!r}")
        if not isinstance(self.include_greedy, bool):
            raise ConfigError("include_greedy", f"must be True or False; got {self.include_greedy!r}")
        if self.path_reduction not in PATH_REDUCTIONS:
            raise ConfigError(
                "path_reduction", f"must be one of {', '.join(PATH_REDUCTIONS)}; got {self.path_reduction!r}"
            )
        check_int(self, "lattice_radius", 0)
        check_int(self, "lattice_every", 1)
        for name, default in (("lattice_radius", 0), ("lattice_every", 1)):
            if getattr(self, name) != default and self.path_reduction != "lattice":
                raise ConfigError(name, f"applies to path_reduction 'lattice' only; got {self.path_reduction!r}")
        if self.path_reduction != "mean":
            if self.path_gamma is None:
                raise ConfigError("path_gamma", f"is required by path_reduction {self.path_reduction!r}; got None")
            check_real(self, "path_gamma", 0, low_open=True)
        elif self.path_gamma is not None:
            raise ConfigError("path_gamma", f"is not used by path_reduction 'mean'; got {self.path_gamma!r}")

    def temperature_at(self, round_index: int) -> float:
        """Temperature of round ``round_index`` (0-based): geometric from ``temperature`` to ``final_temperature``.

        >>> config = ComparisonConfig(rounds=3, temperature=4.0, final_temperature=1.0)
        >>> [config.temperature_at(k) for k in range(3)]
        [4.0, 2.0, 1.0]
        """
        if self.final_temperature is None or self.rounds == 1:
            return self.temperature
        share = round_index / (self.rounds - 1)
        return float(self.temperature * (self.final_temperature / self.temperature) ** share)

    def sampling_label(self) -> str:
        """The ``"sampled_path"`` settings in one line (table rows, HParams).

        >>> ComparisonConfig(samples=4, temperature=2.0).sampling_label()
        'K=4, t=2, mean'
        >>> ComparisonConfig(samples=16, temperature=4, final_temperature=1, path_reduction="softmin", path_gamma=0.1,
        ...                  include_greedy=True).sampling_label()
        'K=16 + greedy, t=4->1, softmin γ=0.1'
        >>> ComparisonConfig(samples=16, temperature=8, path_reduction="lattice", path_gamma=0.1, lattice_radius=3,
        ...                  lattice_every=5).sampling_label()
        'K=16, t=8, lattice γ=0.1, radius 3, sampled every 5 steps'
        """
        temperature = f"{self.temperature:g}" + (
            "" if self.final_temperature is None else f"->{self.final_temperature:g}"
        )
        reduction = "mean" if self.path_reduction == "mean" else f"{self.path_reduction} γ={self.path_gamma:g}"
        if self.lattice_radius:
            reduction += f", radius {self.lattice_radius}"
        if self.lattice_every > 1:
            reduction += f", sampled every {self.lattice_every} steps"
        return f"K={self.samples}{' + greedy' if self.include_greedy else ''}, t={temperature}, {reduction}"


def check_methods(methods: Sequence[str], gammas: Sequence[float]) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Validate the methods to train and the soft-DTW gamma candidates; returns them as tuples.

    Raises :class:`ConfigError` (a ``ValueError``) for ``"methods"`` or ``"gammas"``.

    >>> check_methods(["sampled_path", "soft_dtw"], [1.0, 0.1])
    (('sampled_path', 'soft_dtw'), (1.0, 0.1))
    """
    methods = tuple(methods)
    if not methods:
        raise ConfigError("methods", "must name at least one method")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ConfigError("methods", f"must be among {', '.join(METHODS)}; got {', '.join(map(repr, unknown))}")
    if len(set(methods)) != len(methods):
        raise ConfigError("methods", f"must be distinct; got {list(methods)}")
    gammas = tuple(gammas)
    if not gammas or len(set(gammas)) != len(gammas):
        raise ConfigError("gammas", f"must be distinct and at least one; got {list(gammas)}")
    for gamma in gammas:
        if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or not (math.isfinite(gamma) and gamma > 0):
            raise ConfigError("gammas", f"must be finite and > 0; got {gamma!r}")
    return methods, tuple(float(g) for g in gammas)


def pretrain_aligner(
    out_dir,
    env_id: str,
    env_steps: int,
    bc_env_steps: int,
    seed: int,
    num_envs: int = 32,
    collect_steps: int = 64,
    eval_pairs: int = 16,
    callback: Callable | None = None,
):
    """Train a policy (behavioural-cloning warm start, then PPO) into ``<out_dir>/pretrained``.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Parent of the run folder ``pretrained/``.
    env_id : str
        A registered warping env (``envs.register_env``).
    env_steps, bc_env_steps : int
        PPO env steps, and behavioural-cloning states of the warm start.
    seed : int
    num_envs, collect_steps, eval_pairs : int
        ``agents.AlignerConfig`` fields.
    callback : callable or None
        ``callback(trainer, stats)`` after every PPO iteration (progress bars).

    Returns
    -------
    run_dir : pathlib.Path
        A run folder of ``agents.train_aligner`` (``policy/``, ``checkpoints/``).
    metrics : dict
        Its final metrics (``cost_ratio_vs_dtw``, ``fastdtw_ratio_vs_dtw``, ...).

    Examples
    --------
    >>> run_dir, metrics = pretrain_aligner("results/x/aligner", "dtwrl/GunPoint-v0", 4096, 10_000, 0)  # doctest: +SKIP
    """
    from ..training.config import AlignerConfig
    from ..training.trainer import train_aligner

    config = AlignerConfig(
        env_id=env_id,
        seed=seed,
        total_env_steps=env_steps,
        bc_warmstart=True,
        bc_env_steps=bc_env_steps,
        num_envs=num_envs,
        collect_steps=collect_steps,
        eval_pairs=eval_pairs,
        out_dir=str(out_dir),
        run_name="pretrained",
        exp_name="pretrained",
    )
    return train_aligner(config, callback=callback)


def split_validation(train, fraction: float, seed: int):
    """Seeded random split of ``(X, Y)`` into training and validation parts.

    >>> (a, _), (v, _) = split_validation((np.zeros((10, 3, 1)), np.zeros((10, 2, 1))), 0.2, 0)
    >>> len(a), len(v)
    (8, 2)
    """
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_split must be in (0, 1); got {fraction!r}")
    X, Y = train
    order = np.random.default_rng(seed).permutation(len(X))
    n_val = max(1, int(round(fraction * len(X))))
    if n_val >= len(X):
        raise ValueError(f"validation_split {fraction} leaves no training series out of {len(X)}")
    return (X[order[n_val:]], Y[order[n_val:]]), (X[order[:n_val]], Y[order[:n_val]])


def _config_markdown(values: dict) -> str:
    from dtwrl.runs import markdown_table

    return markdown_table(["field", "value"], [[key, f"`{value}`"] for key, value in values.items()])


class Comparison:
    """Trains one forecaster per method and seed for the same rounds and steps, logging on a shared step axis.

    Parameters
    ----------
    task : ((X_train, Y_train), (X_val, Y_val), (X_test, Y_test))
        Arrays ``(N, n, d)``.
    config : ComparisonConfig
    run_dir : str or pathlib.Path
        The run folder: ``tb/<trial>/``, ``checkpoints/`` and ``aligner/`` go there.
    aligner : str, pathlib.Path or None
        The policy the policy methods start from: ``"pretrained"`` (the general
        policy shipped with the package) or a run folder of
        ``agents.train_aligner``; fine-tuned copies go to
        ``aligner/finetune-<method>__<seed>/``.
    hparams : dict or None
        Extra HParams (e.g. the dataset) written with every trial.

    Notes
    -----
    TensorBoard: every trial is a run ``tb/<trial>/`` with ``losses/<method>/train``
    and ``losses/<method>/val`` (each loss on its own chart: soft-DTW is negative,
    MSE small, path costs large), ``eval/test_{mse,dtw,soft_dtw,tdi}`` (comparable
    across trials), ``perf/seconds_per_model_step``, for the policy methods
    ``charts/aligner_return``, ``charts/aligner_cost_ratio_vs_dtw`` and
    ``charts/aligner_env_steps`` on the model's own forecasts, the config as
    text, and its HParams (method, seed, gamma, model, and the sampling
    settings of ``"sampled_path"``, :meth:`ComparisonConfig.sampling_label`)
    with the final test metrics (:meth:`write_hparams_config`);
    ``charts/sampling_temperature`` when the temperature is annealed.
    """

    def __init__(self, task, config: ComparisonConfig, run_dir, aligner=None, hparams: dict | None = None):
        if not isinstance(config, ComparisonConfig):
            raise TypeError(f"config must be a ComparisonConfig; got {type(config).__name__}")
        self.task, self.config, self.run_dir = task, config, Path(run_dir)
        self.aligner = None if aligner is None else resolve_policy(aligner)
        self.hparams = dict(hparams or {})
        self.starts = {}  # seed -> the MSE model's weights, the start of the seed's other methods (init "mse")

    # ------------------------------------------------------------ TensorBoard
    def write_hparams_config(self, methods: Sequence[str], seeds: Sequence[int], gammas: Sequence[float]):
        """Declare the HParams dashboard in ``tb/``: the trial settings against the test metrics."""
        import tensorflow as tf
        from tensorboard.plugins.hparams import api as hp

        hparams = [
            hp.HParam("method", hp.Discrete(list(methods))),
            hp.HParam("seed", hp.Discrete(list(seeds))),
            hp.HParam("model", hp.Discrete([self.config.model])),
        ]
        if "soft_dtw" in methods:
            hparams.append(hp.HParam("gamma", hp.Discrete(list(gammas))))
        if "sampled_path" in methods:
            hparams.append(hp.HParam("sampling", hp.Discrete([self.config.sampling_label()])))
        hparams += [hp.HParam(key, hp.Discrete([value])) for key, value in self.hparams.items()]
        metrics = [hp.Metric(f"eval/test_{m}", display_name=f"test {m}") for m in METRICS]
        metrics.append(hp.Metric("eval/val_dtw", display_name="validation DTW"))
        writer = tf.summary.create_file_writer(str(self.run_dir / "tb"))
        with writer.as_default():
            hp.hparams_config(hparams=hparams, metrics=metrics)
        writer.close()

    def _open_writer(self, trial, method, seed, gamma):
        import tensorflow as tf
        from tensorboard.plugins.hparams import api as hp

        writer = tf.summary.create_file_writer(str(self.run_dir / "tb" / trial))
        values = {"method": method, "seed": seed, "model": self.config.model, **self.hparams}
        if gamma is not None:
            values["gamma"] = gamma
        if method == "sampled_path":
            values["sampling"] = self.config.sampling_label()
        with writer.as_default():
            hp.hparams(values, trial_id=trial)
            text = {**values, **dataclasses.asdict(self.config), "aligner": str(self.aligner)}
            tf.summary.text("config", _config_markdown(text), step=0)
        return writer

    # ---------------------------------------------------------------- models
    def build_model(self, seed: int):
        """The forecaster of ``config.model``, its weights seeded by ``seed`` or set to the seed's MSE start."""
        import tensorflow as tf

        from dtwrl.forecasting.models import build_forecaster

        (X, Y), _, _ = self.task
        tf.keras.utils.set_random_seed(seed)  # the one place seeds are set: weights, batches, pairs
        key = "units" if self.config.model == "gru" else "hidden_units"
        model = build_forecaster(
            self.config.model, X.shape[1], Y.shape[1], X.shape[2], **{key: self.config.hidden_units}
        )
        if seed in self.starts:
            model.set_weights(self.starts[seed])
        return model

    def _evaluate(self, trainer, writer, method, curve):
        import tensorflow as tf

        from dtwrl.forecasting.metrics import evaluate_forecasts
        from dtwrl.forecasting.training import predict

        _, (X_val, Y_val), (X_test, Y_test) = self.task
        scores = evaluate_forecasts(Y_test, predict(trainer.model, X_test), gamma=self.config.eval_gamma)
        val_loss = trainer.evaluate(X_val, Y_val)
        with writer.as_default(step=trainer.steps):
            tf.summary.scalar(f"losses/{method}/val", val_loss)
            for metric in METRICS:
                tf.summary.scalar(f"eval/test_{metric}", scores[metric])
        curve.append({"step": trainer.steps, "val_loss": val_loss, **scores})
        return scores

    def run(self, method: str, seed: int, gamma: float | None = None, on_round: Callable | None = None):
        """Train one forecaster with ``method`` (and ``gamma`` for ``"soft_dtw"``).

        Parameters
        ----------
        method : str
            One of :data:`METHODS`; the policy methods need ``aligner``.
        seed : int
            Seeds the initial weights, the batch order and the sampled paths.
        gamma : float or None
            soft-DTW smoothing (``"soft_dtw"`` only).
        on_round : callable or None
            ``on_round(method, round_index, scores)`` after every round.

        Returns
        -------
        row : dict
            ``method``, ``seed``, ``gamma``, ``steps``, the final test metrics,
            ``val_dtw`` (exact DTW on the validation split), ``epoch_seconds`` (the median over rounds
            but the first of a round's seconds per step, times the steps per epoch), ``epoch_seconds_mean``
            (the same with the mean: the cost of paths sampled every ``lattice_every`` steps, amortised),
            ``aligner_seconds``, ``policy_ratio_on_test`` (policy methods) and
            ``lattice_coverage_on_test`` (``"sampled_path"``, :func:`lattice_coverage`).
        model : tf.keras.Model
        curve : list of dict
            The evaluation before training and after every round.
        """
        import tensorflow as tf

        from dtwrl.forecasting.metrics import dtw_score
        from dtwrl.forecasting.training import ForecasterTrainer, predict

        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
        if (gamma is None) != (method != "soft_dtw"):
            raise ValueError(f"gamma is required for soft_dtw and only for it; got {gamma!r} for {method!r}")
        if method in POLICY_METHODS and self.aligner is None:
            raise ValueError(f"method {method!r} needs aligner: 'pretrained' or an aligner run folder")
        config = self.config
        (X, Y), (X_val, Y_val), (X_test, Y_test) = self.task
        model = self.build_model(seed)
        rng = np.random.default_rng(seed)
        rounds = PolicyRounds(config, method, seed, self.aligner, self.run_dir) if method in POLICY_METHODS else None
        loss = (rounds.loss(), {}) if rounds is not None else (method, {} if gamma is None else {"gamma": gamma})
        trainer = ForecasterTrainer(model, loss[0], learning_rate=config.learning_rate, **loss[1])
        trial = trial_id(method, {} if gamma is None else {"gamma": gamma}, seed)
        writer = self._open_writer(trial, method, seed, gamma)
        curve, step_seconds, aligner_seconds = [], [], 0.0
        self._evaluate(trainer, writer, method, curve)
        for round_index in range(config.rounds):
            if rounds is not None:
                aligner_seconds += rounds.before_round(round_index, trainer.model, X, Y, rng, writer, trainer.steps)
            start = time.perf_counter()
            train_loss = trainer.run_steps(X, Y, config.model_steps, config.batch_size, rng)
            step_seconds.append((time.perf_counter() - start) / config.model_steps)
            with writer.as_default(step=trainer.steps):
                tf.summary.scalar(f"losses/{method}/train", train_loss)
                tf.summary.scalar("perf/seconds_per_model_step", step_seconds[-1])
            scores = self._evaluate(trainer, writer, method, curve)
            if on_round is not None:
                on_round(method, round_index, scores)
        val_dtw = dtw_score(Y_val, predict(model, X_val))
        with writer.as_default(step=trainer.steps):
            tf.summary.scalar("eval/val_dtw", val_dtw)
        writer.close()
        figures = rounds.finish(model, X_test, Y_test) if rounds is not None else {}
        (self.run_dir / "checkpoints").mkdir(exist_ok=True)
        model.save_weights(str(self.run_dir / "checkpoints" / f"{trial}.weights.h5"))
        steps_per_epoch = math.ceil(len(X) / min(config.batch_size, len(X)))
        # the first round includes tracing; the median of the others is the steady-state speed
        per_step = float(np.median(step_seconds[1:] or step_seconds))
        row = {
            "method": method,
            "seed": seed,
            "gamma": "" if gamma is None else gamma,
            "steps": trainer.steps,
            **{m: curve[-1][m] for m in METRICS},
            "val_dtw": val_dtw,
            "epoch_seconds": per_step * steps_per_epoch,
            # the mean counts the rounds whose steps reuse sampled paths and those that sample again (lattice_every)
            "epoch_seconds_mean": float(np.mean(step_seconds[1:] or step_seconds)) * steps_per_epoch,
            "aligner_seconds": aligner_seconds,
            "policy_ratio_on_test": "",
            "lattice_coverage_on_test": "",
            **figures,
        }
        return row, model, curve

    def run_all(
        self,
        methods: Sequence[str],
        seeds: Sequence[int],
        gammas: Sequence[float] = (1.0,),
        on_round: Callable | None = None,
        on_trial: Callable | None = None,
    ):
        """Every method for every seed; soft-DTW once per gamma, keeping the gamma of lowest validation DTW.

        With ``config.init == "mse"`` (the default) MSE runs first for every
        seed, also when ``methods`` does not name it, and every other method
        of the seed starts from its trained weights.

        Parameters
        ----------
        methods : sequence of str
            Among :data:`METHODS` (:func:`check_methods`).
        seeds : sequence of int
        gammas : sequence of float
            soft-DTW candidates; per seed, the model of lowest exact DTW on the
            validation split is kept (``selected`` is True on its row).
        on_round : callable or None
            Passed to :meth:`run`.
        on_trial : callable or None
            ``on_trial(row, model)`` after every trained model.

        Returns
        -------
        rows : list of dict
            One per trained model, with ``selected`` (the rows to compare).
        models : dict
            ``method -> model`` of the first seed (the selected soft-DTW one).
        """
        methods, gammas = check_methods(methods, gammas)
        methods = training_order(methods, self.config.init)
        self.write_hparams_config(methods, seeds, gammas)
        rows, models = [], {}
        for seed in seeds:
            self.starts.pop(seed, None)
            for method in methods:
                candidates = []
                for gamma in gammas if method == "soft_dtw" else (None,):
                    row, model, _ = self.run(method, seed, gamma, on_round)
                    candidates.append((row, model))
                    if method == "mse" and self.config.init == "mse":
                        self.starts[seed] = model.get_weights()
                    if on_trial is not None:
                        on_trial(row, model)
                best = select_candidate([SimpleNamespace(val_dtw=row["val_dtw"], row=row) for row, _ in candidates]).row
                for row, model in candidates:
                    row["selected"] = row is best
                    rows.append(row)
                    if row is best:
                        models.setdefault(method, model)
        return rows, models
