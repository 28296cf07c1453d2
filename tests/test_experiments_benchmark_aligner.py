"""benchmark_aligner.py and pretrain_aligner.py: argument checks, the targets (slow), fine-tuning."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_refuses_bad_arguments_in_one_line(tmp_path):
    env = {"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "experiments" / "benchmark_aligner.py"),
            "--actors",
            "no-label",
            "--out-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "error: --actors: expected label=policy" in result.stderr and "Traceback" not in result.stderr
    assert not any(tmp_path.iterdir())  # refused before any run folder


@pytest.mark.parametrize(
    "module, argv, message",
    [
        ("pretrain_aligner", ["--lookahead", "2x"], "--lookahead"),
        ("pretrain_aligner", ["--out", "weights.h5"], "--out"),
        ("pretrain_aligner", ["--max-length", "100"], "--max-length: must be in \\[1200, 1000000\\]; got 100"),
        ("pretrain_aligner", ["--max-length", "2000000"], "--max-length"),
        ("pretrain_aligner", ["--expert", "oracle"], "--expert: must be one of exact, corridor"),
        ("pretrain_aligner", ["--max-length", "5000", "--long-root", "/nonexistent"], "--long-root: no long"),
        ("pretrain_aligner", ["--expert", "corridor"], "--expert: corridor needs the corridor observation"),
    ],
)
def test_scripts_name_the_bad_flag(tmp_path, module, argv, message):
    import importlib

    main = importlib.import_module(f"experiments.{module}").main
    flag = "--out-dir" if module == "benchmark_aligner" else "--run-dir"
    with pytest.raises(ValueError, match=message):
        main([*argv, flag, str(tmp_path)])
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    "argv, line",
    [
        (["--num-pairs", "0"], "--num-pairs: must be >= 1; got 0"),
        (["--data-root", "/nonexistent"], "--data-root: '/nonexistent' is not a folder"),
        (["--timing-lengths", "150", "1"], "--timing-lengths: every value must be >= 2; got 1"),
        (["--long-lengths", "1000"], "--long-lengths: applies only with --long"),  # was silently ignored
        (["--long", "--beam-widths", "2"], "--beam-widths: applies only without --long"),
        (["--long", "--long-pairs", "-1"], "--long-pairs: must be >= 1; got -1"),
        (["--long", "--radius", "-1"], "--radius: must be >= 0; got -1"),
        (["--long", "--long-lengths", "100", "1"], "--long-lengths: every value must be >= 2; got 1"),
        (["--long", "--long-root", "/nonexistent"], "--long-root: '/nonexistent' is not a folder"),  # was skipped
    ],
)
def test_benchmark_names_the_bad_flag_in_one_line_before_any_run_folder(tmp_path, capsys, argv, line):
    from experiments.benchmark_aligner import main

    with pytest.raises(SystemExit) as stop:
        main([*argv, "--out-dir", str(tmp_path)])
    assert stop.value.code == 2 and capsys.readouterr().err == f"error: {line}\n"
    assert not any(tmp_path.iterdir())


def test_pretrain_refuses_a_bad_max_length_in_one_line(tmp_path, capsys):
    from experiments.cli import run_script
    from experiments.pretrain_aligner import main

    with pytest.raises(SystemExit) as stop:
        run_script(lambda: main(["--max-length", "-5", "--run-dir", str(tmp_path / "run")]))
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1 and err.startswith("error: --max-length: "), err
    assert not (tmp_path / "run").exists()


def test_fine_tuning_starts_from_the_pretrained_actor(tmp_path):
    from agents import AlignerConfig, AlignerTrainer
    from agents.policy.actor import NumpyActor, probe_observations
    from agents.policy.aligner import PolicyAligner

    trainer = AlignerTrainer(
        AlignerConfig(
            init_from="pretrained",
            total_env_steps=256,
            num_envs=4,
            collect_steps=8,
            eval_pairs=2,
            out_dir=str(tmp_path),
            run_name="ft",
        )
    )
    pretrained = PolicyAligner.pretrained()
    assert trainer.settings.core_kwargs["lookahead"] == pretrained.core_kwargs["lookahead"]
    actor = NumpyActor.from_network(
        trainer.agent.actor_net if hasattr(trainer.agent, "actor_net") else trainer.agent._actor_net
    )
    probes = probe_observations(7, tuple(map(tuple, pretrained.core_kwargs["lookahead"])), count=64)
    np.testing.assert_allclose(actor.logits(probes), pretrained.numpy_actor().logits(probes), rtol=1e-5, atol=1e-5)


def test_benchmark_runs_end_to_end_on_a_few_pairs(tmp_path, small_ucr_root):
    """The shrunk version of the slow target test: every set, method and table, 3 pairs, one short timing row.

    ItalyPowerDemand comes from the trimmed copy in tests/data, so a clone without ../shared runs it too.
    """
    from experiments.benchmark_aligner import main

    argv = ["--num-pairs", "3", "--timing-lengths", "40", "--timing-pairs", "2", "--repeats", "1"]
    argv += ["--data-root", str(small_ucr_root)]
    report = main([*argv, "--out-dir", str(tmp_path), "--name", "t"])
    assert set(report["sets"]) and all(len(rows) >= 4 for rows in report["sets"].values())
    for rows in report["sets"].values():
        by = {row["method"]: row for row in rows}
        assert by["exact DTW"]["mean"] == pytest.approx(1.0) and by["pretrained greedy"]["mean"] >= 1.0 - 1e-12
        assert by["HeuristicAligner (same observation, no network)"]["mean"] >= 1.0 - 1e-12  # the control, by default
        assert "pretrained beam 4" in by
    assert report["timing"][0]["n"] == 40
    greedy_only = main([*argv, "--beam-widths", "0", "--no-heuristic", "--out-dir", str(tmp_path), "--name", "g"])
    assert not any(
        "beam" in row["method"] or "Heuristic" in row["method"] for row in greedy_only["sets"]["GunPoint test pairs"]
    )
    assert (tmp_path / "benchmark_aligner" / "t" / "benchmark.md").is_file()


@pytest.mark.slow
def test_pretrained_policy_meets_the_issue_targets(tmp_path):
    """Full evaluation (200 pairs per set): GunPoint test and ItalyPowerDemand beat FastDTW r=1; synthetic <= 1.01."""
    from experiments.benchmark_aligner import main

    report = main(
        [
            "--num-pairs",
            "200",
            "--timing-lengths",
            "150",
            "--timing-pairs",
            "4",
            "--repeats",
            "1",
            "--out-dir",
            str(tmp_path),
            "--name",
            "t",
        ]
    )
    for name, rows in report["sets"].items():
        by = {row["method"]: row for row in rows}
        policy, fastdtw = by["pretrained greedy"], by["FastDTW r=1"]
        if name.startswith("Synthetic"):
            assert policy["mean"] <= 1.01
        else:
            assert policy["mean"] <= fastdtw["mean"] and policy["p90"] <= fastdtw["p90"]
            assert policy["frac_optimal"] >= fastdtw["frac_optimal"]
    assert (tmp_path / "benchmark_aligner" / "t" / "benchmark.md").is_file()


def test_long_benchmark_shrunk_runs_every_method_on_synthetic_pairs(tmp_path):
    from experiments.benchmark_aligner import main

    missing = tmp_path / "no-data"  # an empty folder: no long recordings, no UCR sets (a missing one is refused)
    missing.mkdir()
    missing = str(missing)
    argv = ["--long", "--long-lengths", "150", "--long-pairs", "2", "--short-pairs", "1"]
    report = main([*argv, "--long-root", missing, "--data-root", missing, "--radius", "2", "--out-dir", str(tmp_path)])
    # GunPoint is vendored; no long files
    assert list(report["sets"]) == ["synthetic warp n=150", "unrelated random walks n=150", "GunPoint test"]
    rows = report["sets"]["synthetic warp n=150"]
    labels = " | ".join(rows)
    # the pretrained aligner's long-pair network was trained on r=16 and keeps it (--radius: other networks)
    for method in ("policy greedy (corridor r=16)", "HeuristicAligner", "FastDTW r=1", "exact DTW in a band of"):
        assert method in labels
    for row in rows.values():
        assert row["mean"] >= 1 - 1e-9 and row["ms"] >= 0
    markdown = next(tmp_path.glob("benchmark_aligner/*/benchmark.md")).read_text()
    assert markdown.count("| HeuristicAligner") == 4  # three sets and the time table


def test_pretrain_lookahead_accepts_the_corridor_alone():
    from experiments.pretrain_aligner import _parse_lookahead

    assert _parse_lookahead("0x8") == ((0, 8),) and _parse_lookahead("2x16,8x16") == ((2, 16), (8, 16))
    with pytest.raises(ValueError, match="--lookahead: a corridor row"):
        _parse_lookahead("0x8,2x16")


def test_the_warm_up_reaches_the_corridors_pyramid():
    """``warm_up`` aligns one pair past the corridor's coarsest level with every method, so a fresh checkout's
    first timed set does not hold the pyramid's compiles."""
    from envs.corridor import COARSEST
    from experiments import long_benchmark

    seen = []

    def record(pairs):
        seen.extend(pairs)
        return [np.array([[0, 0]]) for _ in pairs]

    long_benchmark.warm_up({"a": record, "b": record})
    assert len(seen) == 2 and all(min(len(x), len(y)) > COARSEST for x, y in seen)
