"""Exact DTW against FastDTW on pairs of real series: cost ratio, optimality and time per pair.

Draws pairs from a pair source (the vendored UCR GunPoint by default), aligns each
with exact DTW (full and banded) and with FastDTW at several radii, prices every
path under the same local cost, and writes ``results/compare_oracles/<run>/``:
``config.json``, ``metrics.json``, ``table.md`` and ``figures/ratios.png``.

    python experiments/compare_oracles.py --pairs GunPoint --num-pairs 100
"""

import experiments  # noqa: F401  (first: silences TensorFlow and gym start-up noise)

# isort: split
import dataclasses
import time

import numpy as np

import dtwrl
from dtwrl import runs
from dtwrl.datasets import as_pair_source, iter_pairs
from dtwrl.runs import write_json
from dtwrl.validation import check_metric
from experiments.cli import blame, cli_main, fail, field, parse_args
from experiments.run_folders import checked_run_dir, run_name, seed_everything, write_config


@dataclasses.dataclass
class Args:
    pairs: str = field("GunPoint", "built-in dataset name or UCR/UEA .ts/.tsv path to draw pairs from")
    num_pairs: int = field(100, "number of pairs to align")
    radii: tuple[int, ...] = field((1, 10), "FastDTW radii to compare")
    band_fraction: float = field(0.1, "Sakoe-Chiba band of the banded exact DTW, as a fraction of the longer series")
    metric: str = field("sqeuclidean", "local cost: sqeuclidean, euclidean or abs")
    seed: int = field(0, "seed of the pair draws")
    out_dir: str = field("results", "root folder of run outputs")


def _methods(args, n, m):
    """Name -> aligner(x, y) -> (cost, path), for one pair's lengths."""
    band = max(int(np.ceil(args.band_fraction * max(n, m))), dtwrl.min_band(n, m))
    methods = {
        "exact DTW": lambda x, y: dtwrl.dtw_path(x, y, metric=args.metric),
        f"exact DTW, band {args.band_fraction:.0%}": lambda x, y: dtwrl.dtw_path(x, y, metric=args.metric, band=band),
    }
    for radius in args.radii:
        methods[f"FastDTW r={radius}"] = lambda x, y, r=radius: dtwrl.fastdtw_path(x, y, radius=r, metric=args.metric)
    return methods


def check_args(args):
    """Refuse bad flags (:class:`~experiments.cli.CLIError` naming the flag) before anything runs."""
    if args.num_pairs < 1:
        fail("--num-pairs", f"must be >= 1; got {args.num_pairs}")
    if not args.radii:
        fail("--radii", "needs at least one radius")
    for radius in args.radii:
        if radius < 1:
            fail("--radii", f"every radius must be >= 1; got {radius}")
    if not (np.isfinite(args.band_fraction) and 0 < args.band_fraction <= 1):
        fail("--band-fraction", f"must be a fraction in (0, 1]; got {args.band_fraction}")
    if args.seed < 0:
        fail("--seed", f"must be >= 0; got {args.seed}")
    with blame("--metric"):
        check_metric(args.metric)


def load_pairs(args):
    """The pair source of ``--pairs``, with a source that cannot be read or drawn from blamed on ``--pairs``."""
    with blame("--pairs"):
        try:
            source = as_pair_source(args.pairs)
            next(iter_pairs(source, args.seed, 1))
        except OSError as error:
            reason = str(error) if error.strerror is None else f"cannot read {args.pairs!r} ({error.strerror})"
            raise ValueError(reason) from None
        except (KeyError, IndexError, StopIteration) as error:
            raise ValueError(f"cannot draw a pair from {args.pairs!r} ({error!r})") from None
    return source


def compare(args, source=None):
    """Align ``args.num_pairs`` pairs with every method; return per-method cost ratios and times."""
    source = as_pair_source(args.pairs) if source is None else source
    warm_x, warm_y = next(iter_pairs(source, args.seed, 1))
    for align in _methods(args, len(warm_x), len(warm_y)).values():  # compile the numba kernels first
        align(warm_x, warm_y)
    ratios, seconds = {}, {}
    for x, y in iter_pairs(source, args.seed, args.num_pairs):
        exact = None
        for name, align in _methods(args, len(x), len(y)).items():
            start = time.perf_counter()
            cost, _ = align(x, y)
            seconds.setdefault(name, []).append(time.perf_counter() - start)
            exact = cost if exact is None else exact
            ratios.setdefault(name, []).append(cost / exact if exact > 0 else 1.0)
    return {name: np.array(r) for name, r in ratios.items()}, {name: np.array(s) for name, s in seconds.items()}


def summarise(ratios, seconds):
    """Per method: mean and 90th-percentile cost ratio, fraction optimal, median ms per pair."""
    return {
        name: {
            "mean_ratio": float(r.mean()),
            "p90_ratio": float(np.percentile(r, 90)),
            "fraction_optimal": float(np.mean(r <= 1 + 1e-9)),
            "median_ms_per_pair": float(np.median(seconds[name]) * 1e3),
        }
        for name, r in ratios.items()
    }


def oracle_table(summary):
    """The markdown table of :func:`summarise`'s rows."""
    return runs.markdown_table(
        ["method", "mean cost / DTW", "p90 cost / DTW", "optimal", "ms per pair"],
        [
            [
                name,
                f"{s['mean_ratio']:.3f}",
                f"{s['p90_ratio']:.3f}",
                f"{s['fraction_optimal']:.0%}",
                f"{s['median_ms_per_pair']:.2f}",
            ]
            for name, s in summary.items()
        ],
        align="lrrrr",
    )


def plot_ratios(ratios):
    """A box plot of each approximate method's cost ratio; returns the Matplotlib figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 3.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    names = [n for n in ratios if n.startswith("FastDTW") or "band" in n]
    axes.boxplot([ratios[n] for n in names], tick_labels=names, showfliers=True)
    axes.axhline(1.0, color="grey", linewidth=0.8)
    axes.set_ylabel("path cost / exact DTW")
    axes.set_title("Cost of each method's path, relative to exact DTW")
    figure.tight_layout()
    return figure


@cli_main
def main(argv=None):
    args = parse_args(Args, argv, description=__doc__, validate=check_args)
    seed_everything(args.seed)
    source = load_pairs(args)
    ratios, seconds = compare(args, source)
    summary = summarise(ratios, seconds)
    table = oracle_table(summary)
    run_dir = checked_run_dir(
        "compare_oracles", run_name(str(args.pairs).split("/")[-1], "oracles", args.seed), args.out_dir
    )
    write_config(run_dir, args)
    runs.save_figure(plot_ratios(ratios), run_dir / "figures" / "ratios.png")
    write_json(run_dir / "metrics.json", summary)
    runs.atomic_write_text(run_dir / "table.md", table + "\n")
    print(table)
    print(f"\nwrote {run_dir}")
    return summary


if __name__ == "__main__":
    main()
