"""What every role agrees on: table names, the item and variable specs, the collect policy.

A Reverb item is one env's ``collect_steps + 1`` consecutive transitions (the
last one only bootstraps the value), exactly one row of the
``(num_envs, collect_steps + 1)`` batch that the single-process trainer
(``agents.AlignerTrainer``) trains on, written as the single step of a
length-1 Reverb sequence (one append per item). Its ``policy_info`` holds the PPO
collect policy's ``dist_params`` plus a ``"dtwrl"`` dict of bookkeeping that
the learner strips before ``agent.train``:

``expert_action``   the exact-DTW move from this state (DAgger anchor labels)
``collector``       id of the collector that wrote the item
``policy_iteration`` learner iteration of the weights that acted
``episode_return``, ``episode_length``, ``cost_ratio``
                    running undiscounted return / length of the episode after
                    this transition, and the env's cost ratio vs exact DTW when
                    the transition ends the episode (0 otherwise)

>>> from agents import AlignerConfig
>>> from agents.training.environment import make_vector_py_env
>>> config, settings = resolve_run(AlignerConfig(num_envs=2, collect_steps=4, window=5, bc_warmstart=False))
>>> py_env = make_vector_py_env(settings, num_envs=2, seed=0)
>>> policy, actor = build_collect_policy(config, py_env)
>>> item_spec(policy).policy_info["dtwrl"]["collector"].dtype
tf.int32
"""

import dataclasses
from pathlib import Path

import tensorflow as tf
from tf_agents.experimental.distributed import reverb_variable_container

from ..training.config import AlignerConfig
from ..training.environment import EnvSettings
from ..training.ppo import build_ppo_agent
from ..training.run_folder import RunFolder, read_pretrained
from ..training.trainer import resolve_env_settings

TRAJECTORY_TABLE = "trajectories"
VARIABLE_TABLE = reverb_variable_container.DEFAULT_TABLE
EXTRA_KEY = "dtwrl"
EXTRA_SPEC = {
    "expert_action": tf.TensorSpec((), tf.int64, "expert_action"),
    "collector": tf.TensorSpec((), tf.int32, "collector"),
    "policy_iteration": tf.TensorSpec((), tf.int64, "policy_iteration"),
    "episode_return": tf.TensorSpec((), tf.float32, "episode_return"),
    "episode_length": tf.TensorSpec((), tf.int32, "episode_length"),
    "cost_ratio": tf.TensorSpec((), tf.float32, "cost_ratio"),
}


def resolve_run(config: AlignerConfig) -> tuple[AlignerConfig, EnvSettings]:
    """The run's config and training environment, resolved as ``agents.AlignerTrainer`` resolves them.

    Every role calls this, so that server, collectors, learner and evaluator
    build the same networks and step the same environment: ``init_from``'s
    ``window``, ``hidden`` and ``cost_floor`` (and an actor file's look-ahead)
    are adopted, and the environment is read from the run folder when the run
    resumes (then from ``init_from``'s run folder when it was trained on the
    same ``env_id``), else from the registry; ``pairs`` replaces its pairs.

    Parameters
    ----------
    config : AlignerConfig
        Not modified.

    Returns
    -------
    config : AlignerConfig
        A copy with the adopted network settings.
    settings : agents.training.environment.EnvSettings

    Raises
    ------
    ValueError
        Naming ``init_from``, ``env_id`` or ``pairs``.
    """
    config = dataclasses.replace(config)
    pretrained = None
    if config.init_from is not None:
        pretrained = read_pretrained(config.init_from)
        config.window, config.hidden, config.cost_floor = (
            pretrained["window"],
            pretrained["hidden"],
            pretrained["cost_floor"],
        )
    stored = []
    if config.run_name is not None:
        folder = RunFolder(Path(config.out_dir) / config.run_name)
        if folder.has_checkpoint():
            stored.append(folder.env)
    if pretrained is not None and pretrained["folder"] is not None and pretrained["env_id"] == config.env_id:
        stored.append(pretrained["folder"].env)
    settings = resolve_env_settings(config, stored, pretrained and pretrained.get("lookahead"))
    return config, settings


def build_collect_policy(config: AlignerConfig, py_env):
    """PPO's stochastic collect policy (``PPOClipAgent.collect_policy``) on a fresh agent built like the learner's.

    Parameters
    ----------
    config : AlignerConfig
    py_env : envs.tf_agents_adapter.VectorPyEnvironment
        Gives the specs.

    Returns
    -------
    policy : tf_agents.agents.ppo.ppo_policy.PPOPolicy
    actor_net : the masked actor network (its ``variables`` are what the learner publishes)
    """
    parts = build_ppo_agent(py_env.time_step_spec(), py_env.action_spec(), config)
    return parts.agent.collect_policy, parts.actor_net


def item_spec(policy):
    """The per-step spec of a Reverb item: the policy's ``trajectory_spec`` with the ``"dtwrl"`` extras."""
    spec = policy.trajectory_spec
    return spec._replace(policy_info={**spec.policy_info, EXTRA_KEY: dict(EXTRA_SPEC)})


def strip_extras(experience):
    """``(experience for PPOClipAgent.train, extras dict)`` from a sampled item batch."""
    info = dict(experience.policy_info)
    extras = info.pop(EXTRA_KEY)
    return experience._replace(policy_info=info), extras


def variable_values(actor_net, iteration, finished):
    """The nest the learner publishes: actor weights, its iteration and whether training is over."""
    return {"actor": list(actor_net.variables), "iteration": iteration, "finished": finished}


def variable_spec(actor_net):
    """``tf.TensorSpec`` nest of :func:`variable_values` (the variable table's signature)."""
    values = variable_values(actor_net, tf.zeros((), tf.int64), tf.zeros((), tf.bool))
    return tf.nest.map_structure(lambda v: tf.TensorSpec(v.shape, v.dtype), values)
