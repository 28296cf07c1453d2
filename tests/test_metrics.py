"""Tests for dtwrl.forecasting.metrics against hand-computed values."""

import numpy as np
import pytest
from reference import brute_force_soft_dtw, local_costs

import dtwrl
from dtwrl.forecasting.metrics import dtw_score, evaluate_forecasts, mse, soft_dtw_score, tdi


def test_mse_by_hand():
    assert mse([[0.0, 1.0]], [[1.0, 1.0]]) == 0.5
    y_true = np.array([[[0.0, 0.0], [1.0, 1.0]]])
    y_pred = np.array([[[1.0, 2.0], [1.0, 1.0]]])
    assert mse(y_true, y_pred) == (1.0 + 4.0) / 4  # mean over pairs, steps and features


def test_dtw_score_by_hand():
    # pair 1: row value 1 matches no column, best path (0,0) (1,1) (2,2) costs 0 + 1 + 0;
    # pair 2: every cell costs 1 and the shortest path has 3 cells
    assert dtw_score([[0.0, 1.0, 2.0], [0.0, 0.0, 0.0]], [[0.0, 2.0, 2.0], [1.0, 1.0, 1.0]]) == 2.0
    assert dtw_score([[0.0, 3.0]], [[1.0, 3.0]], metric="abs") == 1.0


def test_dtw_score_with_band_and_unequal_lengths(rng):
    y_true, y_pred = rng.normal(size=(3, 6, 2)), rng.normal(size=(3, 4, 2))
    expected = np.mean([dtwrl.dtw(a, b, band=2) for a, b in zip(y_true, y_pred)])
    assert dtw_score(y_true, y_pred, band=2) == pytest.approx(expected, rel=1e-14)


def test_soft_dtw_score_by_hand():
    # C = [[0, 1], [1, 0]]: the diagonal costs 0 and both staircases cost 1
    assert soft_dtw_score([[0.0, 1.0]], [[0.0, 1.0]], gamma=1.0) == pytest.approx(
        -np.log(1 + 2 * np.exp(-1)), rel=1e-14
    )


def test_soft_dtw_score_in_chunks_matches_brute_force(rng):
    y_true, y_pred = rng.normal(size=(5, 3)), rng.normal(size=(5, 4))
    expected = np.mean([brute_force_soft_dtw(local_costs(a, b), 0.3) for a, b in zip(y_true, y_pred)])
    assert soft_dtw_score(y_true, y_pred, gamma=0.3, batch_size=2) == pytest.approx(expected, rel=1e-12)


def test_tdi_by_hand():
    # the only zero-cost path is (0,0) (0,1) (1,2) (2,3) (3,3): sum (i-j)^2 = 3, over n m = 16
    assert tdi([[0.0, 1.0, 0.0, 0.0]], [[0.0, 0.0, 1.0, 0.0]]) == 3 / 16
    assert tdi([[0.0, 1.0, 2.0]], [[0.0, 1.0, 2.0]]) == 0.0  # the diagonal
    # [0, 1, 2] vs [0, 2]: path (0,0) (1,0) (2,1) -> (0 + 1 + 1) / 6; a second pair on the diagonal
    assert tdi([[0.0, 1.0, 2.0], [0.0, 5.0, 5.0]], [[0.0, 2.0], [0.0, 5.0]]) == pytest.approx((2 / 6 + 1 / 6) / 2)


def test_tdi_band_keeps_the_path_near_the_diagonal():
    y_true, y_pred = [[0.0, 1.0, 0.0, 0.0]], [[0.0, 0.0, 1.0, 0.0]]
    assert tdi(y_true, y_pred, band=0) == 0.0 < tdi(y_true, y_pred)


def test_evaluate_forecasts_keys_and_values(rng):
    y_true, y_pred = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    scores = evaluate_forecasts(y_true, y_pred, gamma=0.5)
    assert list(scores) == ["mse", "dtw", "root_dtw", "soft_dtw", "tdi"]
    assert all(isinstance(v, float) for v in scores.values())
    assert scores["mse"] == mse(y_true, y_pred)
    assert scores["dtw"] == dtw_score(y_true, y_pred)
    roots = [np.sqrt(dtw_score(a[None], b[None])) for a, b in zip(y_true, y_pred)]
    assert scores["root_dtw"] == pytest.approx(np.mean(roots))
    assert scores["soft_dtw"] == soft_dtw_score(y_true, y_pred, gamma=0.5)
    assert scores["tdi"] == tdi(y_true, y_pred)
    assert scores["soft_dtw"] < scores["dtw"] <= 5 * scores["mse"]  # soft-min below min below the diagonal


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: mse(np.zeros((2, 3)), np.zeros((2, 4))), ValueError, "same shape"),
        (lambda: dtw_score(np.zeros((2, 3)), np.zeros((3, 3))), ValueError, "number of series B"),
        (lambda: tdi(np.zeros((1, 3)), np.array([[0.0, np.nan, 0.0]])), ValueError, "y_pred must be finite"),
        (lambda: soft_dtw_score(np.zeros((1, 3)), np.zeros((1, 3)), gamma=0.0), ValueError, "gamma"),
        (lambda: soft_dtw_score(np.zeros((1, 3)), np.zeros((1, 3)), batch_size=0), ValueError, "batch_size"),
        (lambda: evaluate_forecasts(np.zeros((1, 3, 2)), np.zeros((1, 3, 1))), ValueError, "features d"),
        (lambda: dtw_score(np.zeros((1, 3)), np.zeros((1, 3)), metric="cos"), ValueError, "metric"),
    ],
)
def test_metric_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
