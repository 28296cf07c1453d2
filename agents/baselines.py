"""The class path ``agents.baselines.GreedyAligner`` that saved ``PathLoss`` configs hold."""

from .policy.baselines import GreedyAligner

__all__ = ["GreedyAligner"]
