"""Run every dtwrl benchmark suite in one process and print their tables.

Suites (each is also a script of its own with more options):
  dtw       exact DTW (value + path) against fastdtw(radius=1), with and without a band
  soft_dtw  soft-DTW value + gradient in TensorFlow against a per-pair numba loop and a naive TF loop
  env       the vectorised warping-path environment against Gymnasium's SyncVectorEnv

    python experiments/benchmark.py                 # all suites, full sizes
    python experiments/benchmark.py --quick dtw env # a quick look at two suites
"""

import experiments  # noqa: F401  (first: silences TensorFlow and gym start-up noise)

# isort: split
import argparse
import importlib

from experiments.cli import OneLineParser, cli_main, fail

SUITES = {
    "dtw": "experiments.benchmark_dtw",
    "soft_dtw": "experiments.benchmark_soft_dtw",
    "env": "experiments.benchmark_env",
}


@cli_main
def main(argv=None):
    parser = OneLineParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "suites", nargs="*", metavar="SUITE", help=f"suites to run, among {', '.join(SUITES)} (default: all)"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats, for a smoke run")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.suites) - set(SUITES))
    if unknown:
        fail("SUITE", f"unknown suite(s) {', '.join(unknown)}; choose among {', '.join(SUITES)}")
    for suite in args.suites or list(SUITES):
        print(f"\n## {suite}\n", flush=True)
        importlib.import_module(SUITES[suite]).main(["--quick"] if args.quick else [])


if __name__ == "__main__":
    main()
