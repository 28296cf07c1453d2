"""The PPO learner: build the agent once, then call its collect policy and its learner step.

These pieces are shared by :class:`agents.AlignerTrainer` (one process) and by
any other driver of the same agent (an actor-learner split, for example):

- :func:`build_ppo_agent` builds the networks and a ``PPOClipAgent`` from an
  :class:`agents.AlignerConfig` and the environment's specs, and returns them
  together as :class:`PPOParts` (no TF-Agents private attribute is read later);
- :func:`make_collect_step` turns the agent's collect policy into a compiled
  ``time_step -> (action, logits)`` function;
- :func:`make_learner_step` returns the compiled PPO update
  ``experience -> (loss_info, finite)``, optionally with the actor frozen
  (critic warm-up), with the reward normaliser applied and updated.

>>> import envs, tensorflow as tf
>>> from agents import AlignerConfig
>>> from agents.environment import env_settings, make_vector_py_env
>>> py_env = make_vector_py_env(env_settings("dtwrl/SyntheticWarp-v0", window=5), num_envs=2, seed=0)
>>> parts = build_ppo_agent(py_env.time_step_spec(), py_env.action_spec(), AlignerConfig(hidden=(8,)))
>>> collect = make_collect_step(parts)
>>> action, logits = collect(py_env.reset())
>>> action.shape.as_list(), logits.shape.as_list()
([2], [2, 3])
"""

import dataclasses
from collections.abc import Callable
from typing import Any

import tensorflow as tf
from tf_agents.agents.ppo import ppo_clip_agent
from tf_agents.networks import network
from tf_agents.specs import tensor_spec
from tf_agents.utils import common, tensor_normalizer

from .config import AlignerConfig
from .networks import build_networks

REWARD_NORM_CLIPPING = 10.0
"""Normalised rewards are clipped to +-this (TF-Agents' default ``reward_norm_clipping``)."""


@dataclasses.dataclass
class PPOParts:
    """The agent and the objects built for it, kept by reference.

    Attributes
    ----------
    agent : tf_agents.agents.ppo.ppo_clip_agent.PPOClipAgent
    actor_net, value_net : tf_agents.networks.Network
        The masked categorical actor and the critic (``agents.networks.build_networks``).
    optimizer : tf.keras.optimizers.Optimizer
        Adam, with slots built for every weight of both networks.
    train_step : tf.Variable
        int64 counter of PPO updates.
    reward_normalizer : tf_agents.utils.tensor_normalizer.StreamingTensorNormalizer or None
        Running reward scale (``config.normalize_rewards``).
    """

    agent: ppo_clip_agent.PPOClipAgent
    actor_net: network.Network
    value_net: network.Network
    optimizer: Any
    train_step: tf.Variable
    reward_normalizer: Any = None

    def checkpoint_objects(self) -> dict:
        """The objects a checkpoint must hold to resume (``agent`` includes networks and optimizer)."""
        objects = {"agent": self.agent, "actor_net": self.actor_net, "value_net": self.value_net}
        if self.reward_normalizer is not None:
            objects["reward_normalizer"] = self.reward_normalizer
        return objects

    def network_objects(self) -> dict:
        """The objects a fine-tuned run takes over from a pretrained one (``init_from``)."""
        objects = {"actor_net": self.actor_net, "value_net": self.value_net}
        if self.reward_normalizer is not None:
            objects["reward_normalizer"] = self.reward_normalizer
        return objects


def build_ppo_agent(time_step_spec: Any, action_spec: Any, config: AlignerConfig) -> PPOParts:
    """Networks and a ``PPOClipAgent`` for the given specs and config.

    Parameters
    ----------
    time_step_spec, action_spec
        The environment's specs (array specs of a py environment or tensor
        specs); the observation is whatever dict the environment emits, with
        an ``"action_mask"`` entry.
    config : AlignerConfig
        Uses ``hidden``, ``cost_floor``, ``learning_rate``, ``clip_ratio``,
        ``gae_lambda``, ``discount``, ``entropy``, ``num_epochs``,
        ``normalize_rewards`` and ``gradient_clipping``.

    Returns
    -------
    PPOParts
    """
    time_step_spec = tensor_spec.from_spec(time_step_spec)
    action_spec = tensor_spec.from_spec(action_spec)
    actor_net, value_net = build_networks(
        time_step_spec.observation, action_spec, hidden=config.hidden, cost_floor=config.cost_floor
    )
    train_step = tf.Variable(0, dtype=tf.int64, name="train_step")
    optimizer = tf.keras.optimizers.Adam(learning_rate=config.learning_rate, epsilon=1e-5)
    # Slots for every weight now: the critic warm-up steps only the critic's.
    optimizer.build(actor_net.trainable_variables + value_net.trainable_variables)
    agent = ppo_clip_agent.PPOClipAgent(
        time_step_spec,
        action_spec,
        optimizer=optimizer,
        actor_net=actor_net,
        value_net=value_net,
        greedy_eval=True,
        importance_ratio_clipping=config.clip_ratio,
        lambda_value=config.gae_lambda,
        discount_factor=config.discount,
        entropy_regularization=config.entropy,
        num_epochs=config.num_epochs,
        use_gae=True,
        use_td_lambda_return=True,
        normalize_rewards=False,  # done by make_learner_step with a normaliser we hold
        normalize_observations=False,  # the mask is part of the observation
        gradient_clipping=config.gradient_clipping or None,
        value_clipping=None,
        train_step_counter=train_step,
        compute_value_and_advantage_in_train=True,
    )
    agent.initialize()
    normalizer = None
    if config.normalize_rewards:
        normalizer = tensor_normalizer.StreamingTensorNormalizer(
            tensor_spec.TensorSpec([], tf.float32), scope="normalize_reward"
        )
    return PPOParts(agent, actor_net, value_net, optimizer, train_step, normalizer)


def make_collect_step(parts: PPOParts) -> Callable:
    """The compiled collect policy: ``time_step -> (action (N,), logits (N, 3))``.

    The logits are the ``policy_info`` PPO needs (``{"dist_params": {"logits": ...}}``).
    """

    def collect(time_step):
        step = parts.agent.collect_policy.action(time_step)
        return step.action, step.info["dist_params"]["logits"]

    return common.function(collect)


def make_learner_step(parts: PPOParts, train_actor: bool = True) -> Callable:
    """The compiled PPO update: ``experience -> (loss_info, finite)``.

    Parameters
    ----------
    parts : PPOParts
    train_actor : bool
        False: the actor's weights are frozen during the update (critic
        warm-up). Each variant is its own compiled function.

    Returns
    -------
    callable
        Takes a ``Trajectory`` of ``(N, T + 1, ...)`` tensors; returns the
        ``LossInfo`` and a bool tensor, False when the loss or any weight is
        not finite. With a reward normaliser, rewards are divided by their
        running standard deviation (clipped to +-``REWARD_NORM_CLIPPING``)
        before the update, and the normaliser then learns the batch.
    """
    weights = parts.actor_net.trainable_variables + parts.value_net.trainable_variables

    def learn(experience):
        raw_reward = experience.reward
        if parts.reward_normalizer is not None:
            normalized = parts.reward_normalizer.normalize(
                raw_reward, center_mean=False, clip_value=REWARD_NORM_CLIPPING
            )
            experience = experience._replace(reward=normalized)
        loss_info = parts.agent.train(experience)
        if parts.reward_normalizer is not None:
            parts.reward_normalizer.update(raw_reward, outer_dims=[0, 1])
        finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(w)) for w in weights])
        return loss_info, tf.logical_and(finite, tf.math.is_finite(loss_info.loss))

    compiled = common.function(learn)
    if train_actor:
        return compiled

    def learn_critic_only(experience):
        parts.actor_net.trainable = False  # PPOClipAgent trains the trainable weights of actor and critic
        try:
            return compiled(experience)
        finally:
            parts.actor_net.trainable = True

    return learn_critic_only
