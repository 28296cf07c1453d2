"""dtwrl in a few minutes: an RL aligner, its cost against FastDTW and exact DTW, and a forecaster trained by it.

On the vendored GunPoint data (no download), on 2 CPU cores in about 5 minutes:

1. trains a small warping-path policy (behavioural-cloning warm start, then PPO)
   with ``agents.train_aligner``;
2. aligns held-out GunPoint test pairs with it, with FastDTW (radius 1) and with
   exact DTW, and prints their cost ratios against exact DTW;
3. trains the same MLP forecaster (first 60% of each series in, last 40% out)
   with MSE, with soft-DTW and with the policy-path loss (the cost along the
   policy's paths, the policy fine-tuned on the model's own forecasts between
   training rounds), and prints one comparison table on the test split.

Run::

    python experiments/quickstart.py          # or: make demo
    tensorboard --logdir results/quickstart

Writes ``results/quickstart/<run-name>/``: ``config.json``, ``metrics.csv``,
``table.md``, ``aligner/`` (the policy run folders), ``tb/`` and ``figures/``
(``aligner_comparison.png``, ``forecasts.png``).
"""
import dataclasses
import os
import time
import types

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from experiments import rl_forecast
from experiments.common import (
    field, make_run_dir, parse_args, run_name, tensorboard_command, write_config)
from experiments.forecast import check_positive, load_task


@dataclasses.dataclass
class Args:
    seed: int = field(0, "seed of the aligner, the forecasters and the batch order")
    aligner_env: str = field("dtwrl/GunPoint-v0", "registered env the aligner is trained on")
    bc_env_steps: int = field(1_000_000, "behavioural-cloning states of the aligner's warm start")
    ppo_env_steps: int = field(65_536, "PPO env steps of the aligner after the warm start")
    num_envs: int = field(32, "alignments PPO steps together (pretraining and fine-tuning)")
    compare_pairs: int = field(48, "held-out GunPoint test pairs aligned by the policy, FastDTW and exact DTW")
    rounds: int = field(12, "rounds of (aligner fine-tuning on forecasts, model training)")
    model_steps: int = field(15, "model optimizer steps per round, for every loss")
    aligner_iterations: int = field(1, "PPO iterations per round on the model's forecasts")
    hidden_units: int = field(128, "hidden width of the MLP forecaster")
    gamma: float = field(1.0, "soft-DTW gamma (loss and test metric)")
    max_train: int = field(0, "use at most this many train series (0: all 50)")
    max_test: int = field(0, "score at most this many test series (0: all 150)")
    out_dir: str = field("results", "root folder of the run outputs")
    progress: bool = field(True, "show a tqdm bar over the training rounds (--no-progress to hide)")


def compare_aligners(policy_dir, num_pairs, seed, figure_path):
    """Policy vs FastDTW (r=1) vs exact DTW on GunPoint test pairs; returns the markdown table."""
    import dtwrl
    from agents import PolicyAligner
    from agents.evaluation import compare, comparison_figure, make_eval_set, comparison_table
    from dtwrl.datasets import gunpoint_pairs

    aligner = PolicyAligner(policy_dir)
    settings = types.SimpleNamespace(pairs=gunpoint_pairs("test"), core_kwargs=aligner.core_kwargs)
    eval_set = make_eval_set(settings, num_pairs, seed)
    metric = aligner.core_kwargs.get("metric", "sqeuclidean")
    band = aligner.core_kwargs.get("band")
    rows, paths = compare(eval_set, {
        "RL policy": aligner.align_pairs,
        "FastDTW r=1": lambda pairs: [dtwrl.fastdtw_path(x, y, radius=1, metric=metric)[1] for x, y in pairs],
        "exact DTW": lambda pairs: [dtwrl.dtw_path(x, y, metric=metric, band=band)[1] for x, y in pairs],
    }, repeats=1)
    comparison_figure(rows, eval_set, paths, figure_path, title="GunPoint test pairs: cost / exact DTW")
    return comparison_table(rows)


def main(argv=None):
    args = parse_args(Args, argv, description=__doc__.split("\n\n")[0])
    try:
        check_positive(args, ("bc_env_steps", "ppo_env_steps", "num_envs", "compare_pairs", "rounds", "model_steps",
                              "hidden_units"), ("aligner_iterations", "max_train", "max_test"))
        if not args.gamma > 0:
            raise ValueError(f"--gamma must be > 0, got {args.gamma}")
        train, test = load_task("GunPoint", max_train=args.max_train, max_test=args.max_test)
        train, val = rl_forecast.split_validation(train, 0.2, args.seed)
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None
    from tqdm.auto import tqdm

    from dtwrl.forecasting.training import predict
    from dtwrl.runs import atomic_write_text, write_csv
    from experiments.reporting import plot_forecasts, summarize, summary_table

    start = time.perf_counter()
    run_dir = make_run_dir("quickstart", run_name("GunPoint", "quickstart", args.seed), root=args.out_dir)
    write_config(run_dir, args)
    print(f"run folder: {run_dir}\n")

    print(f"[1/3] training a warping-path policy on {args.aligner_env}: behavioural cloning of exact DTW "
          f"({args.bc_env_steps:,} states), then PPO ({args.ppo_env_steps:,} env steps) ...", flush=True)
    policy_dir, _ = rl_forecast.pretrain_aligner(run_dir / "aligner", args.aligner_env, args.ppo_env_steps,
                                                 args.bc_env_steps, args.seed, num_envs=args.num_envs)
    print(f"      done in {time.perf_counter() - start:.0f}s\n", flush=True)

    print(f"[2/3] aligning {args.compare_pairs} held-out GunPoint test pairs (cost / exact DTW cost, lower is better):")
    print(compare_aligners(policy_dir, args.compare_pairs, args.seed + 1000,
                           run_dir / "figures" / "aligner_comparison.png"))
    print(flush=True)

    print(f"[3/3] training an MLP forecaster on GunPoint ({len(train[0])} train series, 60% in / 40% out) for "
          f"{args.rounds} x {args.model_steps} steps with each loss ...", flush=True)
    settings = rl_forecast.Args(model="mlp", hidden_units=args.hidden_units, gamma=args.gamma, rounds=args.rounds,
                                model_steps=args.model_steps, aligner_iterations=args.aligner_iterations,
                                aligner_num_envs=args.num_envs, pairs_per_round=32, batch_size=32)
    comparison = rl_forecast.Comparison((train, val, test), settings, run_dir)
    rows, shown = [], {}
    for method in (rl_forecast.POLICY, "soft_dtw", "mse"):
        aligner_trainer = (rl_forecast.fine_tuner(settings, policy_dir, args.seed, run_dir)
                           if method == rl_forecast.POLICY else None)
        with tqdm(total=args.rounds, desc=f"      {method}", unit="round", disable=not args.progress, leave=False,
                  dynamic_ncols=True) as bar:
            row, model, _ = comparison.run(method, args.seed, aligner_trainer,
                                           on_round=lambda m, r, scores: bar.update(1))
        rows.append(row)
        shown[method] = predict(model, test[0][:3])
        print(f"      {method:<12} test DTW {row['dtw']:.4g}", flush=True)
    write_csv(run_dir / "metrics.csv", rows)
    columns = ("mse", "dtw", "soft_dtw", "tdi", "epoch_seconds")
    table = summary_table(summarize(rows, "method", columns), "method", columns, labels={
        "mse": "test MSE", "dtw": "test DTW", "soft_dtw": f"test soft-DTW (γ={args.gamma:g})", "tdi": "test TDI",
        "epoch_seconds": "s / epoch"})
    atomic_write_text(run_dir / "table.md", table + "\n")
    plot_forecasts(test[0], test[1], shown, run_dir / "figures" / "forecasts.png", num_series=3,
                   title="GunPoint: MLP forecasts by training loss")
    print(f"\nForecasts on the GunPoint test split (lower is better, best in bold):\n{table}\n")
    print(f"done in {time.perf_counter() - start:.0f}s; figures in {run_dir / 'figures'}")
    print("watch the training curves:")
    print(f"  {tensorboard_command(os.path.join(args.out_dir, 'quickstart'))}")
    return run_dir


if __name__ == "__main__":
    main()
