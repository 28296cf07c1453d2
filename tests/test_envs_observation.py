"""The observation defined once (envs.observation): spec consistency and the lookahead against exact references."""

import gymnasium
import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec

import envs  # noqa: F401  (registers the ids)
from agents.policy.actor import NumpyActor
from agents.policy.networks import build_networks
from dtwrl.exact_dtw import cost_to_go
from envs.core import WarpingBatch
from envs.observation import (
    DEFAULT_LOOKAHEAD,
    LOOKAHEAD_GAP,
    WINDOW_PAD,
    check_lookahead,
    feature_count,
    network_keys,
    observation_spec,
)
from envs.terminal import _njit_coarse_cost_to_go, njit_terminal_values


def _pairs(seed, count=4, low=5, high=30, d=1):
    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal((int(rng.integers(low, high)), d)), rng.standard_normal((int(rng.integers(low, high)), d)))
        for _ in range(count)
    ]


@pytest.mark.parametrize("lookahead", [(), DEFAULT_LOOKAHEAD, ((3, 4),)])
def test_env_batch_and_network_agree_on_the_observation(lookahead):
    spec = observation_spec(5, lookahead)
    batch = WarpingBatch(window=5, lookahead=lookahead)
    batch.reset(_pairs(0))
    obs = batch.observation()
    assert list(obs) == list(spec)
    space = gymnasium.make("dtwrl/GunPoint-v0", window=5, lookahead=lookahead).observation_space
    assert sorted(space.spaces) == sorted(spec)
    for key, (shape, dtype, low, high) in spec.items():
        assert obs[key].shape == (4, *shape) and obs[key].dtype == dtype
        assert space[key].shape == shape
        assert np.all(obs[key] >= low) and np.all(obs[key] <= high)
    tf_spec = {key: tf.TensorSpec(shape, tf.as_dtype(dtype)) for key, (shape, dtype, _, _) in spec.items()}
    actor_net, _ = build_networks(tf_spec, tensor_spec.BoundedTensorSpec((), tf.int64, 0, 2), hidden=(8,))
    actor = NumpyActor.from_network(actor_net)
    assert actor.keys == network_keys(5, lookahead)
    assert actor.input_size == feature_count(5, lookahead) == actor.features(obs).shape[1]


def test_check_lookahead_names_the_argument():
    assert check_lookahead([[2, 3]]) == ((2, 3),)
    with pytest.raises(ValueError, match="lookahead"):
        WarpingBatch(lookahead=((-1, 4),))
    with pytest.raises(TypeError, match="lookahead"):
        WarpingBatch(lookahead=((2.5, 4),))
    with pytest.raises(TypeError, match="lookahead"):
        WarpingBatch(lookahead="deep")


@pytest.mark.parametrize("band", [None, 3])
def test_lookahead_is_the_exact_cost_to_go_when_the_block_covers_the_grid(band):
    """With depth >= n + m no frontier remains: Q[a] is the exact cost-to-go of the cell move a enters."""
    pairs = _pairs(1, count=5, low=4, high=12, d=2)
    batch = WarpingBatch(band=band, lookahead=((2, 40),))
    batch.reset(pairs)
    rng = np.random.default_rng(0)
    for b in range(batch.num):
        C = batch.cost_matrix(b)
        G = cost_to_go(C, band)
        n, m = C.shape
        for _ in range(6):
            i, j = int(rng.integers(n)), int(rng.integers(m))
            if not np.isfinite(G[i, j]):
                continue
            q = batch.move_values([b], [[i, j]])[0]
            for a, (di, dj) in enumerate(((1, 1), (1, 0), (0, 1))):
                if i + di < n and j + dj < m and np.isfinite(G[i + di, j + dj]):
                    assert q[a] == pytest.approx(G[i + di, j + dj], rel=1e-12)
                else:
                    assert q[a] == np.inf


def test_terminal_values_at_scale_one_are_the_exact_cost_to_go():
    rng = np.random.default_rng(2)
    C = rng.random((9, 13))
    out = np.zeros((1, 1, 12, 16), dtype=np.float32)
    njit_terminal_values(C, np.ones(C.shape, np.int8), 9, 13, np.array([1]), True, out, 0)
    np.testing.assert_allclose(out[0, 0, :9, :13], cost_to_go(C), rtol=1e-6)


@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (5, 1), (2, 3), (3, 2), (4, 4), (7, 6)])
def test_coarse_cost_to_go_equals_the_row_by_row_dp_bitwise(shape):
    """Two rows at a time (overlapping chains) gives the plain DP's values, +inf cells (no band cell) included."""
    rng = np.random.default_rng(sum(shape))
    pooled = rng.random(shape) * 10.0 ** rng.integers(-3, 4, shape)
    pooled[rng.random(shape) < 0.2] = np.inf
    n, m = shape
    V = np.full((n + 1, m + 1), np.inf)
    V[n, m] = 0.0
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            V[i, j] = pooled[i, j] + min(min(V[i + 1, j + 1], V[i + 1, j]), V[i, j + 1])
    assert _njit_coarse_cost_to_go(pooled).tobytes() == np.ascontiguousarray(V[:n, :m]).tobytes()


def test_lookahead_features_are_scale_free_and_mark_the_best_move():
    pairs = _pairs(3, count=3, low=20, high=40)
    batch = WarpingBatch()
    batch.reset(pairs)
    scaled = WarpingBatch()
    scaled.reset([(1e3 * x, 1e3 * y) for x, y in pairs])
    for _ in range(15):
        look = batch.observation()["lookahead"]
        np.testing.assert_allclose(scaled.observation()["lookahead"], look, rtol=1e-4, atol=1e-6)
        q = batch.move_values(np.arange(3), batch.positions)
        best = q == q.min(axis=1, keepdims=True)
        assert np.all(look[:, 0][best] == 0.0)
        others = look[:, 0][~best & np.isfinite(q)]
        assert np.all((others >= LOOKAHEAD_GAP) & (others < 1.0))
        assert np.all(look[:, 0][~np.isfinite(q)] == WINDOW_PAD)
        actions = np.argmin(q, axis=1)
        batch.step(actions)
        scaled.step(actions)


def test_observe_cells_matches_observation_at_the_current_cells():
    batch = WarpingBatch(window=4, band=5)
    batch.reset(_pairs(4, count=6, low=8, high=20))
    for _ in range(5):
        batch.step(np.random.default_rng(1).integers(0, 3, batch.num))
    obs, values = batch.observe_cells(np.arange(batch.num), batch.positions)
    expected = batch.observation()
    for key in expected:
        np.testing.assert_array_equal(obs[key], expected[key])
    np.testing.assert_array_equal(values, batch.move_values(np.arange(batch.num), batch.positions))
    with pytest.raises(ValueError, match="cells"):
        batch.observe_cells([0], [[100, 0]])


def test_rows_of_equal_depth_computed_together_equal_each_row_alone():
    """Two lookahead rows of equal depth share one interleaved DP pass; it must give bitwise the single-row values."""
    pairs = _pairs(5, count=6, low=10, high=60, d=2)
    shared = WarpingBatch(band=7, lookahead=((2, 6), (8, 6), (4, 3)))
    shared.reset(pairs)
    alone = [WarpingBatch(band=7, lookahead=(row,)) for row in ((2, 6), (8, 6), (4, 3))]
    for batch in alone:
        batch.reset(pairs)
    rng = np.random.default_rng(0)
    while not shared.done.all():
        look = shared.observation()["lookahead"]
        for r, batch in enumerate(alone):
            np.testing.assert_array_equal(look[:, r], batch.observation()["lookahead"][:, 0])
        actions = rng.integers(0, 3, shared.num)
        shared.step(actions)
        for batch in alone:
            batch.step(actions)
