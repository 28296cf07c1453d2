"""Behavioural cloning of exact DTW moves: the optional warm start of the PPO actor.

Data: rollouts on training pairs where each step follows the expert move (the
optimal move from the current cell, ``WarpingBatch.expert_actions()``) with
probability ``1 - detour`` and a uniformly random legal move otherwise. The
detours put the learner in off-path states, and every visited state is
labelled with the expert move *from that state*, so it learns to recover
(DAgger-style coverage without the extra rounds).

Training (:class:`Cloner`): supervised passes on the actor's masked logits,
minimising the cross-entropy ``-log pi(expert move | observation)``. Only the
actor changes; PPO then fine-tunes actor and critic on the true return. During
PPO the same cloner can keep taking a few steps on the states the policy itself
visits, labelled by the expert (a DAgger-style anchor, ``dagger_steps``).
"""

import numpy as np
import tensorflow as tf

from ..policy.rollouts import make_core

#: Labels of :func:`labelled_rollouts`: the exact move, or the exact move where it stays in the corridor.
EXPERTS = ("exact", "corridor")


def corridor_labels(expert, lookahead, mask):
    """Expert moves kept where they stay in the corridor, else the corridor's own optimal move.

    Under the corridor observation, ``lookahead[:, 1, a]`` is 0 exactly when move ``a`` enters a corridor
    cell; a move that leaves it is replaced by the lexicographic argmin of the lookahead rows
    (``envs.corridor_batch.lexicographic_argmin``: the corridor's optimal move inside it, the way back
    outside it), so the labels never teach leaving the corridor.

    Parameters
    ----------
    expert : numpy.ndarray of int, shape (N,)
    lookahead : numpy.ndarray, shape (N, 2, 3)
    mask : numpy.ndarray, shape (N, 3)

    Returns
    -------
    numpy.ndarray of int64, shape (N,)

    >>> look = np.array([[[0.0, 0.5, 1.0], [0.0, 0.0, 0.5]]] * 2)
    >>> corridor_labels(np.array([1, 2]), look, np.ones((2, 3), dtype=np.int8)).tolist()
    [1, 0]
    """
    from envs.corridor_batch import lexicographic_argmin

    expert = np.asarray(expert, dtype=np.int64)
    leaves = np.asarray(lookahead)[np.arange(len(expert)), 1, expert] > 0
    if not leaves.any():
        return expert
    out = expert.copy()
    out[leaves] = lexicographic_argmin(np.asarray(lookahead)[leaves], np.asarray(mask)[leaves])
    return out


def labelled_rollouts(next_pairs, rng, core_kwargs, num_steps, detour, act=None, expert="exact"):
    """Observations and expert labels of ``num_steps`` steps of detoured rollouts: the one labelled-rollout loop.

    Each step follows ``act`` (the expert's move when None) with probability
    ``1 - detour`` and a uniformly random legal move otherwise; every visited
    state is labelled with the expert move from that state.

    Parameters
    ----------
    next_pairs : callable
        ``next_pairs() -> list of (x, y)``: the pairs of the next batch of rollouts.
    rng : numpy.random.Generator
        Draws the detours.
    core_kwargs : dict
        ``envs.core.WarpingBatch`` arguments.
    num_steps : int
        Labelled states to collect (>= 1).
    detour : float
        Probability of a random legal move, in [0, 1).
    act : callable or None
        ``act(observation) -> (N,) actions`` drives the rollouts (a DAgger round); None follows the expert.
    expert : {"exact", "corridor"}
        ``"corridor"`` (the corridor observation only) relabels moves that leave the corridor
        (:func:`corridor_labels`).

    Returns
    -------
    dict
        The observation keys with arrays ``(num_steps, ...)`` plus
        ``"expert_action"`` ``(num_steps,)`` int64.
    """
    if int(num_steps) < 1:
        raise ValueError(f"num_steps must be >= 1; got {num_steps}")
    if not 0.0 <= float(detour) < 1.0:
        raise ValueError(f"detour must be in [0, 1); got {detour}")
    if expert not in EXPERTS:
        raise ValueError(f"expert must be one of {EXPERTS}; got {expert!r}")
    core = make_core(core_kwargs)
    if expert == "corridor" and not hasattr(core, "corridor"):
        raise ValueError("expert='corridor' needs the corridor observation (lookahead=corridor_lookahead(r))")
    chunks, total = [], 0
    while total < num_steps:
        core.reset(next_pairs())
        while not np.all(core.done) and total < num_steps:
            live = ~np.asarray(core.done)
            observation = core.observation()
            mask = np.asarray(observation["action_mask"], dtype=bool)
            labels = legal_labels(core.expert_actions(), mask)
            if expert == "corridor":
                labels = corridor_labels(labels, observation["lookahead"], mask)
            random_move = _random_legal(rng, mask)
            driver = labels if act is None else np.asarray(act(observation))
            actions = np.where(rng.random(len(labels)) < detour, random_move, driver)
            chunk = {key: np.asarray(value)[live] for key, value in observation.items()}
            chunk["expert_action"] = labels[live]
            chunks.append(chunk)
            total += int(live.sum())
            core.step(actions)
    return {key: np.concatenate([chunk[key] for chunk in chunks])[:num_steps] for key in chunks[0]}


def collect_expert_dataset(pairs, rng, core_kwargs, num_steps, num_envs=128, detour=0.2):
    """:func:`labelled_rollouts` following the expert on ``num_envs`` pairs at a time from a pair source.

    Parameters
    ----------
    pairs : callable
        Pair source ``pairs(rng) -> (x, y)``.
    rng : numpy.random.Generator
        Draws the pairs and the detours.
    core_kwargs : dict
    num_steps : int
    num_envs : int
        Alignments stepped together.
    detour : float

    Returns
    -------
    dict
        As :func:`labelled_rollouts`.
    """
    return labelled_rollouts(lambda: [pairs(rng) for _ in range(num_envs)], rng, core_kwargs, num_steps, detour)


def legal_labels(expert, mask):
    """Expert moves with any move the mask forbids replaced by the first legal one.

    A guard, not a correction of the expert: an illegal expert move can only
    come from a stale cost-to-go beyond a reset pair's grid, which happens at
    the last row or column, where exactly one move is legal.

    >>> legal_labels(np.array([0, 2]), np.array([[1, 1, 1], [0, 1, 0]], dtype=np.int8)).tolist()
    [0, 1]
    """
    expert = np.asarray(expert, dtype=np.int64)
    mask = np.asarray(mask, dtype=bool)
    illegal = ~mask[np.arange(len(expert)), expert] & mask.any(axis=1)
    return np.where(illegal, np.argmax(mask, axis=1), expert)


def _random_legal(rng, mask):
    """One uniformly random legal move per row of a boolean ``(N, 3)`` mask (0 where none is legal)."""
    scores = rng.random(mask.shape) * mask
    return np.argmax(scores, axis=1)


class Cloner:
    """Supervised fitting of an actor's masked logits to expert moves (cross-entropy, Adam).

    Parameters
    ----------
    actor_net : tf_agents network
        ``actor_net(observation, step_type=None)`` -> (Categorical, state).
    learning_rate : float

    Attributes
    ----------
    optimizer : tf.keras.optimizers.Adam
        Checkpoint it to resume a run that keeps cloning (the DAgger anchor).
    """

    def __init__(self, actor_net, learning_rate=1e-3):
        self.actor_net = actor_net
        self.optimizer = tf.keras.optimizers.Adam(learning_rate)
        self.optimizer.build(actor_net.trainable_variables)
        self._step = tf.function(self._step_fn, reduce_retracing=True)

    def _step_fn(self, observation, target):
        with tf.GradientTape() as tape:
            dist, _ = self.actor_net(observation, step_type=None, training=True)
            loss = -tf.reduce_mean(dist.log_prob(target))
        variables = self.actor_net.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        hit = tf.reduce_mean(tf.cast(tf.equal(dist.mode(), target), tf.float32))
        return loss, hit

    def step(self, observation, labels):
        """One gradient step on a minibatch; returns (cross-entropy, accuracy) as floats."""
        loss, hit = self._step(observation, labels)
        return float(loss), float(hit)

    def epoch(self, data, batch_size, rng):
        """One shuffled pass over ``data`` (observation keys + ``"expert_action"``) in minibatches.

        The last partial minibatch is dropped unless it is the only one.
        Returns the mean (cross-entropy, accuracy).
        """
        labels = data["expert_action"]
        n = len(labels)
        order = rng.permutation(n)
        losses, hits = [], []
        for start in range(0, max(n - batch_size, 0) + 1, batch_size):
            idx = order[start : start + batch_size]
            observation = {key: value[idx] for key, value in data.items() if key != "expert_action"}
            loss, hit = self.step(observation, labels[idx])
            losses.append(loss)
            hits.append(hit)
        result = float(np.mean(losses)), float(np.mean(hits))
        if not np.isfinite(result[0]):
            raise FloatingPointError(f"behavioural cloning diverged: cross-entropy {result[0]}")
        return result
