"""Small Keras forecasters: an input window ``(B, n_in, d)`` to a forecast ``(B, n_out, d_out)``.

Three families, each matching a setting from the DTW-loss literature:

- :func:`mlp_forecaster`: one hidden layer over the flattened window, the
  multistep-ahead setting of Cuturi and Blondel (2017, soft-DTW).
- :func:`gru_forecaster`: a GRU encoder and an autoregressive GRU decoder that
  feeds each prediction back as the next input, the seq2seq setting of Le Guen
  and Thome (2019, DILATE).
- :func:`cnn_forecaster`: a small 1-D convolutional encoder with a dense head.

:func:`build_forecaster` picks one by name. Every model is a plain
``tf.keras.Model`` whose weights are created at construction, so it can be
trained by :func:`dtwrl.forecasting.training.fit_forecaster`, saved with
``model.save_weights`` and called on NumPy or TF batches.

>>> import numpy as np
>>> from dtwrl.forecasting.models import build_forecaster
>>> model = build_forecaster("mlp", input_length=12, output_length=8, dim=1, hidden_units=16)
>>> model(np.zeros((4, 12, 1), np.float32)).shape
TensorShape([4, 8, 1])
"""

import tensorflow as tf

__all__ = [
    "FORECASTERS",
    "TAKES_LENGTHS",
    "build_forecaster",
    "cnn_forecaster",
    "gru_forecaster",
    "mlp_forecaster",
    "takes_lengths",
]


def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def _check_shapes(input_length, output_length, dim, output_dim):
    _check_positive_int(input_length, "input_length")
    _check_positive_int(output_length, "output_length")
    _check_positive_int(dim, "dim")
    return dim if output_dim is None else _check_positive_int(output_dim, "output_dim")


def _dense_head(features, hidden_units, activation, output_length, output_dim):
    """The MLP's and the CNN's head: flatten, ``Dense(hidden_units, activation)``, linear to (B, n_out, d_out)."""
    h = tf.keras.layers.Flatten()(features)
    h = tf.keras.layers.Dense(hidden_units, activation=activation, name="hidden")(h)
    h = tf.keras.layers.Dense(output_length * output_dim, name="head")(h)
    return tf.keras.layers.Reshape((output_length, output_dim), name="forecast")(h)


def mlp_forecaster(
    input_length, output_length, dim=1, output_dim=None, hidden_units=256, activation="relu", name="mlp_forecaster"
):
    """A multilayer perceptron with one hidden layer over the flattened input window.

    ``(B, n_in, d) -> flatten -> Dense(hidden_units, activation) -> Dense(n_out * d_out)
    -> (B, n_out, d_out)``. This is the model of Cuturi and Blondel (2017, section
    on multistep-ahead prediction): the first 60% of a series in, the remaining 40% out.

    Parameters
    ----------
    input_length, output_length : int
        ``n_in`` and ``n_out``, the lengths of the input window and the forecast.
    dim : int
        ``d``, features per input time step.
    output_dim : int or None
        ``d_out``, features per forecast step; ``None`` means ``dim``.
    hidden_units : int
        Width of the hidden layer.
    activation : str
        Keras activation of the hidden layer.

    Returns
    -------
    tf.keras.Model
        Maps ``(B, n_in, d)`` to ``(B, n_out, d_out)``.

    Examples
    --------
    >>> import numpy as np
    >>> model = mlp_forecaster(10, 5, dim=2, hidden_units=8)
    >>> model(np.ones((3, 10, 2), np.float32)).shape
    TensorShape([3, 5, 2])
    """
    output_dim = _check_shapes(input_length, output_length, dim, output_dim)
    _check_positive_int(hidden_units, "hidden_units")
    inputs = tf.keras.Input(shape=(input_length, dim), name="window")
    outputs = _dense_head(inputs, hidden_units, activation, output_length, output_dim)
    return tf.keras.Model(inputs, outputs, name=name)


class AutoregressiveGRUDecoder(tf.keras.layers.Layer):
    """Unrolls a GRU cell for ``output_length`` steps, feeding back its own predictions.

    Called on ``(state (B, units), first_input (B, d_out))``; returns ``(B, n_out, d_out)``.
    Step ``t`` reads the prediction of step ``t - 1`` (the last observed value at
    ``t = 0``), as in DILATE's seq2seq decoder.
    """

    def __init__(self, units, output_length, output_dim, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.output_length = output_length
        self.output_dim = output_dim
        self.cell = tf.keras.layers.GRUCell(units, name="cell")
        self.head = tf.keras.layers.Dense(output_dim, name="head")

    def build(self, input_shape):
        self.cell.build(tf.TensorShape([None, self.output_dim]))
        self.head.build(tf.TensorShape([None, self.units]))
        super().build(input_shape)

    def call(self, inputs):
        state, value = inputs
        outputs = []
        for _ in range(self.output_length):
            hidden, [state] = self.cell(value, [state])
            value = self.head(hidden)
            outputs.append(value)
        return tf.stack(outputs, axis=1)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, output_length=self.output_length, output_dim=self.output_dim)
        return config


class LeftPaddingMask(tf.keras.layers.Layer):
    """``(window (B, n, d), lengths (B,))`` -> boolean mask ``(B, n)``, True on the last ``lengths[b]`` steps."""

    def call(self, inputs):
        window, lengths = inputs
        n = tf.shape(window)[1]
        lengths = tf.reshape(tf.cast(lengths, tf.int32), [-1])
        return tf.range(n)[tf.newaxis, :] >= (n - lengths)[:, tf.newaxis]


def gru_forecaster(
    input_length, output_length, dim=1, output_dim=None, units=128, lengths=False, name="gru_forecaster"
):
    """A GRU encoder-decoder (seq2seq) with an autoregressive decoder.

    The encoder GRU reads the window; its last state starts the decoder, whose
    first input is the last observed value (its first ``d_out`` features) and whose
    every next input is its own previous prediction. One layer of 128 units is
    DILATE's setting (Le Guen and Thome, 2019).

    With ``lengths=True`` the model takes ``[window, lengths]``: windows padded
    on the left to ``input_length`` and the number of observed steps of each
    (int ``(B,)``). The encoder skips the padding (Keras masking: its state
    stays at zero until the first observed step), so a series is encoded as if
    it were alone; the decoder forecasts ``output_length`` steps, of which a
    caller keeps each series' own horizon (see
    :class:`dtwrl.forecasting.preprocessing.SeriesLayout`).

    Parameters
    ----------
    input_length, output_length, dim, output_dim :
        As in :func:`mlp_forecaster`. ``output_dim`` must not exceed ``dim``
        (the decoder starts from the last observed ``d_out`` features).
    units : int
        GRU state size of the encoder and the decoder.
    lengths : bool
        Take ``[window, lengths]`` and mask the left padding.

    Returns
    -------
    tf.keras.Model
        Maps ``(B, n_in, d)`` (and lengths ``(B,)``) to ``(B, n_out, d_out)``.

    Examples
    --------
    >>> import numpy as np
    >>> model = gru_forecaster(10, 4, dim=1, units=8)
    >>> model(np.ones((2, 10, 1), np.float32)).shape
    TensorShape([2, 4, 1])
    >>> masked = gru_forecaster(10, 4, units=8, lengths=True)
    >>> masked([np.ones((2, 10, 1), np.float32), np.array([10, 3])]).shape
    TensorShape([2, 4, 1])
    """
    output_dim = _check_shapes(input_length, output_length, dim, output_dim)
    _check_positive_int(units, "units")
    if output_dim > dim:
        raise ValueError(f"output_dim must be <= dim ({dim}) for the GRU decoder, got {output_dim}")
    inputs = tf.keras.Input(shape=(input_length, dim), name="window")
    encoder = tf.keras.layers.GRU(units, return_state=True, name="encoder")
    if lengths:
        observed = tf.keras.Input(shape=(), dtype=tf.int32, name="lengths")
        _, state = encoder(inputs, mask=LeftPaddingMask(name="padding_mask")([inputs, observed]))
    else:
        _, state = encoder(inputs)
    last = inputs[:, -1, :output_dim]
    outputs = AutoregressiveGRUDecoder(units, output_length, output_dim, name="decoder")([state, last])
    return tf.keras.Model([inputs, observed] if lengths else inputs, outputs, name=name)


def cnn_forecaster(
    input_length,
    output_length,
    dim=1,
    output_dim=None,
    filters=32,
    kernel_size=5,
    num_layers=2,
    hidden_units=128,
    name="cnn_forecaster",
):
    """A 1-D convolutional encoder followed by a dense head.

    ``num_layers`` blocks of ``Conv1D(filters, kernel_size, "same", relu)``, each
    block after the first downsampling by 2, then flatten, ``Dense(hidden_units, relu)``
    and a linear layer to ``n_out * d_out`` values.

    Parameters
    ----------
    input_length, output_length, dim, output_dim :
        As in :func:`mlp_forecaster`.
    filters, kernel_size, num_layers : int
        Convolution width, kernel length and depth.
    hidden_units : int
        Width of the dense layer before the output.

    Returns
    -------
    tf.keras.Model
        As :func:`mlp_forecaster`'s.

    Examples
    --------
    >>> import numpy as np
    >>> model = cnn_forecaster(16, 6, dim=1, filters=4, hidden_units=8)
    >>> model(np.ones((2, 16, 1), np.float32)).shape
    TensorShape([2, 6, 1])
    """
    output_dim = _check_shapes(input_length, output_length, dim, output_dim)
    for value, arg in (
        (filters, "filters"),
        (kernel_size, "kernel_size"),
        (num_layers, "num_layers"),
        (hidden_units, "hidden_units"),
    ):
        _check_positive_int(value, arg)
    inputs = tf.keras.Input(shape=(input_length, dim), name="window")
    h = inputs
    for layer in range(num_layers):
        if layer > 0 and h.shape[1] >= 2:
            h = tf.keras.layers.MaxPool1D(2, padding="same")(h)
        h = tf.keras.layers.Conv1D(filters, kernel_size, padding="same", activation="relu")(h)
    outputs = _dense_head(h, hidden_units, "relu", output_length, output_dim)
    return tf.keras.Model(inputs, outputs, name=name)


FORECASTERS = {"mlp": mlp_forecaster, "gru": gru_forecaster, "cnn": cnn_forecaster}

#: Forecasters that can take per-series lengths (``lengths=True``); the others need resampled inputs.
TAKES_LENGTHS = ("gru",)


def takes_lengths(model):
    """Whether a forecaster is called as ``model([window, lengths])`` (a GRU built with ``lengths=True``)."""
    return len(model.inputs) == 2


"""Forecaster builders by name, as accepted by :func:`build_forecaster`."""


def build_forecaster(name, input_length, output_length, dim=1, **kwargs):
    """Build a forecaster by name: ``"mlp"``, ``"gru"`` or ``"cnn"``.

    Parameters
    ----------
    name : str
        A key of :data:`FORECASTERS`.
    input_length, output_length, dim : int
        ``n_in``, ``n_out`` and ``d``.
    **kwargs
        Passed to the builder (``output_dim``, ``hidden_units``, ``units``, ...).

    Returns
    -------
    tf.keras.Model
        Maps ``(B, n_in, d)`` to ``(B, n_out, d_out)``.

    Examples
    --------
    >>> build_forecaster("gru", 20, 20, units=8).output_shape
    (None, 20, 1)
    >>> build_forecaster("rnn", 20, 20)
    Traceback (most recent call last):
    ...
    ValueError: name must be one of ['cnn', 'gru', 'mlp'], got 'rnn'
    """
    if name not in FORECASTERS:
        raise ValueError(f"name must be one of {sorted(FORECASTERS)}, got {name!r}")
    return FORECASTERS[name](input_length, output_length, dim, **kwargs)
