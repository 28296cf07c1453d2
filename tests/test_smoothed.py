"""Smoothed-operator DTW (dtwrl.tf.smoothed): entropy equals soft-DTW, squared L2 against a NumPy DP."""

import numpy as np
import pytest
import tensorflow as tf

import dtwrl
from dtwrl.bands import min_band
from dtwrl.tf.sdtw import soft_dtw, soft_dtw_alignment
from dtwrl.tf.smoothed import smoothed_dtw, smoothed_dtw_alignment
from tests import reference as ref


def _sparsemax(z):
    """Sparsemax of a vector (Martins & Astudillo, 2016), by sorting."""
    s = np.sort(z)[::-1]
    cums = np.cumsum(s)
    k = np.arange(1, len(z) + 1)
    support = k[1 + k * s > cums].max()
    tau = (cums[support - 1] - 1.0) / support
    return np.maximum(z - tau, 0.0)


def _l2_min(values, gamma):
    """min_Omega for the squared L2 regulariser over the finite candidates."""
    a = np.array([v for v in values if np.isfinite(v)])
    if a.size == 0:
        return np.inf
    q = _sparsemax(-a / gamma)
    return q @ a + 0.5 * gamma * q @ q


def l2_dtw_reference(C, gamma, band=None):
    """The smoothed-DTW recursion with the squared-L2 min, cell by cell in NumPy."""
    n, m = C.shape
    mask = ref.in_band(n, m, band)
    R = np.full((n + 1, m + 1), np.inf)
    R[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if mask[i - 1, j - 1]:
                R[i, j] = C[i - 1, j - 1] + _l2_min([R[i - 1, j - 1], R[i - 1, j], R[i, j - 1]], gamma)
    return R[n, m]


def _grad_error(f, *args):
    theoretical, numerical = tf.test.compute_gradient(f, [tf.constant(a) for a in args], delta=1e-6)
    return max(np.abs(t - n).max() for t, n in zip(theoretical, numerical))


def test_sparsemax_reference_is_sane():
    np.testing.assert_allclose(_sparsemax(np.array([0.0, -10.0, -10.0])), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(_sparsemax(np.array([0.0, 0.0, 0.0])), [1 / 3] * 3)
    np.testing.assert_allclose(_sparsemax(np.array([0.0, -0.5, -5.0])), [0.75, 0.25, 0.0])


def test_entropy_is_soft_dtw_exactly(rng):
    x, y = rng.normal(size=(3, 5, 2)), rng.normal(size=(3, 4, 2))
    kwargs = dict(gamma=0.3, band=1, x_lengths=[5, 2, 4], y_lengths=[4, 4, 1])
    np.testing.assert_array_equal(smoothed_dtw(x, y, **kwargs).numpy(), soft_dtw(x, y, **kwargs).numpy())
    np.testing.assert_array_equal(
        smoothed_dtw_alignment(x, y, **kwargs).numpy(), soft_dtw_alignment(x, y, **kwargs).numpy()
    )


@pytest.mark.parametrize("band", [None, 1])
@pytest.mark.parametrize("gamma", [0.05, 1.0, 10.0])
def test_l2_values_match_the_numpy_recursion_for_every_size_up_to_5x5(rng, band, gamma):
    sizes = [(n, m) for n in range(1, 6) for m in range(1, 6) if band is None or band >= min_band(n, m)]
    x = rng.normal(size=(len(sizes), 5, 2))
    y = rng.normal(size=(len(sizes), 5, 2))
    xl, yl = np.array(sizes).T
    got = smoothed_dtw(x, y, gamma=gamma, regularizer="l2", band=band, x_lengths=xl, y_lengths=yl).numpy()
    want = [l2_dtw_reference(ref.local_costs(x[b, :n], y[b, :m]), gamma, band) for b, (n, m) in enumerate(sizes)]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_l2_gradients_match_finite_differences(rng):
    x, y = rng.normal(size=(2, 4, 2)), rng.normal(size=(2, 3, 2))
    W = tf.constant(rng.normal(size=(2, 4, 3)))
    for gamma in (0.3, 3.0):
        assert _grad_error(lambda x, y: smoothed_dtw(x, y, gamma=gamma, regularizer="l2"), x, y) < 1e-6
        temporal = lambda x, y: tf.reduce_sum(  # noqa: E731
            smoothed_dtw_alignment(x, y, gamma=gamma, regularizer="l2") * W, axis=(1, 2)
        )
        assert _grad_error(temporal, x, y) < 1e-6


def test_l2_alignment_is_sparse_and_is_the_gradient(rng):
    x = tf.constant(rng.normal(size=(2, 8, 1)))
    y = tf.constant(rng.normal(size=(2, 7, 1)))
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = smoothed_dtw(x, y, gamma=0.1, regularizer="l2")
    E = smoothed_dtw_alignment(x, y, gamma=0.1, regularizer="l2").numpy()
    # sqeuclidean chain rule: dV/dx_i = sum_j E_ij * 2 (x_i - y_j)
    xn, yn = x.numpy(), y.numpy()
    want = 2.0 * (E.sum(axis=2)[..., None] * xn - E @ yn)
    np.testing.assert_allclose(tape.gradient(value, x).numpy(), want, rtol=1e-10, atol=1e-12)
    assert (E == 0.0).mean() > 0.5  # most cells exactly off every path
    assert np.all(E >= 0.0) and np.all(E <= 1.0 + 1e-12)
    np.testing.assert_allclose(E[:, 0, 0], 1.0)
    np.testing.assert_allclose(E[:, -1, -1], 1.0)


def test_l2_small_gamma_tends_to_exact_dtw(rng):
    x, y = rng.normal(size=(3, 6, 1)), rng.normal(size=(3, 5, 1))
    got = smoothed_dtw(x, y, gamma=1e-4, regularizer="l2").numpy()
    exact = [dtwrl.dtw(x[b], y[b]) for b in range(3)]
    # each of at most n + m - 1 cells adds between 0 and gamma / 2
    np.testing.assert_allclose(got, exact, atol=1e-4 * 10 / 2)


def test_l2_under_xla_and_padding_gets_zero_gradient(rng):
    x = tf.constant(rng.normal(size=(2, 5, 1)))
    y = tf.constant(rng.normal(size=(2, 4, 1)))
    xl, yl = tf.constant([3, 5]), tf.constant([4, 2])

    def value_and_grad(x, y):
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = smoothed_dtw(x, y, gamma=0.5, regularizer="l2", x_lengths=xl, y_lengths=yl)
        return value, tape.gradient(value, x)

    eager = value_and_grad(x, y)
    xla = tf.function(value_and_grad, jit_compile=True)(x, y)
    for want, got in zip(eager, xla):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    assert np.all(eager[1].numpy()[0, 3:] == 0.0)


def test_bad_regularizer_raises():
    with pytest.raises(ValueError, match="regularizer"):
        smoothed_dtw(np.zeros((1, 3)), np.zeros((1, 3)), regularizer="l1")
    with pytest.raises(ValueError, match="gamma"):
        smoothed_dtw_alignment(np.zeros((1, 3)), np.zeros((1, 3)), gamma=0, regularizer="l2")


def test_public_name_is_reexported():
    assert dtwrl.smoothed_dtw is smoothed_dtw
