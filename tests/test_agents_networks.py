"""Actor/critic networks and the greedy baseline of agents."""

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec

from agents import GreedyAligner, greedy_path
from agents.policy.networks import LogCost, build_networks
from tests.reference import all_warping_paths

OBS_SPEC = {
    "window": tf.TensorSpec((5, 5), tf.float32),
    "position": tf.TensorSpec((6,), tf.float32),
    "action_mask": tf.TensorSpec((3,), tf.int8),
}
ACTION_SPEC = tensor_spec.BoundedTensorSpec((), tf.int64, 0, 2)


def _obs(batch, mask, rng):
    return {
        "window": tf.constant(rng.random((batch, 5, 5)), tf.float32),
        "position": tf.constant(rng.random((batch, 6)), tf.float32),
        "action_mask": tf.constant(mask, tf.int8),
    }


def test_actor_never_picks_masked_moves(rng):
    actor, critic = build_networks(OBS_SPEC, ACTION_SPEC, hidden=(16,))
    masks = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 1], [1, 1, 0]] * 20, dtype=np.int8)
    obs = _obs(len(masks), masks, rng)
    dist, _ = actor(obs, step_type=None)
    probs = tf.nn.softmax(dist.logits_parameter()).numpy()
    assert probs.shape == (len(masks), 3)
    assert np.all(probs[masks == 0] < 1e-6)
    samples = dist.sample(seed=1).numpy()
    assert np.all(masks[np.arange(len(masks)), samples] == 1)
    assert np.all(masks[np.arange(len(masks)), dist.mode().numpy()] == 1)
    values, _ = critic(obs, step_type=None)
    assert values.shape == (len(masks),)


def test_critic_ignores_the_mask(rng):
    _, critic = build_networks(OBS_SPEC, ACTION_SPEC, hidden=(8,))
    obs = _obs(4, np.ones((4, 3), np.int8), rng)
    other = dict(obs, action_mask=tf.constant(np.eye(3, dtype=np.int8)[[0, 1, 2, 0]]))
    np.testing.assert_allclose(critic(obs, step_type=None)[0], critic(other, step_type=None)[0])


def test_log_cost_window_is_finite_on_padding_and_inf():
    layer = LogCost(cost_floor=1e-3)
    out = layer(tf.constant([[[0.0, 1.0], [np.inf, 1e9]]], tf.float32)).numpy()
    assert out.shape == (1, 4)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[0, :2], np.log([1e-3, 1.0 + 1e-3]), atol=1e-6)


def test_build_networks_rejects_bad_arguments():
    with pytest.raises(ValueError, match="hidden"):
        build_networks(OBS_SPEC, ACTION_SPEC, hidden=())
    with pytest.raises(ValueError, match="observation_spec"):
        build_networks({"window": OBS_SPEC["window"]}, ACTION_SPEC)
    with pytest.raises(ValueError, match="cost_floor"):
        build_networks(OBS_SPEC, ACTION_SPEC, cost_floor=0.0)


def _is_path(path, n, m):
    steps = np.diff(path, axis=0)
    legal = (steps == [1, 1]).all(1) | (steps == [1, 0]).all(1) | (steps == [0, 1]).all(1)
    return path[0].tolist() == [0, 0] and path[-1].tolist() == [n - 1, m - 1] and bool(legal.all())


def test_greedy_matches_brute_force_definition(rng):
    # Greedy enters the cheapest next cell; check against an explicit walk over the enumerated paths.
    for _ in range(20):
        n, m = rng.integers(2, 6, size=2)
        x, y = rng.standard_normal(n), rng.standard_normal(m)
        C = (x[:, None] - y[None, :]) ** 2
        path = greedy_path(x, y)
        assert any(np.array_equal(path, p) for p in all_warping_paths(n, m))
        for (i, j), nxt in zip(path[:-1], path[1:]):
            options = [(i + di, j + dj) for di, dj in ((1, 1), (1, 0), (0, 1)) if i + di < n and j + dj < m]
            assert C[tuple(nxt)] == min(C[c] for c in options)


def test_greedy_respects_the_band_and_batches(rng):
    x = rng.standard_normal((3, 30, 2))
    y = rng.standard_normal((3, 40, 2))
    paths = GreedyAligner(band=2)(x, y)
    assert len(paths) == 3
    for p in paths:
        assert _is_path(p, 30, 40)
        assert np.all(np.abs(p[:, 1] * 29 - p[:, 0] * 39) <= 2 * 29)
    with pytest.raises(ValueError, match="y_pred"):
        GreedyAligner()(x, np.zeros((3, 0, 2)))


def test_expert_dataset_labels_are_legal_and_detours_happen(rng):
    import envs  # noqa: F401
    from agents.training.environment import env_settings
    from agents.training.imitation import collect_expert_dataset, legal_labels

    settings = env_settings("dtwrl/SyntheticWarp-v0", window=5)
    data = collect_expert_dataset(settings.pairs, rng, settings.core_kwargs, num_steps=3000, num_envs=8, detour=0.3)
    assert data["window"].shape == (3000, 5, 5) and data["expert_action"].shape == (3000,)
    mask = data["action_mask"].astype(bool)
    assert mask[np.arange(3000), data["expert_action"]].all()
    # detours leave the optimal path: some states are far from the diagonal
    assert np.abs(data["position"][:, 2]).max() > 0.05
    np.testing.assert_array_equal(legal_labels([2, 0, 1], np.array([[1, 0, 0], [1, 1, 1], [0, 0, 1]])), [0, 0, 2])


def test_labelled_rollouts_follow_the_driver_and_label_the_expert(rng):
    """One loop for BC and DAgger: with ``act`` the rollouts follow it, the labels stay the expert's moves."""
    import envs  # noqa: F401
    from agents.training.environment import env_settings
    from agents.training.imitation import labelled_rollouts

    settings = env_settings("dtwrl/SyntheticWarp-v0", window=5)
    batches = [[settings.pairs(rng) for _ in range(4)] for _ in range(40)]

    stream = iter(batches)

    def next_pairs():
        return next(stream)

    def always_right(observation):  # a bad driver: right whenever it is legal, else down, else diagonal
        mask = np.asarray(observation["action_mask"], dtype=bool)
        return np.where(mask[:, 2], 2, np.where(mask[:, 1], 1, 0))

    data = labelled_rollouts(next_pairs, np.random.default_rng(0), settings.core_kwargs, 400, 0.0, act=always_right)
    expert = labelled_rollouts(lambda: batches[0], np.random.default_rng(0), settings.core_kwargs, 400, 0.0)
    mask = data["action_mask"].astype(bool)
    assert data["expert_action"].shape == (400,) and mask[np.arange(400), data["expert_action"]].all()
    # the driver leaves the optimal path, which the expert's own rollouts never do
    assert np.abs(data["position"][:, 2]).max() > np.abs(expert["position"][:, 2]).max()
    assert (data["expert_action"] != 2).any()


def test_imitate_runs_bc_then_dagger_rounds_from_one_config():
    """ImitationConfig is AlignerConfig's BC fields plus the rounds; bad values name their field."""
    import envs  # noqa: F401
    from agents.fields import FieldError
    from agents.training.environment import env_settings
    from agents.training.pretraining import ImitationConfig, imitate

    settings = env_settings("dtwrl/SyntheticWarp-v0", window=5)

    class Corpus:
        def batch(self, rng, weights=None):
            return "synthetic", [settings.pairs(rng) for _ in range(8)]

    config = ImitationConfig(
        hidden=(8,), bc_env_steps=200, bc_epochs=1, bc_batch_size=64, dagger_rounds=1, dagger_states=100
    )
    _, history = imitate(Corpus(), settings.core_kwargs, config, log=lambda line: None)
    assert [row["stage"] for row in history] == ["bc", "dagger1"]
    assert [row["states"] for row in history] == [200, 300]
    with pytest.raises(FieldError, match="dagger_states must be >= 1") as info:
        ImitationConfig(dagger_states=0)
    assert info.value.field == "dagger_states"
