"""TF-Agents actor-critic for warping paths: networks, PPO training, the policy aligner.

Public names:

- :class:`AlignerConfig`, :class:`AlignerTrainer`, :func:`train_aligner`: PPO
  (optionally warm-started by behavioural cloning of exact DTW moves) on any
  registered warping env; writes ``results/aligner/<run-name>/``.
- :class:`PolicyAligner`: a saved (or live) policy as an aligner for
  ``dtwrl.losses.PathLoss``: ``aligner(y_true, y_pred) -> list of (L, 2) paths``;
  ``PolicyAligner.pretrained()`` is the general policy shipped with the package
  (``experiments/pretrain_aligner.py``), decoded greedily or by beam search.
- :class:`GreedyAligner`: the cheapest-next-cell baseline.
- :class:`TrainingDivergedError`.

Modules, one job each: ``config`` (AlignerConfig and its checks), ``environment``
(env settings: registered, stored in a run folder, built), ``ppo`` (agent
building, collect policy, learner step), ``collection``, ``warm_start`` (BC and
DAgger), ``policy_evaluation``, ``best_actor``, ``summaries`` (TensorBoard),
``run_folder`` (the run's files) and ``trainer`` (the loop).

>>> import agents
>>> agents.AlignerConfig(total_env_steps=8192).num_iterations
2
"""

from .baselines import GreedyAligner, greedy_path
from .config import AlignerConfig
from .heuristic_aligner import HeuristicAligner
from .policy_aligner import PolicyAligner
from .trainer import AlignerTrainer, TrainingDivergedError, train_aligner

__all__ = [
    "AlignerConfig",
    "AlignerTrainer",
    "GreedyAligner",
    "HeuristicAligner",
    "PolicyAligner",
    "TrainingDivergedError",
    "greedy_path",
    "train_aligner",
]
