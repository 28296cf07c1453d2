"""Turn a trained alignment policy into an aligner: pairs in, warping paths out.

An aligner (docs/ARCHITECTURE.md) is a callable ``aligner(y_true, y_pred)`` that
takes NumPy batches ``(B, n, d)`` and ``(B, m, d)`` and returns ``B`` int64
paths ``(L_b, 2)`` from ``(0, 0)`` to ``(n-1, m-1)``, the first column indexing
``y_true``. :class:`PolicyAligner` builds them by rollouts of the policy,
batched over the pairs: one ``envs.core.WarpingBatch`` holds every alignment of
a chunk. Decoding is greedy (the policy's most likely move; the whole rollout
runs in one compiled loop, :func:`greedy_paths`) or a beam search
(``agents.policy.decoding``). With ``samples=K`` it instead returns, per pair, K paths
sampled from the policy's masked action distribution at a temperature
(:func:`sample_actions`), a group of paths in the sense of :mod:`dtwrl.aligners`
whose mean cost ``dtwrl.losses.PathLoss`` takes.

The policy evaluation is :class:`NumpyActor`: the masked actor network of
``agents.policy.networks.build_networks`` (the cost transform of ``envs.observation``
on the window and lookahead, flatten and concatenate, dense ReLU stack, logits,
mask) run in NumPy/numba float32 with the policy's own weights; its greedy
action is the argmax of the masked logits, exactly as the TF-Agents greedy
policy (``Categorical.mode``). A rollout step thus costs microseconds instead
of a TF function call (~1.5 ms), and the observation keeps its one
implementation (``WarpingBatch``). :meth:`NumpyActor.save` writes an actor to
one small ``.npz`` file (the shipped pretrained aligner is one:
:meth:`PolicyAligner.pretrained`). The weights come from a live policy's
actor network (re-read at every call, so a policy that keeps training is
followed) or from a saved policy's ``model_variables``; either way the NumPy
actor is checked against the TF policy on probe observations when the aligner is
built, and a policy it cannot reproduce falls back to TF-Agents calls with a
warning.

>>> aligner = PolicyAligner.pretrained()                        # doctest: +SKIP
>>> aligner = PolicyAligner("results/aligner/my-run")          # doctest: +SKIP
>>> paths = aligner(y_true, y_pred)                            # doctest: +SKIP
>>> loss = dtwrl.losses.PathLoss(aligner)                      # doctest: +SKIP
"""

import io
import json
import numbers
import warnings
from pathlib import Path

import numba
import numpy as np
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

from dtwrl.aligners import register_aligner
from dtwrl.validation import as_batch
from envs.observation import COST_FLOOR, COST_KEYS, MAX_COST, cost_transform, network_keys, observation_spec

from ..training.environment import make_core
from . import decoding

ENV_FILE = "dtwrl_env.json"
"""File beside a saved policy that holds the ``WarpingBatch`` arguments it was trained with."""
ACTOR_FILE = "dtwrl_actor.json"
"""Optional file beside a saved policy with the actor's ``cost_floor``/``max_cost``.

Without it, ``../config.json``, else the defaults."""
PRETRAINED = Path(__file__).with_name("pretrained_aligner.npz")
"""The general pretrained actor shipped with the package (``experiments/pretrain_aligner.py`` writes it)."""
DECODES = ("greedy", "beam")


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


@numba.njit(cache=True, nogil=True)
def _njit_policy_greedy(window, position, look, mask, params, out):
    """``WarpingBatch.run_policy`` policy: the NumPy actor's greedy move for every row.

    ``params = (cost_floor, max_cost, kernels, biases, relu, head_kernel,
    head_bias)``; the input row is ``[cost_transform(lookahead), position,
    cost_transform(window)]`` (sorted keys; the lookahead only when L > 0), as
    :meth:`NumpyActor.features` builds it.
    """
    cost_floor, max_cost, kernels, biases, relu, head_kernel, head_bias = params
    num = mask.shape[0]
    nlook = look.shape[1] * 3
    npos = position.shape[1]
    k = window.shape[1]
    features = np.empty((num, nlook + npos + k * k), np.float32)
    zero = np.float32(0.0)
    for r in range(num):
        if mask[r, 0] + mask[r, 1] + mask[r, 2] <= 1:
            continue  # _njit_greedy takes the only legal move without the features
        q = 0
        for t in range(look.shape[1]):
            for a in range(3):
                features[r, q] = np.log(max(min(look[r, t, a], max_cost), zero) + cost_floor)
                q += 1
        for c in range(npos):
            features[r, q] = position[r, c]
            q += 1
        for u in range(k):
            for v in range(k):
                features[r, q] = np.log(max(min(window[r, u, v], max_cost), zero) + cost_floor)
                q += 1
    _njit_greedy(features, mask, kernels, biases, relu, head_kernel, head_bias, out)


def greedy_paths(actor, pairs, core_kwargs):
    """Greedy paths of a :class:`NumpyActor` on every pair at once, the whole rollout compiled.

    Same moves as ``rollout_paths(actor.act, pairs, core_kwargs)`` (the same
    float32 layers), without a Python round trip per step.

    Returns
    -------
    list of numpy.ndarray
        One int64 path ``(L, 2)`` per pair.
    """
    if len(pairs) == 0:
        return []
    core = make_core(core_kwargs)
    expected = network_keys(core.window, core.lookahead)
    if actor.keys != expected or actor._fused is None:
        return rollout_paths(actor.act, pairs, core_kwargs)  # a layout the compiled policy does not cover
    core.reset(list(pairs))
    actor.features(probe_observations(core.window, core.lookahead, count=1))  # ValueError on a size mismatch
    core.run_policy(_njit_policy_greedy, (actor.cost_floor, actor.max_cost, *actor._fused))
    return [np.asarray(path, dtype=np.int64) for path in core.paths()]


# ------------------------------------------------------------ NumPy actor
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
        # the compiled path (act): at least one dense layer
        self._fused = None
        if self.dense:
            self._fused = (
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
        if self._fused is not None:
            actions = np.empty(len(mask), dtype=np.int64)
            _njit_greedy(self.features(observation), np.ascontiguousarray(mask), *self._fused, actions)
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


def _agree(numpy_logits, actions, rtol=1e-4):
    """True when ``actions`` equal the argmax of ``numpy_logits`` wherever the top two logits are not near-tied."""
    ordered = np.sort(np.where(numpy_logits > np.finfo(np.float32).min, numpy_logits, -np.inf), axis=1)
    top, second = ordered[:, -1], ordered[:, -2]
    clear = ~np.isfinite(second) | (top - second > rtol * (1.0 + np.abs(top)))
    return bool(np.all((np.argmax(numpy_logits, axis=1) == np.asarray(actions))[clear]))


def _as_batch(values, name):
    if isinstance(values, (list, tuple)) and values and np.ndim(values[0]) in (1, 2):
        raise TypeError(f"{name} must be one array (B, n, d); for pairs of unequal lengths use align_pairs")
    return as_batch(values, name)


# ------------------------------------------------------------ sampled paths
def check_sampling(samples, temperature):
    """Validate the sampling arguments of :class:`PolicyAligner`; returns ``(samples, temperature)``.

    ``samples`` is None (greedy decoding) or an int >= 1; ``temperature`` a
    finite float > 0 (only used when sampling).

    >>> check_sampling(4, 0.5)
    (4, 0.5)
    """
    if samples is not None and (isinstance(samples, bool) or not isinstance(samples, numbers.Integral) or samples < 1):
        raise ValueError(f"samples must be None (greedy paths) or an int >= 1; got {samples!r}")
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise TypeError(f"temperature must be a real number > 0; got {temperature!r}")
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be finite and > 0; got {temperature!r}")
    return (None if samples is None else int(samples)), float(temperature)


def sample_actions(logits, temperature, rng):
    """One action per row, drawn from the softmax of the masked logits divided by ``temperature``.

    Parameters
    ----------
    logits : numpy.ndarray, shape (N, 3)
        Masked logits as :meth:`NumpyActor.logits` gives them: illegal moves
        hold the lowest float32 and are never drawn.
    temperature : float > 0
        1 samples the policy itself; lower values approach its greedy action,
        higher values approach a uniform draw over the legal moves.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray of int64, shape (N,)
        ``P(a) = exp(l_a / t) / sum_{legal b} exp(l_b / t)`` (Gumbel-max draw);
        a row with no legal move gets 0.

    Examples
    --------
    >>> logits = np.array([[0.0, np.finfo(np.float32).min, 0.0]], np.float32)
    >>> int(sample_actions(logits, 1.0, np.random.default_rng(0))[0]) in (0, 2)
    True
    """
    legal = logits > np.finfo(np.float32).min
    scores = logits.astype(np.float64) / temperature + rng.gumbel(size=logits.shape)
    return np.argmax(np.where(legal, scores, -np.inf), axis=1)


@register_aligner
class PolicyAligner:
    """An aligner that warps pairs with a trained policy (greedy rollouts or beam search).

    Parameters
    ----------
    policy : str, pathlib.Path or tf_agents.policies.TFPolicy
        ``"pretrained"`` (the general actor shipped with the package, see
        :meth:`pretrained`); an actor file (``.npz``, ``NumpyActor.save``); a
        run folder of ``agents.train_aligner`` (its ``policy/`` is loaded); a
        saved-policy folder itself; or a live policy (e.g. ``agent.policy``).
    core_kwargs : dict or None
        ``envs.core.WarpingBatch`` arguments the policy was trained with
        (window, metric, band, lookahead, ...). Read from the actor file or the
        saved policy's ``dtwrl_env.json`` when None; required for a live policy.
    batch_size : int
        Pairs rolled out together (one batched actor evaluation per step per chunk).
    decode : {"greedy", "beam"}
        ``"greedy"``: follow the policy's most likely move. ``"beam"``: keep the
        ``beam_width`` best partial paths per pair (``agents.policy.decoding.beam_paths``:
        compared at equal progress i + j, merged when they reach the same cell,
        ranked by cost so far plus the lookahead's cost-to-go estimate, expanded
        by the moves the policy gives at least ``min_prob``).
    beam_width : int >= 1
        Partial paths kept per pair and progress level (``decode="beam"``).
    min_prob : float in [0, 1)
        Beam expansion threshold: a move is tried when the policy gives it at
        least this probability (the policy's own choice always is).

    samples : int >= 1 or None
        None: one greedy path per pair. K: a group of K paths per pair, each
        rolled out by drawing every move from the policy's masked action
        distribution at ``temperature`` (:func:`sample_actions`); see
        :mod:`dtwrl.aligners` for groups of paths. Needs the NumPy actor.
    temperature : float > 0
        Sampling temperature (1: the policy's own distribution).
    seed : int, numpy.random.Generator or None
        Source of the sampling randomness: the same seed gives the same paths
        for the same calls; successive calls draw fresh paths.

    Examples
    --------
    >>> aligner = PolicyAligner.pretrained()
    >>> x = np.sin(np.linspace(0, 6, 40))[None, :, None]
    >>> paths = aligner(x, x[:, ::2])
    >>> paths[0][0].tolist(), paths[0][-1].tolist()
    ([0, 0], [39, 19])
    >>> sampler = PolicyAligner.pretrained(samples=8, temperature=0.5, seed=0)
    >>> [len(group) for group in sampler(np.zeros((2, 50, 1)), np.zeros((2, 60, 1)))]
    [8, 8]
    """

    def __init__(
        self,
        policy,
        core_kwargs=None,
        batch_size=64,
        decode="greedy",
        beam_width=4,
        min_prob=0.05,
        samples=None,
        temperature=1.0,
        seed=None,
    ):
        if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
        if decode not in DECODES:
            raise ValueError(f"decode must be one of {DECODES}; got {decode!r}")
        if isinstance(beam_width, (bool, np.bool_)) or not isinstance(beam_width, numbers.Integral) or beam_width < 1:
            raise ValueError(f"beam_width must be a positive int; got {beam_width!r}")
        if isinstance(min_prob, (bool, np.bool_)) or not isinstance(min_prob, numbers.Real) or not 0 <= min_prob < 1:
            raise ValueError(f"min_prob must be a number in [0, 1); got {min_prob!r}")
        self.batch_size = int(batch_size)
        self.decode, self.beam_width, self.min_prob = decode, int(beam_width), float(min_prob)
        self.samples, self.temperature = check_sampling(samples, temperature)
        if self.samples is not None and decode != "greedy":
            raise ValueError(
                f"samples draws its own paths; it cannot be combined with decode={decode!r} (use 'greedy')"
            )
        if not (
            seed is None
            or isinstance(seed, np.random.Generator)
            or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0)
        ):
            raise TypeError(f"seed must be None, an int >= 0 or a numpy.random.Generator; got {seed!r}")
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self.policy_dir = None
        self.actor_file = None
        self._policy = None
        self._actor_net = None
        self._numpy_actor = None
        self.backend = "tf"
        if isinstance(policy, (str, Path)) and (str(policy) == "pretrained" or str(policy).endswith(".npz")):
            self.actor_file = PRETRAINED if str(policy) == "pretrained" else Path(policy)
            actor, saved_kwargs, self.info = NumpyActor.load(self.actor_file)
            self.core_kwargs = self._checked_core_kwargs(saved_kwargs if core_kwargs is None else core_kwargs)
            self._check_input_size(actor)
            self._numpy_actor, self.backend = actor, "numpy"
            return
        self.info = {}
        if isinstance(policy, (str, Path)):
            self.policy_dir = self._find_policy_dir(Path(policy))
            self._policy = tf.saved_model.load(str(self.policy_dir))
            if core_kwargs is None:
                # policies saved before the lookahead key existed were trained without it
                core_kwargs = {"lookahead": [], **json.loads((self.policy_dir / ENV_FILE).read_text())}
        elif hasattr(policy, "action") and hasattr(policy, "time_step_spec"):
            self._policy = policy
            if core_kwargs is None:
                raise ValueError("core_kwargs is required when policy is a live TF-Agents policy")
        else:
            raise TypeError(
                "policy must be 'pretrained', an actor .npz file, a run folder, a saved-policy folder or a TF-Agents "
                f"policy; got {type(policy).__name__}"
            )
        self.core_kwargs = self._checked_core_kwargs(core_kwargs)
        # The TF-Agents policy, kept for the fallback and for checks: NumPy observations
        # go straight in; building the TimeStep inside the graph costs far less than
        # eager tensor conversions at every step.
        self._action = tf.function(self._greedy_action, reduce_retracing=True)
        self._actor_net = None if self.policy_dir is not None else _find_actor_network(self._policy)
        try:
            actor = self._build_numpy_actor()
            self._check_numpy_actor(actor)
        except ValueError as error:
            if self.decode == "beam":
                raise ValueError(
                    f"decode='beam' needs the NumPy actor, which cannot run this policy: {error}"
                ) from error
            warnings.warn(
                f"PolicyAligner: the policy's actor cannot be run in NumPy ({error}); every rollout step calls the "
                "TF-Agents policy instead (slow)",
                RuntimeWarning,
                stacklevel=2,
            )
        else:
            self._numpy_actor = actor
            self.backend = "numpy"
        if self.samples is not None and self._numpy_actor is None:
            raise ValueError("samples needs the policy's actor in NumPy (its logits), which this policy does not allow")

    @classmethod
    def pretrained(cls, **kwargs):
        """The general pretrained aligner shipped with the package (``agents/pretrained_aligner.npz``).

        Trained by ``experiments/pretrain_aligner.py`` on synthetic warps, real
        UCR series with random warps and pairs of different real series, never
        on ItalyPowerDemand nor the GunPoint test split. ``kwargs`` go to the
        constructor (``batch_size``, ``decode``, ``beam_width``, ...).
        """
        return cls("pretrained", **kwargs)

    @staticmethod
    def _checked_core_kwargs(core_kwargs):
        if not isinstance(core_kwargs, dict):
            raise TypeError(f"core_kwargs must be a dict; got {type(core_kwargs).__name__}")
        core_kwargs = dict(core_kwargs)
        make_core(core_kwargs)  # names each bad argument
        return core_kwargs

    def _observation_keys(self):
        """The observation keys the actor reads, in tf.nest (sorted) order (``envs.observation.network_keys``)."""
        return network_keys(*self._window_and_lookahead())

    def _window_and_lookahead(self):
        core = make_core(self.core_kwargs)
        return core.window, core.lookahead

    def _check_input_size(self, actor):
        window, lookahead = self._window_and_lookahead()
        probes = probe_observations(window, lookahead, count=4)
        actor.features(probes)  # ValueError naming the mismatch

    def _build_numpy_actor(self):
        """The NumPy actor with the policy's current weights (ValueError when the network is not supported)."""
        if self.policy_dir is None:
            if self._actor_net is None:
                raise ValueError(f"no actor network found in {type(self._policy).__name__}")
            return NumpyActor.from_network(self._actor_net)
        settings = {}
        for name in (ACTOR_FILE, "../config.json"):
            path = self.policy_dir / name
            if path.is_file():
                settings = json.loads(path.read_text())
                break
        cost_floor = float(settings.get("cost_floor", COST_FLOOR))
        max_cost = float(settings.get("max_cost", MAX_COST))
        return NumpyActor.from_saved_policy(self._policy, self._observation_keys(), cost_floor, max_cost)

    def _check_numpy_actor(self, actor):
        """Compare the NumPy actor with the TF policy on probe observations (ValueError on a mismatch)."""
        probes = probe_observations(*self._window_and_lookahead())
        logits = actor.logits(probes)
        if self._actor_net is not None:
            distribution, _ = self._actor_net(probes, step_type=None, training=False)
            expected = distribution.logits.numpy()
            if not np.allclose(logits, expected, rtol=1e-4, atol=1e-4):
                worst = float(np.max(np.abs(logits - expected)))
                raise ValueError(f"NumPy and TF logits differ on probe observations (max |diff| {worst:.3g})")
        if not _agree(logits, self.tf_act(probes)):
            raise ValueError("NumPy and TF-Agents greedy actions differ on probe observations")

    @staticmethod
    def _find_policy_dir(path):
        for candidate in (path, path / "policy"):
            if (candidate / "saved_model.pb").is_file():
                return candidate
        raise ValueError(
            f"policy {str(path)!r} is neither a saved policy nor a run folder holding policy/saved_model.pb"
        )

    def _greedy_action(self, observation):
        time_step = time_step_from_observation(observation)
        state = self._policy.get_initial_state(batch_size=tf.shape(time_step.step_type)[0])
        return self._policy.action(time_step, state).action

    def tf_act(self, observation):
        """Greedy actions ``(N,)`` of the TF-Agents policy itself (one TF call; the reference for :meth:`act`)."""
        if self._policy is None:
            raise ValueError("this PolicyAligner was loaded from an actor file and has no TF-Agents policy")
        return self._action(observation).numpy()

    def numpy_actor(self):
        """The :class:`NumpyActor` with the policy's current weights (None on the TF fallback)."""
        if self._numpy_actor is not None and self._actor_net is not None:
            self._numpy_actor = self._build_numpy_actor()  # a live policy may have trained since
        return self._numpy_actor

    def act(self, observation):
        """Greedy actions ``(N,)`` for a NumPy observation dict of ``(N, ...)`` arrays."""
        actor = self.numpy_actor()
        return actor.act(observation) if actor is not None else self.tf_act(observation)

    def save_actor(self, path, info=None):
        """Write the current actor and ``core_kwargs`` to an ``.npz`` actor file (see ``NumpyActor.save``)."""
        actor = self.numpy_actor()
        if actor is None:
            raise ValueError("this policy's actor cannot be run in NumPy, so it cannot be saved as an actor file")
        actor.save(path, self.core_kwargs, info)

    def align_pairs(self, pairs):
        """Paths for a sequence of ``(x (n, d), y (m, d))`` pairs, lengths free per pair.

        One greedy path per pair, or with ``samples=K`` a list of K sampled paths per pair.
        """
        pairs = list(pairs)
        if self.samples is not None:
            return self._sample_pairs(pairs)
        actor = self.numpy_actor()
        paths = []
        for chunk in self._chunks(pairs):
            if self.decode == "beam":
                paths.extend(decoding.beam_paths(actor, chunk, self.core_kwargs, self.beam_width, self.min_prob))
            elif actor is not None:
                paths.extend(greedy_paths(actor, chunk, self.core_kwargs))
            else:
                paths.extend(rollout_paths(self.tf_act, chunk, self.core_kwargs))
        return paths

    def _chunks(self, pairs, max_cells=2**25):
        """Runs of at most ``batch_size`` pairs whose padded slabs stay under ``max_cells`` cells (long pairs)."""
        start = 0
        while start < len(pairs):
            stop, rows, cols = start, 0, 0
            while stop < len(pairs) and stop - start < self.batch_size:
                rows, cols = max(rows, len(pairs[stop][0])), max(cols, len(pairs[stop][1]))
                if stop > start and (stop - start + 1) * rows * cols > max_cells:
                    break
                stop += 1
            yield pairs[start:stop]
            start = stop

    def _sample_pairs(self, pairs):
        """``samples`` sampled paths per pair: each pair is rolled out ``samples`` times side by side."""
        actor = self.numpy_actor()

        def act(observation):
            return sample_actions(actor.logits(observation), self.temperature, self._rng)

        repeated = [pair for pair in pairs for _ in range(self.samples)]
        chunk = self.batch_size * self.samples
        paths = []
        for start in range(0, len(repeated), chunk):
            paths.extend(rollout_paths(act, repeated[start : start + chunk], self.core_kwargs))
        return [paths[k : k + self.samples] for k in range(0, len(paths), self.samples)]

    def __call__(self, y_true, y_pred):
        """Paths per pair: ``y_true (B, n, d)``, ``y_pred (B, m, d)`` -> list of B ``(L_b, 2)`` (or of B lists of K)."""
        y_true = _as_batch(y_true, "y_true")
        y_pred = _as_batch(y_pred, "y_pred")
        if len(y_true) != len(y_pred):
            raise ValueError(f"y_true and y_pred must hold as many series; got {len(y_true)} and {len(y_pred)}")
        if y_true.shape[2] != y_pred.shape[2]:
            raise ValueError(
                f"y_true and y_pred must have the same feature dimension; got {y_true.shape[2]} and {y_pred.shape[2]}"
            )
        return self.align_pairs(list(zip(y_true, y_pred)))

    def get_config(self):
        """``{"policy": <actor file or saved policy dir>, "core_kwargs", "batch_size", "decode", ...}``.

        Only for saved policies (a live one cannot be rebuilt).
        """
        if self.actor_file is not None:
            policy = "pretrained" if self.actor_file == PRETRAINED else str(self.actor_file)
        elif self.policy_dir is not None:
            policy = str(self.policy_dir)
        else:
            raise ValueError("a PolicyAligner around a live policy cannot be serialised; save the policy first")
        config = {
            "policy": policy,
            "core_kwargs": self.core_kwargs,
            "batch_size": self.batch_size,
            "decode": self.decode,
            "beam_width": self.beam_width,
            "min_prob": self.min_prob,
        }
        if self.samples is not None:
            seed = self.seed if not isinstance(self.seed, np.random.Generator) else None
            config.update(samples=self.samples, temperature=self.temperature, seed=seed)
        return config

    @classmethod
    def from_config(cls, config):
        """Rebuild from :meth:`get_config`."""
        return cls(**config)

    def __repr__(self):
        if self.actor_file is not None:
            where = "pretrained" if self.actor_file == PRETRAINED else self.actor_file
        else:
            where = self.policy_dir if self.policy_dir is not None else type(self._policy).__name__
        sampling = f", samples={self.samples}, temperature={self.temperature:g}" if self.samples is not None else ""
        return (
            f"PolicyAligner({where}, window={self.core_kwargs.get('window')}, batch_size={self.batch_size}, "
            f"decode={self.decode!r}, backend={self.backend!r}{sampling})"
        )
