"""Env-steps per second of the distributed trainer with 1, 2, 4, ... collectors vs the single-process trainer.

Every run trains the same config for the same number of iterations in a
fresh run folder. The figures per run:

- ``learner_steps_per_s``: trained env steps per second of wall time in steady
  state, the median over iterations after the first (the first one also
  waits for processes to start); the single-process trainer's iterations
  collect and train, the learner's wait for items and train;
- ``end_to_end_steps_per_s``: trained env steps over the whole PPO loop
  (evaluations, checkpoints and start-up waits included);
- ``collector_steps_per_s``: the collectors' summed stepping rate while they
  step (queue waits excluded): what they could feed a faster learner;
- ``collector_wait_fraction``, ``learner_wait_fraction``: time blocked on a
  full queue / waiting for items.
"""

import dataclasses
import statistics
import time
from pathlib import Path

from dtwrl.runs import read_json

from ..training.trainer import AlignerTrainer
from .launcher import Launcher, config_argv, python_command
from .options import DistributedOptions
from .signals import StopFlag


def _single(config):
    trainer = AlignerTrainer(config)
    rates = []
    start = time.perf_counter()
    trainer.train(callback=lambda t, stats: rates.append(stats["steps_per_second"]))
    wall = time.perf_counter() - start
    return {
        "trainer": "single-process",
        "collectors": 0,
        "learner_steps_per_s": statistics.median(rates[1:] or rates),
        "end_to_end_steps_per_s": trainer.last_metrics["end_to_end_steps_per_second"],
        "collector_steps_per_s": None,
        "collector_wait_fraction": None,
        "learner_wait_fraction": None,
        "wall_s": wall,
    }


def _distributed(config, collectors, script, stop, log):
    # the evaluator idles (no evaluation to perturb the timings) and gets SIGTERM after the short grace
    options = DistributedOptions(role="all", collectors=collectors, eval_interval_s=3600.0, shutdown_grace_s=5.0)
    argv = config_argv(config, dataclasses.replace(options, role="all"))
    start = time.perf_counter()
    code = Launcher(config, options, python_command(script, argv), stop, log=log).run()
    wall = time.perf_counter() - start
    run_dir = Path(config.out_dir) / config.run_name
    if code != 0:
        raise RuntimeError(f"the distributed run with {collectors} collector(s) exited with {code}; see {run_dir}/logs")
    final = read_json(run_dir / "metrics.json")["final"]
    status = [read_json(p) for p in sorted((run_dir / "collectors").glob("collector-*.json"))]
    stepping = sum(s["collected_env_steps"] / s["collect_s"] for s in status if s["collect_s"])
    busy = sum(s["collect_s"] + s["queue_wait_s"] for s in status)
    return {
        "trainer": "distributed",
        "collectors": collectors,
        "learner_steps_per_s": final["median_iteration_steps_per_second"],
        "end_to_end_steps_per_s": final["end_to_end_steps_per_second"],
        "collector_steps_per_s": stepping,
        "collector_wait_fraction": sum(s["queue_wait_s"] for s in status) / busy if busy else None,
        "learner_wait_fraction": final["queue_wait_s"] / final["ppo_wall_s"],
        "reconciled": read_json(run_dir / "distributed.json")["counts"]["reconciled"],
        "wall_s": wall,
    }


def measure(config, script, collectors=(1, 2, 4), repeats=1, log=print):
    """Run the single-process trainer and the distributed one with each collector count, ``repeats`` times.

    Parameters
    ----------
    config : AlignerConfig
        Shared by every run; ``out_dir`` holds the run folders (``run_name`` is set per run).
    script : path-like
        ``experiments/train_aligner_distributed.py`` (the launcher re-invokes it per role).
    collectors : sequence of int
    repeats : int
    log : callable

    Returns
    -------
    list of dict
        One row per trainer and collector count, each figure the median over
        the repeats (see the module docstring).
    """
    stop = StopFlag().install()
    runs = {}
    for repeat in range(int(repeats)):
        for count in (0, *collectors):
            name = f"single__r{repeat}" if count == 0 else f"collectors{count}__r{repeat}"
            cfg = dataclasses.replace(config, run_name=name)
            log(f"run {name} ...")
            row = _single(cfg) if count == 0 else _distributed(cfg, count, script, stop, log)
            log(f"  {row}")
            runs.setdefault(count, []).append(row)
    rows = []
    for group in runs.values():
        row = dict(group[0])
        for key, value in row.items():
            if isinstance(value, float):
                row[key] = statistics.median(r[key] for r in group)
        row["repeats"] = len(group)
        rows.append(row)
    return rows


def compare_validation(config, script, seeds=(1, 2), collectors=2, log=print):
    """Validation cost ratios of the single-process and the distributed trainer at equal env steps.

    Both train ``config`` (with each seed) to the same ``total_env_steps``
    and evaluate the same held-out set at the same env steps.

    Returns
    -------
    list of dict
        Per trainer and seed: ``cost_ratio_vs_dtw`` (live policy at the end),
        ``policy_cost_ratio_vs_dtw`` (the saved, ``keep_best`` policy), the
        ratio vs FastDTW, ``env_steps`` and the evaluation ``history``.
    """
    from ..training.trainer import train_aligner

    stop = StopFlag().install()
    rows = []
    for seed in seeds:
        for count in (0, collectors):
            name = f"quality-single__{seed}" if count == 0 else f"quality-collectors{count}__{seed}"
            cfg = dataclasses.replace(config, seed=seed, run_name=name)
            log(f"run {name} ...")
            if count == 0:
                _, final = train_aligner(cfg)
                history = read_json(Path(cfg.out_dir) / name / "metrics.json")["history"]
            else:
                options = DistributedOptions(role="all", collectors=count, eval_interval_s=3600.0, shutdown_grace_s=5.0)
                code = Launcher(cfg, options, python_command(script, config_argv(cfg, options)), stop, log=log).run()
                if code != 0:
                    raise RuntimeError(f"the distributed run {name} exited with {code}")
                metrics = read_json(Path(cfg.out_dir) / name / "metrics.json")
                final, history = metrics["final"], metrics["history"]
            row = {
                "trainer": "single-process" if count == 0 else f"distributed, {count} collectors",
                "seed": seed,
                **{
                    key: final[key]
                    for key in ("env_steps", "cost_ratio_vs_dtw", "policy_cost_ratio_vs_dtw", "cost_ratio_vs_fastdtw")
                },
                "history": [(h["env_steps"], h["cost_ratio_vs_dtw"]) for h in history],
            }
            log(f"  {row}")
            rows.append(row)
    return rows
