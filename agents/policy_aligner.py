"""The class path ``agents.policy_aligner.PolicyAligner`` that saved ``PathLoss`` configs hold."""

from .policy.aligner import PolicyAligner

__all__ = ["PolicyAligner"]
