"""Env-steps per second of the registered warping-path environments, as users build them.

For every id in ``--env-ids`` (default: the built-in ``dtwrl/SyntheticWarp-v0``
and ``dtwrl/GunPoint-v0``) and every observation in ``--observations`` (default:
``default``, the registered observation with its lookahead,
``window-only``, ``lookahead=()``, and ``corridor``, the linear observation
``envs.observation.corridor_lookahead()``), ``gymnasium.make_vec(id, num_envs=N)`` with
the registered configuration (its pair source, window and reward scale) is
stepped with uniformly random actions over {0, 1, 2} (illegal ones are replaced,
as for a random policy). Everything a user's run pays is timed: the pair source
drawing a fresh pair at every reset, the per-episode cost matrices and terminal
values, the observation and the final-info exact DTW. For the first id and
observation, Gymnasium's ``SyncVectorEnv`` over the single ``WarpingPathEnv``
(``vectorization_mode="sync"``) is timed too, on the same seeds and actions, for
the speed-up.

``--phases`` adds a second table: where an env-step's time goes, from a
separate pass over the same actions with each phase's calls wrapped in the
clock (the wrappers add about a microsecond per call, so the total is slightly
above the rate's): the compiled step (moves and observations), the pair source,
the resets (validation, local costs, exact DTW, terminal values), the first
observations after a reset, the final infos, and the rest of the Python step.

Both are single-threaded. The default clock is the thread's CPU time, which
stays faithful on a shared, busy machine (``--clock wall`` for wall time). Rates
are medians over ``--repeats`` timed repeats after a warm-up; the header line
prints the machine's load average.

    python experiments/benchmark_env.py --quick
    python experiments/benchmark_env.py --num-envs 256 --repeats 5
    python experiments/benchmark_env.py --repeats 5 --steps 1000 --phases
"""

import experiments  # noqa: F401  (first: silences TensorFlow and gym start-up noise)

# isort: split
import argparse
import os
import time

import gymnasium
import numpy as np

import envs  # noqa: F401  (registers the built-in ids)
from envs.observation import DEFAULT_LOOKAHEAD, check_lookahead, corridor_lookahead
from experiments.cli import OneLineParser, cli_main, fail, flag_of

CLOCKS = {"cpu": time.thread_time, "wall": time.perf_counter}
DEFAULT_ENV_IDS = ("dtwrl/SyntheticWarp-v0", "dtwrl/GunPoint-v0")
#: ``make_vec`` keyword arguments of each ``--observations`` choice ("default": the registered observation).
OBSERVATIONS = {"default": {}, "window-only": {"lookahead": ()}, "corridor": {"lookahead": corridor_lookahead()}}
#: ``--phases`` columns: (name, object attribute path on the native vector env, method name).
PHASES = (
    ("step kernel", "batch", "_step_observe"),
    ("pair source", None, "_draw_pairs"),
    ("reset", "batch", "reset"),
    ("first observation", "batch", "_observe_rows"),
    ("final infos", None, "_add_final_infos"),
)


def _rates(env, actions, warmup, steps, repeats, clock, seed):
    """Env-steps per second of ``env`` in each of ``repeats`` runs of ``steps`` batch steps."""
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
    return rates


def phase_times(env, actions, warmup, clock):
    """Microseconds per env-step of each of :data:`PHASES` (and ``"other Python"``) over ``actions[warmup:]``.

    The phases' methods are wrapped on this instance only, for this pass.
    """
    totals = dict.fromkeys([name for name, _, _ in PHASES], 0.0)
    unwrapped = env.unwrapped if hasattr(env, "unwrapped") else env

    def timed(name, method):
        def wrapper(*args, **kwargs):
            start = clock()
            try:
                return method(*args, **kwargs)
            finally:
                totals[name] += clock() - start

        return wrapper

    env.reset(seed=0)
    for batch in actions[:warmup]:
        env.step(batch)
    for name, owner, method in PHASES:
        target = unwrapped if owner is None else getattr(unwrapped, owner)
        setattr(target, method, timed(name, getattr(target, method)))
    try:
        start = clock()
        for batch in actions[warmup:]:
            env.step(batch)
        total = clock() - start
    finally:
        for _, owner, method in PHASES:
            delattr(unwrapped if owner is None else getattr(unwrapped, owner), method)
    env_steps = (len(actions) - warmup) * actions.shape[1]
    totals["other Python"] = total - sum(totals.values())
    return {name: 1e6 * seconds / env_steps for name, seconds in totals.items()}


def run(
    quick=False,
    env_ids=DEFAULT_ENV_IDS,
    num_envs=256,
    steps=None,
    repeats=None,
    seed=0,
    clock="cpu",
    sync=True,
    observations=tuple(OBSERVATIONS),
    phases=False,
):
    """Measure the registered ids (native vector env) and, for the first id and observation, ``SyncVectorEnv``.

    Parameters
    ----------
    quick : bool
        Fewer timed steps (300 native, 15 sync) and 3 repeats instead of
        2000, 60 and 5.
    env_ids : sequence of str
        Registered ids, stepped with their registered configuration.
    num_envs : int
        Number of environments stepped together.
    steps : int or None
        Timed batch steps per repeat of the native env (the sync env gets
        ``max(steps // 30, 5)``).
    repeats : int or None
        Timed repeats per row.
    seed : int
        Seed of the environments and the actions.
    clock : {"cpu", "wall"}
        Thread CPU time or wall-clock time.
    sync : bool
        Also time ``SyncVectorEnv`` on the first id and observation.
    observations : sequence of str
        Keys of :data:`OBSERVATIONS`: each id is timed with each.
    phases : bool
        Also measure :func:`phase_times` of every native row (one more pass of ``steps`` batch steps).

    Returns
    -------
    list of dict
        One row per measurement: ``env_id``, ``observation``, ``lookahead``,
        ``implementation``, ``num_envs``, ``window``, ``timed_env_steps``, ``env_steps_per_s`` (median),
        ``min_env_steps_per_s``, ``max_env_steps_per_s``, ``speedup_vs_sync``
        (None without the sync row), ``clock``, and ``phases`` (:func:`phase_times`, or None).
    """
    steps = steps or (300 if quick else 2000)
    repeats = repeats or (3 if quick else 5)
    sync_steps = max(steps // 30, 5)
    timer = CLOCKS[clock]
    warmup = 50
    actions = np.random.default_rng(seed).integers(0, 3, size=(warmup + repeats * steps, num_envs))
    rows = []
    for observation in observations:
        for env_id in env_ids:
            venv = gymnasium.make_vec(
                env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **OBSERVATIONS[observation]
            )
            rates = _rates(venv, actions, warmup, steps, repeats, timer, seed)
            rows.append(_row(env_id, observation, "native (make_vec)", venv, steps * repeats * num_envs, rates, clock))
            if phases:
                rows[-1]["phases"] = phase_times(venv, actions[: warmup + steps], warmup, timer)
            venv.close()
    if sync:
        first = (env_ids[0], observations[0])
        venv = gymnasium.make_vec(first[0], num_envs=num_envs, vectorization_mode="sync", **OBSERVATIONS[first[1]])
        rates = _rates(venv, actions, 5, sync_steps, repeats, timer, seed)
        rows.append(_row(*first, "SyncVectorEnv", venv, sync_steps * repeats * num_envs, rates, clock))
        venv.close()
        base = rows[-1]["env_steps_per_s"]
        for row in rows:
            if (row["env_id"], row["observation"]) == first:
                row["speedup_vs_sync"] = row["env_steps_per_s"] / base
    return rows


def _row(env_id, observation, implementation, venv, timed, rates, clock):
    window = venv.single_observation_space["window"].shape[0]
    registered = gymnasium.spec(env_id).kwargs.get("lookahead", DEFAULT_LOOKAHEAD)
    return {
        "env_id": env_id,
        "observation": observation,
        "lookahead": check_lookahead(OBSERVATIONS[observation].get("lookahead", registered)),
        "implementation": implementation,
        "num_envs": venv.num_envs,
        "window": window,
        "timed_env_steps": timed,
        "env_steps_per_s": float(np.median(rates)),
        "min_env_steps_per_s": float(np.min(rates)),
        "max_env_steps_per_s": float(np.max(rates)),
        "speedup_vs_sync": None,
        "clock": clock,
        "phases": None,
    }


def results_table(rows):
    """Render :func:`run`'s rows as a markdown table."""
    from dtwrl.runs import markdown_table

    return markdown_table(
        [
            "env id",
            "observation",
            "implementation",
            "envs",
            "window",
            "env-steps/s (median)",
            "range",
            "speed-up vs sync",
        ],
        [
            [
                r["env_id"],
                f"{r['observation']} {r['lookahead']}",
                r["implementation"],
                r["num_envs"],
                r["window"],
                f"{r['env_steps_per_s']:,.0f}",
                f"{r['min_env_steps_per_s']:,.0f}-{r['max_env_steps_per_s']:,.0f}",
                "-" if r["speedup_vs_sync"] is None else f"{r['speedup_vs_sync']:.1f}x",
            ]
            for r in rows
        ],
        align="lllrrrrr",
    )


def phases_table(rows):
    """Render the ``phases`` of :func:`run`'s rows (those that have them) as a markdown table, us per env-step."""
    from dtwrl.runs import markdown_table

    timed = [r for r in rows if r["phases"]]
    names = list(timed[0]["phases"]) if timed else []
    return markdown_table(
        ["env id", "observation", *names, "total"],
        [
            [
                r["env_id"],
                r["observation"],
                *(f"{r['phases'][n]:.3f}" for n in names),
                f"{sum(r['phases'].values()):.3f}",
            ]
            for r in timed
        ],
        align="ll" + "r" * (len(names) + 1),
    )


def _load_average():
    """The 1-minute load average (other jobs on the machine skew the rates), or "n/a"."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "n/a"


@cli_main
def main(argv=None):
    parser = OneLineParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
    )
    parser.add_argument("--quick", action="store_true", help="fewer timed steps and 3 repeats (a smoke run)")
    parser.add_argument("--env-ids", nargs="+", default=list(DEFAULT_ENV_IDS), help="registered ids to time")
    parser.add_argument("--num-envs", type=int, default=256, help="number of environments stepped together")
    parser.add_argument("--steps", type=int, default=None, help="timed batch steps per repeat (2000; quick 300)")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats (default 5, quick 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the environments and the actions")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu", help="thread CPU time (default) or wall time")
    parser.add_argument("--no-sync", dest="sync", action="store_false", help="skip the SyncVectorEnv row")
    parser.add_argument(
        "--observations",
        nargs="+",
        choices=list(OBSERVATIONS),
        default=list(OBSERVATIONS),
        help="observations to time: default (the registered one, with its lookahead), window-only (lookahead=()), "
        "corridor (the linear observation)",
    )
    parser.add_argument(
        "--phases", action="store_true", help="also break an env-step's time down by phase (us per env-step)"
    )
    args = parser.parse_args(argv)
    for name in ("num_envs", "steps", "repeats"):
        value = getattr(args, name)
        if value is not None and value < 1:
            fail(flag_of(name), f"must be >= 1; got {value}")
    if args.seed < 0:
        fail("--seed", f"must be >= 0; got {args.seed}")
    for env_id in args.env_ids:
        if env_id not in gymnasium.registry:
            fail("--env-ids", f"{env_id!r} is not registered (import the module that registers it first)")
    steps = args.steps or (300 if args.quick else 2000)
    repeats = args.repeats or (3 if args.quick else 5)
    rows = run(
        args.quick,
        args.env_ids,
        args.num_envs,
        steps,
        repeats,
        args.seed,
        args.clock,
        args.sync,
        args.observations,
        args.phases,
    )
    print(
        f"registered warping-path envs, registered config, random actions, {args.num_envs} envs, median "
        f"{args.clock}-clock rate over {repeats} repeats of {steps} batch steps, load average {_load_average()}"
    )
    print(results_table(rows))
    if args.phases:
        print(f"\nwhere an env-step's time goes ({args.clock}-clock us per env-step, one pass of {steps} batch steps)")
        print(phases_table(rows))
    return rows


if __name__ == "__main__":
    main()
