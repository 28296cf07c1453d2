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

__all__ = ["MONITORS", "ForecasterTrainer", "History", "as_batch", "evaluate_forecaster", "fit_forecaster",
           "predict", "resolve_loss"]


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
    if not isinstance(train, (tuple, list)) or len(train) != 2:
        raise ValueError(f"{name} must be a pair (X, Y) of inputs and targets")
    X, Y = as_batch(train[0], f"{name}[0] (inputs)"), as_batch(train[1], f"{name}[1] (targets)")
    if len(X) != len(Y):
        raise ValueError(f"{name} inputs and targets differ in length: {len(X)} vs {len(Y)}")
    return X, Y


def _check_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


class ForecasterTrainer:
    """A model, its loss and an Adam optimizer, with compiled train and eval steps.

    The optimizer state survives between calls, so training can be resumed and
    interleaved with other work (the RL loop fine-tunes its aligner between calls
    to :meth:`run_steps`).

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

    def __init__(self, model, loss="mse", *, learning_rate=1e-3, clipnorm=None, jit_compile=False,
                 **loss_kwargs):
        if not isinstance(model, tf.keras.Model):
            raise TypeError(f"model must be a tf.keras.Model, got {type(model).__name__}")
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}")
        self.model = model
        self.loss = resolve_loss(loss, **loss_kwargs)
        self.optimizer = tf.keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=clipnorm)
        self.jit_compile = jit_compile
        self._signature = None

    def _compiled(self, X, Y):
        """The compiled train and eval steps for batches shaped like ``X`` and ``Y`` (any batch size)."""
        signature = (tf.TensorSpec((None,) + X.shape[1:], tf.float32), tf.TensorSpec((None,) + Y.shape[1:], tf.float32))
        if signature != self._signature:
            self._signature = signature
            self._train_step = tf.function(self._train_step_fn, input_signature=signature, jit_compile=self.jit_compile)
            self._eval_step = tf.function(self._eval_step_fn, input_signature=signature, jit_compile=self.jit_compile)
        return self._train_step, self._eval_step

    @property
    def steps(self):
        """Optimizer steps taken so far."""
        return int(self.optimizer.iterations.numpy())

    def _train_step_fn(self, x, y):
        with tf.GradientTape() as tape:
            loss = self.loss(y, self.model(x, training=True))
        grads = tape.gradient(loss, self.model.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables))
        return loss

    def _eval_step_fn(self, x, y):
        return self.loss(y, self.model(x, training=False))

    def train_on_batch(self, x, y):
        """One optimizer step on a batch; returns the batch loss as a float."""
        x, y = as_batch(x, "x"), as_batch(y, "y")
        return float(self._compiled(x, y)[0](x, y))

    def _run(self, X, Y, batches):
        step = self._compiled(X, Y)[0]
        total, count = 0.0, 0
        for idx in batches:
            loss = step(tf.constant(X[idx]), tf.constant(Y[idx]))
            total += float(loss) * len(idx)
            count += len(idx)
        value = total / count
        if not np.isfinite(value):
            raise FloatingPointError(f"training loss became {value}; lower learning_rate or check the loss")
        return value

    def run_epoch(self, X, Y, batch_size, rng):
        """One shuffled pass over ``(X, Y)``; returns the mean training loss."""
        X, Y = as_batch(X, "X"), as_batch(Y, "Y")
        order = rng.permutation(len(X))
        return self._run(X, Y, (order[i:i + batch_size] for i in range(0, len(X), batch_size)))

    def run_steps(self, X, Y, steps, batch_size, rng):
        """``steps`` optimizer steps on batches drawn without replacement, reshuffled per pass.

        Returns the mean training loss over those steps.
        """
        X, Y = as_batch(X, "X"), as_batch(Y, "Y")
        _check_int(steps, "steps")
        batch_size = min(_check_int(batch_size, "batch_size"), len(X))

        def batches():
            order, start = rng.permutation(len(X)), 0
            for _ in range(steps):
                if start + batch_size > len(X):
                    order, start = rng.permutation(len(X)), 0
                yield order[start:start + batch_size]
                start += batch_size

        return self._run(X, Y, batches())

    def evaluate(self, X, Y, batch_size=256):
        """Mean loss over ``(X, Y)`` in inference mode."""
        X, Y = as_batch(X, "X"), as_batch(Y, "Y")
        step = self._compiled(X, Y)[1]
        total = 0.0
        for i in range(0, len(X), batch_size):
            loss = step(tf.constant(X[i:i + batch_size]), tf.constant(Y[i:i + batch_size]))
            total += float(loss) * len(X[i:i + batch_size])
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


def _split(X, Y, validation_split, rng):
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
    n_val = int(round(validation_split * len(X)))
    if validation_split > 0 and not 1 <= n_val < len(X):
        raise ValueError(f"validation_split={validation_split} leaves no training or no validation "
                         f"series out of {len(X)}")
    order = rng.permutation(len(X))
    val, tr = order[:n_val], order[n_val:]
    return (X[tr], Y[tr]), ((X[val], Y[val]) if n_val else None)


MONITORS = ("val_loss", "val_dtw")
"""What :func:`fit_forecaster` can stop early on and select its best epoch by."""


def _dtw_of(model, X, Y):
    """Mean exact DTW between ``Y`` and the model's forecasts of ``X`` (inference mode)."""
    from dtwrl.forecasting.metrics import dtw_score

    return dtw_score(Y, np.asarray(model(X, training=False), dtype=np.float64))


def fit_forecaster(model, train, loss="mse", *, epochs=100, batch_size=32, learning_rate=1e-3,
                   validation_split=0.2, validation_data=None, patience=None, restore_best_weights=True,
                   log_dir=None, seed=0, progress=True, clipnorm=None, jit_compile=False,
                   loss_kwargs=None, monitor="val_loss"):
    """Train ``model`` on ``train = (X, Y)``; returns a :class:`History`.

    Parameters
    ----------
    model : tf.keras.Model
        Maps ``(B, n_in, d)`` to ``(B, n_out, d_out)``; trained in place.
    train : tuple (X, Y)
        Inputs ``(N, n_in, d)`` and targets ``(N, n_out, d_out)`` (2-D means d = 1).
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
    validation_data : tuple (X_val, Y_val) or None
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

    X, Y = _check_pair(train, "train")
    epochs = _check_int(epochs, "epochs")
    batch_size = _check_int(batch_size, "batch_size")
    if patience is not None:
        _check_int(patience, "patience", minimum=0)
    if monitor not in MONITORS:
        raise ValueError(f"monitor must be one of {MONITORS}, got {monitor!r}")
    rng = np.random.default_rng(seed)
    if validation_data is not None:
        train_part, val_part = (X, Y), _check_pair(validation_data, "validation_data")
    else:
        train_part, val_part = _split(X, Y, validation_split, rng)
    trainer = ForecasterTrainer(model, loss, learning_rate=learning_rate, clipnorm=clipnorm,
                                jit_compile=jit_compile, **(loss_kwargs or {}))
    if log_dir is None or isinstance(log_dir, tf.summary.SummaryWriter):
        writer = log_dir
    else:
        writer = tf.summary.create_file_writer(str(log_dir))
    history = History(history={"loss": [], **({"val_loss": []} if val_part else {}),
                               **({"val_dtw": []} if val_part and monitor == "val_dtw" else {})})
    best_loss, best_weights, waited = np.inf, None, 0
    bar = tqdm(range(epochs), desc=f"{model.name} [{getattr(trainer.loss, 'name', 'loss')}]",
               disable=not progress, leave=False, dynamic_ncols=True)
    for epoch in bar:
        start = time.perf_counter()
        train_loss = trainer.run_epoch(*train_part, batch_size=batch_size, rng=rng)
        history.epoch_seconds.append(time.perf_counter() - start)
        history.history["loss"].append(train_loss)
        logs = {"loss": train_loss}
        if val_part:
            val_loss = trainer.evaluate(*val_part)
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


def predict(model, X, batch_size=256):
    """Forecasts of ``model`` on ``X`` ``(N, n_in, d)`` as a float32 array ``(N, n_out, d_out)``.

    >>> from dtwrl.forecasting.models import mlp_forecaster
    >>> predict(mlp_forecaster(6, 3, hidden_units=4), np.zeros((5, 6))).shape
    (5, 3, 1)
    """
    return np.asarray(model.predict(as_batch(X, "X"), batch_size=batch_size, verbose=0), dtype=np.float32)


def evaluate_forecaster(model, test, gamma=1.0, batch_size=256):
    """Test metrics of ``model`` on ``test = (X, Y)``: MSE, exact DTW, soft-DTW and TDI.

    Returns the dict of :func:`dtwrl.forecasting.metrics.evaluate_forecasts` (means over the
    test series), with ``gamma`` the soft-DTW smoothing.
    """
    from dtwrl.forecasting.metrics import evaluate_forecasts

    X, Y = _check_pair(test, "test")
    return evaluate_forecasts(Y, predict(model, X, batch_size=batch_size), gamma=gamma)
