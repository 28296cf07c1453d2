"""Benchmark soft-DTW value + gradient on CPU: dtwrl's default call against a per-pair numba loop and tslearn.

Each implementation computes the soft-DTW values of a float32 batch and their
gradient with respect to x (d = 1, sqeuclidean cost):

- ``numba per-pair loop``: forward R and backward E of Cuturi & Blondel per pair
  (float64), looped over the batch, the gradient chained to x by NumPy;
- ``tslearn per-pair``: ``tslearn.metrics.soft_dtw_alignment`` per pair (its
  value and alignment in one call), gradient chained likewise (needs the
  ``[bench]`` extra; skipped with a message when tslearn is missing);
- ``dtwrl soft_dtw eager`` / ``tf.function``: :func:`dtwrl.soft_dtw` with its
  defaults (``implementation="auto"``: on CPU, from two pairs on, the SIMD lane
  kernel), under ``tf.GradientTape``;
- ``dtwrl SoftDTWLoss tf.function``: the Keras loss as ``model.fit`` runs it;
- ``dtwrl wavefront tf.function`` / ``XLA``: ``implementation="tf"`` and the
  default call under ``jit_compile=True``;
- ``dtwrl numba kernel tf.function``: ``implementation="numba"``, the numba
  engine (float64 accumulation, parallel over pairs) that ``"auto"`` picks for
  one long pair and past the memory budget (costs on the fly, no ``B x n x m``).

Timings are medians over ``--repeats`` calls taken round-robin (each call once
untimed first: tracing, compilation), so the load of a shared machine hits
every implementation alike. Mcells/s is ``B * n * m / wall time``. Peak memory
is the process's peak resident set (``VmHWM``, reset before one extra call of
each implementation) and its rise over the resident set just before the call.
``--long`` also times B=8, n=m=4096 (d=1): the default call (there the numba
kernel in memory-light blocks, as the lane kernel's stored weights would pass
the memory budget), the memory-light mode, and the light mode with a 10% band.

    python experiments/benchmark_soft_dtw.py            # the three issue sizes
    python experiments/benchmark_soft_dtw.py --quick    # tiny sizes, seconds
    python experiments/benchmark_soft_dtw.py --long     # plus B=8, n=m=4096
    python experiments/benchmark_soft_dtw.py --corridor --repeats 3   # the corridor section only

``--corridor`` times the sparse corridor engine (``soft_dtw(corridor=...)``) instead: per cell inside
the corridors, against the full kernel at equal cells per pair (a square grid of that many cells) and
against ``band=`` of the same width; and full soft-DTW per cell at B=4, n=m=8192 and B=1, n=m=16384
against 64 x 256^2 (``--corridor-long``; about a minute of CPU each). The corridors are paths of random
moves widened to about 3% of the grid (:mod:`dtwrl.corridors`), so the pairs' corridors differ (a lane
group of the SIMD kernel would visit the union of its 16 lanes' corridors: the engine runs them on its
diagonal kernel, each pair's own cells). Another row times the long-horizon training call: B=8,
n=m=8192, the band corridor of 3% of the cells (``band:frac=0.015``, as long_horizon.py's 3% budget).

``--lattice`` times one training step's loss (value + gradient) in the GunPoint setting of
``results/tables/rl_forecast_gunpoint_mlp.md`` (B=32 pairs, horizon 60; random walks stand in for the
forecasts): soft-DTW; the policy lattice loss ``PathLoss(path_reduction="lattice", lattice_radius=3)``
with 16 paths sampled at temperature 8 on every step (now on the corridor engine), its soft-DTW alone on a
fixed lattice, dense (+inf off the lattice over the whole grid, the former implementation) and on the
corridor; and ``SoftDTWLoss(corridor="policy_samples:k=16,t=8,r=3", corridor_every=20)``, the same lattice
sampled once every 20 steps (each pair's corridor kept for 20 calls; the benchmark's batch
repeats). Then, as ``experiments/rl_forecast.py --lattice-every k`` trains (40 training
series, each step a random 32 of them, the forecasts changing every step): the CPU time per step, amortised
over ``--lattice-steps`` steps taken round-robin, of soft-DTW and of the lattice loss whose pairs keep their
sampled paths for k steps (``dtwrl.aligners.ReusedPaths``), for k in ``--lattice-every``.
"""

import experiments  # noqa: F401  (first: silences TensorFlow and gym start-up noise)

# isort: split
import dataclasses
import math
import sys
import time

import numba
import numpy as np
import tensorflow as tf

from dtwrl import corridors
from dtwrl.runs import write_json
from dtwrl.tf import _lanes
from dtwrl.tf.losses import SoftDTWLoss
from dtwrl.tf.sdtw import soft_dtw
from dtwrl.validation import check_gamma
from experiments.cli import blame, fail, field, parse_args, require_at_least
from experiments.memory import peak_memory_mb

SIZES = ((64, 256, 256), (16, 512, 512), (256, 64, 64))
QUICK_SIZES = ((8, 32, 32), (4, 64, 48))
LONG_SIZE = (8, 4096, 4096)


@dataclasses.dataclass
class Args:
    quick: bool = field(False, "tiny sizes for a smoke run (seconds)")
    repeats: int = field(5, "timed calls per implementation (>= 1); the median is reported")
    gamma: float = field(1.0, "soft-DTW smoothing (> 0)")
    long: bool = field(False, "also time B=8, n=m=4096 (memory-light mode, without and with a 10%% band)")
    corridor: bool = field(False, "time the corridor engine instead (ns per cell against the full kernel)")
    corridor_long: bool = field(False, "with --corridor: also full soft-DTW at B=4, n=8192 and B=1, n=16384")
    lattice: bool = field(False, "time the policy lattice loss per step against soft-DTW (GunPoint setting)")
    lattice_every: tuple[int, ...] = field(
        (1, 2, 10, 20, 40, 100), "with --lattice: the reuse periods k timed on the training stream (ints >= 1)"
    )
    lattice_steps: int = field(200, "with --lattice: steps of the training stream per case (>= 1)")
    json: str = field("", "optional path to write the rows as JSON")


# ----------------------------------------------------------------------------
# baselines: per-pair loops
# ----------------------------------------------------------------------------
@numba.njit(cache=True)
def _njit_soft_dtw_grad(D, gamma):
    n, m = D.shape
    R = np.full((n + 2, m + 2), np.inf)
    R[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            r0 = -R[i - 1, j - 1] / gamma
            r1 = -R[i - 1, j] / gamma
            r2 = -R[i, j - 1] / gamma
            rmax = max(r0, r1, r2)
            s = np.exp(r0 - rmax) + np.exp(r1 - rmax) + np.exp(r2 - rmax)
            R[i, j] = D[i - 1, j - 1] - gamma * (np.log(s) + rmax)
    value = R[n, m]
    Dp = np.zeros((n + 2, m + 2))
    Dp[1 : n + 1, 1 : m + 1] = D
    E = np.zeros((n + 2, m + 2))
    E[n + 1, m + 1] = 1.0
    R[1 : n + 1, m + 1] = -np.inf
    R[n + 1, 1 : m + 1] = -np.inf
    R[n + 1, m + 1] = R[n, m]
    for j in range(m, 0, -1):
        for i in range(n, 0, -1):
            a = np.exp((R[i + 1, j] - R[i, j] - Dp[i + 1, j]) / gamma)
            b = np.exp((R[i, j + 1] - R[i, j] - Dp[i, j + 1]) / gamma)
            c = np.exp((R[i + 1, j + 1] - R[i, j] - Dp[i + 1, j + 1]) / gamma)
            E[i, j] = E[i + 1, j] * a + E[i, j + 1] * b + E[i + 1, j + 1] * c
    return value, E[1 : n + 1, 1 : m + 1]


def _chain_to_x(E, x, y):
    """dV/dx of the sqeuclidean soft-DTW from the alignment E (n, m): 2 (rowsum(E) x - E y)."""
    return 2.0 * (E.sum(axis=1)[:, None] * x - E @ y)


def numba_value_and_grad(x, y, gamma):
    """Per-pair loop: sqeuclidean costs, numba soft-DTW and E, gradient chained to x."""
    values = np.empty(len(x))
    grads = np.empty_like(x)
    for b in range(len(x)):
        diff = x[b][:, None, :] - y[b][None, :, :]
        D = np.einsum("ijk,ijk->ij", diff, diff)
        values[b], E = _njit_soft_dtw_grad(D, gamma)
        grads[b] = _chain_to_x(E, x[b], y[b])
    return values, grads


def tslearn_value_and_grad(x, y, gamma):
    """Per-pair loop of tslearn's soft_dtw_alignment (value and alignment in one call), gradient chained to x."""
    from tslearn.metrics import soft_dtw_alignment

    values = np.empty(len(x))
    grads = np.empty_like(x)
    for b in range(len(x)):
        E, values[b] = soft_dtw_alignment(x[b], y[b], gamma=gamma)
        grads[b] = _chain_to_x(E, x[b], y[b])
    return values, grads


def _has_tslearn():
    try:
        import tslearn.metrics  # noqa: F401
    except ImportError:
        return False
    return True


# ----------------------------------------------------------------------------
# dtwrl, as users call it
# ----------------------------------------------------------------------------
def _value_and_grad(fn):
    def value_and_grad(x, y):
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = fn(x, y)
        return value, tape.gradient(value, x)

    return value_and_grad


def dtwrl_variants(gamma):
    """The dtwrl calls to time: name -> callable (x, y) -> (value, gradient wrt x)."""
    default = _value_and_grad(lambda x, y: soft_dtw(x, y, gamma=gamma))
    wavefront = _value_and_grad(lambda x, y: soft_dtw(x, y, gamma=gamma, implementation="tf"))
    numba_kernel = _value_and_grad(lambda x, y: soft_dtw(x, y, gamma=gamma, implementation="numba"))
    loss = SoftDTWLoss(gamma=gamma, reduction="sum")
    keras = _value_and_grad(lambda x, y: loss(y, x))
    return {
        "dtwrl soft_dtw eager": default,
        "dtwrl soft_dtw tf.function": tf.function(default),
        "dtwrl SoftDTWLoss tf.function": tf.function(keras),
        "dtwrl wavefront tf.function": tf.function(wavefront),
        "dtwrl wavefront XLA": tf.function(default, jit_compile=True),
        "dtwrl numba kernel tf.function": tf.function(numba_kernel),
    }


# ----------------------------------------------------------------------------
# timing and memory
# ----------------------------------------------------------------------------
def median_times(calls, repeats):
    """Median wall and CPU seconds of each call, timed round-robin after one untimed call each."""
    for call in calls:
        call()
    wall, cpu = [[] for _ in calls], [[] for _ in calls]
    for _ in range(repeats):
        for k, call in enumerate(calls):
            start, start_cpu = time.perf_counter(), time.process_time()
            call()
            wall[k].append(time.perf_counter() - start)
            cpu[k].append(time.process_time() - start_cpu)
    return [(float(np.median(w)), float(np.median(c))) for w, c in zip(wall, cpu)]


def _check_agreement(expected, got, name):
    """Every timed implementation must compute the same value and gradient (float32 tolerance)."""
    for want, have in zip(expected, got):
        have = have.numpy() if tf.is_tensor(have) else have
        if not np.allclose(have, want, rtol=1e-3, atol=1e-3 * max(1.0, float(np.abs(want).max()))):
            raise AssertionError(f"{name} disagrees with the numba loop (max diff {np.abs(have - want).max():.3g})")


def _row(impl, size, times, memory, baselines):
    (B, n, m), (seconds, cpu_seconds) = size, times
    row = {
        "impl": impl,
        "B": B,
        "n": n,
        "m": m,
        "ms": round(seconds * 1e3, 2),
        "cpu_ms": round(cpu_seconds * 1e3, 2),
        "Mcells_per_s": float(f"{B * n * m / seconds / 1e6:.3g}"),
        "peak_rss_mb": round(memory[0], 1),
        "peak_rise_mb": round(memory[1], 1),
    }
    for name, base in baselines.items():
        row[f"speedup_vs_{name}"] = round(base / seconds, 2)
    return row


def run(quick=False, repeats=5, gamma=1.0, long=False):
    """Time every implementation at every size; return one dict per (implementation, size)."""
    rng = np.random.default_rng(0)
    tslearn = _has_tslearn()
    if not tslearn:
        print("tslearn is not installed: its column is skipped (pip install -e '.[bench]' adds it)", file=sys.stderr)
    variants = dtwrl_variants(gamma)
    rows = []
    for size in QUICK_SIZES if quick else SIZES:
        B, n, m = size
        xn = rng.normal(size=(B, n, 1)).astype(np.float32)
        yn = rng.normal(size=(B, m, 1)).astype(np.float32)
        x, y = tf.constant(xn), tf.constant(yn)
        xd, yd = xn.astype(np.float64), yn.astype(np.float64)
        calls = {"numba per-pair loop": lambda: numba_value_and_grad(xd, yd, gamma)}
        if tslearn:
            calls["tslearn per-pair"] = lambda: tslearn_value_and_grad(xd, yd, gamma)
        calls.update({name: lambda fn=fn: [t.numpy() for t in fn(x, y)] for name, fn in variants.items()})
        reference = numba_value_and_grad(xd, yd, gamma)
        for name, call in calls.items():
            out = call()
            if name.startswith("dtwrl SoftDTWLoss"):
                out = (np.sum(reference[0]), out[1])  # a summed loss: its value is the sum of the pairs'
                _check_agreement([reference[1]], out[1:], name)
            else:
                _check_agreement(reference, out, name)
        times = median_times(list(calls.values()), repeats)
        memory = [peak_memory_mb(call) for call in calls.values()]
        baselines = {"numba": times[0][0]}
        if tslearn:
            baselines["tslearn"] = times[1][0]
        rows += [_row(name, size, t, mem, baselines) for name, t, mem in zip(calls, times, memory)]
    if long:
        rows += run_long(gamma, repeats, rng)
    return rows


def run_long(gamma, repeats, rng):
    """B=8, n=m=4096 value + gradient: the default call (the budget picks the mode), light mode, a 10% band."""
    B, n, m = LONG_SIZE
    x = tf.constant(rng.normal(size=(B, n, 1)).astype(np.float32))
    y = tf.constant(rng.normal(size=(B, m, 1)).astype(np.float32))
    band = math.ceil(0.1 * n)
    cases = {
        "dtwrl soft_dtw eager (long)": {},
        "dtwrl soft_dtw eager light": {"implementation": "light"},
        f"dtwrl soft_dtw eager light band={band}": {"implementation": "light", "band": band},
    }
    rows = []
    for name, kwargs in cases.items():
        call = _value_and_grad(lambda x, y, kwargs=kwargs: soft_dtw(x, y, gamma=gamma, **kwargs))
        memory = peak_memory_mb(lambda: [t.numpy() for t in call(x, y)])  # also the untimed first call
        times = median_times([lambda: [t.numpy() for t in call(x, y)]], max(1, min(repeats, 2)))[0]
        rows.append(_row(name, LONG_SIZE, times, memory, {}))
    return rows


# ----------------------------------------------------------------------------
# the corridor section
# ----------------------------------------------------------------------------
CORRIDOR_SIZE, CORRIDOR_QUICK = (16, 4096, 4096), (4, 256, 256)
CORRIDOR_SHARE = 0.03
HORIZON_BAND, HORIZON_QUICK = (8, 8192, 8192), (8, 256, 256)  # long-horizon training: B = 8, 3% band corridor
HORIZON_SPEC = "band:frac=0.015"  # half-width 1.5% of the length: 3% of the cells
FULL_LONG = ((64, 256, 256), (4, 8192, 8192), (1, 16384, 16384))


def random_corridors(B, n, m, share, rng):
    """Random-move paths widened to about ``share`` of the n x m cells: (corridors, their radius)."""
    radius = max(1, round(share * m / 3))  # widened, a path of random moves holds about 3 r columns per row
    paths = [[corridors.random_path(n, m, rng)] for _ in range(B)]
    return corridors.widen_paths(paths, [n] * B, [m] * B, n, radius), radius


def _cell_row(name, B, n, m, cells, times):
    (wall, cpu) = times
    return {
        "impl": name, "B": B, "n": n, "m": m, "cells_per_pair": int(cells),
        "ms": round(wall * 1e3, 2), "cpu_ms": round(cpu * 1e3, 2),
        "wall_ns_per_cell": round(wall / (B * cells) * 1e9, 2), "cpu_ns_per_cell": round(cpu / (B * cells) * 1e9, 2),
    }  # fmt: skip


def run_corridor(quick=False, repeats=3, gamma=1.0, long=False):
    """The corridor engine per cell against the full kernel at equal cells and the band; full soft-DTW long."""
    rng = np.random.default_rng(0)
    B, n, m = CORRIDOR_QUICK if quick else CORRIDOR_SIZE
    x = tf.constant(rng.normal(size=(B, n, 1)).astype(np.float32))
    y = tf.constant(rng.normal(size=(B, m, 1)).astype(np.float32))
    corridor, radius = random_corridors(B, n, m, CORRIDOR_SHARE, rng)
    cells = float(np.mean(corridors.corridor_cells(corridor, [n] * B)))
    side = round(math.sqrt(cells))
    xs = tf.constant(rng.normal(size=(B, side, 1)).astype(np.float32))
    ys = tf.constant(rng.normal(size=(B, side, 1)).astype(np.float32))
    band_cells = float(np.mean(corridors.corridor_cells(corridors.band_corridor([n] * B, [m] * B, n, radius), [n] * B)))
    Bh, nh, mh = HORIZON_QUICK if quick else HORIZON_BAND
    xh = tf.constant(rng.normal(size=(Bh, nh, 1)).astype(np.float32))
    yh = tf.constant(rng.normal(size=(Bh, mh, 1)).astype(np.float32))
    horizon = corridors.corridor_from_name(HORIZON_SPEC, xh.numpy(), yh.numpy())
    horizon_cells = float(np.mean(corridors.corridor_cells(horizon, [nh] * Bh)))
    cases = [
        (f"corridor ({cells / (n * m):.1%} of the grid)", x, y, {"corridor": corridor}, cells),
        ("corridor, numba kernel", x, y, {"corridor": corridor, "implementation": "numba"}, cells),
        (f"band={radius} (the corridor's radius)", x, y, {"band": radius}, band_cells),
        (f"long horizon: corridor {HORIZON_SPEC}", xh, yh, {"corridor": horizon}, horizon_cells),
        (f"full kernel {side}x{side} (equal cells)", xs, ys, {}, side * side),
    ]
    calls = []
    for _, a, b, kwargs, _ in cases:
        fn = _value_and_grad(lambda x, y, kwargs=kwargs: soft_dtw(x, y, gamma=gamma, **kwargs))
        calls.append(lambda fn=fn, a=a, b=b: [t.numpy() for t in fn(a, b)])
    times = median_times(calls, repeats)
    rows = [_cell_row(name, a.shape[0], a.shape[1], b.shape[1], c, t) for (name, a, b, _, c), t in zip(cases, times)]
    full = rows[-1]["cpu_ns_per_cell"]
    for row in rows:
        row["cpu_vs_full_kernel"] = round(row["cpu_ns_per_cell"] / full, 2)
    if long:
        sizes = ((8, 64, 64), (2, 512, 512), (1, 1024, 1024)) if quick else FULL_LONG
        long_rows = []
        for B, n, m in sizes:
            a = tf.constant(rng.normal(size=(B, n, 1)).astype(np.float32))
            b = tf.constant(rng.normal(size=(B, m, 1)).astype(np.float32))
            fn = _value_and_grad(lambda x, y: soft_dtw(x, y, gamma=gamma))
            t = median_times([lambda: [t.numpy() for t in fn(a, b)]], max(1, min(repeats, 2) if n < 8192 else 1))[0]
            long_rows.append(_cell_row(f"full soft_dtw B={B} n=m={n}", B, n, m, n * m, t))
        for row in long_rows:
            row["cpu_vs_full_kernel"] = round(row["cpu_ns_per_cell"] / long_rows[0]["cpu_ns_per_cell"], 2)
        rows += long_rows
    return rows


def run_lattice(repeats=5, gamma=0.1):
    """Seconds per step (value + gradient) of the lattice losses against soft-DTW, B=32, n=m=60."""
    from agents import PolicyAligner
    from dtwrl.losses import PathLoss
    from dtwrl.tf import _wavefront as wf
    from dtwrl.tf.cost import grid_costs
    from dtwrl.tf.relaxations import align_tf, lattice_mask, lattice_softmin

    rng = np.random.default_rng(0)
    y_true = tf.constant(np.cumsum(rng.normal(size=(32, 60, 1)), axis=1).astype(np.float32))
    y_pred = tf.constant(np.cumsum(rng.normal(size=(32, 60, 1)), axis=1).astype(np.float32))
    sampler = PolicyAligner.pretrained(samples=16, temperature=8.0)
    idx, lengths, owners = align_tf(sampler, y_true, y_pred)

    def dense(y_true, y_pred):
        costs = grid_costs(y_true, y_pred, "sqeuclidean")
        mask = lattice_mask(idx, lengths, owners, tf.shape(costs), 3)
        return wf.dp_value(tf.where(mask, costs, tf.constant(np.inf, costs.dtype)), gamma, "entropy")

    cases = {
        "soft-DTW (SoftDTWLoss)": SoftDTWLoss(gamma=gamma),
        "lattice loss, paths sampled every step": PathLoss(
            sampler, path_reduction="lattice", gamma=gamma, lattice_radius=3
        ),
        "  its sampling alone (16 paths per pair)": None,
        "  soft-DTW on a fixed lattice, dense": dense,
        "  soft-DTW on a fixed lattice, corridor": lambda a, b: lattice_softmin(
            a, b, idx, lengths, owners, "sqeuclidean", gamma, radius=3
        ),
        "corridor policy_samples, corridor_every=20": SoftDTWLoss(
            gamma=gamma, corridor="policy_samples:k=16,t=8,r=3", corridor_every=20
        ),
    }
    calls = []
    for loss in cases.values():
        if loss is None:
            calls.append(lambda: align_tf(sampler, y_true, y_pred)[0].numpy())
            continue
        step = _value_and_grad(
            lambda x, y, loss=loss: tf.reduce_sum(loss(y, x)) if hasattr(loss, "call") else loss(y, x)
        )
        calls.append(lambda step=step: [t.numpy() for t in step(y_pred, y_true)])
    steps = 20 * max(1, repeats // 20)  # whole cycles of corridor_every=20: one sampling step in 20
    walls = []
    for call in calls:
        call()  # untimed: tracing; it also takes the schedule's first sampling, so each cycle below holds one
        start = time.perf_counter()
        for _ in range(steps):
            call()
        walls.append((time.perf_counter() - start) / steps)
    return [
        {"impl": name, "ms_per_step": round(wall * 1e3, 2), "vs_soft_dtw": round(wall / walls[0], 2)}
        for name, wall in zip(cases, walls)
    ]


def run_lattice_reuse(every=(1, 2, 10, 20, 40, 100), steps=200, gamma=0.1, series=40, batch=32, horizon=60):
    """CPU ms per training step (value + gradient) of soft-DTW and of the lattice loss with paths reused k steps.

    ``series`` training targets (random walks); each step takes a random ``batch`` of them, without
    replacement per pass as ``dtwrl.forecasting.training.ForecasterTrainer.run_steps`` draws them, and new
    forecasts (the targets plus fresh noise), so a pair's paths are reused across steps only through
    ``dtwrl.aligners.ReusedPaths(every=k)``. The cases take their steps round-robin on the same batches;
    each reports its mean CPU time per step over all ``steps`` (the steps that sample and those that reuse).
    """
    from agents import PolicyAligner
    from dtwrl.aligners import ReusedPaths
    from dtwrl.losses import PathLoss

    rng = np.random.default_rng(0)
    targets = np.cumsum(rng.normal(size=(series, horizon, 1)), axis=1).astype(np.float32)
    batches = []
    order, start = rng.permutation(series), 0
    for _ in range(steps + 1):
        if start + batch > series:
            order, start = rng.permutation(series), 0
        idx = order[start : start + batch]
        start += batch
        noise = rng.normal(scale=0.5, size=(batch, horizon, 1)).astype(np.float32)
        batches.append((tf.constant(targets[idx]), tf.constant(targets[idx] + noise)))
    cases = {"soft-DTW (SoftDTWLoss)": SoftDTWLoss(gamma=gamma)}
    for k in every:
        sampler = PolicyAligner.pretrained(samples=16, temperature=8.0, seed=0)
        aligner = sampler if k == 1 else ReusedPaths(sampler, every=k)
        label = "every step (today)" if k == 1 else f"sampled every {k} steps"
        cases[f"lattice loss, {label}"] = PathLoss(aligner, path_reduction="lattice", gamma=gamma, lattice_radius=3)
    steps_of = {}
    for name, loss in cases.items():
        step = _value_and_grad(lambda x, y, loss=loss: tf.reduce_sum(loss(y, x)))
        y_true, y_pred = batches[0]
        [t.numpy() for t in step(y_pred, y_true)]  # untimed: tracing (and a first sampling, as in training)
        steps_of[name] = step
    cpu = {name: 0.0 for name in cases}
    wall = {name: 0.0 for name in cases}
    for y_true, y_pred in batches[1:]:
        for name, step in steps_of.items():
            c, w = time.process_time(), time.perf_counter()
            [t.numpy() for t in step(y_pred, y_true)]
            cpu[name] += time.process_time() - c
            wall[name] += time.perf_counter() - w
    base = cpu["soft-DTW (SoftDTWLoss)"]
    return [
        {
            "impl": name,
            "cpu_ms_per_step": round(cpu[name] / steps * 1e3, 2),
            "wall_ms_per_step": round(wall[name] / steps * 1e3, 2),
            "cpu_vs_soft_dtw": round(cpu[name] / base, 2),
        }
        for name in cases
    ]


def format_cell_table(rows):
    """The corridor rows as an aligned text table."""
    head = f"{'case':44s} {'B':>3s} {'n':>6s} {'cells/pair':>11s} {'wall ms':>10s} {'cpu ms':>10s} "
    head += f"{'wall ns/cell':>12s} {'cpu ns/cell':>11s} {'cpu vs full':>11s}"
    lines = [head]
    for r in rows:
        lines.append(
            f"{r['impl']:44s} {r['B']:3d} {r['n']:6d} {r['cells_per_pair']:11d} {r['ms']:10.1f} {r['cpu_ms']:10.1f} "
            f"{r['wall_ns_per_cell']:12.2f} {r['cpu_ns_per_cell']:11.2f} {r['cpu_vs_full_kernel']:10.2f}x"
        )
    return "\n".join(lines)


def check_gamma_and_repeats(args):
    """``--gamma`` and ``--repeats`` (this script's and gpu_check.py's): ``CLIError`` naming the flag."""
    with blame("--gamma"):
        check_gamma(args.gamma)
    require_at_least(args, 1, "repeats")


def validate(args):
    """Every flag of this script: ``CLIError`` naming the flag (``parse_args`` prints it on one line, exit 2)."""
    check_gamma_and_repeats(args)
    if args.corridor_long and not args.corridor:
        fail("--corridor-long", "needs --corridor")
    if not args.lattice_every or any(isinstance(k, bool) or k < 1 for k in args.lattice_every):
        fail("--lattice-every", f"must be ints >= 1; got {list(args.lattice_every)}")
    if args.lattice_steps < 1:
        fail("--lattice-steps", f"must be >= 1; got {args.lattice_steps}")


def format_table(rows):
    """The rows as an aligned text table."""
    baselines = [k for k in ("speedup_vs_numba", "speedup_vs_tslearn") if any(k in r for r in rows)]
    head = f"{'implementation':38s} {'B':>4s} {'n':>5s} {'m':>5s} {'wall ms':>9s} {'cpu ms':>9s} {'Mcells/s':>9s} "
    head += " ".join(f"{'vs ' + k.split('_')[-1]:>10s}" for k in baselines)
    head += f" {'peak MB':>8s} {'rise MB':>8s}"
    lines = [head]
    for r in rows:
        ratios = " ".join(f"{(str(r[k]) + 'x') if k in r else '-':>10s}" for k in baselines)
        lines.append(
            f"{r['impl']:38s} {r['B']:4d} {r['n']:5d} {r['m']:5d} {r['ms']:9.2f} {r['cpu_ms']:9.2f} "
            f"{r['Mcells_per_s']:9.3g} {ratios} {r['peak_rss_mb']:8.0f} {r['peak_rise_mb']:8.0f}"
        )
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(Args, argv, description=__doc__.splitlines()[0], validate=validate)
    lanes = "built" if _lanes.library() is not None else f"unavailable ({_lanes.reason()})"
    if args.lattice:
        rows = run_lattice(args.repeats)
        reuse = run_lattice_reuse(args.lattice_every, args.lattice_steps)
        lines = [
            "B=32, n=m=60, float32, one step's loss value + gradient (wall ms, mean over whole cycles of 20 steps)",
            *(f"{row['impl']:46s} {row['ms_per_step']:9.2f} ms {row['vs_soft_dtw']:7.2f}x" for row in rows),
            "",
            f"training stream: 40 series, a random 32 per step, new forecasts every step; {args.lattice_steps} steps "
            "per case, round-robin (CPU and wall ms per step, mean over all steps)",
            *(
                f"{row['impl']:46s} {row['cpu_ms_per_step']:9.2f} ms CPU {row['wall_ms_per_step']:9.2f} ms wall "
                f"{row['cpu_vs_soft_dtw']:7.2f}x"
                for row in reuse
            ),
        ]
        rows = rows + reuse
    elif args.corridor:
        rows = run_corridor(args.quick, args.repeats, args.gamma, args.corridor_long)
        lines = [
            f"numba threads: {numba.get_num_threads()}, lane kernel: {lanes}, gamma={args.gamma}",
            "float32, d=1, value + gradient; per cell inside the corridors (medians over --repeats)",
            format_cell_table(rows),
        ]
    else:
        rows = run(args.quick, args.repeats, args.gamma, args.long)
        lines = [
            f"numba threads: {numba.get_num_threads()}, lane kernel: {lanes}, gamma={args.gamma}, "
            f"repeats={args.repeats}",
            "float32, d=1, value + gradient; ratios are wall-time speed-ups over the per-pair loops",
            format_table(rows),
        ]
    print("\n".join(lines))
    if args.json:
        write_json(args.json, rows)
    return rows


if __name__ == "__main__":
    main()
