"""Exact DTW (value + path) against FastDTW, univariate random walks.

Times ``dtwrl.dtw_path`` without a band and with a 10% band (``ceil(0.1 n)``)
against ``fastdtw.fastdtw(x, y, radius=1)`` on the same pairs, interleaving
the three in every repeat, and prints a markdown table of median times,
speed-ups and FastDTW's cost relative to the exact optimum. Both sides use the
L1 local cost (fastdtw's default ``dist``), so they price cells identically.
Both are single-threaded; the default clock is the thread's CPU time, which
stays faithful on a shared, busy machine (``--clock wall`` for wall time).

    python experiments/benchmark_dtw.py --quick
    python experiments/benchmark_dtw.py --repeats 7
"""

import experiments  # noqa: F401  (first: silences TensorFlow and gym start-up noise)

# isort: split
import math
import time

import numpy as np
from fastdtw import fastdtw

from dtwrl import dtw_path, path_cost
from experiments.cli import OneLineParser, cli_main, fail

SIZES = (100, 250, 500, 1000, 2000, 5000)
QUICK_SIZES = (100, 250, 500, 1000)


CLOCKS = {"cpu": time.thread_time, "wall": time.perf_counter}


def _timed(clock, func, *args, **kwargs):
    start = clock()
    out = func(*args, **kwargs)
    return clock() - start, out


def run(quick=False, repeats=None, seed=0, clock="cpu"):
    """Benchmark every size and return one dict of medians per size.

    Parameters
    ----------
    quick : bool
        Sizes 100..1000 and 3 repeats instead of 100..5000 and 5.
    repeats : int or None
        Overrides the number of timed repeats.
    seed : int
        Seed of the random-walk pairs.
    clock : {"cpu", "wall"}
        Thread CPU time or wall-clock time.

    Returns
    -------
    list of dict
        Keys: ``n``, ``band``, ``dtw_path_ms``, ``dtw_path_band_ms``,
        ``fastdtw_ms``, ``speedup``, ``speedup_band``, ``fastdtw_cost_ratio``.
    """
    sizes = QUICK_SIZES if quick else SIZES
    repeats = repeats or (3 if quick else 5)
    timer = CLOCKS[clock]
    rng = np.random.default_rng(seed)
    dtw_path(rng.standard_normal(8), rng.standard_normal(8), metric="abs")  # compile or load the kernels
    dtw_path(rng.standard_normal(8), rng.standard_normal(8), metric="abs", band=1)
    rows = []
    for n in sizes:
        x, y = np.cumsum(rng.standard_normal(n)), np.cumsum(rng.standard_normal(n))
        band = math.ceil(0.1 * n)
        times = {"exact": [], "band": [], "fastdtw": []}
        for _ in range(repeats):
            t, (exact_cost, _) = _timed(timer, dtw_path, x, y, metric="abs")
            times["exact"].append(t)
            t, _ = _timed(timer, dtw_path, x, y, metric="abs", band=band)
            times["band"].append(t)
            t, (_, fast_path) = _timed(timer, fastdtw, x, y, radius=1)
            times["fastdtw"].append(t)
        ms = {key: 1e3 * float(np.median(value)) for key, value in times.items()}
        rows.append(
            {
                "n": n,
                "band": band,
                "dtw_path_ms": ms["exact"],
                "dtw_path_band_ms": ms["band"],
                "fastdtw_ms": ms["fastdtw"],
                "speedup": ms["fastdtw"] / ms["exact"],
                "speedup_band": ms["fastdtw"] / ms["band"],
                "fastdtw_cost_ratio": path_cost(x, y, fast_path, metric="abs") / exact_cost,
            }
        )
    return rows


def results_table(rows):
    """Render :func:`run`'s rows as a markdown table."""
    from dtwrl.runs import markdown_table as table

    return table(
        [
            "n",
            "dtw_path (ms)",
            "dtw_path, band 10% (ms)",
            "fastdtw r=1 (ms)",
            "speed-up",
            "speed-up, band",
            "FastDTW cost / exact",
        ],
        [
            [
                r["n"],
                f"{r['dtw_path_ms']:.2f}",
                f"{r['dtw_path_band_ms']:.2f}",
                f"{r['fastdtw_ms']:.1f}",
                f"{r['speedup']:.0f}x",
                f"{r['speedup_band']:.0f}x",
                f"{r['fastdtw_cost_ratio']:.3f}",
            ]
            for r in rows
        ],
        align="rrrrrrr",
    )


@cli_main
def main(argv=None):
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="sizes 100..1000 and 3 repeats")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per size (default 5, quick 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random walks")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu", help="thread CPU time (default) or wall time")
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        fail("--repeats", f"must be >= 1; got {args.repeats}")
    repeats = args.repeats or (3 if args.quick else 5)
    rows = run(quick=args.quick, repeats=repeats, seed=args.seed, clock=args.clock)
    print(
        "exact DTW (value + path) vs fastdtw(radius=1), univariate random walks, L1 cost, "
        f"median {args.clock} time of {repeats} repeats"
    )
    print(results_table(rows))
    return rows


if __name__ == "__main__":
    main()
