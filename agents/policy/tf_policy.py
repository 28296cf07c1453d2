"""A TF-Agents policy, live or saved by ``PolicySaver``, and the NumPy actor that reproduces it.

:class:`TFPolicy` holds the policy, gives its greedy actions on NumPy
observations (one compiled TF call, the reference the NumPy actor is checked
against) and builds the :class:`~agents.policy.actor.NumpyActor` with its
current weights: from a live policy's actor network (re-read on every call, so
a policy that keeps training is followed) or from a saved policy's
``model_variables``. A saved policy folder holds ``dtwrl_env.json``
(:data:`ENV_FILE`, the ``WarpingBatch`` arguments it was trained with) and
optionally ``dtwrl_actor.json`` (:data:`ACTOR_FILE`).

>>> policy = TFPolicy.load("results/aligner/my-run/policy")        # doctest: +SKIP
>>> actor = policy.numpy_actor(window=7, lookahead=[])              # doctest: +SKIP
"""

import json
import logging
import warnings

import numpy as np
import tensorflow as tf
from tf_agents.policies import policy_saver
from tf_agents.trajectories import time_step as ts

from dtwrl.runs import write_json
from envs.observation import COST_FLOOR, MAX_COST, network_keys

from .actor import NumpyActor, probe_observations

ENV_FILE = "dtwrl_env.json"
"""File beside a saved policy that holds the ``WarpingBatch`` arguments it was trained with."""
ACTOR_FILE = "dtwrl_actor.json"
"""Optional file beside a saved policy with the actor's ``cost_floor``/``max_cost``.

Without it, ``../config.json``, else the defaults."""


class _DropMessage(logging.Filter):
    def __init__(self, text):
        super().__init__()
        self.text = text

    def filter(self, record):
        return self.text not in record.getMessage()


def save_policy(policy, policy_dir, core_kwargs, train_step=None):
    """Save ``policy`` with TF-Agents' ``PolicySaver`` to ``policy_dir``, with its ``WarpingBatch`` arguments.

    Two messages TensorFlow prints on every such save are expected and are
    dropped here, only while saving: absl's "``0/step_type`` is not a valid
    tf.function parameter name" (``PolicySaver`` names its signature's inputs
    by their nest path, and TensorFlow renames them) and ``nested_structure_coder``'s
    ``UserWarning`` that loading needs ``tfp.distributions.Deterministic_ACTTypeSpec``
    registered (importing ``tf_agents``, as :meth:`TFPolicy.load`'s module does, registers it).

    Parameters
    ----------
    policy : tf_agents.policies.TFPolicy
    policy_dir : pathlib.Path
    core_kwargs : dict
        Written (atomically) to :data:`ENV_FILE` beside the saved model.
    train_step : tf.Variable or None
        Stored with the policy (``PolicySaver``'s ``train_step``).
    """
    absl = logging.getLogger("absl")
    drop = _DropMessage("is not a valid tf.function parameter name")
    absl.addFilter(drop)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Encoding a StructuredValue with type tfp.distributions", UserWarning)
            policy_saver.PolicySaver(policy, batch_size=None, train_step=train_step).save(str(policy_dir))
    finally:
        absl.removeFilter(drop)
    write_json(policy_dir / ENV_FILE, core_kwargs)


def time_step_from_observation(observation):
    """A batched MID ``TimeStep`` around an observation dict of ``(N, ...)`` tensors (graph-friendly)."""
    batch = tf.shape(observation["action_mask"])[0]
    return ts.TimeStep(
        step_type=tf.fill([batch], tf.constant(ts.StepType.MID, tf.int32)),
        reward=tf.zeros([batch], tf.float32),
        discount=tf.ones([batch], tf.float32),
        observation=observation,
    )


def _find_actor_network(policy):
    """The actor network inside a live TF-Agents policy (GreedyPolicy / PPOPolicy / ActorPolicy), or None."""
    seen = 0
    while policy is not None and seen < 8:
        net = getattr(policy, "_actor_network", None)
        if net is not None:
            return net
        policy = getattr(policy, "_wrapped_policy", None)
        seen += 1
    return None


def _agree(numpy_logits, actions, rtol=1e-4):
    """True when ``actions`` equal the argmax of ``numpy_logits`` wherever the top two logits are not near-tied."""
    ordered = np.sort(np.where(numpy_logits > np.finfo(np.float32).min, numpy_logits, -np.inf), axis=1)
    top, second = ordered[:, -1], ordered[:, -2]
    clear = ~np.isfinite(second) | (top - second > rtol * (1.0 + np.abs(top)))
    return bool(np.all((np.argmax(numpy_logits, axis=1) == np.asarray(actions))[clear]))


class TFPolicy:
    """A TF-Agents policy with the NumPy actor that reproduces it.

    Parameters
    ----------
    policy : tf_agents.policies.TFPolicy or a ``tf.saved_model.load``-ed ``PolicySaver`` policy
    policy_dir : pathlib.Path or None
        The saved policy's folder (None for a live policy).
    """

    def __init__(self, policy, policy_dir=None):
        self.policy = policy
        self.policy_dir = policy_dir
        self.actor_net = None if policy_dir is not None else _find_actor_network(policy)
        # NumPy observations go straight in; building the TimeStep inside the graph
        # costs far less than eager tensor conversions at every step.
        self._action = tf.function(self._greedy_action, reduce_retracing=True)

    @classmethod
    def load(cls, policy_dir):
        """The saved policy in ``policy_dir`` (a ``PolicySaver`` folder)."""
        return cls(tf.saved_model.load(str(policy_dir)), policy_dir)

    def saved_core_kwargs(self):
        """The ``WarpingBatch`` arguments stored beside a saved policy (:data:`ENV_FILE`)."""
        # policies saved before the lookahead key existed were trained without it
        return {"lookahead": [], **json.loads((self.policy_dir / ENV_FILE).read_text())}

    def _greedy_action(self, observation):
        time_step = time_step_from_observation(observation)
        state = self.policy.get_initial_state(batch_size=tf.shape(time_step.step_type)[0])
        return self.policy.action(time_step, state).action

    def act(self, observation):
        """Greedy actions ``(N,)`` of the TF-Agents policy itself for a NumPy observation dict."""
        return self._action(observation).numpy()

    def numpy_actor(self, window, lookahead):
        """The :class:`NumpyActor` with the policy's current weights (ValueError when the network is not supported)."""
        if self.policy_dir is None:
            if self.actor_net is None:
                raise ValueError(f"no actor network found in {type(self.policy).__name__}")
            return NumpyActor.from_network(self.actor_net)
        settings = {}
        for name in (ACTOR_FILE, "../config.json"):
            path = self.policy_dir / name
            if path.is_file():
                settings = json.loads(path.read_text())
                break
        cost_floor = float(settings.get("cost_floor", COST_FLOOR))
        max_cost = float(settings.get("max_cost", MAX_COST))
        return NumpyActor.from_saved_policy(self.policy, network_keys(window, lookahead), cost_floor, max_cost)

    def check(self, actor, window, lookahead):
        """Compare ``actor`` with this policy on probe observations (ValueError on a mismatch)."""
        probes = probe_observations(window, lookahead)
        logits = actor.logits(probes)
        if self.actor_net is not None:
            distribution, _ = self.actor_net(probes, step_type=None, training=False)
            expected = distribution.logits.numpy()
            if not np.allclose(logits, expected, rtol=1e-4, atol=1e-4):
                worst = float(np.max(np.abs(logits - expected)))
                raise ValueError(f"NumPy and TF logits differ on probe observations (max |diff| {worst:.3g})")
        if not _agree(logits, self.act(probes)):
            raise ValueError("NumPy and TF-Agents greedy actions differ on probe observations")
