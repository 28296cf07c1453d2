"""Pair sources from users' files (.npy, .csv, UCR), stored in and rebuilt from a folder; the fast synthetic draw."""

import numpy as np
import pytest

from dtwrl.datasets import (
    ArrayPairs,
    CallablePairs,
    DatasetPairs,
    SyntheticPairs,
    as_pair_source,
    load_pair_source,
    load_series,
    save_pair_source,
    synthetic_warp_pair,
)
from dtwrl.datasets.synthetic import draw_warp_pair


def test_load_series_npy_and_csv(tmp_path):
    X = np.random.default_rng(0).standard_normal((5, 12, 2))
    np.save(tmp_path / "series.npy", X)
    loaded, labels = load_series(tmp_path / "series.npy")
    assert labels is None and np.array_equal(loaded, X)
    (tmp_path / "series.csv").write_text("a,b,c\n1,2,3\n4,5,6,7,\n\n# a comment\n8,9\n")
    loaded, labels = load_series(str(tmp_path / "series.csv"))
    assert [s.ravel().tolist() for s in loaded] == [[1, 2, 3], [4, 5, 6, 7], [8, 9]]
    source = as_pair_source(tmp_path / "series.csv")
    assert isinstance(source, DatasetPairs) and len(source) == 3 and source.dim == 1


@pytest.mark.parametrize(
    "name, content, match",
    [
        ("bad.csv", "1,2\n3,x\n", "line 2"),
        ("empty.csv", "\n", "no series"),
        ("one.csv", "1,2,3\n", "at least 2 series"),
        ("nan.csv", "1,2\n3,nan\n", "NaN|finite"),
    ],
)
def test_bad_csv_is_refused(tmp_path, name, content, match):
    (tmp_path / name).write_text(content)
    with pytest.raises(ValueError, match=match):
        as_pair_source(tmp_path / name)


def test_bad_npy_is_refused(tmp_path):
    np.save(tmp_path / "strings.npy", np.array(["a", "b"]))
    np.save(tmp_path / "flat.npy", np.zeros(4))
    (tmp_path / "junk.npy").write_text("not numpy")
    for name in ("strings.npy", "flat.npy", "junk.npy"):
        with pytest.raises(ValueError, match="pairs"):
            as_pair_source(tmp_path / name)
    with pytest.raises(ValueError):
        as_pair_source(tmp_path / "missing.npy")


def _module_level_source(rng):
    return rng.standard_normal(4), rng.standard_normal(6)


def _ks_statistic(a, b):
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical CDFs."""
    grid = np.sort(np.concatenate([a, b]))
    cdf_a = np.searchsorted(np.sort(a), grid, side="right") / len(a)
    cdf_b = np.searchsorted(np.sort(b), grid, side="right") / len(b)
    return np.max(np.abs(cdf_a - cdf_b))


def _same_draws(a, b, count=5):
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    for _ in range(count):
        for u, v in zip(a(rng_a), b(rng_b), strict=True):
            np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize(
    "source",
    [
        SyntheticPairs(n=(20, 30), m=(10, 15), d=2, noise=0.1, warp_strength=0.5),
        DatasetPairs([np.arange(5.0), np.arange(7.0), np.ones(4)], labels=["a", "b", "a"], same_class=True),
        DatasetPairs(np.random.default_rng(1).standard_normal((4, 9, 3))),
        ArrayPairs([(np.zeros(3), np.ones(4)), (np.ones(2), np.zeros(6))], shuffle=True),
        CallablePairs(_module_level_source),
    ],
)
def test_saved_pair_source_draws_the_same_pairs(tmp_path, source):
    save_pair_source(source, tmp_path / "pairs")
    _same_draws(source, load_pair_source(tmp_path / "pairs"))


def test_unpicklable_source_and_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="cannot be stored"):
        save_pair_source(lambda rng: (np.zeros(3), np.zeros(3)), tmp_path)
    with pytest.raises(ValueError, match="no readable stored pair source"):
        load_pair_source(tmp_path / "nothing")


def test_fast_synthetic_draw_has_the_distribution_of_synthetic_warp_pair():
    """Same model, other draw order: equal distributions of values, warps and noise (two-sample KS tests)."""
    n, count = 40, 400
    rng_a, rng_b = np.random.default_rng(0), np.random.default_rng(1)
    fast = [draw_warp_pair(rng_a, (n, n), None, 1, 0.2, 1.0) for _ in range(count)]
    slow = [synthetic_warp_pair(rng_b, n=n, noise=0.2)[:2] for _ in range(count)]
    for statistic in (
        lambda x, y: x[n // 3, 0],  # the waveform
        lambda x, y: np.argmax(x[:, 0]) - np.argmax(y[:, 0]),  # the warp moves the peak
        lambda x, y: np.std(y[:, 0] - x[:, 0]),  # warp + noise
        lambda x, y: np.diff(y[:, 0]).std(),  # the noise roughens y
    ):
        a = [statistic(x, y) for x, y in fast]
        b = [statistic(x, y) for x, y in slow]
        # critical value of the KS test at level 0.001: 1.95 * sqrt(2 / count)
        assert _ks_statistic(np.asarray(a, float), np.asarray(b, float)) < 1.95 * np.sqrt(2 / count)
    lengths = [len(x) for x, _ in (draw_warp_pair(rng_a, (5, 8), (2, 3), 1, 0.0, 1.0) for _ in range(400))]
    assert set(lengths) == {5, 6, 7, 8}


def test_fast_synthetic_draw_is_reproducible_and_exact_at_the_ends():
    x1, y1 = SyntheticPairs(n=(30, 40), noise=0.0)(np.random.default_rng(9))
    x2, y2 = SyntheticPairs(n=(30, 40), noise=0.0)(np.random.default_rng(9))
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_allclose(y1[[0, -1]], x1[[0, -1]], atol=1e-12)  # the warp maps the ends onto the ends
    assert abs(x1.mean()) < 1e-12 and x1.std() == pytest.approx(1.0)
