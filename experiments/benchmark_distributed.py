"""Env-steps per second: distributed PPO with 1, 2 and 4 collectors vs the single-process trainer, in one run.

Every trainer runs the same AlignerConfig (PPO only, no BC warm start) for
--iterations iterations in a fresh run folder under --out-dir; the table gives
medians over --repeats. Read it with the machine in mind: every process of a
distributed run (server, learner, N collectors, evaluator) shares this
machine's cores, so on 2 cores more collectors cannot add throughput: they
split the same CPU. docs/DISTRIBUTED.md projects the figures to a cluster.

    python experiments/benchmark_distributed.py
    python experiments/benchmark_distributed.py --collectors 1 2 4 --iterations 8 --repeats 3
    python experiments/benchmark_distributed.py --quality-seeds 1 2 --collectors 2 --iterations 24
"""

import experiments  # noqa: F401  (first: silences TensorFlow and gym start-up noise)

# isort: split
import dataclasses
import os
import tempfile
from pathlib import Path

from agents import AlignerConfig
from agents.distributed.throughput import compare_validation, measure
from dtwrl.runs import markdown_table
from experiments.cli import field, parse_args


@dataclasses.dataclass
class Args:
    collectors: tuple[int, ...] = field((1, 2, 4), "collector counts to measure")
    iterations: int = field(8, "PPO iterations per run (num_envs * collect_steps env steps each)")
    num_envs: int = field(64, "alignments per learner batch (the collectors split them)")
    collect_steps: int = field(64, "steps per env per iteration")
    repeats: int = field(1, "runs per trainer; the table shows medians")
    seed: int = field(1, "seed of every run")
    out_dir: str | None = field(None, "parent of the run folders; None: a temporary folder")
    quality_seeds: tuple[int, ...] = field(
        (),
        "instead of throughput: validation cost ratio of single-process vs "
        "distributed (the first --collectors count) at equal env steps, "
        "BC-warm-started, for these seeds",
    )
    bc_env_steps: int = field(200_000, "--quality-seeds: behavioural cloning states of the warm start")


def main(argv=None):
    args = parse_args(Args, argv, description=__doc__)
    if args.iterations < 2 or args.repeats < 1 or not args.collectors or min(args.collectors) < 1:
        raise SystemExit("error: --iterations must be >= 2, --repeats >= 1 and --collectors >= 1")
    out_dir = args.out_dir or tempfile.mkdtemp(prefix="dtwrl-bench-distributed-")
    config = AlignerConfig(
        num_envs=args.num_envs,
        collect_steps=args.collect_steps,
        seed=args.seed,
        bc_warmstart=False,
        total_env_steps=args.iterations * args.num_envs * args.collect_steps,
        eval_interval=10**6,
        checkpoint_interval=10**6,
        eval_pairs=16,
        out_dir=out_dir,
    )
    script = Path(__file__).resolve().parent / "train_aligner_distributed.py"
    if args.quality_seeds:
        return _quality(args, config, script)
    rows = measure(config, script, collectors=args.collectors, repeats=args.repeats)
    fmt = lambda v: "-" if v is None else f"{v:,.0f}" if v >= 10 else f"{v:.2f}"  # noqa: E731
    print(
        f"\n{os.cpu_count()} CPU cores on this machine; {args.num_envs} envs x {args.collect_steps} steps per "
        f"iteration, {args.iterations} iterations, medians of {args.repeats} run(s)\n"
    )
    print(
        markdown_table(
            [
                "trainer",
                "collectors",
                "learner env-steps/s (steady)",
                "end-to-end env-steps/s",
                "collectors' stepping env-steps/s",
                "collector queue wait",
                "learner wait",
            ],
            [
                [
                    r["trainer"],
                    r["collectors"] or "-",
                    fmt(r["learner_steps_per_s"]),
                    fmt(r["end_to_end_steps_per_s"]),
                    fmt(r["collector_steps_per_s"]),
                    fmt(r["collector_wait_fraction"]),
                    fmt(r["learner_wait_fraction"]),
                ]
                for r in rows
            ],
        )
    )
    return rows


def _quality(args, config, script):
    config = dataclasses.replace(
        config,
        bc_warmstart=True,
        bc_env_steps=args.bc_env_steps,
        bc_epochs=3,
        eval_interval=max(1, args.iterations // 4),
        eval_pairs=64,
    )
    rows = compare_validation(config, script, seeds=args.quality_seeds, collectors=args.collectors[0])
    print(
        f"\nvalidation cost ratio vs exact DTW (64 held-out pairs) after {config.num_iterations} iterations "
        f"({config.num_iterations * config.steps_per_iteration:,} PPO env steps, BC {args.bc_env_steps:,} states)\n"
    )
    print(
        markdown_table(
            ["trainer", "seed", "env steps", "live policy", "saved (keep_best) policy", "vs FastDTW", "history"],
            [
                [
                    r["trainer"],
                    r["seed"],
                    f"{r['env_steps']:,}",
                    f"{r['cost_ratio_vs_dtw']:.4f}",
                    f"{r['policy_cost_ratio_vs_dtw']:.4f}",
                    f"{r['cost_ratio_vs_fastdtw']:.4f}",
                    " ".join(f"{ratio:.3f}" for _, ratio in r["history"]),
                ]
                for r in rows
            ],
        )
    )
    return rows


if __name__ == "__main__":
    main()
