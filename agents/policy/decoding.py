"""Decoding a policy into warping paths beyond greedy rollouts: beam search.

Greedy decoding (``agents.policy.aligner.rollout_paths``) follows the policy's
most likely move. :func:`beam_paths` keeps up to ``width`` partial paths per
pair and compares them fairly:

- *equal progress*: partial paths are grouped by ``t = i + j`` (a diagonal move
  advances t by 2, the others by 1) and only paths of the same t compete;
- *merging*: two partial paths that reach the same cell share their future, so
  only the cheaper one is kept (the exact DP's rule);
- *ranking*: cost so far plus the lookahead's estimate of the cost-to-go
  (``envs.observation``: an exact DP through the block ahead with the coarse
  cost-to-go as terminal value), i.e. the move value ``Q`` of the parent;
- *expansion*: a partial path tries the policy's most likely move and every
  other legal move the policy gives at least ``min_prob``.

With ``width`` at least the longest anti-diagonal and ``min_prob=0`` nothing is
pruned and merging makes it the exact DP, so it returns an optimal path.

>>> from agents.policy.aligner import PolicyAligner
>>> aligner = PolicyAligner.pretrained(decode="beam", beam_width=4)
>>> x = np.cos(np.linspace(0, 5, 30))[:, None]
>>> [p.shape[1] for p in aligner.align_pairs([(x, x[::3])])]
[2]
"""

import numpy as np

from .rollouts import make_core

_STEPS = ((1, 1), (1, 0), (0, 1))


def beam_paths(actor, pairs, core_kwargs, width, min_prob=0.05):
    """Beam-search paths of a NumPy actor on every pair (see the module notes).

    Parameters
    ----------
    actor : agents.policy.aligner.NumpyActor
        Gives the move probabilities (:meth:`NumpyActor.log_probs`).
    pairs : sequence of (x (n, d), y (m, d))
    core_kwargs : dict
        ``envs.core.WarpingBatch`` arguments; ``lookahead`` must not be empty
        (its first row ranks the partial paths).
    width : int >= 1
        Partial paths kept per pair and progress level.
    min_prob : float in [0, 1)
        Expansion threshold on the policy's probability.

    Returns
    -------
    list of numpy.ndarray
        One int64 path ``(L, 2)`` per pair.
    """
    if actor is None:
        raise ValueError("beam search needs the NumPy actor of the policy")
    if len(pairs) == 0:
        return []
    core = make_core(core_kwargs)
    if not core.lookahead:
        raise ValueError("beam search ranks partial paths by the lookahead; core_kwargs has lookahead=()")
    core.reset(list(pairs))
    lengths = core.lengths
    costs = [core.cost_matrix(b) for b in range(core.num)]
    log_min = np.log(min_prob) if min_prob > 0 else -np.inf
    # per pair: level t -> {cell: (cost so far, score, parent cell)}
    levels = [{0: {(0, 0): (costs[b][0, 0], 0.0, None)}} for b in range(core.num)]
    parents = [dict() for _ in range(core.num)]
    last = (lengths[:, 0] - 1) + (lengths[:, 1] - 1)
    for t in range(int(last.max())):
        rows, cells, bases = [], [], []
        for b in range(core.num):
            if t >= last[b]:
                continue
            level = levels[b].pop(t, None)
            if not level:
                continue
            kept = sorted(level.items(), key=lambda item: item[1][1])[:width]
            for cell, (cost, _, parent) in kept:
                parents[b][cell] = parent
                rows.append(b)
                cells.append(cell)
                bases.append(cost)
        if not rows:
            continue
        obs, values = core.observe_cells(rows, cells)
        log_probs = actor.log_probs(obs)
        best = np.argmax(log_probs, axis=1)
        mask = obs["action_mask"].astype(bool)
        for r, (b, (i, j), cost) in enumerate(zip(rows, cells, bases)):
            n, m = lengths[b]
            for a in range(3):
                if not mask[r, a] or (a != best[r] and log_probs[r, a] < log_min):
                    continue
                child = (i + _STEPS[a][0], j + _STEPS[a][1])
                child_cost = cost + costs[b][child]
                estimate = values[r, a] if np.isfinite(values[r, a]) else costs[b][child]
                score = cost + estimate
                level = levels[b].setdefault(t + 1 + (a == 0), {})
                old = level.get(child)
                if old is None or child_cost < old[0]:
                    level[child] = (child_cost, score, (i, j))
    paths = []
    for b in range(core.num):
        end = (int(lengths[b, 0]) - 1, int(lengths[b, 1]) - 1)
        if end != (0, 0):
            parents[b][end] = levels[b][int(last[b])][end][2]
        path, cell = [], end
        while cell is not None:
            path.append(cell)
            cell = parents[b].get(cell)
        paths.append(np.asarray(path[::-1], dtype=np.int64))
    return paths
