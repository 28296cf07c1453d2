"""Distributed actor-learner PPO on Reverb: roles as real subprocesses on localhost, faults, counts.

The runs are tiny (8 envs x 8 steps per iteration, window 5, 16-unit MLPs) so
that each ends by itself in about a minute on 2 shared cores; most of that is
TensorFlow starting in every process.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

reverb = pytest.importorskip("reverb", reason="dm-reverb is the 'distributed' extra (Linux, Python 3.11)")

from agents import AlignerConfig  # noqa: E402
from agents.distributed import DistributedOptions, prepare  # noqa: E402
from agents.distributed.launcher import free_port, reconcile  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "experiments" / "train_aligner_distributed.py"
T = 8  # collect_steps
N = 8  # num_envs
TINY = [
    "--num-envs",
    str(N),
    "--collect-steps",
    str(T),
    "--window",
    "5",
    "--hidden",
    "16",
    "--no-bc-warmstart",
    "--eval-pairs",
    "4",
    "--eval-interval",
    "1000",
    "--checkpoint-interval",
    "2",
    "--eval-interval-s",
    "1",
    "--shutdown-grace-s",
    "20",
    "--stall-timeout-s",
    "120",
]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}


def _command(tmp_path, role, *extra, iterations=8, run_name="run"):
    return [
        sys.executable,
        str(SCRIPT),
        *TINY,
        "--total-env-steps",
        str(iterations * N * T),
        "--out-dir",
        str(tmp_path),
        "--run-name",
        run_name,
        "--role",
        role,
        *extra,
    ]


def _start(tmp_path, name, command):
    with open(tmp_path / f"{name}.log", "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, env=ENV, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _checkpoint_steps(run_dir):
    """Env steps of the checkpoints on disk (``ckpt-<env_steps>.index``)."""
    folder = run_dir / "checkpoints"  # glob of a missing folder yields nothing
    return sorted(int(m.group(1)) for p in folder.glob("ckpt-*.index") if (m := re.match(r"ckpt-(\d+)", p.name)))


def _latest_checkpoint_steps(run_dir):
    """Env steps of the checkpoint a restart resumes from (the one the ``checkpoint`` state file names)."""
    import tensorflow as tf

    return int(re.search(r"ckpt-(\d+)$", tf.train.latest_checkpoint(str(run_dir / "checkpoints"))).group(1))


UNENDING = 10**5  # iterations: a budget no test run reaches (the learner is stopped, or resumed with a smaller one)


def _launch_unending(tmp_path, collectors):
    """The launcher of every role (``collectors`` collectors) on an UNENDING budget, its output piped as text."""
    command = _command(tmp_path, "all", "--collectors", str(collectors), iterations=UNENDING)
    return subprocess.Popen(
        command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )


def _wait_for(predicate, timeout, what, procs=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        for proc in procs:
            assert proc.poll() is None, f"a role exited early ({proc.args[-1]}) while waiting for {what}"
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _stop(*procs):
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_local_run_with_two_collectors_reconciles(tmp_path):
    """Launcher: server + 2 collectors + learner + evaluator end by themselves; every count adds up."""
    iterations = 8
    result = subprocess.run(
        _command(tmp_path, "all", "--collectors", "2", iterations=iterations),
        env=ENV,
        capture_output=True,
        text=True,
        timeout=420,
    )
    run_dir = tmp_path / "run"
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads((run_dir / "distributed.json").read_text())
    assert summary["role_exit_codes"] == {"server": 0, "learner": 0, "collector-0": 0, "collector-1": 0, "evaluator": 0}
    counts = summary["counts"]
    assert counts["reconciled"], counts
    # the learner trained on items of both collectors, exactly one batch per iteration
    consumed = counts["items_consumed_by_collector"]
    assert set(consumed) == {"0", "1"} and min(consumed.values()) > 0, consumed
    assert counts["items_trained"] == sum(consumed.values()) == iterations * N
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "completed"
    assert metrics["final"]["env_steps"] == iterations * N * T == counts["items_trained"] * T
    # every collected transition is in an item, in a writer's tail or unconfirmed in a stopped writer
    collectors = [json.loads(p.read_text()) for p in sorted((run_dir / "collectors").glob("*.json"))]
    assert [c["collector"] for c in collectors] == [0, 1]
    for c in collectors:
        assert c["status"] == "finished"
        assert c["collected_env_steps"] == c["items_created"] * T + c["pending_steps"]
        assert c["pending_steps"] == 0  # whole iterations only
    queue = counts["queue"]
    assert queue["inserted"] == queue["sampled"] + queue["queued"]
    assert counts["items_created"] == queue["inserted"] + counts["items_unconfirmed"]
    assert 0 <= counts["prefetched_unused"] <= N
    # the single-process run folder layout, plus the policy and the evaluator's rows
    for name in ("config.json", "metrics.json", "tb", "checkpoints", "figures", "policy/saved_model.pb"):
        assert (run_dir / name).exists(), name
    rows = json.loads((run_dir / "evaluator.json").read_text())["history"]
    assert rows[-1]["iteration"] == iterations and rows[-1]["cost_ratio_vs_dtw"] >= 1.0
    # the same command again (and the learner alone): the run is complete, exit 0, nothing started or changed
    finished = (run_dir / "metrics.json").read_bytes()
    for command in (
        _command(tmp_path, "all", "--collectors", "2", iterations=iterations),
        _command(tmp_path, "learner", "--reverb-address", "localhost:1", iterations=iterations),
    ):
        again = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
        assert f"{run_dir} is already complete: {iterations * N * T} env steps" in again.stdout
        assert (run_dir / "metrics.json").read_bytes() == finished
    assert rows[-1]["cost_ratio_vs_fastdtw"] > 0
    # the learner logs the single-process trainer's tags (agents.training.summaries) plus the queue's charts
    learner_tags, evaluator_tags = _tensorboard_tags(run_dir / "tb"), _tensorboard_tags(run_dir / "tb" / "evaluator")
    assert {
        "losses/total",
        "losses/policy_gradient",
        "perf/steps_per_second",
        "eval/cost_ratio_vs_dtw",
        "eval/cost_ratio_vs_fastdtw",
        "eval/best_cost_ratio_vs_dtw",
        "eval/alignment",
        "charts/policy_lag",
        "charts/items_consumed/collector_0",
        "charts/items_consumed/collector_1",
    } <= learner_tags, learner_tags
    assert {"eval/cost_ratio_vs_dtw", "eval/cost_ratio_vs_fastdtw", "eval/alignment"} <= evaluator_tags


def _tensorboard_tags(logdir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(logdir), size_guidance={"tensors": 0})
    events.Reload()
    return set(events.Tags()["tensors"])


@pytest.mark.slow  # ~30-40 s: two learner processes; `make test-slow` runs it with the other fault tests
def test_collector_sigkill_and_learner_restart(tmp_path):
    """SIGKILL of a collector does not stop training; a SIGKILLed learner restarts from its last checkpoint.

    The first learner's budget is never reached (a tiny iteration takes a fraction of a second on an idle
    machine, so a fixed budget could end before the kills); the restarted one resumes with a budget of 4 more
    iterations (``total_env_steps`` may change on resume) and ends by itself.
    """
    iterations = UNENDING
    port = free_port()
    address = f"localhost:{port}"
    run_dir = tmp_path / "run"
    server = _start(tmp_path, "server", _command(tmp_path, "server", "--port", str(port), iterations=iterations))
    procs = [server]
    try:
        _wait_for(lambda: "listening" in (tmp_path / "server.log").read_text(), 120, "the server", procs)
        role = lambda name, *extra: _start(  # noqa: E731
            tmp_path,
            name,
            _command(tmp_path, name.split("-")[0], "--reverb-address", address, *extra, iterations=iterations),
        )
        learner = role("learner")
        collectors = [role(f"collector-{k}", "--collector-id", str(k), "--collectors", "2") for k in range(2)]
        procs += [learner, *collectors]
        _wait_for(lambda: max(_checkpoint_steps(run_dir), default=0) >= 2 * N * T, 240, "2 iterations", procs)
        collectors[1].send_signal(signal.SIGKILL)
        assert collectors[1].wait(10) == -signal.SIGKILL
        procs.remove(collectors[1])
        killed_at = max(_checkpoint_steps(run_dir))
        _wait_for(
            lambda: max(_checkpoint_steps(run_dir)) >= killed_at + 2 * N * T,
            240,
            "training to go on with one collector",
            procs,
        )
        learner.send_signal(signal.SIGKILL)
        learner.wait(10)
        procs.remove(learner)
        resume_from = _latest_checkpoint_steps(run_dir)
        total = resume_from + 4 * N * T
        learner = _start(
            tmp_path,
            "learner-2",
            _command(tmp_path, "learner", "--reverb-address", address, iterations=total // (N * T)),
        )
        procs.append(learner)
        assert learner.wait(300) == 0, (tmp_path / "learner-2.log").read_text()[-3000:]
        log = (tmp_path / "learner-2.log").read_text()
        assert "learner done" in log and f"resumed from the checkpoint at iteration {resume_from // (N * T)} " in log
        metrics = json.loads((run_dir / "metrics.json").read_text())
        assert metrics["status"] == "completed" and metrics["final"]["env_steps"] == total
        assert metrics["final"]["learner_sessions"] == 2
        # the second session trained exactly the iterations left after the checkpoint it resumed from
        assert metrics["final"]["items_trained"] * T == total - resume_from
        assert collectors[0].wait(60) == 0  # it stops on the published 'finished'
        status = json.loads((run_dir / "collectors" / "collector-0.json").read_text())
        assert status["status"] == "finished"
    finally:
        _stop(*procs)


@pytest.mark.slow
def test_server_loss_stops_run_with_message_and_resumes(tmp_path):
    """Killing the server stops the run with a clear message; the same command resumes from the checkpoint."""
    launcher = _launch_unending(tmp_path, collectors=1)
    run_dir = tmp_path / "run"
    try:
        server_pid = None
        for line in launcher.stdout:
            if m := re.match(r"started server \(pid (\d+)\)", line):
                server_pid = int(m.group(1))
                break
        assert server_pid is not None
        _wait_for(lambda: max(_checkpoint_steps(run_dir), default=0) >= 2 * N * T, 240, "2 iterations", [launcher])
        os.kill(server_pid, signal.SIGKILL)
        output = launcher.communicate(timeout=120)[0]
    finally:
        _stop(launcher)
    assert launcher.returncode == 1, output
    assert "the Reverb server exited" in output and "Run the same command again to resume" in output
    learner_log = (run_dir / "logs" / "learner.log").read_text()
    assert "the Reverb server at localhost:" in learner_log and "is gone" in learner_log
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "server_lost"
    saved = _latest_checkpoint_steps(run_dir)
    assert saved >= 2 * N * T
    total = saved + 4 * N * T  # the same command with a budget it reaches (total_env_steps may change on resume)
    command = _command(tmp_path, "all", "--collectors", "1", iterations=total // (N * T))
    result = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=420)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["final"]["learner_sessions"] == 2
    assert metrics["final"]["env_steps"] == total and metrics["final"]["items_trained"] * T == total - saved


def test_prepare_validates_before_any_folder(tmp_path):
    options = DistributedOptions(role="collector", reverb_address="localhost:1")
    with pytest.raises(ValueError, match="run_name is required"):
        prepare(AlignerConfig(out_dir=str(tmp_path)), options)
    with pytest.raises(ValueError, match="init_from"):
        prepare(AlignerConfig(out_dir=str(tmp_path), init_from=str(tmp_path / "nope")), DistributedOptions())
    with pytest.raises(ValueError, match="not registered"):
        prepare(AlignerConfig(env_id="dtwrl/Nope-v0"), DistributedOptions())
    with pytest.raises(ValueError, match="reverb_address is required"):
        DistributedOptions(role="learner")
    with pytest.raises(ValueError, match="host:port"):
        DistributedOptions(role="learner", reverb_address="localhost")
    with pytest.raises(ValueError, match="role must be"):
        DistributedOptions(role="actor")
    assert list(tmp_path.iterdir()) == []


def test_script_bad_flag_is_one_line_exit_2(tmp_path, capsys):
    from experiments import train_aligner_distributed as script  # in-process: the same main() the CLI runs

    assert script.main(["--collectors", "0", "--out-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == "error: --collectors: collectors must be >= 1; got 0"
    assert "Traceback" not in err and list(tmp_path.iterdir()) == []
    missing = tmp_path / "nope"
    assert script.main(["--init-from", str(missing), "--out-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    want = f"error: --init-from: '{missing}' is not an aligner run folder (no config.json)"
    assert err.strip().splitlines()[-1] == want
    assert "Traceback" not in err and list(tmp_path.iterdir()) == []


def test_reconcile_flags_a_missing_transition():
    collectors = [{"collected_env_steps": 40, "items_created": 4, "pending_steps": 8}]
    learner = {"items_trained": 2, "items_sampled": 3, "items_consumed_by_collector": {"0": 3}}
    good = reconcile(collectors, learner, {"inserted": 4, "sampled": 3, "queued": 1}, collect_steps=8)
    assert good["reconciled"] and good["sampled_not_trained"] == 1 and good["items_unconfirmed"] == 0
    bad = reconcile(collectors, learner, {"inserted": 4, "sampled": 2, "queued": 1}, collect_steps=8)
    assert not bad["reconciled"] and not bad["checks"]["queue"]
    lost = reconcile([{**collectors[0], "pending_steps": 7}], learner, None, collect_steps=8)
    assert not lost["checks"]["collector_steps"]


def test_every_role_adopts_init_from_network_settings(tmp_path):
    """Server, collectors and learner must build the pretrained actor's networks (window, hidden, cost_floor)."""
    from agents.policy.actor import NumpyActor
    from agents.policy.aligner import PRETRAINED

    actor, core_kwargs, _ = NumpyActor.load(PRETRAINED)
    config, settings = prepare(
        AlignerConfig(init_from="pretrained", run_name="r", out_dir=str(tmp_path)),
        DistributedOptions(role="collector", reverb_address="localhost:1"),
    )
    hidden = tuple(int(kernel.shape[1]) for kernel, _, _ in actor.dense)
    assert (config.window, config.hidden, config.cost_floor) == (core_kwargs["window"], hidden, actor.cost_floor)
    assert settings.core_kwargs["window"] == core_kwargs["window"]
    assert settings.core_kwargs.get("lookahead") == core_kwargs.get("lookahead", [])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_sigterm_stops_every_role_and_the_learner_checkpoints(tmp_path):
    """SIGTERM (as Ctrl-C) to the launcher: the learner checkpoints, every role exits, the run can resume."""
    launcher = _launch_unending(tmp_path, collectors=2)
    run_dir = tmp_path / "run"
    try:
        _wait_for(lambda: max(_checkpoint_steps(run_dir), default=0) >= 2 * N * T, 240, "2 iterations", [launcher])
        launcher.send_signal(signal.SIGTERM)
        output = launcher.communicate(timeout=120)[0]
    finally:
        _stop(launcher)
    assert launcher.returncode == 130, output
    summary = json.loads((run_dir / "distributed.json").read_text())
    codes = summary["role_exit_codes"]
    assert codes["learner"] == 130 and codes["server"] == 0, codes  # 130: stopped, checkpointed
    assert all(code is not None for code in codes.values())
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "stopped"
    assert _latest_checkpoint_steps(run_dir) >= 2 * N * T
