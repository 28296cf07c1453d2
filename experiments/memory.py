"""Peak resident memory of one call (Linux): in this process, or in a fresh one so that nothing run before counts.

:func:`peak_memory_mb` reads the process's peak resident set (``VmHWM``, reset through ``/proc/self/clear_refs``)
around a call. Its rise over the resident set before the call depends on what ran earlier in the process:
memory freed by an earlier call stays with the allocator (or in the soft-DTW kernels' per-thread scratch,
kept up to 256 MB between calls) and a later call reuses it without raising the resident set, while the first
call also pays one-time costs (compiling kernels, loading libraries). :func:`fresh_peak_mb` removes both: it
prepares the call in a fresh (spawned) process, where ``prepare`` also warms up the code paths on a small
input, and measures the call's rise there.

glibc's allocator adds noise of its own: each mapped block it frees raises its mmap threshold to that block's size
(up to 32 MB), after which smaller blocks come from the heap, where a freed block stays resident and a later,
larger one cannot reuse it. The rise then depends on the order of earlier frees rather than on the memory the call
holds: a corridor source's per-pair buffers, freed before the backward pass, kept 1-2 MB resident in a training
step at a horizon of 8,192 (experiments/long_horizon_memory.py). :func:`fresh_peak_mb` therefore fixes the
threshold at glibc's initial 128 KiB in the fresh process by default (``allocator="fixed"``): every block of
128 KiB or more is mapped, and unmapped when freed, so the rise follows the memory in use. ``allocator="dynamic"``
keeps glibc's default, what a process sees without tuning.

>>> import numpy as np
>>> peak, rise = peak_memory_mb(lambda: np.ones(1 << 20).sum())
>>> bool(peak >= rise)
True
"""

import concurrent.futures
import contextlib
import ctypes
import gc
import multiprocessing


def _resident_mb(field_name):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def peak_memory_mb(call):
    """(peak resident MB of the process during one call, its rise over the resident MB before it).

    Linux only (``/proc/self/clear_refs`` resets the peak); NaN elsewhere.
    """
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return float("nan"), float("nan")
    before = _resident_mb("VmRSS")
    call()
    peak = _resident_mb("VmHWM")
    return peak, peak - before


def _release_free_memory():
    """Collect garbage and hand the allocator's free pages back to the system (glibc's ``malloc_trim``)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


#: ``fresh_peak_mb``'s allocator modes: glibc's mmap threshold fixed at 128 KiB, or left to move (its default).
ALLOCATORS = ("fixed", "dynamic")

_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (glibc's malloc.h)
_MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's initial threshold


def fix_mmap_threshold():
    """Fix glibc's mmap threshold at 128 KiB in this process (it then stops moving); False where not glibc."""
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES))
    except (OSError, AttributeError):
        return False


def _measure_prepared(prepare, args, allocator):
    if allocator == "fixed":
        fix_mmap_threshold()
    call = prepare(*args)
    _release_free_memory()
    return peak_memory_mb(call)[1]


def fresh_peak_mb(prepare, *args, timeout=None, allocator="fixed"):
    """Peak MB one call adds over the resident set before it, measured in a fresh process.

    Parameters
    ----------
    prepare : callable
        A module-level function (it is pickled by name): ``prepare(*args)`` runs in the fresh process, builds
        what the call needs, warms up its code paths (a first small call compiles and loads what later
        calls reuse) and returns the zero-argument call to measure.
    *args
        Picklable arguments of ``prepare``.
    timeout : float, optional
        Seconds to wait for the process.
    allocator : {"fixed", "dynamic"}
        ``"fixed"``: glibc's mmap threshold is fixed at 128 KiB in the fresh process, before ``prepare`` (module
        docstring); ``"dynamic"``: glibc's default.

    Returns
    -------
    float
        The rise of the peak resident set during the call over the resident set just before it (after
        freed memory went back to the system), in MB; NaN where ``/proc/self/clear_refs`` is missing.
    """
    if allocator not in ALLOCATORS:
        raise ValueError(f"allocator must be one of {', '.join(ALLOCATORS)}; got {allocator!r}")
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_measure_prepared, prepare, args, allocator).result(timeout=timeout)
