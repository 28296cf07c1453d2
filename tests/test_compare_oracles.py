"""The oracle comparison script runs end to end on the vendored GunPoint, shrunk."""

import json

from experiments import compare_oracles
from tests.script_checks import out_dir_file_refusal, refusal, refusals_test


def test_compare_oracles_writes_run_folder(tmp_path):
    summary = compare_oracles.main(["--num-pairs", "4", "--radii", "1", "--out-dir", str(tmp_path)])
    (run_dir,) = (tmp_path / "compare_oracles").iterdir()
    for name in ("config.json", "metrics.json", "table.md", "figures/ratios.png"):
        assert (run_dir / name).is_file(), name
    assert json.loads((run_dir / "metrics.json").read_text()) == summary
    assert summary["exact DTW"]["mean_ratio"] == 1.0
    assert summary["exact DTW"]["fraction_optimal"] == 1.0
    assert summary["FastDTW r=1"]["mean_ratio"] >= 1.0  # FastDTW never beats exact DTW


test_compare_oracles_rejects_bad_flags_in_one_line = refusals_test(
    "experiments.compare_oracles",
    [
        ("--num-pairs 0", "--num-pairs: "),
        ("--num-pairs x", "--num-pairs: "),
        ("--radii 0", "--radii: "),
        ("--radii 1 -3", "--radii: "),
        ("--band-fraction nan", "--band-fraction: "),
        ("--band-fraction -1", "--band-fraction: "),
        ("--band-fraction 1.5", "--band-fraction: "),
        ("--metric nope", "--metric: "),
        ("--metric cosine", "--metric: "),
        ("--seed -1", "--seed: "),
        ("--pairs /nonexistent/x.ts", "--pairs: "),
        ("--pairs NoSuchDataset", "--pairs: "),
        ("--bogus 1", "--bogus: "),
    ],
)


def test_compare_oracles_rejects_a_malformed_pairs_file_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad_TRAIN.ts"
    bad.write_text("garbage\n1,2,3\n")
    assert refusal(compare_oracles.main, ["--pairs", str(bad)], tmp_path / "out", capsys).startswith("error: --pairs: ")


def test_compare_oracles_refuses_an_out_dir_that_is_a_file(tmp_path, capsys):
    out_dir_file_refusal(compare_oracles.main, ["--num-pairs", "1", "--radii", "1"], tmp_path, capsys)
