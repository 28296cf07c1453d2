"""envs.WarpingPathEnv through gymnasium.make: checker, seeding, exact returns, infos, errors, rendering."""

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs
from dtwrl.datasets import SyntheticPairs
from dtwrl.exact_dtw import dtw, dtw_path
from envs.core import MOVES
from envs.rendering import draw_alignment


def _actions_along(path):
    steps = np.diff(path, axis=0)
    return [int(np.flatnonzero((step == MOVES).all(axis=1))[0]) for step in steps]


def _builtin_ids():
    return sorted(env_id for env_id in gymnasium.registry if env_id.startswith("dtwrl/"))


def test_builtin_ids_are_registered_with_both_entry_points():
    assert {"dtwrl/SyntheticWarp-v0", "dtwrl/GunPoint-v0"} <= set(_builtin_ids())
    for env_id in _builtin_ids():
        spec = gymnasium.spec(env_id)
        assert spec.entry_point == "envs.warping_path_env:WarpingPathEnv"
        assert spec.vector_entry_point == "envs.vector:WarpingPathVectorEnv"
        assert spec.max_episode_steps is None


@pytest.mark.parametrize("env_id", ["dtwrl/SyntheticWarp-v0", "dtwrl/GunPoint-v0"])
@pytest.mark.parametrize("kwargs", [{}, {"window": 4, "band": 12, "render_mode": "rgb_array", "reward_scale": "pair"}])
def test_check_env_passes_for_every_registered_id(env_id, kwargs):
    env = gymnasium.make(env_id, **kwargs)
    assert isinstance(env.unwrapped, envs.WarpingPathEnv)
    check_env(env.unwrapped, skip_render_check=False)


def _rollout(env, seed, rng_seed):
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(rng_seed)
    trace = [obs]
    terminated = False
    while not terminated:
        action = int(np.argmax(rng.random(3) * obs["action_mask"]))
        obs, reward, terminated, truncated, info = env.step(action)
        assert not truncated
        trace += [obs, reward]
    return trace, info


def test_same_seed_gives_the_same_rollout():
    env = gymnasium.make("dtwrl/SyntheticWarp-v0", window=3)
    first, info_a = _rollout(env, seed=11, rng_seed=0)
    second, info_b = _rollout(env, seed=11, rng_seed=0)
    assert len(first) == len(second)
    for a, b in zip(first, second):
        if isinstance(a, dict):
            for key in a:
                np.testing.assert_array_equal(a[key], b[key])
        else:
            assert a == b
    np.testing.assert_array_equal(info_a["path"], info_b["path"])
    third, _ = _rollout(env, seed=12, rng_seed=0)
    assert not np.array_equal(first[0]["window"], third[0]["window"])


@pytest.mark.parametrize(
    "pairs, band",
    [
        (SyntheticPairs(n=(40, 60)), None),
        ("GunPoint", None),
        (SyntheticPairs(n=(30, 40), m=(55, 70)), None),  # unequal lengths
        (SyntheticPairs(n=(30, 40), m=(20, 25), d=3), None),  # multivariate
        (SyntheticPairs(n=(40, 50), m=(45, 55), d=2), 6),  # band
        ("GunPoint", 5),
    ],
)
def test_following_dtw_path_returns_minus_dtw(pairs, band):
    env = envs.WarpingPathEnv(pairs=pairs, window=5, band=band)
    for seed in range(3):
        env.reset(seed=seed)
        x, y = env.unwrapped.batch.series(0)
        best, path = dtw_path(x, y, band=band)
        total = 0.0
        for action in _actions_along(path):
            _, reward, terminated, _, info = env.step(action)
            total += reward
            assert not info["action_replaced"]
        assert terminated
        assert abs(total - (-best)) <= 1e-9
        assert info["return_unscaled"] == -info["path_cost"]
        assert info["path_cost"] == best == info["dtw_cost"]
        assert info["cost_ratio"] == 1.0
        np.testing.assert_array_equal(info["path"], path)


def test_final_info_and_optional_fastdtw():
    pair = (np.sin(np.linspace(0, 6, 40)), np.sin(np.linspace(0.5, 6, 50)))
    plain = envs.WarpingPathEnv(pairs=[pair], window=3)
    slow = envs.WarpingPathEnv(pairs=[pair], window=3, compute_fastdtw=True)
    infos = []
    for env in (plain, slow):
        env.reset(seed=0)
        terminated = False
        while not terminated:
            _, _, terminated, _, info = env.step(0)  # diagonal, replaced at the borders
        infos.append(info)
    assert "fastdtw_cost" not in infos[0] and "fastdtw_ratio" not in infos[0]
    assert {"path", "path_cost", "dtw_cost", "cost_ratio"} <= set(infos[0])
    assert infos[0]["dtw_cost"] == pytest.approx(dtw(*pair), abs=0)
    assert infos[0]["cost_ratio"] == infos[0]["path_cost"] / infos[0]["dtw_cost"] > 1.0
    assert infos[1]["fastdtw_ratio"] == pytest.approx(infos[1]["fastdtw_cost"] / infos[1]["dtw_cost"])
    assert infos[1]["fastdtw_ratio"] >= 1.0


def test_masked_action_is_replaced_and_reported():
    env = envs.WarpingPathEnv(pairs=[(np.zeros(3), np.zeros(2))], window=2)
    obs, info = env.reset(seed=0)
    np.testing.assert_array_equal(obs["action_mask"], info["action_mask"])
    env.step(2)  # (0, 1): the last column
    obs, _, _, _, info = env.step(2)
    assert info["action_replaced"] and info["action_mask"].dtype == np.int8
    assert env.unwrapped.batch.positions.tolist() == [[1, 1]]
    with pytest.raises(ValueError, match="action must be 0, 1 or 2"):
        env.step(3)


def test_reward_scale_keeps_unscaled_info_exact():
    env = envs.WarpingPathEnv(pairs="GunPoint", window=3, reward_scale="pair")
    env.reset(seed=3)
    scale = env.batch.scales[0]
    total, terminated = 0.0, False
    while not terminated:
        _, reward, terminated, _, info = env.step(int(env.batch.expert_actions()[0]))
        total += reward
    assert info["path_cost"] == info["dtw_cost"]
    assert total == pytest.approx(-info["path_cost"] / scale, rel=1e-12)


def test_options_pair_picks_the_pair():
    env = gymnasium.make("dtwrl/GunPoint-v0", window=3)
    obs, _ = env.reset(seed=0, options={"pair": ([0.0, 1.0], [0.0, 1.0, 1.0])})
    assert env.unwrapped.batch.lengths.tolist() == [[2, 3]]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"window": 0}, ValueError, "window must be an int >= 1"),
        ({"window": -3}, ValueError, "window must be an int >= 1"),
        ({"metric": "manhattan"}, ValueError, "metric must be one of"),
        ({"pairs": np.zeros((4, 3, 2, 1))}, ValueError, "must have shape"),
        ({"pairs": np.array([[0.0, 1.0, np.nan], [1.0, 2.0, 3.0]])}, ValueError, "must be finite"),
        ({"pairs": [(np.zeros((3, 1)), np.zeros((3, 2)))]}, ValueError, "same number of features"),
        ({"compute_fastdtw": "yes"}, TypeError, "compute_fastdtw must be True or False"),
        ({"fastdtw_radius": -1}, ValueError, "fastdtw_radius must be an int >= 1"),
        ({"fastdtw_radius": 0}, ValueError, "fastdtw_radius must be an int >= 1"),
    ],
)
def test_bad_input_gets_a_clear_error(kwargs, error, match):
    with pytest.raises(error, match=match):
        gymnasium.make("dtwrl/SyntheticWarp-v0", **kwargs)
    with pytest.raises(error, match=match):
        envs.WarpingPathVectorEnv(2, **kwargs)


def test_unknown_render_mode_is_refused():
    with pytest.raises(ValueError, match="render_mode must be None or 'rgb_array'"):
        envs.WarpingPathEnv(render_mode="human")


def test_bad_pairs_from_a_callable_fail_at_reset():
    def nan_pair(rng):
        return np.array([0.0, np.nan, 1.0]), rng.standard_normal(4)

    env = envs.WarpingPathEnv(pairs=nan_pair)
    with pytest.raises(ValueError, match="must be finite"):
        env.reset(seed=0)


def test_render_draws_the_path_so_far():
    env = gymnasium.make("dtwrl/GunPoint-v0", window=3, render_mode="rgb_array")
    env.reset(seed=0)
    start = env.render()
    for _ in range(60):
        env.step(0)
    later = env.render()
    assert start.dtype == np.uint8 and start.ndim == 3 and start.shape[2] == 3
    assert start.shape == later.shape and not np.array_equal(start, later)


@pytest.mark.parametrize("vector", [False, True])
def test_render_draws_a_long_pair_on_every_kth_frame_without_its_cost_matrix(monkeypatch, vector):
    """A long pair on the corridor observation: render() built the n x m cost matrix (28.8 GB at 60,000 steps, more
    than memory); it now draws every k-th frame of both series, with the path scaled by 1/k, as the training
    figures do."""
    from envs import rendering
    from envs.observation import corridor_lookahead

    drawn = {}
    monkeypatch.setattr(rendering, "draw_alignment", lambda cost, paths, title=None: drawn.update(locals()) or 0)
    x, y = SyntheticPairs(n=1_300, m=1_100)(np.random.default_rng(0))  # 1,430,000 cells: stride 3
    kwargs = {"pairs": [(x, y)], "lookahead": corridor_lookahead(4), "render_mode": "rgb_array"}
    env = envs.vector.WarpingPathVectorEnv(2, **kwargs) if vector else envs.WarpingPathEnv(**kwargs)
    env.reset(seed=0)
    monkeypatch.setattr(env.batch, "cost_matrix", lambda index: pytest.fail("the full cost matrix was built"))
    for _ in range(30):
        env.step(np.zeros(2, dtype=np.int64) if vector else 0)
    env.render()
    assert drawn["cost"].shape == (434, 367) and drawn["title"] == "1 frame in 3 of 1300 x 1100"
    np.testing.assert_array_equal(drawn["paths"]["agent"][-1], [10.0, 10.0])  # cell (30, 30) / 3


@pytest.mark.parametrize("vector", [False, True])
def test_exact_info_false_leaves_the_quadratic_final_keys_out(monkeypatch, vector):
    """The exact DTW final info costs O(n m) at every episode's end (25 s at n = 100,000 on the corridor
    observation, whose steps are linear): ``exact_info=False`` leaves ``dtw_cost`` and the ratios out, and never
    computes the exact value; the other final keys stay."""
    from envs.observation import corridor_lookahead

    x, y = SyntheticPairs(n=60, m=50)(np.random.default_rng(0))
    kwargs = {"pairs": [(x, y)], "lookahead": corridor_lookahead(4), "compute_fastdtw": True, "exact_info": False}
    env = envs.vector.WarpingPathVectorEnv(2, **kwargs) if vector else envs.WarpingPathEnv(**kwargs)
    env.reset(seed=0)
    monkeypatch.setattr(env.batch, "dtw_costs", lambda indices=None: pytest.fail("exact DTW computed"))
    for _ in range(60):
        _, _, terminated, _, info = env.step(np.zeros(2, dtype=np.int64) if vector else 0)
        if np.all(terminated):
            break
    assert np.all(terminated)
    final = {key for key in info if not key.startswith("_")} - {"action_mask", "action_replaced", "return_unscaled"}
    assert final == {"path", "path_cost", "fastdtw_cost"}
    with pytest.raises(TypeError, match="exact_info must be True or False"):
        envs.WarpingPathEnv(exact_info="no")


def test_draw_alignment_several_paths_and_errors():
    cost = np.arange(20.0).reshape(4, 5)
    image = draw_alignment(cost, {"policy": [[0, 0], [1, 1], [3, 4]], "exact": [[0, 0], [3, 4]]}, title="t", dpi=50)
    assert image.shape == (200, 200, 3) and image.dtype == np.uint8
    assert np.array_equal(draw_alignment(cost, None, dpi=50), draw_alignment(cost, {}, dpi=50))
    with pytest.raises(ValueError, match="cost must be a non-empty 2-D array"):
        draw_alignment(np.zeros(3))
    with pytest.raises(ValueError, match=r"paths\['p'\] must have shape \(L, 2\)"):
        draw_alignment(cost, {"p": [0, 1, 2]})
