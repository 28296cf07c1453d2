"""envs.tf_agents_adapter: specs, validate_py_environment, FIRST/MID/LAST mapping, seeds."""

import gymnasium
import numpy as np
import pytest

pytest.importorskip("tf_agents")
from tf_agents.environments import utils  # noqa: E402
from tf_agents.specs import array_spec  # noqa: E402
from tf_agents.trajectories import time_step as ts  # noqa: E402

import envs  # noqa: E402
from dtwrl.datasets import SyntheticPairs  # noqa: E402
from envs.tf_agents_adapter import GymnasiumPyEnvironment, VectorPyEnvironment  # noqa: E402

SHORT = SyntheticPairs(n=(6, 12), m=(5, 10))


def _splitter(observation):
    return {key: value for key, value in observation.items() if key != "action_mask"}, observation["action_mask"]


def test_specs_keep_the_mask_inside_the_observation():
    py_env = GymnasiumPyEnvironment(gymnasium.make("dtwrl/GunPoint-v0", window=4))
    spec = py_env.observation_spec()
    assert set(spec) == {"window", "position", "lookahead", "action_mask"}
    assert spec["action_mask"] == array_spec.BoundedArraySpec((3,), np.int8, 0, 1, name="action_mask")
    assert spec["window"].shape == (4, 4) and spec["window"].dtype == np.float32
    assert spec["window"].minimum == 0.0 and spec["window"].maximum == 1.0
    assert spec["position"].shape == (6,)
    assert spec["lookahead"].shape == (2, 3) and spec["lookahead"].maximum == 1.0
    assert py_env.action_spec() == array_spec.BoundedArraySpec((), np.int64, 0, 2, name="action")
    assert py_env.batch_size is None and not py_env.batched
    assert VectorPyEnvironment(gymnasium.make_vec("dtwrl/GunPoint-v0", num_envs=3, window=4)).observation_spec() == spec


@pytest.mark.parametrize("splitter", [None, _splitter])
def test_validate_py_environment_single_and_batched(splitter):
    single = GymnasiumPyEnvironment(envs.WarpingPathEnv(pairs=SHORT, window=3), seed=0)
    utils.validate_py_environment(single, episodes=3, observation_and_action_constraint_splitter=splitter)
    batched = VectorPyEnvironment(envs.WarpingPathVectorEnv(4, pairs=SHORT, window=3), seed=0)
    assert batched.batched and batched.batch_size == 4
    utils.validate_py_environment(batched, episodes=8, observation_and_action_constraint_splitter=splitter)


def test_batched_step_types_rewards_and_discounts():
    py_env = VectorPyEnvironment(envs.WarpingPathVectorEnv(5, pairs=SHORT, window=3), seed=1)
    step = py_env.reset()
    assert step.step_type.tolist() == [ts.StepType.FIRST] * 5
    assert step.step_type.dtype == np.int32 and step.reward.dtype == np.float32
    returns, episodes, previous = np.zeros(5), 0, step
    rng = np.random.default_rng(0)
    for _ in range(60):
        step = py_env.step(rng.integers(0, 3, size=5))
        info = py_env.get_info()
        for k in range(5):
            kind = step.step_type[k]
            if previous.step_type[k] == ts.StepType.LAST:
                assert kind == ts.StepType.FIRST and step.reward[k] == 0.0 and step.discount[k] == 1.0
                returns[k] = 0.0
                continue
            assert kind in (ts.StepType.MID, ts.StepType.LAST)
            returns[k] += step.reward[k]
            if kind == ts.StepType.LAST:
                episodes += 1
                assert step.discount[k] == 0.0 and info["_path_cost"][k]
                assert returns[k] == pytest.approx(-info["path_cost"][k], rel=1e-5)
            else:
                assert step.discount[k] == 1.0
        previous = step
    assert episodes >= 10


def test_single_env_restarts_after_last():
    py_env = GymnasiumPyEnvironment(envs.WarpingPathEnv(pairs=SHORT, window=3), seed=2)
    step = py_env.reset()
    kinds = [int(step.step_type)]
    while not step.is_last():
        step = py_env.step(np.int64(0))
        kinds.append(int(step.step_type))
    assert step.discount == 0.0 and "cost_ratio" in py_env.get_info()
    assert kinds[0] == ts.StepType.FIRST and kinds[-1] == ts.StepType.LAST
    assert set(kinds[1:-1]) <= {int(ts.StepType.MID)}
    assert py_env.step(np.int64(0)).step_type == ts.StepType.FIRST


def test_seeds_pass_through():
    def first_windows(seed, batched):
        if batched:
            py_env = VectorPyEnvironment(gymnasium.make_vec("dtwrl/GunPoint-v0", num_envs=2, window=3), seed=seed)
        else:
            py_env = GymnasiumPyEnvironment(gymnasium.make("dtwrl/GunPoint-v0", window=3), seed=seed)
        return py_env.reset().observation["window"], py_env

    for batched in (False, True):
        a, py_env = first_windows(4, batched)
        b, _ = first_windows(4, batched)
        c, _ = first_windows(5, batched)
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
        py_env.seed(4)
        np.testing.assert_array_equal(py_env.reset().observation["window"], a)


def test_adapter_refuses_same_step_autoreset_and_renders():
    sync = gymnasium.make_vec(
        "dtwrl/GunPoint-v0",
        num_envs=2,
        vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": gymnasium.vector.AutoresetMode.SAME_STEP},
    )
    with pytest.raises(ValueError, match="NEXT_STEP"):
        VectorPyEnvironment(sync)
    py_env = VectorPyEnvironment(envs.WarpingPathVectorEnv(2, pairs=SHORT, window=2, render_mode="rgb_array"))
    py_env.reset()
    frames = py_env.render()
    assert frames.shape[0] == 2 and frames.dtype == np.uint8


@pytest.mark.parametrize("vector", [False, True])
def test_set_pairs_reaches_the_wrapped_env_and_takes_effect_at_the_next_reset(vector):
    x, y = np.arange(4.0), np.arange(3.0)
    if vector:
        py_env = VectorPyEnvironment(gymnasium.make_vec("dtwrl/SyntheticWarp-v0", num_envs=2, window=3), seed=0)
    else:
        py_env = GymnasiumPyEnvironment(gymnasium.make("dtwrl/SyntheticWarp-v0", window=3), seed=0)
    py_env.reset()
    py_env.set_pairs([(x, y)])
    assert py_env.gym_env.unwrapped.pairs(np.random.default_rng(0))[0].shape == (4, 1)
    py_env.reset()
    lengths = py_env.gym_env.unwrapped.batch.lengths
    assert np.array_equal(np.asarray(lengths).reshape(-1, 2), np.tile([4, 3], (2 if vector else 1, 1)))
    with pytest.raises((TypeError, ValueError)):
        py_env.set_pairs(42)
