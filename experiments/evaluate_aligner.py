"""Compare a trained aligner policy with exact DTW, FastDTW (r=1, r=10) and greedy on held-out pairs.

Per method: mean and 90th-percentile cost ratio vs exact DTW, the fraction of
pairs at the optimum (ratio <= 1 + 1e-9) and the wall time per pair (the policy
runs in batches of --batch-size). Writes eval.json, eval.md and
figures/eval_comparison.png into the run folder (suffixed with the env name when
--env-id differs from the training env).

    python experiments/evaluate_aligner.py --run-dir results/aligner/<run>
    python experiments/evaluate_aligner.py --run-dir results/aligner/<run> --env-id dtwrl/GunPoint-v0
"""
import dataclasses
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import dtwrl
from agents import GreedyAligner, PolicyAligner
from agents.environment import env_settings
from agents.evaluation import compare, comparison_figure, make_eval_set, comparison_table
from experiments.common import field, parse_args, write_json


@dataclasses.dataclass
class Args:
    run_dir: str = field("", "run folder written by experiments/train_aligner.py (required)")
    env_id: str | None = field(None, "environment whose pairs to align; none: the run's training env")
    num_pairs: int = field(200, "number of held-out pairs")
    seed: int = field(777_000_001, "seed of the held-out pairs; must differ from every training seed")
    batch_size: int = field(64, "pairs the policy aligns per batch (one policy call per step per batch)")
    repeats: int = field(2, "timing repeats per method (the fastest is reported)")


def _training_seeds(config):
    """Seeds whose generators produced training pairs: the vector env's s + k and the BC generator's entropy."""
    return set(range(config["seed"], config["seed"] + config["num_envs"])) | {config["eval_seed"]}


def main(argv=None):
    args = parse_args(Args, argv, description=__doc__)
    if not args.run_dir:
        raise ValueError("run_dir is required: pass --run-dir results/aligner/<run>")
    run_dir = Path(args.run_dir)
    config_path = run_dir / "config.json"
    if not config_path.is_file():
        raise ValueError(f"run_dir {str(run_dir)!r} holds no config.json; is it a train_aligner run folder?")
    config = json.loads(config_path.read_text())
    env_id = args.env_id or config["env_id"]
    if args.seed in _training_seeds(config):
        raise ValueError(f"seed {args.seed} was used in training (seeds {sorted(_training_seeds(config))[:3]}...)")

    aligner = PolicyAligner(run_dir, batch_size=args.batch_size)
    settings = env_settings(env_id, window=aligner.core_kwargs["window"], reward_scale=aligner.core_kwargs["reward_scale"])
    metric, band = settings.core_kwargs["metric"], settings.core_kwargs["band"]
    if settings.core_kwargs != aligner.core_kwargs:
        print(f"note: env settings {settings.core_kwargs} differ from the policy's {aligner.core_kwargs}; "
              "the policy's are used for its rollouts")
    print(f"solving {args.num_pairs} held-out pairs of {env_id} (seed {args.seed}) exactly ...", flush=True)
    eval_set = make_eval_set(settings, args.num_pairs, args.seed)

    def per_pair(fn):
        return lambda pairs: [fn(x, y) for x, y in pairs]

    greedy = GreedyAligner(metric=metric, band=band)
    methods = {
        "policy (PPO)": aligner.align_pairs,
        "exact DTW": per_pair(lambda x, y: dtwrl.dtw_path(x, y, metric=metric, band=band)[1]),
        "FastDTW r=1": per_pair(lambda x, y: dtwrl.fastdtw_path(x, y, radius=1, metric=metric)[1]),
        "FastDTW r=10": per_pair(lambda x, y: dtwrl.fastdtw_path(x, y, radius=10, metric=metric)[1]),
        "greedy": greedy.align_pairs,
    }
    aligner.align_pairs(eval_set.pairs[: args.batch_size])  # trace the policy once before timing
    rows, paths = compare(eval_set, methods, repeats=args.repeats)

    suffix = "" if env_id == config["env_id"] else "__" + env_id.split("/")[-1]
    title = f"{env_id}: {args.num_pairs} held-out pairs, policy {run_dir.name}"
    table = comparison_table(rows, title=title)
    write_json(run_dir / f"eval{suffix}.json", {
        "env_id": env_id, "run_dir": str(run_dir), "num_pairs": args.num_pairs, "seed": args.seed,
        "batch_size": args.batch_size, "core_kwargs": aligner.core_kwargs, "rows": rows,
    })
    (run_dir / f"eval{suffix}.md").write_text(table + "\n")
    figure = comparison_figure(
        rows, eval_set, {k: paths[k] for k in ("policy (PPO)", "FastDTW r=1", "exact DTW")},
        run_dir / "figures" / f"eval_comparison{suffix}.png", title=env_id,
    )
    print(table)
    print(f"wrote {run_dir / f'eval{suffix}.json'}, {run_dir / f'eval{suffix}.md'} and {figure}")
    return rows


if __name__ == "__main__":
    main()
