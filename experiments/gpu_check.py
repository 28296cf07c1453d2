"""GPU check for soft-DTW: value and gradient agree with CPU float64, and timings at the GPU references' sizes.

1. CPU part (always): a float64 reference of soft-DTW value and gradient
   (with a band and per-pair lengths, d = 2) by both CPU engines, the numba
   kernel and the XLA wavefront, which must agree.
2. GPU part (when TensorFlow sees a GPU): the same pairs on the GPU in float64
   and float32, under ``tf.function`` and ``jit_compile=True``, against the CPU
   float64 reference; then value + gradient timings (median of ``--repeats``)
   at Maghoumi's size (B=512, n=m=256, d=2) and sdtw-cuda-torch's
   (B=32, n=m=512, d=64), float32, with the peak GPU memory of each.

Exits 1 when anything disagrees, 0 otherwise; without a GPU it says so and
exits 0 after the CPU part, so CI can run it as a smoke test.

    python experiments/gpu_check.py
    python experiments/gpu_check.py --repeats 20 --json results/gpu_check.json
"""

import experiments  # noqa: F401  (first: silences TensorFlow and gym start-up noise)

# isort: split
import dataclasses
import sys
import time

import numpy as np
import tensorflow as tf

from dtwrl.runs import write_json
from dtwrl.tf.sdtw import soft_dtw
from experiments.benchmark_soft_dtw import check_gamma_and_repeats
from experiments.cli import field, parse_args

CHECK = dict(B=6, n=40, m=33, d=2, band=12, x_lengths=[40, 31, 12, 40, 25, 8], y_lengths=[33, 33, 20, 9, 30, 8])
TIMED_SIZES = ((512, 256, 256, 2), (32, 512, 512, 64))
TOLERANCE = {tf.float64: 1e-9, tf.float32: 2e-3}


@dataclasses.dataclass
class Args:
    repeats: int = field(10, "timed calls per configuration (>= 1); the median is reported")
    gamma: float = field(1.0, "soft-DTW smoothing (> 0)")
    json: str = field("", "optional path to write the results as JSON")


def _check_pairs(rng):
    x = rng.normal(size=(CHECK["B"], CHECK["n"], CHECK["d"]))
    y = rng.normal(size=(CHECK["B"], CHECK["m"], CHECK["d"]))
    return x, y


def value_and_grads(x, y, gamma, **kwargs):
    """soft-DTW values (B,) and their gradients with respect to x and y."""
    with tf.GradientTape() as tape:
        tape.watch([x, y])
        value = soft_dtw(
            x, y, gamma=gamma, band=CHECK["band"], x_lengths=CHECK["x_lengths"], y_lengths=CHECK["y_lengths"], **kwargs
        )
    return (value, *tape.gradient(value, [x, y]))


def max_relative_error(got, want):
    """Largest |got - want| over the arrays, relative to the largest |want| of each."""
    return max(
        float(np.abs(np.asarray(g, np.float64) - w).max() / max(1.0, np.abs(w).max())) for g, w in zip(got, want)
    )


def cpu_reference(x, y, gamma):
    """Float64 value and gradients on the CPU by both engines; returns the kernel's and their disagreement."""
    with tf.device("/CPU:0"):
        xt, yt = tf.constant(x), tf.constant(y)
        kernel = [t.numpy() for t in value_and_grads(xt, yt, gamma, implementation="kernel")]
        wavefront = [t.numpy() for t in tf.function(value_and_grads, jit_compile=True)(xt, yt, gamma)]
    return kernel, max_relative_error(wavefront, kernel)


def gpu_agreement(x, y, gamma, reference):
    """Relative error of each (dtype, mode) on the GPU against the CPU float64 reference."""
    errors = {}
    with tf.device("/GPU:0"):
        for dtype in (tf.float64, tf.float32):
            xt, yt = tf.constant(x, dtype), tf.constant(y, dtype)
            for mode, fn in (
                ("tf.function", tf.function(value_and_grads)),
                ("jit_compile", tf.function(value_and_grads, jit_compile=True)),
            ):
                got = [t.numpy() for t in fn(xt, yt, gamma)]
                errors[(dtype.name, mode)] = max_relative_error(got, reference)
    return errors


def gpu_timings(gamma, repeats, rng):
    """Median ms of value + gradient (float32) at each timed size, tf.function and jit_compile, on the GPU."""
    rows = []

    def step(x, y):
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = soft_dtw(x, y, gamma=gamma)
        return value, tape.gradient(value, x)

    for B, n, m, d in TIMED_SIZES:
        with tf.device("/GPU:0"):
            x = tf.constant(rng.normal(size=(B, n, d)).astype(np.float32))
            y = tf.constant(rng.normal(size=(B, m, d)).astype(np.float32))
            for mode, fn in (("tf.function", tf.function(step)), ("jit_compile", tf.function(step, jit_compile=True))):
                [t.numpy() for t in fn(x, y)]  # trace and compile
                tf.config.experimental.reset_memory_stats("GPU:0")
                times = []
                for _ in range(repeats):
                    start = time.perf_counter()
                    [t.numpy() for t in fn(x, y)]
                    times.append(time.perf_counter() - start)
                peak = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
                ms = float(np.median(times)) * 1e3
                rows.append(
                    {
                        "B": B,
                        "n": n,
                        "m": m,
                        "d": d,
                        "mode": mode,
                        "ms": round(ms, 3),
                        "Mcells_per_s": float(f"{B * n * m / ms / 1e3:.4g}"),
                        "peak_gpu_mb": round(peak, 1),
                    }
                )
    return rows


def main(argv=None):
    args = parse_args(Args, argv, description=__doc__.splitlines()[0], validate=check_gamma_and_repeats)
    rng = np.random.default_rng(0)
    x, y = _check_pairs(rng)
    reference, cpu_error = cpu_reference(x, y, args.gamma)
    ok = cpu_error <= TOLERANCE[tf.float64]
    print(f"CPU float64: kernel vs XLA wavefront, max relative error {cpu_error:.2e} [{'ok' if ok else 'FAIL'}]")
    result = {"cpu_kernel_vs_wavefront": cpu_error}
    gpus = tf.config.list_logical_devices("GPU")
    if not gpus:
        print("no GPU visible to TensorFlow: skipped the GPU agreement and timings (CPU part done)")
    else:
        print(f"GPU: {gpus[0].name}")
        errors = gpu_agreement(x, y, args.gamma, reference)
        for (dtype, mode), err in errors.items():
            good = err <= TOLERANCE[tf.as_dtype(dtype)]
            ok &= good
            verdict = "ok" if good else "FAIL"
            print(f"GPU {dtype:7s} {mode:11s} vs CPU float64: max relative error {err:.2e} [{verdict}]")
        rows = gpu_timings(args.gamma, args.repeats, rng)
        for r in rows:
            print(
                f"B={r['B']:4d} n={r['n']:4d} m={r['m']:4d} d={r['d']:3d} {r['mode']:11s} {r['ms']:9.2f} ms "
                f"{r['Mcells_per_s']:9.4g} Mcells/s  peak {r['peak_gpu_mb']:.0f} MB"
            )
        result.update(gpu_errors={f"{k[0]} {k[1]}": v for k, v in errors.items()}, timings=rows)
    if args.json:
        write_json(args.json, result)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
