"""experiments/memory.py: a call's peak memory measured in a fresh process does not depend on what ran before."""

import sys

import numpy as np
import pytest

from experiments.memory import fresh_peak_mb

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self (Linux)")


def _touch(megabytes):
    """Allocate and write ``megabytes`` MB in 1 MB blocks (kept by the allocator after the first use), then free."""
    blocks = [np.ones(1 << 17) for _ in range(megabytes)]
    return sum(float(b[0]) for b in blocks)


def prepare_touch(megabytes, warmups):
    for _ in range(warmups):
        _touch(megabytes)
    return lambda: _touch(megabytes)


def test_a_call_that_allocates_more_reports_more_whatever_ran_before():
    small = fresh_peak_mb(prepare_touch, 20, 0)
    large = fresh_peak_mb(prepare_touch, 80, 0)
    warmed_large = fresh_peak_mb(prepare_touch, 80, 2)  # the warm-up's freed blocks are not reused unseen
    assert 15 < small < 40 and 75 < large < 110, (small, large)
    assert large > small + 50
    assert abs(warmed_large - large) < 15, (warmed_large, large)


def prepare_hole(warmups):
    """Warm-up: a 4 MB block freed (glibc's dynamic threshold rises to 4 MB). The call: 1 MB, then 256 KB above it,
    the 1 MB freed, then 2 MB, which does not fit in the hole the 1 MB left on the heap."""
    for _ in range(warmups):
        np.ones(1 << 19).sum()

    def call():
        first = np.ones(1 << 17)
        small = np.ones(1 << 15)
        del first
        second = np.ones(1 << 18)
        return float(second[0] + small[0])

    return call


def test_the_fixed_allocator_measures_what_the_call_holds_not_the_heap_glibc_kept():
    fixed = fresh_peak_mb(prepare_hole, 1)
    dynamic = fresh_peak_mb(prepare_hole, 1, allocator="dynamic")
    assert 1.9 < fixed < 2.8, fixed  # the 2 MB block and the 256 KB one
    assert dynamic > fixed + 0.6, (dynamic, fixed)  # the 1 MB hole stays resident beside it
    with pytest.raises(ValueError, match="allocator"):
        fresh_peak_mb(prepare_hole, 1, allocator="jemalloc")
