"""Corridor sources from the RL alignment policy, registered in :mod:`dtwrl.corridors` on import.

dtwrl never imports ``agents``: :func:`dtwrl.corridors.corridor_from_name` imports this module the
first time a spec names one of its sources (``dtwrl.corridors.LAZY_SOURCES``), which registers them:

- ``policy:r=3``: the pretrained aligner's greedy path (:meth:`agents.PolicyAligner.pretrained`)
  widened by ``r`` cells;
- ``policy_samples:k=16,t=8,r=3``: the row hull of ``k`` paths sampled from it at temperature ``t``,
  widened by ``r`` (:func:`dtwrl.corridors.widen_paths`; the lattice of
  ``PathLoss(path_reduction="lattice")``);
- ``heuristic:r=3``: the no-network control of ``policy``: :class:`agents.HeuristicAligner`'s greedy path
  on the observation the pretrained aligner reads (:meth:`agents.HeuristicAligner.like`: the corridor
  observation), widened by ``r``.

Cost: one policy rollout per pair for ``policy``, ``k`` for ``policy_samples`` (on a CPU, about
0.3 s for 32 pairs of 60 steps at k = 16), which dominates a corridor soft-DTW step; recompute the
corridor every few steps (``SoftDTWLoss(corridor_every=...)``) to spread it. ``heuristic`` rolls out
the same observation without the network.

>>> import numpy as np
>>> from dtwrl.corridors import corridor_from_name
>>> x = np.sin(np.linspace(0, 3, 12))[None]
>>> corridor = corridor_from_name("policy_samples:k=4,t=2,r=1", x, x)  # validated: (0, 0) to (11, 11)
>>> corridor.shape, int(corridor[0, 0, 0]), int(corridor[0, -1, 1])
((1, 12, 2), 0, 11)
"""

from functools import lru_cache

from agents import HeuristicAligner, PolicyAligner
from dtwrl.corridors import aligner_source, register_corridor_source


@lru_cache(maxsize=8)
def _pretrained(samples, temperature):
    if samples is None:
        return PolicyAligner.pretrained()
    return PolicyAligner.pretrained(samples=samples, temperature=temperature)


def _greedy(r):
    return _pretrained(None, None)


def _samples(r, k=16, t=8.0):
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"corridor: policy_samples' k must be an int >= 1; got {k!r}")
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not t > 0:
        raise ValueError(f"corridor: policy_samples' t must be a number > 0; got {t!r}")
    return _pretrained(int(k), float(t))


def _heuristic(r):
    """:class:`agents.HeuristicAligner` like the pretrained aligner: the same observation (the corridor), the
    argmin of its value feature, no network."""
    return HeuristicAligner.like(_pretrained(None, None))


register_corridor_source("policy", aligner_source(_greedy, (), "policy"))
register_corridor_source("policy_samples", aligner_source(_samples, ("k", "t"), "policy_samples"))
register_corridor_source("heuristic", aligner_source(_heuristic, (), "heuristic"))
