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
>>> config = AlignerConfig(num_envs=2, collect_steps=4, window=5, bc_warmstart=False)
>>> py_env = make_py_env(config, num_envs=2, seed=0)
>>> policy, actor = build_collect_policy(config, py_env)
>>> item_spec(policy).policy_info["dtwrl"]["collector"].dtype
tf.int32
"""
import dataclasses
import types
from pathlib import Path

import tensorflow as tf
from tf_agents.agents.ppo import ppo_policy
from tf_agents.experimental.distributed import reverb_variable_container
from tf_agents.specs import tensor_spec

from ..environment import make_vector_py_env
from ..networks import build_networks

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


def resolve_config(config):
    """The run's ``AlignerConfig`` with ``init_from``'s network settings adopted (as the trainer does).

    Every role calls this, so that server, collectors and learner build the same networks.
    """
    from ..ppo import AlignerTrainer

    config = dataclasses.replace(config)
    if config.init_from is not None:
        AlignerTrainer._adopt_network_settings(types.SimpleNamespace(config=config), Path(config.init_from))
    return config


def make_py_env(config, num_envs, seed):
    """The batched TF-Agents env a collector steps (the trainer's, with ``num_envs`` sub-envs)."""
    return make_vector_py_env(config.env_id, num_envs, seed, window=config.window, reward_scale=config.reward_scale)


def build_collect_policy(config, py_env):
    """PPO's stochastic collect policy on a fresh actor (the one ``PPOClipAgent.collect_policy`` builds).

    Returns
    -------
    policy : tf_agents.agents.ppo.ppo_policy.PPOPolicy
    actor_net : the masked actor network (its ``variables`` are what the learner publishes)
    """
    time_step_spec = tensor_spec.from_spec(py_env.time_step_spec())
    action_spec = tensor_spec.from_spec(py_env.action_spec())
    actor_net, value_net = build_networks(
        time_step_spec.observation, action_spec, hidden=config.hidden, cost_floor=config.cost_floor
    )
    policy = ppo_policy.PPOPolicy(
        time_step_spec, action_spec, actor_network=actor_net, value_network=value_net,
        clip=False, collect=True, compute_value_and_advantage_in_train=True,
    )
    return policy, actor_net


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
