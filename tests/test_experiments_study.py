"""experiments/study.py on a shrunk grid: outputs, restart without rerunning, shards, and argument errors."""

import csv
from pathlib import Path

import pytest

from dtwrl.runs import read_json
from experiments import study
from tests.script_checks import refusals_test

M1_HEAD = str(Path(__file__).parent / "data" / "m1_yearly_head.tsf")
SMALL = [
    "--datasets",
    M1_HEAD,
    "--losses",
    "mse",
    "soft_dtw",
    "--gammas",
    "1",
    "0.1",
    "--seeds",
    "0",
    "--epochs",
    "1",
    "--hidden-units",
    "4",
]


def test_study_writes_tables_summary_and_restarts_where_it_stopped(tmp_path, capsys):
    study_dir = study.main([*SMALL, "--out-dir", str(tmp_path)])
    assert study_dir == tmp_path / "study" / "study"
    cells = sorted(p.name for p in (study_dir / "cells").glob("*.json"))
    assert cells == [f"m1_yearly_head__{loss}__0.json" for loss in ("mse", "soft_dtw")]
    assert not list((study_dir / "cells").glob("*.lock"))
    with open(study_dir / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["loss"], r["seed"]) for r in rows] == [("mse", "0"), ("soft_dtw", "0")]
    assert rows[1]["gamma"] in ("1.0", "0.1") and len(rows[1]["candidates"].split("; ")) == 2
    table = (study_dir / "tables" / "m1_yearly_head.md").read_text()
    assert "soft_dtw (chosen γ=" in table and "Median seconds per epoch" in table
    summary = (study_dir / "summary.md").read_text()
    assert "| soft_dtw |" in summary and "W/T/L" in summary and "critical difference" in summary
    assert (study_dir / "figures" / "ranks_dtw.png").stat().st_size > 5_000
    capsys.readouterr()

    (study_dir / "cells" / "m1_yearly_head__soft_dtw__0.json").unlink()  # as if killed during that cell
    before = (study_dir / "cells" / "m1_yearly_head__mse__0.json").read_text()
    study.main([*SMALL, "--out-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert "1 already done, 1 to run" in out and "[1/1] m1_yearly_head soft_dtw seed 0" in out
    assert (study_dir / "cells" / "m1_yearly_head__mse__0.json").read_text() == before  # not run again
    # soft-DTW started from the MSE model of its seed, retrained in this process: the MSE cell's model
    mse, sdtw = (read_json(study_dir / "cells" / f"m1_yearly_head__{loss}__0.json") for loss in ("mse", "soft_dtw"))
    assert sdtw["val_dtw_start"] == mse["val_dtw"]

    with pytest.raises(SystemExit):
        study.main([*SMALL, "--epochs", "2", "--out-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert "error: --exp-name: " in err and "other settings (epochs)" in err


def test_mse_is_always_run_and_init_random_is_an_option(tmp_path, capsys):
    argv = ["--datasets", M1_HEAD, "--losses", "soft_dtw", "--gammas", "1", "--seeds", "0", "--epochs", "1"]
    study_dir = study.main([*argv, "--hidden-units", "4", "--out-dir", str(tmp_path)])
    cells = sorted(p.name for p in (study_dir / "cells").glob("*.json"))
    assert cells == [f"m1_yearly_head__{loss}__0.json" for loss in ("mse", "soft_dtw")]
    assert "vs MSE on test DTW" in (study_dir / "summary.md").read_text()
    random_dir = study.main(
        [*argv, "--hidden-units", "4", "--init", "random", "--exp-name", "r", "--out-dir", str(tmp_path)]
    )
    (cell,) = (random_dir / "cells").glob("*.json")
    assert read_json(cell)["val_dtw_start"] == ""


def test_help_states_the_default_start(capsys):
    with pytest.raises(SystemExit):
        study.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Default mse: it starts from the MSE model of the same dataset and seed" in text and "(default: mse)" in text


def test_shards_split_the_grid(tmp_path, capsys):
    for shard in ("0/2", "1/2"):
        study.main([*SMALL[:5], *SMALL[8:], "--shard", shard, "--out-dir", str(tmp_path)])
        assert "1 to run" in capsys.readouterr().out
    assert len(list((tmp_path / "study" / "study" / "cells").glob("*.json"))) == 2


test_bad_arguments_exit_before_anything_is_written = refusals_test(
    "experiments.study",
    [
        ("--losses mse hinge", "--losses: unknown loss 'hinge'"),
        ("--losses mse --datasets /no/such/file.tsf", "--datasets: "),
        ("--shard 2/2", "--shard: needs N >= 1 and 0 <= i < N"),
        ("--shard half", "--shard: must look like i/N"),
        ("--workers 0", "--workers: must be >= 1"),
        ("--gammas nan", "--gammas: must be finite and > 0"),
        ("--seeds -1", "--seeds: must be >= 0"),
    ],
)
