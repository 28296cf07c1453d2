"""The policy side of a policy method's rounds: its aligner, its fine-tuner, the charts and figures of its paths.

:class:`PolicyRounds` is what :class:`~agents.forecasting.rl_forecasting.Comparison`
adds to a forecaster's training for ``"greedy_path"`` and ``"sampled_path"``:
the ``PathLoss`` over the policy's paths, and before each round of model
steps the policy's fine-tuning on the model's own forecasts (an
``agents.AlignerTrainer`` started from the given policy), the annealed
sampling temperature and the ``charts/aligner_*`` scalars. The cost
figures of paths (:func:`policy_cost_ratio`, :func:`lattice_coverage`) are here too.

>>> policy_cost_ratio(lambda a, b: [np.array([[0, 0], [1, 1]])], np.zeros((1, 2, 1)), np.ones((1, 2, 1)))
(2.0, 1.0)
"""

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import dtwrl
from dtwrl.aligners import path_groups
from dtwrl.exact_dtw import cost_ratio

from ..policy.aligner import resolve_policy


def aligner_env_id(aligner) -> str:
    """The env a policy method's fine-tuner runs on: its run folder's own, else (an actor file) the default env.

    >>> aligner_env_id("pretrained")
    'dtwrl/SyntheticWarp-v0'
    """
    from ..training.config import AlignerConfig

    run_dir = resolve_policy(aligner).run_dir
    if run_dir is None:  # an actor file (the shipped pretrained one among them) names no env
        return AlignerConfig().env_id
    return json.loads((run_dir / "config.json").read_text())["env_id"]


def policy_cost_ratio(aligner: Callable, y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, float]:
    """Mean path cost of ``aligner`` on the pairs and its mean ratio to exact DTW.

    Parameters
    ----------
    aligner : callable
        Any aligner; a group of paths for a pair (sampled paths) counts with its mean cost.
    y_true, y_pred : numpy.ndarray, shapes (B, n, d) and (B, m, d)

    Returns
    -------
    (float, float)
        The mean over pairs of the path cost, and of ``cost / DTW`` (1 at the
        optimum; a pair with DTW 0 counts as 1 when its path is free too).

    Examples
    --------
    >>> from dtwrl.aligners import ExactDTWAligner
    >>> y = np.array([[[0.0], [1.0], [2.0]]]); p = np.array([[[0.0], [2.0]]])
    >>> policy_cost_ratio(ExactDTWAligner(), y, p)
    (1.0, 1.0)
    """
    return group_cost_ratio(path_groups(aligner(y_true, y_pred), len(y_true)), y_true, y_pred)


def group_cost_ratio(groups, y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, float]:
    """:func:`policy_cost_ratio` of paths already found: ``groups[b]`` is the list of pair ``b``'s paths.

    >>> y = np.array([[[0.0], [1.0], [2.0]]]); p = np.array([[[0.0], [2.0]]])
    >>> group_cost_ratio([[np.array([[0, 0], [1, 0], [2, 1]])]], y, p)
    (1.0, 1.0)
    """
    costs = np.array(
        [np.mean([dtwrl.path_cost(a, b, p) for p in group]) for a, b, group in zip(y_true, y_pred, groups)]
    )
    exact = np.array([dtwrl.dtw(a, b) for a, b in zip(y_true, y_pred)])
    return float(costs.mean()), float(np.mean(cost_ratio(costs, exact)))


def lattice_coverage(groups, n: int, m: int, radius: int = 0) -> float:
    """Mean share of a pair's grid cells in the lattice loss's corridor: the cells ``path_reduction="lattice"`` uses.

    Parameters
    ----------
    groups : sequence of sequences of int arrays (L, 2)
        ``groups[b]``: the paths of pair ``b`` (``path_groups`` of an aligner's output).
    n, m : int
        The grid's size (the pairs' padded lengths).
    radius : int >= 0
        The lattice's widening (``lattice_radius``).

    Returns
    -------
    float
        The mean over pairs of ``|corridor| / (n m)``, the corridor being the
        per-row hull of the pair's path cells widened by ``radius``
        (:func:`dtwrl.corridors.widen_paths`, what the loss runs on): it also
        holds the cells between two paths that leave a gap in a row. 1 when it
        covers the whole grid (the lattice soft minimum is then soft-DTW itself).

    Examples
    --------
    >>> diagonal = [[np.array([[0, 0], [1, 1]])]]
    >>> lattice_coverage(diagonal, 2, 2), lattice_coverage(diagonal, 2, 2, radius=1)
    (0.5, 1.0)
    """
    from dtwrl.corridors import corridor_cells, widen_paths

    rows = [n] * len(groups)
    corridor = widen_paths(groups, rows, [m] * len(groups), n, radius)
    return float(np.mean(corridor_cells(corridor, rows))) / (n * m)


class GreedyPlusSamples:
    """Aligner whose group for a pair is the greedy path of one aligner followed by the paths of a sampler.

    Parameters
    ----------
    greedy : callable
        An aligner with one path per pair (e.g. ``agents.PolicyAligner``).
    sampler : callable
        An aligner with a group of paths per pair (e.g. ``PolicyAligner(samples=K)``).

    Examples
    --------
    >>> from dtwrl.aligners import ExactDTWAligner
    >>> two = lambda a, b: [[np.array([[0, 0], [1, 1]]), np.array([[0, 0], [0, 1], [1, 1]])]]
    >>> groups = GreedyPlusSamples(ExactDTWAligner(), two)(np.zeros((1, 2, 1)), np.zeros((1, 2, 1)))
    >>> [len(group) for group in groups]
    [3]
    """

    def __init__(self, greedy: Callable, sampler: Callable):
        self.greedy, self.sampler = greedy, sampler

    def __call__(self, y_true, y_pred):
        """``K + 1`` paths per pair, the greedy one first."""
        greedy = path_groups(self.greedy(y_true, y_pred), len(y_true))
        sampled = path_groups(self.sampler(y_true, y_pred), len(y_true))
        return [list(first) + list(rest) for first, rest in zip(greedy, sampled)]


class PolicyRounds:
    """A policy method's aligner (and sampler) and its fine-tuner, round by round.

    Parameters
    ----------
    config : ComparisonConfig
    method : {"greedy_path", "sampled_path"}
    seed : int
        Seeds the fine-tuner and the sampled paths.
    policy : agents.policy.aligner.PolicySource
        The policy to start from (``Comparison``'s ``aligner``).
    run_dir : pathlib.Path
        The fine-tuned copy goes to ``<run_dir>/aligner/finetune-<method>__<seed>/``.

    Attributes
    ----------
    aligner : callable
        The aligner of the method's ``PathLoss``.
    sampler : agents.PolicyAligner or None
        The ``samples=K`` aligner whose temperature the rounds anneal (``"sampled_path"``).
    tuner : agents.AlignerTrainer or None
        The fine-tuner (None with ``aligner_iterations=0``: a frozen policy).
    """

    def __init__(self, config, method: str, seed: int, policy, run_dir: Path):
        self.config, self.method, self.seed, self.run_dir = config, method, seed, Path(run_dir)
        self.tuner = self._fine_tuner(policy) if config.aligner_iterations else None
        self.aligner, self.sampler = self._aligners(policy)

    def _fine_tuner(self, policy):
        """An ``agents.AlignerTrainer`` starting from ``policy``, to fine-tune on the forecasts of the method."""
        from ..training.config import AlignerConfig
        from ..training.trainer import AlignerTrainer

        config = self.config
        iterations = max(1, config.rounds * config.aligner_iterations)
        steps = iterations * config.aligner_num_envs * config.aligner_collect_steps
        return AlignerTrainer(
            AlignerConfig(
                env_id=aligner_env_id(policy),
                seed=self.seed,
                num_envs=config.aligner_num_envs,
                collect_steps=config.aligner_collect_steps,
                total_env_steps=steps,
                bc_warmstart=False,
                critic_warmup_iterations=config.critic_warmup_iterations,
                eval_pairs=16,
                init_from=str(policy),
                out_dir=str(self.run_dir / "aligner"),
                run_name=f"finetune-{self.method}__{self.seed}",
                exp_name="finetune",
            )
        )

    def _aligners(self, policy):
        """``(aligner, sampler)``: the live fine-tuned policy or the frozen one; with ``include_greedy`` the aligner
        is a :class:`GreedyPlusSamples` around the sampler."""
        from ..policy.aligner import PolicyAligner

        config = self.config
        batch_size = max(config.batch_size, config.pairs_per_round)
        if self.tuner is None:
            policy = {"policy": policy}
        else:
            policy = {"policy": self.tuner.agent.policy, "core_kwargs": self.tuner.settings.core_kwargs}
        if self.method != "sampled_path":
            return PolicyAligner(**policy, batch_size=batch_size), None
        sampler = PolicyAligner(
            **policy, batch_size=batch_size, samples=config.samples, temperature=config.temperature, seed=self.seed
        )
        if config.include_greedy:
            return GreedyPlusSamples(PolicyAligner(**policy, batch_size=batch_size), sampler), sampler
        return sampler, sampler

    def loss(self):
        """The method's ``dtwrl.losses.PathLoss`` over the aligner's paths (and the sampler's path reduction)."""
        from dtwrl.aligners import ReusedPaths
        from dtwrl.losses import PathLoss

        config = self.config
        if self.sampler is None:
            return PathLoss(self.aligner)
        # lattice_every > 1: each training pair keeps its sampled paths for that many steps (1: today's loss as is)
        aligner = self.aligner if config.lattice_every == 1 else ReusedPaths(self.aligner, config.lattice_every)
        return PathLoss(
            aligner,
            path_reduction=config.path_reduction,
            gamma=config.path_gamma,
            lattice_radius=config.lattice_radius,
        )

    def before_round(self, round_index: int, model, X, Y, rng, writer, step: int) -> float:
        """Anneal, fine-tune on the forecasts of ``pairs_per_round`` inputs, chart; returns the seconds it took."""
        import tensorflow as tf

        from dtwrl.datasets import ArrayPairs
        from dtwrl.forecasting.training import predict

        config = self.config
        if self.sampler is not None:
            self.sampler.temperature = config.temperature_at(round_index)
        start = time.perf_counter()
        idx = rng.choice(len(X), size=min(config.pairs_per_round, len(X)), replace=False)
        forecasts = predict(model, X[idx])
        if self.tuner is not None:
            self.tuner.set_pairs(ArrayPairs(list(zip(Y[idx], forecasts))))
            self.tuner.fine_tune(config.aligner_iterations)
        cost, ratio = policy_cost_ratio(self.aligner, Y[idx], forecasts)
        seconds = time.perf_counter() - start
        with writer.as_default(step=step):
            tf.summary.scalar("charts/aligner_return", -cost)
            tf.summary.scalar("charts/aligner_cost_ratio_vs_dtw", ratio)
            if config.final_temperature is not None and self.sampler is not None:
                tf.summary.scalar("charts/sampling_temperature", self.sampler.temperature)
            if self.tuner is not None:
                tf.summary.scalar("charts/aligner_env_steps", self.tuner.env_steps)
        return seconds

    def finish(self, model, X_test, Y_test) -> dict:
        """Save the fine-tuned policy; ``policy_ratio_on_test`` and (sampled) ``lattice_coverage_on_test``."""
        from dtwrl.forecasting.training import predict

        if self.tuner is not None:
            self.tuner.save_policy()  # the fine-tuned policy and its figures/eval_alignment.png
        forecasts = predict(model, X_test)
        groups = path_groups(self.aligner(Y_test, forecasts), len(Y_test))  # one rollout for both figures
        figures = {"policy_ratio_on_test": group_cost_ratio(groups, Y_test, forecasts)[1]}
        if self.sampler is not None:
            figures["lattice_coverage_on_test"] = lattice_coverage(
                groups, Y_test.shape[1], forecasts.shape[1], self.config.lattice_radius
            )
        return figures
