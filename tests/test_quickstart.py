"""experiments/quickstart.py (``make demo``) end to end on a shrunk budget."""

import csv

import numpy as np
import pytest
import tensorflow as tf

from experiments import quickstart
from tests.script_checks import refusals_test


def test_quickstart_runs_end_to_end(tmp_path, capsys):
    run_dir = quickstart.main(
        [
            "--bc-env-steps",
            "500",
            "--ppo-env-steps",
            "1",
            "--num-envs",
            "4",
            "--compare-pairs",
            "3",
            "--rounds",
            "2",
            "--model-steps",
            "2",
            "--hidden-units",
            "8",
            "--samples",
            "2",
            "--max-train",
            "10",
            "--max-test",
            "4",
            "--out-dir",
            str(tmp_path),
            "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert run_dir.parent == tmp_path / "quickstart"
    assert out.rstrip().splitlines()[-1].strip() == f"tensorboard --logdir {tmp_path / 'quickstart'}"
    for method in ("| RL policy |", "| FastDTW r=1 |", "| exact DTW | 1.000 | 1.000 | 100.0% |"):
        assert method in out  # the aligner comparison
    with open(run_dir / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["method"] for r in rows] == [*quickstart.DEMO_METHODS, "soft_dtw"]  # one soft-DTW row per γ
    assert sum(r["selected"] == "True" for r in rows) == 4
    assert all(np.isfinite(float(r[m])) for r in rows for m in ("mse", "dtw", "soft_dtw", "tdi"))
    table = (run_dir / "table.md").read_text()
    assert table in out and all(f"| {m}" in table for m in quickstart.DEMO_METHODS)
    assert "| sampled_path (K=2, t=8, lattice γ=0.1, radius 3) |" in table and "soft_dtw (γ=" in table
    for figure in ("aligner_comparison.png", "forecasts.png"):
        assert (run_dir / "figures" / figure).stat().st_size > 10_000
    assert (run_dir / "aligner" / "pretrained" / "tb").is_dir()
    for method in ("greedy_path", "sampled_path"):  # each fine-tuned policy is saved with its figure
        assert list((run_dir / "aligner" / f"finetune-{method}__0" / "figures").glob("*.png"))
    assert list((run_dir / "tb").glob("events.out.tfevents.*"))  # the HParams experiment
    assert all((run_dir / "tb" / f"{m}__0").is_dir() for m in ("greedy_path", "sampled_path", "mse"))
    assert (run_dir / "tb" / "soft_dtw_g1__0").is_dir()
    # --init mse (the default): before its first step every other model forecasts as the trained MSE model does
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    mse_dtw = float(rows[0]["dtw"])
    for trial in ("greedy_path__0", "sampled_path__0", "soft_dtw_g0.1__0"):
        events = EventAccumulator(str(run_dir / "tb" / trial))
        events.Reload()
        first = events.Tensors("eval/test_dtw")[0]
        assert first.step == 0 and float(tf.make_ndarray(first.tensor_proto)) == pytest.approx(mse_dtw, rel=1e-5)


test_bad_arguments_fail_in_one_line_before_any_folder = refusals_test(
    "experiments.quickstart",
    [
        ("--rounds 0", "--rounds: must be >= 1; got 0"),
        ("--gamma -1", "--gamma: must be finite and > 0"),
        ("--gammas 0", "--gammas: must be finite and > 0"),
        ("--init zeros", "--init: must be one of"),
        ("--path-reduction max", "--path-reduction: must be one of"),
        ("--seed -1", "--seed: must be >= 0; got -1"),
        ("--samples 0", "--samples: must be >= 1"),
        ("--num-envs 0", "--num-envs: must be >= 1"),
        ("--methods nope", "--methods: must be among"),
        ("--max-train 1", "--max-train: must be 0 (all) or >= 2"),
        ("--aligner-env nope/Nothing-v0", "--aligner-env: 'nope/Nothing-v0' is not a registered env id"),
    ],
)
