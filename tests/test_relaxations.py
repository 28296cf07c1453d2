"""Tests for dtwrl.tf.relaxations: path costs along given paths, fixed-path DTW and DILATE."""

import numpy as np
import pytest
import tensorflow as tf
from reference import all_warping_paths, brute_force_dtw, brute_force_soft_dtw, in_band, local_costs

import dtwrl
from dtwrl.tf.relaxations import (
    align_tf,
    aligned_path_cost,
    check_alpha,
    dilate,
    fixed_path_dtw,
    path_cost_tf,
    temporal_penalty,
)
from tests.bad_batches import each_bad_pair_batch

METRICS = ["sqeuclidean", "euclidean", "abs"]


def _max_jacobian_error(f, *args):
    """Largest |analytic - finite-difference| entry of f's Jacobian (float64 inputs)."""
    theoretical, numerical = tf.test.compute_gradient(f, list(args))
    return max(float(np.max(np.abs(t - n))) for t, n in zip(theoretical, numerical))


def _brute_force_temporal(C, gamma, band=None):
    """<E, Omega> with E the Gibbs expectation over enumerated paths and Omega = (i-j)^2 / (n m)."""
    n, m = C.shape
    mask = in_band(n, m, band)
    paths = [p for p in all_warping_paths(n, m) if mask[p[:, 0], p[:, 1]].all()]
    costs = np.array([C[p[:, 0], p[:, 1]].sum() for p in paths])
    weights = np.exp(-(costs - costs.min()) / gamma)
    weights /= weights.sum()
    penalties = np.array([np.sum((p[:, 0] - p[:, 1]) ** 2) / (n * m) for p in paths])
    return float(weights @ penalties)


# ----------------------------------------------------------------------------- path_cost_tf
@pytest.mark.parametrize("metric", METRICS)
def test_path_cost_tf_sums_local_costs_and_ignores_padding(rng, metric):
    x, y = rng.normal(size=(2, 3, 2)), rng.normal(size=(2, 4, 2))
    paths = [np.array([[0, 0], [1, 1], [2, 2], [2, 3]]), np.array([[0, 0], [0, 1], [0, 2], [1, 3], [2, 3]])]
    idx = np.zeros((2, 6, 2), dtype=np.int32)  # padding rows point at (0, 0)
    idx[0, :4], idx[1, :5] = paths
    got = path_cost_tf(x, y, idx, [4, 5], metric=metric).numpy()
    expected = [local_costs(a, b, metric)[p[:, 0], p[:, 1]].sum() for a, b, p in zip(x, y, paths)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_path_cost_tf_gradient_reaches_only_path_cells(rng):
    x = tf.constant(rng.normal(size=(1, 3, 1)))
    y = tf.constant(rng.normal(size=(1, 3, 1)))
    idx = [[[0, 0], [1, 0], [2, 1], [2, 2], [0, 0], [0, 0]]]  # two padding rows (0, 0)
    with tf.GradientTape() as tape:
        tape.watch(y)
        cost = path_cost_tf(x, y, idx, [4])
    grad = tape.gradient(cost, y).numpy()[0, :, 0]
    xs, ys = x.numpy()[0, :, 0], y.numpy()[0, :, 0]
    # column 0 holds the counted cells (0, 0) and (1, 0); the padding (0, 0) adds nothing
    np.testing.assert_allclose(grad[0], -2.0 * (xs[0] - ys[0]) - 2.0 * (xs[1] - ys[0]), rtol=1e-12)
    np.testing.assert_allclose(grad[1], -2.0 * (xs[2] - ys[1]), rtol=1e-12)


@pytest.mark.parametrize("metric", METRICS)
def test_path_cost_tf_gradient_matches_finite_differences(rng, metric):
    x = tf.constant(rng.normal(size=(2, 3, 2)))
    y = tf.constant(rng.normal(size=(2, 4, 2)))
    idx = tf.constant([[[0, 0], [1, 1], [2, 2], [2, 3], [0, 0]], [[0, 0], [1, 0], [2, 1], [2, 2], [2, 3]]], tf.int32)
    lengths = tf.constant([4, 5])
    assert _max_jacobian_error(lambda a, b: path_cost_tf(a, b, idx, lengths, metric), x, y) < 1e-6


def test_path_cost_tf_euclidean_gradient_is_zero_at_equal_frames():
    x = tf.constant([[[1.0, 2.0]]], tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        cost = path_cost_tf(x, tf.identity(x), [[[0, 0]]], [1], metric="euclidean")
    assert tape.gradient(cost, x).numpy().tolist() == [[[0.0, 0.0]]]


def test_path_cost_tf_argument_errors():
    x = np.zeros((1, 2))
    with pytest.raises(ValueError, match="paths_idx"):
        path_cost_tf(x, x, [[0, 0]], [1])
    with pytest.raises(ValueError, match="paths_idx"):
        path_cost_tf(x, x, [[[0.0, 0.0]]], [1])
    with pytest.raises(ValueError, match="path_lengths"):
        path_cost_tf(x, x, [[[0, 0]]], 1)
    with pytest.raises(ValueError, match="metric"):
        path_cost_tf(x, x, [[[0, 0]]], [1], metric="l3")


# ----------------------------------------------------------------------------- fixed-path DTW
@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("band", [None, 1])
def test_fixed_path_dtw_equals_exact_dtw(rng, metric, band):
    x, y = rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 5, 2))
    got = fixed_path_dtw(x, y, metric=metric, band=band).numpy()
    np.testing.assert_allclose(got, [dtwrl.dtw(a, b, metric=metric, band=band) for a, b in zip(x, y)], rtol=1e-12)
    np.testing.assert_allclose(
        got, [brute_force_dtw(local_costs(a, b, metric), band) for a, b in zip(x, y)], rtol=1e-12
    )


def test_single_frame_series():
    # n = m = 1: the path is the one cell; n = 1, m = 3: one row, Omega = (0, 1, 4) / 3
    assert fixed_path_dtw([[1.0], [2.0]], [[0.0], [0.0]]).numpy().tolist() == [1.0, 4.0]
    np.testing.assert_allclose(dilate([[1.0]], [[0.0, 5.0, -1.0]], alpha=0.0).numpy(), [5 / 3], rtol=1e-14)


@pytest.mark.parametrize("metric", METRICS)
def test_fixed_path_dtw_gradient_matches_finite_differences(rng, metric):
    # random inputs: the optimal path is unique and stays so under the tiny perturbations
    x, y = tf.constant(rng.normal(size=(2, 3, 1))), tf.constant(rng.normal(size=(2, 4, 1)))
    assert _max_jacobian_error(lambda a, b: fixed_path_dtw(a, b, metric=metric), x, y) < 1e-6


def test_fixed_path_dtw_runs_in_a_graph_with_unknown_batch(rng):
    f = tf.function(
        lambda a, b: fixed_path_dtw(a, b),
        input_signature=[tf.TensorSpec([None, 4], tf.float32), tf.TensorSpec([None, 3], tf.float32)],
    )
    x, y = rng.normal(size=(5, 4)).astype(np.float32), rng.normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(f(x, y).numpy(), [dtwrl.dtw(a, b) for a, b in zip(x, y)], rtol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError, match="y_pred must be finite"):
        f(x, np.full((5, 3), np.nan, np.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="same number of series B"):
        f(x, y[:2])


def test_aligned_path_cost_with_a_known_aligner(rng):
    x, y = rng.normal(size=(1, 3, 1)), rng.normal(size=(1, 2, 1))
    path = np.array([[0, 0], [0, 1], [1, 1], [2, 1]])
    got = aligned_path_cost(x, tf.constant(y), lambda a, b: [path], metric="abs").numpy()
    np.testing.assert_allclose(got, [local_costs(x[0], y[0], "abs")[path[:, 0], path[:, 1]].sum()], rtol=1e-12)
    idx, lengths, owners = align_tf("fastdtw", tf.constant(x), tf.constant(y))
    assert idx.shape[1] == lengths.numpy()[0]


@each_bad_pair_batch
def test_bad_inputs(y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        fixed_path_dtw(y_true, y_pred)
    with pytest.raises(ValueError, match=match):
        dilate(y_true, y_pred)


def test_input_dtypes():
    # integers become float32, y_true takes y_pred's dtype, strings and booleans are refused
    assert fixed_path_dtw([[0, 1]], tf.constant([[0, 3]])).dtype == tf.float32
    assert fixed_path_dtw(np.zeros((1, 2), np.float32), np.ones((1, 2))).numpy().tolist() == [2.0]
    with pytest.raises(TypeError, match="y_pred must hold real numbers"):
        fixed_path_dtw(np.zeros((1, 2)), tf.zeros((1, 2), tf.bool))
    with pytest.raises(TypeError, match="y_true must hold real numbers"):
        fixed_path_dtw([["a", "b"]], np.zeros((1, 2)))


# ----------------------------------------------------------------------------- DILATE
def test_temporal_penalty_matches_the_paper_for_equal_lengths():
    N = 5
    omega = temporal_penalty(N, N, tf.float64).numpy()
    i = np.arange(1, N + 1)  # the authors index steps from 1; (i - j)^2 is the same
    np.testing.assert_allclose(omega, (i[:, None] - i[None, :]) ** 2 / N**2, rtol=0)
    assert temporal_penalty(2, 3, tf.float64).numpy().tolist() == [[0.0, 1 / 6, 4 / 6], [1 / 6, 0.0, 1 / 6]]


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("band", [None, 1])
def test_dilate_matches_brute_force(rng, alpha, band):
    x, y = rng.normal(size=(2, 3, 1)), rng.normal(size=(2, 4, 1))
    gamma = 0.5
    got = dilate(x, y, alpha=alpha, gamma=gamma, band=band).numpy()
    expected = []
    for a, b in zip(x, y):
        C = local_costs(a, b)
        expected.append(
            alpha * brute_force_soft_dtw(C, gamma, band) + (1 - alpha) * _brute_force_temporal(C, gamma, band)
        )
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_dilate_endpoints_are_soft_dtw_and_the_temporal_term(rng):
    x, y = rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 4, 2))
    gamma = 0.1
    np.testing.assert_allclose(
        dilate(x, y, alpha=1.0, gamma=gamma).numpy(), dtwrl.soft_dtw(x, y, gamma=gamma).numpy(), rtol=1e-12
    )
    E = dtwrl.soft_dtw_alignment(x, y, gamma=gamma).numpy()
    temporal = np.sum(E * (np.subtract.outer(np.arange(4), np.arange(4)) ** 2 / 16.0), axis=(1, 2))
    np.testing.assert_allclose(dilate(x, y, alpha=0.0, gamma=gamma).numpy(), temporal, rtol=1e-12)


def test_dilate_temporal_term_vanishes_on_identical_series():
    y = np.array([[0.0, 3.0, -1.0, 2.0]])
    assert abs(float(dilate(y, y, alpha=0.0, gamma=0.01)[0])) < 1e-12


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_dilate_gradient_matches_finite_differences(rng, alpha):
    # the temporal term's gradient runs through the alignment's Hessian-vector product
    x, y = tf.constant(rng.normal(size=(1, 3, 1))), tf.constant(rng.normal(size=(1, 4, 1)))
    assert _max_jacobian_error(lambda a, b: dilate(a, b, alpha=alpha, gamma=0.5), x, y) < 1e-6


@pytest.mark.parametrize(
    "alpha, exc", [(-0.1, ValueError), (1.5, ValueError), (np.nan, ValueError), ("0.5", TypeError), (True, TypeError)]
)
def test_dilate_rejects_bad_alpha(alpha, exc):
    with pytest.raises(exc, match="alpha"):
        dilate(np.zeros((1, 2)), np.zeros((1, 2)), alpha=alpha)
    with pytest.raises(exc, match="alpha"):
        check_alpha(alpha)


@pytest.mark.parametrize("gamma", [0.0, -1.0, np.inf])
def test_dilate_rejects_bad_gamma(gamma):
    with pytest.raises(ValueError, match="gamma"):
        dilate(np.zeros((1, 2)), np.zeros((1, 2)), gamma=gamma)
