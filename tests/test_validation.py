"""Tests for dtwrl.validation: series, metric, gamma and feature-dimension checks."""

import numpy as np
import pytest

from dtwrl.validation import METRIC_NAMES, as_series, check_gamma, check_metric, check_same_dim


def test_as_series_shapes_and_layout():
    assert as_series([1, 2, 3]).shape == (3, 1)
    assert as_series(np.ones((4, 2))).shape == (4, 2)
    fortran = np.asfortranarray(np.arange(12.0).reshape(6, 2))
    strided = np.arange(20.0)[::2]
    for arr in (fortran, strided, np.arange(5, dtype=np.int32), np.array([True, False])):
        out = as_series(arr)
        assert out.dtype == np.float64 and out.flags["C_CONTIGUOUS"] and out.ndim == 2
    np.testing.assert_array_equal(as_series(fortran), np.arange(12.0).reshape(6, 2))
    np.testing.assert_array_equal(as_series(strided)[:, 0], np.arange(0.0, 20.0, 2.0))


def test_as_series_length_one_and_no_copy_when_clean():
    assert as_series([7.5]).tolist() == [[7.5]]
    clean = np.zeros((3, 2))
    assert as_series(clean) is clean


@pytest.mark.parametrize(
    "bad, match",
    [
        ([1.0, np.nan], "xs must be finite"),
        ([1.0, np.inf], "xs must be finite"),
        ([[-np.inf, 0.0]], "xs must be finite"),
        ([], "xs must not be empty"),
        (np.zeros((0, 3)), "xs must not be empty"),
        (np.zeros((3, 0)), "xs must not be empty"),
        (np.zeros((2, 2, 2)), r"xs must have shape \(n,\) or \(n, d\)"),
        (3.0, r"xs must have shape \(n,\) or \(n, d\)"),
        ([[1.0, 2.0], [3.0]], "xs must be an array"),
    ],
)
def test_as_series_value_errors_name_the_argument(bad, match):
    with pytest.raises(ValueError, match=match):
        as_series(bad, "xs")


@pytest.mark.parametrize("bad", [["a", "b"], np.array([1 + 2j]), np.array([None, 1.0], dtype=object)])
def test_as_series_non_numeric_is_type_error(bad):
    with pytest.raises(TypeError, match="ys must hold real numbers"):
        as_series(bad, "ys")


def test_check_metric():
    for name in METRIC_NAMES:
        assert check_metric(name) == name
    assert METRIC_NAMES == ("sqeuclidean", "euclidean", "abs")
    for bad in ("cosine", "SQEUCLIDEAN", None, 2):
        with pytest.raises(ValueError, match="metric must be one of 'sqeuclidean', 'euclidean', 'abs'"):
            check_metric(bad)
    with pytest.raises(ValueError, match="dist must be one of"):
        check_metric("l3", name="dist")


def test_check_gamma():
    assert check_gamma(1) == 1.0
    assert check_gamma(np.float32(0.5)) == 0.5
    assert check_gamma(np.array(0.25)) == 0.25
    assert isinstance(check_gamma(np.float64(2.0)), float)
    for bad in (0, 0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="gamma must be a finite number > 0"):
            check_gamma(bad)
    for bad in (True, "1.0", None, [1.0]):
        with pytest.raises(TypeError, match="gamma must be a real number"):
            check_gamma(bad)
    with pytest.raises(ValueError, match="tau must be"):
        check_gamma(-2, name="tau")


def test_check_same_dim():
    check_same_dim(np.zeros((3, 2)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="y_true and y_pred must have the same number of features d; .*d=2.*d=3"):
        check_same_dim(np.zeros((3, 2)), np.zeros((3, 3)), names=("y_true", "y_pred"))


def test_bad_padded_paths_flags_exactly_the_paths_check_path_refuses():
    from dtwrl.aligners import pad_paths
    from dtwrl.corridors import random_path
    from dtwrl.validation import bad_padded_paths, check_path

    rng = np.random.default_rng(5)
    n, m = 7, 9
    paths = [random_path(n, m, rng) for _ in range(60)]
    for k, path in enumerate(paths[:40]):  # corrupt most of them, each in one way
        path = path.copy()
        kind = k % 5
        if kind == 0:
            path[0] = (0, 1)  # does not start at (0, 0)
        elif kind == 1:
            path = path[:-1]  # stops short of (n - 1, m - 1)
        elif kind == 2 and len(path) > 3:
            path[2] = path[1]  # a repeated cell: a zero step
        elif kind == 3 and len(path) > 3:
            path[2, 1] += 2  # a jump
        elif kind == 4 and len(path) > 3:
            path[1:3] = path[2:0:-1]  # a step back
        paths[k] = path
    indices, lengths = pad_paths(paths)
    expected = []
    for path in paths:
        try:
            check_path(path, n, m)
            expected.append(False)
        except ValueError:
            expected.append(True)
    assert bad_padded_paths(indices, lengths, n, m).tolist() == expected and any(expected) and not all(expected)
    lengths[5] = 0  # lengths outside [1, L]
    lengths[50] = indices.shape[1] + 1
    flags = bad_padded_paths(indices, lengths, n, m)
    assert flags[5] and flags[50]
    assert bad_padded_paths(np.zeros((2, 0, 2), int), np.zeros(2, int), n, m).tolist() == [True, True]
