"""Which DTW loss, on my data? Every loss on every dataset and seed, one table per dataset and a ranked summary.

A study is a grid of cells (dataset, loss, seed). Each cell trains one
forecaster per candidate configuration of its loss (every ``--gammas`` value,
and every ``--dilate-alpha`` for DILATE), keeps the one of lowest exact DTW on
the validation part (the same part for every loss of a seed) and scores it on
the test split, every series at its true length (see ``experiments/forecast.py``
for the data rules: ``.tsf`` horizon, ``.csv``/``.npy`` holdout, normalisation,
padding for the GRU and resampling for the MLP/CNN). By default (``--init mse``)
every loss other than MSE starts from the MSE model of its (dataset, seed),
which is trained in the cell's process (seeded, the MSE cell's model) and is
always one of the losses; the per-dataset tables mark a loss whose validation
DTW was above its MSE start's (``--keep-start`` keeps the MSE weights then).

Cells run in ``--workers`` processes; ``--shard i/N`` runs every N-th cell, so
machines sharing the results folder split a study. Each finished cell is one
JSON file written atomically under ``cells/``; a killed study restarts where it
stopped (finished cells are skipped, a cell is claimed by a lock file while it
runs, and the locks of dead processes on this host are cleared at start).
When every cell is done the study writes ``tables/<dataset>.md`` (mean ± std
over seeds per loss, the chosen γ/α, seconds per epoch), ``summary.md`` (mean
rank of each loss per test metric over the (dataset, seed) blocks, wins / ties /
losses against MSE on test DTW, seconds per epoch), ``metrics.csv`` and
``figures/ranks_dtw.png`` (a critical-difference style rank diagram).
``policy_path`` calls ``get_loss("policy_path")`` (the shipped pretrained
aligner once there is one) or, with ``--aligner RUN_DIR``, a trained aligner.

Run::

    python experiments/study.py --datasets GunPoint ../shared/data/ucr/ItalyPowerDemand \\
        ../shared/data/monash/m1_yearly_dataset.tsf --seeds 0 1 2 --workers 2
    python experiments/study.py ... --shard 0/2   # on one machine, --shard 1/2 on another
    tensorboard --logdir results/study/<exp-name>/tb
"""

import experiments  # noqa: F401  (first: silences TensorFlow and gym start-up noise)

# isort: split
import dataclasses
import os
import socket
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from experiments.cli import CLIError, blame, cli_main, fail, field, parse_args
from experiments.forecast import METRICS, build_losses
from experiments.forecast import check_args as check_forecast_args
from experiments.forecast_flags import FitArgs, ForecastTaskArgs
from experiments.run_folders import checked_run_dir, tensorboard_command

ALL_LOSSES = (
    "mse",
    "soft_dtw",
    "soft_dtw_divergence",
    "sparse_dtw",
    "dilate",
    "dtw_path",
    "fastdtw_path",
    "policy_path",
)


@dataclasses.dataclass
class Args(ForecastTaskArgs, FitArgs):
    datasets: tuple[str, ...] = field(("GunPoint",), "datasets, each as experiments/forecast.py --dataset takes it")
    losses: tuple[str, ...] = field(ALL_LOSSES, "losses to compare (names of dtwrl.losses.get_loss)")
    seeds: tuple[int, ...] = field((0, 1, 2), "seeds (>= 0), one model per cell")
    gammas: tuple[float, ...] = field((1.0, 0.1), "candidate smoothing values of the losses that take gamma")
    dilate_alpha: tuple[float, ...] = field((0.5,), "candidate DILATE weights of the shape term")
    normalize: str = field("zscore", "zscore, zscore-series or none (see forecast.py)")
    hidden_units: int = field(64, "hidden width of the mlp/cnn, state size of the gru")
    epochs: int = field(30, "maximum training epochs per model")
    patience: int = field(5, "epochs without a better validation loss before stopping")
    init: str = field(
        "mse",
        "initial weights of every loss other than mse. Default mse: it starts from the MSE model of the same "
        "dataset and seed (mse is always run); random: the seed's random weights",
    )
    keep_start: bool = field(
        False, "with --init mse: the MSE weights are one more candidate of every other loss's selection"
    )
    horizon: int = field(0, "forecast the last HORIZON points (0: a .tsf file's @horizon, else --input-fraction)")
    max_train: int = field(0, "use at most this many train series per dataset (0: all)")
    max_test: int = field(0, "score at most this many test series per dataset (0: all)")
    aligner: str = field("", "policy_path's aligner run folder (empty: get_loss('policy_path') decides)")
    workers: int = field(1, "parallel worker processes (each runs whole cells)")
    shard: str = field("0/1", "i/N: run only the cells whose index is i modulo N")
    exp_name: str = field("study", "study name: the folder results/study/<exp-name>/, reused on restart")


# what a cell's result depends on: a restarted study must have the same values
_CELL_FIELDS = (
    "gammas",
    "dilate_alpha",
    "model",
    "normalize",
    "hidden_units",
    "epochs",
    "batch_size",
    "learning_rate",
    "validation_split",
    "patience",
    "init",
    "keep_start",
    "input_fraction",
    "horizon",
    "test_fraction",
    "eval_gamma",
    "max_train",
    "max_test",
    "synthetic_series",
    "aligner",
)


def _as_forecast_args(args, dataset):
    from experiments import forecast

    shared = {f.name: getattr(args, f.name) for f in dataclasses.fields(forecast.Args) if hasattr(args, f.name)}
    return forecast.Args(
        **{
            **shared,
            "dataset": dataset,
            "seeds": args.seeds,
            "select": "val_dtw",
            "monitor": "val_loss",
            "progress": False,
        }
    )


def parse_shard(text):
    """``"i/N"`` -> (i, N) with 0 <= i < N; raises ``ValueError``."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"must look like i/N (e.g. 0/2); got {text!r}") from None
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"needs N >= 1 and 0 <= i < N; got {text!r}")
    return index, count


def check_args(args):
    check_forecast_args(_as_forecast_args(args, args.datasets[0] if args.datasets else "GunPoint"))
    if not args.datasets:
        fail("--datasets", "needs at least one value")
    if len(set(args.datasets)) != len(args.datasets):
        fail("--datasets", f"must be distinct; got {list(args.datasets)}")
    if args.workers < 1:
        fail("--workers", f"must be >= 1; got {args.workers}")
    with blame("--shard"):
        parse_shard(args.shard)


def cell_name(dataset, loss, seed):
    """The file stem of a cell: ``GunPoint__soft_dtw__0``."""
    return f"{dataset}__{loss}__{seed}"


def _claim(lock):
    """Create ``lock`` exclusively (host and pid inside); False if another live process holds it."""
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(f"{socket.gethostname()} {os.getpid()}\n")
    return True


def _clear_dead_locks(cells_dir):
    """Remove the locks left by killed processes of this host (a restart runs their cells again)."""
    host = socket.gethostname()
    for lock in cells_dir.glob("*.lock"):
        try:
            owner, pid = lock.read_text().split()
        except (OSError, ValueError):
            continue
        if owner != host:
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            lock.unlink(missing_ok=True)
        except PermissionError:
            pass


_TASKS = {}  # per worker process: (dataset) -> (task name, PreparedTask, built losses)
_STARTS = {}  # per worker process: (dataset, seed) -> the MSE model's Candidate, the start of the other losses


def _worker_setup(threads):
    import tensorflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def run_cell(args, dataset, loss, seed, study_dir):
    """Train and score one cell, write ``cells/<cell>.json`` atomically; returns the row (None if claimed elsewhere)."""
    from dtwrl.forecasting import comparison
    from dtwrl.runs import write_json
    from experiments.forecast import fit_settings, load_task

    fargs = _as_forecast_args(args, dataset)
    if dataset not in _TASKS:
        task = load_task(fargs)
        _TASKS[dataset] = (task, comparison.PreparedTask(task, normalize=args.normalize, model=args.model))
    task, prepared = _TASKS[dataset]
    name = cell_name(task.name, loss, seed)
    cells = Path(study_dir) / "cells"
    lock = cells / f"{name}.lock"
    if (cells / f"{name}.json").exists() or not _claim(lock):
        return None
    try:
        group = build_losses([loss], args.gammas, args.dilate_alpha, args.aligner)[loss]
        settings = fit_settings(fargs)  # forecast.py's, with its monitor val_loss
        hparams = {"dataset": task.name, "model": args.model, "normalize": args.normalize}
        start = None
        if args.init == "mse" and loss != "mse":
            start = _STARTS.get((dataset, seed))
            if start is None:
                mse = build_losses(["mse"], args.gammas, args.dilate_alpha)["mse"]
                start = _STARTS[(dataset, seed)] = comparison.run_trial(prepared, "mse", mse, seed, settings).chosen
        trial = comparison.run_trial(
            prepared,
            loss,
            group,
            seed,
            settings,
            log_dir=Path(study_dir) / "tb" / task.name,
            start=start,
            keep_start=args.keep_start and start is not None,
            hparams=hparams,
        )
        if loss == "mse":
            _STARTS[(dataset, seed)] = trial.chosen
        row = comparison.result_row(task.name, settings, args.normalize, trial)
        row["units"] = prepared.units
        bad = [m for m in METRICS if not np.isfinite(row[m])]
        if bad:
            raise FloatingPointError(f"cell {name}: test {bad[0]} is not finite")
        write_json(cells / f"{name}.json", row)
        return row
    finally:
        lock.unlink(missing_ok=True)


def _run_in_worker(job):
    args, dataset, loss, seed, study_dir = job
    start = time.perf_counter()
    row = run_cell(args, dataset, loss, seed, study_dir)
    return dataset, loss, seed, row, time.perf_counter() - start


def write_reports(study_dir, args, command):
    """Per-dataset tables, the ranked summary, metrics.csv and the rank figure, from every finished cell."""
    from dtwrl.forecasting.comparison import describe
    from dtwrl.forecasting.ranks import critical_difference, mean_ranks, plot_ranks, win_tie_loss
    from dtwrl.runs import atomic_write_text, markdown_table, read_json, write_csv
    from experiments.forecast import LABELS, WORSE_NOTE, mark_worse_than_start
    from experiments.reporting import summarize, summary_table

    rows = [read_json(p) for p in sorted((study_dir / "cells").glob("*.json"))]
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    losses = [loss for loss in args.losses if any(r["loss"] == loss for r in rows)]
    order = {loss: i for i, loss in enumerate(args.losses)}
    rows.sort(key=lambda r: (datasets.index(r["dataset"]), order[r["loss"]], r["seed"]))
    write_csv(study_dir / "metrics.csv", rows)
    for dataset in datasets:
        mine = [r for r in rows if r["dataset"] == dataset]
        for r in mine:
            picks = [
                describe({k: x[k] for k in ("gamma", "alpha") if x[k] != ""}) for x in mine if x["loss"] == r["loss"]
            ]
            r["config"] = r["loss"] + (f" (chosen {'; '.join(picks)})" if any(picks) else "")
        marked = mark_worse_than_start(mine)
        table = summary_table(summarize(mine, "config", METRICS), "config", METRICS, labels=LABELS)
        table += f"\n\n{WORSE_NOTE}" if marked else ""
        seconds = {
            loss: float(np.median([r["epoch_seconds"] for r in mine if r["loss"] == loss]))
            for loss in losses
            if any(r["loss"] == loss for r in mine)
        }
        atomic_write_text(
            study_dir / "tables" / f"{dataset}.md",
            f"## {dataset}: {args.model} forecaster, test metrics, mean ± std over seeds\n\n"
            f"Metrics in {mine[0]['units']}, every test series at its true length; lower is "
            f"better, best mean in bold. Produced by `{command}`.\n\n{table}\n\nMedian seconds per "
            "epoch: " + ", ".join(f"{k} {v:.3g}" for k, v in seconds.items()) + ".\n",
        )
    blocks = sorted({(r["dataset"], r["seed"]) for r in rows})
    score = {(r["dataset"], r["seed"], r["loss"]): r for r in rows}
    complete = [b for b in blocks if all((*b, loss) in score for loss in losses)]
    text = (
        f"## Study summary: {len(losses)} losses × {len(datasets)} datasets × {len(args.seeds)} seeds "
        f"({args.model} forecaster)\n\nProduced by `{command}`. Blocks are (dataset, seed) pairs "
        f"({len(complete)} complete of {len(blocks)}); within each block the losses are ranked on each test "
        f"metric (1 = best, ties share the mean rank), then the ranks are averaged.\n\n"
    )
    if complete and len(losses) >= 2:
        ranks = {m: mean_ranks({loss: [score[(*b, loss)][m] for b in complete] for loss in losses}) for m in METRICS}
        wtl = {
            loss: win_tie_loss(
                [score[(*b, loss)]["dtw"] for b in complete], [score[(*b, "mse")]["dtw"] for b in complete]
            )
            if "mse" in losses
            else None
            for loss in losses
        }
        seconds = {loss: float(np.median([r["epoch_seconds"] for r in rows if r["loss"] == loss])) for loss in losses}
        table_rows = [
            [
                loss,
                *(f"{ranks[m][loss]:.2f}" for m in METRICS),
                "–" if loss == "mse" or wtl[loss] is None else "/".join(map(str, wtl[loss])),
                f"{seconds[loss]:.3g}",
            ]
            for loss in sorted(losses, key=lambda x: ranks["dtw"][x])
        ]
        header = ["loss", *(f"rank {LABELS[m]}" for m in METRICS), "vs MSE on test DTW (W/T/L)", "s/epoch"]
        text += markdown_table(header, table_rows) + "\n"
        if 2 <= len(losses) <= 10:
            text += (
                f"\nNemenyi critical difference (α = 0.05, k = {len(losses)}, N = {len(complete)}): "
                f"{critical_difference(len(losses), len(complete)):.2f}; see `figures/ranks_dtw.png`.\n"
            )
        plot_ranks(
            ranks["dtw"],
            len(complete),
            study_dir / "figures" / "ranks_dtw.png",
            title=f"mean rank on test DTW over {len(complete)} (dataset, seed) blocks",
        )
    atomic_write_text(study_dir / "summary.md", text)
    return study_dir / "summary.md"


def _write_hparams_config(log_dir, args, tasks):
    """The HParams dashboard of the study: dataset, loss, γ, α, seed against the test metrics; the settings as text."""
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    hparams = [
        hp.HParam("dataset", hp.Discrete(tasks)),
        hp.HParam("loss", hp.Discrete(list(args.losses))),
        hp.HParam("gamma", hp.RealInterval(0.0, 1e9)),
        hp.HParam("alpha", hp.RealInterval(0.0, 1.0)),
        hp.HParam("model", hp.Discrete([args.model])),
        hp.HParam("normalize", hp.Discrete([args.normalize])),
        hp.HParam("seed", hp.Discrete(list(args.seeds))),
    ]
    with tf.summary.create_file_writer(str(log_dir)).as_default():
        hp.hparams_config(hparams=hparams, metrics=[hp.Metric(f"eval/{m}", display_name=f"test {m}") for m in METRICS])
        tf.summary.text(
            "config", "```\n" + "\n".join(f"{k}: {v}" for k, v in dataclasses.asdict(args).items()) + "\n```", step=0
        )


@cli_main
def main(argv=None):
    args = parse_args(Args, argv, description=__doc__.split("\n\n")[0], validate=check_args)
    from experiments.forecast import load_task, trained_losses

    args.losses = trained_losses(args.losses, args.init)  # under --init mse, mse is always a loss of the study

    build_losses(args.losses, args.gammas, args.dilate_alpha, args.aligner)  # every loss builds, before anything
    tasks = []
    for dataset in args.datasets:
        try:
            tasks.append(load_task(_as_forecast_args(args, dataset)).name)
        except CLIError as err:
            fail("--datasets" if err.flag == "--dataset" else err.flag, err.message)
    if len(set(tasks)) != len(tasks):
        fail("--datasets", f"two datasets have the same name {tasks}")
    study_dir = Path(args.out_dir) / "study" / args.exp_name
    config = {k: v for k, v in dataclasses.asdict(args).items() if k in _CELL_FIELDS}
    if (study_dir / "study.json").exists():
        from dtwrl.runs import read_json, to_jsonable

        before = read_json(study_dir / "study.json")
        changed = [k for k in _CELL_FIELDS if before.get(k) != to_jsonable(config[k])]
        if changed:
            fail(
                "--exp-name",
                f"{study_dir} holds a study with other settings ({', '.join(changed)}); "
                "pick another --exp-name or the same settings",
            )
    study_dir = checked_run_dir("study", args.exp_name, args.out_dir)
    from dtwrl.runs import write_json

    write_json(study_dir / "study.json", config)
    _write_hparams_config(study_dir / "tb", args, tasks)
    (study_dir / "cells").mkdir(exist_ok=True)
    _clear_dead_locks(study_dir / "cells")
    index, count = parse_shard(args.shard)
    grid = [(d, loss, s) for d in args.datasets for loss in args.losses for s in args.seeds]
    mine = [cell for i, cell in enumerate(grid) if i % count == index]
    names = dict(zip(args.datasets, tasks))
    todo = [c for c in mine if not (study_dir / "cells" / f"{cell_name(names[c[0]], c[1], c[2])}.json").exists()]
    print(
        f"{study_dir}: {len(grid)} cells, shard {args.shard}: {len(mine)}, {len(mine) - len(todo)} already done, "
        f"{len(todo)} to run on {args.workers} worker(s)",
        flush=True,
    )
    start = time.perf_counter()
    jobs = [(args, d, loss, s, str(study_dir)) for d, loss, s in todo]
    if args.workers == 1:
        results = map(_run_in_worker, jobs)
        pool = None
    else:
        import multiprocessing

        pool = ProcessPoolExecutor(
            args.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_setup, initargs=(1,)
        )
        results = pool.map(_run_in_worker, jobs)
    try:
        for done, (dataset, loss, seed, row, seconds) in enumerate(results, start=1):
            state = (
                "claimed elsewhere"
                if row is None
                else (f"dtw={row['dtw']:.4g} mse={row['mse']:.4g} ({row['epochs']} epochs)")
            )
            if row is not None and row["worse_than_start"]:
                state += f"; its best validation DTW is above its MSE start's ({row['val_dtw_start']:.4g})" + (
                    ", kept the MSE weights" if row["kept_start"] else ""
                )
            print(
                f"  [{done}/{len(jobs)}] {names[dataset]} {loss} seed {seed}: {state}, {seconds:.0f}s "
                f"(elapsed {time.perf_counter() - start:.0f}s)",
                flush=True,
            )
    finally:
        if pool is not None:
            pool.shutdown()
    command = "python experiments/study.py " + " ".join(sys.argv[1:] if argv is None else argv)
    finished = len(list((study_dir / "cells").glob("*.json")))
    summary = write_reports(study_dir, args, command)
    print(
        f"\n{summary.read_text()}\n{finished}/{len(grid)} cells done in {study_dir} "
        f"({time.perf_counter() - start:.0f}s this run)\nwatch: {tensorboard_command(study_dir / 'tb')}"
    )
    return study_dir


if __name__ == "__main__":
    main()
