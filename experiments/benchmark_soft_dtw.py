"""Benchmark soft-DTW value + gradient on CPU: dtwrl's wavefront against two baselines.

Compared in one run, each timing the value and the gradient with respect to x:

- ``naive-tf``: soft-DTW written cell by cell in TF (a double Python loop of
  ``tensor_scatter_nd_update``, gradient by autodiff), on a small size only;
- ``numba``: a per-pair numba kernel (forward R, backward E of Cuturi & Blondel),
  looped over the batch, gradient chained to x by NumPy;
- ``dtwrl``: :func:`dtwrl.soft_dtw` in eager mode and inside ``tf.function``;
- ``dtwrl-xla``: the same under ``tf.function(jit_compile=True)``.

Prints, per size, the median wall and CPU time (timed round-robin, so that the
load of a shared machine hits every implementation alike), the cells per
second (``B * n * m / wall time``) and the speed-ups over the numba loop.

    python experiments/benchmark_soft_dtw.py            # the three issue sizes
    python experiments/benchmark_soft_dtw.py --quick    # tiny sizes, seconds
"""
import argparse
import json
import time
from dataclasses import dataclass

import numba
import numpy as np
import tensorflow as tf

from dtwrl.tf.sdtw import soft_dtw

SIZES = ((64, 256, 256), (16, 512, 512), (256, 64, 64))
QUICK_SIZES = ((8, 32, 32), (4, 64, 48))
NAIVE_SIZE = (4, 32, 32)
QUICK_NAIVE_SIZE = (2, 8, 8)


@dataclass
class Args:
    quick: bool = False  # tiny sizes for a smoke run
    repeats: int = 5  # timed calls per implementation (after one warm-up call)
    gamma: float = 1.0  # soft-DTW smoothing
    json: str = ""  # optional path to write the rows as JSON


# ----------------------------------------------------------------------------
# baseline 1: per-pair numba (forward R, backward E)
# ----------------------------------------------------------------------------
@numba.njit(cache=False)
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


def numba_value_and_grad(x, y, gamma):
    """Per-pair loop: sqeuclidean costs, numba soft-DTW and E, gradient dV/dx = 2 (rowsum(E) x - E y)."""
    values = np.empty(len(x))
    grads = np.empty_like(x)
    for b in range(len(x)):
        diff = x[b][:, None, :] - y[b][None, :, :]
        D = np.einsum("ijk,ijk->ij", diff, diff)
        values[b], E = _njit_soft_dtw_grad(D, gamma)
        grads[b] = 2.0 * (E.sum(axis=1)[:, None] * x[b] - E @ y[b])
    return values, grads


# ----------------------------------------------------------------------------
# baseline 2: naive TF, one cell at a time
# ----------------------------------------------------------------------------
def naive_tf_soft_dtw(x, y, gamma):
    """soft-DTW by a double Python loop of per-cell tensor_scatter_nd_update (the style to avoid)."""
    D = tf.reduce_sum(tf.square(x[:, :, None, :] - y[:, None, :, :]), axis=-1)
    B, n, m = D.shape
    big = tf.constant(1e10, x.dtype)
    R = tf.fill((B, n + 1, m + 1), big)
    R = tf.tensor_scatter_nd_update(R, [[b, 0, 0] for b in range(B)], tf.zeros((B,), x.dtype))
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            prev = tf.stack([R[:, i - 1, j - 1], R[:, i - 1, j], R[:, i, j - 1]], axis=1)
            soft = -gamma * tf.reduce_logsumexp(-prev / gamma, axis=1)
            R = tf.tensor_scatter_nd_update(R, [[b, i, j] for b in range(B)], D[:, i - 1, j - 1] + soft)
    return R[:, n, m]


# ----------------------------------------------------------------------------
# timing
# ----------------------------------------------------------------------------
def _tf_value_and_grad(fn, gamma):
    def value_and_grad(x, y):
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = fn(x, y, gamma)
        return value, tape.gradient(value, x)

    return value_and_grad


def _median_times(calls, repeats):
    """Median wall and CPU seconds of each call, timed round-robin.

    Each call runs once untimed first (tracing, XLA compilation, numba JIT).
    The timed calls are interleaved, so load from other processes on a shared
    machine hits every implementation alike and the ratios stay comparable.
    """
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


def _check_agreement(expected, got):
    """The timed implementations must compute the same value and gradient (float32 tolerance)."""
    for want, have in zip(expected, got):
        np.testing.assert_allclose(have.numpy(), want, rtol=1e-3, atol=1e-3)


def _row(impl, size, times, reference=None):
    (B, n, m), (seconds, cpu_seconds) = size, times
    row = {
        "impl": impl,
        "B": B,
        "n": n,
        "m": m,
        "ms": round(seconds * 1e3, 2),
        "cpu_ms": round(cpu_seconds * 1e3, 2),
        "Mcells_per_s": float(f"{B * n * m / seconds / 1e6:.3g}"),
    }
    if reference is not None:
        row["speedup_vs_numba"] = round(reference[0] / seconds, 2)
        row["cpu_speedup_vs_numba"] = round(reference[1] / cpu_seconds, 2)
    return row


def run(quick=False, repeats=5, gamma=1.0):
    """Time every implementation; return one dict per (implementation, size)."""
    rng = np.random.default_rng(0)
    rows = []
    B, n, m = QUICK_NAIVE_SIZE if quick else NAIVE_SIZE
    x = tf.constant(rng.normal(size=(B, n, 1)).astype(np.float32))
    y = tf.constant(rng.normal(size=(B, m, 1)).astype(np.float32))
    naive = _tf_value_and_grad(naive_tf_soft_dtw, gamma)
    rows.append(_row("naive-tf (per-cell scatter)", (B, n, m), _median_times([lambda: naive(x, y)], 1)[0]))
    ours = _tf_value_and_grad(soft_dtw, gamma)
    variants = {
        "dtwrl eager": ours,
        "dtwrl tf.function": tf.function(ours),
        "dtwrl XLA": tf.function(ours, jit_compile=True),
    }
    for size in QUICK_SIZES if quick else SIZES:
        B, n, m = size
        xn = rng.normal(size=(B, n, 1)).astype(np.float32)
        yn = rng.normal(size=(B, m, 1)).astype(np.float32)
        x, y = tf.constant(xn), tf.constant(yn)
        xd, yd = xn.astype(np.float64), yn.astype(np.float64)
        _check_agreement(numba_value_and_grad(xd, yd, gamma), variants["dtwrl XLA"](x, y))
        calls = [lambda: numba_value_and_grad(xd, yd, gamma)]
        calls += [lambda fn=fn: [t.numpy() for t in fn(x, y)] for fn in variants.values()]
        times = _median_times(calls, repeats)
        rows.append(_row("numba per-pair loop", size, times[0], times[0]))
        rows += [_row(name, size, t, times[0]) for name, t in zip(variants, times[1:])]
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes for a smoke run")
    parser.add_argument("--repeats", type=int, default=Args.repeats, help="timed calls per implementation (median reported)")
    parser.add_argument("--gamma", type=float, default=Args.gamma, help="soft-DTW smoothing")
    parser.add_argument("--json", default=Args.json, help="optional path to write the rows as JSON")
    args = Args(**vars(parser.parse_args(argv)))
    rows = run(args.quick, args.repeats, args.gamma)
    print(
        f"{'implementation':28s} {'B':>4s} {'n':>4s} {'m':>4s} {'wall ms':>9s} {'cpu ms':>9s} "
        f"{'Mcells/s':>9s} {'vs numba':>9s} {'cpu vs numba':>12s}"
    )
    for r in rows:
        ratio = f"{r['speedup_vs_numba']:.2f}x" if "speedup_vs_numba" in r else "-"
        cpu_ratio = f"{r['cpu_speedup_vs_numba']:.2f}x" if "cpu_speedup_vs_numba" in r else "-"
        print(
            f"{r['impl']:28s} {r['B']:4d} {r['n']:4d} {r['m']:4d} {r['ms']:9.2f} {r['cpu_ms']:9.2f} "
            f"{r['Mcells_per_s']:9.3g} {ratio:>9s} {cpu_ratio:>12s}"
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)
    return rows


if __name__ == "__main__":
    main()
