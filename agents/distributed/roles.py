"""One entry point per process: validate, then run the role ``options.role`` asks for.

Exit codes: 0 done (a rerun of a finished run says so and starts nothing), 2 bad arguments (raised before
anything is created), 3 the Reverb server was lost (the learner checkpointed; rerun to resume),
130 stopped by SIGTERM/Ctrl-C (the learner checkpointed).
"""

import dataclasses
from pathlib import Path

import reverb
import tensorflow as tf

from ..training.config import AlignerConfig, default_run_name, validate_config
from ..training.run_folder import RunFolder, completed_message
from .options import DistributedOptions
from .signals import EXIT_SERVER_LOST, EXIT_STOPPED, StopFlag
from .specs import resolve_run


def prepare(config, options):
    """Check everything a role needs before any folder is made; returns the resolved config and environment.

    Returns
    -------
    config : AlignerConfig
        A copy with ``init_from``'s network settings and ``run_name`` set.
    settings : agents.training.environment.EnvSettings
        The training environment (``specs.resolve_run``).

    Raises
    ------
    TypeError, ValueError
        Naming the field: a wrong type or range, an unregistered ``env_id``,
        an unreadable ``pairs`` file, an ``init_from`` that is neither a run
        folder with a checkpoint nor an actor file, a missing ``run_name`` for
        a collector or evaluator (they write into the learner's run folder).
    """
    if not isinstance(config, AlignerConfig):
        raise TypeError(f"config must be an AlignerConfig; got {type(config).__name__}")
    if not isinstance(options, DistributedOptions):
        raise TypeError(f"options must be DistributedOptions; got {type(options).__name__}")
    validate_config(config)
    if config.run_name is None and options.role in ("collector", "evaluator"):
        raise ValueError(f"run_name is required for role {options.role!r}: the learner's run folder name")
    config, settings = resolve_run(config)
    if config.run_name is None:
        config = dataclasses.replace(config, run_name=default_run_name(config))
    return config, settings


def run_role(config, options, command_for=None, log=print):
    """Run ``options.role`` in this process until it is done; returns the exit code.

    Parameters
    ----------
    config : AlignerConfig
    options : DistributedOptions
    command_for : callable or None
        Role ``all`` only: ``command_for(role, **flags) -> argv`` of each child
        (``launcher.python_command``).
    log : callable

    Examples
    --------
    >>> run_role(AlignerConfig(run_name="demo"), DistributedOptions(role="all", collectors=4),
    ...          command_for=python_command("experiments/train_aligner_distributed.py", []))  # doctest: +SKIP
    0
    """
    config, settings = prepare(config, options)
    if options.role == "all" and command_for is None:
        raise ValueError("role 'all' needs command_for (how to start each role)")
    run_dir = Path(config.out_dir) / config.run_name
    role = options.role
    final = RunFolder(run_dir).completed(config) if role in ("all", "learner") else None
    if final is not None:  # a rerun of a finished run: nothing to start
        log(completed_message(run_dir, final))
        return 0
    stop = StopFlag().install()
    if role == "all":
        from .launcher import Launcher

        def command(role, **flags):  # every child works in the same run folder
            return command_for(role, run_name=config.run_name, **flags)

        log(f"run folder: {run_dir}")
        return Launcher(config, options, command, stop, log=log).run()
    if role == "server":
        from .server import serve

        serve(config, settings, options, stop, port=options.port)
        return 0
    if role == "collector":
        from .collector import Collector

        try:
            status_path = run_dir / "collectors" / f"collector-{options.collector_id}.json"
            counts = Collector(config, settings, options, stop, status_path).run()
        except _SERVER_ERRORS as err:
            return _server_lost(f"collector {options.collector_id}", options, err, log)
        log(f"collector {options.collector_id}: {counts}")
        return 0
    if role == "learner":
        from .learner import LearnerStopped, ServerLostError, run_learner

        try:
            _, metrics = run_learner(config, options, stop)
        except ServerLostError as err:
            log(f"error: {err}")
            return EXIT_SERVER_LOST
        except LearnerStopped as err:
            log(f"learner stopped by {err}; checkpoint saved, rerun with run_name={config.run_name!r} to resume")
            return EXIT_STOPPED
        log(
            f"learner done: {metrics['env_steps']} env steps, cost ratio vs exact DTW "
            f"{metrics['cost_ratio_vs_dtw']:.4f}"
        )
        return 0
    from .evaluator import run_evaluator

    try:
        run_evaluator(config, settings, options, stop, run_dir)
    except _SERVER_ERRORS as err:
        return _server_lost("evaluator", options, err, log)
    return 0


# what reverb raises when its server is gone: RuntimeError from the client, ReverbError on timeouts,
# tf.errors.OpError from the TF ops of the variable container
_SERVER_ERRORS = (RuntimeError, reverb.errors.ReverbError, tf.errors.OpError)


def _server_lost(who, options, err, log):
    log(f"error: {who} lost the Reverb server at {options.reverb_address}: {str(err).splitlines()[0]}")
    return EXIT_SERVER_LOST
