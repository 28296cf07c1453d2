"""Aligners that return several paths per pair, and PathLoss averaging their costs."""

import numpy as np
import pytest
import tensorflow as tf

import dtwrl
from dtwrl.aligners import ExactDTWAligner, align_batch, align_batch_groups, path_groups
from dtwrl.losses import PathLoss


def _random_path(n, m, rng):
    """A uniformly stepped random warping path from (0, 0) to (n-1, m-1)."""
    i, j, cells = 0, 0, [(0, 0)]
    while (i, j) != (n - 1, m - 1):
        moves = [move for move in ((1, 1), (1, 0), (0, 1)) if i + move[0] < n and j + move[1] < m]
        di, dj = moves[rng.integers(len(moves))]
        i, j = i + di, j + dj
        cells.append((i, j))
    return np.array(cells, dtype=np.int64)


class FixedGroups:
    """A deterministic aligner: the same K_b fixed paths for pair b at every call."""

    def __init__(self, groups):
        self.groups = groups

    def __call__(self, y_true, y_pred):
        return self.groups


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    n, m = 7, 5
    y_true, y_pred = rng.normal(size=(3, n, 2)), rng.normal(size=(3, m, 2))
    groups = [[_random_path(n, m, rng) for _ in range(k)] for k in (4, 1, 3)]
    return y_true, y_pred, groups


@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean", "abs"])
def test_path_loss_is_the_mean_of_the_fixed_path_costs(batch, metric):
    y_true, y_pred, groups = batch
    got = PathLoss(FixedGroups(groups), metric=metric, reduction="none")(y_true, tf.constant(y_pred)).numpy()
    expected = [
        np.mean([dtwrl.path_cost(a, b, p, metric=metric) for p in group]) for a, b, group in zip(y_true, y_pred, groups)
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_a_group_of_one_equals_the_single_path(batch):
    y_true, y_pred, groups = batch
    singles = [group[0] for group in groups]
    as_groups = [[path] for path in singles]
    a = PathLoss(FixedGroups(singles), reduction="none")(y_true, tf.constant(y_pred)).numpy()
    b = PathLoss(FixedGroups(as_groups), reduction="none")(y_true, tf.constant(y_pred)).numpy()
    np.testing.assert_array_equal(a, b)


def test_path_loss_gradient_matches_finite_differences(batch):
    y_true, y_pred, groups = batch
    loss = PathLoss(FixedGroups(groups))  # mean over the batch of the per-pair mean path cost
    x = tf.Variable(y_pred)
    with tf.GradientTape() as tape:
        value = loss(y_true, x)
    grad = tf.convert_to_tensor(tape.gradient(value, x)).numpy()
    eps, numeric = 1e-6, np.zeros_like(y_pred)
    for index in np.ndindex(y_pred.shape):
        up, down = y_pred.copy(), y_pred.copy()
        up[index] += eps
        down[index] -= eps
        numeric[index] = (float(loss(y_true, up)) - float(loss(y_true, down))) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)
    assert np.count_nonzero(grad) > 0


def test_groups_work_inside_a_compiled_keras_fit():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(8, 4)).astype(np.float32), rng.normal(size=(8, 6)).astype(np.float32)

    def exact_and_diagonal(y_true, y_pred):  # the optimal path and a fixed one, for every pair
        diagonal = np.array(
            [
                (min(k, y_true.shape[1] - 1), min(k, y_pred.shape[1] - 1))
                for k in range(max(y_true.shape[1], y_pred.shape[1]))
            ]
        )
        return [[p, diagonal] for p in ExactDTWAligner()(y_true, y_pred)]

    model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(6)])
    model.compile(optimizer=tf.keras.optimizers.SGD(0.01), loss=PathLoss(exact_and_diagonal))
    history = model.fit(X, Y, batch_size=4, epochs=3, verbose=0)
    assert np.all(np.isfinite(history.history["loss"])) and history.history["loss"][-1] < history.history["loss"][0]


def test_path_groups_normalises_every_form():
    one = np.array([[0, 0], [1, 1]])
    groups = path_groups([one, [one, one], np.stack([one, one, one]), [[0, 0], [1, 1]]], 4)
    assert [len(g) for g in groups] == [1, 2, 3, 1]
    assert all(p.shape == (2, 2) for g in groups for p in g)
    with pytest.raises(ValueError, match="returned 1 paths for a batch of 2"):
        path_groups([one], 2)
    with pytest.raises(ValueError, match="empty group of paths for pair 1"):
        path_groups([one, []], 2)


def test_align_batch_groups_checks_each_path_and_names_it():
    x, y = np.zeros((2, 3)), np.zeros((2, 3))
    good = np.array([[0, 0], [1, 1], [2, 2]])
    idx, lengths, owners = align_batch_groups(lambda a, b: [[good, good], good], x, y)
    assert idx.shape == (3, 3, 2) and lengths.tolist() == [3, 3, 3] and owners.tolist() == [0, 0, 1]
    illegal = np.array([[0, 0], [2, 2]])
    with pytest.raises(ValueError, match="path 1 of pair 0 from the aligner has an illegal step"):
        align_batch_groups(lambda a, b: [[good, illegal], good], x, y)
    with pytest.raises(ValueError, match="path 1 from the aligner has an illegal step"):
        align_batch_groups(lambda a, b: [good, [illegal]], x, y)
    # the one-path-per-pair consumers refuse groups with a clear message
    with pytest.raises(ValueError, match=r"returned 2 paths for pair 0; .*PathLoss averages"):
        align_batch(lambda a, b: [[good, good], good], x, y)
    # the differentiable path cost takes a group's mean (the same as PathLoss)
    other = np.array([[0, 0], [1, 0], [2, 1], [2, 2]])
    x, y = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    both = dtwrl.tf.relaxations.aligned_path_cost(x, y, lambda a, b: [[good, other], good]).numpy()
    one = dtwrl.tf.relaxations.aligned_path_cost(x, y, lambda a, b: [good, good]).numpy()
    alt = dtwrl.tf.relaxations.aligned_path_cost(x, y, lambda a, b: [other, good]).numpy()
    assert one[0] != alt[0]
    np.testing.assert_allclose(both, [(one[0] + alt[0]) / 2, one[1]])
