"""Batch pairs that every ``(y_true, y_pred)`` entry point must refuse.

``each_bad_pair_batch`` parametrizes a test over ``(y_true, y_pred, match)``: ``match`` is the
start of the ValueError the entry point must raise.
"""

import numpy as np
import pytest

each_bad_pair_batch = pytest.mark.parametrize(
    "y_true, y_pred, match",
    [
        (np.zeros((2, 3)), np.zeros((3, 3)), "same number of series B"),
        (np.zeros((2, 3, 1)), np.zeros((2, 3, 2)), "same number of features d"),
        (np.array([[0.0, np.nan]]), np.zeros((1, 2)), "y_true must be finite"),
        (np.zeros((1, 2)), np.array([[np.inf, 0.0]]), "y_pred must be finite"),
        (np.zeros(3), np.zeros((1, 3)), r"y_true must have shape \(B, n\) or \(B, n, d\)"),
        (np.zeros((1, 0)), np.zeros((1, 3)), "y_true must not be empty"),
        (np.zeros((1, 2)), np.zeros((1, 0)), "y_pred must not be empty"),
    ],
)
