"""Turn a trained alignment policy into an aligner: pairs in, warping paths out.

An aligner (docs/ARCHITECTURE.md) is a callable ``aligner(y_true, y_pred)`` that
takes NumPy batches ``(B, n, d)`` and ``(B, m, d)`` and returns ``B`` int64
paths ``(L_b, 2)`` from ``(0, 0)`` to ``(n-1, m-1)``, the first column indexing
``y_true``. :class:`PolicyAligner` builds them by greedy rollouts of the policy,
batched over the pairs: one ``envs.core.WarpingBatch`` holds every alignment of
a chunk and each step makes a single policy call for the whole chunk.

>>> aligner = PolicyAligner("results/aligner/my-run")          # doctest: +SKIP
>>> paths = aligner(y_true, y_pred)                            # doctest: +SKIP
>>> loss = dtwrl.losses.PathLoss(aligner)                      # doctest: +SKIP
"""
import json
import numbers
from pathlib import Path

import numpy as np
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

from dtwrl.aligners import register_aligner

from .environment import make_core

ENV_FILE = "dtwrl_env.json"
"""File beside a saved policy that holds the ``WarpingBatch`` arguments it was trained with."""


def time_step_from_observation(observation):
    """A batched MID ``TimeStep`` around an observation dict of ``(N, ...)`` tensors (graph-friendly)."""
    batch = tf.shape(observation["action_mask"])[0]
    return ts.TimeStep(
        step_type=tf.fill([batch], tf.constant(ts.StepType.MID, tf.int32)),
        reward=tf.zeros([batch], tf.float32),
        discount=tf.ones([batch], tf.float32),
        observation=observation,
    )


def rollout_paths(act, pairs, core_kwargs):
    """Greedy rollouts of ``act`` on every pair at once.

    Parameters
    ----------
    act : callable
        ``act(observation dict of (N, ...) arrays) -> (N,) int actions``.
    pairs : sequence of (x (n, d), y (m, d))
    core_kwargs : dict
        ``envs.core.WarpingBatch`` arguments (window, metric, band, ...).

    Returns
    -------
    list of numpy.ndarray
        One int64 path ``(L, 2)`` per pair.
    """
    if len(pairs) == 0:
        return []
    core = make_core(core_kwargs)
    core.reset(list(pairs))
    longest = max(len(x) + len(y) for x, y in pairs)
    for _ in range(longest):
        if np.all(core.done):
            break
        core.step(np.asarray(act(core.observation())))
    if not np.all(core.done):
        raise RuntimeError("rollout did not reach the end cell within n + m steps; the environment is inconsistent")
    return [np.asarray(path, dtype=np.int64) for path in core.paths()]


def _as_batch(values, name):
    if isinstance(values, (list, tuple)) and values and np.ndim(values[0]) in (1, 2):
        raise TypeError(f"{name} must be one array (B, n, d); for pairs of unequal lengths use align_pairs")
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or 0 in array.shape:
        raise ValueError(f"{name} must be a non-empty batch of shape (B, n, d) or (B, n); got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds NaN or inf")
    return array


@register_aligner
class PolicyAligner:
    """An aligner that warps pairs with a trained TF-Agents policy (greedy rollouts).

    Parameters
    ----------
    policy : str, pathlib.Path or tf_agents.policies.TFPolicy
        A run folder of ``agents.train_aligner`` (its ``policy/`` is loaded), a
        saved-policy folder itself, or a live policy (e.g. ``agent.policy``).
    core_kwargs : dict or None
        ``envs.core.WarpingBatch`` arguments the policy was trained with
        (window, metric, band, ...). Read from the saved policy's
        ``dtwrl_env.json`` when None; required for a live policy.
    batch_size : int
        Pairs rolled out together (one policy call per step per chunk).

    Examples
    --------
    >>> aligner = PolicyAligner("results/aligner/run")      # doctest: +SKIP
    >>> paths = aligner(np.zeros((4, 50, 1)), np.zeros((4, 60, 1)))  # doctest: +SKIP
    >>> len(paths), paths[0][0].tolist(), paths[0][-1].tolist()      # doctest: +SKIP
    (4, [0, 0], [49, 59])
    """

    def __init__(self, policy, core_kwargs=None, batch_size=64):
        if not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
        self.batch_size = int(batch_size)
        self.policy_dir = None
        if isinstance(policy, (str, Path)):
            self.policy_dir = self._find_policy_dir(Path(policy))
            self._policy = tf.saved_model.load(str(self.policy_dir))
            if core_kwargs is None:
                core_kwargs = json.loads((self.policy_dir / ENV_FILE).read_text())
        elif hasattr(policy, "action") and hasattr(policy, "time_step_spec"):
            self._policy = policy
            if core_kwargs is None:
                raise ValueError("core_kwargs is required when policy is a live TF-Agents policy")
        else:
            raise TypeError(
                f"policy must be a run folder, a saved-policy folder or a TF-Agents policy; got {type(policy).__name__}"
            )
        if not isinstance(core_kwargs, dict):
            raise TypeError(f"core_kwargs must be a dict; got {type(core_kwargs).__name__}")
        self.core_kwargs = dict(core_kwargs)
        # NumPy observations go straight in: building the TimeStep inside the graph
        # costs far less than eager tensor conversions at every step.
        self._action = tf.function(self._greedy_action, reduce_retracing=True)

    @staticmethod
    def _find_policy_dir(path):
        for candidate in (path, path / "policy"):
            if (candidate / "saved_model.pb").is_file():
                return candidate
        raise ValueError(f"policy {str(path)!r} is neither a saved policy nor a run folder holding policy/saved_model.pb")

    def _greedy_action(self, observation):
        time_step = time_step_from_observation(observation)
        state = self._policy.get_initial_state(batch_size=tf.shape(time_step.step_type)[0])
        return self._policy.action(time_step, state).action

    def act(self, observation):
        """Greedy actions ``(N,)`` for a NumPy observation dict of ``(N, ...)`` arrays."""
        return self._action(observation).numpy()

    def align_pairs(self, pairs):
        """Paths for a sequence of ``(x (n, d), y (m, d))`` pairs, lengths free per pair."""
        pairs = list(pairs)
        paths = []
        for start in range(0, len(pairs), self.batch_size):
            paths.extend(rollout_paths(self.act, pairs[start : start + self.batch_size], self.core_kwargs))
        return paths

    def __call__(self, y_true, y_pred):
        """One path per pair: ``y_true (B, n, d)``, ``y_pred (B, m, d)`` -> list of ``(L_b, 2)``."""
        y_true = _as_batch(y_true, "y_true")
        y_pred = _as_batch(y_pred, "y_pred")
        if len(y_true) != len(y_pred):
            raise ValueError(f"y_true and y_pred must hold as many series; got {len(y_true)} and {len(y_pred)}")
        if y_true.shape[2] != y_pred.shape[2]:
            raise ValueError(f"y_true and y_pred must have the same feature dimension; got {y_true.shape[2]} and {y_pred.shape[2]}")
        return self.align_pairs(list(zip(y_true, y_pred)))

    def get_config(self):
        """``{"policy": <saved policy dir>, "core_kwargs": ..., "batch_size": ...}`` (saved policies only)."""
        if self.policy_dir is None:
            raise ValueError("a PolicyAligner around a live policy cannot be serialised; save the policy first")
        return {"policy": str(self.policy_dir), "core_kwargs": self.core_kwargs, "batch_size": self.batch_size}

    @classmethod
    def from_config(cls, config):
        """Rebuild from :meth:`get_config`."""
        return cls(**config)

    def __repr__(self):
        where = self.policy_dir if self.policy_dir is not None else type(self._policy).__name__
        return f"PolicyAligner({where}, window={self.core_kwargs.get('window')}, batch_size={self.batch_size})"
