"""experiments/forecast.py end to end on shrunk configs, and its argument errors."""

import csv
import json
import shlex
from pathlib import Path

import numpy as np
import pytest

from experiments import forecast
from tests.script_checks import refusals_test

SMALL = shlex.split("--epochs 2 --hidden-units 8 --max-train 12 --max-test 6 --num-plot 2 --no-progress")


def read_rows(run_dir):
    with open(run_dir / "metrics.csv") as f:
        return list(csv.DictReader(f))


def tensorboard_tags(log_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir))
    acc.Reload()
    return set(acc.Tags()["tensors"])


def test_gunpoint_sweep_writes_every_output(tmp_path):
    run_dir = forecast.main(
        [
            "--dataset",
            "GunPoint",
            "--losses",
            "mse",
            "soft_dtw",
            "dtw_path",
            "--gammas",
            "1",
            "0.1",
            "--seeds",
            "0",
            "1",
            "--out-dir",
            str(tmp_path),
            *SMALL,
        ]
    )
    assert run_dir.parent == tmp_path / "forecast" and run_dir.name.startswith("GunPoint__forecast-mlp__0-1__")
    config = json.loads((run_dir / "config.json").read_text())
    assert config["losses"] == ["mse", "soft_dtw", "dtw_path"] and config["train_shapes"][0] == [12, 90, 1]

    rows = read_rows(run_dir)
    labels = ["mse", "soft_dtw (γ=1)", "soft_dtw (γ=0.1)", "dtw_path"]
    unmarked = lambda config: config.split(" ⚠")[0]  # noqa: E731  (a mark says a loss lost to its MSE start)
    assert [(unmarked(r["config"]), r["seed"]) for r in rows] == [(c, s) for c in labels for s in ("0", "1")]
    assert all(np.isfinite(float(r[m])) for r in rows for m in forecast.METRICS)
    assert all(float(r["dtw"]) <= 60 * float(r["mse"]) + 1e-9 for r in rows)  # DTW <= diagonal path cost

    table = (run_dir / "table.md").read_text()
    normalised, original = table.split("The same forecasts in original units")
    assert "z-score units (mean and std of the train split)" in normalised
    body = [line for line in normalised.splitlines() if line.startswith("| ") and "config" not in line]
    assert len([line for line in original.splitlines() if line.startswith("| ")]) == 1 + len(labels)
    assert all(np.isfinite(float(r["orig_dtw"])) for r in rows)
    assert [unmarked(line.split(" | ")[0][2:]) for line in body] == labels
    assert all(line.endswith("| 2 |") for line in body)  # two seeds per row
    for column in range(1, 5):  # one bold best cell (at least) in every metric column
        assert any(line.split(" | ")[column].startswith("**") for line in body)
    assert "python experiments/forecast.py --dataset GunPoint" in table

    assert (run_dir / "figures" / "forecasts.png").stat().st_size > 10_000
    assert len(list((run_dir / "checkpoints").glob("*.weights.h5"))) == 8
    assert {
        "eval/mse",
        "eval/dtw",
        "eval/soft_dtw",
        "eval/tdi",
        "losses/train",
        "losses/val",
        "_hparams_/session_start_info",
    } <= tensorboard_tags(run_dir / "tb" / "soft_dtw_g0.1__1")
    assert "_hparams_/experiment" in tensorboard_tags(run_dir / "tb")


def test_train_file_path_brings_its_test_split(tmp_path, small_ucr_root):
    path = small_ucr_root / "ItalyPowerDemand" / "ItalyPowerDemand_TRAIN.ts"
    run_dir = forecast.main(
        [
            "--dataset",
            str(path),
            "--losses",
            "mse",
            "--epochs",
            "1",
            "--hidden-units",
            "4",
            "--max-train",
            "10",
            "--max-test",
            "5",
            "--no-progress",
            "--out-dir",
            str(tmp_path),
        ]
    )
    (row,) = read_rows(run_dir)
    assert row["dataset"] == "ItalyPowerDemand" and row["epochs"] == "1"
    assert json.loads((run_dir / "config.json").read_text())["test_shapes"][0] == [5, 14, 1]


def test_synthetic_steps_with_dilate_and_gru(tmp_path):
    run_dir = forecast.main(
        [
            "--dataset",
            "synthetic_steps",
            "--synthetic-series",
            "10",
            "--model",
            "gru",
            "--losses",
            "dilate",
            "--gammas",
            "0.01",
            "--out-dir",
            str(tmp_path),
            *SMALL,
        ]
    )
    mse, row = read_rows(run_dir)  # the MSE model is trained first, as dilate's start, and reported
    assert mse["config"] == "mse" and row["config"].startswith("dilate (γ=0.01, α=0.5)") and row["model"] == "gru"


def test_corridor_runs_the_soft_dtw_losses_on_the_named_corridor(tmp_path, monkeypatch):
    starts = record_fits(monkeypatch)
    argv = ["--dataset", "synthetic_steps", "--synthetic-series", "10", "--losses", "soft_dtw", "dilate"]
    run_dir = forecast.main([*argv, "--corridor", "fastdtw:r=2", "--out-dir", str(tmp_path), *SMALL])
    corridors = {type(loss).__name__: getattr(loss, "corridor", None) for loss, *_ in starts}
    assert corridors == {"MSELoss": None, "SoftDTWLoss": "fastdtw:r=2", "DILATELoss": None}
    assert json.loads((run_dir / "config.json").read_text())["corridor"] == "fastdtw:r=2"
    assert all(np.isfinite(float(row["dtw"])) for row in read_rows(run_dir))


def record_fits(monkeypatch, after=None):
    """Record (loss, weights before, monitor, weights after) of every fit_forecaster call; ``after`` alters a model."""
    import dtwrl.forecasting.training

    starts, fit = [], dtwrl.forecasting.training.fit_forecaster

    def recording_fit(model, train, loss, **kwargs):
        starts.append((loss, [w.copy() for w in model.get_weights()], kwargs["monitor"]))
        history = fit(model, train, loss, **kwargs)
        if after is not None:
            after(model, loss)
        starts[-1] += ([w.copy() for w in model.get_weights()],)
        return history

    monkeypatch.setattr(dtwrl.forecasting.training, "fit_forecaster", recording_fit)
    return starts


def test_by_default_every_other_loss_starts_from_the_mse_model_which_is_reported(tmp_path, monkeypatch, capsys):
    starts = record_fits(monkeypatch)
    argv = ["--dataset", "GunPoint", "--losses", "soft_dtw", "--gammas", "1", "0.1", "--seeds", "0", "1"]
    run_dir = forecast.main([*argv, "--monitor", "val_dtw", "--out-dir", str(tmp_path), *SMALL])
    # seed-major: the MSE model of a seed, then its soft-DTW candidates
    assert [loss.name for loss, *_ in starts] == ["mse", "soft_dtw", "soft_dtw"] * 2
    assert all(monitor == "val_dtw" for _, _, monitor, _ in starts)
    for mse, candidates in ((0, (1, 2)), (3, (4, 5))):  # soft-DTW models start where the MSE model of their seed ended
        for i in candidates:
            assert all(np.array_equal(a, b) for a, b in zip(starts[i][1], starts[mse][3]))
    assert not all(np.array_equal(a, b) for a, b in zip(starts[0][1], starts[0][3]))  # MSE itself: random start
    rows = read_rows(run_dir)
    assert [(r["loss"], r["seed"]) for r in rows] == [("mse", "0"), ("mse", "1")] + [
        ("soft_dtw", "0"),
        ("soft_dtw", "1"),
    ] * 2
    assert all(np.isfinite(float(r["best_val_dtw"])) for r in rows)
    assert all(float(r["val_dtw_start"]) == float(rows[int(r["seed"])]["val_dtw"]) for r in rows[2:])
    assert json.loads((run_dir / "config.json").read_text())["init"] == "mse"

    starts.clear()  # --init random: every loss from the seed's own random weights
    forecast.main([*argv, "--init", "random", "--out-dir", str(tmp_path / "random"), *SMALL])
    assert [loss.name for loss, *_ in starts] == ["soft_dtw"] * 4
    assert all(np.array_equal(a, b) for a, b in zip(starts[0][1], starts[1][1]))  # same seed, same start


def _wreck_non_mse(model, loss):
    """A loss that ends far from the data: its weights scaled up, so its validation DTW is above MSE's."""
    if loss.name != "mse":
        model.set_weights([w * 50.0 for w in model.get_weights()])


@pytest.mark.parametrize("keep", [False, True])
def test_a_loss_worse_than_its_mse_start_on_validation_is_reported_and_keep_start_keeps_mse(
    tmp_path, monkeypatch, capsys, keep
):
    record_fits(monkeypatch, after=_wreck_non_mse)
    argv = ["--dataset", "GunPoint", "--losses", "mse", "soft_dtw", "--gammas", "1", "0.1", "--select", "val_dtw"]
    argv += ["--seeds", "0", "1", "--out-dir", str(tmp_path), *SMALL] + (["--keep-start"] if keep else [])
    run_dir = forecast.main(argv)
    out = capsys.readouterr().out
    rows = {(r["loss"], r["seed"]): r for r in read_rows(run_dir)}
    for seed in ("0", "1"):
        mse, sdtw = rows[("mse", seed)], rows[("soft_dtw", seed)]
        assert f"soft_dtw seed {seed}: its best validation DTW" in out
        assert sdtw["worse_than_start"] == "True" and sdtw["kept_start"] == str(keep)
        if keep:  # the chosen model is the MSE model itself: same validation DTW, same test scores
            assert float(sdtw["val_dtw"]) == float(mse["val_dtw"]) and float(sdtw["dtw"]) == float(mse["dtw"])
            assert "mse start: val_dtw=" in sdtw["candidates"] and sdtw["gamma"] == ""
        else:
            assert float(sdtw["val_dtw"]) > float(mse["val_dtw"]) and float(sdtw["dtw"]) != float(mse["dtw"])
    table = (run_dir / "table.md").read_text()
    assert "⚠ val DTW > MSE: seed 0, 1" in table and ("MSE start kept: seed 0, 1" in table) == keep
    assert "⚠ marks a loss whose best validation DTW" in table


def test_keep_start_never_chooses_worse_than_mse_on_validation(tmp_path):
    run_dir = forecast.main(
        ["--dataset", "GunPoint", "--losses", "soft_dtw", "--gammas", "1", "--seeds", "0", "1", "2"]
        + ["--keep-start", "--out-dir", str(tmp_path), *SMALL]
    )
    rows = read_rows(run_dir)
    mse = {r["seed"]: float(r["val_dtw"]) for r in rows if r["loss"] == "mse"}
    assert all(float(r["val_dtw"]) <= mse[r["seed"]] for r in rows if r["loss"] == "soft_dtw")


test_bad_arguments_exit_with_one_line_naming_the_flag = refusals_test(
    "experiments.forecast",
    [
        ("--losses mse hinge", "--losses: unknown loss 'hinge'"),
        ("--losses policy_path --aligner /no/such/run", "--aligner: no such run folder"),
        ("--dataset /no/such/folder", "--dataset: path '/no/such/folder' does not exist"),
        ("--dataset NoSuchDataset", "--dataset: "),
        ("--input-fraction 0.999", "--dataset: GunPoint train[0] is too short"),
        ("--model transformer", "--model: must be one of"),
        ("--gammas 0", "--gammas: must be finite and > 0"),
        ("--gammas nan", "--gammas: must be finite and > 0"),
        ("--epochs 0", "--epochs: must be >= 1"),
        ("--seeds 1 1", "--seeds: must be distinct"),
        ("--seeds -1", "--seeds: must be >= 0"),
        ("--validation-split 1.5", "--validation-split: must be in (0, 1)"),
        ("--validation-split nan", "--validation-split: must be in (0, 1)"),
        ("--learning-rate -1", "--learning-rate: must be finite and > 0"),
        ("--learning-rate nan", "--learning-rate: must be finite and > 0"),
        ("--eval-gamma nan", "--eval-gamma: must be finite and > 0"),
        ("--max-train 1", "--max-train: validation_split=0.2 leaves no training or no validation series"),
        ("--monitor val_mse", "--monitor: must be one of"),
        ("--init zeros", "--init: must be one of"),
        ("--normalize minmax", "--normalize: must be one of"),
        ("--select val_mse", "--select: must be one of"),
        ("--dilate-alpha 1.5", "--dilate-alpha: must be in [0, 1]"),
        ("--init random --keep-start", "--keep-start: needs --init mse"),
        ("--horizon 200", "--horizon: horizon 200 is too long for GunPoint train[0] of length 150"),
        ("--losses soft_dtw --corridor nope:r=3", "--corridor: unknown corridor source 'nope'"),
        ("--losses soft_dtw --corridor fastdtw:r=-1", "--corridor: r must be an int >= 0"),
        ("--losses soft_dtw --corridor fastdtw:r", "--corridor: parameters are key=value pairs"),
        ("--losses mse dilate --corridor band:frac=0.1", "--corridor: applies to soft_dtw"),
    ],
)


def test_help_lists_every_argument(capsys):
    with pytest.raises(SystemExit):
        forecast.main(["--help"])
    out = capsys.readouterr().out
    assert all(f"--{f.replace('_', '-')}" in out for f in forecast.Args.__dataclass_fields__)
    text = " ".join(out.split())  # the default start is stated
    assert "Default mse: the MSE model of the same seed is trained first" in text and "(default: mse)" in text


M1_HEAD = Path(__file__).parent / "data" / "m1_yearly_head.tsf"


def test_m1_tsf_with_the_masked_gru_scores_every_series_at_its_own_length(tmp_path):
    run_dir = forecast.main(
        [
            "--dataset",
            str(M1_HEAD),
            "--model",
            "gru",
            "--losses",
            "mse",
            "dilate",
            "--gammas",
            "0.1",
            "--normalize",
            "zscore-series",
            "--out-dir",
            str(tmp_path),
            *SMALL,
        ]
    )
    config = json.loads((run_dir / "config.json").read_text())
    assert config["layout"]["takes_lengths"] and config["layout"]["output_length"] == 6
    assert "Monash rolling origin" in config["split_rule"] and config["units"].startswith("per-series z-score")
    rows = read_rows(run_dir)
    assert [r["loss"] for r in rows] == ["mse", "dilate"]
    assert all(np.isfinite(float(r[k])) for r in rows for k in ("dtw", "tdi", "orig_dtw", "orig_mse"))
    assert all(float(r["orig_mse"]) > 1e3 * float(r["mse"]) for r in rows)  # M1 counts are in the thousands
    assert "original units" in (run_dir / "table.md").read_text()


def test_csv_dataset_and_validation_chosen_gamma(tmp_path):
    rng = np.random.default_rng(0)
    rows = [np.sin(0.3 * np.arange(n) + rng.uniform(0, 6)) * 100 + 500 for n in rng.integers(20, 40, size=20)]
    path = tmp_path / "waves.csv"
    path.write_text("\n".join(",".join(f"{v:.3f}" for v in r) for r in rows) + "\n")
    run_dir = forecast.main(
        [
            "--dataset",
            str(path),
            "--losses",
            "mse",
            "soft_dtw",
            "--gammas",
            "1",
            "0.01",
            "--select",
            "val_dtw",
            "--seeds",
            "0",
            "1",
            "--out-dir",
            str(tmp_path / "out"),
            "--epochs",
            "2",
            "--hidden-units",
            "8",
            "--no-progress",
        ]
    )
    assert run_dir.name.startswith("waves__forecast-mlp__0-1__")
    rows = read_rows(run_dir)
    assert [r["loss"] for r in rows] == ["mse", "mse", "soft_dtw", "soft_dtw"]
    for row in rows[2:]:  # the kept gamma is the candidate of lowest validation DTW
        scores = dict(part.split(": val_dtw=") for part in row["candidates"].split("; "))
        assert float(row["gamma"]) == float(min(scores, key=lambda k: float(scores[k]))[2:])
        assert float(row["val_dtw"]) == pytest.approx(min(map(float, scores.values())), rel=1e-3)
    table = (run_dir / "table.md").read_text()
    assert "soft_dtw (chosen γ=" in table and "seeded permutation" in table


@pytest.mark.parametrize(
    "content,name,message",
    [
        ("\n\n", "empty.csv", "--dataset: empty.csv: holds no series"),
        ("@relation x\n@horizon 2\n", "nodata.tsf", "--dataset: nodata.tsf: no @data tag found"),
        ("@horizon 5\n@data\n1,2,3,4,5,6,7,8\n", "short.tsf", "--dataset: horizon 5 is too long for short[0]"),
    ],
)
def test_bad_dataset_files_exit_with_one_line(tmp_path, capsys, content, name, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(SystemExit):
        forecast.main(["--dataset", str(path), "--out-dir", str(tmp_path / "out")])
    assert message in capsys.readouterr().err and not (tmp_path / "out").exists()
