"""The policy's corridor sources (agents/corridor_sources.py), resolved lazily by dtwrl.corridors."""

import subprocess
import sys

import numpy as np
import pytest

from dtwrl import corridors as cr
from tests.conftest import REPO_ROOT


def test_dtwrl_does_not_import_agents_until_a_policy_source_is_named():
    code = "import sys, dtwrl.corridors, dtwrl.losses; assert 'agents' not in sys.modules, 'agents imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT)


def test_policy_sources_give_valid_corridors_that_hold_their_paths(rng):
    from agents import PolicyAligner

    x = np.cumsum(rng.normal(size=(3, 20, 1)), axis=1)
    y = np.cumsum(rng.normal(size=(3, 24, 1)), axis=1)
    xl, yl = [20, 14, 20], [24, 24, 9]
    greedy = cr.corridor_from_name("policy:r=0", x, y, xl, yl)
    for b in range(3):
        path = PolicyAligner.pretrained()(x[b : b + 1, : xl[b]], y[b : b + 1, : yl[b]])[0]
        np.testing.assert_array_equal(greedy[b, : xl[b]], cr.widen_paths([[path]], [xl[b]], [yl[b]], xl[b])[0])
    samples = cr.corridor_from_name("policy_samples:k=4,t=2,r=1", x, y, xl, yl)
    assert samples.shape == (3, 20, 2)  # validated inside corridor_from_name
    assert np.all(cr.corridor_cells(samples, xl) > cr.corridor_cells(greedy, xl))  # widened by 1: strictly more


def test_policy_source_parameters_are_checked():
    x = np.zeros((1, 5, 1))
    with pytest.raises(ValueError, match="policy_samples' k must be an int >= 1"):
        cr.corridor_from_name("policy_samples:k=0", x, x)
    with pytest.raises(ValueError, match="takes no parameter"):
        cr.check_corridor_spec("policy:k=3")


def test_a_loss_trains_on_the_policy_corridor(rng):
    import tensorflow as tf

    from dtwrl.losses import get_loss

    loss = get_loss("soft_dtw", gamma=0.1, corridor="policy_samples:k=4,t=2,r=1")
    y_true = tf.constant(np.cumsum(rng.normal(size=(2, 16, 1)), axis=1))
    y_pred = tf.Variable(np.cumsum(rng.normal(size=(2, 16, 1)), axis=1))
    with tf.GradientTape() as tape:
        value = loss(y_true, y_pred)
    grad = tape.gradient(value, y_pred)
    assert np.isfinite(float(value)) and np.all(np.isfinite(grad.numpy()))
