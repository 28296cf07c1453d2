"""PolicyAligner's NumPy actor against the TF-Agents policy it replaces in rollouts.

The aligner runs the actor of ``agents.policy.networks.build_networks`` in NumPy
(logits) and numba (greedy actions) on ``WarpingBatch`` observations. These
tests prove, on real observations from rollouts, that the NumPy logits equal the
TF actor's logits to float32 tolerance, that the greedy actions equal the
TF-Agents greedy policy's (live and saved with ``PolicySaver``), and that the
paths equal those of the previous implementation (one TF policy call per step).
"""

import json

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.policies import actor_policy, greedy_policy, policy_saver
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts

from agents.policy.actor import NumpyActor
from agents.policy.aligner import PolicyAligner
from agents.policy.networks import build_networks
from agents.policy.rollouts import make_core, rollout_paths
from agents.policy.tf_policy import ACTOR_FILE, ENV_FILE, save_policy

WINDOW = 5
CORE_KWARGS = {"window": WINDOW, "metric": "sqeuclidean", "band": None, "reward_scale": "pair", "lookahead": []}


def _specs(window=WINDOW):
    obs_spec = {
        "window": tf.TensorSpec((window, window), tf.float32),
        "position": tf.TensorSpec((6,), tf.float32),
        "action_mask": tf.TensorSpec((3,), tf.int8),
    }
    return obs_spec, tensor_spec.BoundedTensorSpec((), tf.int64, 0, 2)


def _randomise(network, seed):
    """Spread the weights (the logits layer starts near zero) so the greedy moves vary."""
    rng = np.random.default_rng(seed)
    for variable in network.variables:
        scale = 1.0 / np.sqrt(variable.shape[0]) if len(variable.shape) == 2 else 0.3
        variable.assign(rng.normal(0.0, scale, variable.shape).astype(np.float32))


def _live_policy(seed=0, hidden=(32, 16), cost_floor=1e-3):
    obs_spec, act_spec = _specs()
    actor_net, _ = build_networks(obs_spec, act_spec, hidden=hidden, cost_floor=cost_floor)
    _randomise(actor_net, seed)
    policy = actor_policy.ActorPolicy(ts.time_step_spec(obs_spec), act_spec, actor_network=actor_net, training=False)
    return greedy_policy.GreedyPolicy(policy), actor_net


def _pairs(seed, count=12):
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(count):
        n, m = rng.integers(2, 30, size=2)
        t = np.linspace(0, 3, max(n, m))
        base = np.sin(t * rng.uniform(1, 3)) + 0.2 * rng.standard_normal(len(t))
        pairs.append(
            (base[:n] + 0.1 * rng.standard_normal(n), np.interp(np.linspace(0, 1, m), np.linspace(0, 1, len(t)), base))
        )
    return pairs


def _real_observations(act, pairs):
    """Every observation of greedy rollouts of ``act`` on ``pairs`` (concatenated over steps)."""
    core = make_core(CORE_KWARGS)
    core.reset(pairs)
    seen = []
    while not core.done.all():
        obs = core.observation()
        seen.append(obs)
        core.step(np.asarray(act(obs)))
    seen.append(core.observation())  # finished rows too (all-masked)
    return {key: np.concatenate([o[key] for o in seen]) for key in seen[0]}


@pytest.fixture(scope="module")
def live():
    policy, actor_net = _live_policy()
    return PolicyAligner(policy, core_kwargs=CORE_KWARGS, batch_size=5), policy, actor_net


def test_numpy_logits_match_tf_actor_on_real_observations(live):
    aligner, _, actor_net = live
    assert aligner.backend == "numpy"
    obs = _real_observations(aligner.tf_act, _pairs(1))
    assert len(obs["action_mask"]) > 200
    distribution, _ = actor_net(obs, step_type=None, training=False)
    expected = distribution.logits.numpy()
    got = aligner.numpy_actor().logits(obs)
    assert got.dtype == np.float32 and got.shape == expected.shape
    legal = obs["action_mask"].astype(bool)
    np.testing.assert_array_equal(got[~legal], expected[~legal])  # both the lowest float32
    np.testing.assert_allclose(got[legal], expected[legal], rtol=1e-5, atol=1e-5)


def test_numpy_greedy_actions_match_tf_agents_policy(live):
    aligner, _, _ = live
    obs = _real_observations(aligner.tf_act, _pairs(2))
    choices = np.count_nonzero(obs["action_mask"], axis=1)
    assert (choices > 1).sum() > 100 and (choices == 1).any() and (choices == 0).any()
    actions = aligner.act(obs)
    np.testing.assert_array_equal(actions, aligner.tf_act(obs))
    np.testing.assert_array_equal(actions, np.argmax(aligner.numpy_actor().logits(obs), axis=1))
    assert len(set(actions[choices > 1].tolist())) > 1  # the test is not trivial


def test_paths_match_previous_implementation(live):
    aligner, _, _ = live
    pairs = _pairs(3, count=13)  # 3 chunks of batch_size 5, unequal lengths
    previous = []
    for start in range(0, len(pairs), aligner.batch_size):  # one TF-Agents call per step, as before
        previous.extend(rollout_paths(aligner.tf_act, pairs[start : start + aligner.batch_size], CORE_KWARGS))
    paths = aligner.align_pairs(pairs)
    assert len(paths) == len(previous)
    for got, want, (x, y) in zip(paths, previous, pairs):
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, want)
        assert got[0].tolist() == [0, 0] and got[-1].tolist() == [len(x) - 1, len(y) - 1]
    y_true = np.stack([np.sin(np.linspace(0, 3, 20) + k) for k in range(6)])[:, :, None]
    y_pred = y_true[:, ::-1] + 0.1
    batch = aligner(y_true, y_pred)
    want = rollout_paths(aligner.tf_act, list(zip(y_true, y_pred)), CORE_KWARGS)
    assert all(np.array_equal(a, b) for a, b in zip(batch, want))


def test_live_policy_weights_are_followed():
    policy, actor_net = _live_policy(seed=4)
    aligner = PolicyAligner(policy, core_kwargs=CORE_KWARGS)
    pairs = _pairs(5, count=6)
    before = aligner.align_pairs(pairs)
    _randomise(actor_net, 99)  # e.g. a PPO update between two calls
    after = aligner.align_pairs(pairs)
    want = rollout_paths(aligner.tf_act, pairs, CORE_KWARGS)
    assert all(np.array_equal(a, b) for a, b in zip(after, want))
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))


def _save(policy, folder, actor_settings=None):
    save_policy(policy, folder, CORE_KWARGS)
    if actor_settings is not None:
        (folder / ACTOR_FILE).write_text(json.dumps(actor_settings))
    return folder


def test_saved_policy_runs_in_numpy_and_matches(tmp_path):
    policy, _ = _live_policy(seed=6, hidden=(24, 12, 8), cost_floor=0.05)
    run = tmp_path / "run"
    (run / "policy").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"cost_floor": 0.05}))  # what train_aligner writes
    _save(policy, run / "policy")
    aligner = PolicyAligner(run, batch_size=4)
    assert aligner.backend == "numpy"
    assert [k.shape for k, _, _ in aligner.numpy_actor().dense] == [(6 + WINDOW * WINDOW, 24), (24, 12), (12, 8)]
    assert aligner.numpy_actor().cost_floor == np.float32(0.05)
    obs = _real_observations(aligner.tf_act, _pairs(7))
    np.testing.assert_array_equal(aligner.act(obs), aligner.tf_act(obs))
    pairs = _pairs(8, count=9)
    want = rollout_paths(aligner.tf_act, pairs[:4], CORE_KWARGS) + rollout_paths(
        aligner.tf_act, pairs[4:8], CORE_KWARGS
    )
    want += rollout_paths(aligner.tf_act, pairs[8:], CORE_KWARGS)
    assert all(np.array_equal(a, b) for a, b in zip(aligner.align_pairs(pairs), want))
    rebuilt = PolicyAligner.from_config(aligner.get_config())
    assert rebuilt.backend == "numpy" and rebuilt.policy_dir == aligner.policy_dir


def test_wrong_actor_settings_fall_back_to_tf_with_a_warning(tmp_path):
    policy, _ = _live_policy(seed=9)
    folder = _save(policy, tmp_path / "policy", actor_settings={"cost_floor": 3.0})  # the actor used 1e-3
    with pytest.warns(RuntimeWarning, match="cannot be run in NumPy"):
        aligner = PolicyAligner(folder)
    assert aligner.backend == "tf" and aligner.numpy_actor() is None
    pairs = _pairs(10, count=3)
    want = rollout_paths(aligner.tf_act, pairs, CORE_KWARGS)
    assert all(np.array_equal(a, b) for a, b in zip(aligner.align_pairs(pairs), want))


def test_numpy_actor_rejects_inconsistent_inputs():
    with pytest.raises(ValueError, match="3 outputs"):
        NumpyActor(("position", "window"), [], (np.zeros((31, 2)), np.zeros(2)), 1e-3, 1e4)
    actor = NumpyActor(
        ("position", "window"), [(np.ones((31, 4)), np.zeros(4), "relu")], (np.ones((4, 3)), np.zeros(3)), 1e-3, 1e4
    )
    obs = {
        "window": np.zeros((2, 3, 3), np.float32),
        "position": np.zeros((2, 6), np.float32),
        "action_mask": np.ones((2, 3), np.int8),
    }
    with pytest.raises(ValueError, match="window"):
        actor.act(obs)


def test_saving_a_policy_prints_none_of_tensorflows_expected_messages(tmp_path, caplog, monkeypatch):
    """PolicySaver's renamed inputs (absl) and the registered-TypeSpec UserWarning are dropped, only while saving."""
    import warnings

    from tensorflow.core.function.polymorphism import function_type

    policy, _ = _live_policy(seed=2)
    with caplog.at_level("WARNING", logger="absl"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        monkeypatch.setattr(function_type, "sanitization_warnings_given", 0)  # TF logs the first 5 per process
        _save(policy, tmp_path / "quiet")
        quiet = ([r.getMessage() for r in caplog.records], [str(w.message) for w in caught])
        caplog.clear()
        monkeypatch.setattr(function_type, "sanitization_warnings_given", 0)
        policy_saver.PolicySaver(policy, batch_size=None).save(str(tmp_path / "bare"))  # the same save, unfiltered
        bare = ([r.getMessage() for r in caplog.records], [str(w.message) for w in caught])
    assert quiet == ([], [])
    assert any("not a valid tf.function parameter name" in m for m in bare[0])
    assert any("Encoding a StructuredValue" in m for m in bare[1])
    assert json.loads((tmp_path / "quiet" / ENV_FILE).read_text()) == CORE_KWARGS
    assert PolicyAligner(tmp_path / "quiet").backend == "numpy"
