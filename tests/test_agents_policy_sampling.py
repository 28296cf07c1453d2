"""PolicyAligner(samples=K, temperature=t): paths sampled from the policy, and their mean cost as a loss."""

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.policies import actor_policy, greedy_policy
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts

import dtwrl
from agents.policy.aligner import PolicyAligner
from agents.policy.networks import build_networks
from agents.policy.rollouts import check_sampling, sample_actions
from dtwrl.aligners import align_batch_groups
from dtwrl.losses import PathLoss

WINDOW = 5
CORE_KWARGS = {"window": WINDOW, "metric": "sqeuclidean", "band": None, "reward_scale": "pair", "lookahead": []}
LOWEST = np.finfo(np.float32).min


@pytest.fixture(scope="module")
def policy():
    """A greedy TF-Agents policy around a randomised actor (so that its moves vary)."""
    obs_spec = {
        "window": tf.TensorSpec((WINDOW, WINDOW), tf.float32),
        "position": tf.TensorSpec((6,), tf.float32),
        "action_mask": tf.TensorSpec((3,), tf.int8),
    }
    act_spec = tensor_spec.BoundedTensorSpec((), tf.int64, 0, 2)
    actor_net, _ = build_networks(obs_spec, act_spec, hidden=(16,))
    rng = np.random.default_rng(0)
    for variable in actor_net.variables:
        scale = 1.0 / np.sqrt(variable.shape[0]) if len(variable.shape) == 2 else 0.3
        variable.assign(rng.normal(0.0, scale, variable.shape).astype(np.float32))
    live = actor_policy.ActorPolicy(ts.time_step_spec(obs_spec), act_spec, actor_network=actor_net, training=False)
    return greedy_policy.GreedyPolicy(live)


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(1)
    t = np.linspace(0, 3, 24)
    y_true = np.stack([np.sin(t * f) for f in (1.0, 2.0, 3.0)])[:, :, None]
    y_pred = y_true[:, ::2][:, :, :] + 0.3 * rng.normal(size=(3, 12, 1))
    return y_true, y_pred


def test_sampled_paths_are_groups_of_k_valid_paths(policy, batch):
    aligner = PolicyAligner(policy, core_kwargs=CORE_KWARGS, batch_size=2, samples=5, temperature=1.0, seed=0)
    groups = aligner(*batch)
    assert len(groups) == 3 and all(len(group) == 5 for group in groups)
    idx, lengths, owners = align_batch_groups(lambda a, b: groups, *batch)  # validates every path
    assert owners.tolist() == [0] * 5 + [1] * 5 + [2] * 5
    assert len({tuple(map(tuple, p)) for p in groups[0]}) > 1  # temperature 1 explores


def test_sampling_is_reproducible_and_advances(policy, batch):
    def paths(seed, calls=2):
        aligner = PolicyAligner(policy, core_kwargs=CORE_KWARGS, samples=3, seed=seed)
        return [[p.tolist() for group in aligner(*batch) for p in group] for _ in range(calls)]

    first, again, other = paths(7), paths(7), paths(8)
    assert first == again
    assert first[0] != first[1]  # a second call draws new paths
    assert first != other
    generator = PolicyAligner(policy, core_kwargs=CORE_KWARGS, samples=3, seed=np.random.default_rng(7))
    assert [p.tolist() for group in generator(*batch) for p in group] == first[0]


def test_low_temperature_gives_the_greedy_path(policy, batch):
    greedy = PolicyAligner(policy, core_kwargs=CORE_KWARGS)(*batch)
    cold = PolicyAligner(policy, core_kwargs=CORE_KWARGS, samples=4, temperature=1e-6, seed=0)(*batch)
    for path, group in zip(greedy, cold):
        assert all(np.array_equal(path, sample) for sample in group)


def test_sample_actions_follows_the_tempered_softmax():
    rng = np.random.default_rng(0)
    logits = np.tile(np.array([[1.0, LOWEST, -0.5]], np.float32), (40_000, 1))
    for temperature in (1.0, 0.5, 3.0):
        counts = np.bincount(sample_actions(logits, temperature, rng), minlength=3) / len(logits)
        expected = np.exp(np.array([1.0, -0.5]) / temperature)
        expected /= expected.sum()
        assert counts[1] == 0.0  # the illegal move is never drawn
        np.testing.assert_allclose(counts[[0, 2]], expected, atol=0.01)
    # one legal move is always taken, a finished row (none legal) gets 0
    only = np.array([[LOWEST, LOWEST, 5.0], [LOWEST, LOWEST, LOWEST]], np.float32)
    assert sample_actions(only, 100.0, rng).tolist() == [2, 0]


def test_path_loss_takes_the_mean_cost_of_the_sampled_paths(policy, batch):
    y_true, y_pred = batch
    loss = PathLoss(PolicyAligner(policy, core_kwargs=CORE_KWARGS, samples=4, seed=3), reduction="none")
    got = loss(y_true, tf.constant(y_pred)).numpy()
    groups = PolicyAligner(policy, core_kwargs=CORE_KWARGS, samples=4, seed=3)(y_true, y_pred)
    expected = [np.mean([dtwrl.path_cost(a, b, p) for p in group]) for a, b, group in zip(y_true, y_pred, groups)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    exact = [dtwrl.dtw(a, b) for a, b in zip(y_true, y_pred)]
    assert np.all(got >= np.array(exact) - 1e-9)  # no path is cheaper than the optimum


@pytest.mark.parametrize(
    "kwargs,error,message",
    [
        ({"samples": 0}, ValueError, "samples must be None"),
        ({"samples": 2.5}, ValueError, "samples must be None"),
        ({"samples": True}, ValueError, "samples must be None"),
        ({"samples": 2, "temperature": 0.0}, ValueError, "temperature must be finite and > 0"),
        ({"samples": 2, "temperature": float("nan")}, ValueError, "temperature must be finite and > 0"),
        ({"samples": 2, "temperature": float("inf")}, ValueError, "temperature must be finite and > 0"),
        ({"samples": 2, "temperature": "hot"}, TypeError, "temperature must be a real number"),
        ({"samples": 2, "seed": -1}, TypeError, "seed must be None"),
        ({"samples": 2, "seed": "x"}, TypeError, "seed must be None"),
    ],
)
def test_bad_sampling_arguments(policy, kwargs, error, message):
    with pytest.raises(error, match=message):
        PolicyAligner(policy, core_kwargs=CORE_KWARGS, **kwargs)


def test_check_sampling_passes_greedy_through():
    assert check_sampling(None, 1.0) == (None, 1.0)


def test_the_shipped_actor_samples_reproducibly(batch):
    first = PolicyAligner.pretrained(samples=2, seed=5)(*batch)
    again = PolicyAligner("pretrained", samples=2, seed=5)(*batch)
    assert [p.tolist() for g in first for p in g] == [p.tolist() for g in again for p in g]
    config = PolicyAligner.pretrained(samples=2, temperature=0.5, seed=5).get_config()
    assert (config["samples"], config["temperature"], config["seed"]) == (2, 0.5, 5)
    rebuilt = PolicyAligner.from_config(config)
    assert (rebuilt.samples, rebuilt.temperature) == (2, 0.5)


def test_sampling_and_beam_decoding_are_exclusive():
    from agents import PolicyAligner

    with pytest.raises(ValueError, match="samples .* decode='beam'"):
        PolicyAligner.pretrained(samples=4, decode="beam")


def test_reused_paths_every_1_returns_exactly_what_its_aligner_returns():
    from agents import PolicyAligner
    from dtwrl.aligners import ReusedPaths

    rng = np.random.default_rng(0)
    y = rng.normal(size=(5, 12, 1))
    bare = PolicyAligner.pretrained(samples=4, temperature=8.0, seed=3)
    reused = ReusedPaths(PolicyAligner.pretrained(samples=4, temperature=8.0, seed=3), every=1)
    for step in range(3):  # the same targets, changing forecasts: every call samples afresh, the same draws
        p = y + 0.1 * step + rng.normal(size=y.shape)
        for mine, theirs in zip(reused(y, p), bare(y, p)):
            assert len(mine) == len(theirs) == 4
            assert all(np.array_equal(a, b) for a, b in zip(mine, theirs))
    assert reused.aligned == 15


def test_path_loss_over_reused_paths_every_1_has_the_same_value_and_gradient():
    import tensorflow as tf

    from agents import PolicyAligner
    from dtwrl.aligners import ReusedPaths
    from dtwrl.losses import PathLoss

    rng = np.random.default_rng(2)
    y = tf.constant(rng.normal(size=(3, 10, 1)).astype(np.float32))
    p = tf.Variable(rng.normal(size=(3, 10, 1)).astype(np.float32))
    results = []
    for aligner in (
        PolicyAligner.pretrained(samples=4, temperature=8.0, seed=0),
        ReusedPaths(PolicyAligner.pretrained(samples=4, temperature=8.0, seed=0), every=1),
    ):
        loss = PathLoss(aligner, path_reduction="lattice", gamma=0.1, lattice_radius=1)
        with tf.GradientTape() as tape:
            value = loss(y, p)
        results.append((value.numpy(), tape.gradient(value, p).numpy()))
    assert results[0][0] == results[1][0] and np.array_equal(results[0][1], results[1][1])


def test_long_pairs_are_sampled_in_batches_that_hold_bounded_cells(policy, batch, monkeypatch):
    """Every sampled rollout holds at most MAX_BATCH_CELLS grid cells (the O(n m) observation's slabs): a long pair's
    K alignments split across batches, short ones keep ``batch_size * samples`` per batch; the groups stay whole."""
    from agents.policy import rollouts

    sizes = []
    own = rollouts.rollout_paths

    def spy(act, pairs, core_kwargs):
        sizes.append(sum(len(x) * len(y) for x, y in pairs))
        return own(act, pairs, core_kwargs)

    monkeypatch.setattr(rollouts, "rollout_paths", spy)
    monkeypatch.setattr(rollouts, "MAX_BATCH_CELLS", 24 * 12 * 2)  # two of these pairs' grids
    aligner = PolicyAligner(policy, core_kwargs=CORE_KWARGS, batch_size=4, samples=5, seed=0)
    groups = aligner(*batch)
    assert len(groups) == 3 and all(len(group) == 5 for group in groups)
    align_batch_groups(lambda a, b: groups, *batch)  # every path valid
    assert max(sizes) <= 24 * 12 * 2 and len(sizes) == 8  # 15 alignments, 2 per batch
    sizes.clear()
    monkeypatch.setattr(rollouts, "MAX_BATCH_CELLS", 2**25)
    aligner(*batch)
    assert len(sizes) == 1  # all 15 in one batch, as before
