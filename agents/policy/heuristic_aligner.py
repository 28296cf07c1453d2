"""``HeuristicAligner``: the argmin of the observation's own value features, no network.

It is the baseline a learned policy has to beat on the same observation: at
every cell it takes the legal move with the smallest weighted sum of
value-like features (a :data:`Rule`), ties broken by the ``"lookahead"`` rows
in order, then diagonal, down, right. The value-like features of move ``a``
are ``"lookahead[l]"``, row ``l`` of the ``"lookahead"`` key, and
``"window"``, the window value of the cell the move enters (the greedy local
cost). The rollout is compiled (``WarpingBatch.run_policy``), so under the
corridor observation an alignment costs O((n + m) r) time and memory.

:func:`candidate_rules` lists every single feature and simple combinations
(pairs with weights 0.25..4, all rows summed); :meth:`HeuristicAligner.select`
keeps the one with the lowest mean cost ratio on training pairs. The default
rule of an observation (:func:`default_rule`) is the one it selected on 30
synthetic warps (README, "Long pairs in linear time", has the call).

>>> import numpy as np
>>> from envs.observation import corridor_lookahead
>>> aligner = HeuristicAligner({"lookahead": corridor_lookahead(2), "window": 3})
>>> x = np.sin(np.linspace(0, 6, 40))[None, :, None]
>>> path = aligner(x, x[:, ::2])[0]
>>> path[0].tolist(), path[-1].tolist()
([0, 0], [39, 19])
"""

import itertools
import numbers

import numba
import numpy as np

from dtwrl.aligners import check_pair_batches, register_aligner
from dtwrl.exact_dtw import cost_ratio, dtw, path_cost
from envs.observation import is_corridor
from envs.packing import check_pair

from .rollouts import make_core, route_pairs

#: ``{feature: weight}``: the score of a move is the weighted sum of its features.
Rule = dict

#: The window cell that each move enters (diagonal, down, right).
_ENTERED = np.array([[1, 1], [1, 0], [0, 1]], dtype=np.int64)


def feature_names(core):
    """The value-like features of a batch's observation: ``"lookahead[l]"`` per row, and ``"window"`` when k >= 2."""
    rows = core.observation_spec().get("lookahead", ((0, 3),))[0][0]
    names = [f"lookahead[{row}]" for row in range(rows)]
    return names + (["window"] if core.window >= 2 else [])


def default_rule(core):
    """The rule :meth:`HeuristicAligner.select` chose for this kind of observation (see the module docstring).

    The corridor's values (row 0; off the corridor every move ties there and row 1, the way back, decides); the
    first lookahead row for the ``(scale, depth)`` lookahead; the window's greedy cost without a lookahead.
    """
    names = feature_names(core)
    return {names[0]: 1.0} if names else {}


def candidate_rules(names):
    """Every single feature, every pair ``f + w g`` (w in 0.25, 0.5, 1, 2, 4) and the sum of all features.

    >>> len(candidate_rules(["lookahead[0]", "window"]))
    11
    """
    rules = [{name: 1.0} for name in names]
    for first, second in itertools.permutations(names, 2):
        rules.extend({first: 1.0, second: w} for w in (0.25, 0.5, 1.0, 2.0, 4.0) if first < second or w != 1.0)
    if len(names) > 2:
        rules.append(dict.fromkeys(names, 1.0))
    return rules


def _weights(rule, names):
    """``(lookahead weights (L,), window weight)`` of a rule; ValueError naming an unknown feature."""
    unknown = sorted(set(rule) - set(names))
    if unknown:
        raise ValueError(f"rule: unknown features {unknown}; this observation has {names}")
    for name, weight in rule.items():
        if isinstance(weight, bool) or not isinstance(weight, numbers.Real) or not np.isfinite(weight):
            raise ValueError(f"rule: the weight of {name!r} must be a finite number; got {weight!r}")
    rows = sum(name.startswith("lookahead[") for name in names)
    look = np.array([float(rule.get(f"lookahead[{row}]", 0.0)) for row in range(rows)])
    return look, float(rule.get("window", 0.0))


@numba.njit(cache=True, nogil=True, _nrt=False)
def _njit_rule_policy(window, position, look, mask, params, out):
    """``WarpingBatch.run_policy`` policy: per row, the legal move with the smallest rule score (ties: rows, order)."""
    weights, window_weight, entered = params
    rows = look.shape[1]
    for r in range(mask.shape[0]):
        best = -1
        best_score = np.inf
        for a in range(3):
            if mask[r, a] == 0:
                continue
            score = 0.0
            for t in range(rows):
                score += weights[t] * look[r, t, a]
            if window_weight != 0.0:
                score += window_weight * window[r, entered[a, 0], entered[a, 1]]
            better = best < 0 or score < best_score
            if not better and score == best_score:
                for t in range(rows):  # lexicographic tie-break by the rows in order
                    if look[r, t, a] != look[r, t, best]:
                        better = look[r, t, a] < look[r, t, best]
                        break
            if better:
                best, best_score = a, score
        out[r] = 0 if best < 0 else best


@register_aligner
class HeuristicAligner:
    """Greedy argmin of a rule over the observation's value features (no learning); an aligner for ``PathLoss``.

    Parameters
    ----------
    core_kwargs : dict
        ``envs.core.WarpingBatch`` arguments (window, metric, band, lookahead); e.g. a policy's ``core_kwargs``.
    rule : dict or None
        ``{feature: weight}`` over :func:`feature_names`; None: :func:`default_rule`.
    batch_size : int >= 1
        Pairs rolled out together on the dense observation (on the corridor observation, one at a time).
    long_kwargs : dict or None
        A second observation for pairs of more than ``long_cells`` grid cells (``n * m``), as
        ``agents.PolicyAligner`` reads the corridor observation there (``agents.policy.rollouts.route_pairs``);
        None: ``core_kwargs`` for every pair. :meth:`like` copies a policy's.
    long_cells : int >= 0
        The length rule's threshold (read only with ``long_kwargs``; 0: every pair on ``long_kwargs``).

    Examples
    --------
    >>> from agents import PolicyAligner
    >>> from envs.observation import is_corridor
    >>> heuristic = HeuristicAligner.like(PolicyAligner.pretrained())  # the shipped aligner: the corridor everywhere
    >>> is_corridor(heuristic.long_kwargs["lookahead"]), heuristic.long_cells
    (True, 0)
    """

    def __init__(self, core_kwargs=None, rule=None, batch_size=64, long_kwargs=None, long_cells=2**20):
        if core_kwargs is None:
            core_kwargs = {}
        if not isinstance(core_kwargs, dict):
            raise TypeError(f"core_kwargs must be a dict; got {type(core_kwargs).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
        core = make_core(core_kwargs)  # names each bad argument
        self._one_pair_at_a_time = is_corridor(core.lookahead)
        self.core_kwargs = dict(core_kwargs)
        self.names = feature_names(core)
        given_rule = rule is not None
        if rule is None:
            rule = default_rule(core)
        if not isinstance(rule, dict) or not rule:
            raise ValueError(f"rule must be a non-empty dict {{feature: weight}} over {self.names}; got {rule!r}")
        self._params = (*_weights(rule, self.names), _ENTERED)
        look, window_weight = self._params[:2]
        #: The rule orders moves as the first lookahead row alone does (any positive weight on it, none elsewhere).
        self._argmin_of_values = len(look) > 0 and look[0] > 0 and not look[1:].any() and window_weight == 0.0
        self.rule = {name: float(weight) for name, weight in rule.items()}
        self.batch_size = int(batch_size)
        self._given_rule = rule if given_rule else None
        self.long_kwargs, self.long_cells, self._long = None, None, None
        if long_kwargs is not None:
            if isinstance(long_cells, bool) or not isinstance(long_cells, numbers.Integral) or long_cells < 0:
                raise ValueError(f"long_cells must be an int >= 0; got {long_cells!r}")
            self._long = HeuristicAligner(long_kwargs, self._given_rule, batch_size)  # names a bad argument
            self.long_kwargs, self.long_cells = self._long.core_kwargs, int(long_cells)

    @classmethod
    def like(cls, policy_aligner, **kwargs):
        """The heuristic on the observations of ``policy_aligner`` (an ``agents.PolicyAligner``), pair by pair.

        Its own observation, and for a policy that reads a linear one on long pairs (``PolicyAligner.pretrained()``
        above ``long_cells``), that one there: the no-network control of every path the policy returns.
        """
        if policy_aligner.long_kwargs is not None:
            kwargs = {"long_kwargs": policy_aligner.long_kwargs, "long_cells": policy_aligner.long_cells, **kwargs}
        return cls(policy_aligner.core_kwargs, **kwargs)

    @classmethod
    def select(cls, pairs, core_kwargs, rules=None):
        """The rule with the lowest mean cost ratio vs exact DTW on ``pairs`` (use training pairs, never test ones).

        Parameters
        ----------
        pairs : sequence of (x (n, d), y (m, d))
        core_kwargs : dict
        rules : list of dict or None
            None: :func:`candidate_rules` of the observation's features.

        Returns
        -------
        best : HeuristicAligner
        scores : list of (rule, mean ratio), best first
        """
        pairs = [check_pair(pair, k) for k, pair in enumerate(pairs)]
        if not pairs:
            raise ValueError("pairs must hold at least one (x, y) pair to score the rules on")
        if rules is not None and not list(rules):
            raise ValueError("rules must be None (every candidate rule) or a non-empty list of rules")
        pairs = [(np.asarray(x, float).reshape(len(x), -1), np.asarray(y, float).reshape(len(y), -1)) for x, y in pairs]
        names = feature_names(make_core(core_kwargs))
        metric, band = core_kwargs.get("metric", "sqeuclidean"), core_kwargs.get("band")
        exact = np.array([dtw(x, y, metric, band) for x, y in pairs])
        scores = []
        for rule in candidate_rules(names) if rules is None else rules:
            paths = cls(core_kwargs, rule).align_pairs(pairs)
            costs = np.array([path_cost(x, y, p, metric) for (x, y), p in zip(pairs, paths)])
            scores.append((rule, float(np.mean(cost_ratio(costs, exact)))))
        scores.sort(key=lambda item: item[1])
        return cls(core_kwargs, scores[0][0]), scores

    def align_pairs(self, pairs):
        """One path per ``(x, y)`` pair, lengths free per pair.

        The rollout is compiled end to end, so a batch only spares Python calls. On the corridor observation (long
        pairs) each pair is rolled out alone, which holds one pair's corridor at a time, not ``batch_size``.
        """
        long = self._align if self._long is None else self._long._align
        return route_pairs(pairs, None if self._long is None else self.long_cells, self._align, long)

    def _align(self, pairs):
        """:meth:`align_pairs` on this aligner's own observation, ``core_kwargs``.

        The default rule on the corridor observation (the argmin of its values) needs no rollout: the corridor's
        DP gives its moves (``CorridorBatch.argmin_paths``, bitwise the rollout's path, two bits per corridor cell).
        """
        pairs = list(pairs)
        if self._one_pair_at_a_time and self._argmin_of_values:
            return make_core(self.core_kwargs).argmin_paths(pairs)
        return self._rollout(pairs)

    def _rollout(self, pairs):
        """The rule's moves, observed and taken step by step (the compiled rollout), ``batch_size`` pairs at a time
        (one at a time on the corridor observation)."""
        paths = []
        chunk = 1 if self._one_pair_at_a_time else self.batch_size
        for start in range(0, len(pairs), chunk):
            core = make_core(self.core_kwargs)
            core.reset(pairs[start : start + chunk])
            core.run_policy(_njit_rule_policy, self._params, window=self._params[1] != 0.0)
            paths.extend(np.asarray(path, dtype=np.int64) for path in core.paths())
        return paths

    def __call__(self, y_true, y_pred):
        """Paths per pair: ``y_true (B, n, d)``, ``y_pred (B, m, d)`` -> list of B ``(L_b, 2)``."""
        y_true, y_pred = check_pair_batches(y_true, y_pred)
        return self.align_pairs(list(zip(y_true, y_pred)))

    def get_config(self):
        """``{"core_kwargs", "rule", "batch_size", "long_kwargs", "long_cells"}`` (``rule`` None: each observation's
        default)."""
        return {
            "core_kwargs": self.core_kwargs,
            "rule": self._given_rule,
            "batch_size": self.batch_size,
            "long_kwargs": self.long_kwargs,
            "long_cells": self.long_cells if self.long_cells is not None else 2**20,
        }

    def __repr__(self):
        long = "" if self._long is None else f", long_lookahead={self.long_kwargs.get('lookahead')!r}"
        return f"HeuristicAligner(rule={self.rule}, lookahead={self.core_kwargs.get('lookahead')!r}{long})"
