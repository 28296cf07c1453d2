"""The policy's actor in NumPy/numba float32: :class:`NumpyActor`, its compiled layers and its ``.npz`` file.

:class:`NumpyActor` is the masked actor network of
``agents.policy.networks.build_networks`` (the cost transform of
``envs.observation`` on the window and lookahead, flatten and concatenate,
dense ReLU stack, logits, mask) run with the policy's own weights; its greedy
action is the argmax of the masked logits, exactly as the TF-Agents greedy
policy (``Categorical.mode``). A step thus costs microseconds instead of a TF
function call (~1.5 ms). :meth:`NumpyActor.save` writes an actor to one small
``.npz`` file (the shipped pretrained aligner is one). This module imports no
TensorFlow; only :meth:`NumpyActor.from_network` and :meth:`NumpyActor.assign_to`
touch a live Keras network.

>>> actor = NumpyActor(["position"], [(np.eye(2), np.zeros(2), "relu")], (np.ones((2, 3)), np.zeros(3)), 1e-3, 1.0)
>>> actor.act({"position": np.array([[0.5, 0.2]]), "action_mask": np.array([[0, 1, 1]])}).tolist()
[1]
"""

import io
import json
from pathlib import Path

import numba
import numpy as np

from envs.observation import COST_FLOOR, COST_KEYS, MAX_COST, cost_transform, observation_spec

_ACTIVATIONS = {
    "relu": lambda h: np.maximum(h, np.float32(0.0), out=h),
    "linear": lambda h: h,
}


#: Rows of one block of the actor's compiled forward passes: each weight row is loaded once per block, not per row.
ROW_BLOCK = 8


@numba.njit(cache=True, nogil=True, inline="always")
def hidden_layers(a, b, count, nin, kernels, biases, relu):
    """The actor's dense layers on the first ``count`` rows of ``a`` (nin features in, the last layer's units out).

    ``a`` and ``b`` are (ROW_BLOCK, widest layer) float32 buffers: ``b + x @ W`` for each layer, ReLU where
    ``relu``, each weight row shared by the block's rows while it is in L1. Returns the width of the output left in
    ``a``. The shared core of the greedy pass (:func:`_njit_greedy`) and the collect policy's logits
    (``agents.training.collection``).
    """
    zero = np.float32(0.0)
    size = nin
    for layer in range(len(kernels)):
        kernel = kernels[layer]
        bias = biases[layer]
        units = kernel.shape[1]
        for t in range(count):
            for j in range(units):
                b[t, j] = bias[j]
        for q in range(size):
            weights = kernel[q]
            for t in range(count):
                xq = a[t, q]
                for j in range(units):
                    b[t, j] += xq * weights[j]
        for t in range(count):
            for j in range(units):
                v = b[t, j]
                a[t, j] = max(v, zero) if relu[layer] else v
        size = units
    return size


@numba.njit(cache=True, nogil=True)
def _njit_greedy(features, mask, kernels, biases, relu, head_kernel, head_bias, out):
    """Greedy actions of the actor into ``out``, rows with a choice taken in blocks of ``ROW_BLOCK``.

    The same layers as :meth:`NumpyActor.logits` (float32 throughout): the
    preprocessed ``features`` (:meth:`NumpyActor.features`), the dense layers
    (``b + x @ W``, ReLU where ``relu``), the logits layer, and the first
    argmax over the legal moves. Rows with one legal move take it without the
    network; rows with none get 0. A block shares each weight row while it is
    in L1 (the weights of a 128x128 MLP do not fit there).
    """
    num, nin = mask.shape[0], features.shape[1]
    width = nin
    for layer in range(len(kernels)):
        width = max(width, kernels[layer].shape[1])
    rows = np.empty(ROW_BLOCK, np.int64)
    a = np.empty((ROW_BLOCK, width), np.float32)
    b = np.empty((ROW_BLOCK, width), np.float32)
    zero = np.float32(0.0)
    r = 0
    while r < num:
        count = 0
        while r < num and count < ROW_BLOCK:
            legal = 0
            first = -1
            for move in range(3):
                if mask[r, move] != 0:
                    legal += 1
                    if first < 0:
                        first = move
            if legal <= 1:
                out[r] = max(first, 0)
            else:
                rows[count] = r
                for q in range(nin):
                    a[count, q] = features[r, q]
                count += 1
            r += 1
        size = hidden_layers(a, b, count, nin, kernels, biases, relu)
        for t in range(count):
            best = -np.inf
            arg = 0
            for move in range(3):
                if mask[rows[t], move] == 0:
                    continue
                logit = zero
                for q in range(size):
                    logit += a[t, q] * head_kernel[q, move]
                logit += head_bias[move]
                if logit > best:
                    best = logit
                    arg = move
            out[rows[t]] = arg


class NumpyActor:
    """The masked actor of ``agents.policy.networks.build_networks`` as a NumPy float32 forward pass.

    Layers, as in TF-Agents' ``ActorDistributionNetwork`` behind the
    ``MaskSplitterNetwork``: every observation key but ``"action_mask"``, in
    ``tf.nest`` order (sorted keys), is flattened, the keys of
    ``envs.observation.COST_KEYS`` through ``envs.observation.cost_transform``;
    the pieces are concatenated, go through the dense layers, then the
    ``logits`` layer; illegal moves get the lowest float32, and the greedy
    action is the first argmax (``Categorical.mode``).

    Parameters
    ----------
    keys : sequence of str
        Observation keys in concatenation order.
    dense : list of (kernel, bias, activation)
        The encoder's dense layers (``activation`` in ``"relu"``, ``"linear"``).
    logits : (kernel, bias)
        The projection layer, ``(h, 3)`` and ``(3,)``.
    cost_floor, max_cost : float
        The ``LogCost`` constants.
    """

    def __init__(self, keys, dense, logits, cost_floor, max_cost):
        self.keys = tuple(keys)
        self.cost_floor = np.float32(cost_floor)
        self.max_cost = np.float32(max_cost)
        self.dense = []
        for kernel, bias, activation in dense:
            if activation not in _ACTIVATIONS:
                raise ValueError(f"unsupported activation {activation!r}; expected one of {sorted(_ACTIVATIONS)}")
            self.dense.append((np.asarray(kernel, np.float32), np.asarray(bias, np.float32), _ACTIVATIONS[activation]))
        self.logits_kernel = np.asarray(logits[0], np.float32)
        self.logits_bias = np.asarray(logits[1], np.float32)
        width = self.dense[0][0].shape[0] if self.dense else self.logits_kernel.shape[0]
        for kernel, bias, _ in self.dense + [(self.logits_kernel, self.logits_bias, None)]:
            if kernel.ndim != 2 or kernel.shape[0] != width or bias.shape != (kernel.shape[1],):
                raise ValueError(
                    f"dense layer shapes do not chain: kernel {kernel.shape}, bias {bias.shape}, input {width}"
                )
            width = kernel.shape[1]
        if width != 3:
            raise ValueError(f"the logits layer must have 3 outputs (diagonal, down, right); got {width}")
        self.input_size = self.dense[0][0].shape[0] if self.dense else self.logits_kernel.shape[0]
        self.fused_layers = None
        """``(kernels, biases, relu flags, logits kernel, logits bias)`` as the compiled passes take them
        (:func:`hidden_layers`); None without a dense layer (then only the NumPy pass runs)."""
        if self.dense:
            self.fused_layers = (
                tuple(np.ascontiguousarray(kernel) for kernel, _, _ in self.dense),
                tuple(np.ascontiguousarray(bias) for _, bias, _ in self.dense),
                np.array([fn is _ACTIVATIONS["relu"] for _, _, fn in self.dense]),
                np.ascontiguousarray(self.logits_kernel),
                np.ascontiguousarray(self.logits_bias),
            )

    def features(self, observation):
        """The concatenated preprocessed inputs ``(N, input_size)`` float32."""
        parts = []
        for key in self.keys:
            value = np.asarray(observation[key], dtype=np.float32)
            value = value.reshape(len(value), -1)
            if key in COST_KEYS:
                value = cost_transform(value, self.cost_floor, self.max_cost)
            parts.append(value)
        features = np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
        if features.shape[1] != self.input_size:
            raise ValueError(
                f"the observation gives {features.shape[1]} input features but the actor expects {self.input_size}; "
                "core_kwargs (window, lookahead) do not match the policy"
            )
        return features

    def logits(self, observation):
        """Masked logits ``(N, 3)`` float32 (illegal moves at the lowest float32)."""
        h = self.features(observation)
        for kernel, bias, activation in self.dense:
            h = activation(h @ kernel + bias)
        logits = h @ self.logits_kernel + self.logits_bias
        mask = np.asarray(observation["action_mask"]).astype(bool)
        return np.where(mask, logits, np.finfo(np.float32).min)

    def log_probs(self, observation):
        """Log-probabilities ``(N, 3)`` float64 of the masked categorical (-inf for illegal moves)."""
        logits = self.logits(observation).astype(np.float64)
        mask = np.asarray(observation["action_mask"]).astype(bool)
        logits = np.where(mask, logits, -np.inf)
        top = np.max(np.where(mask.any(axis=1, keepdims=True), logits, 0.0), axis=1, keepdims=True)
        shifted = logits - top
        with np.errstate(divide="ignore"):
            return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))

    def act(self, observation):
        """Greedy actions ``(N,)`` int64: the first argmax of the masked logits.

        Only the rows with a choice (two or more legal moves) go through the
        network: a single legal move is its own argmax, and a row with none
        (a finished alignment) gets 0 as from an all-masked argmax. For the
        ``build_networks`` layout this runs as one compiled (numba) pass over
        the rows, the same float32 layers as :meth:`logits`.
        """
        mask = np.asarray(observation["action_mask"])
        if self.fused_layers is not None:
            actions = np.empty(len(mask), dtype=np.int64)
            _njit_greedy(self.features(observation), np.ascontiguousarray(mask), *self.fused_layers, actions)
            return actions
        actions = np.argmax(mask, axis=1)
        choose = np.flatnonzero(np.count_nonzero(mask, axis=1) > 1)
        if len(choose) == len(mask):
            return np.argmax(self.logits(observation), axis=1)
        if len(choose):
            rows = {key: np.asarray(observation[key])[choose] for key in (*self.keys, "action_mask")}
            actions[choose] = np.argmax(self.logits(rows), axis=1)
        return actions

    # -------------------------------------------------------------- builders
    @classmethod
    def from_network(cls, actor_net):
        """From a live ``MaskSplitterNetwork`` (or bare ``ActorDistributionNetwork``) of ``build_networks``."""
        import tensorflow as tf

        from .networks import LogCost

        net = getattr(actor_net, "_wrapped_network", actor_net)
        encoder, projection = net._encoder, net._projection_networks
        if not hasattr(projection, "_projection_layer"):
            raise ValueError(f"unsupported projection network {type(projection).__name__}; expected a categorical one")
        nest = encoder._preprocessing_nest
        if not isinstance(nest, dict):
            raise ValueError("the actor's preprocessing layers must be a dict keyed by observation keys")
        keys = sorted(nest)  # tf.nest flattens dicts by sorted key
        flat_layers = list(encoder._flat_preprocessing_layers or ())
        if len(flat_layers) != len(keys):
            raise ValueError(f"expected one preprocessing layer per observation key {keys}; got {len(flat_layers)}")
        cost_floor, max_cost = COST_FLOOR, MAX_COST
        for key, layer in zip(keys, flat_layers):
            if isinstance(layer, LogCost):
                if key not in COST_KEYS:
                    raise ValueError(f"LogCost on key {key!r}; the NumPy actor expects it on {COST_KEYS} only")
                cost_floor, max_cost = layer.cost_floor, layer.max_cost
            elif not isinstance(layer, tf.keras.layers.Flatten) or key in COST_KEYS:
                raise ValueError(f"unsupported preprocessing layer {type(layer).__name__} for {key!r}")
        combiner = encoder._preprocessing_combiner
        if len(keys) > 1 and not (isinstance(combiner, tf.keras.layers.Concatenate) and combiner.axis in (-1, 1)):
            raise ValueError(f"unsupported preprocessing combiner {type(combiner).__name__}")
        dense = []
        for layer in encoder._postprocessing_layers:
            if isinstance(layer, tf.keras.layers.Flatten):
                continue
            if not isinstance(layer, tf.keras.layers.Dense):
                raise ValueError(f"unsupported encoder layer {type(layer).__name__}")
            dense.append((layer.kernel.numpy(), layer.bias.numpy(), _activation_name(layer.activation)))
        head = projection._projection_layer
        if _activation_name(head.activation) != "linear":
            raise ValueError("the logits layer must be linear")
        return cls(keys, dense, (head.kernel.numpy(), head.bias.numpy()), cost_floor, max_cost)

    @classmethod
    def from_saved_policy(cls, saved, keys, cost_floor, max_cost, activation="relu"):
        """From a ``tf.saved_model.load``-ed ``PolicySaver`` policy (its actor's ``model_variables``)."""
        variables = list(saved.model_variables)
        encoder = [v for v in variables if "ActorDistributionNetwork/EncodingNetwork/" in v.name]
        head = [v for v in variables if "ActorDistributionNetwork/CategoricalProjectionNetwork/" in v.name]
        if len(encoder) % 2 or len(head) != 2:
            raise ValueError(
                "the saved policy's model_variables do not hold an ActorDistributionNetwork with a categorical head; "
                f"got {[v.name for v in variables]}"
            )
        pairs = [encoder[i : i + 2] for i in range(0, len(encoder), 2)] + [head]
        layers = []
        for kernel, bias in pairs:
            if not (kernel.name.endswith("kernel:0") and bias.name.endswith("bias:0")):
                raise ValueError(f"unexpected variable order in the saved policy: {kernel.name}, {bias.name}")
            layers.append((kernel.numpy(), bias.numpy()))
        dense = [(k, b, activation) for k, b in layers[:-1]]
        return cls(keys, dense, layers[-1], cost_floor, max_cost)

    def assign_to(self, actor_net):
        """Copy these weights into a live actor network of ``build_networks`` with the same layout (the inverse of
        :meth:`from_network`); ValueError when the layouts differ."""
        import tensorflow as tf

        target = NumpyActor.from_network(actor_net)
        if target.keys != self.keys or [k.shape for k, _, _ in target.dense] != [k.shape for k, _, _ in self.dense]:
            raise ValueError(
                f"actor layouts differ: keys {target.keys} vs {self.keys}, layers "
                f"{[k.shape for k, _, _ in target.dense]} vs {[k.shape for k, _, _ in self.dense]}"
            )
        net = getattr(actor_net, "_wrapped_network", actor_net)
        layers = [layer for layer in net._encoder._postprocessing_layers if isinstance(layer, tf.keras.layers.Dense)]
        for layer, (kernel, bias, _) in zip(layers, self.dense):
            layer.set_weights([kernel, bias])
        net._projection_networks._projection_layer.set_weights([self.logits_kernel, self.logits_bias])

    def save(self, path, core_kwargs, info=None):
        """Write the actor and the ``WarpingBatch`` arguments it reads to one ``.npz`` file (atomically).

        Parameters
        ----------
        path : str or pathlib.Path
        core_kwargs : dict
            ``envs.core.WarpingBatch`` arguments (window, metric, band, lookahead, ...).
        info : dict or None
            JSON-able provenance (training command, corpus, measured figures).
        """
        from dtwrl.runs import atomic_write_bytes

        meta = {
            "keys": list(self.keys),
            "cost_floor": float(self.cost_floor),
            "max_cost": float(self.max_cost),
            "activations": [_activation_label(fn) for _, _, fn in self.dense],
            "core_kwargs": core_kwargs,
            "info": info or {},
        }
        arrays = {"meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
        for t, (kernel, bias, _) in enumerate(self.dense):
            arrays[f"kernel_{t}"], arrays[f"bias_{t}"] = kernel, bias
        arrays["logits_kernel"], arrays["logits_bias"] = self.logits_kernel, self.logits_bias
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        atomic_write_bytes(Path(path), buffer.getvalue())

    @classmethod
    def load(cls, path):
        """``(actor, core_kwargs, info)`` from a file written by :meth:`save` (ValueError if it is not one)."""
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"actor file {str(path)!r} does not exist")
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode())
                dense = [
                    (data[f"kernel_{t}"], data[f"bias_{t}"], activation)
                    for t, activation in enumerate(meta["activations"])
                ]
                logits = (data["logits_kernel"], data["logits_bias"])
        except (KeyError, OSError, ValueError) as error:
            raise ValueError(f"{str(path)!r} is not an actor file written by NumpyActor.save ({error})") from error
        actor = cls(meta["keys"], dense, logits, meta["cost_floor"], meta["max_cost"])
        return actor, meta["core_kwargs"], meta.get("info", {})


def _activation_label(fn):
    for name, candidate in _ACTIVATIONS.items():
        if candidate is fn:
            return name
    raise ValueError(f"unsupported activation {fn!r}")


def _activation_name(fn):
    name = getattr(fn, "__name__", None)
    if name in _ACTIVATIONS:
        return name
    raise ValueError(f"unsupported activation {fn!r}")


def probe_observations(window, lookahead=(), count=512, seed=0):
    """Random but plausible observations of ``envs.observation.observation_spec(window, lookahead)`` to check an actor.

    Cost-like keys in [0, 1] with pads and many values near 0, positions within
    their bounds, masks never empty.
    """
    rng = np.random.default_rng(seed)
    out = {}
    for key, (shape, _dtype, low, high) in observation_spec(window, lookahead).items():
        if key == "action_mask":
            mask = (rng.random((count, 3)) < 0.8).astype(np.int8)
            mask[mask.sum(axis=1) == 0, rng.integers(0, 3)] = 1
            out[key] = mask
        elif key in COST_KEYS:
            value = rng.random((count, *shape)) ** rng.choice([1.0, 4.0, 12.0], size=(count,) + (1,) * len(shape))
            value[rng.random(value.shape) < 0.1] = 1.0
            out[key] = value.astype(np.float32)
        else:
            out[key] = (low + (high - low) * rng.random((count, *shape))).astype(np.float32)
    return out
