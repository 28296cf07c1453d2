"""The Reverb server: the trajectory queue and the policy-variable table.

The trajectory table is a queue (FIFO, each item sampled exactly once) whose
rate limiter blocks inserts when it holds ``queue_batches * num_envs`` items:
collectors wait for the learner instead of trajectories being overwritten, so
nothing is dropped and the policy lag stays bounded. The variable table holds
the latest published weights (one item).
"""

import sys

import reverb
from tf_agents.specs import tensor_spec

from ..training.environment import make_vector_py_env
from .specs import TRAJECTORY_TABLE, VARIABLE_TABLE, build_collect_policy, item_spec, variable_spec


def make_tables(config, settings, options):
    """The two ``reverb.Table`` s of a run (their signatures follow from ``config`` and the env ``settings``)."""
    py_env = make_vector_py_env(settings, num_envs=1, seed=0)
    policy, actor_net = build_collect_policy(config, py_env)
    py_env.close()
    # one item = one step of a length-1 sequence holding an env's collect_steps + 1 transitions
    signature = tensor_spec.add_outer_dim(tensor_spec.add_outer_dim(item_spec(policy), config.collect_steps + 1), 1)
    trajectories = reverb.Table.queue(
        TRAJECTORY_TABLE, max_size=options.queue_batches * config.num_envs, signature=signature
    )
    variables = reverb.Table(
        name=VARIABLE_TABLE,
        sampler=reverb.selectors.Uniform(),
        remover=reverb.selectors.Fifo(),
        max_size=1,
        max_times_sampled=0,
        rate_limiter=reverb.rate_limiters.MinSize(1),
        signature=variable_spec(actor_net),
    )
    return [trajectories, variables]


def serve(config, settings, options, stop, port=None, on_ready=None):
    """Run a Reverb server until ``stop`` (a :class:`~agents.distributed.signals.StopFlag`) is set.

    Parameters
    ----------
    config : AlignerConfig
    settings : agents.training.environment.EnvSettings
        Both from ``specs.resolve_run``.
    options : DistributedOptions
    stop : StopFlag
    port : int or None
        None picks a free port.
    on_ready : callable or None
        ``on_ready(port)`` once it listens.
    """
    server = reverb.Server(make_tables(config, settings, options), port=port)
    print(f"reverb server listening on port {server.port}", file=sys.stderr, flush=True)
    if on_ready is not None:
        on_ready(server.port)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return server.port
