"""Training loop for forecasters under any DTW-family loss.

:func:`fit_forecaster` trains a Keras model on ``(X, Y)`` with a loss given by
name (through :func:`dtwrl.losses.get_loss`) or as a ``tf.keras.losses.Loss``.
It holds out a validation split, stops early on it (on the validation loss,
or with ``monitor="val_dtw"`` on the validation exact DTW) and restores the best
weights, logs ``losses/train`` and ``losses/val`` to TensorBoard and shows a
tqdm bar.

It is built on :class:`ForecasterTrainer`, a custom loop with a compiled
(``tf.function``) train step. The trainer keeps its optimizer state between
calls, so a caller can interleave training with other work: the RL loop of
``experiments/rl_forecast.py`` alternates ``trainer.run_steps`` with fine-tuning
the alignment policy that the model's :class:`dtwrl.losses.PathLoss` calls.
Losses that leave the graph (``PathLoss`` runs its aligner through
``tf.numpy_function``) work in the compiled step; they only rule out
``jit_compile=True``.

Shapes: inputs ``X`` are ``(N, n_in, d)``, targets ``Y`` are ``(N, n_out, d_out)``;
2-D arrays ``(N, n)`` are read as univariate ``(N, n, 1)``.

:func:`evaluate_forecaster` scores a model on a test split (MSE, exact DTW,
soft-DTW, TDI via :func:`dtwrl.forecasting.metrics.evaluate_forecasts`). The experiment
scripts share the reporting helpers at the end: :func:`summarize` (mean and std
over seeds), :func:`markdown_table` (best cell per metric in bold),
:func:`write_csv` and :func:`plot_forecasts`.

>>> import numpy as np, tensorflow as tf
>>> from dtwrl.forecasting.models import mlp_forecaster
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(64, 12, 1)); Y = X[:, -6:] * 2.0
>>> model = mlp_forecaster(12, 6, hidden_units=16)
>>> history = fit_forecaster(model, (X, Y), tf.keras.losses.MeanSquaredError(),
...                          epochs=3, batch_size=16, progress=False)
>>> len(history.history["loss"]), len(history.history["val_loss"])
(3, 3)
"""

import time
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from .. import validation
from .models import takes_lengths

__all__ = [
    "MONITORS",
    "ForecasterTrainer",
    "History",
    "as_batch",
    "evaluate_forecaster",
    "fit_forecaster",
    "mean_loss_with_lengths",
    "predict",
    "resolve_loss",
]


def as_batch(array, name):
    """Validate a batch of series into a finite float32 array ``(N, n, d)``.

    ``(N, n)`` is read as univariate ``(N, n, 1)``. Raises ``ValueError`` naming
    ``name`` for another rank, an empty batch or non-finite values
    (:func:`dtwrl.validation.as_batch`).

    >>> as_batch(np.zeros((2, 5)), "X").shape
    (2, 5, 1)
    """
    return validation.as_batch(array, name).astype(np.float32)


def resolve_loss(loss, **loss_kwargs):
    """A Keras loss from a name (via :func:`dtwrl.losses.get_loss`) or a loss object.

    Parameters
    ----------
    loss : str or tf.keras.losses.Loss or callable
        A name known to ``dtwrl.losses.get_loss`` (``"mse"``, ``"soft_dtw"``,
        ``"dilate"``, ``"policy_path"``, ...) or a callable ``loss(y_true, y_pred)``
        returning a scalar.
    **loss_kwargs
        Passed to ``get_loss`` with a name (``gamma=...``, ``aligner=...``); not
        allowed with a loss object.
    """
    if isinstance(loss, str):
        from dtwrl.losses import get_loss

        return get_loss(loss, **loss_kwargs)
    if not callable(loss):
        raise TypeError(f"loss must be a loss name or a callable loss(y_true, y_pred), got {type(loss).__name__}")
    if loss_kwargs:
        raise ValueError(f"loss_kwargs {sorted(loss_kwargs)} only apply to a loss given by name")
    return loss


def _check_pair(train, name):
    """``(X, Y, x_lengths, y_lengths)`` from ``(X, Y)`` or ``(X, Y, x_lengths, y_lengths)``; lengths may be None."""
    if not isinstance(train, (tuple, list)) or len(train) not in (2, 4):
        raise ValueError(f"{name} must be (X, Y) or (X, Y, x_lengths, y_lengths)")
    X, Y = as_batch(train[0], f"{name}[0] (inputs)"), as_batch(train[1], f"{name}[1] (targets)")
    if len(X) != len(Y):
        raise ValueError(f"{name} inputs and targets differ in length: {len(X)} vs {len(Y)}")
    x_lengths = y_lengths = None
    if len(train) == 4:
        x_lengths = _check_lengths(train[2], X, f"{name}[2] (x_lengths)")
        y_lengths = _check_lengths(train[3], Y, f"{name}[3] (y_lengths)")
    return X, Y, x_lengths, y_lengths


def _check_lengths(lengths, batch, name):
    lengths = np.asarray(lengths)
    if lengths.dtype.kind not in "iu" or lengths.shape != (len(batch),):
        raise ValueError(f"{name} must be ints of shape ({len(batch)},); got {lengths.dtype} {lengths.shape}")
    if (lengths < 1).any() or (lengths > batch.shape[1]).any():
        raise ValueError(f"{name} must lie in [1, {batch.shape[1]}]")
    return lengths.astype(np.int32)


def _full(lengths, size, count):
    return np.full(count, size, np.int32) if lengths is None else lengths


def _check_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def mean_loss_with_lengths(loss, y_true, y_pred, lengths):
    """Batch-mean loss of padded targets and forecasts, each pair scored on its first ``lengths[b]`` steps.

    Parameters
    ----------
    loss : tf.keras.losses.Loss
        A dtwrl loss (anything with ``pair_values(y_true, y_pred, x_lengths, y_lengths)``)
        or Keras' mean squared error.
    y_true, y_pred : tf.Tensor, shape (B, n, d)
        Padded on the right beyond each pair's length.
    lengths : int tf.Tensor, shape (B,)

    Returns
    -------
    tf.Tensor, scalar
        The mean over pairs of each pair's loss at its true length (for MSE,
        the mean squared error over its valid steps and features).

    Raises
    ------
    ValueError
        For a loss that cannot take lengths.

    Examples
    --------
    >>> y = tf.constant([[[1.0], [2.0], [9.0]]]); f = tf.constant([[[1.0], [4.0], [0.0]]])
    >>> float(mean_loss_with_lengths(tf.keras.losses.MeanSquaredError(), y, f, tf.constant([2])))
    2.0
    """
    if hasattr(loss, "pair_values"):
        return tf.reduce_mean(loss.pair_values(y_true, y_pred, lengths, lengths))
    if getattr(loss, "name", None) in ("mean_squared_error", "mse"):
        y_true = tf.cast(y_true, y_pred.dtype)
        mask = tf.sequence_mask(lengths, tf.shape(y_pred)[1], dtype=y_pred.dtype)
        per_step = tf.reduce_mean(tf.square(y_true - y_pred), axis=-1) * mask
        return tf.reduce_mean(tf.reduce_sum(per_step, axis=1) / tf.cast(lengths, y_pred.dtype))
    raise ValueError(
        f"loss {getattr(loss, 'name', loss)!r} cannot score series of unequal lengths "
        "(it has no pair_values(y_true, y_pred, x_lengths, y_lengths))"
    )


class ForecasterTrainer:
    """A model, its loss and an Adam optimizer, with compiled train and eval steps.

    The optimizer state survives between calls, so training can be resumed and
    interleaved with other work (the RL loop fine-tunes its aligner between calls
    to :meth:`run_steps`).

    Free-length series: every method also takes ``x_lengths`` and ``y_lengths``
    (int ``(N,)``). A model that takes lengths (a GRU built with
    ``lengths=True``) is called as ``model([x, x_lengths])``; targets padded
    on the right are scored on their first ``y_lengths`` steps by
    :func:`mean_loss_with_lengths`.

    Parameters
    ----------
    model : tf.keras.Model
        Maps ``(B, n_in, d)`` to ``(B, n_out, d_out)``.
    loss : str or tf.keras.losses.Loss or callable
        See :func:`resolve_loss`.
    learning_rate : float
        Adam step size.
    clipnorm : float or None
        Clip each gradient to this global norm; ``None`` leaves them alone.
    jit_compile : bool
        Compile the steps with XLA. Not possible for losses that call NumPy
        (``"dtw_path"``, ``"fastdtw_path"``, ``"policy_path"``).
    **loss_kwargs
        Passed to :func:`resolve_loss`.

    Examples
    --------
    >>> import numpy as np, tensorflow as tf
    >>> from dtwrl.forecasting.models import mlp_forecaster
    >>> X = np.ones((8, 4, 1)); Y = np.ones((8, 2, 1))
    >>> trainer = ForecasterTrainer(mlp_forecaster(4, 2, hidden_units=4), tf.keras.losses.MeanSquaredError())
    >>> loss = trainer.run_steps(X, Y, steps=3, batch_size=4, rng=np.random.default_rng(0))
    >>> trainer.steps
    3
    """

    def __init__(self, model, loss="mse", *, learning_rate=1e-3, clipnorm=None, jit_compile=False, **loss_kwargs):
        if not isinstance(model, tf.keras.Model):
            raise TypeError(f"model must be a tf.keras.Model, got {type(model).__name__}")
        if not (
            isinstance(learning_rate, (int, float, np.floating)) and np.isfinite(learning_rate) and learning_rate > 0
        ):
            raise ValueError(f"learning_rate must be a finite number > 0, got {learning_rate!r}")
        self.model = model
        self.loss = resolve_loss(loss, **loss_kwargs)
        self.optimizer = tf.keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=clipnorm)
        self.jit_compile = jit_compile
        self.takes_lengths = takes_lengths(model)
        self._signature = None

    def _compiled(self, X, Y, ragged):
        """The compiled train and eval steps for batches shaped like ``X`` and ``Y`` (any batch size)."""
        lengths = tf.TensorSpec((None,), tf.int32)
        signature = (
            tf.TensorSpec((None,) + X.shape[1:], tf.float32),
            tf.TensorSpec((None,) + Y.shape[1:], tf.float32),
            lengths,
            lengths,
        )
        if (signature, ragged) != self._signature:
            self._signature = (signature, ragged)
            self._ragged = ragged
            self._train_step = tf.function(self._train_step_fn, input_signature=signature, jit_compile=self.jit_compile)
            self._eval_step = tf.function(self._eval_step_fn, input_signature=signature, jit_compile=self.jit_compile)
        return self._train_step, self._eval_step

    @property
    def steps(self):
        """Optimizer steps taken so far."""
        return int(self.optimizer.iterations.numpy())

    def _forward(self, x, x_lengths, training):
        return self.model([x, x_lengths] if self.takes_lengths else x, training=training)

    def _loss(self, y, pred, y_lengths):
        return mean_loss_with_lengths(self.loss, y, pred, y_lengths) if self._ragged else self.loss(y, pred)

    def _train_step_fn(self, x, y, x_lengths, y_lengths):
        with tf.GradientTape() as tape:
            loss = self._loss(y, self._forward(x, x_lengths, True), y_lengths)
        grads = tape.gradient(loss, self.model.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables))
        return loss

    def _eval_step_fn(self, x, y, x_lengths, y_lengths):
        return self._loss(y, self._forward(x, x_lengths, False), y_lengths)

    def _prepare(self, X, Y, x_lengths, y_lengths):
        data = (X, Y) if x_lengths is None and y_lengths is None else (X, Y, x_lengths, y_lengths)
        if x_lengths is None or y_lengths is None:
            X, Y = as_batch(X, "X"), as_batch(Y, "Y")
            data = (X, Y) + (
                (_full(x_lengths, X.shape[1], len(X)), _full(y_lengths, Y.shape[1], len(Y))) if len(data) == 4 else ()
            )
        X, Y, x_lengths, y_lengths = _check_pair(data, "(X, Y)")
        ragged = y_lengths is not None and bool((y_lengths < Y.shape[1]).any())
        return X, Y, _full(x_lengths, X.shape[1], len(X)), _full(y_lengths, Y.shape[1], len(Y)), ragged

    def train_on_batch(self, x, y, x_lengths=None, y_lengths=None):
        """One optimizer step on a batch; returns the batch loss as a float."""
        x, y, x_lengths, y_lengths, ragged = self._prepare(x, y, x_lengths, y_lengths)
        return float(self._compiled(x, y, ragged)[0](x, y, x_lengths, y_lengths))

    def _run(self, data, batches):
        X, Y, x_lengths, y_lengths, ragged = data
        step = self._compiled(X, Y, ragged)[0]
        total, count = 0.0, 0
        for idx in batches:
            loss = step(
                tf.constant(X[idx]), tf.constant(Y[idx]), tf.constant(x_lengths[idx]), tf.constant(y_lengths[idx])
            )
            total += float(loss) * len(idx)
            count += len(idx)
        value = total / count
        if not np.isfinite(value):
            raise FloatingPointError(f"training loss became {value}; lower learning_rate or check the loss")
        return value

    def run_epoch(self, X, Y, batch_size, rng, x_lengths=None, y_lengths=None):
        """One shuffled pass over ``(X, Y)``; returns the mean training loss."""
        data = self._prepare(X, Y, x_lengths, y_lengths)
        order = rng.permutation(len(data[0]))
        return self._run(data, (order[i : i + batch_size] for i in range(0, len(order), batch_size)))

    def run_steps(self, X, Y, steps, batch_size, rng, x_lengths=None, y_lengths=None):
        """``steps`` optimizer steps on batches drawn without replacement, reshuffled per pass.

        Returns the mean training loss over those steps.
        """
        data = self._prepare(X, Y, x_lengths, y_lengths)
        N = len(data[0])
        _check_int(steps, "steps")
        batch_size = min(_check_int(batch_size, "batch_size"), N)

        def batches():
            order, start = rng.permutation(N), 0
            for _ in range(steps):
                if start + batch_size > N:
                    order, start = rng.permutation(N), 0
                yield order[start : start + batch_size]
                start += batch_size

        return self._run(data, batches())

    def evaluate(self, X, Y, batch_size=256, x_lengths=None, y_lengths=None):
        """Mean loss over ``(X, Y)`` in inference mode."""
        X, Y, x_lengths, y_lengths, ragged = self._prepare(X, Y, x_lengths, y_lengths)
        step = self._compiled(X, Y, ragged)[1]
        total = 0.0
        for i in range(0, len(X), batch_size):
            part = slice(i, i + batch_size)
            loss = step(
                tf.constant(X[part]), tf.constant(Y[part]), tf.constant(x_lengths[part]), tf.constant(y_lengths[part])
            )
            total += float(loss) * len(X[part])
        return total / len(X)


@dataclass
class History:
    """What :func:`fit_forecaster` did, epoch by epoch.

    Attributes
    ----------
    history : dict
        ``"loss"`` (mean training loss per epoch) and, with a validation set,
        ``"val_loss"`` (and ``"val_dtw"`` under ``monitor="val_dtw"``); the same
        layout as Keras' ``History.history``.
    epoch_seconds : list of float
        Wall-clock seconds of each epoch's training pass.
    best_epoch : int or None
        0-based epoch whose weights the model holds at the end (lowest
        monitored value, ``val_loss`` by default); ``None`` without a validation set.
    stopped_early : bool
        Whether early stopping ended training before ``epochs``.
    """

    history: dict = field(default_factory=dict)
    epoch_seconds: list = field(default_factory=list)
    best_epoch: int = None
    stopped_early: bool = False


def check_validation_split(validation_split, count):
    """Raise ``ValueError`` unless ``validation_split`` in [0, 1) leaves >= 1 train and (if > 0) >= 1 validation series.

    Returns the number of validation series, ``round(validation_split * count)``.

    >>> check_validation_split(0.2, 50)
    10
    """
    if not (isinstance(validation_split, (int, float, np.floating)) and 0.0 <= validation_split < 1.0):
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
    n_val = int(round(validation_split * count))
    if validation_split > 0 and not 1 <= n_val < count:
        raise ValueError(
            f"validation_split={validation_split} leaves no training or no validation series out of {count}"
        )
    return n_val


def _split(data, validation_split, rng):
    n_val = check_validation_split(validation_split, len(data[0]))
    order = rng.permutation(len(data[0]))
    val, tr = order[:n_val], order[n_val:]
    pick = lambda idx: tuple(a if a is None else a[idx] for a in data)  # noqa: E731
    return pick(tr), (pick(val) if n_val else None)


MONITORS = ("val_loss", "val_dtw")
"""What :func:`fit_forecaster` can stop early on and select its best epoch by."""


def _dtw_of(model, X, Y, x_lengths=None, y_lengths=None):
    """Mean exact DTW between ``Y`` and the model's forecasts of ``X``, each at its true length (inference mode)."""
    from dtwrl.forecasting.metrics import dtw_score

    forecasts = predict(model, X, x_lengths=x_lengths)
    if y_lengths is None:
        return dtw_score(Y, forecasts.astype(np.float64))
    return dtw_score(
        [y[:n] for y, n in zip(Y, y_lengths)], [f[:n].astype(np.float64) for f, n in zip(forecasts, y_lengths)]
    )


def fit_forecaster(
    model,
    train,
    loss="mse",
    *,
    epochs=100,
    batch_size=32,
    learning_rate=1e-3,
    validation_split=0.2,
    validation_data=None,
    patience=None,
    restore_best_weights=True,
    log_dir=None,
    seed=0,
    progress=True,
    clipnorm=None,
    jit_compile=False,
    loss_kwargs=None,
    monitor="val_loss",
):
    """Train ``model`` on ``train = (X, Y)`` or ``(X, Y, x_lengths, y_lengths)``; returns a :class:`History`.

    Parameters
    ----------
    model : tf.keras.Model
        Maps ``(B, n_in, d)`` to ``(B, n_out, d_out)``; trained in place. A GRU
        built with ``lengths=True`` is called as ``model([X, x_lengths])``.
    train : tuple (X, Y) or (X, Y, x_lengths, y_lengths)
        Inputs ``(N, n_in, d)`` and targets ``(N, n_out, d_out)`` (2-D means d = 1);
        with lengths (int ``(N,)``), inputs padded on the left and targets on
        the right, each pair scored on its own target length
        (:func:`mean_loss_with_lengths`, and the validation DTW likewise).
    loss : str or tf.keras.losses.Loss or callable
        A ``dtwrl.losses.get_loss`` name (with ``loss_kwargs``, e.g.
        ``{"gamma": 0.1}``) or a loss object.
    epochs : int
        Maximum number of passes over the training part.
    batch_size : int
        Series per optimizer step.
    learning_rate : float
        Adam step size.
    validation_split : float in [0, 1)
        Fraction of ``train`` held out (seeded random choice) to monitor; 0 trains
        on everything. Ignored when ``validation_data`` is given.
    validation_data : tuple (X_val, Y_val[, x_lengths, y_lengths]) or None
        An explicit validation set.
    patience : int or None
        Stop after this many epochs without a lower monitored value; ``None``
        runs all ``epochs``.
    restore_best_weights : bool
        With a validation set, end with the weights of the best validation epoch.
    monitor : {"val_loss", "val_dtw"}
        What early stopping and the best epoch follow: the training loss on the
        validation set (default), or the mean exact DTW between the validation
        targets and forecasts (:func:`dtwrl.forecasting.metrics.dtw_score`, squared Euclidean
        cost), a criterion independent of the training loss, so models trained
        under different losses are selected by the same yardstick. With
        ``"val_dtw"``, ``history.history["val_dtw"]`` holds it per epoch.
    log_dir : str or path or tf.summary.SummaryWriter or None
        Write ``losses/train``, ``losses/val`` and ``charts/epoch_seconds``
        TensorBoard scalars to this folder (or writer), one point per epoch
        (step = epoch, from 1).
    seed : int
        Seeds the validation split and the batch order (model weights are
        seeded where the model is built).
    progress : bool
        Show a tqdm bar over epochs.
    clipnorm, jit_compile :
        See :class:`ForecasterTrainer`.
    loss_kwargs : dict or None
        Keyword arguments for ``get_loss`` when ``loss`` is a name.

    Returns
    -------
    History

    Examples
    --------
    >>> import numpy as np, tensorflow as tf
    >>> from dtwrl.forecasting.models import mlp_forecaster
    >>> X = np.random.default_rng(1).normal(size=(40, 8)); Y = X[:, :4]
    >>> h = fit_forecaster(mlp_forecaster(8, 4, hidden_units=8), (X, Y),
    ...                    tf.keras.losses.MeanSquaredError(), epochs=5, patience=1, progress=False)
    >>> h.best_epoch is not None
    True
    """
    from tqdm.auto import tqdm

    data = _check_pair(train, "train")
    epochs = _check_int(epochs, "epochs")
    batch_size = _check_int(batch_size, "batch_size")
    if patience is not None:
        _check_int(patience, "patience", minimum=0)
    if monitor not in MONITORS:
        raise ValueError(f"monitor must be one of {MONITORS}, got {monitor!r}")
    rng = np.random.default_rng(seed)
    if validation_data is not None:
        train_part, val_part = data, _check_pair(validation_data, "validation_data")
    else:
        train_part, val_part = _split(data, validation_split, rng)
    trainer = ForecasterTrainer(
        model, loss, learning_rate=learning_rate, clipnorm=clipnorm, jit_compile=jit_compile, **(loss_kwargs or {})
    )
    if log_dir is None or isinstance(log_dir, tf.summary.SummaryWriter):
        writer = log_dir
    else:
        writer = tf.summary.create_file_writer(str(log_dir))
    history = History(
        history={
            "loss": [],
            **({"val_loss": []} if val_part else {}),
            **({"val_dtw": []} if val_part and monitor == "val_dtw" else {}),
        }
    )
    best_loss, best_weights, waited = np.inf, None, 0
    bar = tqdm(
        range(epochs),
        desc=f"{model.name} [{getattr(trainer.loss, 'name', 'loss')}]",
        disable=not progress,
        leave=False,
        dynamic_ncols=True,
    )
    for epoch in bar:
        start = time.perf_counter()
        train_loss = trainer.run_epoch(
            *train_part[:2], batch_size=batch_size, rng=rng, x_lengths=train_part[2], y_lengths=train_part[3]
        )
        history.epoch_seconds.append(time.perf_counter() - start)
        history.history["loss"].append(train_loss)
        logs = {"loss": train_loss}
        if val_part:
            val_loss = trainer.evaluate(*val_part[:2], x_lengths=val_part[2], y_lengths=val_part[3])
            history.history["val_loss"].append(val_loss)
            logs["val_loss"] = val_loss
            if monitor == "val_dtw":
                logs["val_dtw"] = _dtw_of(model, *val_part)
                history.history["val_dtw"].append(logs["val_dtw"])
            if logs[monitor] < best_loss:
                best_loss, waited, history.best_epoch = logs[monitor], 0, epoch
                best_weights = model.get_weights() if restore_best_weights else None
            else:
                waited += 1
        if writer is not None:
            with writer.as_default(step=epoch + 1):
                tf.summary.scalar("losses/train", train_loss)
                if val_part:
                    tf.summary.scalar("losses/val", logs["val_loss"])
                if "val_dtw" in logs:
                    tf.summary.scalar("losses/val_dtw", logs["val_dtw"])
                tf.summary.scalar("charts/epoch_seconds", history.epoch_seconds[-1])
        bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items()})
        if val_part and patience is not None and waited > patience:
            history.stopped_early = epoch + 1 < epochs
            break
    bar.close()
    if best_weights is not None:
        model.set_weights(best_weights)
    if writer is not None:
        writer.flush()
    return history


def predict(model, X, batch_size=256, x_lengths=None):
    """Forecasts of ``model`` on ``X`` ``(N, n_in, d)`` as a float32 array ``(N, n_out, d_out)``.

    A model that takes lengths gets ``x_lengths`` (default: the full length).

    >>> from dtwrl.forecasting.models import mlp_forecaster
    >>> predict(mlp_forecaster(6, 3, hidden_units=4), np.zeros((5, 6))).shape
    (5, 3, 1)
    """
    X = as_batch(X, "X")
    out = []
    for i in range(0, len(X), batch_size):
        x = tf.constant(X[i : i + batch_size])
        if takes_lengths(model):
            lengths = _full(
                None if x_lengths is None else np.asarray(x_lengths)[i : i + batch_size], X.shape[1], len(x)
            )
            out.append(model([x, tf.constant(lengths, tf.int32)], training=False).numpy())
        else:
            out.append(model(x, training=False).numpy())
    return np.concatenate(out).astype(np.float32)


def evaluate_forecaster(model, test, gamma=1.0, batch_size=256):
    """Test metrics of ``model`` on ``test = (X, Y[, x_lengths, y_lengths])``: MSE, exact DTW, soft-DTW and TDI.

    With lengths, each forecast is cut to its target's length before scoring.

    Returns the dict of :func:`dtwrl.forecasting.metrics.evaluate_forecasts` (means over the
    test series), with ``gamma`` the soft-DTW smoothing.
    """
    from dtwrl.forecasting.metrics import evaluate_forecasts

    X, Y, x_lengths, y_lengths = _check_pair(test, "test")
    forecasts = predict(model, X, batch_size=batch_size, x_lengths=x_lengths)
    if y_lengths is None:
        return evaluate_forecasts(Y, forecasts, gamma=gamma)
    return evaluate_forecasts(
        [y[:n] for y, n in zip(Y, y_lengths)], [f[:n] for f, n in zip(forecasts, y_lengths)], gamma=gamma
    )
