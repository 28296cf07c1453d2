"""Train a PPO warping-path policy (optionally warm-started by behavioural cloning).

Writes results/aligner/<env>__<exp>__<seed>__<time>/ with config.json,
metrics.json, env/ (the training pairs and env settings: the folder needs no
registered id), tb/, checkpoints/, policy/ and figures/. Run it again with the
same --run-name to resume an interrupted run from its last checkpoint.

examples:
  python experiments/train_aligner.py --env-id dtwrl/SyntheticWarp-v0 --seed 1
  python experiments/train_aligner.py --pairs my_series.csv --total-env-steps 200000
  python experiments/train_aligner.py --pairs data/Coffee/Coffee_TRAIN.ts --init-from results/aligner/<run>
  tensorboard --logdir results/aligner
"""

import experiments  # noqa: F401  (first: silences TensorFlow and gym start-up noise)

# isort: split
import dataclasses
import sys

from agents import AlignerConfig, AlignerTrainer
from agents.training.trainer import run_training
from experiments.cli import config_error_line, field, parse_args
from experiments.run_folders import tensorboard_command


@dataclasses.dataclass
class Args(AlignerConfig):
    """Every AlignerConfig field (see its help lines) plus the script's own switches."""

    progress: bool = field(True, "report progress: a bar on a terminal, a few lines in a log")


def main(argv=None):
    try:
        args = parse_args(Args, argv, description=__doc__)
        values = {f.name: getattr(args, f.name) for f in dataclasses.fields(AlignerConfig)}
        trainer = AlignerTrainer(AlignerConfig(**values), progress=args.progress)
    except (ValueError, TypeError) as error:  # every input is checked before the run folder exists
        print(config_error_line(error, [f.name for f in dataclasses.fields(Args)]), file=sys.stderr)
        raise SystemExit(2) from None
    run_dir, metrics = run_training(trainer)
    control = metrics.get("heuristic_ratio_vs_dtw")  # absent from runs finished before the control was logged
    control = "" if control is None else f", HeuristicAligner, no network: {control:.4f}"
    print(
        f"done: {metrics['env_steps']:,} PPO env steps, eval cost ratio vs exact DTW "
        f"{metrics['cost_ratio_vs_dtw']:.4f} (FastDTW r=1: {metrics['fastdtw_ratio_vs_dtw']:.4f}{control}), "
        f"{metrics.get('end_to_end_steps_per_second', float('nan')):,.0f} env steps/s end to end"
    )
    print(f"policy:      {run_dir / 'policy'}")
    print(f"evaluate:    python experiments/evaluate_aligner.py --run-dir {run_dir}")
    print(f"tensorboard: {tensorboard_command(run_dir.parent)}")
    return run_dir, metrics


if __name__ == "__main__":
    main()
