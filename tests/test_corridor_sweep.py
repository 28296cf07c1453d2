"""experiments/corridor_sweep.py: the corridor's optimum by radius and coarsest level, on generated pairs."""

import numpy as np
import pytest

import dtwrl
from envs.corridor import build_corridor
from experiments import corridor_sweep as cs
from tests.script_checks import one_line_refusals_test

TINY = ["--long-lengths", "200", "--long-pairs", "2", "--radii", "1", "4", "--coarsest", "16", "256"]


def test_a_tiny_sweep_reports_every_setting_on_every_generated_set(tmp_path):
    missing = str(tmp_path / "none")
    out = tmp_path / "sweep.md"
    text = cs.main([*TINY, "--data-root", missing, "--long-root", missing, "--out", str(out)])
    assert out.read_text() == text
    lines = text.splitlines()
    assert lines[2].split("|")[2:-1] == [" c=16, r=1 ", " c=16, r=4 ", " c=256, r=1 ", " c=256, r=4 "]
    rows = {line.split("|")[1].strip(): line.split("|")[2:-1] for line in lines[4:]}
    assert list(rows) == [
        "synthetic warp n=200",
        "unrelated random walks n=200",
        "moving averages of noise n=200",
        "three sines, warped n=200",
    ]
    for cells in rows.values():
        ratios = [float(cell.split()[0]) for cell in cells]
        assert min(ratios) >= 1 - 1e-9
        assert ratios[2:] == [1.0, 1.0]  # coarsest >= n: the corridor is the whole grid, its optimum exact DTW


def test_the_optimum_is_the_corridor_value_over_exact_dtw():
    x, y = cs.sines(np.random.default_rng(0), 300)
    ratio, seconds = cs.corridor_optimum(x, y, radius=2, coarsest=32)
    assert ratio == pytest.approx(build_corridor(x, y, radius=2, coarsest=32).value(0, 0) / dtwrl.dtw(x, y))
    assert ratio >= 1 - 1e-12 and seconds >= 0
    a, b = cs.smooth_noise(np.random.default_rng(1), 300)
    assert a.shape == b.shape == (300, 1) and abs(a.std() - 1) < 1e-9 and not np.allclose(a, b)


test_a_bad_flag_is_one_line_and_exit_2 = one_line_refusals_test(
    "experiments.corridor_sweep",
    {
        "--radii -1": "--radii: must be radii >= 0",
        "--coarsest 1": "--coarsest: must be sizes >= 2",
        "--long-lengths 1": "--long-lengths: must be lengths >= 2",
        "--long-pairs 0": "--long-pairs: must be >= 1",
    },
    common=TINY,
)
