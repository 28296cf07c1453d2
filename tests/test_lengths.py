"""Per-series lengths through the losses, the trainer and the metrics: padded batches equal the cut series."""

import numpy as np
import pytest
import tensorflow as tf

from dtwrl import dtw
from dtwrl.forecasting.metrics import evaluate_forecasts, mse, tdi
from dtwrl.forecasting.models import gru_forecaster, mlp_forecaster
from dtwrl.forecasting.training import ForecasterTrainer, fit_forecaster, mean_loss_with_lengths
from dtwrl.losses import get_loss

LOSSES = [
    ("soft_dtw", {"gamma": 0.5}),
    ("soft_dtw_divergence", {"gamma": 0.5}),
    ("sparse_dtw", {"gamma": 0.5}),
    ("dilate", {"gamma": 0.5, "alpha": 0.3}),
    ("dtw_path", {}),
    ("fastdtw_path", {}),
    ("soft_dtw", {"gamma": 0.5, "normalize": True}),
    ("dtw_path", {"normalize": True}),
]


@pytest.mark.parametrize("name,kwargs", LOSSES)
def test_padded_pairs_score_like_the_cut_pairs_and_padding_gets_no_gradient(rng, name, kwargs):
    y_true, y_pred = rng.normal(size=(3, 7, 2)), rng.normal(size=(3, 6, 2))
    x_len, y_len = np.array([7, 4, 2]), np.array([6, 3, 1])
    loss = get_loss(name, **kwargs)
    pred = tf.Variable(y_pred)
    with tf.GradientTape() as tape:
        values = loss.pair_values(y_true, pred, x_len, y_len)
    grad = tf.convert_to_tensor(tape.gradient(values, pred)).numpy()  # path losses may give IndexedSlices
    cut = [float(loss.pair_values(y_true[b : b + 1, : x_len[b]], y_pred[b : b + 1, : y_len[b]])[0]) for b in range(3)]
    assert np.allclose(values.numpy(), cut, rtol=1e-6, atol=1e-9)
    assert all(not grad[b, y_len[b] :].any() for b in range(3))


def test_dilate_temporal_term_uses_each_pairs_own_grid():
    y = np.array([[0.0, 1.0, 0.0, 0.0, 5.0, 5.0]])
    p = np.array([[0.0, 0.0, 1.0, 0.0, -5.0, 7.0]])
    loss = get_loss("dilate", alpha=0.0, gamma=0.01)
    padded = float(loss.pair_values(y, p, [4], [4])[0])
    assert padded == pytest.approx(float(loss(y[:, :4], p[:, :4])), rel=1e-5)
    assert padded == pytest.approx(3 / 16, rel=1e-3)  # path (0,0) (0,1) (1,2) (2,3) (3,3): (1 + 1 + 1) / (4 * 4)


def test_masked_mse_and_a_loss_without_lengths():
    y = tf.constant([[[1.0], [2.0], [9.0]], [[0.0], [0.0], [0.0]]])
    f = tf.constant([[[1.0], [4.0], [0.0]], [[1.0], [1.0], [1.0]]])
    assert float(mean_loss_with_lengths(tf.keras.losses.MeanSquaredError(), y, f, tf.constant([2, 3]))) == 1.5
    with pytest.raises(ValueError, match="cannot score series of unequal lengths"):
        mean_loss_with_lengths(tf.keras.losses.Huber(), y, f, tf.constant([2, 3]))


def test_trainer_with_lengths_ignores_the_padding(rng):
    X, Y = rng.normal(size=(8, 6, 1)), rng.normal(size=(8, 4, 1))
    x_len, y_len = rng.integers(2, 7, 8).astype(np.int32), rng.integers(1, 5, 8).astype(np.int32)
    noisy_Y, noisy_X = Y.copy(), X.copy()
    for i in range(8):  # change only the padding: inputs on the left, targets on the right
        noisy_Y[i, y_len[i] :] = 1e3
        noisy_X[i, : 6 - x_len[i]] = -1e3
    losses = []
    for inputs, targets in ((X, Y), (noisy_X, noisy_Y)):
        tf.keras.utils.set_random_seed(0)
        trainer = ForecasterTrainer(gru_forecaster(6, 4, units=4, lengths=True), "soft_dtw", gamma=0.1)
        losses.append(trainer.run_epoch(inputs, targets, 4, np.random.default_rng(0), x_len, y_len))
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)


def test_fit_with_lengths_and_val_dtw_monitor(rng):
    X, Y = rng.normal(size=(20, 6, 1)), rng.normal(size=(20, 4, 1))
    lengths = (np.full(20, 6, np.int32), rng.integers(1, 5, 20).astype(np.int32))
    tf.keras.utils.set_random_seed(0)
    history = fit_forecaster(
        mlp_forecaster(6, 4, hidden_units=4), (X, Y, *lengths), "mse", epochs=2, progress=False, monitor="val_dtw"
    )
    assert len(history.history["val_dtw"]) == 2 and np.isfinite(history.history["val_dtw"]).all()


def test_metrics_on_free_length_lists_score_each_pair_at_its_length(rng):
    y_true = [rng.normal(size=(n, 1)) for n in (3, 5, 8)]
    y_pred = [rng.normal(size=(n, 1)) for n in (3, 5, 8)]
    scores = evaluate_forecasts(y_true, y_pred, gamma=0.1)
    assert scores["mse"] == pytest.approx(np.mean([np.mean((a - b) ** 2) for a, b in zip(y_true, y_pred)]))
    assert scores["dtw"] == pytest.approx(np.mean([dtw(a, b) for a, b in zip(y_true, y_pred)]))
    assert scores["tdi"] == pytest.approx(np.mean([tdi(a[None], b[None]) for a, b in zip(y_true, y_pred)]))
    equal = evaluate_forecasts(np.stack(y_true[:1] * 2), np.stack(y_pred[:1] * 2), gamma=0.1)
    assert equal["soft_dtw"] == pytest.approx(evaluate_forecasts(y_true[:1], y_pred[:1], gamma=0.1)["soft_dtw"])
    with pytest.raises(ValueError, match="same shape for mse"):
        mse([np.zeros(3)], [np.zeros(4)])
