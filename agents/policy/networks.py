"""Actor and value networks for the warping-path environments.

Both networks read the dict observation of :mod:`envs` (defined in
``envs.observation``)::

    {"window":      (B, k, k) float32  local costs ahead of the current cell,
     "position":    (B, p)    float32  position features,
     "lookahead":   (B, L, 3) float32  model-predictive move values (optional),
     "action_mask": (B, 3)    int8     1 where the move is legal}

and sit behind a :class:`tf_agents.networks.mask_splitter_network.MaskSplitterNetwork`
that strips ``"action_mask"`` off. The actor receives the mask and sets the
logits of illegal moves to the lowest float, so neither sampling nor the greedy
mode can pick them. The critic ignores it.

The cost-like keys (``envs.observation.COST_KEYS``: the window and the
lookahead) go through :class:`LogCost`, ``envs.observation.cost_transform``
in TensorFlow, flattened; every other key is flattened. Local costs span several
orders of magnitude (near zero on the optimal path, O(1) beside it), and the
log makes a cost ratio, not a cost difference, what the MLP sees.

>>> import numpy as np
>>> from tf_agents.specs import tensor_spec
>>> import tensorflow as tf
>>> obs_spec = {"window": tf.TensorSpec((5, 5), tf.float32),
...             "position": tf.TensorSpec((4,), tf.float32),
...             "action_mask": tf.TensorSpec((3,), tf.int8)}
>>> act_spec = tensor_spec.BoundedTensorSpec((), tf.int64, 0, 2)
>>> actor, critic = build_networks(obs_spec, act_spec, hidden=(16,))
>>> obs = {"window": tf.ones((2, 5, 5)), "position": tf.zeros((2, 4)),
...        "action_mask": tf.constant([[1, 1, 1], [0, 0, 1]], tf.int8)}
>>> dist, _ = actor(obs, step_type=None)
>>> dist.mode().numpy()[1]          # the only legal move
2
>>> critic(obs, step_type=None)[0].shape
TensorShape([2])
"""

import numbers

import tensorflow as tf
from tf_agents.networks import actor_distribution_network, mask_splitter_network, value_network

from envs.observation import COST_FLOOR, COST_KEYS, MAX_COST


@tf.keras.utils.register_keras_serializable(package="dtwrl")
class LogCost(tf.keras.layers.Layer):
    """Flattened ``envs.observation.cost_transform``: (B, ...) -> (B, prod(...)).

    ``log(max(min(v, max_cost), 0) + cost_floor)``; ``max_cost`` keeps padding
    (which an environment may fill with a huge value or ``inf``) finite.
    """

    def __init__(self, cost_floor=COST_FLOOR, max_cost=MAX_COST, **kwargs):
        super().__init__(**kwargs)
        self.cost_floor = float(cost_floor)
        self.max_cost = float(max_cost)

    def call(self, window):
        window = tf.minimum(tf.cast(window, tf.float32), self.max_cost)
        features = tf.math.log(tf.maximum(window, 0.0) + self.cost_floor)
        return tf.reshape(features, [tf.shape(window)[0], -1])

    def get_config(self):
        return {**super().get_config(), "cost_floor": self.cost_floor, "max_cost": self.max_cost}


def split_action_mask(observation):
    """``(observation without "action_mask", action_mask)``; works on specs and tensors."""
    rest = {key: value for key, value in observation.items() if key != "action_mask"}
    return rest, observation["action_mask"]


def _preprocessing(observation_spec, cost_floor):
    """One fresh set of per-key layers (networks must not share layer objects)."""
    layers = {}
    for key in observation_spec:
        if key == "action_mask":
            continue
        if key in COST_KEYS:
            layers[key] = LogCost(cost_floor=cost_floor)
        else:
            layers[key] = tf.keras.layers.Flatten()
    return layers


def _check_hidden(hidden):
    if isinstance(hidden, numbers.Integral):
        hidden = (hidden,)
    hidden = tuple(hidden)
    if not hidden or any(not isinstance(h, numbers.Integral) or h < 1 for h in hidden):
        raise ValueError(f"hidden must be a non-empty sequence of positive ints; got {hidden!r}")
    return tuple(int(h) for h in hidden)


def build_networks(observation_spec, action_spec, hidden=(128, 128), cost_floor=COST_FLOOR):
    """The masked actor and the value network for PPO.

    Parameters
    ----------
    observation_spec : dict of tf.TensorSpec
        Must hold ``"window"`` (k, k) and ``"action_mask"`` (3,); the keys of
        ``envs.observation.COST_KEYS`` go through :class:`LogCost`, every other
        key (``"position"``) is flattened; all are concatenated in sorted-key order.
    action_spec : tf_agents BoundedTensorSpec
        Scalar int spec with 3 actions.
    hidden : sequence of int
        Hidden layer sizes of both MLPs (ReLU).
    cost_floor : float
        Added to the cost-like values before the log, > 0.

    Returns
    -------
    actor_net, value_net : MaskSplitterNetwork
        ``actor_net(obs, step_type)`` returns a Categorical over the 3 moves
        whose illegal moves have probability 0; ``value_net(obs, step_type)``
        returns values of shape (B,).
    """
    missing = [key for key in ("window", "action_mask") if key not in observation_spec]
    if missing:
        raise ValueError(f"observation_spec must hold the keys {missing}; got {sorted(observation_spec)}")
    hidden = _check_hidden(hidden)
    if not cost_floor > 0:
        raise ValueError(f"cost_floor must be > 0; got {cost_floor}")
    spec_without_mask, _ = split_action_mask(observation_spec)

    def trunk():  # the actor and the critic each get their own (identically built) layers
        return dict(
            preprocessing_layers=_preprocessing(spec_without_mask, cost_floor),
            preprocessing_combiner=tf.keras.layers.Concatenate(axis=-1),
            fc_layer_params=hidden,
            activation_fn=tf.keras.activations.relu,
        )

    actor = actor_distribution_network.ActorDistributionNetwork(spec_without_mask, action_spec, **trunk())
    critic = value_network.ValueNetwork(spec_without_mask, **trunk())
    actor_net = mask_splitter_network.MaskSplitterNetwork(
        split_action_mask, actor, passthrough_mask=True, input_tensor_spec=observation_spec, name="MaskedActor"
    )
    value_net = mask_splitter_network.MaskSplitterNetwork(
        split_action_mask, critic, passthrough_mask=False, input_tensor_spec=observation_spec, name="MaskedValue"
    )
    actor_net.create_variables(observation_spec)
    value_net.create_variables(observation_spec)
    return actor_net, value_net
