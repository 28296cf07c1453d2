"""The policy's corridor sources and its heuristic control (agents/corridor_sources.py), resolved lazily."""

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


def _heuristic_corridor(x, y, xl, yl, policy, r):
    """Widen by hand the HeuristicAligner path of each pair, on the observation ``policy`` reads on it."""
    from agents import HeuristicAligner

    rows = []
    for b in range(len(x)):
        pair = (x[b, : xl[b]], y[b, : yl[b]])
        long = policy.long_cells is not None and xl[b] * yl[b] > policy.long_cells
        kwargs = policy.long_kwargs if long else policy.core_kwargs
        path = HeuristicAligner(kwargs).align_pairs([pair])[0]
        rows.append(cr.widen_paths([[path]], [xl[b]], [yl[b]], x.shape[1], r)[0])
    return np.stack(rows)


def test_heuristic_source_widens_the_heuristic_paths_on_the_policy_observation(rng):
    from agents import HeuristicAligner, PolicyAligner

    x = np.cumsum(rng.normal(size=(3, 20, 1)), axis=1)
    y = np.cumsum(rng.normal(size=(3, 24, 1)), axis=1)
    xl, yl = [20, 1, 20], [24, 24, 1]  # unequal lengths, a length-1 side each way
    policy = PolicyAligner.pretrained()
    np.testing.assert_array_equal(
        cr.corridor_from_name("heuristic:r=0", x, y, xl, yl), _heuristic_corridor(x, y, xl, yl, policy, 0)
    )
    wide = cr.corridor_from_name("heuristic:r=2", x, y, xl, yl)  # validated inside corridor_from_name
    np.testing.assert_array_equal(wide, cr.corridor_from_name("heuristic:r=2", x, y, xl, yl))  # deterministic
    heuristic = HeuristicAligner.like(policy)  # short pairs: the policy's own observation
    for b in range(3):
        path = heuristic.align_pairs([(x[b, : xl[b]], y[b, : yl[b]])])[0]
        lo, hi = wide[b, path[:, 0]].T
        assert np.all((lo <= path[:, 1]) & (path[:, 1] <= hi))
    narrow = _heuristic_corridor(x, y, xl, yl, policy, 0)
    assert cr.corridor_cells(wide, xl)[0] > cr.corridor_cells(narrow, xl)[0]  # a length-1 side spans its line already


def test_heuristic_source_switches_to_the_corridor_observation_on_long_pairs(rng, monkeypatch):
    """Past ``long_cells`` the policy reads the corridor observation; the heuristic source reads it too."""
    from agents import HeuristicAligner, PolicyAligner, corridor_sources
    from envs.observation import corridor_lookahead

    policy = PolicyAligner.pretrained(long_cells=300)
    monkeypatch.setattr(corridor_sources, "_pretrained", lambda samples, temperature: policy)
    x = np.cumsum(rng.normal(size=(2, 30, 1)), axis=1)
    y = np.cumsum(rng.normal(size=(2, 28, 1)), axis=1)
    xl, yl = [30, 10], [28, 12]  # 840 cells (long) and 120 (short)
    seen = []

    own_align = HeuristicAligner._align

    def spy(self, pairs):  # the rollout on one observation
        seen.extend((len(x_), [tuple(row) for row in self.core_kwargs["lookahead"]]) for x_, _ in pairs)
        return own_align(self, pairs)

    monkeypatch.setattr(HeuristicAligner, "_align", spy)
    got = cr.corridor_from_name("heuristic:r=0", x, y, xl, yl)
    own = [tuple(row) for row in policy.core_kwargs["lookahead"]]
    assert sorted(seen) == [(10, own), (30, list(corridor_lookahead(16)))]  # the radius of the long-pair network
    np.testing.assert_array_equal(got, _heuristic_corridor(x, y, xl, yl, policy, 0))


def test_policy_source_parameters_are_checked():
    x = np.zeros((1, 5, 1))
    with pytest.raises(ValueError, match="policy_samples' k must be an int >= 1"):
        cr.corridor_from_name("policy_samples:k=0", x, x)
    with pytest.raises(ValueError, match="takes no parameter"):
        cr.check_corridor_spec("policy:k=3")
    with pytest.raises(ValueError, match="heuristic.*takes no parameter"):
        cr.check_corridor_spec("heuristic:k=3")
    with pytest.raises(ValueError, match="r must be"):
        cr.corridor_from_name("heuristic:r=-1", x, x)


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
