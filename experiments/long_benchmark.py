"""``benchmark_aligner.py --long``: aligners on long pairs, time and peak added memory per pair, cost ratios.

Pair sets: synthetic warps (``dtwrl.datasets.SyntheticPairs``) and tiled and
warped real series (the ElectricDevices recording's test part tiled to n, a
warped noisy copy as y) and pairs of unrelated series (two independent
z-normalised Gaussian random walks, no warp between them, drawn from their own
generator so that adding them changed no other set) at every ``--long-lengths``
n; the test parts of the
long recordings under ``../shared/data/long/`` or ``--long-root`` (each split in
halves; pairs of different recordings of one kind, :func:`recording_kinds`: the
ECG ones here); GunPoint test, ItalyPowerDemand test and
BasicMotions test pairs. Only the ``"test"`` split of the long recordings is
read (``dtwrl.datasets.long_recordings``): ``pretrain_aligner.py`` trains on
the disjoint ``"train"`` split.

Methods: the policy on the corridor observation (greedy), ``HeuristicAligner``
on the same observation, exact DTW (``dtwrl.dtw_path``; for n * m above
``EXACT_PATH_CELLS`` only the value ``dtwrl.dtw``, O(m) memory: its time is
reported and the ratios use it), FastDTW r=1 and exact DTW inside the
Sakoe-Chiba band whose width gives it about the policy's time (calibrated per
set on its first pair). Time is process CPU time per pair; memory is the peak
resident set added while a method aligns one pair (``/proc/self/status``
VmHWM, reset through ``/proc/self/clear_refs``; NaN where Linux does not offer it).
"""

import re
import time
from pathlib import Path

import numpy as np

import dtwrl
from agents.evaluation import ratio_stats
from dtwrl.bands import min_band
from dtwrl.datasets import DatasetPairs, SyntheticPairs, gunpoint_pairs, load_ucr
from dtwrl.datasets.long_recordings import load_long_recordings
from dtwrl.datasets.synthetic import random_monotone_warp, resample
from dtwrl.exact_dtw import cost_ratio, path_cost

#: Above this many cells (n * m) exact DTW reports its value only (``dtwrl.dtw``): no path, O(m) memory.
EXACT_PATH_CELLS = 2 * 10**8
#: The band width the banded DP is first timed at, to calibrate the width that matches the policy's time.
PROBE_BAND = 16


def _status_kb(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    return None


def measure(fn):
    """``(result, CPU seconds, peak added MB)`` of ``fn()``."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current resident set
        before = _status_kb("VmRSS:")
    except OSError:
        before = None
    start = time.process_time()
    result = fn()
    seconds = time.process_time() - start
    peak = np.nan if before is None else max(_status_kb("VmHWM:") - before, 0) / 1024
    return result, seconds, peak


def _warped_copy(rng, x, n, noise=0.05):
    """x resampled along a random monotone warp to n samples, plus noise scaled by x's spread."""
    positions = random_monotone_warp(rng, len(x), n)
    return resample(x, positions) + noise * x.std() * rng.normal(size=(n, x.shape[1]))


def random_walk(rng, n):
    """A z-normalised Gaussian random walk ``(n, 1)``: a series with no shape in common with another one.

    >>> w = random_walk(np.random.default_rng(0), 500)
    >>> w.shape, round(float(w.mean()), 6), round(float(w.std()), 6)
    ((500, 1), 0.0, 1.0)
    """
    walk = np.cumsum(rng.normal(size=(n, 1)), axis=0)
    return (walk - walk.mean()) / walk.std()


def recording_kinds(recordings):
    """``{kind: [series, ...]}``: the recordings (``{file stem: series}``) grouped by kind, the leading letters of
    their names in lower case, so that different recordings of one source are paired and unrelated ones are not.

    >>> recordings = {"ecg-diff-count-3_TEST": 1, "ecg-diff-count-3_TRAIN_A": 2, "ElectricDevices": 3}
    >>> sorted(recording_kinds(recordings).items())
    [('ecg', [1, 2]), ('electricdevices', [3])]
    """
    kinds = {}
    for name, series in recordings.items():
        match = re.match(r"[A-Za-z]+", name)
        kinds.setdefault((match.group(0) if match else name).lower(), []).append(series)
    return kinds


def pair_sets(lengths, pairs_per_set, short_pairs, data_root, long_root, seed):
    """``{name: [(x, y), ...]}`` of every set (see the module docstring); sets whose files are missing are skipped."""
    rng = np.random.default_rng(seed)
    walks = np.random.default_rng([seed, 1])
    sets = {}
    recordings = load_long_recordings(long_root, "test")
    for n in lengths:
        count = pairs_per_set if n < 100_000 else max(1, min(pairs_per_set, 2))
        sets[f"synthetic warp n={n}"] = [SyntheticPairs(n=n)(rng) for _ in range(count)]
        if "ElectricDevices" in recordings:
            base = recordings["ElectricDevices"]
            tiled = np.tile(base, (n // len(base) + 1, 1))
            pairs = []
            for _ in range(count):
                start = int(rng.integers(0, len(base)))
                x = np.ascontiguousarray(tiled[start : start + n] if start + n <= len(tiled) else tiled[:n])
                pairs.append((x, _warped_copy(rng, x, n)))
            sets[f"tiled+warped ElectricDevices n={n}"] = pairs
        sets[f"unrelated random walks n={n}"] = [(random_walk(walks, n), random_walk(walks, n)) for _ in range(count)]
    if recordings:
        sets["long recordings: halves"] = [(r[: len(r) // 2], r[len(r) // 2 :]) for r in recordings.values()]
        for kind, group in recording_kinds(recordings).items():
            if len(group) > 1:
                sets[f"long recordings: different {kind.upper()} recordings"] = [
                    (group[a], group[b]) for a in range(len(group)) for b in range(a + 1, len(group))
                ]
    short = {
        "GunPoint test": lambda: gunpoint_pairs("test"),
        "ItalyPowerDemand test": lambda: DatasetPairs(load_ucr(str(Path(data_root) / "ItalyPowerDemand"), "test")[0]),
        "BasicMotions test": lambda: DatasetPairs(load_ucr(str(Path(data_root) / "BasicMotions"), "test")[0]),
    }
    for name, source in short.items():
        try:
            draw = source()
        except (OSError, ValueError):
            continue
        sets[name] = [draw(rng) for _ in range(short_pairs)]
    return sets


def _exact(x, y):
    if len(x) * len(y) <= EXACT_PATH_CELLS:
        cost, path = dtwrl.dtw_path(x, y)
        return cost, path
    return dtwrl.dtw(x, y), None


def _band_width(x, y, seconds):
    """The Sakoe-Chiba half-width whose banded DP takes about ``seconds`` on (x, y), timed at PROBE_BAND."""
    floor = min_band(len(x), len(y))
    probe = max(PROBE_BAND, floor)
    _, spent, _ = measure(lambda: dtwrl.dtw_path(x, y, band=probe))
    width = int(round((probe + 0.5) * seconds / max(spent, 1e-9) - 0.5))
    return int(min(max(width, floor), max(len(x), len(y))))


def warm_up(methods, n=300):
    """Compile every code path :func:`run_set` times, before it times any: each method, the exact DP's path and value,
    and the banded DP, on one pair of ``n`` x ``0.9 n`` samples (past the corridor's coarsest level, so its pyramid
    is built too). Without it, in a fresh checkout (an empty numba cache) the first set's times held the compiles.

    >>> warm_up({"diagonal": lambda pairs: [np.array([[0, 0], [1, 1]]) for _ in pairs]}, n=12)
    """
    t = np.arange(float(n))
    x, y = np.sin(t / 7)[:, None], np.cos(t[: int(0.9 * n)] / 5)[:, None]
    for align in methods.values():
        align([(x, y)])
    _exact(x, y)
    dtwrl.dtw(x, y)
    dtwrl.dtw_path(x, y, band=PROBE_BAND)


def run_set(pairs, methods, band_from="policy"):
    """Per method: ratio stats, ms per pair, peak added MB; plus exact DTW and the band matched to ``band_from``.

    Parameters
    ----------
    pairs : list of (x (n, d), y (m, d))
    methods : dict
        ``{label: align_pairs}``; each aligns a list of pairs.
    band_from : str
        Label of the method whose mean time the banded DP is matched to.

    Returns
    -------
    dict
        ``{label: {"mean", "p90", "frac_optimal", "ms", "peak_mb", ...}}``, ``"band"``: the width used.
    """
    pairs = [(np.asarray(x, float).reshape(len(x), -1), np.asarray(y, float).reshape(len(y), -1)) for x, y in pairs]
    exact, exact_s, exact_mb = zip(*[measure(lambda x=x, y=y: _exact(x, y)) for x, y in pairs])
    optimum = np.array([cost for cost, _ in exact])
    rows = {}
    for label, align in methods.items():
        paths, seconds, peak = zip(*[measure(lambda x=x, y=y: align([(x, y)])[0]) for x, y in pairs])
        costs = np.array([path_cost(x, y, p) for (x, y), p in zip(pairs, paths)])
        rows[label] = {**ratio_stats(cost_ratio(costs, optimum)), "ms": 1e3 * np.mean(seconds), "peak_mb": max(peak)}
    width = _band_width(*pairs[0], np.mean([rows[band_from]["ms"] / 1e3]))
    banded, seconds, peak = zip(*[measure(lambda x=x, y=y: dtwrl.dtw_path(x, y, band=width)) for x, y in pairs])
    rows[f"exact DTW in a band of {width}"] = {
        **ratio_stats(cost_ratio(np.array([cost for cost, _ in banded]), optimum)),
        "ms": 1e3 * np.mean(seconds),
        "peak_mb": max(peak),
    }
    label = "exact DTW (value only)" if exact[0][1] is None else "exact DTW (dtw_path)"
    rows[label] = {**ratio_stats(np.ones(len(pairs))), "ms": 1e3 * np.mean(exact_s), "peak_mb": max(exact_mb)}
    return rows


def table_rows(rows):
    """Markdown rows: method, mean, p90, at optimum, ms / pair, peak added MB."""
    return [
        [
            label,
            f"{r['mean']:.4f}",
            f"{r['p90']:.4f}",
            f"{100 * r['frac_optimal']:.0f}%",
            f"{r['ms']:.1f}",
            f"{r['peak_mb']:.1f}",
        ]
        for label, r in rows.items()
    ]


TABLE_HEADER = ["method", "mean ratio", "p90 ratio", "at optimum", "ms / pair (CPU)", "peak added MB"]


def growth_table(report, prefix="synthetic warp n="):
    """Markdown table of ms / pair per method at each n of the ``prefix`` sets, and the growth over the last step.

    ``report`` is ``run_long``'s (``{"sets": {name: rows}}``); the banded DP's label loses its width.

    >>> rows = {"synthetic warp n=10": {"a": {"ms": 1.0}}, "synthetic warp n=100": {"a": {"ms": 9.0}}}
    >>> growth_table({"sets": rows})
    (['method', 'n = 10', 'n = 100', 'x from 10 to 100'], [['a', '1.0', '9.0', '9.0']])
    """
    sizes = sorted(int(name[len(prefix) :]) for name in report["sets"] if name.startswith(prefix))
    times = {}
    for n in sizes:
        for label, row in report["sets"][f"{prefix}{n}"].items():
            key = "exact DTW in a matched band" if label.startswith("exact DTW in a band") else label
            key = "exact DTW (path; value only at n*m > 2e8)" if key.startswith("exact DTW (") else key
            times.setdefault(key, {})[n] = row["ms"]
    header = ["method", *[f"n = {n:,}" for n in sizes]]
    if len(sizes) > 1:
        header.append(f"x from {sizes[-2]:,} to {sizes[-1]:,}")
    body = []
    for label, by_n in times.items():
        cells = [f"{by_n[n]:.1f}" if n in by_n else "-" for n in sizes]
        if len(sizes) > 1:
            a, b = by_n.get(sizes[-2]), by_n.get(sizes[-1])
            cells.append(f"{b / a:.1f}" if a and b else "-")
        body.append([label, *cells])
    return header, body
