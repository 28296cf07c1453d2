"""envs.WarpingPathVectorEnv: make_vec, NEXT_STEP autoreset, equality with N single envs."""

import gymnasium
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import envs
from dtwrl.datasets import SyntheticPairs

SHORT = SyntheticPairs(n=(6, 14), m=(5, 12), d=2)  # short episodes: many autoresets


def _random_actions(seed, steps, num):
    return np.random.default_rng(seed).integers(0, 3, size=(steps, num))  # illegal ones get replaced


def test_make_vec_returns_the_native_vector_env():
    venv = gymnasium.make_vec("dtwrl/GunPoint-v0", num_envs=3, window=4)
    assert isinstance(venv, envs.WarpingPathVectorEnv)
    assert venv.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    obs, info = venv.reset(seed=0)
    assert obs in venv.observation_space
    assert obs["window"].shape == (3, 4, 4) and obs["action_mask"].dtype == np.int8
    np.testing.assert_array_equal(info["action_mask"], obs["action_mask"])
    explicit = gymnasium.make_vec("dtwrl/GunPoint-v0", num_envs=2, vectorization_mode="vector_entry_point")
    assert isinstance(explicit, envs.WarpingPathVectorEnv)


@pytest.mark.parametrize("band", [None, 3])
def test_same_seeds_and_actions_give_the_same_trajectories_as_single_envs(band):
    num, steps, seed = 5, 80, 7
    venv = envs.WarpingPathVectorEnv(num, pairs=SHORT, window=3, band=band)
    singles = [envs.WarpingPathEnv(pairs=SHORT, window=3, band=band) for _ in range(num)]
    obs, _ = venv.reset(seed=seed)
    single_obs = [env.reset(seed=seed + k)[0] for k, env in enumerate(singles)]
    needs_reset = [False] * num
    finished = 0
    for actions in _random_actions(1, steps, num):
        for key in obs:
            np.testing.assert_array_equal(obs[key], np.stack([o[key] for o in single_obs]))
        obs, rewards, terminated, truncated, infos = venv.step(actions)
        assert not truncated.any()
        for k, env in enumerate(singles):
            if needs_reset[k]:
                single_obs[k], _ = env.reset()
                assert rewards[k] == 0.0 and not terminated[k]
                needs_reset[k] = False
                continue
            single_obs[k], reward, term, _, info = env.step(int(actions[k]))
            assert rewards[k] == reward and terminated[k] == term
            assert infos["action_replaced"][k] == info["action_replaced"]
            if term:
                finished += 1
                needs_reset[k] = True
                assert infos["_path_cost"][k] and infos["_cost_ratio"][k]
                for key in ("path_cost", "dtw_cost", "cost_ratio"):
                    assert infos[key][k] == info[key]
                np.testing.assert_array_equal(infos["path"][k], info["path"])
            else:
                assert "_path" not in infos or not infos["_path"][k]
    assert finished >= 2 * num  # the check crossed several autoresets


def test_vector_env_matches_gymnasium_sync_vector_env():
    num = 4
    native = gymnasium.make_vec("dtwrl/GunPoint-v0", num_envs=num, window=3)
    sync = gymnasium.make_vec("dtwrl/GunPoint-v0", num_envs=num, window=3, vectorization_mode="sync")
    a, _ = native.reset(seed=3)
    b, _ = sync.reset(seed=3)
    for actions in _random_actions(2, 400, num):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
        a, ra, ta, _, ia = native.step(actions)
        b, rb, tb, _, ib = sync.step(actions)
        np.testing.assert_array_equal(ra, rb)
        np.testing.assert_array_equal(ta, tb)
        if ta.any():
            np.testing.assert_array_equal(ia["dtw_cost"], ib["dtw_cost"])


def test_episode_returns_equal_minus_path_cost():
    venv = envs.WarpingPathVectorEnv(8, pairs=SHORT, window=3, reward_scale=1.0)
    venv.reset(seed=0)
    returns = np.zeros(8)
    checked = 0
    for actions in _random_actions(3, 60, 8):
        _, rewards, terminated, _, infos = venv.step(actions)
        returns += rewards
        for k in np.flatnonzero(terminated):
            assert abs(returns[k] + infos["path_cost"][k]) <= 1e-9
            assert infos["return_unscaled"][k] == -infos["path_cost"][k]
            assert infos["cost_ratio"][k] >= 1.0
            returns[k] = 0.0
            checked += 1
    assert checked > 8


def test_expert_actions_reach_ratio_one():
    venv = envs.WarpingPathVectorEnv(6, pairs=SHORT, window=3)
    venv.reset(seed=5)
    ratios = []
    for _ in range(40):
        _, _, terminated, _, infos = venv.step(venv.expert_actions())
        if terminated.any():
            ratios += infos["cost_ratio"][terminated].tolist()
    assert len(ratios) >= 6 and ratios == [1.0] * len(ratios)


def test_reset_with_seed_list_mask_and_given_pairs():
    venv = envs.WarpingPathVectorEnv(3, pairs=SHORT, window=2)
    with pytest.raises(ValueError, match="reset_mask"):
        venv.reset(seed=0, options={"reset_mask": np.array([True, False, False])})
    obs, _ = venv.reset(seed=[10, 11, 12])
    single = envs.WarpingPathEnv(pairs=SHORT, window=2)
    np.testing.assert_array_equal(obs["window"][2], single.reset(seed=12)[0]["window"])
    venv.step(np.array([0, 0, 0]))
    pair = (np.zeros(4), np.ones(5))
    obs, _ = venv.reset(options={"reset_mask": np.array([False, True, False]), "pairs": [pair]})
    assert venv.batch.positions.tolist() == [[1, 1], [0, 0], [1, 1]]
    assert venv.batch.lengths[1].tolist() == [4, 5]
    with pytest.raises(ValueError, match="seed must be None, an int or a list of 3 seeds"):
        venv.reset(seed=[1, 2])
    with pytest.raises(ValueError, match="num_envs must be an int >= 1"):
        envs.WarpingPathVectorEnv(0)


def test_vector_render_gives_one_image_per_env():
    venv = envs.WarpingPathVectorEnv(2, pairs="GunPoint", window=2, render_mode="rgb_array")
    venv.reset(seed=0)
    frames = venv.render()
    assert len(frames) == 2 and all(f.dtype == np.uint8 and f.shape[2] == 3 for f in frames)
