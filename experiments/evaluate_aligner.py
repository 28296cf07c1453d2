"""Compare a trained aligner policy (or the shipped one) with its no-network control, exact DTW, FastDTW and greedy.

The control is ``HeuristicAligner.like(policy)``: the policy's own observation, the argmin of its value feature;
a policy no better than it has learned nothing its features do not already give.

Per method: mean and 90th-percentile cost ratio vs exact DTW, the fraction of
pairs at the optimum (ratio <= 1 + 1e-9) and the wall time per pair (the policy
runs in batches of --batch-size). Writes eval.json, eval.md and
figures/eval_comparison.png into the run folder (suffixed with the env or file
name when the pairs are not the training env's). ``--run-dir pretrained``
evaluates the shipped aligner as users call it (``PolicyAligner.pretrained()``)
on your --pairs or an --env-id, and writes into
``<out-dir>/evaluate_aligner/pretrained/``.

The pairs are drawn from the run's training environment (stored in the run
folder: no registration needed), from another registered --env-id, or from
your own series with --pairs: a UCR/UEA .ts/.tsv file or folder (--split), a
.npy array (N, n[, d]) or a .csv with one series per row.

examples:
  python experiments/evaluate_aligner.py --run-dir results/aligner/<run>
  python experiments/evaluate_aligner.py --run-dir results/aligner/<run> --env-id dtwrl/GunPoint-v0
  python experiments/evaluate_aligner.py --run-dir results/aligner/<run> --pairs data/Coffee --split test
  python experiments/evaluate_aligner.py --run-dir pretrained --pairs data/Coffee --split test
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
    run_dir: str | None = field(
        None, "run folder written by experiments/train_aligner.py, or 'pretrained' (the shipped aligner); required"
    )
    env_id: str | None = field(None, "a registered environment whose pairs to align; none: the run's training env")
    pairs: str | None = field(None, "your own series to align pairs of: a .ts/.tsv file or UCR folder, .npy or .csv")
    split: str = field("test", "split of a UCR folder or dataset name given to --pairs (train or test)")
    num_pairs: int = field(200, "number of held-out pairs")
    seed: int = field(777_000_001, "seed of the held-out pairs; must differ from every training seed")
    batch_size: int = field(64, "pairs the policy aligns per batch (one policy call per step per batch)")
    repeats: int = field(2, "timing repeats per method (the fastest is reported)")
    out_dir: str = field("results", "with --run-dir pretrained: the parent of evaluate_aligner/pretrained/")


class _Refused(Exception):
    def __init__(self, flag, message):
        super().__init__(f"--{flag.replace('_', '-')}: {' '.join(str(message).split())}")


def _training_seeds(config):
    """Seeds whose generators produced training pairs: the vector env's s + k and the BC generator's entropy."""
    return set(range(config["seed"], config["seed"] + config["num_envs"])) | {config["eval_seed"]}


def _check(args):
    """The run folder, its config and the evaluation environment; _Refused names the flag at fault."""
    if args.run_dir is None:
        raise _Refused("run_dir", "is required: pass --run-dir results/aligner/<run> or --run-dir pretrained")
    shipped = args.run_dir == "pretrained"
    run_dir = Path(args.out_dir) / "evaluate_aligner" / "pretrained" if shipped else Path(args.run_dir)
    if shipped and args.env_id is None and args.pairs is None:
        raise _Refused("run_dir", "pretrained has no training env of its own: pass --pairs or --env-id")
    if not shipped and not (run_dir / "config.json").is_file():
        raise _Refused("run_dir", f"{str(run_dir)!r} holds no config.json; is it a train_aligner run folder?")
    if not shipped and args.out_dir != Args.out_dir:
        raise _Refused("out_dir", "applies only with --run-dir pretrained (a run folder's evaluation goes into it)")
    if shipped and Path(args.out_dir).exists() and not Path(args.out_dir).is_dir():
        raise _Refused("out_dir", f"{args.out_dir!r} is not a folder")
    for name in ("num_pairs", "batch_size", "repeats"):
        if getattr(args, name) < 1:
            raise _Refused(name, f"must be >= 1; got {getattr(args, name)}")
    if args.seed < 0:
        raise _Refused("seed", f"must be >= 0; got {args.seed}")
    if args.env_id is not None and args.pairs is not None:
        raise _Refused("pairs", "give either --env-id or --pairs, not both")
    if args.split not in ("train", "test"):
        raise _Refused("split", f"must be 'train' or 'test'; got {args.split!r}")
    config = {} if shipped else read_json(run_dir / "config.json")
    if args.env_id is None and args.pairs is None and args.seed in _training_seeds(config):
        raise _Refused("seed", f"{args.seed} was used in training (seeds {sorted(_training_seeds(config))[:3]}...)")
    try:
        aligner = (
            PolicyAligner.pretrained(batch_size=args.batch_size)
            if shipped
            else PolicyAligner(run_dir, batch_size=args.batch_size)
        )
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
        same = args.env_id == config.get("env_id")
        return run_dir, aligner, settings, "" if same else "__" + args.env_id.split("/")[-1]
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
    label = "PolicyAligner.pretrained()" if args.run_dir == "pretrained" else "policy (PPO)"
    methods = {
        label: aligner.align_pairs,
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
    (run_dir / "figures").mkdir(parents=True, exist_ok=True)  # (a run folder has it; pretrained's is new)
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
        {k: paths[k] for k in (label, "FastDTW r=1", "exact DTW")},
        run_dir / "figures" / f"eval_comparison{suffix}.png",
        title=name,
    )
    print(table)
    print(f"wrote {run_dir / f'eval{suffix}.json'}, {run_dir / f'eval{suffix}.md'} and {figure}")
    return rows


if __name__ == "__main__":
    main()
