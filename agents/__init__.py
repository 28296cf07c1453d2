"""TF-Agents actor-critic for warping paths: networks, PPO training, the policy aligner.

Public names:

- :class:`AlignerConfig`, :class:`AlignerTrainer`, :func:`train_aligner`: PPO
  (optionally warm-started by behavioural cloning of exact DTW moves) on any
  registered warping env; writes ``results/aligner/<run-name>/``.
- :class:`PolicyAligner`: a saved (or live) policy as an aligner for
  ``dtwrl.losses.PathLoss``: ``aligner(y_true, y_pred) -> list of (L, 2) paths``;
  ``PolicyAligner.pretrained()`` is the general policy shipped with the package
  (``experiments/pretrain_aligner.py``), decoded greedily or by beam search.
- :class:`HeuristicAligner`: the argmin of the observation's value features, no
  network; the baseline every learned policy is measured against.
- :class:`GreedyAligner`: the cheapest-next-cell baseline.
- :class:`TrainingDivergedError`.

Sub-packages, one concern each (docs/ARCHITECTURE.md): ``agents.policy`` (using a
policy: NumPy actor, rollouts, decoding, the aligner, baselines, the shipped
weights), ``agents.training`` (config, env settings, PPO, collection,
behavioural cloning, run folder, summaries, trainer), ``agents.forecasting``
(forecasters trained on policy paths) and ``agents.distributed`` (the Reverb
actor-learner); ``agents.evaluation`` is shared by all of them.

Importing ``agents`` loads neither TensorFlow nor TF-Agents: each public name
is imported from its module on first use.

>>> import agents
>>> agents.AlignerConfig(total_env_steps=8192).num_iterations
2
"""

from dtwrl._lazy import lazy_exports

_EXPORTS = {
    "AlignerConfig": ".training.config",
    "AlignerTrainer": ".training.trainer",
    "GreedyAligner": ".policy.baselines",
    "HeuristicAligner": ".policy.heuristic_aligner",
    "PolicyAligner": ".policy.aligner",
    "TrainingDivergedError": ".training.trainer",
    "greedy_path": ".policy.baselines",
    "train_aligner": ".training.trainer",
}

lazy_exports(__name__, _EXPORTS, globals())
