"""Keras losses for every DTW-family training signal (the public front door).

The classes live in :mod:`dtwrl.tf.losses`, beside the differentiable DTW
family they wrap; this module is the stable name scripts and users import.

>>> from dtwrl.losses import get_loss
>>> get_loss("soft_dtw", gamma=0.1).gamma
0.1
"""

from .tf import losses as _losses
from .tf.losses import *  # noqa: F403  (the re-export is this module's purpose)

__all__ = _losses.__all__
