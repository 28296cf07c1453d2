"""Tests for dtwrl.bands against the formula written out in tests/reference.py."""

from fractions import Fraction
from functools import cache

import numpy as np
import pytest
from reference import brute_force_costs, in_band

from dtwrl import band_mask, min_band
from dtwrl.bands import band_bounds, check_band

SIZES = range(1, 10)
BANDS = [None, 0, 1, 2, 3, 4, 6, 10]


@cache
def _has_path(n, m, band):
    return len(brute_force_costs(np.zeros((n, m)), band)) > 0


@pytest.mark.parametrize("n", SIZES)
def test_band_mask_matches_reference(n):
    for m in SIZES:
        for band in BANDS:
            mask = band_mask(n, m, band)
            assert mask.dtype == bool and mask.shape == (n, m)
            np.testing.assert_array_equal(mask, in_band(n, m, band), err_msg=f"n={n} m={m} band={band}")


def test_band_bounds_are_the_mask_rows():
    for n in SIZES:
        for m in SIZES:
            for band in BANDS:
                lo, hi = band_bounds(n, m, band)
                assert lo.dtype == hi.dtype == np.int64
                mask = in_band(n, m, band)
                for i in range(n):
                    cols = np.flatnonzero(mask[i])
                    if cols.size:
                        assert (lo[i], hi[i]) == (cols[0], cols[-1])
                    else:
                        assert lo[i] > hi[i]


def test_band_hard_numbers():
    lo, hi = band_bounds(4, 4, 1)
    assert lo.tolist() == [0, 0, 1, 2] and hi.tolist() == [1, 2, 3, 3]
    assert band_mask(3, 5, 1).astype(int).tolist() == [[1, 1, 0, 0, 0], [0, 1, 1, 1, 0], [0, 0, 0, 1, 1]]
    assert band_mask(1, 4, 0).all() and band_mask(4, 1, 0).all()
    n = 1000
    i, j = np.indices((n, n))
    np.testing.assert_array_equal(band_mask(n, n, 10), np.abs(i - j) <= 10)
    np.testing.assert_array_equal(band_mask(n, n, 0), np.eye(n, dtype=bool))


def test_band_bounds_exact_on_large_coprime_lengths():
    n, m, band = 10007, 20011, 37
    lo, hi = band_bounds(n, m, band)
    for i in (0, 1, 2, 5000, 9999, 10005, 10006):
        centre = Fraction(i * (m - 1), n - 1)
        half = Fraction(band * (n - 1), n - 1)
        assert lo[i] == max(0, int(np.ceil(centre - half)))
        assert hi[i] == min(m - 1, int(np.floor(centre + half)))


def test_min_band_is_the_smallest_connecting_band():
    for n in range(1, 7):
        for m in range(1, 7):
            r = min_band(n, m)
            assert _has_path(n, m, r), (n, m)
            assert r == 0 or not _has_path(n, m, r - 1), (n, m)
            assert min_band(m, n) == r


def test_min_band_hard_numbers():
    assert [min_band(5, 5), min_band(3, 5), min_band(10, 2), min_band(1, 50), min_band(50, 1)] == [0, 1, 4, 0, 0]
    assert min_band(1000, 1000) == 0
    r = min_band(100, 300)
    check_band(100, 300, r)
    with pytest.raises(ValueError, match=f"smallest band that works is {r}"):
        check_band(100, 300, r - 1)


def test_check_band_agrees_with_enumeration():
    for n in range(1, 7):
        for m in range(1, 7):
            for band in range(0, 4):
                if _has_path(n, m, band):
                    assert check_band(n, m, band) == band
                else:
                    with pytest.raises(ValueError, match=rf"band={band} is too narrow .* {min_band(n, m)}"):
                        check_band(n, m, band)


def test_check_band_types_and_values():
    assert check_band(4, 4, None) is None
    out = check_band(4, 4, np.int64(2))
    assert out == 2 and type(out) is int
    for bad in (True, np.bool_(False), 1.0, 2.5, "3", [1]):
        with pytest.raises(TypeError, match="band must be None or an int >= 0"):
            check_band(4, 4, bad)
    with pytest.raises(ValueError, match="band must be None or an int >= 0; got -1"):
        check_band(4, 4, -1)
    with pytest.raises(ValueError, match="window=0 is too narrow"):
        check_band(3, 6, 0, name="window")
    for bad in (True, 1.5):
        with pytest.raises(TypeError, match="band must be"):
            band_mask(3, 3, bad)
    with pytest.raises(ValueError, match="band must be"):
        band_bounds(3, 3, -2)


def test_sizes_are_validated():
    with pytest.raises(ValueError, match="n must be a positive int"):
        band_mask(0, 3, None)
    with pytest.raises(ValueError, match="m must be a positive int"):
        band_bounds(3, -1, 1)
    with pytest.raises(TypeError, match="n must be a positive int"):
        min_band(2.0, 3)


def _reachable(mask):
    """Monotone reachability of the end cell through a boolean mask, by plain dynamic programming."""
    n, m = mask.shape
    reach = np.zeros((n, m), dtype=bool)
    for i in range(n):
        for j in range(m):
            if mask[i, j]:
                reach[i, j] = (i == 0 and j == 0) or (
                    (i > 0 and reach[i - 1, j])
                    or (j > 0 and reach[i, j - 1])
                    or (i > 0 and j > 0 and reach[i - 1, j - 1])
                )
    return reach[-1, -1]


def test_min_band_on_larger_unequal_lengths(rng):
    for n, m in [(10, 2), (2, 10), (7, 30), (30, 7), (13, 17), (25, 24), (40, 3), (19, 57)]:
        r = min_band(n, m)
        assert _reachable(in_band(n, m, r)), (n, m)
        assert r == 0 or not _reachable(in_band(n, m, r - 1)), (n, m)
