"""Evaluation of the policy during training: greedy rollouts on the fixed held-out set, scored against oracles."""

from collections.abc import Callable

import numpy as np

from dtwrl.exact_dtw import cost_ratio

from ..evaluation import EvalSet, alignment_image, ratio_stats
from ..policy.rollouts import rollout_paths


def evaluate_policy(act: Callable, eval_set: EvalSet, core_kwargs: dict) -> tuple[dict, list]:
    """Greedy rollouts of ``act`` on every eval pair, scored against exact DTW, FastDTW r=1 and the no-network control.

    The control is ``agents.HeuristicAligner(core_kwargs)``: the same observation, the argmin of its value feature
    (its paths' costs computed once per eval set, :meth:`agents.evaluation.EvalSet.heuristic_costs`).
    ``cost_ratio_vs_heuristic`` below 1 is what the network adds to its own observation; 1 means it adds nothing.

    Parameters
    ----------
    act : callable
        ``act(observation dict of (N, ...) arrays) -> (N,)`` greedy actions.
    eval_set : agents.evaluation.EvalSet
    core_kwargs : dict
        ``envs.core.WarpingBatch`` arguments of the rollouts.

    Returns
    -------
    metrics : dict
        ``cost_ratio_vs_dtw`` (mean), ``cost_ratio_vs_dtw_p90``,
        ``frac_optimal``, ``cost_ratio_vs_fastdtw`` (mean),
        ``fastdtw_ratio_vs_dtw`` (FastDTW's own mean ratio, for reference),
        ``cost_ratio_vs_heuristic`` (mean, pair by pair) and
        ``heuristic_ratio_vs_dtw`` (the control's own mean ratio).
    paths : list of numpy.ndarray
        The policy's paths.
    """
    paths = rollout_paths(act, eval_set.pairs, core_kwargs)
    stats = ratio_stats(eval_set.ratios(paths))
    costs = eval_set.path_costs(paths)
    heuristic = eval_set.heuristic_costs(core_kwargs)
    return {
        "cost_ratio_vs_dtw": stats["mean"],
        "cost_ratio_vs_dtw_p90": stats["p90"],
        "frac_optimal": stats["frac_optimal"],
        "cost_ratio_vs_fastdtw": float(np.mean(cost_ratio(costs, eval_set.fastdtw_costs))),
        "fastdtw_ratio_vs_dtw": float(np.mean(eval_set.ratios(eval_set.fastdtw_paths))),
        "cost_ratio_vs_heuristic": float(np.mean(cost_ratio(costs, heuristic))),
        "heuristic_ratio_vs_dtw": float(np.mean(cost_ratio(heuristic, eval_set.dtw_costs))),
    }, paths


def eval_alignment_image(eval_set: EvalSet, paths: list, index: int = 0) -> np.ndarray:
    """(H, W, 3) uint8: eval pair ``index`` with the policy's, FastDTW's and the exact path (short pairs only).

    Bounded at any length: see ``agents.evaluation.alignment_image``.
    """
    return alignment_image(
        eval_set, index, {"policy": paths, "fastdtw r=1": eval_set.fastdtw_paths}, exact_label="exact DTW"
    )
