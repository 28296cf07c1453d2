"""Multistep-ahead forecasting with DTW-family losses (Cuturi and Blondel, 2017, section 5.4).

Every series is cut into an input window and its continuation: by
``--input-fraction`` (each series at its own length), by ``--horizon``, or for a
Monash ``.tsf`` file by its ``@horizon`` (the last h points of each series are its
test target, the h before them its train target). Class labels are ignored.
Values are z-scored with train-split statistics (``--normalize``). One model is
trained per loss configuration and seed on the train split (less a validation
part, the same for every loss of a seed), then scored on the test split by MSE,
exact DTW, soft-DTW and TDI, every series at its true length, in normalised and
in original units. ``--select val_dtw`` trains every ``--gammas`` value (and every
``--dilate-alpha``) and keeps, per seed, the one of lowest validation DTW.
By default (``--init mse``) the MSE model of each seed is trained first, and
reported, even when ``--losses`` does not name ``mse``, and every other loss
starts from its weights (the paper's "Euclidean initialization"); ``--init
random`` starts every loss from the seed's random weights. A loss whose best
validation DTW is above the MSE model's is printed per seed and marked in the
table; ``--keep-start`` lets the selection keep the MSE weights, so the chosen
model is never worse than MSE on validation DTW. ``--monitor val_dtw`` stops
early on the validation exact DTW, whatever the loss.

Series of unequal lengths: the GRU seq2seq takes them padded, with their lengths
(its encoder masks the padding); the MLP and CNN see every input window and
target linearly resampled to one length, and their forecasts are resampled
back to each series' own horizon before scoring.

Run::

    python experiments/forecast.py --dataset GunPoint --losses mse soft_dtw --gammas 1 0.1 0.01 --select val_dtw
    python experiments/forecast.py --dataset GunPoint --losses soft_dtw --init random   # no MSE start
    python experiments/forecast.py --dataset GunPoint --losses soft_dtw --corridor fastdtw:r=8   # a corridor
    python experiments/forecast.py --dataset ../shared/data/monash/m1_yearly_dataset.tsf --model gru
    python experiments/forecast.py --dataset my_series.csv --horizon 12   # one series per row
    tensorboard --logdir results/forecast

Writes ``results/forecast/<run-name>/`` (run name ``{dataset}__{exp_name}-{model}__{seeds}__{time}``):
``config.json``, ``metrics.csv`` (one row per trained or selected model), ``table.md``
(mean ± std over seeds, best cell per metric in bold, in normalised and original units),
``figures/forecasts.png``, ``checkpoints/`` (final weights per model) and ``tb/``
(``losses/train``, ``losses/val`` and ``eval/...`` per model, an HParams dashboard
with the test metrics, and the configuration as text).
"""

import experiments  # noqa: F401  (first: silences TensorFlow and gym start-up noise)

# isort: split
import dataclasses
import json
import math
import sys
from pathlib import Path

import numpy as np

from experiments.cli import blame, cli_main, fail, field, flag_of, parse_args, require_at_least, require_fraction
from experiments.forecast_flags import FitArgs, ForecastTaskArgs, SingleRunArgs
from experiments.run_folders import checked_run_dir, run_name, tensorboard_command, write_config

METRICS = ("mse", "dtw", "soft_dtw", "tdi")
LABELS = {"mse": "MSE", "dtw": "DTW", "root_dtw": "√DTW (tslearn)", "soft_dtw": "soft-DTW", "tdi": "TDI"}
#: The losses that take ``corridor=`` (``--corridor``).
CORRIDOR_LOSSES = ("soft_dtw", "soft_dtw_divergence", "sparse_dtw")
#: Table columns: METRICS plus the mean square root of DTW that tslearn (and DILATE's paper) reports.
TABLE_METRICS = ("mse", "dtw", "root_dtw", "soft_dtw", "tdi")


@dataclasses.dataclass
class Args(ForecastTaskArgs, FitArgs, SingleRunArgs):
    dataset: str = field(
        "GunPoint",
        "GunPoint, synthetic_steps, a UCR/UEA folder or its *_TRAIN.ts/.tsv file, a "
        "Monash .tsf file (its @horizon), or a .csv (one series per row) / .npy "
        "(N, n[, d]) file, split by a seeded permutation (--test-fraction)",
    )
    losses: tuple[str, ...] = field(("mse", "soft_dtw"), "losses to compare (names of dtwrl.losses.get_loss)")
    gammas: tuple[float, ...] = field(
        (1.0,), "smoothing values of the losses that take gamma (soft_dtw, soft_dtw_divergence, sparse_dtw, dilate)"
    )
    dilate_alpha: tuple[float, ...] = field((0.5,), "DILATE's weight(s) of the shape term")
    select: str = field(
        "none",
        "none: one row per gamma (and alpha); val_dtw: per seed, keep the gamma (and "
        "alpha) of lowest exact DTW on the validation part, one row per loss",
    )
    seeds: tuple[int, ...] = field((0,), "seeds (>= 0), one model per seed")
    normalize: str = field(
        "zscore", "zscore (train-split mean and std), zscore-series (each series by its input window) or none"
    )
    epochs: int = field(200, "maximum training epochs")
    patience: int = field(20, "epochs without a better monitored validation value before stopping")
    monitor: str = field(
        "val_loss",
        "early stopping and best-epoch criterion: val_loss (each model's own "
        "training loss on the validation split) or val_dtw (exact DTW on it, the "
        "same for every loss)",
    )
    init: str = field(
        "mse",
        "initial weights of every loss other than mse. Default mse: the MSE model of the same seed is "
        "trained first (and reported, even if --losses does not name it) and every other loss starts "
        "from its weights (Cuturi and Blondel's Euclidean initialization); random: the seed's random weights",
    )
    keep_start: bool = field(
        False,
        "with --init mse: the MSE starting weights are one more candidate of every other loss's "
        "validation-DTW selection, so the chosen model is never worse than MSE on validation DTW",
    )
    horizon: int = field(
        0, "forecast the last HORIZON points of each series (0: the .tsf file's @horizon, else --input-fraction)"
    )
    aligner: str = field(
        "",
        "policy_path's aligner: a run folder of experiments/train_aligner.py (empty: "
        "get_loss('policy_path') decides, e.g. the shipped pretrained policy)",
    )
    corridor: str = field(
        "",
        "soft_dtw, soft_dtw_divergence and sparse_dtw run on this corridor source (dtwrl.corridors), "
        "e.g. fastdtw:r=8 or band:frac=0.05, recomputed every batch (empty: the whole grid)",
    )
    exp_name: str = field("forecast", "experiment name, the folder under out-dir")


def _finite_positive(value):
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def check_args(args):
    """Check every flag that needs no data; raise ``CLIError`` naming the flag."""
    from dtwrl.forecasting.comparison import INITS, SELECTIONS
    from dtwrl.forecasting.models import FORECASTERS
    from dtwrl.forecasting.preprocessing import NORMALIZATIONS
    from dtwrl.forecasting.training import MONITORS
    from dtwrl.losses import LOSS_NAMES

    choices = {
        "model": sorted(FORECASTERS),
        "normalize": NORMALIZATIONS,
        "select": SELECTIONS,
        "monitor": MONITORS,
        "init": INITS,
    }
    for name, allowed in choices.items():
        if getattr(args, name) not in allowed:
            fail(flag_of(name), f"must be one of {list(allowed)}; got {getattr(args, name)!r}")
    for name in ("losses", "gammas", "seeds", "dilate_alpha"):
        if not getattr(args, name):
            fail(flag_of(name), "needs at least one value")
    unknown = [name for name in args.losses if name not in LOSS_NAMES]
    if unknown:
        fail("--losses", f"unknown loss {unknown[0]!r}; name must be one of {', '.join(LOSS_NAMES)}")
    if len(set(args.losses)) != len(args.losses):
        fail("--losses", f"must be distinct; got {list(args.losses)}")
    if not all(_finite_positive(g) for g in args.gammas):
        fail("--gammas", f"must be finite and > 0; got {list(args.gammas)}")
    if not all(0.0 <= a <= 1.0 for a in args.dilate_alpha):
        fail("--dilate-alpha", f"must be in [0, 1]; got {list(args.dilate_alpha)}")
    if not _finite_positive(args.eval_gamma):
        fail("--eval-gamma", f"must be finite and > 0; got {args.eval_gamma}")
    if not _finite_positive(args.learning_rate):
        fail("--learning-rate", f"must be finite and > 0; got {args.learning_rate}")
    require_fraction(args, "validation_split", "input_fraction", "test_fraction")
    require_at_least(args, 1, "epochs", "batch_size", "hidden_units", "num_plot", "synthetic_series")
    require_at_least(args, 0, "patience", "max_train", "max_test", "horizon")
    if any(s < 0 for s in args.seeds):
        fail("--seeds", f"must be >= 0; got {list(args.seeds)}")
    if len(set(args.seeds)) != len(args.seeds):
        fail("--seeds", f"must be distinct; got {list(args.seeds)}")
    if args.keep_start and args.init != "mse":
        fail("--keep-start", f"needs --init mse; got --init {args.init}")
    if args.aligner and not Path(args.aligner).is_dir():
        fail("--aligner", f"no such run folder {args.aligner!r}")
    if args.corridor:
        from dtwrl.corridors import check_corridor_spec

        try:
            check_corridor_spec(args.corridor, "--corridor")
        except ValueError as err:
            fail("--corridor", str(err).removeprefix("--corridor: ").removeprefix("--corridor "))
        if not set(args.losses) & set(CORRIDOR_LOSSES):
            fail("--corridor", f"applies to {', '.join(CORRIDOR_LOSSES)}; none is in --losses {list(args.losses)}")


def build_losses(losses, gammas, alphas, aligner="", corridor=""):
    """``{name: [(loss kwargs, loss object), ...]}``: every candidate configuration, built (and so checked) once.

    ``policy_path`` gets ``aligner=agents.PolicyAligner(aligner)`` for a run folder, else ``get_loss`` decides;
    the losses of ``CORRIDOR_LOSSES`` get ``corridor=corridor`` when it is not empty.
    Raises ``CLIError`` naming ``--losses`` (or ``--aligner``).
    """
    from dtwrl.forecasting.comparison import loss_candidates
    from dtwrl.losses import get_loss

    built = {}
    for name in losses:
        extra = {"corridor": corridor} if corridor and name in CORRIDOR_LOSSES else {}
        if name == "policy_path" and aligner:
            from agents import PolicyAligner

            with blame("--aligner"):
                extra = {"aligner": PolicyAligner(aligner)}
        built[name] = []
        for kwargs in loss_candidates(name, gammas, alphas):
            try:
                built[name].append((kwargs, get_loss(name, **kwargs, **extra)))
            except (ValueError, TypeError) as err:
                hint = (
                    "; pass --aligner RUN_DIR (a run folder of experiments/train_aligner.py)"
                    if (name == "policy_path")
                    else ""
                )
                fail("--losses", f"{name}: {err}{hint}")
    return built


def load_task(args):
    """The :class:`~dtwrl.datasets.ForecastTask` of ``--dataset`` (cut to --max-train/--max-test), checked."""
    from dtwrl.datasets import load_forecast_task
    from dtwrl.forecasting.training import check_validation_split

    try:
        task = load_forecast_task(
            args.dataset,
            input_fraction=args.input_fraction,
            horizon=args.horizon or None,
            n_series=args.synthetic_series,
            test_fraction=args.test_fraction,
        )
    except (ValueError, TypeError, FileNotFoundError) as err:
        message = str(err).strip("'\"")
        fail("--horizon" if args.horizon and "horizon" in message else "--dataset", message)
    task.train, task.test = task.train.head(args.max_train), task.test.head(args.max_test)
    with blame("--max-train" if args.max_train else "--validation-split"):
        check_validation_split(args.validation_split, len(task.train))
    return task


def _label(name, kwargs):
    from dtwrl.forecasting.comparison import describe

    return f"{name} ({describe(kwargs)})" if kwargs else name


def _plot_arrays(split, forecasts, count):
    """Inputs, targets and forecasts of the first ``count`` series, cut to common lengths for the figure."""
    count = min(count, len(split))
    n_in = min(len(x) for x in split.inputs[:count])
    n_out = min(len(y) for y in split.targets[:count])
    inputs = np.stack([x[-n_in:] for x in split.inputs[:count]])
    targets = np.stack([y[:n_out] for y in split.targets[:count]])
    return inputs, targets, {k: np.stack([f[:n_out] for f in v[:count]]) for k, v in forecasts.items()}


def trained_losses(losses, init):
    """The losses a run trains, in order: under ``init="mse"`` MSE first (added when ``losses`` lacks it).

    >>> trained_losses(("soft_dtw",), "mse"), trained_losses(("soft_dtw", "mse"), "random")
    (('mse', 'soft_dtw'), ('soft_dtw', 'mse'))
    """
    if init != "mse":
        return tuple(losses)
    return ("mse",) + tuple(name for name in losses if name != "mse")


#: The footnote of a table with a row marked by :func:`mark_worse_than_start`.
WORSE_NOTE = (
    "⚠ marks a loss whose best validation DTW was above that of the MSE model it started from, on the seeds "
    'listed; "MSE start kept" lists the seeds where --keep-start kept the MSE weights.'
)


def mark_worse_than_start(rows):
    """Append ``⚠ val DTW > MSE: seeds ...`` (and ``MSE start kept: seeds ...``) to the config of such rows.

    Returns whether any row was marked.

    >>> rows = [{"config": "sdtw", "seed": 0, "worse_than_start": True, "kept_start": True},
    ...         {"config": "sdtw", "seed": 1, "worse_than_start": False, "kept_start": False}]
    >>> mark_worse_than_start(rows), rows[1]["config"]
    (True, 'sdtw ⚠ val DTW > MSE: seed 0; MSE start kept: seed 0')
    """
    marked = False
    for config in dict.fromkeys(r["config"] for r in rows):
        members = [r for r in rows if r["config"] == config]
        worse = [str(r["seed"]) for r in members if r.get("worse_than_start") in (True, "True")]
        kept = [str(r["seed"]) for r in members if r.get("kept_start") in (True, "True")]
        if not worse:
            continue
        marked = True
        mark = f" ⚠ val DTW > MSE: seed {', '.join(worse)}"
        if kept:
            mark += f"; MSE start kept: seed {', '.join(kept)}"
        for r in members:
            r["config"] = config + mark
    return marked


def tables(rows, units, columns, command, title, metrics=TABLE_METRICS):
    """table.md: the normalised-unit table and, when present, the original-unit one."""
    from experiments.reporting import summarize, summary_table

    labels = {m: LABELS[m] + (f" (γ={columns['eval_gamma']:g})" if m == "soft_dtw" else "") for m in metrics}
    text = f"## {title}\n\nLower is better; best mean in bold. Produced by `{command}`.\n\n"
    text += f"Metrics in {units}, every test series at its true length.\n\n"
    text += summary_table(summarize(rows, "config", metrics), "config", metrics, labels=labels) + "\n"
    if all(f"orig_{m}" in rows[0] for m in metrics):
        orig = [f"orig_{m}" for m in metrics]
        text += "\nThe same forecasts in original units:\n\n"
        text += (
            summary_table(
                summarize(rows, "config", orig), "config", orig, labels={f"orig_{m}": labels[m] for m in metrics}
            )
            + "\n"
        )
    return text


def fit_settings(args):
    """The :class:`dtwrl.forecasting.comparison.FitSettings` of an ``Args`` (its fields of the same names)."""
    from dtwrl.forecasting.comparison import FitSettings

    return FitSettings(**{f.name: getattr(args, f.name) for f in dataclasses.fields(FitSettings)})


@cli_main
def main(argv=None):
    args = parse_args(Args, argv, description=__doc__.split("\n\n")[0], validate=check_args)
    names = trained_losses(args.losses, args.init)
    losses = build_losses(names, args.gammas, args.dilate_alpha, args.aligner, args.corridor)
    task = load_task(args)
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    from dtwrl.forecasting import comparison
    from dtwrl.runs import atomic_write_text, write_csv
    from experiments.reporting import plot_forecasts

    prepared = comparison.PreparedTask(task, normalize=args.normalize, model=args.model)
    settings = fit_settings(args)
    seeds = "-".join(str(s) for s in args.seeds)
    run_dir = checked_run_dir(args.exp_name, run_name(task.name, f"{args.exp_name}-{args.model}", seeds), args.out_dir)
    X, Y = prepared.train_arrays[:2]
    Xt, Yt = prepared.test_arrays[:2]
    config = {
        **dataclasses.asdict(args),
        "task": task.name,
        "split_rule": task.rule,
        "units": prepared.units,
        "layout": dataclasses.asdict(prepared.layout),
        "train_shapes": [X.shape, Y.shape],
        "test_shapes": [Xt.shape, Yt.shape],
    }
    write_config(run_dir, config)
    print(f"{run_dir.name}: train {X.shape} -> {Y.shape}, test {Xt.shape} -> {Yt.shape} ({task.rule})")

    hparams = [
        hp.HParam("loss", hp.Discrete(list(names))),
        hp.HParam("gamma", hp.RealInterval(0.0, 1e9)),
        hp.HParam("alpha", hp.RealInterval(0.0, 1.0)),
        hp.HParam("model", hp.Discrete([args.model])),
        hp.HParam("normalize", hp.Discrete([args.normalize])),
        hp.HParam("seed", hp.Discrete(list(args.seeds))),
    ]
    with tf.summary.create_file_writer(str(run_dir / "tb")).as_default():
        hp.hparams_config(hparams=hparams, metrics=[hp.Metric(f"eval/{m}", display_name=f"test {m}") for m in METRICS])
        tf.summary.text("config", "```\n" + json.dumps(dataclasses.asdict(args), indent=1) + "\n```", step=0)

    groups = (
        [(name, [c]) for name in names for c in losses[name]]
        if args.select == "none"
        else [(name, losses[name]) for name in names]
    )
    (run_dir / "checkpoints").mkdir(exist_ok=True)
    results = []  # (group index, seed, row)
    for seed in args.seeds:
        trials = comparison.compare_losses(
            prepared,
            groups,
            seed,
            settings,
            init=args.init,
            keep_start=args.keep_start,
            log_dir=run_dir / "tb",
            progress=args.progress,
            hparams={"model": args.model, "normalize": args.normalize},
        )
        for index, trial in enumerate(trials):
            for cand in trial.tried:
                cand.model.save_weights(str(run_dir / "checkpoints" / f"{cand.trial}.weights.h5"))
            row = comparison.result_row(task.name, settings, args.normalize, trial)
            row["config"] = trial.name if args.select == "val_dtw" else _label(trial.name, trial.chosen.loss_kwargs)
            results.append((index, seed, row, trial))
            print(
                f"  {row['config']:<28} seed {seed}: "
                + "  ".join(f"{m}={trial.scores[m]:.4g}" for m in METRICS)
                + (f"  (chose {comparison.describe(trial.chosen.loss_kwargs)})" if len(trial.tried) > 1 else "")
                + f"  ({row['epochs']} epochs, {row['train_seconds']:.1f}s)",
                flush=True,
            )
            if trial.worse_than_start:
                best = min(c.val_dtw for c in trial.tried)
                print(
                    f"  note: {row['config']} seed {seed}: its best validation DTW {best:.4g} is above the MSE "
                    f"model's {trial.start.val_dtw:.4g}; "
                    + ("kept the MSE weights (--keep-start)" if trial.kept_start else "--keep-start keeps them"),
                    flush=True,
                )
    results.sort(key=lambda item: item[:2])
    rows = [row for _, _, row, _ in results]
    shown = {}
    for _, _, row, trial in results:
        shown.setdefault(row["config"], prepared.forecasts(trial.chosen.model)[: args.num_plot])

    if args.select == "val_dtw":  # the table says which γ/α validation chose, per seed
        for row in rows:
            picks = [
                comparison.describe({k: r[k] for k in ("gamma", "alpha") if r[k] != ""})
                for r in rows
                if r["loss"] == row["loss"]
            ]
            if any(picks):
                row["config"] = f"{row['loss']} (chosen {'; '.join(picks)})"
    marked = mark_worse_than_start(rows)
    bad = [(r["config"], r["seed"], m) for r in rows for m in METRICS if not np.isfinite(r[m])]
    command = "python experiments/forecast.py " + " ".join(sys.argv[1:] if argv is None else argv)
    title = f"{task.name}, {args.model} forecaster: test metrics, mean ± std over seeds {list(args.seeds)}"
    atomic_write_text(
        run_dir / "table.md",
        tables(rows, prepared.units, {"eval_gamma": args.eval_gamma}, command, title)
        + (f"\n{WORSE_NOTE}\n" if marked else "")
        + f"\nSplit: {task.rule}.\n",
    )
    write_csv(run_dir / "metrics.csv", rows)
    if bad:
        fail("--losses", f"a test metric is not finite ({bad[0]}); see {run_dir / 'metrics.csv'}")
    inputs, targets, predictions = _plot_arrays(prepared.test, shown, args.num_plot)
    plot_forecasts(
        inputs,
        targets,
        predictions,
        run_dir / "figures" / "forecasts.png",
        num_series=args.num_plot,
        title=f"{task.name}: {args.model} forecasts (seed {args.seeds[0]}, {args.normalize})",
    )
    print(f"\n{(run_dir / 'table.md').read_text()}\nwrote {run_dir}\nwatch: {tensorboard_command(run_dir / 'tb')}")
    return run_dir


if __name__ == "__main__":
    main()
