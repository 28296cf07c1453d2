"""experiments/long_horizon_memory.py at a tiny horizon: one row per loss, the ratios to full soft-DTW, its flags."""

from experiments import long_horizon_memory as lhm
from tests.script_checks import one_line_refusals_test

TINY = [
    "--horizon", "16", "--synthetic-length", "1500", "--hidden-units", "4", "--batch-size", "4", "--budgets", "0.3",
    "--repeats", "1",
]  # fmt: skip


def test_a_tiny_run_reports_every_loss_against_full_soft_dtw(tmp_path):
    out = tmp_path / "memory.md"
    text = lhm.main([*TINY, "--out", str(out)])
    assert out.read_text() == text and "H=16, B=4" in text and "fixed mmap threshold" in text
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[1:-1]] for line in text.splitlines()[4:]}
    assert list(rows) == ["mse", "soft_dtw", "corridor:band"]
    assert rows["corridor:band"][1] == "30%" and rows["corridor:band"][2].startswith("band:frac=")
    assert rows["soft_dtw"][5:] == ["1.000", "1.000"] and rows["mse"][6] == "0.000"
    for _name, _budget, _spec, median, spread, vs_full, _beyond in rows.values():
        low, high = map(float, spread.split("-"))
        assert low <= float(median) <= high and float(vs_full) >= 0


test_a_bad_flag_is_one_line_and_exit_2 = one_line_refusals_test(
    "experiments.long_horizon_memory",
    {
        "--repeats 0": "--repeats: must be >= 1",
        "--budgets 1.5": "--budgets: each must be in (0, 1)",
        "--sources policy": "--sources:",
        "--model gru": "--model: must be among",
        "--gamma 0": "--gamma:",
        "--allocator jemalloc": "--allocator: must be one of fixed, dynamic",
    },
    common=TINY,
)
