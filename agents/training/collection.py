"""Collection: step the batched environment with the collect policy and pack PPO's trajectories.

One policy call per step serves every alignment of the batch. The trainer's
collect policy is :class:`SampledNumpyPolicy`: the actor's layers as a NumPy
float32 forward pass (its weights copied from the live network before each
collection) that samples from the masked categorical, the distribution
TF-Agents' collect policy samples from, at a fraction of a TensorFlow call's
per-step overhead. :class:`Collector`
keeps the current time step between iterations (episodes run across them), the
statistics of finished episodes (TF-Agents' ``AverageReturn`` and
``AverageEpisodeLength`` over the last ``num_envs`` episodes), and the cost
ratios the environment reports when an episode ends.
"""

from collections import deque
from collections.abc import Callable

import numba
import numpy as np
import tensorflow as tf
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory

from ..policy.actor import ROW_BLOCK, NumpyActor, hidden_layers
from . import imitation

_LOWEST = np.finfo(np.float32).min


@numba.njit(cache=True, nogil=True)
def _njit_masked_logits(features, mask, kernels, biases, relu, head_kernel, head_bias, out):
    """The actor's logits ``(N, 3)`` into ``out``, illegal moves at the lowest float32.

    The layers of :meth:`agents.policy.aligner.NumpyActor.logits` in float32
    (``b + x @ W``, ReLU where ``relu``, then the logits layer), single-threaded
    and in blocks of rows, so that a small batch pays no BLAS threading.
    """
    num, nin = features.shape
    width = nin
    for layer in range(len(kernels)):
        width = max(width, kernels[layer].shape[1])
    a = np.empty((ROW_BLOCK, width), np.float32)
    b = np.empty((ROW_BLOCK, width), np.float32)
    lowest = np.float32(_LOWEST)
    for first in range(0, num, ROW_BLOCK):
        count = min(ROW_BLOCK, num - first)
        for t in range(count):
            for q in range(nin):
                a[t, q] = features[first + t, q]
        size = hidden_layers(a, b, count, nin, kernels, biases, relu)
        for t in range(count):
            r = first + t
            for move in range(3):
                logit = head_bias[move]
                for q in range(size):
                    logit += a[t, q] * head_kernel[q, move]
                out[r, move] = logit if mask[r, move] != 0 else lowest


class SampledNumpyPolicy:
    """PPO's collect policy in NumPy: sample from the actor's masked categorical.

    The logits are :meth:`agents.policy.aligner.NumpyActor.logits` (illegal
    moves at the lowest float32, as the masked TF-Agents actor emits them); the
    action is drawn by the Gumbel-max trick, an exact sample of
    ``softmax(logits)`` over the legal moves. Call :meth:`sync` after every
    update of the network.

    Parameters
    ----------
    actor_net : tf_agents.networks.Network
        The actor of ``agents.policy.networks.build_networks``.
    seed : int or sequence of int
        Seed of the sampling stream.

    Examples
    --------
    >>> import envs
    >>> from tf_agents.specs import tensor_spec
    >>> from agents.training.environment import env_settings, make_vector_py_env
    >>> from agents.policy.networks import build_networks
    >>> py_env = make_vector_py_env(env_settings("dtwrl/SyntheticWarp-v0", window=5), num_envs=4, seed=0)
    >>> specs = tensor_spec.from_spec((py_env.time_step_spec().observation, py_env.action_spec()))
    >>> policy = SampledNumpyPolicy(build_networks(*specs, hidden=(8,))[0], seed=0)
    >>> action, logits = policy(py_env.reset())
    >>> action.shape, logits.shape, logits.dtype
    ((4,), (4, 3), dtype('float32'))
    """

    def __init__(self, actor_net, seed):
        self.actor_net = actor_net
        self.rng = np.random.default_rng(seed)
        self.actor = None
        self.sync()

    def sync(self) -> None:
        """Copy the network's current weights."""
        self.actor = NumpyActor.from_network(self.actor_net)

    def __call__(self, time_step) -> tuple[np.ndarray, np.ndarray]:
        """``time_step -> (action (N,) int64, masked logits (N, 3) float32)``."""
        observation = time_step.observation
        mask = np.ascontiguousarray(observation["action_mask"])
        if self.actor.fused_layers is not None:
            logits = np.empty((len(mask), 3), np.float32)
            _njit_masked_logits(self.actor.features(observation), mask, *self.actor.fused_layers, logits)
        else:  # no hidden layer: the NumPy pass
            logits = self.actor.logits(observation).astype(np.float32, copy=False)
        uniform = np.maximum(self.rng.random(logits.shape), np.finfo(np.float64).tiny)
        legal = mask.astype(bool)
        scores = np.where(legal, logits - np.log(-np.log(uniform)), -np.inf)  # Gumbel-max
        return np.argmax(scores, axis=1), logits


class EpisodeStats:
    """Average return and length of the last ``buffer`` finished episodes (like TF-Agents' metrics).

    Parameters
    ----------
    num_envs : int
        Alignments stepped together.
    buffer : int
        Finished episodes averaged.
    """

    def __init__(self, num_envs: int, buffer: int):
        self.returns = np.zeros(num_envs)
        self.lengths = np.zeros(num_envs, dtype=np.int64)
        self.done_returns: deque = deque(maxlen=buffer)
        self.done_lengths: deque = deque(maxlen=buffer)

    def update(self, step_type: np.ndarray, reward: np.ndarray, next_step_type: np.ndarray) -> None:
        """Account one transition of every alignment (``step_type`` -> ``next_step_type``, ``reward``)."""
        live = step_type != ts.StepType.LAST
        self.returns += np.where(live, reward, 0.0)
        self.lengths += live
        ended = next_step_type == ts.StepType.LAST
        if ended.any():
            self.done_returns.extend(self.returns[ended])
            self.done_lengths.extend(self.lengths[ended])
            self.returns[ended] = 0.0
            self.lengths[ended] = 0

    def result(self) -> tuple[float, float] | None:
        """``(average return, average length)``, or None before any episode ended."""
        if not self.done_returns:
            return None
        return float(np.mean(self.done_returns)), float(np.mean(self.done_lengths))


class Collector:
    """Steps a batched TF-Agents environment ``steps`` times per :meth:`run`.

    Parameters
    ----------
    py_env : envs.tf_agents_adapter.VectorPyEnvironment
        Batched, ``batch_size == num_envs``.
    collect_step : callable
        ``time_step -> (action, logits)``, arrays or tensors: a
        :class:`SampledNumpyPolicy`, or a TF-Agents collect policy wrapped to
        return ``(step.action, step.info["dist_params"]["logits"])``.
    label_expert_moves : bool
        Also return the visited states with the expert's move (the DAgger anchor).

    Attributes
    ----------
    episodes : EpisodeStats
    train_ratios : collections.deque
        Cost ratios vs exact DTW of the last ``num_envs`` finished training episodes.
    """

    def __init__(self, py_env, collect_step: Callable, label_expert_moves: bool = False):
        if not py_env.batched:
            raise ValueError("py_env must be a batched environment")
        self.py_env = py_env
        self.collect_step = collect_step
        self.label_expert_moves = bool(label_expert_moves)
        self.num_envs = int(py_env.batch_size)
        self.time_step = None
        self.episodes = EpisodeStats(self.num_envs, buffer=self.num_envs)
        self.train_ratios: deque = deque(maxlen=self.num_envs)

    def run(self, steps: int):
        """Step the environment ``steps`` times.

        Returns
        -------
        experience : Trajectory
            Tensors ``(N, T+1, ...)`` for ``PPOClipAgent.train``; the last time
            step only bootstraps the value (its action slot is padding that PPO
            masks out).
        visited : dict or None
            With ``label_expert_moves``: the NumPy observations of the ``N * T``
            visited states that are not episode ends, and their
            ``"expert_action"`` labels.
        """
        if self.time_step is None:
            self.time_step = self.py_env.reset()
        time_steps = [self.time_step]
        actions, logits, experts = [], [], []
        for _ in range(steps):
            if self.label_expert_moves:
                mask = self.time_step.observation["action_mask"]
                experts.append(imitation.legal_labels(self.py_env.gym_env.expert_actions(), mask))
            action, logit = self.collect_step(self.time_step)
            action = np.asarray(action)
            actions.append(action)
            logits.append(np.asarray(logit))
            self.time_step = self.py_env.step(action)
            time_steps.append(self.time_step)
            self._record_episode_ratios()
            self.episodes.update(time_steps[-2].step_type, self.time_step.reward, self.time_step.step_type)
        actions.append(np.zeros_like(actions[-1]))
        logits.append(np.zeros_like(logits[-1]))

        step_type = np.stack([t.step_type for t in time_steps], axis=1).astype(np.int32)
        reward = np.stack([t.reward for t in time_steps], axis=1).astype(np.float32)
        discount = np.stack([t.discount for t in time_steps], axis=1).astype(np.float32)
        keys = time_steps[0].observation
        observation = {key: np.stack([t.observation[key] for t in time_steps], axis=1) for key in keys}

        def shift(a):
            return np.concatenate([a[:, 1:], a[:, -1:]], axis=1)

        experience = trajectory.Trajectory(
            step_type=tf.convert_to_tensor(step_type),
            observation={key: tf.convert_to_tensor(value) for key, value in observation.items()},
            action=tf.convert_to_tensor(np.stack(actions, axis=1)),
            policy_info={"dist_params": {"logits": tf.convert_to_tensor(np.stack(logits, axis=1))}},
            next_step_type=tf.convert_to_tensor(shift(step_type)),
            reward=tf.convert_to_tensor(shift(reward)),
            discount=tf.convert_to_tensor(shift(discount)),
        )
        visited = None
        if self.label_expert_moves:
            keep = (step_type[:, :-1] != ts.StepType.LAST).reshape(-1)
            visited = {key: value[:, :-1].reshape((-1,) + value.shape[2:])[keep] for key, value in observation.items()}
            visited["expert_action"] = np.stack(experts, axis=1).reshape(-1)[keep]
        return experience, visited

    def _record_episode_ratios(self):
        """Keep the cost ratios the env reports for finished training episodes (``info["cost_ratio"]``)."""
        info = self.py_env.get_info()
        if info and "cost_ratio" in info:
            done = np.asarray(info.get("_cost_ratio", np.ones(len(info["cost_ratio"]), bool)), dtype=bool)
            self.train_ratios.extend(np.asarray(info["cost_ratio"], dtype=np.float64)[done])
