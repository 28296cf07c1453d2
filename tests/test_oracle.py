"""Tests for dtwrl.oracle.fastdtw_path: FastDTW's path priced in dtwrl's local cost."""

import fastdtw
import numpy as np
import pytest

from dtwrl import dtw, fastdtw_path, path_cost
from dtwrl.local_cost import METRICS

INDEPENDENT_DISTS = {
    "sqeuclidean": lambda a, b: float(np.sum((np.atleast_1d(a) - np.atleast_1d(b)) ** 2)),
    "euclidean": lambda a, b: float(np.linalg.norm(np.atleast_1d(a) - np.atleast_1d(b))),
    "abs": lambda a, b: float(np.sum(np.abs(np.atleast_1d(a) - np.atleast_1d(b)))),
}


def _is_warping_path(path, n, m):
    steps = np.diff(path, axis=0)
    return (
        path.dtype == np.int64
        and path.shape[1] == 2
        and tuple(path[0]) == (0, 0)
        and tuple(path[-1]) == (n - 1, m - 1)
        and all(tuple(s) in {(1, 1), (1, 0), (0, 1)} for s in steps)
    )


def test_never_below_exact_dtw_and_sometimes_above():
    rng = np.random.default_rng(7)
    gaps = []
    for seed in range(120):
        n, m = rng.integers(1, 60, size=2)
        d = None if seed % 3 else 2
        x = np.cumsum(rng.standard_normal(n if d is None else (n, d)), axis=0)
        y = np.cumsum(rng.standard_normal(m if d is None else (m, d)), axis=0)
        metric = METRICS[seed % 3]
        cost, path = fastdtw_path(x, y, radius=int(seed % 3) + 1, metric=metric)
        assert _is_warping_path(path, n, m)
        assert cost == path_cost(x, y, path, metric=metric)
        exact = dtw(x, y, metric=metric)
        assert cost >= exact
        gaps.append(cost - exact)
    assert max(gaps) > 0.0  # FastDTW is really approximate on some of these pairs


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("d", [None, 3])
def test_cost_matches_fastdtw_with_independent_dist(rng, metric, d):
    x = rng.standard_normal(40 if d is None else (40, d))
    y = rng.standard_normal(33 if d is None else (33, d))
    expected_cost, expected_path = fastdtw.fastdtw(x, y, radius=1, dist=INDEPENDENT_DISTS[metric])
    cost, path = fastdtw_path(x, y, radius=1, metric=metric)
    np.testing.assert_allclose(cost, expected_cost, rtol=1e-12)
    np.testing.assert_array_equal(path, np.array(expected_path))


def test_large_radius_is_exact(rng):
    for metric in METRICS:
        x, y = rng.standard_normal(30), rng.standard_normal(25)
        cost, _ = fastdtw_path(x, y, radius=30, metric=metric)
        np.testing.assert_allclose(cost, dtw(x, y, metric=metric), rtol=1e-12)


def test_hard_numbers_and_length_one():
    cost, path = fastdtw_path([0.0, 1.0, 2.0], [0.0, 2.0])
    assert cost == 1.0 and path.shape == (3, 2)
    cost, path = fastdtw_path([3.0], [1.0, 3.0, 5.0])
    assert cost == 4.0 + 0.0 + 4.0 and path.tolist() == [[0, 0], [0, 1], [0, 2]]
    cost, path = fastdtw_path([[0.0, 0.0]], [[3.0, 4.0]], metric="euclidean")
    assert cost == 5.0 and path.tolist() == [[0, 0]]


def test_bad_inputs_raise():
    x, y = np.zeros(5), np.ones(4)
    for bad in (0, -1):
        with pytest.raises(ValueError, match=f"radius must be an int >= 1 .*; got {bad}"):
            fastdtw_path(x, y, radius=bad)
    for bad in (1.5, True, "1", None):
        with pytest.raises(TypeError, match="radius must be an int >= 1"):
            fastdtw_path(x, y, radius=bad)
    with pytest.raises(ValueError, match="metric must be one of"):
        fastdtw_path(x, y, metric="cityblock")
    with pytest.raises(ValueError, match="x must be finite"):
        fastdtw_path([np.nan, 1.0], y)
    with pytest.raises(ValueError, match="y must not be empty"):
        fastdtw_path(x, [])
    with pytest.raises(ValueError, match="x and y must have the same number of features"):
        fastdtw_path(np.zeros((3, 2)), np.zeros((3, 1)))
    assert fastdtw_path(x, y, radius=np.int64(2))[0] == dtw(x, y)
