"""fit_forecaster and ForecasterTrainer: learning, early stopping, logging, path losses in the step."""

import numpy as np
import pytest
import tensorflow as tf

from dtwrl.aligners import ExactDTWAligner
from dtwrl.forecasting.models import mlp_forecaster
from dtwrl.forecasting.training import ForecasterTrainer, evaluate_forecaster, fit_forecaster, predict, resolve_loss
from dtwrl.losses import PathLoss
from experiments.reporting import plot_forecasts, summarize, summary_table


def sine_task(rng, n=48, n_in=12, n_out=8):
    """Shifted sines: the continuation is a smooth function of the window."""
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    t = np.arange(n_in + n_out)[None, :]
    series = np.sin(0.4 * t + phase)[:, :, None]
    return series[:, :n_in], series[:, n_in:]


def scalars(log_dir):
    """{tag: [(step, value), ...]} from the TensorBoard event files under log_dir."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir), size_guidance={"tensors": 0})
    acc.Reload()
    return {
        tag: [(e.step, float(tf.make_ndarray(e.tensor_proto))) for e in acc.Tensors(tag)]
        for tag in acc.Tags()["tensors"]
    }


def fit_new_mlp(train, loss, init_seed, hidden_units, **kwargs):
    """``(model, history)``: an MLP forecaster initialised from ``init_seed``, fitted quietly on ``train``."""
    X, Y = train
    tf.keras.utils.set_random_seed(init_seed)
    model = mlp_forecaster(X.shape[1], Y.shape[1], hidden_units=hidden_units)
    return model, fit_forecaster(model, train, loss, progress=False, **kwargs)


def test_mse_training_learns_the_continuation(rng, tmp_path):
    X, Y = sine_task(rng)
    _, history = fit_new_mlp(
        (X, Y), "mse", 0, 32, epochs=60, batch_size=16, learning_rate=1e-2, validation_split=0.25, log_dir=tmp_path
    )
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    assert len(history.epoch_seconds) == 60 and history.best_epoch is not None
    logged = scalars(tmp_path)
    assert [s for s, _ in logged["losses/train"]] == list(range(1, 61))
    assert np.allclose([v for _, v in logged["losses/val"]], history.history["val_loss"], rtol=1e-6)
    assert "charts/epoch_seconds" in logged


def test_early_stopping_restores_the_best_weights(rng):
    X = rng.normal(size=(40, 6, 1))
    Y = rng.normal(size=(40, 3, 1))  # pure noise: the validation loss soon rises
    X_val, Y_val = rng.normal(size=(20, 6, 1)), rng.normal(size=(20, 3, 1))
    loss = tf.keras.losses.MeanSquaredError()  # a Loss object, not a name
    model, history = fit_new_mlp(
        (X, Y), loss, 1, 64, epochs=200, batch_size=8, learning_rate=3e-2, validation_data=(X_val, Y_val), patience=2
    )
    val = history.history["val_loss"]
    assert history.stopped_early and len(val) < 200
    assert len(val) == history.best_epoch + 2 + 2  # best epoch, then patience + 1 worse epochs
    assert history.best_epoch == int(np.argmin(val))
    restored = float(np.mean((predict(model, X_val) - Y_val) ** 2))
    assert restored == pytest.approx(min(val), rel=1e-5)


def test_monitor_val_dtw_selects_and_restores_the_epoch_of_lowest_validation_dtw(rng, tmp_path):
    from dtwrl.forecasting.metrics import dtw_score

    X, Y = sine_task(rng, n=40)
    X_val, Y_val = sine_task(rng, n=12)
    model, history = fit_new_mlp(
        (X, Y),
        "soft_dtw",
        2,
        16,
        epochs=12,
        batch_size=8,
        learning_rate=1e-2,
        validation_data=(X_val, Y_val),
        patience=3,
        monitor="val_dtw",
        log_dir=tmp_path,
        loss_kwargs={"gamma": 0.1},
    )
    val_dtw = history.history["val_dtw"]
    assert len(val_dtw) == len(history.history["val_loss"]) == len(history.history["loss"])
    assert history.best_epoch == int(np.argmin(val_dtw))
    assert dtw_score(Y_val, predict(model, X_val)) == pytest.approx(min(val_dtw), rel=1e-4)
    assert np.allclose([v for _, v in scalars(tmp_path)["losses/val_dtw"]], val_dtw, rtol=1e-5)


def test_same_seed_same_history(rng):
    X, Y = sine_task(rng, n=24)

    def run():
        return fit_new_mlp((X, Y), "mse", 3, 8, epochs=3, batch_size=5, seed=3)[1].history

    assert run() == run()


class CountingAligner:
    """Exact DTW paths, recording the batch size of every call."""

    def __init__(self):
        self.batch_sizes = []
        self.exact = ExactDTWAligner()

    def __call__(self, y_true, y_pred):
        self.batch_sizes.append(len(y_true))
        return self.exact(y_true, y_pred)


def test_path_loss_runs_its_aligner_once_per_batch_inside_the_compiled_step(rng):
    X, Y = sine_task(rng, n=32)
    aligner = CountingAligner()
    tf.keras.utils.set_random_seed(0)
    model = mlp_forecaster(12, 8, hidden_units=16)
    trainer = ForecasterTrainer(model, PathLoss(aligner), learning_rate=1e-2)
    before = trainer.evaluate(X, Y)
    calls = len(aligner.batch_sizes)
    losses = [trainer.run_epoch(X, Y, batch_size=16, rng=rng) for _ in range(5)]
    assert aligner.batch_sizes[calls:] == [16, 16] * 5  # whole batches, never pair by pair
    assert trainer.steps == 10
    after = trainer.evaluate(X, Y)
    assert after < 0.7 * before and np.all(np.isfinite(losses))
    exact = evaluate_forecaster(model, (X, Y))["dtw"]
    assert exact <= after + 1e-4  # DTW is the cheapest path: never above the aligner's cost


def test_run_steps_keeps_optimizer_state_and_reshuffles(rng):
    X, Y = sine_task(rng, n=10)
    trainer = ForecasterTrainer(mlp_forecaster(12, 8, hidden_units=4), tf.keras.losses.MeanSquaredError())
    trainer.run_steps(X, Y, steps=7, batch_size=4, rng=rng)  # 2 batches a pass: wraps around
    trainer.run_steps(X, Y, steps=2, batch_size=32, rng=rng)  # batch size capped at N
    assert trainer.steps == 9


def test_soft_dtw_by_name_with_gamma(rng):
    X, Y = sine_task(rng, n=16)
    history = fit_forecaster(
        mlp_forecaster(12, 8, hidden_units=4),
        (X, Y),
        "soft_dtw",
        epochs=2,
        loss_kwargs={"gamma": 0.5},
        validation_split=0.0,
        progress=False,
    )
    assert "val_loss" not in history.history and history.best_epoch is None


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": -1}, "batch_size"),
        ({"validation_split": 1.0}, "validation_split"),
        ({"validation_split": 0.01}, "validation_split"),
        ({"patience": -1}, "patience"),
        ({"loss": "hinge_dtw"}, "hinge_dtw"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"train": (np.zeros((4, 6)), np.zeros((3, 2)))}, "differ in length"),
        ({"train": (np.full((4, 6), np.nan), np.zeros((4, 2)))}, "NaN"),
        ({"train": (np.zeros(6), np.zeros(2))}, r"train\[0\]"),
        ({"monitor": "val_mse"}, "monitor"),
    ],
)
def test_bad_arguments(kwargs, match):
    params = {"train": (np.zeros((8, 6)), np.zeros((8, 2))), "loss": "mse", "progress": False, **kwargs}
    with pytest.raises(ValueError, match=match):
        fit_forecaster(mlp_forecaster(6, 2, hidden_units=2), **params)


def test_resolve_loss():
    assert resolve_loss("soft_dtw", gamma=0.3).gamma == 0.3
    with pytest.raises(ValueError, match="loss_kwargs"):
        resolve_loss(tf.keras.losses.MeanSquaredError(), gamma=1.0)
    with pytest.raises(TypeError, match="loss"):
        resolve_loss(3)


def test_summary_table_marks_the_best_cell_per_metric():
    rows = [
        {"cfg": "a", "dtw": 1.0, "acc": 0.5},
        {"cfg": "a", "dtw": 3.0, "acc": 0.7},
        {"cfg": "b", "dtw": 4.0, "acc": 0.9},
    ]
    summary = summarize(rows, "cfg", ["dtw", "acc"])
    assert summary[0]["dtw"] == (2.0, pytest.approx(np.sqrt(2.0))) and summary[1]["n"] == 1
    lines = summary_table(summary, "cfg", ["dtw", "acc"], labels={"dtw": "DTW"}, higher_is_better={"acc"}).splitlines()
    assert lines[0] == "| cfg | DTW | acc | runs |"
    assert lines[2] == "| a | **2 ± 1.4** | 0.6 ± 0.14 | 2 |"
    assert lines[3] == "| b | 4 ± 0 | **0.9 ± 0** | 1 |"


def test_plot_forecasts_writes_a_png(rng, tmp_path):
    X, Y = sine_task(rng, n=4)
    plot_forecasts(X, Y, {"mse": Y + 0.1, "soft_dtw": Y - 0.1}, tmp_path / "f.png", num_series=2, title="t")
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("n_out,rows", [(60, 2), (584, 4)])
def test_long_forecasts_get_a_zoomed_panel_of_their_first_steps(tmp_path, monkeypatch, n_out, rows):
    import experiments.reporting as reporting

    figures = []
    monkeypatch.setattr(reporting, "save_figure", lambda fig, path, dpi: figures.append(fig) or path)
    t = np.arange(876 + n_out)
    series = np.sin(2 * np.pi * t / 24)[None, :, None].repeat(2, axis=0)
    X, Y = series[:, :876], series[:, 876:]
    shifted = np.roll(Y, 6, axis=1)  # out of phase: visible only when the first steps are drawn large
    plot_forecasts(X, Y, {"mse": Y, "soft_dtw": shifted}, tmp_path / "f.png", num_series=2)
    axes = figures[0].axes
    assert len(axes) == rows * 2  # two series x (full view[, zoom]) x two models
    if rows == 4:
        zoom = [ax for ax in axes if "first" in ax.get_title()]
        assert len(zoom) == 4 and all(ax.get_xlim() == (876 - 60 - 0.5, 876 + 120 - 0.5) for ax in zoom)
    else:
        assert not any("first" in ax.get_title() for ax in axes)


def periodic_task(n_train=32, n_test=16, n_in=24, horizon=96, period=8, seed=0):
    """Sines of one period, random phase and amplitude, a little noise: forecast 12 periods from 3."""
    from dtwrl.datasets.forecasting import ForecastTask, split_series

    rng = np.random.default_rng(seed)

    def split(n):
        t = np.arange(n_in + horizon)
        phase, amplitude = rng.uniform(0, 2 * np.pi, (n, 1)), rng.uniform(0.5, 1.5, (n, 1))
        series = amplitude * np.sin(2 * np.pi * t / period + phase) + 0.1 * rng.normal(size=(n, len(t)))
        return split_series(series, horizon=horizon)

    return ForecastTask("sines", split(n_train), split(n_test), "synthetic sines")


def test_on_a_long_periodic_horizon_soft_dtw_from_random_weights_loses_to_soft_dtw_from_the_mse_model():
    from dtwrl.forecasting.comparison import FitSettings, PreparedTask, compare_losses
    from dtwrl.losses import get_loss

    prepared = PreparedTask(periodic_task())
    settings = FitSettings(hidden_units=32, epochs=20, learning_rate=0.01, patience=10)
    groups = [("soft_dtw", [({"gamma": 0.1}, get_loss("soft_dtw", gamma=0.1))])]
    mse, from_mse = compare_losses(prepared, groups, 0, settings)  # the default: init="mse"
    (from_random,) = compare_losses(prepared, groups, 0, settings, init="random")
    assert from_mse.start is mse.chosen and from_random.start is None
    # from random weights soft-DTW finds a phase-shifted minimum: test MSE above 1 (z-score units), DTW far above
    assert from_random.scores["mse"] > 10 * from_mse.scores["mse"] and from_random.scores["mse"] > 0.5
    assert from_random.scores["dtw"] > 2 * from_mse.scores["dtw"]
    assert from_random.scores["dtw"] > mse.scores["dtw"] > from_mse.scores["dtw"]  # from MSE it improves on MSE
