"""``zeros(shape, dtype)``: large zeroed slabs backed by transparent huge pages where the system offers them.

``WarpingBatch``'s slabs (local costs, enterable flags, terminal values: about
100 MB for 256 alignments of 150 x 150) are read at scattered cells every step,
a few KB per alignment, so with 4 KB pages nearly every read also misses the
TLB. A slab from :func:`zeros` is an anonymous mapping (zero-filled by the
kernel, as ``np.zeros`` is), aligned to :data:`HUGE_PAGE` and advised
``MADV_HUGEPAGE``: on Linux with transparent huge pages in ``madvise`` or
``always`` mode, 2 MB pages cover it, and its page faults are 512 times fewer.
Elsewhere (no ``mmap.MADV_HUGEPAGE``, small arrays) it is ``np.zeros``. The
values are zeros either way: only speed changes.

>>> a = zeros((3, 4), np.int8)
>>> a.shape, a.dtype.name, int(a.sum()), a.flags.writeable
((3, 4), 'int8', 0, True)
"""

import contextlib
import mmap

import numpy as np

__all__ = ["HUGE_PAGE", "zeros"]

#: Size of a transparent huge page (x86-64 and most arm64 kernels): the alignment of a slab from :func:`zeros`.
HUGE_PAGE = 2 << 20


def zeros(shape, dtype=np.float64):
    """A C-contiguous array of zeros of ``shape`` and ``dtype``, on huge pages when it spans at least one.

    Parameters
    ----------
    shape : tuple of int
    dtype : numpy dtype

    Returns
    -------
    numpy.ndarray
        Writable; it keeps its mapping alive and unmaps it when it is freed.
    """
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    if nbytes < HUGE_PAGE or advice is None:
        return np.zeros(shape, dtype)
    # private and anonymous (a shared mapping is shmem, which the advice does not cover): zeroed by the kernel
    buffer = mmap.mmap(-1, nbytes + HUGE_PAGE, flags=mmap.MAP_PRIVATE)
    offset = -np.frombuffer(buffer, np.uint8, count=1).ctypes.data % HUGE_PAGE
    with contextlib.suppress(OSError):  # a kernel without transparent huge pages: plain pages, same zeros
        buffer.madvise(advice)
    return np.frombuffer(buffer, dtype, count=nbytes // dtype.itemsize, offset=offset).reshape(shape)
