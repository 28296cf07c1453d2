"""The oracle comparison script runs end to end on the vendored GunPoint, shrunk."""
import json

import pytest

from experiments import compare_oracles


def test_compare_oracles_writes_run_folder(tmp_path):
    summary = compare_oracles.main(["--num-pairs", "4", "--radii", "1", "--out-dir", str(tmp_path)])
    (run_dir,) = (tmp_path / "compare_oracles").iterdir()
    for name in ("config.json", "metrics.json", "table.md", "figures/ratios.png"):
        assert (run_dir / name).is_file(), name
    assert json.loads((run_dir / "metrics.json").read_text()) == summary
    assert summary["exact DTW"]["mean_ratio"] == 1.0
    assert summary["exact DTW"]["fraction_optimal"] == 1.0
    assert summary["FastDTW r=1"]["mean_ratio"] >= 1.0  # FastDTW never beats exact DTW


def test_compare_oracles_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="num_pairs"):
        compare_oracles.main(["--num-pairs", "0", "--out-dir", str(tmp_path)])
    with pytest.raises(ValueError, match="metric"):
        compare_oracles.main(["--metric", "cosine", "--out-dir", str(tmp_path)])
