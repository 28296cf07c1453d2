"""Env-steps per second of the warping-path environment: native vector env vs SyncVectorEnv.

Steps ``envs.WarpingPathVectorEnv`` (natively batched) and Gymnasium's
``SyncVectorEnv`` over ``envs.WarpingPathEnv`` with the same pairs, seeds and
actions, in one process, and prints env-steps per second and the speed-up.
Defaults: 256 envs, window 5, n = m = 128. Pairs come from a pool of 64
synthetic warped pairs (``ArrayPairs`` over ``SyntheticPairs(n=128)``), so the
timings measure the environment rather than the series generator; autoresets,
per-episode cost matrices and the final-info exact DTW are all included.
Actions are uniform over {0, 1, 2} (illegal ones are replaced, as for a random
policy). Both sides are single-threaded; the default clock is the thread's
CPU time, which stays faithful on a shared, busy machine (``--clock wall``
for wall time). Rates are medians over the repeats.

    python experiments/benchmark_env.py --quick
    python experiments/benchmark_env.py --num-envs 256 --window 5 --length 128
"""
import argparse
import functools
import os
import time

import gymnasium
import numpy as np

from dtwrl.datasets import ArrayPairs, SyntheticPairs
from envs import WarpingPathEnv, WarpingPathVectorEnv

CLOCKS = {"cpu": time.thread_time, "wall": time.perf_counter}


def _rate(env, actions, warmup, steps, repeats, clock, seed):
    """Median env-steps per second of ``env`` over ``repeats`` runs of ``steps`` batch steps."""
    num = actions.shape[1]
    env.reset(seed=seed)
    for t in range(warmup):
        env.step(actions[t])
    rates = []
    for r in range(repeats):
        chunk = actions[warmup + r * steps : warmup + (r + 1) * steps]
        start = clock()
        for batch in chunk:
            env.step(batch)
        rates.append(steps * num / (clock() - start))
    return float(np.median(rates))


def run(quick=False, num_envs=256, window=5, length=128, steps=None, repeats=None, seed=0, clock="cpu"):
    """Measure both implementations in this process.

    Parameters
    ----------
    quick : bool
        Fewer timed steps (300 native, 15 sync) and 2 repeats instead of
        2000, 60 and 3.
    num_envs, window, length : int
        Number of environments, observation window k, and n = m.
    steps : int or None
        Timed batch steps per repeat of the native env (the sync env gets
        ``max(steps // 30, 5)``).
    repeats : int or None
        Timed repeats per implementation.
    seed : int
        Seed of the pairs, the environments and the actions.
    clock : {"cpu", "wall"}
        Thread CPU time or wall-clock time.

    Returns
    -------
    list of dict
        One row per implementation: ``implementation``, ``num_envs``,
        ``window``, ``n``, ``m``, ``timed_env_steps``, ``env_steps_per_s``,
        ``speedup_vs_sync``, ``clock``.
    """
    steps = steps or (300 if quick else 2000)
    repeats = repeats or (2 if quick else 3)
    sync_steps = max(steps // 30, 5)
    timer = CLOCKS[clock]
    rng = np.random.default_rng(seed)
    source = SyntheticPairs(n=length)
    pool = ArrayPairs([source(rng) for _ in range(64)])
    warmup = 50
    actions = rng.integers(0, 3, size=(warmup + repeats * steps, num_envs))

    native = WarpingPathVectorEnv(num_envs, pairs=pool, window=window)
    native_rate = _rate(native, actions, warmup, steps, repeats, timer, seed)
    make_single = functools.partial(WarpingPathEnv, pairs=pool, window=window)
    sync = gymnasium.vector.SyncVectorEnv([make_single for _ in range(num_envs)])
    sync_rate = _rate(sync, actions, 5, sync_steps, repeats, timer, seed)
    rows = []
    for name, rate, timed in (
        ("WarpingPathVectorEnv (native)", native_rate, steps * repeats * num_envs),
        ("SyncVectorEnv(WarpingPathEnv)", sync_rate, sync_steps * repeats * num_envs),
    ):
        rows.append(
            {
                "implementation": name,
                "num_envs": num_envs,
                "window": window,
                "n": length,
                "m": length,
                "timed_env_steps": timed,
                "env_steps_per_s": rate,
                "speedup_vs_sync": rate / sync_rate,
                "clock": clock,
            }
        )
    return rows


def results_table(rows):
    """Render :func:`run`'s rows as a markdown table."""
    from dtwrl.runs import markdown_table as table

    return table(
        ["implementation", "envs", "window", "n = m", "env-steps/s", "speed-up vs sync"],
        [
            [r["implementation"], r["num_envs"], r["window"], r["n"], f"{r['env_steps_per_s']:,.0f}",
             f"{r['speedup_vs_sync']:.1f}x"]
            for r in rows
        ],
        align="lrrrrr",
    )


def _load_average():
    """The 1-minute load average (other jobs on the machine skew the rates), or "n/a"."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "n/a"


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer timed steps and 2 repeats (a smoke run)")
    parser.add_argument("--num-envs", type=int, default=256, help="number of environments stepped together")
    parser.add_argument("--window", type=int, default=5, help="observation window k")
    parser.add_argument("--length", type=int, default=128, help="length n = m of both series")
    parser.add_argument(
        "--steps", type=int, default=None, help="timed batch steps per repeat (default 2000, quick 300)"
    )
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats (default 3, quick 2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the pairs, environments and actions")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu", help="thread CPU time (default) or wall time")
    args = parser.parse_args(argv)
    for name in ("num_envs", "window", "steps", "repeats"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.length < 2:
        parser.error("--length must be >= 2")
    rows = run(args.quick, args.num_envs, args.window, args.length, args.steps, args.repeats, args.seed, args.clock)
    print(
        f"warping-path env, random actions, {args.num_envs} envs, window {args.window}, n = m = {args.length}, "
        f"median {args.clock}-clock rate of the timed repeats, load average {_load_average()}"
    )
    print(results_table(rows))
    return rows


if __name__ == "__main__":
    main()
