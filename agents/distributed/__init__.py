"""Distributed actor-learner PPO for warping-path policies, on Reverb (TF-Agents' own distributed engine).

Roles (each a process; ``experiments/train_aligner_distributed.py --role ...``):

- **server** (:mod:`.server`): a Reverb server holding the trajectory queue and
  the published policy variables;
- **collectors** (:mod:`.collector`): step the batched warping-path env with
  the latest policy and write trajectories through TF-Agents' Reverb observers;
- **learner** (:mod:`.learner`): the single-process ``AlignerTrainer`` fed
  from the queue through ``ReverbReplayBuffer``; publishes weights through
  ``ReverbVariableContainer``, checkpoints, saves the ``PolicySaver`` policy;
- **evaluator** (:mod:`.evaluator`): cost ratio of the published policy vs
  exact DTW and FastDTW;
- **all** (:mod:`.launcher`): every role as a subprocess on this machine.

>>> from agents.distributed import DistributedOptions
>>> DistributedOptions(role="all", collectors=4).envs_per_collector(num_envs=64)
16
"""

from .options import DistributedOptions
from .roles import prepare, run_role

__all__ = ["DistributedOptions", "prepare", "run_role"]
