"""The fast paths of the PPO loop do what the slow ones did, and the training-speed benchmark measures.

- ``SampledNumpyPolicy`` emits the logits of TF-Agents' collect policy and
  samples its masked categorical (never an illegal move);
- the critic warm-up on the shared compiled update (``GatedAdam``) equals a
  TF-Agents critic-only update (actor frozen, TF-Agents' own gradient
  clipping), and leaves the actor exactly unchanged;
- ``evaluate_policy`` with a ``NumpyActor``'s greedy moves (the trainer's
  evaluation) gives the same paths as with the TF-Agents greedy policy;
- ``measure_training_speed`` / ``experiments/benchmark_training.py``.
"""

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec

import envs  # noqa: F401  (registers the ids)
from agents import AlignerConfig
from agents.evaluation import make_eval_set
from agents.policy.actor import NumpyActor
from agents.policy.tf_policy import time_step_from_observation
from agents.training.collection import Collector, SampledNumpyPolicy
from agents.training.environment import env_settings, make_vector_py_env
from agents.training.policy_evaluation import evaluate_policy
from agents.training.ppo import build_ppo_agent, make_clip_agent, make_learner_step
from agents.training.training_speed import benchmark_config, measure_training_speed
from dtwrl.datasets import SyntheticPairs
from tests.script_checks import out_dir_file_refusal, refusals_test

CONFIG = AlignerConfig(hidden=(16, 16), num_epochs=2, bc_warmstart=False)


@pytest.fixture(scope="module")
def setup():
    tf.random.set_seed(0)
    settings = env_settings("dtwrl/SyntheticWarp-v0", pairs=SyntheticPairs(n=(8, 12), m=(8, 12)), window=5)
    py_env = make_vector_py_env(settings, num_envs=8, seed=0)
    parts = build_ppo_agent(py_env.time_step_spec(), py_env.action_spec(), CONFIG)
    return settings, py_env, parts


def _time_step_after(py_env, steps):
    time_step = py_env.reset()
    rng = np.random.default_rng(1)
    for _ in range(steps):  # random legal moves: some rows end up with one or two legal moves
        mask = time_step.observation["action_mask"].astype(bool)
        action = np.array([rng.choice(np.flatnonzero(row)) if row.any() else 0 for row in mask])
        time_step = py_env.step(action)
    return time_step


def test_numpy_collect_policy_has_tf_agents_logits_and_samples_its_distribution(setup):
    _, py_env, parts = setup
    time_step = _time_step_after(py_env, 9)
    mask = time_step.observation["action_mask"].astype(bool)
    assert (mask.sum(1) < 3).any() and (mask.sum(1) == 3).any()
    policy = SampledNumpyPolicy(parts.actor_net, seed=0)
    step = parts.agent.collect_policy.action(tf.nest.map_structure(tf.convert_to_tensor, time_step))
    reference = step.info["dist_params"]["logits"].numpy()
    draws = np.stack([policy(time_step)[0] for _ in range(4000)])
    action, logits = policy(time_step)
    assert logits.dtype == np.float32 and action.dtype == np.int64
    np.testing.assert_allclose(logits[mask], reference[mask], rtol=1e-5, atol=1e-5)
    assert (logits[~mask] == np.finfo(np.float32).min).all()
    assert mask[np.arange(len(mask))[None, :], draws].all()  # never an illegal move
    shifted = np.where(mask, reference, -np.inf) - reference.max(1, keepdims=True)
    expected = np.exp(shifted) / np.exp(shifted).sum(1, keepdims=True)
    frequency = np.stack([(draws == a).mean(0) for a in range(3)], axis=1)
    assert np.abs(frequency - expected).max() < 0.04  # 4000 draws: standard error <= 0.008


def test_numpy_collect_policy_follows_the_network_after_sync(setup):
    _, py_env, parts = setup
    time_step = py_env.reset()
    policy = SampledNumpyPolicy(parts.actor_net, seed=0)
    before = policy(time_step)[1]
    saved = [w.numpy() for w in parts.actor_net.trainable_variables]
    try:
        for w in parts.actor_net.trainable_variables:
            w.assign_add(tf.ones_like(w) * 0.1)
        assert np.array_equal(policy(time_step)[1], before)  # not synced yet
        policy.sync()
        assert not np.allclose(policy(time_step)[1], before)
    finally:
        for w, value in zip(parts.actor_net.trainable_variables, saved):
            w.assign(value)


def _reference_update(time_step_spec, action_spec, actor_net, value_net, experience, train_actor):
    """The update as the trainer ran it before GatedAdam: TF-Agents' own clipping; warm-up: actor untrainable."""
    optimizer = tf.keras.optimizers.Adam(learning_rate=CONFIG.learning_rate, epsilon=1e-5)
    optimizer.build(actor_net.trainable_variables + value_net.trainable_variables)
    agent = make_clip_agent(
        time_step_spec, action_spec, actor_net, value_net, optimizer, CONFIG, gradient_clipping=CONFIG.gradient_clipping
    )
    agent.initialize()
    actor_net.trainable = train_actor
    try:
        agent.train(experience)
    finally:
        actor_net.trainable = True


def _weights(parts):
    return [w.numpy() for w in parts.actor_net.trainable_variables + parts.value_net.trainable_variables]


@pytest.mark.parametrize("train_actor", [False, True])
def test_the_update_equals_tf_agents_own(setup, train_actor):
    """From the same weights and a fresh optimizer: the update equals TF-Agents' (warm-up: actor exactly frozen)."""
    settings, _, _ = setup
    tf.random.set_seed(5)
    py_env = make_vector_py_env(settings, num_envs=4, seed=2)
    specs = tensor_spec.from_spec((py_env.time_step_spec(), py_env.action_spec()))
    parts = build_ppo_agent(py_env.time_step_spec(), py_env.action_spec(), CONFIG)
    reference = build_ppo_agent(py_env.time_step_spec(), py_env.action_spec(), CONFIG)  # networks to copy into
    for source, target in zip(
        parts.actor_net.trainable_variables + parts.value_net.trainable_variables,
        reference.actor_net.trainable_variables + reference.value_net.trainable_variables,
    ):
        target.assign(source)
    experience, _ = Collector(py_env, SampledNumpyPolicy(parts.actor_net, seed=0)).run(8)
    before = _weights(parts)
    make_learner_step(parts, train_actor=train_actor)(experience)
    _reference_update(*specs, reference.actor_net, reference.value_net, experience, train_actor)
    num_actor = len(parts.actor_net.trainable_variables)
    for k, (b, a, e) in enumerate(zip(before, _weights(parts), _weights(reference))):
        if k < num_actor and not train_actor:
            np.testing.assert_array_equal(a, b)  # exactly frozen
        else:
            assert not np.array_equal(a, b)
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)


def test_warm_up_and_ppo_share_one_compiled_graph(setup):
    settings, _, _ = setup
    py_env = make_vector_py_env(settings, num_envs=4, seed=2)
    parts = build_ppo_agent(py_env.time_step_spec(), py_env.action_spec(), CONFIG)
    collector = Collector(py_env, SampledNumpyPolicy(parts.actor_net, seed=0))
    actor = parts.actor_net.trainable_variables
    frozen = [w.numpy() for w in actor]
    make_learner_step(parts, train_actor=False)(collector.run(8)[0])
    assert all(np.array_equal(w.numpy(), f) for w, f in zip(actor, frozen))
    loss_info, finite = make_learner_step(parts)(collector.run(8)[0])
    assert bool(finite.numpy()) and np.isfinite(loss_info.loss.numpy())
    assert not any(np.array_equal(w.numpy(), f) for w, f in zip(actor, frozen))
    assert parts.compiled_update.experimental_get_tracing_count() == 1


def test_numpy_evaluation_gives_the_tf_agents_greedy_paths(setup):
    settings, _, parts = setup
    eval_set = make_eval_set(settings, 6, seed=11)
    greedy = tf.function(lambda obs: parts.agent.policy.action(time_step_from_observation(obs)).action)
    slow, slow_paths = evaluate_policy(lambda obs: greedy(obs).numpy(), eval_set, settings.core_kwargs)
    fast, fast_paths = evaluate_policy(NumpyActor.from_network(parts.actor_net).act, eval_set, settings.core_kwargs)
    assert slow == fast
    assert all(np.array_equal(a, b) for a, b in zip(slow_paths, fast_paths))


def test_measure_training_speed_times_every_phase(tmp_path):
    config = benchmark_config(
        iterations=3,
        out_dir=str(tmp_path),
        env_id="dtwrl/SyntheticWarp-v0",
        num_envs=4,
        collect_steps=8,
        hidden=(8,),
        num_epochs=1,
        bc_env_steps=64,
        bc_batch_size=32,
        critic_warmup_iterations=1,
        eval_pairs=2,
        eval_interval=2,
    )
    lines = []
    result = measure_training_speed(config, repeats=2, log=lines.append)
    assert result["repeats"] == 2 and len(result["runs"]) == 2 and len(lines) == 2
    assert result["env_steps"] == 3 * 32
    assert set(result["phase_seconds"]) == {"collect", "learn", "dagger", "evaluate", "checkpoint"}
    for run in result["runs"]:
        assert run["end_to_end_steps_per_second"] == pytest.approx(96 / run["ppo_wall_s"])
        assert run["steps_per_cpu_second"] == pytest.approx(96 / run["ppo_cpu_s"])
        assert 0 < sum(run[p] for p in result["phase_seconds"]) <= run["ppo_wall_s"]
        assert run["dagger"] > 0  # the DAgger anchor runs after the warm-up iteration
    assert sorted(p.name for p in tmp_path.iterdir()) == ["speed__r0", "speed__r1"]


def test_benchmark_config_keeps_the_default_evaluation_share():
    assert benchmark_config(out_dir="unused").total_env_steps == 245 * 4096  # the default run's budget
    config = benchmark_config(iterations=10, out_dir="unused")
    assert config.num_iterations == 10 and config.total_env_steps == 10 * config.steps_per_iteration
    assert config.evaluation_interval == AlignerConfig().evaluation_interval
    for bad, error in ((0, ValueError), (2.5, TypeError), (True, TypeError)):
        with pytest.raises(error, match="iterations"):
            benchmark_config(iterations=bad, out_dir="unused")
    with pytest.raises(ValueError, match="repeats"):
        measure_training_speed(config, repeats=0)


test_benchmark_script_refuses_bad_flags_in_one_line = refusals_test(
    "experiments.benchmark_training",
    [
        ("--iterations 0", "--iterations: must be >= 1; got 0"),
        ("--repeats 0", "--repeats: must be >= 1; got 0"),
        ("--num-envs 0", "--num-envs: must be >= 1; got 0"),
        ("--seed -1", "--seed: must be in [0, 2**32); got -1"),
        ("--iterations x", "--iterations: invalid int value: 'x'"),
    ],
)


def test_benchmark_script_refuses_an_out_dir_that_is_a_file(tmp_path, capsys):
    from experiments import benchmark_training

    out_dir_file_refusal(benchmark_training.main, [], tmp_path, capsys)
