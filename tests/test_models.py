"""Forecasters: output shapes, argument checks, trainability, autoregressive decoding."""

import numpy as np
import pytest
import tensorflow as tf

from dtwrl.forecasting.models import FORECASTERS, build_forecaster, cnn_forecaster, gru_forecaster, mlp_forecaster

SMALL = {"mlp": {"hidden_units": 8}, "gru": {"units": 8}, "cnn": {"filters": 4, "hidden_units": 8}}


@pytest.mark.parametrize("name", sorted(FORECASTERS))
@pytest.mark.parametrize("dim,output_dim", [(1, None), (3, None), (3, 2)])
def test_output_shape(name, dim, output_dim):
    model = build_forecaster(name, 12, 7, dim, output_dim=output_dim, **SMALL[name])
    out = model(np.random.default_rng(0).normal(size=(5, 12, dim)).astype(np.float32))
    assert out.shape == (5, 7, output_dim or dim)
    assert model.output_shape == (None, 7, output_dim or dim)
    assert np.all(np.isfinite(out.numpy()))


def test_mlp_has_one_hidden_layer_of_the_given_width():
    model = mlp_forecaster(10, 4, dim=2, hidden_units=16)
    dense = [layer for layer in model.layers if isinstance(layer, tf.keras.layers.Dense)]
    assert [layer.units for layer in dense] == [16, 8]
    assert model.count_params() == (20 * 16 + 16) + (16 * 8 + 8)


def test_gru_decoder_is_autoregressive():
    """Changing only the last observed value changes the very first forecast step."""
    model = gru_forecaster(6, 5, dim=1, units=4)
    x = np.zeros((1, 6, 1), np.float32)
    x2 = x.copy()
    x2[0, -1, 0] = 3.0
    assert not np.allclose(model(x)[0, 0], model(x2)[0, 0])


def test_gru_rejects_output_dim_above_dim():
    with pytest.raises(ValueError, match="output_dim"):
        gru_forecaster(6, 5, dim=1, output_dim=2)


@pytest.mark.parametrize(
    "arg, value", [("input_length", 0), ("output_length", -1), ("dim", 1.5), ("hidden_units", 0), ("output_dim", 0)]
)
def test_bad_sizes_name_the_argument(arg, value):
    params = {"input_length": 8, "output_length": 4, "dim": 1, arg: value}
    with pytest.raises(ValueError, match=arg):
        mlp_forecaster(**params)


def test_unknown_name():
    with pytest.raises(ValueError, match="name must be one of"):
        build_forecaster("transformer", 8, 4)


def test_cnn_handles_very_short_inputs():
    assert cnn_forecaster(2, 3, dim=1, num_layers=3, filters=2, hidden_units=4)(np.zeros((1, 2, 1))).shape == (1, 3, 1)


@pytest.mark.parametrize("name", sorted(FORECASTERS))
def test_every_weight_gets_a_gradient(name):
    model = build_forecaster(name, 8, 4, 2, **SMALL[name])
    x = tf.random.stateless_normal((3, 8, 2), seed=(1, 2))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(x) ** 2)
    grads = tape.gradient(loss, model.trainable_variables)
    assert all(g is not None and np.any(g.numpy() != 0) for g in grads)
