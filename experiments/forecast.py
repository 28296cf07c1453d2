"""Multistep-ahead forecasting with DTW-family losses (Cuturi and Blondel, 2017, section 5.4).

The first 60% of every series is the input, the remaining 40% the target, and
class labels are ignored. One model is trained per loss, gamma and seed on the
train split, then scored on the test split by MSE, exact DTW, soft-DTW and TDI.
``--init mse`` starts every other loss from the MSE-trained model of the same
seed (the paper's "Euclidean initialization"); ``--monitor val_dtw`` stops early
and keeps the epoch of lowest exact DTW on the validation split, whatever the loss.

Run::

    python experiments/forecast.py --dataset GunPoint --losses mse soft_dtw --gammas 1.0 --seeds 0 1 2 3 4
    python experiments/forecast.py --dataset ../shared/data/ucr/ItalyPowerDemand --gammas 1 0.1 0.01 --init mse
    tensorboard --logdir results/forecast

Writes ``results/forecast/<run-name>/`` (run name ``{dataset}__{exp_name}-{model}__{seeds}__{time}``):
``config.json``, ``metrics.csv`` (one row per trained model), ``table.md``
(mean ± std over seeds, best cell per metric in bold), ``figures/forecasts.png``
(forecasts against the truth, one panel column per loss), ``checkpoints/`` (final
weights per model) and ``tb/`` (training curves per model and an HParams
dashboard with loss, gamma, model and seed against the test metrics).
"""
import dataclasses
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from experiments.common import (
    field, make_run_dir, parse_args, run_name, tensorboard_command, write_config)

# losses whose get_loss takes the smoothing gamma; the others ignore --gammas
GAMMA_LOSSES = ("soft_dtw", "soft_dtw_divergence", "sparse_dtw", "dilate")
METRICS = ("mse", "dtw", "soft_dtw", "tdi")
INITS = ("random", "mse")


@dataclasses.dataclass
class Args:
    dataset: str = field("GunPoint", "GunPoint, synthetic_steps, a UCR/UEA folder, or its *_TRAIN.ts/.tsv file")
    losses: tuple[str, ...] = field(("mse", "soft_dtw"), "losses to compare (names of dtwrl.losses.get_loss)")
    gammas: tuple[float, ...] = field((1.0,), "soft-DTW smoothing values (one model each for losses with gamma)")
    seeds: tuple[int, ...] = field((0,), "seeds, one model per seed")
    model: str = field("mlp", "forecaster: mlp, gru or cnn")
    hidden_units: int = field(256, "hidden width of the mlp/cnn, state size of the gru")
    epochs: int = field(200, "maximum training epochs")
    batch_size: int = field(32, "series per optimizer step")
    learning_rate: float = field(1e-3, "Adam step size")
    validation_split: float = field(0.2, "share of the train split held out for early stopping")
    patience: int = field(20, "epochs without a better monitored validation value before stopping")
    monitor: str = field("val_loss", "early stopping and best-epoch criterion: val_loss (each model's own "
                                     "training loss on the validation split) or val_dtw (exact DTW on it, the "
                                     "same for every loss)")
    init: str = field("random", "initial weights: random, or mse (every other loss starts from the MSE-trained "
                                "model of the same seed, Cuturi and Blondel's Euclidean initialization; needs mse "
                                "first in --losses)")
    input_fraction: float = field(0.6, "share of each series used as input")
    dilate_alpha: float = field(0.5, "DILATE's weight of the shape term")
    eval_gamma: float = field(1.0, "gamma of the soft-DTW test metric")
    synthetic_series: int = field(500, "series per split of the synthetic_steps task")
    max_train: int = field(0, "use at most this many train series (0: all)")
    max_test: int = field(0, "score at most this many test series (0: all)")
    num_plot: int = field(3, "test series drawn in the forecast figure")
    exp_name: str = field("forecast", "experiment name, the folder under out-dir")
    out_dir: str = field("results", "root folder of the run outputs")
    progress: bool = field(True, "show tqdm bars (--no-progress to hide)")


def load_task(dataset, input_fraction=0.6, synthetic_series=500, max_train=0, max_test=0):
    """Train and test ``(inputs, targets)``, each ``(N, n_in, d)`` and ``(N, n_out, d)``.

    ``dataset`` is what :func:`dtwrl.datasets.load_forecasting_task` takes (a
    built-in name or a UCR/UEA folder) or a ``*_TRAIN.ts``/``.tsv`` file, whose
    ``*_TEST`` sibling is the test split. ``max_train``/``max_test`` > 0 keep
    only the first series. Raises ``ValueError`` naming ``--dataset``.
    """
    from dtwrl.datasets import forecast_split, load_forecasting_task, load_ucr

    path = Path(dataset)
    try:
        if path.is_file():
            if "_TRAIN" not in path.name:
                raise ValueError(f"a file must be a *_TRAIN.ts or *_TRAIN.tsv split, got {path.name!r}")
            test_path = path.with_name(path.name.replace("_TRAIN", "_TEST"))
            if not test_path.is_file():
                raise ValueError(f"{path.name!r} has no test split beside it ({test_path.name!r})")
            train, test = (forecast_split(load_ucr(p)[0], input_fraction) for p in (path, test_path))
        elif (os.sep in dataset or dataset.startswith(".")) and not path.exists():
            raise ValueError(f"path {dataset!r} does not exist")
        else:
            train, test = load_forecasting_task(dataset, input_fraction=input_fraction, n_series=synthetic_series)
    except (ValueError, FileNotFoundError) as err:
        raise ValueError(f"--dataset: {err}") from None
    keep = lambda pair, n: tuple(a[:n] for a in pair) if n else pair  # noqa: E731
    return keep(train, max_train), keep(test, max_test)


def dataset_label(dataset):
    """A short name for run names and tables: ``/x/GunPoint_TRAIN.ts`` -> ``GunPoint``."""
    return re.sub(r"_(TRAIN|TEST)$", "", Path(dataset).stem) or "dataset"


def check_positive(args, positive=(), non_negative=()):
    """Raise ``ValueError`` naming the flag when a field is below 1 (``positive``) or 0 (``non_negative``)."""
    for name in positive:
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    for name in non_negative:
        if getattr(args, name) < 0:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 0, got {getattr(args, name)}")


def loss_kwargs(name, gamma, args):
    kwargs = {"gamma": gamma} if name in GAMMA_LOSSES else {}
    if name == "dilate":
        kwargs["alpha"] = args.dilate_alpha
    return kwargs


def check_args(args):
    from dtwrl.losses import get_loss
    from dtwrl.forecasting.models import FORECASTERS

    if args.model not in FORECASTERS:
        raise ValueError(f"--model must be one of {sorted(FORECASTERS)}, got {args.model!r}")
    if not args.losses or not args.seeds or not args.gammas:
        raise ValueError("--losses, --gammas and --seeds each need at least one value")
    if any(g <= 0 for g in args.gammas) or args.eval_gamma <= 0:
        raise ValueError(f"--gammas and --eval-gamma must be > 0, got {args.gammas} and {args.eval_gamma}")
    for name in args.losses:
        if name == "policy_path":
            raise ValueError("--losses: policy_path needs a trained aligner; use experiments/rl_forecast.py")
        try:
            get_loss(name, **loss_kwargs(name, args.gammas[0], args))
        except ValueError as err:
            raise ValueError(f"--losses: {err}") from None
    check_positive(args, ("epochs", "batch_size", "hidden_units", "num_plot", "synthetic_series"),
                   ("patience", "max_train", "max_test"))
    if len(set(args.seeds)) != len(args.seeds):
        raise ValueError(f"--seeds must be distinct, got {args.seeds}")
    from dtwrl.forecasting.training import MONITORS

    if args.monitor not in MONITORS:
        raise ValueError(f"--monitor must be one of {list(MONITORS)}, got {args.monitor!r}")
    if args.init not in INITS:
        raise ValueError(f"--init must be one of {list(INITS)}, got {args.init!r}")
    if args.init == "mse" and args.losses[0] != "mse":
        raise ValueError(f"--init mse needs mse as the first of --losses, got {list(args.losses)}")


def configs(args):
    """(label, loss name, gamma or None) for every loss and gamma to train."""
    out = []
    for name in args.losses:
        for gamma in (args.gammas if name in GAMMA_LOSSES else [None]):
            out.append((name if gamma is None else f"{name} (γ={gamma:g})", name, gamma))
    return out


def main(argv=None):
    args = parse_args(Args, argv, description=__doc__.split("\n\n")[0])
    try:
        check_args(args)
        (x_train, y_train), (x_test, y_test) = load_task(args.dataset, args.input_fraction, args.synthetic_series,
                                                         args.max_train, args.max_test)
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    from dtwrl.forecasting.models import build_forecaster
    from dtwrl.forecasting.training import evaluate_forecaster, fit_forecaster, predict
    from dtwrl.runs import atomic_write_text, write_csv
    from experiments.reporting import plot_forecasts, summarize, summary_table

    name_of_data = dataset_label(args.dataset)
    seeds = "-".join(str(s) for s in args.seeds)
    run_dir = make_run_dir(args.exp_name, run_name(name_of_data, f"{args.exp_name}-{args.model}", seeds),
                           root=args.out_dir)
    write_config(run_dir, {**dataclasses.asdict(args), "train_shapes": [x_train.shape, y_train.shape],
                           "test_shapes": [x_test.shape, y_test.shape]})
    print(f"{run_dir.name}: train {x_train.shape} -> {y_train.shape}, test {x_test.shape} -> {y_test.shape}")

    model_kw = {"units" if args.model == "gru" else "hidden_units": args.hidden_units}
    hparams = [hp.HParam("loss", hp.Discrete(list(args.losses))), hp.HParam("gamma", hp.Discrete(list(args.gammas))),
               hp.HParam("model", hp.Discrete([args.model])), hp.HParam("seed", hp.Discrete(list(args.seeds)))]
    with tf.summary.create_file_writer(str(run_dir / "tb")).as_default():
        hp.hparams_config(hparams=hparams, metrics=[hp.Metric(f"eval/{m}", display_name=f"test {m}") for m in METRICS])

    rows, shown, mse_weights = [], {}, {}
    for label, name, gamma in configs(args):
        for seed in args.seeds:
            trial = name + ("" if gamma is None else f"_g{gamma:g}") + f"__{seed}"
            tf.keras.utils.set_random_seed(seed)  # the one place seeds are set: weights, then batch order
            model = build_forecaster(args.model, x_train.shape[1], y_train.shape[1], x_train.shape[2], **model_kw)
            if args.init == "mse" and name != "mse":
                model.set_weights(mse_weights[seed])
            writer = tf.summary.create_file_writer(str(run_dir / "tb" / trial))
            with writer.as_default():
                hp.hparams({"loss": name, "model": args.model, "seed": seed,
                            **({} if gamma is None else {"gamma": gamma})}, trial_id=trial)
            start = time.perf_counter()
            history = fit_forecaster(model, (x_train, y_train), name, epochs=args.epochs, batch_size=args.batch_size,
                                     learning_rate=args.learning_rate, validation_split=args.validation_split,
                                     patience=args.patience, log_dir=writer, seed=seed, progress=args.progress,
                                     loss_kwargs=loss_kwargs(name, gamma, args), monitor=args.monitor)
            seconds = time.perf_counter() - start
            if name == "mse":
                mse_weights[seed] = model.get_weights()
            scores = evaluate_forecaster(model, (x_test, y_test), gamma=args.eval_gamma)
            (run_dir / "checkpoints").mkdir(exist_ok=True)
            model.save_weights(str(run_dir / "checkpoints" / f"{trial}.weights.h5"))
            with writer.as_default(step=len(history.history["loss"])):
                for metric in METRICS:
                    tf.summary.scalar(f"eval/{metric}", scores[metric])
            writer.close()
            rows.append({"dataset": name_of_data, "model": args.model, "loss": name, "gamma": gamma or "",
                         "config": label, "seed": seed, "epochs": len(history.history["loss"]),
                         "best_epoch": history.best_epoch,
                         f"best_{args.monitor}": min(history.history.get(args.monitor) or [float("nan")]),
                         "train_seconds": round(seconds, 3),
                         "epoch_seconds": round(float(np.median(history.epoch_seconds[1:] or history.epoch_seconds)),
                                                5),
                         **{m: float(scores[m]) for m in METRICS}})
            if label not in shown:
                shown[label] = predict(model, x_test[:args.num_plot])
            print(f"  {label:<28} seed {seed}: " + "  ".join(f"{m}={scores[m]:.4g}" for m in METRICS)
                  + f"  ({rows[-1]['epochs']} epochs, {seconds:.1f}s)", flush=True)

    write_csv(run_dir / "metrics.csv", rows)
    if not all(np.isfinite(row[m]) for row in rows for m in METRICS):
        raise FloatingPointError(f"a test metric is not finite; see {run_dir / 'metrics.csv'}")
    table = summary_table(summarize(rows, "config", METRICS), "config", METRICS,
                           labels={"mse": "MSE", "dtw": "DTW", "soft_dtw": f"soft-DTW (γ={args.eval_gamma:g})",
                                   "tdi": "TDI"})
    command = "python experiments/forecast.py " + " ".join(sys.argv[1:] if argv is None else argv)
    atomic_write_text(run_dir / "table.md", 
        f"## {name_of_data}, {args.model} forecaster: test metrics, mean ± std over seeds {list(args.seeds)}\n\n"
        f"Lower is better; best mean in bold. Produced by `{command}`.\n\n{table}\n")
    plot_forecasts(x_test, y_test, shown, run_dir / "figures" / "forecasts.png", num_series=args.num_plot,
                   title=f"{name_of_data}: {args.model} forecasts (seed {args.seeds[0]})")
    print(f"\n{table}\n\nwrote {run_dir}\nwatch: {tensorboard_command(run_dir / 'tb')}")
    return run_dir


if __name__ == "__main__":
    main()
