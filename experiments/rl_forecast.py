"""Train forecasters on the paths of an RL alignment policy (greedy, sampled) against DTW, FastDTW, soft-DTW and MSE.

The loop lives in ``agents.forecasting.rl_forecasting``: between the model's training
rounds, PPO fine-tunes the policy on the model's own forecasts. Every method
(``--methods``) trains the same model from the same weights for the same steps:

- ``greedy_path``: the cost along the policy's greedy paths (minus its return);
- ``sampled_path``: the cost of ``--samples`` paths sampled from the policy at
  ``--temperature`` (annealed to ``--final-temperature``), reduced by their mean
  (the policy's expected path cost, Monte-Carlo) or, with ``--path-reduction
  softmin``, their soft minimum at ``--path-gamma``; ``--include-greedy`` adds
  the greedy path to the samples;
- ``dtw_path``, ``fastdtw_path``: the cost along the exact DTW and FastDTW paths;
- ``soft_dtw``: one model per ``--gammas`` value, the one of lowest exact DTW on
  the validation split kept; ``mse``.

The policy starts as ``--aligner``: the general policy shipped with the package
(``pretrained``, ``agents.PolicyAligner.pretrained()``), a run folder of
``experiments/train_aligner.py``, or ``train``: one trained here first on
``--aligner-env`` (behavioural-cloning warm start, then PPO). Run::

    .venv/bin/python experiments/rl_forecast.py --dataset GunPoint --seeds 0 1 2 3 4
    .venv/bin/tensorboard --logdir results/rl_forecast

Writes ``results/rl_forecast/<run-name>/``: ``config.json``, ``metrics.csv`` (one
row per trained model; ``selected`` marks the compared ones), ``table.md``
(mean ± std over seeds, best in bold, and the headline ratios),
``figures/forecasts.png``, ``checkpoints/``, ``aligner/`` (the pretrained and
fine-tuned policies) and ``tb/<trial>/`` (see ``agents.forecasting.rl_forecasting.Comparison``:
``losses/<method>/{train,val}``, ``eval/test_*``, ``charts/aligner_*``, the config
as text, and HParams with the test metrics).
"""

import experiments  # noqa: F401  (first: silences TensorFlow and gym start-up noise)

# isort: split
import dataclasses
import sys
from pathlib import Path

import numpy as np

from agents.forecasting.rl_forecasting import (
    METHODS,
    METRICS,
    POLICY_METHODS,
    ComparisonConfig,
    ConfigError,
    check_methods,
    split_validation,
)
from experiments.cli import blame, cli_main, fail, field, flag_of, parse_args, require_at_least, require_fraction
from experiments.forecast_flags import ForecastTaskArgs, SingleRunArgs
from experiments.run_folders import checked_run_dir, run_name, tensorboard_command, write_config


@dataclasses.dataclass
class Args(ForecastTaskArgs, SingleRunArgs):
    dataset: str = field("GunPoint", "GunPoint, synthetic_steps, a UCR/UEA folder, or its *_TRAIN.ts/.tsv file")
    methods: tuple[str, ...] = field(METHODS, f"methods to compare, among {', '.join(METHODS)}")
    seeds: tuple[int, ...] = field((0,), "seeds (>= 0), one comparison per seed")
    gammas: tuple[float, ...] = field((1.0, 0.1), "soft-DTW gammas tried; the one of lowest validation DTW is kept")
    samples: int = field(8, "paths sampled per pair by sampled_path")
    temperature: float = field(1.0, "sampling temperature of sampled_path (1: the policy's own distribution)")
    final_temperature: float | None = field(
        None, "temperature of the last round, reached geometrically from --temperature (none: constant)"
    )
    path_reduction: str = field(
        "mean",
        "how sampled_path reduces a pair's sampled paths: mean (their mean cost), softmin (their soft minimum) or "
        "lattice (soft-DTW over every path in the row hull of their cells); the last two need --path-gamma",
    )
    path_gamma: float | None = field(
        None, "smoothing of --path-reduction softmin/lattice, on the scale of the path costs (as soft-DTW's gamma)"
    )
    lattice_radius: int = field(
        0, "--path-reduction lattice only: widen the lattice by this many cells around every sampled path cell"
    )
    lattice_every: int = field(
        1,
        "--path-reduction lattice only: a training pair's sampled paths serve its loss for this many model steps "
        "before it is sampled again (1: every step; steps per epoch: ceil(training series / --batch-size))",
    )
    include_greedy: bool = field(False, "add the policy's greedy path to every pair's sampled paths")
    init: str = field(
        "mse",
        "start of every method but mse. Default mse: the MSE model of the seed is trained first (also when "
        "--methods does not name it) and the others start from its weights; random: the seed's random weights",
    )
    rounds: int = field(30, "rounds of (aligner fine-tuning, model training)")
    model_steps: int = field(20, "model optimizer steps per round (every method)")
    batch_size: int = field(32, "series per model step")
    learning_rate: float = field(1e-3, "Adam step size of the model")
    validation_split: float = field(0.2, "share of the train split held out (losses/<method>/val, gamma choice)")
    pairs_per_round: int = field(64, "training inputs whose forecasts become the aligner's pairs each round")
    aligner: str = field(
        "pretrained",
        "policy of the policy methods: pretrained (shipped with the package), an aligner "
        "run folder (train_aligner.py), or train (train one here on --aligner-env)",
    )
    aligner_env: str = field("dtwrl/SyntheticWarp-v0", "env the aligner is trained on with --aligner train")
    pretrain_env_steps: int = field(65_536, "PPO env steps of the pretraining (after the BC warm start)")
    bc_env_steps: int = field(100_000, "behavioural-cloning states of the pretraining warm start")
    aligner_iterations: int = field(2, "PPO iterations per round on the model's forecasts (0: frozen policy)")
    aligner_num_envs: int = field(32, "alignments stepped together by PPO (pretraining and fine-tuning)")
    aligner_collect_steps: int = field(64, "steps per env per PPO iteration (pretraining and fine-tuning)")
    critic_warmup_iterations: int = field(2, "first fine-tuning iterations that train only the critic")
    input_fraction: float = field(0.6, "share of each series used as input")
    exp_name: str = field("rl_forecast", "experiment name, the folder under out-dir")


def comparison_config(args):
    """The library's :class:`~agents.forecasting.rl_forecasting.ComparisonConfig`; a bad field is blamed on its flag."""
    names = {f.name for f in dataclasses.fields(ComparisonConfig)}
    try:
        return ComparisonConfig(**{name: getattr(args, name) for name in names})
    except ConfigError as error:
        fail(flag_of(error.field), error.message)


def check_args(args):
    """Refuse every bad flag before anything is loaded, trained or written."""
    comparison_config(args)
    try:
        check_methods(args.methods, args.gammas)
    except ConfigError as error:
        fail(flag_of(error.field), error.message)
    if not args.seeds or len(set(args.seeds)) != len(args.seeds) or min(args.seeds) < 0:
        fail("--seeds", f"must be distinct ints >= 0, at least one; got {list(args.seeds)}")
    require_at_least(args, 1, "pretrain_env_steps", "bc_env_steps", "num_plot", "synthetic_series")
    require_at_least(args, 0, "max_train", "max_test")
    require_fraction(args, "validation_split", "input_fraction")
    # every flag is checked, also those the chosen --methods or --aligner leave unused
    import gymnasium

    import envs  # noqa: F401  (registers the built-in ids)

    if args.aligner_env not in gymnasium.registry:
        fail("--aligner-env", f"{args.aligner_env!r} is not a registered env id (see envs.register_env)")
    if args.aligner not in ("pretrained", "train"):
        folder = Path(args.aligner)
        if not (folder / "config.json").is_file() or not (folder / "policy" / "saved_model.pb").is_file():
            fail(
                "--aligner",
                f"{args.aligner!r} is neither pretrained, train nor an aligner run folder (config.json and policy/)",
            )
        if args.aligner_iterations and not (folder / "checkpoints").is_dir():
            fail("--aligner", f"{args.aligner!r} has no checkpoints/ to fine-tune from (or --aligner-iterations 0)")


def load_data(args):
    """The task's name and ``(train, val, test)`` arrays, the validation part split off ``train``.

    ``--dataset`` goes to :func:`dtwrl.datasets.load_forecast_task`; every error blames its flag.
    """
    from dtwrl.datasets import load_forecast_task

    try:
        task = load_forecast_task(args.dataset, input_fraction=args.input_fraction, n_series=args.synthetic_series)
        train, test = (
            split.head(count).as_arrays() for split, count in ((task.train, args.max_train), (task.test, args.max_test))
        )
    except (ValueError, TypeError, FileNotFoundError) as error:
        fail("--dataset", str(error).strip("'\""))
    with blame("--validation-split"):
        train, val = split_validation(train, args.validation_split, args.seeds[0])
    return task.name, (train, val, test)


TARGET_RATIO = 1.05
"""Issue 9's target: sampled_path's mean test DTW at most this times soft-DTW's, and below dtw_path's."""


def target_lines(dtw):
    """The issue's target, checked on the mean test DTW per method (``{method: mean}``); [] if a method is missing.

    >>> target_lines({"sampled_path": 0.5, "soft_dtw": 0.4, "dtw_path": 0.6})[0]
    '**Target not met**: sampled_path / soft_dtw = 1.250 (target <= 1.05); sampled_path / dtw_path = 0.833 (< 1: met).'
    """
    if not all(method in dtw for method in ("sampled_path", "soft_dtw", "dtw_path")):
        return []
    soft, exact = dtw["sampled_path"] / dtw["soft_dtw"], dtw["sampled_path"] / dtw["dtw_path"]
    met = soft <= TARGET_RATIO and exact < 1.0
    return [
        f"**Target {'met' if met else 'not met'}**: sampled_path / soft_dtw = {soft:.3f} (target <= {TARGET_RATIO:g}); "
        f"sampled_path / dtw_path = {exact:.3f} (< 1: {'met' if exact < 1.0 else 'not met'})."
    ]


def report(rows, args, name, command):
    """The markdown table of the compared (selected) rows, the issue's target and the headline ratios."""
    from experiments.reporting import summarize, summary_table

    selected = [row for row in rows if row["selected"]]
    columns = METRICS + ("epoch_seconds", "epoch_seconds_mean")
    summary = summarize(selected, "method", columns)
    table = summary_table(
        summary,
        "method",
        columns,
        labels={
            "mse": "MSE",
            "dtw": "DTW",
            "soft_dtw": f"soft-DTW (γ={args.eval_gamma:g})",
            "tdi": "TDI",
            "epoch_seconds": "s / epoch",
            "epoch_seconds_mean": "s / epoch (mean)",
        },
    )
    dtw = {entry["method"]: entry["dtw"][0] for entry in summary}
    lines = [*target_lines(dtw), "", table, ""]
    if "sampled_path" in dtw:
        lines.append(f"- sampled_path: {comparison_config(args).sampling_label()}")
    for method, other in (
        ("sampled_path", "soft_dtw"),
        ("sampled_path", "dtw_path"),
        ("greedy_path", "dtw_path"),
        ("greedy_path", "soft_dtw"),
    ):
        if method in dtw and other in dtw:
            lines.append(f"- mean test DTW, {method} / {other}: {dtw[method] / dtw[other]:.3f}")
    if "soft_dtw" in dtw:
        chosen = {row["seed"]: row["gamma"] for row in selected if row["method"] == "soft_dtw"}
        lines.append(f"- soft-DTW γ kept per seed (lowest validation DTW among {list(args.gammas)}): {chosen}")
    for method in POLICY_METHODS:
        ratios = [row["policy_ratio_on_test"] for row in selected if row["method"] == method]
        if ratios:
            lines.append(
                f"- {method}: policy cost / exact DTW on the final test forecasts, per seed: "
                + ", ".join(f"{r:.4f}" for r in ratios)
            )
    coverage = [row["lattice_coverage_on_test"] for row in selected if row["method"] == "sampled_path"]
    if coverage:
        lines.append(
            "- sampled_path: share of the grid's cells on the lattice of a pair's sampled paths (the row hull of "
            "their cells, widened by --lattice-radius: the cells the loss runs on; final test forecasts), "
            "per seed: " + ", ".join(f"{c:.3f}" for c in coverage)
        )
    for entry in summary:
        method = entry["method"]
        members = [row for row in selected if row["method"] == method]
        lines.append(
            f"- {method}, seeds {[row['seed'] for row in members]}: test DTW "
            + ", ".join(f"{row['dtw']:.4f}" for row in members)
            + "; validation DTW "
            + ", ".join(f"{row['val_dtw']:.4f}" for row in members)
        )
    return (
        f"## {name}, {args.model} forecaster: RL-policy path losses against the other losses "
        f"({args.rounds} rounds x {args.model_steps} steps), mean ± std over seeds {list(args.seeds)}\n\n"
        f"Lower is better; best mean in bold. Produced by `{command}`.\n\n" + "\n".join(lines) + "\n"
    )


@cli_main
def main(argv=None):
    args = parse_args(Args, argv, description=__doc__.split("\n\n")[0], validate=check_args)
    config = comparison_config(args)
    name, (train, val, test) = load_data(args)
    run_dir = checked_run_dir(
        args.exp_name, run_name(name, f"{args.exp_name}-{args.model}", "-".join(map(str, args.seeds))), args.out_dir
    )
    from tqdm.auto import tqdm

    from agents.forecasting.rl_forecasting import Comparison, pretrain_aligner
    from dtwrl.forecasting.comparison import training_order
    from dtwrl.forecasting.training import predict
    from dtwrl.runs import atomic_write_text, write_csv
    from experiments.reporting import plot_forecasts

    write_config(run_dir, args)
    print(
        f"{run_dir.name}: train {train[0].shape} -> {train[1].shape}, validation {len(val[0])}, "
        f"test {test[0].shape} -> {test[1].shape}",
        flush=True,
    )
    aligner = args.aligner if any(m in POLICY_METHODS for m in args.methods) else None
    if aligner == "train":
        print(
            f"pretraining an aligner on {args.aligner_env} (BC {args.bc_env_steps:,} states, "
            f"PPO {args.pretrain_env_steps:,} env steps) ...",
            flush=True,
        )
        aligner, metrics = pretrain_aligner(
            run_dir / "aligner",
            args.aligner_env,
            args.pretrain_env_steps,
            args.bc_env_steps,
            args.seeds[0],
            num_envs=args.aligner_num_envs,
            collect_steps=args.aligner_collect_steps,
        )
        control = metrics.get("heuristic_ratio_vs_dtw")  # absent from runs finished before the control was logged
        control = "" if control is None else f", HeuristicAligner, no network: {control:.4f}"
        print(
            f"  pretrained aligner: cost ratio vs exact DTW {metrics['cost_ratio_vs_dtw']:.4f} "
            f"(FastDTW r=1: {metrics['fastdtw_ratio_vs_dtw']:.4f}{control})",
            flush=True,
        )

    comparison = Comparison((train, val, test), config, run_dir, aligner, hparams={"dataset": name})
    methods = training_order(args.methods, args.init)
    trials = len(args.seeds) * (len(methods) + (len(args.gammas) - 1) * ("soft_dtw" in methods))
    bar = tqdm(total=trials * args.rounds, desc="rounds", disable=not args.progress, dynamic_ncols=True)

    def on_round(method, round_index, scores):
        bar.set_postfix(method=method, dtw=f"{scores['dtw']:.4g}")
        bar.update(1)

    def on_trial(row, model):
        gamma = f" γ={row['gamma']:g}" if row["gamma"] != "" else ""
        tqdm.write(
            f"  {row['method'] + gamma:<16} seed {row['seed']}: "
            + "  ".join(f"{m}={row[m]:.4g}" for m in METRICS)
            + f"  val_dtw={row['val_dtw']:.4g}  ({row['epoch_seconds'] * 1e3:.0f} ms/epoch)"
        )

    rows, models = comparison.run_all(methods, args.seeds, args.gammas, on_round, on_trial)
    bar.close()
    write_csv(run_dir / "metrics.csv", rows)
    command = "python experiments/rl_forecast.py " + " ".join(sys.argv[1:] if argv is None else argv)
    text = report(rows, args, name, command)
    bad = [f"{row['method']} seed {row['seed']}" for row in rows if not all(np.isfinite(row[m]) for m in METRICS)]
    if bad:
        text += f"\nNot finite: a test metric of {', '.join(bad)}.\n"
    atomic_write_text(run_dir / "table.md", text)
    shown = {method: predict(model, test[0][: args.num_plot]) for method, model in models.items()}
    plot_forecasts(
        test[0],
        test[1],
        shown,
        run_dir / "figures" / "forecasts.png",
        num_series=args.num_plot,
        title=f"{name}: {args.model} forecasts (seed {args.seeds[0]})",
    )
    print(f"\n{text}\nwrote {run_dir}\nwatch: {tensorboard_command(run_dir / 'tb')}")
    if bad:
        raise SystemExit(f"error: a test metric is not finite ({', '.join(bad)}); see {run_dir / 'metrics.csv'}")
    return run_dir


if __name__ == "__main__":
    main()
