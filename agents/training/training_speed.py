"""End-to-end training speed of :class:`agents.AlignerTrainer`: env steps per second of the whole PPO loop.

*End to end* is PPO env steps divided by the wall time of ``trainer.train()``'s
loop: collection, learner updates, DAgger steps, evaluations of the held-out
set, TensorBoard summaries and checkpoints, the first iteration's graph
tracing included. The behavioural-cloning warm start runs before that loop
(its own budget, ``bc_env_steps``) and is not counted.

:func:`benchmark_config` is the default :class:`agents.AlignerConfig` (by
default its whole PPO budget; cut to ``iterations`` PPO iterations, it still
evaluates as often as the full default run, every
``AlignerConfig().evaluation_interval`` iterations); its warm start is shrunk
(the loop's speed does not depend on it). :func:`measure_training_speed`
trains it ``repeats`` times and returns the medians.
"""

import dataclasses
import statistics
import tempfile
import time

from .config import AlignerConfig
from .trainer import PHASES, AlignerTrainer


def benchmark_config(iterations: int | None = None, out_dir: str | None = None, **overrides) -> AlignerConfig:
    """The default config cut to ``iterations`` PPO iterations, evaluated as often as a full default run.

    Parameters
    ----------
    iterations : int or None
        PPO iterations (``>= 1``); ``total_env_steps`` is set to cover them.
        None: the default run's (245, its 1 M env steps).
    out_dir : str or None
        Parent of the run folders; None: a new temporary folder.
    **overrides
        Other ``AlignerConfig`` fields (``num_envs``, ``env_id``, ...).

    Returns
    -------
    AlignerConfig

    Examples
    --------
    >>> config = benchmark_config(iterations=48, out_dir="unused")
    >>> config.num_iterations, config.evaluation_interval == AlignerConfig().evaluation_interval
    (48, True)
    """
    if iterations is None:
        iterations = AlignerConfig().num_iterations
    if isinstance(iterations, bool) or not isinstance(iterations, int):
        raise TypeError(f"iterations must be an int; got {iterations!r}")
    if iterations < 1:
        raise ValueError(f"iterations must be >= 1; got {iterations}")
    values = {
        "bc_env_steps": 8192,  # the warm start runs before the timed loop
        "bc_epochs": 1,
        "eval_interval": AlignerConfig().evaluation_interval,
        "out_dir": out_dir if out_dir is not None else tempfile.mkdtemp(prefix="dtwrl-bench-training-"),
        **overrides,
    }
    config = AlignerConfig(**values)
    config.total_env_steps = iterations * config.steps_per_iteration
    return AlignerConfig(**config.to_dict())  # validated again with its final budget


def measure_training_speed(config: AlignerConfig, repeats: int = 3, log=None) -> dict:
    """Train ``config`` ``repeats`` times (fresh run folders) and return the medians of the loop's speed.

    Parameters
    ----------
    config : AlignerConfig
        Each repeat uses ``run_name`` ``speed__r{k}`` under ``config.out_dir``.
    repeats : int
        ``>= 1``.
    log : callable or None
        Called with one line per repeat.

    Returns
    -------
    dict
        ``end_to_end_steps_per_second`` (median over repeats: env steps per
        second of wall time), ``steps_per_cpu_second`` (env steps per second of
        the process's CPU time, every thread counted: what a machine shared
        with other jobs cannot distort as much), ``ppo_wall_s``, ``ppo_cpu_s``,
        ``phase_seconds`` (per-phase wall-time medians), ``env_steps`` per
        repeat, ``repeats`` and ``runs`` (the per-repeat figures, with per
        phase of :data:`PHASES` its seconds, and ``bc_s``).
    """
    if isinstance(repeats, bool) or not isinstance(repeats, int):
        raise TypeError(f"repeats must be an int; got {repeats!r}")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1; got {repeats}")
    runs = []
    for repeat in range(repeats):
        trainer = AlignerTrainer(dataclasses.replace(config, run_name=f"speed__r{repeat}"))
        start = time.perf_counter()
        trainer.warm_start()
        bc_s = time.perf_counter() - start
        metrics = trainer.train()
        run = {
            "end_to_end_steps_per_second": metrics["end_to_end_steps_per_second"],
            "steps_per_cpu_second": (config.num_iterations * config.steps_per_iteration) / metrics["ppo_cpu_s"],
            "ppo_wall_s": metrics["ppo_wall_s"],
            "ppo_cpu_s": metrics["ppo_cpu_s"],
            "bc_s": bc_s,
            **{phase: seconds for phase, seconds in metrics.get("phase_seconds", {}).items()},
        }
        runs.append(run)
        if log is not None:
            log(f"repeat {repeat + 1}/{repeats}: " + ", ".join(f"{k} {v:,.2f}" for k, v in run.items()))
    phases = [p for p in PHASES if all(p in run for run in runs)]
    return {
        "end_to_end_steps_per_second": statistics.median(r["end_to_end_steps_per_second"] for r in runs),
        "steps_per_cpu_second": statistics.median(r["steps_per_cpu_second"] for r in runs),
        "ppo_wall_s": statistics.median(r["ppo_wall_s"] for r in runs),
        "ppo_cpu_s": statistics.median(r["ppo_cpu_s"] for r in runs),
        "phase_seconds": {p: statistics.median(r[p] for r in runs) for p in phases},
        "env_steps": config.num_iterations * config.steps_per_iteration,
        "repeats": repeats,
        "runs": runs,
    }
