"""The PPO learner: build the agent once, then call its collect policy and its learner step.

These pieces are shared by :class:`agents.AlignerTrainer` (one process) and by
any other driver of the same agent (an actor-learner split, for example):

- :func:`build_ppo_agent` builds the networks and a ``PPOClipAgent`` from an
  :class:`agents.AlignerConfig` and the environment's specs, and returns them
  together as :class:`PPOParts` (no TF-Agents private attribute is read later);
- :func:`make_learner_step` returns the compiled PPO update
  ``experience -> (loss_info, finite)``, optionally with the actor frozen
  (critic warm-up), with the reward normaliser applied and updated.

The collect policy is the agent's ``collect_policy`` (the single-process
trainer samples the same masked categorical in NumPy,
``agents.training.collection.SampledNumpyPolicy``).

Both learner variants share ONE compiled graph: tracing TF-Agents' PPO update
costs seconds of CPU, so the critic warm-up does not get a graph of its own.
Instead the optimizer (:class:`GatedAdam`) clips the gradients by their global
norm itself and, while ``PPOParts.train_actor`` is False, replaces the actor's
gradients by zeros first: the clipped critic gradients are those of a
critic-only update, and Adam leaves the actor's weights exactly unchanged (its
moments stay at zero).

>>> import envs, tensorflow as tf
>>> from agents import AlignerConfig
>>> from agents.training.environment import env_settings, make_vector_py_env
>>> py_env = make_vector_py_env(env_settings("dtwrl/SyntheticWarp-v0", window=5), num_envs=2, seed=0)
>>> parts = build_ppo_agent(py_env.time_step_spec(), py_env.action_spec(), AlignerConfig(hidden=(8,)))
>>> step = parts.agent.collect_policy.action(py_env.reset())
>>> step.action.shape.as_list(), step.info["dist_params"]["logits"].shape.as_list()
([2], [2, 3])
"""

import dataclasses
import types
from collections.abc import Callable
from typing import Any

import tensorflow as tf
from tf_agents.agents.ppo import ppo_clip_agent
from tf_agents.networks import network
from tf_agents.specs import tensor_spec
from tf_agents.utils import common, tensor_normalizer

from ..policy.networks import build_networks
from .config import AlignerConfig

REWARD_NORM_CLIPPING = 10.0
"""Normalised rewards are clipped to +-this (TF-Agents' default ``reward_norm_clipping``)."""


class GatedAdam(tf.keras.optimizers.Adam):
    """Adam that clips gradients by their global norm and can hold the actor's gradients at zero.

    Parameters
    ----------
    actor_variables : list of tf.Variable
        Whose gradients become zeros while ``train_actor`` is False.
    train_actor : tf.Variable
        bool.
    clip_norm : float
        Global-norm clipping of the (gated) gradients; 0 disables it.
    **kwargs
        ``tf.keras.optimizers.Adam`` arguments.

    The gate lives outside the optimizer's tracked state (checkpoints hold an
    ordinary Adam).
    """

    def __init__(self, actor_variables, train_actor: tf.Variable, clip_norm: float, **kwargs):
        super().__init__(**kwargs)
        # a SimpleNamespace is not tracked: the checkpointed optimizer stays a plain Adam
        self._gate = types.SimpleNamespace(
            actor={v.ref() for v in actor_variables}, train_actor=train_actor, clip_norm=float(clip_norm)
        )

    def apply_gradients(self, grads_and_vars, *args, **kwargs):
        grads, variables = zip(*grads_and_vars)
        gate = self._gate
        grads = [
            tf.where(gate.train_actor, grad, tf.zeros_like(grad)) if var.ref() in gate.actor else grad
            for grad, var in zip(grads, variables)
        ]
        if gate.clip_norm > 0:
            grads, _ = tf.clip_by_global_norm(grads, gate.clip_norm)
        return super().apply_gradients(zip(grads, variables), *args, **kwargs)


@dataclasses.dataclass
class PPOParts:
    """The agent and the objects built for it, kept by reference.

    Attributes
    ----------
    agent : tf_agents.agents.ppo.ppo_clip_agent.PPOClipAgent
    actor_net, value_net : tf_agents.networks.Network
        The masked categorical actor and the critic (``agents.policy.networks.build_networks``).
    optimizer : GatedAdam
        Adam (gradient clipping included), with slots built for every weight of both networks.
    train_step : tf.Variable
        int64 counter of PPO updates.
    train_actor : tf.Variable
        bool: False zeroes the actor's gradients (critic warm-up; set by :func:`make_learner_step`).
    reward_normalizer : tf_agents.utils.tensor_normalizer.StreamingTensorNormalizer or None
        Running reward scale (``config.normalize_rewards``).
    """

    agent: ppo_clip_agent.PPOClipAgent
    actor_net: network.Network
    value_net: network.Network
    optimizer: Any
    train_step: tf.Variable
    train_actor: tf.Variable
    reward_normalizer: Any = None
    compiled_update: Any = dataclasses.field(default=None, repr=False)
    """The compiled update shared by every :func:`make_learner_step` of these parts (built on first use)."""

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


def make_clip_agent(time_step_spec, action_spec, actor_net, value_net, optimizer, config, **overrides):
    """The ``PPOClipAgent`` (not initialised) of ``config``'s PPO settings, over these networks and optimizer.

    ``config`` gives ``clip_ratio``, ``gae_lambda``, ``discount``, ``entropy`` and
    ``num_epochs``; GAE with TD-lambda returns, a greedy evaluation policy, values
    and advantages computed in ``train``. The agent normalises neither rewards
    (:func:`make_learner_step` does, with a normaliser we hold) nor observations
    (the mask is part of them), and clips no gradient (:class:`GatedAdam` does,
    after gating the actor's). ``overrides`` replace single ``PPOClipAgent``
    arguments (``train_step_counter``, ``gradient_clipping``, ...).
    """
    arguments = dict(
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
        normalize_rewards=False,
        normalize_observations=False,
        gradient_clipping=None,
        value_clipping=None,
        compute_value_and_advantage_in_train=True,
    )
    return ppo_clip_agent.PPOClipAgent(time_step_spec, action_spec, **{**arguments, **overrides})


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
    train_actor = tf.Variable(True, trainable=False, name="train_actor")
    optimizer = GatedAdam(
        actor_net.trainable_variables,
        train_actor,
        config.gradient_clipping,
        learning_rate=config.learning_rate,
        epsilon=1e-5,
    )
    # Slots for every weight now: the critic warm-up steps only the critic's.
    optimizer.build(actor_net.trainable_variables + value_net.trainable_variables)
    agent = make_clip_agent(
        time_step_spec, action_spec, actor_net, value_net, optimizer, config, train_step_counter=train_step
    )
    agent.initialize()
    normalizer = None
    if config.normalize_rewards:
        normalizer = tensor_normalizer.StreamingTensorNormalizer(
            tensor_spec.TensorSpec([], tf.float32), scope="normalize_reward"
        )
    return PPOParts(agent, actor_net, value_net, optimizer, train_step, train_actor, normalizer)


def make_learner_step(parts: PPOParts, train_actor: bool = True) -> Callable:
    """The compiled PPO update: ``experience -> (loss_info, finite)``.

    Parameters
    ----------
    parts : PPOParts
    train_actor : bool
        False: the actor's weights are frozen during the update (critic
        warm-up). Every variant runs the same compiled graph (see the module
        docstring).

    Returns
    -------
    callable
        Takes a ``Trajectory`` of ``(N, T + 1, ...)`` tensors; returns the
        ``LossInfo`` and a bool tensor, False when the loss or any weight is
        not finite. With a reward normaliser, rewards are divided by their
        running standard deviation (clipped to +-``REWARD_NORM_CLIPPING``)
        before the update, and the normaliser then learns the batch.
    """
    if parts.compiled_update is None:
        parts.compiled_update = common.function(_update_fn(parts))
    compiled, train = parts.compiled_update, bool(train_actor)

    def learn(experience):
        parts.train_actor.assign(train)
        return compiled(experience)

    return learn


def _update_fn(parts: PPOParts) -> Callable:
    """The PPO update of ``parts`` (reward normalisation, ``agent.train``, finiteness check), to compile once."""
    weights = parts.actor_net.trainable_variables + parts.value_net.trainable_variables

    def update(experience):
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

    return update
