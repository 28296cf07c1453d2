"""experiments/quickstart.py (``make demo``) end to end on a shrunk budget."""
import csv

import numpy as np
import pytest

from experiments import quickstart


def test_quickstart_runs_end_to_end(tmp_path, capsys):
    run_dir = quickstart.main(["--bc-env-steps", "500", "--ppo-env-steps", "1", "--num-envs", "4",
                               "--compare-pairs", "3", "--rounds", "2", "--model-steps", "2", "--hidden-units", "8",
                               "--max-train", "10", "--max-test", "4", "--out-dir", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    assert run_dir.parent == tmp_path / "quickstart"
    assert out.rstrip().splitlines()[-1].strip() == f"tensorboard --logdir {tmp_path / 'quickstart'}"
    for method in ("| RL policy |", "| FastDTW r=1 |", "| exact DTW | 1.000 | 1.000 | 100.0% |"):
        assert method in out  # the aligner comparison
    with open(run_dir / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["method"] for r in rows] == ["policy_path", "soft_dtw", "mse"]
    assert all(np.isfinite(float(r[m])) for r in rows for m in ("mse", "dtw", "soft_dtw", "tdi"))
    table = (run_dir / "table.md").read_text()
    assert table in out and all(f"| {m} |" in table for m in ("policy_path", "soft_dtw", "mse"))
    for figure in ("aligner_comparison.png", "forecasts.png"):
        assert (run_dir / "figures" / figure).stat().st_size > 10_000
    assert (run_dir / "tb" / "policy_path__0").is_dir() and (run_dir / "aligner" / "pretrained" / "tb").is_dir()


@pytest.mark.parametrize("argv,message", [
    (["--rounds", "0"], "--rounds must be >= 1"),
    (["--gamma", "-1"], "--gamma must be > 0"),
])
def test_bad_arguments(tmp_path, argv, message):
    with pytest.raises(SystemExit) as excinfo:
        quickstart.main([*argv, "--out-dir", str(tmp_path)])
    assert message in str(excinfo.value.code)
