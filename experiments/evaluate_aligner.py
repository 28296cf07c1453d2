"""Compare a trained aligner policy with its no-network control, exact DTW, FastDTW (r=1, r=10) and greedy.

The control is ``HeuristicAligner.like(policy)``: the policy's own observation, the argmin of its value feature;
a policy no better than it has learned nothing its features do not already give.

Per method: mean and 90th-percentile cost ratio vs exact DTW, the fraction of
pairs at the optimum (ratio <= 1 + 1e-9) and the wall time per pair (the policy
runs in batches of --batch-size). Writes eval.json, eval.md and
figures/eval_comparison.png into the run folder (suffixed with the env or file
name when the pairs are not the training env's).

The pairs are drawn from the run's training environment (stored in the run
folder: no registration needed), from another registered --env-id, or from
your own series with --pairs: a UCR/UEA .ts/.tsv file or folder (--split), a
.npy array (N, n[, d]) or a .csv with one series per row.

examples:
  python experiments/evaluate_aligner.py --run-dir results/aligner/<run>
  python experiments/evaluate_aligner.py --run-dir results/aligner/<run> --env-id dtwrl/GunPoint-v0
  python experiments/evaluate_aligner.py --run-dir results/aligner/<run> --pairs data/Coffee --split test
"""

import experiments  # noqa: F401  (first: silences TensorFlow and gym start-up noise)

# isort: split
import dataclasses
import sys
from pathlib import Path

import dtwrl
from agents import GreedyAligner, HeuristicAligner, PolicyAligner
from agents.evaluation import compare, comparison_figure, comparison_table, make_eval_set
from agents.training.environment import ENV_SETTINGS_FILE, EnvSettings, env_settings, load_env_settings
from dtwrl.datasets import as_pair_source
from dtwrl.runs import atomic_write_text, read_json, write_json
from experiments.cli import field, parse_args


@dataclasses.dataclass
class Args:
    run_dir: str | None = field(None, "run folder written by experiments/train_aligner.py; required")
    env_id: str | None = field(None, "a registered environment whose pairs to align; none: the run's training env")
    pairs: str | None = field(None, "your own series to align pairs of: a .ts/.tsv file or UCR folder, .npy or .csv")
    split: str = field("test", "split of a UCR folder or dataset name given to --pairs (train or test)")
    num_pairs: int = field(200, "number of held-out pairs")
    seed: int = field(777_000_001, "seed of the held-out pairs; must differ from every training seed")
    batch_size: int = field(64, "pairs the policy aligns per batch (one policy call per step per batch)")
    repeats: int = field(2, "timing repeats per method (the fastest is reported)")


class _Refused(Exception):
    def __init__(self, flag, message):
        super().__init__(f"--{flag.replace('_', '-')}: {' '.join(str(message).split())}")


def _training_seeds(config):
    """Seeds whose generators produced training pairs: the vector env's s + k and the BC generator's entropy."""
    return set(range(config["seed"], config["seed"] + config["num_envs"])) | {config["eval_seed"]}


def _check(args):
    """The run folder, its config and the evaluation environment; _Refused names the flag at fault."""
    if args.run_dir is None:
        raise _Refused("run_dir", "is required: pass --run-dir results/aligner/<run>")
    run_dir = Path(args.run_dir)
    if not (run_dir / "config.json").is_file():
        raise _Refused("run_dir", f"{str(run_dir)!r} holds no config.json; is it a train_aligner run folder?")
    for name in ("num_pairs", "batch_size", "repeats"):
        if getattr(args, name) < 1:
            raise _Refused(name, f"must be >= 1; got {getattr(args, name)}")
    if args.seed < 0:
        raise _Refused("seed", f"must be >= 0; got {args.seed}")
    if args.env_id is not None and args.pairs is not None:
        raise _Refused("pairs", "give either --env-id or --pairs, not both")
    if args.split not in ("train", "test"):
        raise _Refused("split", f"must be 'train' or 'test'; got {args.split!r}")
    config = read_json(run_dir / "config.json")
    if args.env_id is None and args.pairs is None and args.seed in _training_seeds(config):
        raise _Refused("seed", f"{args.seed} was used in training (seeds {sorted(_training_seeds(config))[:3]}...)")
    try:
        aligner = PolicyAligner(run_dir, batch_size=args.batch_size)
    except (ValueError, TypeError, OSError) as error:
        raise _Refused("run_dir", error) from None
    overrides = {"window": aligner.core_kwargs["window"], "reward_scale": aligner.core_kwargs["reward_scale"]}
    if args.pairs is not None:
        try:
            source = as_pair_source(args.pairs, split=args.split)
        except (ValueError, TypeError) as error:
            raise _Refused("pairs", error) from None
        label = Path(args.pairs).stem or str(args.pairs)
        settings = EnvSettings(label, source, dict(aligner.core_kwargs), dict(aligner.core_kwargs))
        return run_dir, aligner, settings, "__" + label
    if args.env_id is not None:
        try:
            settings = env_settings(args.env_id, **overrides)
        except (ValueError, TypeError) as error:
            raise _Refused("env_id", error) from None
        return run_dir, aligner, settings, "" if args.env_id == config["env_id"] else "__" + args.env_id.split("/")[-1]
    if (run_dir / "env" / ENV_SETTINGS_FILE).is_file():
        try:
            return run_dir, aligner, load_env_settings(run_dir / "env", **overrides), ""
        except (ValueError, TypeError) as error:
            raise _Refused("run_dir", error) from None
    try:  # a run folder from before run folders stored their environment
        return run_dir, aligner, env_settings(config["env_id"], **overrides), ""
    except ValueError as error:
        raise _Refused("run_dir", f"{error}; pass --env-id or --pairs") from None


def main(argv=None):
    args = parse_args(Args, argv, description=__doc__)
    try:
        run_dir, aligner, settings, suffix = _check(args)
    except _Refused as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    metric, band = settings.core_kwargs["metric"], settings.core_kwargs["band"]
    if settings.core_kwargs != aligner.core_kwargs:
        print(
            f"note: env settings {settings.core_kwargs} differ from the policy's {aligner.core_kwargs}; "
            "the policy's are used for its rollouts"
        )
    name = settings.env_id
    print(f"solving {args.num_pairs} held-out pairs of {name} (seed {args.seed}) exactly ...", flush=True)
    eval_set = make_eval_set(settings, args.num_pairs, args.seed)

    def per_pair(fn):
        return lambda pairs: [fn(x, y) for x, y in pairs]

    greedy = GreedyAligner(metric=metric, band=band)
    methods = {
        "policy (PPO)": aligner.align_pairs,
        "HeuristicAligner (same observation, no network)": HeuristicAligner.like(aligner).align_pairs,
        "exact DTW": per_pair(lambda x, y: dtwrl.dtw_path(x, y, metric=metric, band=band)[1]),
        "FastDTW r=1": per_pair(lambda x, y: dtwrl.fastdtw_path(x, y, radius=1, metric=metric)[1]),
        "FastDTW r=10": per_pair(lambda x, y: dtwrl.fastdtw_path(x, y, radius=10, metric=metric)[1]),
        "greedy": greedy.align_pairs,
    }
    aligner.align_pairs(eval_set.pairs[: args.batch_size])  # trace the policy once before timing
    rows, paths = compare(eval_set, methods, repeats=args.repeats)

    title = f"{name}: {args.num_pairs} held-out pairs, policy {run_dir.name}"
    table = comparison_table(rows, title=title)
    write_json(
        run_dir / f"eval{suffix}.json",
        {
            "env_id": name,
            "pairs": args.pairs,
            "split": args.split if args.pairs else None,
            "run_dir": str(run_dir),
            "num_pairs": args.num_pairs,
            "seed": args.seed,
            "batch_size": args.batch_size,
            "core_kwargs": aligner.core_kwargs,
            "rows": rows,
        },
    )
    atomic_write_text(run_dir / f"eval{suffix}.md", table + "\n")
    figure = comparison_figure(
        rows,
        eval_set,
        {k: paths[k] for k in ("policy (PPO)", "FastDTW r=1", "exact DTW")},
        run_dir / "figures" / f"eval_comparison{suffix}.png",
        title=name,
    )
    print(table)
    print(f"wrote {run_dir / f'eval{suffix}.json'}, {run_dir / f'eval{suffix}.md'} and {figure}")
    return rows


if __name__ == "__main__":
    main()
