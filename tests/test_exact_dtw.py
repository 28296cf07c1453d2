"""Tests for dtwrl.local_cost and dtwrl.exact_dtw against brute-force enumeration."""

import doctest

import fastdtw
import numpy as np
import pytest
from reference import all_warping_paths, brute_force_costs, brute_force_dtw, dp_value, in_band, local_costs

import dtwrl
from dtwrl import bands, exact_dtw, local_cost, oracle, validation
from dtwrl.exact_dtw import cost_to_go, dtw, dtw_path, dtw_path_from_cost, path_cost
from dtwrl.local_cost import METRICS, cost_matrix

SMALL = range(1, 7)


def _series(rng, n, d=None):
    return rng.standard_normal(n) if d is None else rng.standard_normal((n, d))


def _assert_valid_path(path, n, m, band=None):
    assert path.dtype == np.int64 and path.ndim == 2 and path.shape[1] == 2
    assert any(np.array_equal(path, p) for p in all_warping_paths(n, m))
    assert in_band(n, m, band)[path[:, 0], path[:, 1]].all()


def _in_band_mask(path, n, m, band):
    return bool(bands.band_mask(n, m, band)[path[:, 0], path[:, 1]].all())


# --- cost_matrix ---------------------------------------------------------------------------


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("d", [None, 1, 3])
def test_cost_matrix_matches_reference(rng, metric, d):
    x, y = _series(rng, 7, d), _series(rng, 4, d)
    C = cost_matrix(x, y, metric)
    assert C.shape == (7, 4) and C.dtype == np.float64
    np.testing.assert_allclose(C, local_costs(x, y, metric), rtol=1e-14, atol=0)


def test_cost_matrix_is_exact_for_large_offsets():
    x = np.array([1e8, 1e8 + 1.0])
    C = cost_matrix(x, x)
    assert C.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert cost_matrix([[0.0, 0.0]], [[3.0, 4.0]], "euclidean")[0, 0] == 5.0
    assert cost_matrix([[0.0, 0.0]], [[3.0, -4.0]], "abs")[0, 0] == 7.0
    assert METRICS == ("sqeuclidean", "euclidean", "abs")


# --- dtw and dtw_path against enumeration --------------------------------------------------


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("n", SMALL)
def test_dtw_matches_brute_force_all_small_sizes(rng, metric, n):
    for m in SMALL:
        for d in (None, 3):
            x, y = _series(rng, n, d), _series(rng, m, d)
            C = local_costs(x, y, metric)
            expected = brute_force_dtw(C)
            value = dtw(x, y, metric=metric)
            cost, path = dtw_path(x, y, metric=metric)
            np.testing.assert_allclose(value, expected, rtol=1e-13)
            assert cost == value
            _assert_valid_path(path, n, m)
            assert path_cost(x, y, path, metric=metric) == cost
            assert path.shape[0] <= n + m - 1


@pytest.mark.parametrize("n", SMALL)
def test_dtw_with_bands_matches_brute_force(rng, n):
    for m in SMALL:
        for band in (0, 1, 2, 3, 5):
            x, y = _series(rng, n), _series(rng, m)
            C = local_costs(x, y)
            costs = brute_force_costs(C, band)
            if costs.size == 0:
                with pytest.raises(ValueError, match=f"band={band} is too narrow"):
                    dtw(x, y, band=band)
                with pytest.raises(ValueError, match="band"):
                    dtw_path(x, y, band=band)
                continue
            cost, path = dtw_path(x, y, band=band)
            np.testing.assert_allclose(cost, costs.min(), rtol=1e-13)
            assert dtw(x, y, band=band) == cost
            _assert_valid_path(path, n, m, band)
            assert path_cost(x, y, path) == cost


def test_unequal_length_band_matches_brute_force(rng):
    for n, m in [(3, 6), (6, 3), (4, 6), (2, 5), (5, 2)]:
        r = bands.min_band(n, m)
        for band in (r, r + 1):
            for metric in METRICS:
                x, y = _series(rng, n, 3), _series(rng, m, 3)
                C = local_costs(x, y, metric)
                cost, path = dtw_path(x, y, metric=metric, band=band)
                np.testing.assert_allclose(cost, brute_force_dtw(C, band), rtol=1e-13)
                _assert_valid_path(path, n, m, band)


def test_medium_sizes_match_fulldp_value(rng):
    for n, m, band in [(40, 40, None), (40, 40, 3), (37, 61, None), (61, 37, 5), (50, 1, None), (1, 50, 0)]:
        for metric in METRICS:
            x, y = _series(rng, n, 2), _series(rng, m, 2)
            C = local_costs(x, y, metric)
            expected = dp_value(C, band)
            cost, path = dtw_path(x, y, metric=metric, band=band)
            np.testing.assert_allclose(cost, expected, rtol=1e-13)
            assert dtw(x, y, metric=metric, band=band) == cost
            assert path_cost(x, y, path, metric=metric) == cost
            assert in_band(n, m, band)[path[:, 0], path[:, 1]].all()


def test_dtw_matches_fastdtw_exact_dtw(rng):
    dists = {
        "sqeuclidean": lambda a, b: float(np.sum((a - b) ** 2)),
        "euclidean": lambda a, b: float(np.sqrt(np.sum((a - b) ** 2))),
        "abs": lambda a, b: float(np.sum(np.abs(a - b))),
    }
    for _ in range(10):
        n, m = rng.integers(1, 25, size=2)
        for d in (None, 2):
            x, y = _series(rng, n, d), _series(rng, m, d)
            for metric, dist in dists.items():
                expected, _ = fastdtw.dtw(x, y, dist=dist)
                np.testing.assert_allclose(dtw(x, y, metric=metric), expected, rtol=1e-12)


# --- hard numbers and special cases ---------------------------------------------------------


def test_hard_numbers():
    assert dtw([0.0, 1.0, 2.0], [0.0, 2.0]) == 1.0
    assert dtw([0.0, 1.0, 2.0], [0.0, 2.0], metric="abs") == 1.0
    assert dtw([1.0, 2.0, 3.0], [1.0, 2.0, 2.0, 3.0]) == 0.0
    assert dtw([0.0, 0.0, 1.0, 2.0], [0.0, 1.0, 2.0, 2.0], band=0) == 2.0
    assert dtw([[0.0, 0.0]], [[3.0, 4.0], [0.0, 0.0]], metric="euclidean") == 5.0
    assert dtw([2.0], [2.0]) == 0.0
    assert dtw([1.0], [0.0, 2.0, -1.0]) == 1.0 + 1.0 + 4.0
    cost, path = dtw_path([5.0], [5.0])
    assert cost == 0.0 and path.tolist() == [[0, 0]]
    assert dtw(np.arange(6), np.arange(6)) == 0.0  # integer input


def test_band_zero_is_the_euclidean_distance_and_wide_band_is_unconstrained(rng):
    x, y = rng.standard_normal((30, 2)), rng.standard_normal((30, 2))
    np.testing.assert_allclose(dtw(x, y, band=0), np.sum((x - y) ** 2), rtol=1e-13)
    _, path = dtw_path(x, y, band=0)
    assert path.tolist() == [[k, k] for k in range(30)]
    assert dtw(x, y, band=29) == dtw(x, y) == dtw(x, y, band=1000)
    assert dtw(x, y, band=2) >= dtw(x, y, band=5) >= dtw(x, y)


def test_symmetry_and_identity(rng):
    x, y = rng.standard_normal(23), rng.standard_normal(31)
    for metric in METRICS:
        assert dtw(x, y, metric) == dtw(y, x, metric)
        assert dtw(x, x, metric) == 0.0
    cost, path = dtw_path(y, x)
    cost_t, path_t = dtw_path(x, y)
    assert cost == cost_t
    assert path_cost(y, x, path_t[:, ::-1]) == cost


def test_ties_prefer_the_diagonal():
    _, path = dtw_path(np.zeros(3), np.zeros(5))
    assert path.tolist() == [[0, 0], [0, 1], [0, 2], [1, 3], [2, 4]]
    _, path = dtw_path(np.zeros(5), np.zeros(3))
    assert path.tolist() == [[0, 0], [1, 0], [2, 0], [3, 1], [4, 2]]
    _, path = dtw_path(np.zeros(4), np.zeros(4))
    assert path.tolist() == [[k, k] for k in range(4)]


def test_unequal_lengths_with_proportional_band(rng):
    n, m = 80, 200
    x, y = rng.standard_normal(n), rng.standard_normal(m)
    band = bands.min_band(n, m)
    cost, path = dtw_path(x, y, band=band)
    assert _in_band_mask(path, n, m, band)
    np.testing.assert_allclose(cost, dp_value(local_costs(x, y), band), rtol=1e-13)


# --- dtw_path_from_cost and cost_to_go ------------------------------------------------------


def test_dtw_path_from_cost_matches_dtw_path(rng):
    for n, m, band in [(1, 1, None), (1, 7, 0), (9, 4, 3), (25, 25, 2), (30, 45, None)]:
        x, y = rng.standard_normal((n, 2)), rng.standard_normal((m, 2))
        for metric in METRICS:
            cost, path = dtw_path_from_cost(cost_matrix(x, y, metric), band=band)
            cost2, path2 = dtw_path(x, y, metric=metric, band=band)
            assert cost == cost2
            np.testing.assert_array_equal(path, path2)
    C = -rng.random((4, 5))  # any finite costs, negative ones included
    np.testing.assert_allclose(dtw_path_from_cost(C)[0], brute_force_dtw(C), rtol=1e-13)


def _brute_cost_to_go(C, band):
    n, m = C.shape
    mask = in_band(n, m, band)
    G = np.full((n, m), np.inf)
    for i in range(n):
        for j in range(m):
            if not mask[i, j]:
                continue
            for p in all_warping_paths(n - i, m - j):
                p = p + [i, j]
                if mask[p[:, 0], p[:, 1]].all():
                    G[i, j] = min(G[i, j], C[p[:, 0], p[:, 1]].sum())
    return G


def test_cost_to_go_matches_brute_force(rng):
    for n, m, band in [
        (1, 1, None),
        (1, 5, None),
        (5, 1, 0),
        (4, 4, None),
        (5, 5, 1),
        (4, 6, None),
        (6, 4, 2),
        (5, 6, 1),
    ]:
        C = rng.random((n, m)) * 3.0
        G = cost_to_go(C, band=band)
        assert G.shape == (n, m) and G.dtype == np.float64
        expected = _brute_cost_to_go(C, band)
        np.testing.assert_array_equal(np.isinf(G), np.isinf(expected))
        np.testing.assert_allclose(G[np.isfinite(G)], expected[np.isfinite(expected)], rtol=1e-13)
        np.testing.assert_allclose(G[0, 0], dtw_path_from_cost(C, band=band)[0], rtol=1e-13)
        assert np.isinf(G[~in_band(n, m, band)]).all()


def test_cost_to_go_greedy_descent_is_optimal(rng):
    C = cost_matrix(rng.standard_normal(40), rng.standard_normal(55))
    G = cost_to_go(C, band=4)
    i = j = 0
    total = C[0, 0]
    while (i, j) != (39, 54):
        moves = [(i + 1, j + 1), (i + 1, j), (i, j + 1)]
        i, j = min((mv for mv in moves if mv[0] < 40 and mv[1] < 55), key=lambda mv: G[mv])
        total += C[i, j]
    np.testing.assert_allclose(total, G[0, 0], rtol=1e-12)
    np.testing.assert_allclose(G[0, 0], dtw_path_from_cost(C, band=4)[0], rtol=1e-12)


# --- path_cost ------------------------------------------------------------------------------


def test_path_cost_sums_every_cell(rng):
    x, y = rng.standard_normal((4, 2)), rng.standard_normal((3, 2))
    for metric in METRICS:
        C = local_costs(x, y, metric)
        for p in all_warping_paths(4, 3):
            np.testing.assert_allclose(path_cost(x, y, p, metric), C[p[:, 0], p[:, 1]].sum(), rtol=1e-13)
    assert path_cost([0.0, 1.0, 2.0], [0.0, 2.0], [[0, 0], [1, 0], [2, 1]]) == 1.0
    assert path_cost([0.0, 1.0, 2.0], [0.0, 2.0], ((0, 0), (1, 1), (2, 1))) == 1.0
    assert path_cost([0.0, 1.0, 2.0], [0.0, 2.0], np.array([[0, 0], [1, 1], [2, 1]], dtype=np.int32)) == 1.0


@pytest.mark.parametrize(
    "path, match",
    [
        ([[0, 0], [2, 1], [2, 2]], r"path has an illegal step \(2, 1\) at index 0"),
        ([[0, 0], [1, 1], [1, 1], [2, 2]], r"path has an illegal step \(0, 0\) at index 1"),
        ([[0, 0], [1, 1], [0, 2], [2, 2]], r"path has an illegal step \(-1, 1\)"),
        ([[1, 0], [2, 1], [2, 2]], r"path must start at \(0, 0\)"),
        ([[0, 0], [1, 1]], r"path must end at \(n-1, m-1\) = \(2, 2\)"),
        ([[0, 0], [1, 1], [2, 2], [2, 3]], r"path must end at"),
        ([0, 1, 2], r"path must have shape \(L, 2\)"),
        (np.zeros((0, 2), dtype=int), r"path must have shape \(L, 2\)"),
        (np.zeros((3, 3), dtype=int), r"path must have shape \(L, 2\)"),
        ([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]], "path must be an integer array"),
    ],
)
def test_bad_paths_raise(path, match):
    with pytest.raises(ValueError, match=match):
        path_cost(np.zeros(3), np.ones(3), path)


# --- bad inputs -------------------------------------------------------------------------------

FUNCS = [
    lambda x, y, **kw: dtw(x, y, **kw),
    lambda x, y, **kw: dtw_path(x, y, **kw),
    lambda x, y, **kw: cost_matrix(x, y, **{k: v for k, v in kw.items() if k != "band"}),
]


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize(
    "x, y, kwargs, match",
    [
        ([1.0, np.nan], [1.0], {}, "x must be finite"),
        ([1.0], [np.inf, 0.0], {}, "y must be finite"),
        ([], [1.0], {}, "x must not be empty"),
        ([1.0], np.zeros((0, 1)), {}, "y must not be empty"),
        (np.zeros((2, 2, 1)), [1.0], {}, "x must have shape"),
        (np.zeros((3, 2)), np.zeros((3, 3)), {}, "x and y must have the same number of features"),
        ([1.0, 2.0], [1.0], {"metric": "cosine"}, "metric must be one of 'sqeuclidean', 'euclidean', 'abs'"),
    ],
)
def test_bad_inputs_raise_value_error(func, x, y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        func(x, y, **kwargs)


def test_bad_band_raises():
    x, y = np.zeros(3), np.zeros(7)
    r = bands.min_band(3, 7)
    with pytest.raises(ValueError, match=f"band=0 is too narrow .* smallest band that works is {r}"):
        dtw(x, y, band=0)
    with pytest.raises(ValueError, match="band must be None or an int >= 0"):
        dtw_path(x, y, band=-1)
    with pytest.raises(TypeError, match="band must be None or an int"):
        dtw(x, y, band=2.0)
    with pytest.raises(TypeError, match="band must be None or an int"):
        dtw(x, y, band=True)


def test_bad_cost_matrices_raise():
    for func in (dtw_path_from_cost, cost_to_go):
        with pytest.raises(ValueError, match="C must be finite"):
            func([[0.0, np.nan]])
        with pytest.raises(ValueError, match=r"C must be a non-empty 2-D array"):
            func([1.0, 2.0])
        with pytest.raises(ValueError, match=r"C must be a non-empty 2-D array"):
            func(np.zeros((0, 3)))
        with pytest.raises(TypeError, match="C must hold real numbers"):
            func([["a"]])
        with pytest.raises(ValueError, match="band=0 is too narrow"):
            func(np.zeros((2, 5)), band=0)


# --- docs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("module", [validation, bands, local_cost, exact_dtw, oracle])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_public_names_are_exported():
    assert dtwrl.dtw is dtw and dtwrl.dtw_path is dtw_path and dtwrl.path_cost is path_cost
    assert dtwrl.cost_matrix is cost_matrix and dtwrl.fastdtw_path is oracle.fastdtw_path


def test_grids_too_large_for_memory_are_refused_with_the_way_out(monkeypatch):
    """dtw_path keeps a byte per grid cell, cost_matrix eight: on a long pair numba raised ``MemoryError:
    Allocation failed`` (300,000 x 300,000 here). They now refuse first, naming the pair and what to use instead;
    the value and a narrow band, which fit, still run."""
    import dtwrl.memory
    from dtwrl import cost_matrix

    monkeypatch.setattr(dtwrl.memory, "available_bytes", lambda: 5_000)
    monkeypatch.setattr(dtwrl.memory, "ALWAYS_FITS", 0)  # check these small grids too
    x, y = np.arange(100.0), np.arange(90.0)[::-1].copy()
    with pytest.raises(ValueError, match=r"x and y: dtw_path keeps one byte .* 100 x 90 cells would take .*dtwrl\.dtw"):
        dtw_path(x, y)
    with pytest.raises(ValueError, match=r"x and y: the cost matrix of 100 x 90 float64 cells would take"):
        cost_matrix(x, y)
    assert dtw_path(x, y, band=10)[0] == dtw(x, y, band=10)  # 100 rows of at most 21 band cells: 2,100 bytes
    monkeypatch.setattr(dtwrl.memory, "available_bytes", lambda: None)  # unknown: not checked
    assert dtw_path(x, y)[0] == dtw(x, y)
