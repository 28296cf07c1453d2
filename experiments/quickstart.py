"""dtwrl in a few minutes: an RL aligner, its cost against FastDTW and exact DTW, and forecasters trained by it.

On the vendored GunPoint data (no download), on 2 CPU cores in a few minutes:

1. trains a small warping-path policy (behavioural-cloning warm start, then PPO)
   with ``agents.train_aligner``;
2. aligns held-out GunPoint test pairs with it, with FastDTW (radius 1) and with
   exact DTW, and prints their cost ratios against exact DTW;
3. trains the same MLP forecaster (first 60% of each series in, last 40% out)
   with each of ``--methods`` (``agents.forecasting.rl_forecasting``): MSE first, then,
   starting from the MSE model (``--init mse``, the default; ``--init random``
   starts each from the seed's random weights), the cost along the policy's
   greedy paths, soft-DTW over the lattice of paths sampled from the policy at
   the setting validated in ``results/tables/rl_forecast_gunpoint_mlp.md``
   (16 samples at temperature 8, the lattice widened by 3 cells, γ=0.1; the
   policy fine-tuned on the model's own forecasts between training rounds) and
   soft-DTW with γ chosen on validation DTW, and prints one comparison table on
   the test split.

Run::

    .venv/bin/python experiments/quickstart.py          # or: make demo
    .venv/bin/tensorboard --logdir results/quickstart

Writes ``results/quickstart/<run-name>/``: ``config.json``, ``metrics.csv``,
``table.md``, ``aligner/`` (the pretrained policy and one fine-tuned policy per
policy method, each with ``figures/``), ``tb/`` (one run per forecaster, with
HParams and the config as text) and ``figures/`` (``aligner_comparison.png``,
``forecasts.png``).
"""

import experiments  # noqa: F401  (first: silences TensorFlow and gym start-up noise)

# isort: split
import dataclasses
import math
import os
import time
import types

from agents.forecasting.rl_forecasting import (
    METHODS,
    Comparison,
    ComparisonConfig,
    ConfigError,
    check_methods,
    split_validation,
)
from experiments.cli import cli_main, fail, field, flag_of, parse_args, require_at_least
from experiments.run_folders import checked_run_dir, run_name, tensorboard_command, write_config

DEMO_METHODS = ("mse", "greedy_path", "sampled_path", "soft_dtw")


@dataclasses.dataclass
class Args:
    seed: int = field(0, "seed (>= 0) of the aligner, the forecasters, the batch order and the sampled paths")
    aligner_env: str = field("dtwrl/GunPoint-v0", "registered env the aligner is trained on")
    bc_env_steps: int = field(1_000_000, "behavioural-cloning states of the aligner's warm start")
    ppo_env_steps: int = field(65_536, "PPO env steps of the aligner after the warm start")
    num_envs: int = field(32, "alignments PPO steps together (pretraining and fine-tuning)")
    compare_pairs: int = field(48, "held-out GunPoint test pairs aligned by the policy, FastDTW and exact DTW")
    methods: tuple[str, ...] = field(DEMO_METHODS, f"forecaster losses to compare, among {', '.join(METHODS)}")
    rounds: int = field(12, "rounds of (aligner fine-tuning on forecasts, model training)")
    model_steps: int = field(15, "model optimizer steps per round, for every loss")
    aligner_iterations: int = field(1, "PPO iterations per round on the model's forecasts")
    hidden_units: int = field(128, "hidden width of the MLP forecaster")
    gamma: float = field(1.0, "gamma of the soft-DTW test metric")
    gammas: tuple[float, ...] = field((1.0, 0.1), "soft-DTW loss candidates; the one of lowest validation DTW is kept")
    init: str = field(
        "mse",
        "initial weights of every method but mse. Default mse: the MSE model of the seed is trained first and "
        "the others start from its weights; random: the seed's random weights",
    )
    samples: int = field(16, "paths sampled per pair by sampled_path")
    temperature: float = field(8.0, "sampling temperature of sampled_path")
    path_reduction: str = field("lattice", "how sampled_path reduces a pair's paths: mean, softmin or lattice")
    path_gamma: float = field(0.1, "smoothing of the softmin and lattice reductions")
    lattice_radius: int = field(3, "lattice only: widen the sampled paths' lattice by this many cells")
    max_train: int = field(0, "use at most this many train series (0: all 50, of which 20% validate)")
    max_test: int = field(0, "score at most this many test series (0: all 150)")
    out_dir: str = field("results", "root folder of the run outputs")
    progress: bool = field(True, "show a tqdm bar over the training rounds (--no-progress to hide)")


def comparison_config(args):
    """The forecasters' :class:`~agents.forecasting.rl_forecasting.ComparisonConfig`; a bad value blames its flag."""
    flags = {"eval_gamma": "gamma", "aligner_num_envs": "num_envs"}
    try:
        return ComparisonConfig(
            model="mlp",
            hidden_units=args.hidden_units,
            rounds=args.rounds,
            model_steps=args.model_steps,
            eval_gamma=args.gamma,
            pairs_per_round=32,
            aligner_iterations=args.aligner_iterations,
            aligner_num_envs=args.num_envs,
            samples=args.samples,
            temperature=args.temperature,
            path_reduction=args.path_reduction,
            path_gamma=None if args.path_reduction == "mean" else args.path_gamma,
            lattice_radius=args.lattice_radius if args.path_reduction == "lattice" else 0,
            init=args.init,
        )
    except ConfigError as error:
        fail(flag_of(flags.get(error.field, error.field)), error.message)


def check_args(args):
    """Refuse every bad flag before anything is trained or written."""
    comparison_config(args)
    try:
        check_methods(args.methods, args.gammas)
    except ConfigError as error:
        fail("--methods" if error.field == "methods" else "--gammas", error.message)
    if args.seed < 0:
        fail("--seed", f"must be >= 0; got {args.seed}")
    require_at_least(args, 1, "bc_env_steps", "ppo_env_steps", "compare_pairs")
    require_at_least(args, 0, "max_train", "max_test")
    if 0 < args.max_train < 2:
        fail("--max-train", f"must be 0 (all) or >= 2 (one series validates); got {args.max_train}")
    import gymnasium

    import envs  # noqa: F401  (registers the built-in ids)

    if args.aligner_env not in gymnasium.registry:
        fail("--aligner-env", f"{args.aligner_env!r} is not a registered env id (see envs.register_env)")


def compare_aligners(policy_dir, num_pairs, seed, figure_path):
    """Policy vs FastDTW (r=1) vs exact DTW on GunPoint test pairs; returns the markdown table."""
    import dtwrl
    from agents import PolicyAligner
    from agents.evaluation import compare, comparison_figure, comparison_table, make_eval_set
    from dtwrl.datasets import gunpoint_pairs

    aligner = PolicyAligner(policy_dir)
    settings = types.SimpleNamespace(pairs=gunpoint_pairs("test"), core_kwargs=aligner.core_kwargs)
    eval_set = make_eval_set(settings, num_pairs, seed)
    metric = aligner.core_kwargs.get("metric", "sqeuclidean")
    band = aligner.core_kwargs.get("band")
    rows, paths = compare(
        eval_set,
        {
            "RL policy": aligner.align_pairs,
            "FastDTW r=1": lambda pairs: [dtwrl.fastdtw_path(x, y, radius=1, metric=metric)[1] for x, y in pairs],
            "exact DTW": lambda pairs: [dtwrl.dtw_path(x, y, metric=metric, band=band)[1] for x, y in pairs],
        },
        repeats=1,
    )
    comparison_figure(rows, eval_set, paths, figure_path, title="GunPoint test pairs: cost / exact DTW")
    return comparison_table(rows)


def load_gunpoint(max_train, max_test, seed):
    """GunPoint's ``(train, validation, test)`` forecasting splits (60% in, 40% out), 20% of train validating."""
    from dtwrl.datasets import load_forecasting_task

    train, test = load_forecasting_task("GunPoint")
    keep = lambda pair, n: tuple(a[:n] for a in pair) if n else pair  # noqa: E731
    train, val = split_validation(keep(train, max_train), 0.2, seed)
    return train, val, keep(test, max_test)


def _label(row, config):
    """A table row's name: the method, with soft-DTW's chosen γ and the sampling setting of sampled_path."""
    if row["method"] == "soft_dtw":
        return f"soft_dtw (γ={row['gamma']:g} on validation)"
    if row["method"] == "sampled_path":
        return f"sampled_path ({config.sampling_label()})"
    return row["method"]


@cli_main
def main(argv=None):
    args = parse_args(Args, argv, description=__doc__.split("\n\n")[0], validate=check_args)
    config = comparison_config(args)
    train, val, test = load_gunpoint(args.max_train, args.max_test, args.seed)
    run_dir = checked_run_dir("quickstart", run_name("GunPoint", "quickstart", args.seed), args.out_dir)
    from tqdm.auto import tqdm

    from agents.forecasting.rl_forecasting import POLICY_METHODS, pretrain_aligner
    from dtwrl.forecasting.comparison import training_order
    from dtwrl.forecasting.training import predict
    from dtwrl.runs import atomic_write_text, write_csv
    from experiments.reporting import plot_forecasts, summarize, summary_table

    start = time.perf_counter()
    write_config(run_dir, args)
    print(f"run folder: {run_dir}\n")

    print(
        f"[1/3] training a warping-path policy on {args.aligner_env}: behavioural cloning of exact DTW "
        f"({args.bc_env_steps:,} states), then PPO ({args.ppo_env_steps:,} env steps) ...",
        flush=True,
    )
    with tqdm(
        total=args.ppo_env_steps,
        desc="      PPO",
        unit="step",
        unit_scale=True,
        leave=False,
        disable=not args.progress,
        dynamic_ncols=True,
    ) as bar:
        policy_dir, _ = pretrain_aligner(
            run_dir / "aligner",
            args.aligner_env,
            args.ppo_env_steps,
            args.bc_env_steps,
            args.seed,
            num_envs=args.num_envs,
            callback=lambda trainer, stats: bar.update(stats["env_steps"] - bar.n),
        )
    print(f"      done in {time.perf_counter() - start:.0f}s\n", flush=True)

    print(f"[2/3] aligning {args.compare_pairs} held-out GunPoint test pairs (cost / exact DTW cost, lower is better):")
    print(
        compare_aligners(
            policy_dir, args.compare_pairs, args.seed + 1000, run_dir / "figures" / "aligner_comparison.png"
        )
    )
    print(flush=True)

    methods = training_order(args.methods, args.init)
    print(
        f"[3/3] training an MLP forecaster on GunPoint ({len(train[0])} train series, {len(val[0])} validation, "
        f"60% in / 40% out) for {args.rounds} x {args.model_steps} steps with each loss"
        + (", every loss but MSE from the MSE model" if args.init == "mse" else "")
        + " ...",
        flush=True,
    )
    comparison = Comparison(
        (train, val, test),
        config,
        run_dir,
        policy_dir if any(m in POLICY_METHODS for m in methods) else None,
        hparams={"dataset": "GunPoint", "init": args.init},
    )

    def on_trial(row, model):
        gamma = f" (γ={row['gamma']:g})" if row["gamma"] != "" else ""
        tqdm.write(f"      {row['method'] + gamma:<22} test DTW {row['dtw']:.4g}, validation DTW {row['val_dtw']:.4g}")

    with tqdm(
        total=(len(methods) + ("soft_dtw" in methods) * (len(args.gammas) - 1)) * args.rounds,
        desc="      rounds",
        unit="round",
        disable=not args.progress,
        leave=False,
        dynamic_ncols=True,
    ) as bar:
        rows, models = comparison.run_all(
            methods,
            [args.seed],
            args.gammas,
            on_round=lambda method, r, scores: bar.update(1),
            on_trial=on_trial,
        )
    write_csv(run_dir / "metrics.csv", rows)
    columns = ("mse", "dtw", "soft_dtw", "tdi", "epoch_seconds")
    shown_rows = [dict(r, method=_label(r, config)) for r in rows if r["selected"]]
    table = summary_table(
        summarize(shown_rows, "method", columns),
        "method",
        columns,
        labels={
            "mse": "test MSE",
            "dtw": "test DTW",
            "soft_dtw": f"test soft-DTW (γ={args.gamma:g})",
            "tdi": "test TDI",
            "epoch_seconds": "s / epoch",
        },
    )
    atomic_write_text(run_dir / "table.md", table + "\n")
    shown = {method: predict(model, test[0][:3]) for method, model in models.items()}
    plot_forecasts(
        test[0],
        test[1],
        shown,
        run_dir / "figures" / "forecasts.png",
        num_series=3,
        title="GunPoint: MLP forecasts by training loss",
    )
    print(f"\nForecasts on the GunPoint test split (lower is better, best in bold):\n{table}\n")
    if any(not math.isfinite(row[m]) for row in rows for m in ("mse", "dtw", "soft_dtw", "tdi")):
        print("note: a test metric is not finite (see metrics.csv)")
    print(f"done in {time.perf_counter() - start:.0f}s; figures in {run_dir / 'figures'}")
    print("watch the training curves:")
    print(f"  {tensorboard_command(os.path.join(args.out_dir, 'quickstart'))}")
    return run_dir


if __name__ == "__main__":
    main()
