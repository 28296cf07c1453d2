"""experiments/long_horizon.py end to end on a shrunk synthetic configuration, its resumption and its flag checks."""

import json

import numpy as np
import pytest

from dtwrl.forecasting.models import build_forecaster
from dtwrl.losses import SoftDTWLoss
from experiments import long_horizon as lh
from tests.script_checks import refusals_test

# the step memory spawns a process per trial: tested alone below
SMALL = [
    "--data", "synthetic", "--horizon", "12", "--synthetic-length", "1200", "--max-train", "8", "--max-test", "4",
    "--models", "mlp", "--sources", "random", "--no-full", "--budgets", "0.3", "--gammas", "1.0", "--seeds", "0",
    "--mse-epochs", "1", "--epochs", "1", "--hidden-units", "4", "--batch-size", "4", "--no-step-memory",
]  # fmt: skip


def test_a_shrunk_run_writes_its_table_figure_and_logs_and_resumes(tmp_path, capsys):
    run_dir = lh.main([*SMALL, "--out-dir", str(tmp_path)])
    table = (run_dir / "table.md").read_text()
    for loss in ("mse", "corridor:random"):
        assert f"| {loss} |" in table
    assert (run_dir / "figures" / "dtw_vs_time.png").stat().st_size > 0
    assert any((run_dir / "tb").iterdir())
    trials = sorted((run_dir / "trials").glob("*.json"))
    assert len(trials) == 2
    record = json.loads((run_dir / "trials" / "mlp__corridor-random__b0.3__g1__seed0.json").read_text())
    assert record["spec"].startswith("random:r=") and 0 < record["test_cell_share"] < 1
    assert 0 <= record["test_path_leaves"] <= 1 and record["seconds_per_epoch"] > 0
    assert "step_peak_mb" not in record and "step peak MB" in table
    stamps = [p.stat().st_mtime_ns for p in trials]
    capsys.readouterr()
    lh.main([*SMALL, "--out-dir", str(tmp_path)])  # resumes: every trial is finished, none is trained again
    assert "training" not in capsys.readouterr().out
    assert [p.stat().st_mtime_ns for p in trials] == stamps
    (run_dir / "trials" / "mlp__mse__seed0.json").unlink()  # --report-only leaves it out and trains nothing
    lh.main([*SMALL, "--out-dir", str(tmp_path), "--report-only"])
    out = capsys.readouterr().out
    assert "training" not in out and "| corridor:random |" in out and "| mse |" not in out


def test_windows_are_centred_by_default_the_same_windows_shifted_by_their_input_mean():
    plain = lh.prepare_data(lh.validate(lh.parse_args(lh.Args, [*SMALL, "--no-center-windows"])))
    centred = lh.prepare_data(lh.validate(lh.parse_args(lh.Args, SMALL)))
    for part in ("train", "val", "test"):
        (X, Y), (Xc, Yc) = plain[part], centred[part]
        level = X.astype(np.float64).mean(axis=1, keepdims=True)
        np.testing.assert_allclose(Xc, X - level, atol=1e-5)
        np.testing.assert_allclose(Yc, Y - level, atol=1e-5)
        np.testing.assert_allclose(Xc.mean(axis=1), 0, atol=1e-5)
    assert np.ptp(plain["test"][0].mean(axis=1)) > 0.1  # the plain windows do sit at different levels


def test_the_budget_calibration_lands_near_the_budget(rng):
    y_true = np.cumsum(rng.normal(size=(3, 64, 1)), axis=1)
    y_pred = y_true + 0.1 * rng.normal(size=y_true.shape)
    args = lh.validate(lh.parse_args(lh.Args, ["--horizon", "64"]))
    for source in ("band", "exact", "random"):
        spec = lh.calibrate(source, 0.1, y_true, y_pred, args)
        assert abs(lh.cell_share(spec, y_true, y_pred) - 0.1) < 0.05, spec


def test_the_step_memory_of_a_loss_that_allocates_more_is_larger(rng):
    # full soft-DTW keeps ~4 MB of kernel scratch per pair at H = 1024, a 1% band a few hundred kB; each is
    # measured in its own fresh process, full first, so the band cannot reuse full's freed memory either way
    H = 1024
    weights = build_forecaster("mlp", 32, H, hidden_units=4).get_weights()
    x, y = rng.normal(size=(4, 32, 1)).astype(np.float32), rng.normal(size=(4, H, 1)).astype(np.float32)
    full = lh.step_memory_mb("mlp", weights, x, y, SoftDTWLoss(gamma=0.1), 4)
    band = lh.step_memory_mb("mlp", weights, x, y, SoftDTWLoss(gamma=0.1, corridor="band:frac=0.01"), 4)
    assert full > band + 8, (full, band)


test_bad_flags_exit_2_before_any_folder = refusals_test(
    "experiments.long_horizon",
    [
        ("--horizon 2", "--horizon: must be >= 4"),
        ("--sources nope", "--sources: must be among"),
        ("--budgets 1.5", "--budgets: each must be in (0, 1)"),
        ("--gammas 0", "--gammas:"),
        ("--data no_such_file.csv", "--data:"),
        ("--horizon 1000 --synthetic-length 1500", "--horizon: the train part"),
    ],
)


def test_data_reads_a_csv_as_the_long_recordings_are_read(tmp_path):
    """``--data`` a CSV: the one reader of the long recordings (``read_recording``), so dates as the index and gaps
    work, and a bad value is refused naming the flag, the file and the line. Before, its own parser skipped a first
    data row whose index was a date, as a header."""
    import types

    from experiments.cli import CLIError

    path = tmp_path / "r.csv"
    path.write_text("2020-01-01 00:00,1\n2020-01-01 00:01,\n2020-01-01 00:02,3\n")
    series = lh.load_series(types.SimpleNamespace(data=str(path), data_root=str(tmp_path)))
    assert series.tolist() == [1.0, 2.0, 3.0]
    path.write_text("0,1\n1,x\n")
    with pytest.raises(CLIError, match=r"--data: r.csv, line 2: the value 'x' is not a number"):
        lh.load_series(types.SimpleNamespace(data=str(path), data_root=str(tmp_path)))
