"""Benchmark policy aligners against exact DTW and FastDTW on held-out and zero-shot pairs.

Per pair set (GunPoint test pairs, ItalyPowerDemand test pairs, SyntheticWarp
held-out pairs) and per method: mean and 90th-percentile cost ratio vs exact
DTW, the fraction of pairs at the optimum and the time per pair. The methods:
each actor's greedy paths (``pretrained``: ``PolicyAligner.pretrained()``, which
reads every pair with its corridor network; an actor file or run folder: that
policy on its own observation), beam search with the first actor (on its own
observation), ``HeuristicAligner.like`` the first actor (no network), FastDTW
r=1 and exact DTW. Then the time
per pair of greedy decoding and FastDTW r=1 at n = m = 150, 1000 and 5000
(synthetic pairs, process CPU time, median over --repeats; the pair-set tables
give wall time). The pretrained policy never saw
ItalyPowerDemand nor the GunPoint test split.

    python experiments/benchmark_aligner.py                      # the shipped pretrained aligner
    python experiments/benchmark_aligner.py --actors bc=/tmp/bc.npz ppo=results/aligner/<run>

    python experiments/benchmark_aligner.py --long               # long pairs, linear observation (long_benchmark)

Writes results/benchmark_aligner/<name>/benchmark.json and benchmark.md.
"""

import experiments  # noqa: F401  (first: silences TensorFlow and gym start-up noise)

# isort: split
import dataclasses
import os
import sys
from datetime import datetime
from pathlib import Path

import numpy as np

import dtwrl
from agents.evaluation import compare, comparison_table, make_eval_set, time_per_pair
from agents.policy.aligner import PolicyAligner
from agents.policy.heuristic_aligner import HeuristicAligner
from agents.training.environment import EnvSettings
from dtwrl.datasets import DatasetPairs, SyntheticPairs, gunpoint_pairs, load_ucr
from dtwrl.runs import atomic_write_text, make_run_dir, markdown_table, write_json
from envs.observation import check_lookahead, corridor_lookahead, is_corridor
from experiments import long_benchmark
from experiments.cli import cli_main, fail, field, flag_of, parse_args, require_at_least, run_script

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ucr"
CORE = {"metric": "sqeuclidean", "band": None}


@dataclasses.dataclass
class Args:
    actors: tuple[str, ...] = field(
        ("pretrained=pretrained",), "label=policy pairs: 'pretrained', an actor .npz or a run folder"
    )
    beam_widths: tuple[int, ...] = field((4,), "beam widths to report for the first actor (0: greedy only)")
    sets: bool = field(True, "score the pair sets (--no-sets: the timing table only)")
    heuristic: bool = field(
        True, "report HeuristicAligner.like(the first actor): its observation, the argmin of its value feature"
    )
    num_pairs: int = field(200, "pairs per set")
    seed: int = field(20261201, "seed of the pairs drawn from each set")
    data_root: str = field(os.environ.get("DTWRL_UCR_ROOT", str(DEFAULT_DATA)), "folder holding ItalyPowerDemand/")
    timing_lengths: tuple[int, ...] = field((150, 1000, 5000), "series lengths n = m of the timing table")
    timing_pairs: int = field(8, "pairs per timing length")
    repeats: int = field(3, "timing repeats (the median is reported)")
    long: bool = field(
        False,
        "long pairs instead: each actor on the corridor observation, as it aligns long pairs (long_benchmark.py)",
    )
    long_lengths: tuple[int, ...] = field((1000, 10_000, 100_000), "--long: n = m of the synthetic and tiled sets")
    long_pairs: int = field(3, "--long: pairs per long set (at most 2 at n >= 100,000)")
    short_pairs: int = field(50, "--long: pairs of GunPoint test, ItalyPowerDemand test, BasicMotions test")
    radius: int = field(
        8, "--long: corridor radius of the linear observation, for networks trained on another one (others keep theirs)"
    )
    long_root: str = field(str(DEFAULT_DATA.parent / "long"), "--long: folder of the long recordings (*.csv)")
    out_dir: str = field("results", "parent of benchmark_aligner/<name>/")
    name: str | None = field(None, "run folder name; none: the date and time")


#: Flags that only one mode reads: given in the other mode they would be ignored, so they are refused.
LONG_ONLY = ("long_lengths", "long_pairs", "short_pairs", "radius", "long_root")
SHORT_ONLY = ("beam_widths", "sets", "heuristic", "num_pairs", "timing_lengths", "timing_pairs", "repeats")


def check_args(args):
    """Every flag, before anything is loaded or written: ``CLIError`` (``error: --flag: ...``) for the first bad one.

    A flag of the other mode (:data:`LONG_ONLY`, :data:`SHORT_ONLY`) set to anything but its default is refused,
    as is a data folder given explicitly that does not exist; a default data folder that is missing (a clone
    without ``../shared``) only skips its sets under ``--long``, with a note on stderr.
    """
    defaults = Args()
    for name in SHORT_ONLY if args.long else LONG_ONLY:
        if getattr(args, name) != getattr(defaults, name):
            fail(flag_of(name), "applies only " + ("without" if args.long else "with") + " --long")
    require_at_least(args, 1, "num_pairs", "timing_pairs", "repeats", "long_pairs", "short_pairs")
    require_at_least(args, 0, "radius")
    for name, least in (("beam_widths", 0), ("timing_lengths", 2), ("long_lengths", 2)):
        low = [value for value in getattr(args, name) if value < least]
        if low:
            fail(flag_of(name), f"every value must be >= {least}; got {low[0]}")
    for name in ("data_root", "long_root") if args.long else ("data_root",):
        folder = getattr(args, name)
        if not Path(folder).is_dir():
            if folder != getattr(defaults, name):
                fail(flag_of(name), f"{folder!r} is not a folder")
            if args.long:
                print(f"note: {flag_of(name)}: {folder!r} not found; its sets are skipped", file=sys.stderr)


def _pair_sets(args):
    path = Path(args.data_root) / "ItalyPowerDemand" / "ItalyPowerDemand_TEST.ts"
    if not path.is_file():
        raise ValueError(f"--data-root: {str(path)!r} does not exist")
    italy, _ = load_ucr(str(path))
    return {
        "GunPoint test pairs": gunpoint_pairs("test"),
        "ItalyPowerDemand test pairs (zero-shot)": DatasetPairs(italy),
        "SyntheticWarp held-out pairs": SyntheticPairs(),
    }


def _actors(args):
    out = {}
    for item in args.actors:
        label, sep, policy = item.partition("=")
        if not sep or not label or not policy:
            raise ValueError(f"--actors: expected label=policy; got {item!r}")
        out[label] = policy
    return out


def _greedy_aligner(policy):
    """The greedy ``PolicyAligner`` of an ``--actors`` value: ``"pretrained"`` is the shipped aligner as users call
    it (``PolicyAligner.pretrained()``: its corridor network on every pair), anything else read as it is."""
    return PolicyAligner.pretrained() if policy == "pretrained" else PolicyAligner(policy)


def _linear_policy(args, policy):
    """``(label suffix, PolicyAligner)``: ``policy`` on the corridor observation, as it aligns long pairs."""
    if policy.long_actor_file is not None:  # the pretrained aligner's own long-pair network
        policy = PolicyAligner(policy.long_actor_file)
    kwargs = dict(policy.core_kwargs)
    retrained = is_corridor(check_lookahead(kwargs.get("lookahead", ())))
    if not retrained:
        kwargs["lookahead"] = corridor_lookahead(args.radius)
    linear = PolicyAligner(policy.actor_file or policy.policy_dir, core_kwargs=kwargs)
    note = "" if retrained else ", weights trained on the lookahead observation"
    return f"greedy (corridor r={kwargs['lookahead'][0][1]}{note})", linear


def _linear_methods(args, policies):
    """``{label: align_pairs}`` of the long benchmark: each policy (``{label: PolicyAligner}``; the first is
    "policy") and the first one's heuristic on the corridor observation, FastDTW r=1; and the first policy's
    ``align_pairs`` on its own observation."""
    methods, first = {}, None
    for label, policy in policies.items():
        suffix, linear = _linear_policy(args, policy)
        methods[f"{'policy' if first is None else label} {suffix}"] = linear.align_pairs
        first = first or linear
    methods["HeuristicAligner (corridor, no network)"] = HeuristicAligner.like(first).align_pairs
    methods["FastDTW r=1"] = lambda pairs: [dtwrl.fastdtw_path(x, y, radius=1)[1] for x, y in pairs]
    return methods, next(iter(policies.values())).align_pairs


def run_long(args, policies, run_dir, command):
    """The long benchmark (``experiments/long_benchmark``): one table per set, then how time grows with n."""
    methods, quadratic = _linear_methods(args, policies)
    band_from = next(iter(methods))
    sets = long_benchmark.pair_sets(
        args.long_lengths, args.long_pairs, args.short_pairs, args.data_root, args.long_root, args.seed
    )
    long_benchmark.warm_up({**methods, "quadratic": quadratic})  # compile before timing
    report, tables = {"args": dataclasses.asdict(args), "sets": {}}, []
    for name, pairs in sets.items():
        longest = max(max(len(x), len(y)) for x, y in pairs)
        use = dict(methods)
        if longest <= 2000:  # today's O(n m) observation, for comparison where it fits
            use["policy greedy (lookahead observation, O(n m))"] = quadratic
        print(f"{name}: {len(pairs)} pairs, n <= {longest} ...", flush=True)
        rows = long_benchmark.run_set(pairs, use, band_from)
        report["sets"][name] = rows
        body = markdown_table(long_benchmark.TABLE_HEADER, long_benchmark.table_rows(rows))
        tables.append(f"**{name}** ({len(pairs)} pairs, longest {longest})\n\n{body}")
        print(tables[-1], flush=True)
    header, body = long_benchmark.growth_table(report)
    tables.append("**CPU ms per pair on synthetic warps, by n**\n\n" + markdown_table(header, body))
    print(tables[-1], flush=True)
    write_json(run_dir / "benchmark.json", {**report, "command": command})
    atomic_write_text(run_dir / "benchmark.md", f"`{command}`\n\n" + "\n\n".join(tables) + "\n")
    print(f"wrote {run_dir / 'benchmark.md'}")
    return report


@cli_main
def main(argv=None):
    args = parse_args(Args, argv, description=__doc__)
    check_args(args)
    actors = _actors(args)
    if args.long:
        policies = {label: PolicyAligner(policy) for label, policy in actors.items()}
        run_dir = make_run_dir(args.out_dir, "benchmark_aligner", args.name or datetime.now().strftime("%Y%m%d-%H%M%S"))
        command = "python experiments/benchmark_aligner.py " + " ".join(sys.argv[1:] if argv is None else argv)
        return run_long(args, policies, run_dir, command)
    sets = _pair_sets(args) if args.sets else {}  # --no-sets needs no data folder
    aligners = {label: _greedy_aligner(policy) for label, policy in actors.items()}
    first = next(iter(actors))
    run_dir = make_run_dir(args.out_dir, "benchmark_aligner", args.name or datetime.now().strftime("%Y%m%d-%H%M%S"))

    def per_pair(fn):
        return lambda pairs: [fn(x, y) for x, y in pairs]

    methods = {f"{label} greedy": aligner.align_pairs for label, aligner in aligners.items()}
    for width in (w for w in args.beam_widths if w > 0):
        beam = PolicyAligner(actors[first], decode="beam", beam_width=width)
        methods[f"{first} beam {width}"] = beam.align_pairs
    if args.heuristic:
        methods["HeuristicAligner (same observation, no network)"] = HeuristicAligner.like(aligners[first]).align_pairs
    methods["FastDTW r=1"] = per_pair(lambda x, y: dtwrl.fastdtw_path(x, y, radius=1)[1])
    methods["exact DTW"] = per_pair(lambda x, y: dtwrl.dtw_path(x, y)[1])
    report, tables = {"args": dataclasses.asdict(args), "sets": {}, "timing": []}, []
    for name, source in sets.items():
        print(f"{name}: solving {args.num_pairs} pairs ...", flush=True)
        eval_set = make_eval_set(EnvSettings(name, source, dict(CORE), dict(CORE)), args.num_pairs, args.seed)
        for fn in methods.values():
            fn(eval_set.pairs[:2])  # compile before timing
        rows, _ = compare(eval_set, methods)
        report["sets"][name] = rows
        tables.append(comparison_table(rows, title=f"{name} ({args.num_pairs}, seed {args.seed})"))
        print(tables[-1], flush=True)
    rng = np.random.default_rng(args.seed)
    greedy = aligners[first]
    for n in args.timing_lengths:
        pairs = [SyntheticPairs(n=n)(rng) for _ in range(args.timing_pairs)]
        row = {
            "n": n,
            "policy greedy ms/pair": time_per_pair(greedy.align_pairs, pairs, args.repeats),
            "FastDTW r=1 ms/pair": time_per_pair(methods["FastDTW r=1"], pairs, args.repeats),
        }
        row["speed-up"] = row["FastDTW r=1 ms/pair"] / row["policy greedy ms/pair"]
        report["timing"].append(row)
        print(row, flush=True)
    timing = markdown_table(
        ["n = m", f"{first} greedy ms / pair", "FastDTW r=1 ms / pair", "FastDTW / policy"],
        [
            [r["n"], f"{r['policy greedy ms/pair']:.3f}", f"{r['FastDTW r=1 ms/pair']:.3f}", f"{r['speed-up']:.1f}x"]
            for r in report["timing"]
        ],
    )
    tables.append(
        f"**CPU time per pair** (synthetic pairs, {args.timing_pairs} per length, median of {args.repeats})\n\n"
        + timing
    )
    command = "python experiments/benchmark_aligner.py " + " ".join(sys.argv[1:] if argv is None else argv)
    write_json(run_dir / "benchmark.json", {**report, "command": command})
    atomic_write_text(run_dir / "benchmark.md", f"`{command}`\n\n" + "\n\n".join(tables) + "\n")
    print(f"wrote {run_dir / 'benchmark.md'}")
    return report


if __name__ == "__main__":
    run_script(main)
