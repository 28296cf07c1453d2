"""experiments/corridor_gradients.py on a shrunk synthetic configuration, and its flag checks."""

import pytest

from experiments import corridor_gradients as cg
from tests.script_checks import one_line_refusal

SMALL = [
    "--horizon", "16", "--synthetic-length", "1500", "--max-train", "8", "--hidden-units", "4", "--mse-epochs", "1",
    "--steps", "1", "--every", "1", "--sources", "band", "exact", "--budgets", "0.3", "--gammas", "1.0", "0.1",
    "--batch-size", "4",
]  # fmt: skip


def _rows(text):
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in text.splitlines()[4:] if line]


@pytest.mark.parametrize("follow, mass", [("full", "--mass"), ("exact:0.3:0.1", "--no-mass")])
def test_a_shrunk_probe_compares_every_loss_with_full_soft_dtw(tmp_path, follow, mass):
    out = tmp_path / "probe.md"
    text = cg.main([*SMALL, "--follow", follow, mass, "--out", str(out)])
    assert out.read_text() == text
    rows = _rows(text)
    assert {row[0] for row in rows} == {"0", "1"} and len(rows) == 2 * (2 + 2 * 2)
    for _step, _dtw, loss, _budget, gamma, param_cos, pred_cos, share in rows:
        assert -1 <= float(param_cos) <= 1 and -1 <= float(pred_cos) <= 1
        if loss == "soft_dtw":
            assert float(share) == 1.0
        else:
            assert 0 <= float(share) <= 1 if mass == "--mass" else share == "nan"
        if loss == "soft_dtw" and gamma == "0.1":  # the reference itself
            assert float(param_cos) == 1.0 and float(pred_cos) == 1.0


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--follow", "nope"], "--follow: must be full or source:budget:gamma"),
        (["--follow", "exact:2:0.1"], "--follow: budget must be in (0, 1)"),
        (["--reference-gamma", "0"], "--reference-gamma:"),
        (["--every", "0"], "--every:"),
    ],
)
def test_bad_flags_exit_2(capsys, flags, message):
    assert message in one_line_refusal(cg.main, [*SMALL, *flags], capsys)
