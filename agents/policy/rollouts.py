"""Rollouts of a policy on a batch of pairs: greedy (compiled or stepwise) and sampled paths.

Every rollout steps one ``envs.core.WarpingBatch`` holding all the alignments of
a chunk (:func:`make_core`), so the observation keeps its one implementation.
:func:`greedy_paths` runs the whole greedy rollout of a :class:`~agents.policy.actor.NumpyActor`
in one compiled loop; :func:`rollout_paths` steps any ``act(observation)``
callable; :func:`sampled_paths` draws each move from the actor's masked action
distribution at a temperature (:func:`sample_actions`).

>>> from agents.policy.aligner import PolicyAligner
>>> actor = PolicyAligner.pretrained().numpy_actor()
>>> x = np.sin(np.linspace(0, 6, 20))[:, None]
>>> core_kwargs = PolicyAligner.pretrained().core_kwargs
>>> [p[-1].tolist() for p in greedy_paths(actor, [(x, x[::2])], core_kwargs)]
[[19, 9]]
"""

import numbers

import numba
import numpy as np

from envs.observation import feature_count, network_keys
from envs.packing import check_pair

from .actor import _njit_greedy

#: Grid cells the alignments of one rollout batch hold at most (their padded slabs: about 17 bytes a cell under the
#: lookahead observation, so ~0.5 GB): long pairs go a few, or one, at a time.
MAX_BATCH_CELLS = 2**25


def make_core(core_kwargs: dict):
    """A fresh ``envs.core.WarpingBatch`` for rollouts: ``core_kwargs`` with unscaled rewards.

    Rollouts read observations and paths, never rewards, so ``reward_scale`` is
    checked and then replaced by 1: a pair whose costs are too small for a
    ``"pair"`` reward factor (``envs.packing.check_pair_scale``) still aligns.
    Bad arguments are a ``TypeError``/``ValueError`` naming them.

    >>> make_core({"window": 5, "reward_scale": "pair"}).reward_scale
    1.0
    """
    from envs.core import WarpingBatch, check_reward_scale

    kwargs = dict(core_kwargs)
    check_reward_scale(kwargs.pop("reward_scale", 1.0))
    return WarpingBatch(**kwargs)


def route_pairs(pairs, long_cells, short, long, one_cell=None):
    """Paths of ``pairs``: ``short(some)`` of the pairs of at most ``long_cells`` grid cells, ``long(some)`` of others.

    The one length rule of the aligners that read a second, linear observation on long pairs
    (``PolicyAligner`` and ``HeuristicAligner.like`` of it): a pair ``(x (n, d), y (m, d))`` is long when
    ``n * m > long_cells``; ``long_cells`` None sends every pair to ``short``. A pair of two length-1 series has
    one warping path, ``[(0, 0)]``, and no move for an environment to make, so it goes to neither: its entry is
    ``one_cell()`` (default: that path, int64 (1, 2)). Each callable takes a list of pairs and returns their paths
    in order; the paths come back in the order of ``pairs``.

    >>> pairs = [(np.zeros((3, 1)), np.zeros((3, 1))), (np.zeros((5, 1)), np.zeros((5, 1))), ([1.0], [2.0])]
    >>> route_pairs(pairs, 10, lambda some: ["short"] * len(some), lambda some: ["long"] * len(some))
    ['short', 'long', array([[0, 0]])]
    """
    pairs = [check_pair(pair, k) for k, pair in enumerate(pairs)]
    one_cell = one_cell or (lambda: np.zeros((1, 2), dtype=np.int64))
    routes = ["one" if len(x) == 1 and len(y) == 1 else "short" for x, y in pairs]
    if long_cells is not None:
        routes = ["long" if r == "short" and len(x) * len(y) > long_cells else r for r, (x, y) in zip(routes, pairs)]
    paths = [one_cell() if route == "one" else None for route in routes]
    for route, align in (("short", short), ("long", long)):
        index = [i for i, value in enumerate(routes) if value == route]
        if index:
            for i, path in zip(index, align([pairs[i] for i in index])):
                paths[i] = path
    return paths


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

    Same moves and return value as ``rollout_paths(actor.act, pairs, core_kwargs)``
    (the same float32 layers), without a Python round trip per step.
    """
    if len(pairs) == 0:
        return []
    core = make_core(core_kwargs)
    expected = network_keys(core.window, core.lookahead)
    if actor.keys != expected or actor.fused_layers is None:
        return rollout_paths(actor.act, pairs, core_kwargs)  # a layout the compiled policy does not cover
    inputs = feature_count(core.window, core.lookahead)
    if inputs != actor.input_size:
        raise ValueError(
            f"the observation gives {inputs} input features but the actor expects {actor.input_size}; "
            "core_kwargs (window, lookahead) do not match the policy"
        )
    core.reset(list(pairs))
    core.run_policy(_njit_policy_greedy, (actor.cost_floor, actor.max_cost, *actor.fused_layers))
    return [np.asarray(path, dtype=np.int64) for path in core.paths()]


def check_sampling(samples, temperature):
    """Validate the sampling arguments of ``PolicyAligner``; returns ``(samples, temperature)``.

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


def sampled_paths(actor, pairs, core_kwargs, samples, temperature, rng, batch_size=64):
    """``samples`` paths per pair, every move drawn by :func:`sample_actions` from the actor's masked logits.

    Each pair is rolled out ``samples`` times side by side, ``batch_size``
    pairs (``batch_size * samples`` alignments) at a time, fewer where their
    grids would hold more than :data:`MAX_BATCH_CELLS` cells (long pairs: the
    sampled rollouts read the O(n m) observation, and every alignment holds
    its own slabs).

    Returns
    -------
    list of list of numpy.ndarray
        Per pair, ``samples`` int64 paths ``(L, 2)``.
    """

    def act(observation):
        return sample_actions(actor.logits(observation), temperature, rng)

    repeated = [pair for pair in pairs for _ in range(samples)]
    cells = max((len(x) * len(y) for x, y in pairs), default=1)
    chunk = max(1, min(batch_size * samples, MAX_BATCH_CELLS // cells))
    paths = []
    for start in range(0, len(repeated), chunk):
        paths.extend(rollout_paths(act, repeated[start : start + chunk], core_kwargs))
    return [paths[k : k + samples] for k in range(0, len(paths), samples)]
