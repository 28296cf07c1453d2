"""Train a PPO warping-path policy (optionally warm-started by behavioural cloning).

Writes results/aligner/<env>__<exp>__<seed>__<time>/ with config.json,
metrics.json, tb/, checkpoints/, policy/ and figures/. Run it again with the same
--run-name to resume an interrupted run from its last checkpoint.

    python experiments/train_aligner.py --env-id dtwrl/SyntheticWarp-v0 --seed 1
    tensorboard --logdir results/aligner
"""
import dataclasses
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from agents import AlignerConfig, train_aligner
from experiments.common import field, parse_args, progress, run_name, tensorboard_command


@dataclasses.dataclass
class Args(AlignerConfig):
    """Every AlignerConfig field (see its help lines) plus the script's own switches."""

    progress: bool = field(True, "show a tqdm bar with env steps/s and the latest eval cost ratio")


def main(argv=None):
    args = parse_args(Args, argv, description=__doc__)
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(AlignerConfig)}
    config = AlignerConfig(**values)
    if config.run_name is None:
        config.run_name = run_name(config.env_id, config.exp_name, config.seed)

    bar = None

    def on_iteration(trainer, stats):
        nonlocal bar
        if bar is None:
            done = stats["env_steps"] - config.steps_per_iteration
            bar = progress(config.num_iterations * config.steps_per_iteration, initial=done, desc="PPO env steps")
        ratio = stats["cost_ratio_vs_dtw"]
        bar.set_postfix(
            sps=f"{stats['steps_per_second']:,.0f}", ratio=f"{ratio:.4f}" if ratio is not None else "-", refresh=False
        )
        bar.update(config.steps_per_iteration)

    print(f"run folder: {os.path.join(config.out_dir, config.run_name)}", flush=True)
    if config.bc_warmstart:
        print(f"behavioural cloning warm start on {config.bc_env_steps:,} expert states (once per run) ...", flush=True)
    run_dir, metrics = train_aligner(config, callback=on_iteration if args.progress else None)
    if bar is not None:
        bar.close()
    print(
        f"done: {metrics['env_steps']:,} PPO env steps, eval cost ratio vs exact DTW "
        f"{metrics['cost_ratio_vs_dtw']:.4f} (FastDTW r=1: {metrics['fastdtw_ratio_vs_dtw']:.4f}), "
        f"{metrics.get('steps_per_second', float('nan')):,.0f} env steps/s"
    )
    print(f"policy:      {run_dir / 'policy'}")
    print(f"evaluate:    python experiments/evaluate_aligner.py --run-dir {run_dir}")
    print(f"tensorboard: {tensorboard_command(run_dir.parent)}")
    return run_dir, metrics


if __name__ == "__main__":
    main()
