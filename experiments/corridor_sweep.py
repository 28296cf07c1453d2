"""Where the linear aligner's excess cost comes from: the corridor's radius and coarsest level, set by set.

``HeuristicAligner`` on the corridor observation follows the corridor's optimal path, so its cost ratio is the
corridor's optimum over exact DTW (``envs.corridor.build_corridor(x, y, radius=r, coarsest=c).value(0, 0)`` over
``dtwrl.dtw``), and the long-pair network ties it (README, "The long-pair network"). This script measures that
optimum and the CPU time of building the corridor for every ``--radii`` r and ``--coarsest`` c (series of at most c
samples are not pooled further: the exact DP at the top level has at most c^2 cells) on the long benchmark's pair
sets (``experiments.long_benchmark.pair_sets``: synthetic warps, tiled and warped ElectricDevices and unrelated
random walks at each ``--long-lengths`` n, the test parts of the long recordings) and on two more families with no
shared structure to lean on: moving averages of white noise, and sums of three sines against a warped noisy copy.

A corridor of r cells holds about 2 r + 1 cells per row, so time grows about linearly with r; c adds an O(c^2) DP
per pair, constant in n. The shipped long-pair network reads ``corridor_lookahead(16)`` with c = 128
(``corridor_lookahead()``'s default radius is 8).

    python experiments/corridor_sweep.py                                   # r in 8 16 32, c in 128 512
    python experiments/corridor_sweep.py --long-lengths 1000 --radii 4 8 --coarsest 128 --out sweep.md
"""

import experiments  # noqa: F401  (first: silences TensorFlow and gym start-up noise)

# isort: split
import dataclasses
import os
import time
from pathlib import Path

import numpy as np

import dtwrl
from envs.corridor import COARSEST, build_corridor
from experiments.cli import fail, field, require_at_least, table_main
from experiments.long_benchmark import pair_sets
from experiments.reporting import titled_table

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ucr"


@dataclasses.dataclass
class Args:
    long_lengths: tuple[int, ...] = field((1000, 10_000), "n = m of the synthetic, tiled and random-walk sets")
    long_pairs: int = field(3, "pairs per generated set")
    radii: tuple[int, ...] = field((8, 16, 32), "corridor radii r")
    coarsest: tuple[int, ...] = field((COARSEST, 512), "coarsest levels c (series of at most c are not pooled)")
    data_root: str = field(os.environ.get("DTWRL_UCR_ROOT", str(DEFAULT_DATA)), "UCR folder (unused sets: skipped)")
    long_root: str = field(str(DEFAULT_DATA.parent / "long"), "folder of the long recordings (*.csv); none: skipped")
    seed: int = field(20261201, "seed of the pairs (the long benchmark's default: the same pairs)")
    out: str = field("", "also write the table to this markdown file")


def validate(args):
    """Every flag, before any work (one line ``error: --flag: ...`` and exit 2 otherwise)."""
    require_at_least(args, 1, "long_pairs")
    require_at_least(args, 0, "seed")
    if not args.long_lengths or min(args.long_lengths) < 2:
        fail("--long-lengths", f"must be lengths >= 2; got {args.long_lengths}")
    if not args.radii or min(args.radii) < 0:
        fail("--radii", f"must be radii >= 0; got {args.radii}")
    if not args.coarsest or min(args.coarsest) < 2:
        fail("--coarsest", f"must be sizes >= 2; got {args.coarsest}")
    return args


def _z(a):
    return (a - a.mean()) / a.std()


def smooth_noise(rng, n):
    """Two independent 50-sample moving averages of white noise, z-normalised, ``(n, 1)`` each."""
    kernel = np.ones(50) / 50
    return tuple(_z(np.convolve(rng.normal(size=n + 49), kernel, "valid"))[:, None] for _ in range(2))


def sines(rng, n):
    """A sum of three sines (5 to 50 periods over the series) against a warped copy with noise, z-normalised."""
    t = np.linspace(0.0, 1.0, n)
    freqs, phases = rng.uniform(5, 50, 3), rng.uniform(0, 6, 3)
    warped = t + 0.05 * np.sin(2 * np.pi * rng.uniform(1, 4) * t)
    x = sum(np.sin(2 * np.pi * f * t + p) for f, p in zip(freqs, phases))
    y = sum(np.sin(2 * np.pi * f * warped + p) for f, p in zip(freqs, phases)) + 0.1 * rng.normal(size=n)
    return _z(x)[:, None], _z(y)[:, None]


def sweep_sets(args):
    """``{name: [(x, y), ...]}``: the long benchmark's long sets, then the two families at each length."""
    sets = pair_sets(args.long_lengths, args.long_pairs, 0, args.data_root, args.long_root, args.seed)
    sets = {name: pairs for name, pairs in sets.items() if pairs}
    rng = np.random.default_rng([args.seed, 2])
    for n in args.long_lengths:
        sets[f"moving averages of noise n={n}"] = [smooth_noise(rng, n) for _ in range(args.long_pairs)]
        sets[f"three sines, warped n={n}"] = [sines(rng, n) for _ in range(args.long_pairs)]
    return sets


def corridor_optimum(x, y, radius, coarsest):
    """``(corridor optimum / exact DTW, CPU seconds of the build)`` of one pair."""
    start = time.process_time()
    corridor = build_corridor(x, y, radius=radius, coarsest=coarsest)
    seconds = time.process_time() - start
    return corridor.value(0, 0) / dtwrl.dtw(x, y), seconds


def run(args, log=print):
    """The table: one row per set, one column per (c, r): mean ratio (mean CPU ms per pair)."""
    sets = sweep_sets(args)
    settings = [(c, r) for c in args.coarsest for r in args.radii]
    build_corridor(np.zeros((40, 1)), np.ones((30, 1)), radius=1, coarsest=8)  # compile before timing
    rows = []
    for name, pairs in sets.items():
        log(f"{name}: {len(pairs)} pairs ...")
        cells = []
        for coarsest, radius in settings:
            got = np.array([corridor_optimum(x, y, radius, coarsest) for x, y in pairs])
            cells.append(f"{got[:, 0].mean():.4f} ({1e3 * got[:, 1].mean():.1f})")
        rows.append([name, *cells])
    header = ["set", *(f"c={c}, r={r}" for c, r in settings)]
    title = "Corridor optimum over exact DTW, mean (CPU ms to build the corridor per pair)"
    return titled_table(title, header, rows, args.out)


#: Parse the flags, run, print the table (also returned).
main = table_main(Args, run, __doc__.splitlines()[0], validate)


if __name__ == "__main__":
    main()
