"""``envs.hugepages.zeros``: zeroed, writable, C-contiguous slabs, huge-page aligned when large."""

import mmap

import numpy as np
import pytest

from envs.hugepages import HUGE_PAGE, zeros


@pytest.mark.parametrize(
    "shape, dtype", [((3, 5), np.float64), ((2, 600, 1000), np.float32), ((4, 1024, 1024), np.int8)]
)
def test_zeros_matches_np_zeros(shape, dtype):
    a = zeros(shape, dtype)
    assert a.shape == shape and a.dtype == dtype and a.flags.c_contiguous and a.flags.writeable
    assert not a.any()
    a[-1] = 7  # the whole extent is writable
    assert a.reshape(-1)[-1] == 7 and a.sum() == 7 * int(np.prod(shape[1:]))


def test_large_slabs_start_on_a_huge_page():
    a = zeros((HUGE_PAGE + 1,), np.int8)
    if hasattr(mmap, "MADV_HUGEPAGE"):
        assert a.ctypes.data % HUGE_PAGE == 0
    small = zeros((10,), np.int8)
    assert isinstance(small, np.ndarray) and not small.any()
