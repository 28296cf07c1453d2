"""Keras losses for every DTW-family training signal (the public front door).

The classes live in :mod:`dtwrl.tf.losses`, beside the differentiable DTW
family they wrap; this module is the stable name scripts and users import.

>>> from dtwrl.losses import get_loss
>>> get_loss("soft_dtw", gamma=0.1).gamma
0.1
"""

from .tf.losses import (
    LOSS_NAMES,
    DILATELoss,
    MSELoss,
    PathLoss,
    SoftDTWDivergenceLoss,
    SoftDTWLoss,
    SparseDTWLoss,
    get_loss,
)

__all__ = [
    "DILATELoss",
    "LOSS_NAMES",
    "MSELoss",
    "PathLoss",
    "SoftDTWDivergenceLoss",
    "SoftDTWLoss",
    "SparseDTWLoss",
    "get_loss",
]
