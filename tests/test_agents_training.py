"""PPO training end to end on shrunk configs: run folder, TensorBoard tags, policy, resume, NaN.

Every run uses short synthetic pairs (8 to 12 samples) so that episodes finish
within a few collect steps, tiny networks and a handful of iterations.
"""

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import gymnasium
import numpy as np
import pytest
import tensorflow as tf

import envs
from agents import AlignerConfig, AlignerTrainer, PolicyAligner, TrainingDivergedError, train_aligner
from dtwrl.datasets import SyntheticPairs
from tests.script_checks import refusals_test

REPO_ROOT = Path(__file__).resolve().parents[1]
SHORT_ENV = "test_agents/ShortWarp-v0"
SHORT_PAIRS = "SyntheticPairs(n=(8, 12), m=(8, 12))"


def _register_short_env():
    if SHORT_ENV not in gymnasium.registry:
        envs.register_env(SHORT_ENV, pairs=SyntheticPairs(n=(8, 12), m=(8, 12)), window=5)


TINY = dict(
    env_id=SHORT_ENV,
    seed=3,
    num_envs=4,
    collect_steps=16,
    total_env_steps=3 * 64,
    hidden=(16,),
    num_epochs=2,
    bc_env_steps=300,
    bc_epochs=1,
    bc_batch_size=64,
    critic_warmup_iterations=1,
    eval_pairs=3,
    eval_interval=1,
    checkpoint_interval=1,
)


def tiny_config(out_dir, run_name, **overrides):
    """4 envs x 16 steps per iteration, 3 iterations, BC on 300 states, 3 eval pairs."""
    _register_short_env()
    return AlignerConfig(**{**TINY, "out_dir": str(out_dir), "run_name": run_name, **overrides})


def is_warping_path(path, n, m):
    path = np.asarray(path)
    steps = np.diff(path, axis=0)
    legal = (steps == [1, 1]).all(1) | (steps == [1, 0]).all(1) | (steps == [0, 1]).all(1)
    return path.dtype.kind == "i" and path[0].tolist() == [0, 0] and path[-1].tolist() == [n - 1, m - 1] and legal.all()


def read_tags(tb_dir):
    """``{tag: [step, ...]}`` over every event file under ``tb_dir``."""
    tags = {}
    for path in sorted(Path(tb_dir).glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append(event.step)
    return tags


PRINTED = {}  # what the trained_run fixture's script printed


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """The tiny config trained through the command-line script."""
    from experiments import train_aligner as script

    _register_short_env()
    argv = []
    for key, value in TINY.items():
        argv += [f"--{key.replace('_', '-')}", *map(str, value if isinstance(value, tuple) else (value,))]
    out = tmp_path_factory.mktemp("aligner")
    printed = io.StringIO()  # not a terminal: progress comes as a few plain lines
    PRINTED["argv"] = argv + ["--out-dir", str(out), "--run-name", "tiny", "--progress"]
    with contextlib.redirect_stdout(printed):
        run_dir, metrics = script.main(PRINTED["argv"])
    PRINTED["tiny"] = printed.getvalue()
    return run_dir, metrics


def test_rerunning_a_finished_run_says_so_and_changes_nothing(trained_run):
    """The same command again: 'already complete', the finished run's metrics, exit 0, the folder untouched."""
    from experiments import train_aligner as script

    run_dir, metrics = trained_run
    before = {p: p.read_bytes() for p in [run_dir / "metrics.json", *sorted((run_dir / "policy").rglob("*.pb"))]}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        again_dir, again = script.main(PRINTED["argv"])
    assert again_dir == run_dir and again == metrics
    assert f"{run_dir} is already complete: {metrics['env_steps']:,} env steps" in printed.getvalue()
    assert {p: p.read_bytes() for p in before} == before
    assert "HeuristicAligner, no network" in PRINTED["tiny"]  # the no-network control, beside FastDTW


def test_rerunning_a_run_finished_before_the_control_was_logged(trained_run, tmp_path):
    """A run folder whose final metrics lack ``heuristic_ratio_vs_dtw`` (finished by an earlier dtwrl) reruns as
    complete, printing what it has."""
    import shutil

    from experiments import train_aligner as script

    run_dir, _ = trained_run
    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    saved = json.loads((old / "metrics.json").read_text())
    for key in ("heuristic_ratio_vs_dtw", "cost_ratio_vs_heuristic"):
        saved["final"].pop(key)
    (old / "metrics.json").write_text(json.dumps(saved))
    config = json.loads((old / "config.json").read_text())
    (old / "config.json").write_text(json.dumps({**config, "out_dir": str(tmp_path)}))  # as if trained here
    argv = list(PRINTED["argv"])
    argv[argv.index("--out-dir") + 1], argv[argv.index("--run-name") + 1] = str(tmp_path), "old"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        again_dir, again = script.main(argv)
    assert again_dir == old and "heuristic_ratio_vs_dtw" not in again
    assert "is already complete" in printed.getvalue() and "HeuristicAligner" not in printed.getvalue()


def test_scripts_have_help(capsys):
    from experiments import evaluate_aligner
    from experiments import train_aligner as script

    for module in (script, evaluate_aligner):
        with pytest.raises(SystemExit) as exit_info:
            module.main(["--help"])
        assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "--bc-warmstart" in text and "--learning-rate" in text and "--num-pairs" in text


def test_evaluation_script(trained_run, capsys):
    from experiments import evaluate_aligner

    run_dir, _ = trained_run
    rows = evaluate_aligner.main(["--run-dir", str(run_dir), "--num-pairs", "6", "--repeats", "1", "--batch-size", "4"])
    by_name = {row["method"]: row for row in rows}
    control = "HeuristicAligner (same observation, no network)"
    assert set(by_name) == {"policy (PPO)", control, "exact DTW", "FastDTW r=1", "FastDTW r=10", "greedy"}
    assert by_name["exact DTW"]["mean"] == pytest.approx(1.0) and by_name["exact DTW"]["frac_optimal"] == 1.0
    for row in rows:
        assert row["mean"] >= 1.0 - 1e-9 and row["p90"] >= 1.0 - 1e-9 and row["ms_per_pair"] > 0
    saved = json.loads((run_dir / "eval.json").read_text())
    assert saved["num_pairs"] == 6 and len(saved["rows"]) == 6
    assert "| policy (PPO) |" in (run_dir / "eval.md").read_text()
    assert (run_dir / "figures" / "eval_comparison.png").stat().st_size > 0
    capsys.readouterr()
    for argv, flag in (
        (["--run-dir", str(run_dir), "--seed", "3"], "--seed"),  # the training env's seed
        ([], "--run-dir"),
        (["--run-dir", str(run_dir / "nothing")], "--run-dir"),
        (["--run-dir", str(run_dir), "--env-id", "nope/Missing-v0"], "--env-id"),
        (["--run-dir", str(run_dir), "--pairs", str(run_dir / "missing.csv")], "--pairs"),
        (["--run-dir", str(run_dir), "--num-pairs", "0"], "--num-pairs"),
        (["--run-dir", str(run_dir), "--out-dir", "elsewhere"], "--out-dir"),  # would be ignored
    ):
        with pytest.raises(SystemExit) as exit_info:
            evaluate_aligner.main(argv)
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and err.startswith(f"error: {flag}: ") and err.count("\n") == 1, err


def test_evaluation_script_scores_the_shipped_aligner_on_your_series(tmp_path, capsys):
    """``--run-dir pretrained``: ``PolicyAligner.pretrained()`` as users call it, on --pairs (here a .npy of series
    it never saw), written under --out-dir; it has no training env, so --pairs or --env-id is required."""
    from experiments import evaluate_aligner

    series = np.cumsum(np.random.default_rng(3).standard_normal((8, 40)), axis=1)
    np.save(tmp_path / "walks.npy", series)
    argv = ["--run-dir", "pretrained", "--num-pairs", "5", "--repeats", "1", "--out-dir", str(tmp_path / "out")]
    rows = evaluate_aligner.main([*argv, "--pairs", str(tmp_path / "walks.npy")])
    by_name = {row["method"]: row for row in rows}
    assert by_name["PolicyAligner.pretrained()"]["mean"] == pytest.approx(1.0)  # 40 samples: the corridor is exact
    folder = tmp_path / "out" / "evaluate_aligner" / "pretrained"
    assert "| PolicyAligner.pretrained() |" in (folder / "eval__walks.md").read_text()
    assert (folder / "figures" / "eval_comparison__walks.png").stat().st_size > 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        evaluate_aligner.main(["--run-dir", "pretrained", "--out-dir", str(tmp_path / "none")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.startswith("error: --run-dir: pretrained has no training env"), err
    assert not (tmp_path / "none").exists()


def test_run_folder_layout(trained_run):
    run_dir, metrics = trained_run
    for name in ("config.json", "metrics.json", "tb", "checkpoints", "policy", "figures"):
        assert (run_dir / name).exists(), name
    assert (run_dir / "policy" / "saved_model.pb").is_file()
    assert (run_dir / "policy" / "dtwrl_env.json").is_file()
    assert (run_dir / "figures" / "eval_alignment.png").is_file()
    assert tf.train.latest_checkpoint(str(run_dir / "checkpoints")) is not None
    config = json.loads((run_dir / "config.json").read_text())
    assert config["env_id"] == SHORT_ENV and config["hidden"] == [16]
    assert AlignerConfig.from_dict(config).hidden == (16,)
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert saved["status"] == "completed"
    assert saved["final"]["env_steps"] == metrics["env_steps"] == 3 * 64
    assert [row["env_steps"] for row in saved["history"]] == [0, 64, 128, 192]
    assert metrics["cost_ratio_vs_dtw"] >= 1.0 - 1e-9
    assert metrics["steps_per_second"] > 0


def test_tensorboard_tags(trained_run):
    """One tag scheme (losses/, charts/, eval/, perf/, bc/ + TF-Agents' Metrics/), no always-zero chart, one axis."""
    run_dir, _ = trained_run
    tags = read_tags(run_dir / "tb")
    expected = {
        "losses/total",
        "losses/policy_gradient",
        "losses/value_estimation",
        "losses/dagger_cross_entropy",
        "Metrics/AverageReturn",
        "Metrics/AverageEpisodeLength",
        "charts/train_cost_ratio",
        "eval/cost_ratio_vs_dtw",
        "eval/cost_ratio_vs_dtw_p90",
        "eval/cost_ratio_vs_fastdtw",
        "eval/cost_ratio_vs_heuristic",
        "eval/best_cost_ratio_vs_dtw",
        "eval/alignment",
        "perf/steps_per_second",
        "perf/collect_fraction",
        "perf/end_to_end_steps_per_second",
        "bc/cross_entropy",
        "bc/accuracy",
        "config",
        "_hparams_/session_start_info",
    }
    optional = {"eval/frac_optimal"}  # logged once some eval pair is at the optimum
    assert expected <= set(tags) <= expected | optional, sorted(set(tags) ^ expected)
    assert not any(tag.startswith(("Losses/", "alignment/")) for tag in tags)
    assert "losses/entropy_regularization" not in tags  # entropy = 0: it would be 0 at every step
    assert tags["perf/steps_per_second"] == tags["perf/end_to_end_steps_per_second"] == [64, 128, 192]
    assert tags["eval/cost_ratio_vs_dtw"] == [0, 64, 128, 192]
    assert tags["losses/dagger_cross_entropy"] == [128, 192]  # not during the 1 critic warm-up iteration
    assert tags["bc/cross_entropy"] == [300]  # 1 epoch over 300 expert states: the bc/ axis counts states


def test_tensorboard_entropy_and_hparams_of_a_fine_tuned_run(trained_run, tmp_path):
    """A fine-tuned run (init_from, no BC) writes TF-Agents' Metrics/ too, and entropy only when its weight is > 0."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    run_dir, _ = trained_run
    config = tiny_config(
        tmp_path, "tuned", bc_warmstart=False, init_from=str(run_dir), entropy=0.01, total_env_steps=2 * 64
    )
    run, _ = train_aligner(config)
    tags = read_tags(run / "tb")
    assert {"Metrics/AverageReturn", "Metrics/AverageEpisodeLength", "losses/entropy_regularization"} <= set(tags)
    assert not any(tag.startswith("bc/") for tag in tags)
    for path in (run / "tb").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.tag == "_hparams_/session_start_info":
                    data = plugin_data_pb2.HParamsPluginData.FromString(value.metadata.plugin_data.content)
                    assert data.session_start_info.hparams["entropy"].number_value == 0.01


def test_saved_policy_aligns_batches(trained_run):
    run_dir, _ = trained_run
    aligner = PolicyAligner(run_dir, batch_size=2)
    assert aligner.core_kwargs["window"] == 5
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.standard_normal((5, 9, 2)), rng.standard_normal((5, 13, 2))
    paths = aligner(y_true, y_pred)
    assert len(paths) == 5
    assert all(is_warping_path(p, 9, 13) for p in paths)
    # the policy folder itself and get_config round-trip
    again = PolicyAligner.from_config(PolicyAligner(run_dir / "policy").get_config())
    assert all(np.array_equal(a, b) for a, b in zip(paths, again(y_true, y_pred)))
    # pairs of different lengths in one batch
    pairs = [(rng.standard_normal(n), rng.standard_normal(m)) for n, m in [(5, 9), (12, 3), (2, 2)]]
    for (x, y), path in zip(pairs, aligner.align_pairs(pairs)):
        assert is_warping_path(path, len(x), len(y))
    with pytest.raises(ValueError, match="y_pred"):
        aligner(y_true, y_pred[:2])


def test_policy_aligner_drives_path_loss(trained_run):
    from dtwrl.aligners import aligner_from_config, aligner_to_config
    from dtwrl.losses import PathLoss

    run_dir, _ = trained_run
    aligner = PolicyAligner(run_dir)
    rebuilt = aligner_from_config(aligner_to_config(aligner))
    assert isinstance(rebuilt, PolicyAligner) and rebuilt.policy_dir == aligner.policy_dir
    rng = np.random.default_rng(1)
    y_true = tf.constant(rng.standard_normal((3, 10, 1)), tf.float32)
    y_pred = tf.Variable(rng.standard_normal((3, 11, 1)), dtype=tf.float32)
    loss = PathLoss(aligner, reduction="none")
    paths = aligner(y_true.numpy(), y_pred.numpy())
    with tf.GradientTape() as tape:
        values = loss(y_true, y_pred)
    expected = [
        ((y_true.numpy()[b, p[:, 0], 0] - y_pred.numpy()[b, p[:, 1], 0]) ** 2).sum() for b, p in enumerate(paths)
    ]
    np.testing.assert_allclose(values.numpy(), expected, rtol=1e-5)
    grad = tf.convert_to_tensor(tape.gradient(values, y_pred)).numpy()  # dense or IndexedSlices (gathered costs)
    assert np.isfinite(grad).all() and np.abs(grad).sum() > 0
    graph_values = tf.function(lambda a, b: loss(a, b))(y_true, y_pred)  # inside a graph, as in model.fit
    np.testing.assert_allclose(graph_values.numpy(), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="policy"):
        PolicyAligner(run_dir / "tb")


def test_set_pairs_and_init_from(trained_run, tmp_path):
    run_dir, _ = trained_run
    config = tiny_config(
        tmp_path, "finetune", init_from=str(run_dir), bc_warmstart=True, hidden=(4,), total_env_steps=64
    )
    trainer = AlignerTrainer(config)
    assert trainer.config.hidden == (16,)  # adopted from the pretrained run
    pretrained = PolicyAligner(run_dir)
    rng = np.random.default_rng(5)
    pairs = [(rng.standard_normal(7), rng.standard_normal(9)) for _ in range(3)]
    live = PolicyAligner(trainer.agent.policy, core_kwargs=trainer.settings.core_kwargs)
    # same weights as the saved policy before any fine-tuning
    assert all(np.array_equal(a, b) for a, b in zip(pretrained.align_pairs(pairs), live.align_pairs(pairs)))
    predictions = [(rng.standard_normal((6, 1)), rng.standard_normal((10, 1))) for _ in range(4)]
    trainer.set_pairs(predictions)
    metrics = trainer.train(num_iterations=2)
    assert metrics["env_steps"] == 128
    # episodes in flight finish on their (at most 12x12) pair; every alignment then starts on a 6x10 prediction pair
    assert all(trainer.py_env.gym_env.batch.series(k)[0].shape == (6, 1) for k in range(4))
    assert trainer.collector.episodes.done_lengths


def test_metrics_of_fine_tuning_rounds_shorter_than_an_episode(trained_run, tmp_path):
    """rl_forecast's pattern: set_pairs + one short iteration per round; episodes still finish across rounds."""
    run_dir, _ = trained_run
    trainer = AlignerTrainer(
        tiny_config(
            tmp_path,
            "rounds",
            init_from=str(run_dir),
            bc_warmstart=False,
            collect_steps=4,
            total_env_steps=10 * 16,
            critic_warmup_iterations=0,
        )
    )
    rng = np.random.default_rng(2)
    for _ in range(10):
        trainer.set_pairs([(rng.standard_normal((12, 1)), rng.standard_normal((12, 1))) for _ in range(4)])
        trainer.train(num_iterations=1)  # 4 steps per round; an episode on a 12x12 grid takes 11 to 22
    trainer.summaries.flush()
    assert {"Metrics/AverageReturn", "Metrics/AverageEpisodeLength"} <= set(read_tags(trainer.run_dir / "tb"))


def test_diverging_training_stops_and_keeps_last_good_checkpoint(tmp_path):
    config = tiny_config(tmp_path, "nan", bc_warmstart=False, learning_rate=1e30, total_env_steps=20 * 64)
    trainer = AlignerTrainer(config)
    with pytest.raises(TrainingDivergedError, match="learning_rate"):
        trainer.train()
    status = json.loads((trainer.run_dir / "metrics.json").read_text())
    assert status["status"] == "diverged" and "diverged" in status["error"]
    latest = tf.train.latest_checkpoint(str(trainer.run_dir / "checkpoints"))
    assert latest is not None
    reader = tf.train.load_checkpoint(latest)
    assert reader.get_tensor("env_steps/.ATTRIBUTES/VARIABLE_VALUE") == trainer.env_steps  # failing step unsaved
    names = [
        name
        for name, _ in tf.train.list_variables(latest)
        if name.startswith(("actor_net/", "value_net/")) and name.endswith("VARIABLE_VALUE")
    ]
    assert names and all(np.isfinite(reader.get_tensor(name)).all() for name in names)


CHILD = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    sys.path.insert(0, {tests!r})
    from test_agents_training import tiny_config
    from agents import train_aligner
    config = tiny_config({out!r}, "resume", bc_warmstart=False, total_env_steps=12 * 64, eval_interval=4)
    train_aligner(config, callback=lambda trainer, stats: time.sleep(0.5))
    """
)


def test_resume_after_sigkill(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(root=str(REPO_ROOT), tests=str(REPO_ROOT / "tests"), out=str(tmp_path)))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    child = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ckpt_dir = tmp_path / "resume" / "checkpoints"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and child.poll() is None:
            latest = tf.train.latest_checkpoint(str(ckpt_dir)) if ckpt_dir.is_dir() else None
            if latest is not None and int(latest.rsplit("-", 1)[1]) > 0:
                break
            time.sleep(0.05)
        assert child.poll() is None, child.stderr.read().decode()[-2000:]
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
    killed_at = json.loads((tmp_path / "resume" / "metrics.json").read_text())
    assert killed_at["status"] == "running"

    trainer = AlignerTrainer(
        tiny_config(tmp_path, "resume", bc_warmstart=False, total_env_steps=12 * 64, eval_interval=4)
    )
    assert trainer.resumed and 0 < trainer.env_steps < 12 * 64
    restored = trainer.env_steps
    metrics = trainer.train()
    assert trainer.env_steps == 12 * 64 and trainer.iteration == 12
    assert metrics["env_steps"] == 12 * 64
    final = json.loads((trainer.run_dir / "metrics.json").read_text())
    assert final["status"] == "completed"
    steps = [row["env_steps"] for row in final["history"]]
    assert steps == sorted(set(steps)) and steps[0] == 0 and steps[-1] == 12 * 64
    assert {256, 512, restored} <= set(steps)  # evaluations every 4 iterations, and one at the restored step


@pytest.mark.slow
def test_default_budget_meets_the_targets_on_synthetic_warp(tmp_path):
    """The full default run (about 3.5 min on 2 cores): beats greedy and FastDTW r=1 on the mean, ratio <= 1.10."""
    from agents.evaluation import make_eval_set, ratio_stats
    from agents.policy.baselines import GreedyAligner
    from agents.training.environment import env_settings

    run_dir, metrics = train_aligner(AlignerConfig(out_dir=str(tmp_path), run_name="default"))
    assert metrics["env_steps"] >= 1_000_000 and metrics["policy_cost_ratio_vs_dtw"] <= 1.10
    eval_set = make_eval_set(env_settings("dtwrl/SyntheticWarp-v0"), num_pairs=100, seed=777_000_001)
    policy = ratio_stats(eval_set.ratios(PolicyAligner(run_dir).align_pairs(eval_set.pairs)))
    greedy = ratio_stats(eval_set.ratios(GreedyAligner().align_pairs(eval_set.pairs)))
    fastdtw = ratio_stats(eval_set.ratios(eval_set.fastdtw_paths))
    assert policy["mean"] <= 1.10
    assert policy["mean"] < greedy["mean"] and policy["mean"] < fastdtw["mean"]


# ------------------------------------------------------------------ config checks, CLI errors, user data
@pytest.mark.parametrize(
    "field, value, error",
    [
        ("entropy", -0.1, ValueError),
        ("entropy", float("nan"), ValueError),
        ("clip_ratio", 0.0, ValueError),
        ("clip_ratio", -1, ValueError),
        ("learning_rate", float("nan"), ValueError),
        ("learning_rate", 0, ValueError),
        ("bc_learning_rate", -1e-3, ValueError),
        ("bc_detour", 1.5, ValueError),
        ("bc_detour", 1.0, ValueError),
        ("num_envs", 1.5, TypeError),
        ("num_envs", 0, ValueError),
        ("window", 2.5, TypeError),
        ("window", 1, ValueError),
        ("discount", 0.0, ValueError),
        ("discount", 2.0, ValueError),
        ("gae_lambda", 1.5, ValueError),
        ("bc_warmstart", "no", TypeError),
        ("keep_best", 1, TypeError),
        ("normalize_rewards", "yes", TypeError),
        ("seed", -1, ValueError),
        ("seed", 2**32, ValueError),
        ("seed", True, TypeError),
        ("reward_scale", "auto", ValueError),
        ("reward_scale", -1.0, ValueError),
        ("reward_scale", float("inf"), ValueError),
        ("cost_floor", 0.0, ValueError),
        ("gradient_clipping", -1, ValueError),
        ("collect_steps", 1, ValueError),
        ("hidden", (16, 0), ValueError),
        ("hidden", (16.5,), TypeError),
        ("hidden", (), TypeError),
        ("eval_interval", 0, ValueError),
        ("dagger_steps", -1, ValueError),
        ("env_id", "", TypeError),
        ("out_dir", None, TypeError),
        ("run_name", "a/b", ValueError),
        ("init_from", 3, TypeError),
        ("pairs", 3, TypeError),
        ("total_env_steps", np.float64(5), TypeError),
    ],
)
def test_every_config_field_is_checked(field, value, error):
    with pytest.raises(error, match=field):
        AlignerConfig(**{field: value})


def test_config_accepts_numpy_scalars_and_normalises_them():
    config = AlignerConfig(num_envs=np.int64(8), learning_rate=np.float32(1e-3), hidden=[np.int32(4)], window=5)
    assert type(config.num_envs) is int and type(config.learning_rate) is float and config.hidden == (4,)
    assert AlignerConfig(total_env_steps=640, num_envs=2, collect_steps=32).evaluation_interval == 1
    assert AlignerConfig().evaluation_interval * 10 <= AlignerConfig().num_iterations  # >= 10 eval points


test_train_script_refuses_bad_flags_in_one_line_before_any_folder = refusals_test(
    "experiments.train_aligner",
    [
        ("--num-envs 0", "--num-envs: "),
        ("--window 1", "--window: "),
        ("--discount 2", "--discount: "),
        ("--init-from /nonexistent/run", "--init-from: "),
        ("--env-id nope/Missing-v0", "--env-id: "),
        ("--seed -1", "--seed: "),
        ("--reward-scale -1", "--reward-scale: "),
        ("--cost-floor 0", "--cost-floor: "),
        ("--clip-ratio -1", "--clip-ratio: "),
        ("--bc-detour 1.5", "--bc-detour: "),
        ("--entropy nan", "--entropy: "),
        ("--pairs /nonexistent/series.csv", "--pairs: "),
    ],
    common=("--no-progress",),
)


def test_resumed_run_says_so_and_skips_the_warm_start_message(trained_run, capsys):
    run_dir, _ = trained_run
    trainer = AlignerTrainer(tiny_config(run_dir.parent, run_dir.name), progress=True)
    assert trainer.resumed
    trainer.warm_start()  # BC is done: nothing to clone again
    out = capsys.readouterr().out
    assert out.splitlines()[1].startswith(f"resuming from step {trainer.env_steps}")
    assert "behavioural cloning" not in out


def test_fresh_run_reports_bc_and_ppo_progress_in_a_few_lines(trained_run):
    lines = PRINTED["tiny"].splitlines()
    assert lines[0].startswith("run folder: ")
    assert lines[1].startswith("behavioural cloning warm start on 300 expert states")
    assert 2 <= sum(line.startswith("behavioural cloning: ") for line in lines) <= 10
    assert 1 <= sum(line.startswith("PPO: ") for line in lines) <= 10
    summary = [
        line for line in lines if re.fullmatch(r"PPO: 192 env steps in [\d.]+ s, [\d,]+ env steps/s end to end", line)
    ]
    assert len(summary) == 1
    assert re.match(r"done: 192 PPO env steps, .*, [\d,]+ env steps/s end to end$", lines[lines.index(summary[0]) + 1])
    assert len(lines) <= 30 and not any("\r" in line for line in lines)


def test_run_folder_is_self_contained_without_the_registration(tmp_path, capsys):
    """A policy trained on a register_env id is evaluated and fine-tuned once the id is gone (as in a new process)."""
    from experiments import evaluate_aligner

    env_id = "test_agents/SelfContained-v0"
    series = np.random.default_rng(0).standard_normal((6, 10))
    envs.register_env(env_id, pairs=series, window=5)
    try:
        run_dir, _ = train_aligner(tiny_config(tmp_path, "own", env_id=env_id, total_env_steps=64, bc_warmstart=False))
    finally:
        del gymnasium.registry[env_id]
    assert (run_dir / "env" / "env.json").is_file() and (run_dir / "env" / "pairs.npz").is_file()
    rows = evaluate_aligner.main(["--run-dir", str(run_dir), "--num-pairs", "4", "--repeats", "1"])
    assert len(rows) == 6  # the policy, its HeuristicAligner control, exact DTW, FastDTW r=1 and r=10, greedy
    pairs = [(series[0], series[1])]
    assert len(PolicyAligner(run_dir).align_pairs(pairs)) == 1
    tuned = AlignerTrainer(tiny_config(tmp_path, "tuned", env_id=env_id, init_from=str(run_dir), bc_warmstart=False))
    assert len(tuned.settings.pairs) == 6  # the stored series, no registration
    with pytest.raises(ValueError, match="env_id.*not registered"):
        AlignerTrainer(tiny_config(tmp_path, "unknown", env_id=env_id))
    assert not (tmp_path / "unknown").exists()


def test_user_series_from_files_train_and_evaluate(tmp_path, capsys):
    from experiments import evaluate_aligner
    from experiments import train_aligner as script

    _register_short_env()
    rng = np.random.default_rng(1)
    csv = tmp_path / "mine.csv"
    csv.write_text(
        "\n".join(",".join(f"{v:.4f}" for v in rng.standard_normal(int(rng.integers(8, 12)))) for _ in range(6))
    )
    argv = []
    for key, value in {**TINY, "total_env_steps": 64}.items():
        argv += [f"--{key.replace('_', '-')}", *map(str, value if isinstance(value, tuple) else (value,))]
    run_dir, metrics = script.main(
        argv + ["--pairs", str(csv), "--out-dir", str(tmp_path), "--no-progress", "--no-bc-warmstart"]
    )
    assert run_dir.name.startswith("mine__ppo__3__") and metrics["env_steps"] == 64
    np.save(tmp_path / "other.npy", rng.standard_normal((5, 9, 1)))
    rows = evaluate_aligner.main(
        ["--run-dir", str(run_dir), "--pairs", str(tmp_path / "other.npy"), "--num-pairs", "3", "--repeats", "1"]
    )
    assert {row["method"] for row in rows} >= {"policy (PPO)", "exact DTW"}
    assert (run_dir / "eval__other.json").is_file() and (run_dir / "eval__other.md").is_file()


def test_frac_optimal_is_logged_from_its_first_nonzero_value(tmp_path):
    from agents.training.summaries import TrainingSummaries

    summaries = TrainingSummaries(tmp_path / "tb", AlignerConfig())
    base = {
        "cost_ratio_vs_dtw": 1.2,
        "cost_ratio_vs_dtw_p90": 1.5,
        "cost_ratio_vs_fastdtw": 1.1,
        "cost_ratio_vs_heuristic": 1.05,
        "best_cost_ratio_vs_dtw": 1.2,
    }
    for step, frac in enumerate([0.0, 0.0, 0.25, 0.0]):
        summaries.evaluation(step, {**base, "frac_optimal": frac})
    summaries.flush()
    tags = read_tags(tmp_path / "tb")
    assert tags["eval/frac_optimal"] == [2, 3] and tags["eval/cost_ratio_vs_dtw"] == [0, 1, 2, 3]


def test_long_pairs_train_with_bounded_memory(tmp_path):
    """PPO on an id registered with 5,000-step pairs (corridor observation) never builds an n x m array.

    tracemalloc sees every numpy array made during the run (the eval set's cost matrices, 200 MB
    each, before they were dropped; the eval figure's cost matrix), not TF's or numba's own
    buffers, which the corridor keeps at O((n + m) r). What remains grows linearly: FastDTW's
    windows (about 5 KB a sample), the figure of a 512 x 512 stride of the pair (about 25 MB).
    """
    import tracemalloc

    from envs.observation import corridor_lookahead

    env_id = "test_agents/LongPairs-v0"
    rng = np.random.default_rng(4)
    pairs = [SyntheticPairs(n=5000, m=m)(rng) for m in (5000, 5200)]
    envs.register_env(env_id, pairs=pairs, window=5, lookahead=corridor_lookahead(8))
    one_matrix = 5000 * 5000 * 8  # bytes of the smallest n x m float64 array
    config = tiny_config(
        tmp_path, "long", env_id=env_id, eval_pairs=1, total_env_steps=64, eval_interval=9, bc_warmstart=False
    )
    tracemalloc.start()
    try:
        run_dir, metrics = train_aligner(config)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        del gymnasium.registry[env_id]
    assert peak < one_matrix / 2, f"peak traced memory {peak / 1e6:.1f} MB"
    assert np.isfinite(metrics["cost_ratio_vs_dtw"]) and metrics["cost_ratio_vs_dtw"] >= 1.0 - 1e-9
    assert (run_dir / "figures" / "eval_alignment.png").is_file()  # 1 frame in 10 drawn


def test_alignment_image_of_a_long_pair_is_strided_without_the_exact_path(monkeypatch):
    """Above FIGURE_CELLS the figure draws every k-th frame and never solves the exact path; below, it does."""
    from agents import evaluation
    from envs import rendering

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((600, 1)), rng.standard_normal((700, 1))  # 420,000 cells > 512 x 512: stride 2
    diagonal = np.stack([np.minimum(np.arange(700), 599), np.arange(700)], axis=1)
    eval_set = evaluation.EvalSet([(x, y)], np.zeros(1), np.zeros(1), [diagonal], seed=0)
    drawn = {}
    monkeypatch.setattr(rendering, "draw_alignment", lambda cost, paths, title: drawn.update(locals()))
    monkeypatch.setattr(evaluation.EvalSet, "exact_path", lambda self, index: pytest.fail("exact path solved"))
    evaluation.alignment_image(eval_set, 0, {"fastdtw": [diagonal]}, exact_label="exact DTW")
    assert drawn["cost"].shape == (300, 350) and list(drawn["paths"]) == ["fastdtw"]
    assert drawn["paths"]["fastdtw"].max() == 349.5 and drawn["title"] == "1 frame in 2 of 600 x 700; no exact path"
    monkeypatch.setattr(rendering, "FIGURE_CELLS", 600 * 700)
    monkeypatch.setattr(evaluation.EvalSet, "exact_path", lambda self, index: diagonal)
    evaluation.alignment_image(eval_set, 0, {"fastdtw": [diagonal]}, exact_label="exact DTW")
    assert drawn["cost"].shape == (600, 700) and list(drawn["paths"]) == ["fastdtw", "exact DTW"]
    assert drawn["title"] is None


def test_evaluation_scores_the_policy_against_its_no_network_control():
    """``cost_ratio_vs_heuristic``: 1 for a policy that takes its observation's argmin, above 1 for one that ignores
    it; ``heuristic_ratio_vs_dtw`` is ``HeuristicAligner``'s own mean ratio on the same pairs."""
    from agents import HeuristicAligner
    from agents.evaluation import make_eval_set
    from agents.training.environment import env_settings
    from agents.training.policy_evaluation import evaluate_policy

    settings = env_settings("dtwrl/SyntheticWarp-v0")
    eval_set = make_eval_set(settings, num_pairs=8, seed=5)
    kwargs = settings.core_kwargs

    def argmin(obs):
        return np.argmin(np.where(obs["action_mask"] > 0, obs["lookahead"][:, 0, :], np.inf), axis=1)

    own, _ = evaluate_policy(argmin, eval_set, kwargs)
    control = eval_set.ratios(HeuristicAligner(kwargs).align_pairs(eval_set.pairs))
    assert own["heuristic_ratio_vs_dtw"] == pytest.approx(float(np.mean(control)))
    assert own["cost_ratio_vs_heuristic"] == pytest.approx(1.0)
    assert eval_set.heuristic_costs(kwargs) is eval_set.heuristic_costs(dict(kwargs))  # once per observation
    diagonal, _ = evaluate_policy(lambda obs: np.zeros(len(obs["action_mask"]), dtype=np.int64), eval_set, kwargs)
    assert (
        diagonal["cost_ratio_vs_heuristic"] > 1.05
        and diagonal["heuristic_ratio_vs_dtw"] == own["heuristic_ratio_vs_dtw"]
    )
