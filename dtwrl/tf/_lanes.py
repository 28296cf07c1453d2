"""The SIMD lane kernel of smoothed-min DTW (``_lanes.cpp``): built on first use, run over a batch from numpy.

The C++ kernel runs one lane group (16 float32 or 8 float64 pairs, one per SIMD lane; half that many for a
batch that fills at most half a group, :func:`group_width`) per call, with the same recursion, band, lengths
and outputs as the numba kernel (:func:`dtwrl.tf._kernel.batch`), and the exponentials and logarithm as
vector polynomials: several times the numba kernel's speed per core. Its buffers span each row's union
corridor (:func:`union_bounds`), so its memory (:func:`scratch_bytes`) follows the cells it visits.

It is compiled with the machine's C++ compiler (``$CXX``, else ``g++``; ``-O3 -march=native``) the first
time it is needed, into ``$DTWRL_BUILD_DIR`` (default ``~/.cache/dtwrl``), under a name that hashes the
source, the flags and the CPU, so a shared home directory never loads a library built for another CPU.
``make setup`` builds it ahead (``python -m dtwrl.tf._lanes``). Without a compiler, or if the build fails,
:func:`library` returns None, says why once (a ``RuntimeWarning``), and dtwrl uses the numba kernel.

Example
-------
>>> import numpy as np
>>> from dtwrl.tf import _lanes, _kernel
>>> x, y = np.zeros((1, 3, 1)), np.ones((1, 2, 1))
>>> values, gx, gy, E = _lanes.batch(  # one pair: a 3 x 2 grid of unit costs, gamma = 1
...     x, y, None, np.array([3]), np.array([2]), -1, _kernel.SQEUCLIDEAN, 1.0, _kernel.ENTROPY, _kernel.VALUE, map
... )
>>> round(float(values[0]), 4)  # below the hard DTW cost, 3: soft-DTW's soft-min over the 5 warping paths
1.8674
"""

import ctypes
import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path

import numpy as np

from ..bands import band_bounds
from . import _kernel as kn

SOURCE = Path(__file__).with_name("_lanes.cpp")
HEADERS = (Path(__file__).with_name("_diagonals.h"),)  # #included by SOURCE: part of the build's hash
FLAGS = ("-O3", "-march=native", "-std=c++17", "-shared", "-fPIC", "-fno-math-errno")
ENV_BUILD_DIR = "DTWRL_BUILD_DIR"
ENV_CXX = "CXX"

_LOCK = threading.Lock()
_STATE = {}  # "library": the loaded CDLL or None; "reason": why it is None


def _compiler():
    return os.environ.get(ENV_CXX, "").strip() or "g++"


def _cpu_signature():
    """The CPU's model and feature flags (Linux), so a library built with -march=native is loaded on its CPU only."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return os.uname().machine
    lines = [line for line in text.splitlines() if line.startswith(("model name", "flags", "Features"))]
    return "\n".join(sorted(set(lines)))


def library_path():
    """Where the built library lives: ``$DTWRL_BUILD_DIR`` or ``~/.cache/dtwrl``, named by a hash of its inputs
    (the source and the headers it includes, the flags, the compiler, the CPU)."""
    key = hashlib.sha256()
    sources = (SOURCE.read_bytes(), *(header.read_bytes() for header in HEADERS))
    for part in (*sources, " ".join(FLAGS).encode(), _compiler().encode(), _cpu_signature().encode()):
        key.update(part)
    folder = os.environ.get(ENV_BUILD_DIR, "").strip() or os.path.join(os.path.expanduser("~"), ".cache", "dtwrl")
    return Path(folder) / f"_lanes-{key.hexdigest()[:16]}.so"


def build(path=None):
    """Compile ``_lanes.cpp`` into ``path`` (default :func:`library_path`); returns the path.

    The library is written to a temporary file and renamed, so concurrent builds never leave a half-written
    library. Raises ``RuntimeError`` with the compiler's message when the build fails.
    """
    path = Path(path) if path is not None else library_path()
    compiler = _compiler()
    if shutil.which(compiler) is None:
        raise RuntimeError(f"no C++ compiler: {compiler!r} was not found on PATH (set $CXX)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=path.parent)
    os.close(fd)
    try:
        done = subprocess.run([compiler, *FLAGS, "-o", tmp, str(SOURCE)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{compiler} failed to build {SOURCE.name}:\n{done.stderr.strip()}")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def _load(path):
    lib = ctypes.CDLL(str(path))
    pointer, i64, i32 = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int
    for name in ("dtwrl_sdtw_lanes_f32", "dtwrl_sdtw_lanes_f64"):
        fn = getattr(lib, name)
        fn.argtypes = [pointer] * 7 + [i64] * 4 + [i32, ctypes.c_double, i32, i32, i64] + [pointer] * 4 + [i32]
        fn.restype = i32
    for name in ("dtwrl_sdtw_diagonals_f32", "dtwrl_sdtw_diagonals_f64"):
        fn = getattr(lib, name)
        fn.argtypes = [pointer] * 4 + [i64] * 5 + [i32, ctypes.c_double, i32, i32, i64] + [pointer] * 4
        fn.restype = i32
    lib.dtwrl_lanes_width.argtypes = [i32]
    lib.dtwrl_lanes_width.restype = i32
    return lib


def library():
    """The loaded lane kernel (built first if needed), or None when it cannot be built (reason: :func:`reason`)."""
    with _LOCK:
        if "library" not in _STATE:
            try:
                path = library_path()
                if not path.exists():
                    build(path)
                _STATE["library"], _STATE["reason"] = _load(path), ""
            except (OSError, RuntimeError) as exc:
                _STATE["library"], _STATE["reason"] = None, str(exc)
                warnings.warn(
                    f"dtwrl: the SIMD soft-DTW kernel is unavailable, using the slower numba kernel ({exc})",
                    RuntimeWarning,
                    stacklevel=3,
                )
        return _STATE["library"]


def reason():
    """Why :func:`library` returned None ("" when it loaded, None before it was asked for)."""
    return _STATE.get("reason")


def width(itemsize):
    """Pairs per full lane group (one 64-byte vector): 16 for float32, 8 for float64."""
    return 16 if itemsize == 4 else 8


def group_width(B, itemsize):
    """Pairs per lane group for a batch of B pairs: :func:`width`, or half of it (half-width vectors) when the
    batch fills at most half a group, so that idle lanes cost neither time nor memory.

    >>> group_width(8, 4), group_width(9, 4), group_width(3, 8), group_width(17, 8)
    (8, 16, 4, 8)
    """
    full = width(itemsize)
    half = full // 2
    return half if half >= B else full


SLOTS = 9  # row buffers of the forward pass (_lanes.cpp: Group::SLOTS)


def scratch_bytes(lo, hi, block, want=kn.GRADIENT, vector_bytes=64):
    """Bytes one lane group's call allocates, as ``_lanes.cpp`` does, from its rows' union column bounds.

    Parameters
    ----------
    lo, hi : (N,) ints, the union over the group's lanes of each row's columns, ``lo[i] <= j < hi[i]``
        (:func:`union_bounds`).
    block : rows per block of stored weights (>= N: all at once; fewer: the memory-light mode).
    want : ``VALUE`` (no weights), ``GRADIENT`` or ``ALIGNMENT``.
    vector_bytes : one cell's vector: the group's lanes (:func:`group_width`) times the itemsize (64 or 32).

    Returns
    -------
    int: the scratch (row buffers and backward accumulators of the widest row pair, checkpoint rows over their
    union columns, the weights of the largest block of rows) and the per-row bookkeeping. It follows the cells of
    the union corridor, not the width of the grid: a corridor of w cells per row costs the same at any m.

    Examples
    --------
    >>> lo = np.arange(1000); hi = lo + 8  # 8 columns per row, on a grid 1000 or 10,000 columns wide
    >>> round(scratch_bytes(lo * 10, lo * 10 + 8, 1000) / scratch_bytes(lo, hi, 1000), 3)
    1.004
    >>> scratch_bytes(lo, hi, 30) < scratch_bytes(lo, hi, 1000) / 5  # the memory-light mode
    True
    """
    lo = np.asarray(lo, np.int64)
    hi = np.maximum(np.asarray(hi, np.int64), lo)
    N = len(lo)
    if N == 0:
        return 0
    block = max(1, min(int(block), N))
    base = np.minimum(lo, np.append(lo[1:], lo[-1]))  # BASE[i + 1]: row i's layout
    following = np.append(hi[1:], 0)
    capacity = max(int(hi[0]) + 1, int(np.max(np.maximum(hi, following) - base + 1)))
    blocks = 1 if want == kn.VALUE else -(-N // block)
    boundaries = np.arange(1, blocks) * block - 1  # the rows kept as checkpoints (row -1 keeps 1 vector)
    checkpoints = 1 + int(np.sum(hi[boundaries] - base[boundaries] + 1))
    starts = np.append(0, np.cumsum(hi - lo))
    edges = np.minimum(np.arange(blocks + 1) * block, N)
    weights = 0 if want == kn.VALUE else 3 * int(np.max(np.diff(starts[edges])))
    vectors = (SLOTS + 3) * capacity + checkpoints + weights + 2 * N  # + lov, hiv: one vector per row each
    return vector_bytes * vectors + 8 * (4 * N + blocks + 3)  # + LO, HI, start, BASE, checkpoint offsets


def union_bounds(corridor, pairs, nl, ml, band):
    """(N,) union column bounds ``lo <= j < hi`` of one lane group's rows, as ``_lanes.cpp`` visits them.

    ``corridor``: the batch's corridors (B, n, 2) of inclusive bounds, ``pairs`` (lanes,) the pair of each lane
    (-1: a padding lane, its whole grid), or ``corridor`` None for the band (``band`` >= 0) or the full grid
    (``band`` < 0); ``nl``, ``ml``: the lanes' lengths (lanes,).

    >>> union_bounds(None, None, np.array([3, 2]), np.array([4, 4]), -1)
    (array([0, 0, 0]), array([4, 4, 4]))
    >>> union_bounds(np.array([[[0, 0], [1, 1]], [[0, 1], [1, 1]]]), [1, 0], [2, 2], [2, 2], -1)
    (array([0, 1]), array([2, 2]))
    """
    nl, ml = np.asarray(nl, np.int64), np.asarray(ml, np.int64)
    N = int(nl.max())
    if corridor is None and band < 0:  # full grids (every call of plain soft-DTW): no per-lane loop
        return np.zeros(N, np.int64), np.max(np.where(nl[:, None] > np.arange(N), ml[:, None], 0), axis=0)
    lo, hi = np.full(N, np.iinfo(np.int64).max), np.zeros(N, np.int64)
    lanes = range(len(nl))
    if corridor is not None:  # the corridor lanes at once; the padding lanes (pair -1) below
        pairs = np.asarray(pairs)
        real = pairs >= 0
        own = np.arange(N) < nl[real, None]
        lo = np.min(corridor[pairs[real], :N, 0], axis=0, where=own, initial=lo[0])
        hi = np.max(corridor[pairs[real], :N, 1] + 1, axis=0, where=own, initial=0)
        lanes = np.flatnonzero(~real).tolist()
    for lane in lanes:
        rows, cols = int(nl[lane]), int(ml[lane])
        if band >= 0 and rows > 1 and cols > 1:
            own_lo, own_hi = _band_bounds(rows, cols, int(band))
        else:
            own_lo, own_hi = np.zeros(rows, np.int64), np.full(rows, cols, np.int64)
        lo[:rows] = np.minimum(lo[:rows], own_lo)
        hi[:rows] = np.maximum(hi[:rows], own_hi)
    return lo, np.maximum(hi, lo)


@functools.lru_cache(maxsize=64)
def _band_bounds(rows, cols, band):
    """Each row's columns ``lo <= j < hi`` of the band of one lane (the kernel's clipping, which may leave a row
    empty where :func:`dtwrl.bands.band_bounds` reports ``lo > hi``)."""
    lo, hi = band_bounds(rows, cols, band)
    return np.minimum(lo, cols), np.maximum(np.minimum(hi + 1, cols), 0)


def group_order(x_lengths, y_lengths, corridor=None):
    """The order :func:`batch` lays the pairs out in, :func:`group_width` of them per lane group: pairs of similar
    lengths share a group (a group runs to its longest pair), then pairs whose corridors run close (by their columns
    at a few rows), so that a group's union stays close to each corridor.

    >>> group_order([3, 9, 4], [5, 9, 5]).tolist()
    [1, 2, 0]
    """
    keys = (np.asarray(y_lengths), np.asarray(x_lengths))
    if corridor is not None:
        keys = tuple(corridor[:, row, 0] for row in np.linspace(0, corridor.shape[1] - 1, 4).astype(int)[::-1]) + keys
    return np.lexsort(keys)[::-1]


def lane_cells(corridor, x_lengths, y_lengths, lanes):
    """Cells the lane kernel visits for a batch of corridors (B, n, 2): the union corridor (:func:`union_bounds`) of
    each lane group of ``lanes`` pairs (:func:`group_order`, as :func:`batch` groups them), summed over the groups;
    each is one vector operation of the group's lanes. Vectorised per group: O(B n).

    >>> corridor = np.array([[[0, 0], [0, 1]], [[0, 1], [1, 1]]])  # 3 cells each, 4 in their union
    >>> int(lane_cells(corridor, [2, 2], [2, 2], 2)), int(lane_cells(corridor, [2, 2], [2, 2], 1))
    (4, 6)
    """
    order = group_order(x_lengths, y_lengths, corridor)
    x_lengths, y_lengths, cells = np.asarray(x_lengths), np.asarray(y_lengths), 0
    for start in range(0, len(order), lanes):  # group by group: temporaries of one group's lanes x n
        members = order[start : start + lanes]
        lo, hi = union_bounds(corridor, members, x_lengths[members], y_lengths[members], -1)
        cells += int(np.sum(hi - lo))
    return cells


def diagonal_vectors(corridor, x_lengths, y_lengths, lanes):
    """(B,) vector operations of the diagonal kernel on each pair's corridor (B, n, 2): its cells on each
    anti-diagonal k, the rows i with i + lo_i <= k <= i + hi_i, padded up to ``lanes`` and summed. Vectorised:
    O(B (n + m)) (counts of i + lo_i <= k and i + hi_i < k by a histogram over k), a few pairs at a time so that
    its temporaries stay under about 1 MB (they add to a training step's peak memory).

    >>> corridor = np.array([[[0, 0], [1, 1]], [[0, 1], [0, 1]]])  # 1 + 0 + 1 cells, 1 + 2 + 1 cells
    >>> diagonal_vectors(corridor, [2, 2], [2, 2], 16).tolist(), diagonal_vectors(corridor, [2, 2], [2, 2], 1).tolist()
    ([2, 3], [2, 4])
    """
    B, n = corridor.shape[:2]
    x_lengths, y_lengths = np.asarray(x_lengths, np.int64), np.asarray(y_lengths, np.int64)
    diagonals = x_lengths + y_lengths - 1
    K = int(diagonals.max(initial=1))
    rows = np.arange(n)
    own = rows < x_lengths[:, None]  # each pair's own rows
    out = np.zeros(B, np.int64)
    step = max(1, 2**15 // (K + 1))
    for s in range(0, B, step):
        pairs = slice(s, min(s + step, B))
        count = len(range(B)[pairs])
        pair = np.arange(count)[:, None] * (K + 1)

        def at_most(offsets):  # (count, K + 1): per pair and diagonal k, the own rows with i + offset_i <= k
            counts = np.bincount((pair + rows + offsets)[own[pairs]], minlength=count * (K + 1))
            return np.cumsum(counts.reshape(count, K + 1), axis=1, out=counts.reshape(count, K + 1))

        cells = at_most(corridor[pairs, :, 0])  # last(k) + 1
        cells[:, 1:] -= at_most(corridor[pairs, :, 1])[:, :-1]  # first(k): the rows with i + hi_i <= k - 1
        cells[:, -1] = 0
        cells[np.arange(K + 1) >= diagonals[pairs, None]] = 0
        np.maximum(cells, 0, out=cells)
        out[pairs] = np.sum(-(-cells // lanes), axis=1)
    return out


def _lane_major(a, order, groups, lanes):
    """(B, ...) rows in ``order``, zero-padded to groups * lanes, as (groups, ..., lanes) contiguous (written
    group by group: no batch-sized temporary)."""
    out = np.zeros((groups, *a.shape[1:], lanes), a.dtype)
    for g in range(groups):
        rows = order[g * lanes : (g + 1) * lanes]
        out[g, ..., : len(rows)] = np.moveaxis(a[rows], 0, -1)
    return out


def _batch_major(a, order, count):
    """Inverse of :func:`_lane_major`: (groups, ..., lanes) -> (count, ...) in the caller's order."""
    flat = np.moveaxis(a, -1, 1).reshape(-1, *a.shape[1:-1])[:count]
    out = np.empty_like(flat)
    out[order] = flat
    return out


def _setup(x, D, x_lengths, metric):
    """The loaded library (RuntimeError when it cannot be built), the dtype, the batch size and the lanes."""
    lib = library()
    if lib is None:
        raise RuntimeError(f"the SIMD soft-DTW kernel is unavailable: {reason()}")
    dtype = (D if metric == kn.PRECOMPUTED else x).dtype
    return lib, dtype, len(x_lengths), width(dtype.itemsize)


def batch(x, y, D, x_lengths, y_lengths, band, metric, gamma, regularizer, want, map_groups, block=None, corridor=None):
    """Smoothed DTW of every pair of a batch on the lane kernel; the contract of :func:`dtwrl.tf._kernel.batch`.

    Parameters
    ----------
    x, y : (B, n, d), (B, m, d) float32/float64 series (ignored, may be None, when ``metric == PRECOMPUTED``).
    D : (B, n, m) costs when ``metric == PRECOMPUTED`` (else ignored, may be None).
    x_lengths, y_lengths : (B,) ints >= 1, each pair's valid rows and columns.
    band, metric, gamma, regularizer, want : as for :func:`dtwrl.tf._kernel.batch`.
    map_groups : a ``map``-like callable the lane groups are run through (e.g. a thread pool's ``map``: the
        kernel releases the GIL).
    block : rows per block of stored weights; None (or >= n) stores them all at once, fewer is the memory-light
        mode (one more forward pass; checkpoint rows of R every ``block`` rows). A callable picks each lane group's:
        ``block(lo, hi)`` from the group's :func:`union_bounds` (e.g. by :func:`scratch_bytes`).
    corridor : (B, n, 2) int64 inclusive column bounds of each row of each pair (validated,
        :func:`dtwrl.tf.checks.check_corridor`), or None for the band. A lane group visits the union of its
        lanes' rows; each lane's cells outside its own corridor are +inf for it. Pairs are grouped by their
        lengths, then by where their corridors run, so that a group's union stays close to each corridor.

    Returns
    -------
    values : (B,), gx, gy : (B, n, d), (B, m, d) (zeros unless ``want == GRADIENT``),
    E : (B, n, m) (``want == ALIGNMENT``, else (B, 0, 0)); all in the input dtype.
    """
    lib, dtype, B, _ = _setup(x, D, x_lengths, metric)
    lanes = group_width(B, dtype.itemsize)
    groups = -(-B // lanes)
    order = group_order(x_lengths, y_lengths, corridor)
    nl = np.ones((groups, lanes), np.int64)
    ml = np.ones((groups, lanes), np.int64)
    nl.reshape(-1)[:B] = np.asarray(x_lengths)[order]
    ml.reshape(-1)[:B] = np.asarray(y_lengths)[order]
    if metric == kn.PRECOMPUTED:
        n, m, d = D.shape[1], D.shape[2], 0
        Dg = _lane_major(D, order, groups, lanes)
        xg = yg = np.zeros(1, dtype)
    else:
        n, m, d = x.shape[1], y.shape[1], x.shape[2]
        xg, yg = _lane_major(x, order, groups, lanes), _lane_major(y, order, groups, lanes)
        Dg = np.zeros(1, dtype)
    pairs = np.full((groups, lanes), -1, np.int64)  # each lane's pair: the kernel reads its corridor in place
    pairs.reshape(-1)[:B] = order
    if corridor is not None:
        corridor = np.ascontiguousarray(corridor, dtype=np.int64)
    values = np.zeros((groups, lanes), dtype)
    grads = want == kn.GRADIENT
    gx = np.zeros((groups, n, d, lanes) if grads else (groups, 1), dtype)
    gy = np.zeros((groups, m, d, lanes) if grads else (groups, 1), dtype)
    E = np.zeros((groups, n, m, lanes) if want == kn.ALIGNMENT else (groups, 1), dtype)
    fn = lib.dtwrl_sdtw_lanes_f32 if dtype.itemsize == 4 else lib.dtwrl_sdtw_lanes_f64
    if callable(block):
        rows = [block(*union_bounds(corridor, pairs[g], nl[g], ml[g], band)) for g in range(groups)]
    else:
        rows = [n if block is None else int(block)] * groups
    rows = [max(1, min(int(r), n)) for r in rows]

    def at(a, g):
        return a.ctypes.data + g * (a.strides[0] if a.shape[0] == groups else 0)

    def run(g):
        bounds = None if corridor is None else corridor.ctypes.data
        return fn(
            at(xg, g), at(yg, g), at(Dg, g), at(nl, g), at(ml, g), bounds, at(pairs, g), n, m, d, int(band),
            int(metric), float(gamma), int(regularizer), int(want), rows[g], at(values, g), at(gx, g), at(gy, g),
            at(E, g), lanes,
        )  # fmt: skip

    if any(list(map_groups(run, range(groups)))):
        raise MemoryError(f"the SIMD soft-DTW kernel could not allocate its buffers (B={B}, n={n}, m={m})")
    values = _batch_major(values[:, None, :], order, B)[:, 0] if B else np.zeros(0, dtype)
    gx = _batch_major(gx, order, B) if grads else np.zeros((B, 0, 0), dtype)
    gy = _batch_major(gy, order, B) if grads else np.zeros((B, 0, 0), dtype)
    E = _batch_major(E, order, B) if want == kn.ALIGNMENT else np.zeros((B, 0, 0), dtype)
    return values, gx, gy, E


def diagonal_batch(
    x, y, D, x_lengths, y_lengths, metric, gamma, regularizer, want, map_pairs, block=None, corridor=None
):
    """Smoothed DTW of each pair on the diagonal kernel, one pair per call, its cells vectorised along anti-diagonals.

    The contract of :func:`batch` without band: each pair's full grid, or its ``corridor`` (B, n, 2) (validated),
    whose cells it visits alone (a lane group visits the union of its lanes' corridors). For a few long pairs, which
    would leave most lanes of a lane group idle, and for corridors that differ from pair to pair
    (:func:`diagonal_vectors` counts its work). ``map_pairs`` runs the pairs (a thread pool's ``map`` runs them in
    parallel). ``block``: diagonals per block of stored weights, one int or (B,) ints (one per pair); None (or
    >= n + m - 1) stores them all, fewer is the memory-light mode (checkpoints of R every ``block`` diagonals, one
    more forward pass).

    Returns
    -------
    values : (B,), gx, gy : (B, n, d), (B, m, d) (``want == GRADIENT``, else (B, 0, 0)),
    E : (B, n, m) (``want == ALIGNMENT``, else (B, 0, 0)); all in the input dtype.

    Examples
    --------
    >>> x, y = np.zeros((1, 3, 1)), np.ones((1, 2, 1))
    >>> values, gx, gy, E = diagonal_batch(x, y, None, [3], [2], kn.SQEUCLIDEAN, 1.0, kn.ENTROPY, kn.GRADIENT, map)
    >>> round(float(values[0]), 4), gx.shape  # the value of the lane kernel's example
    (1.8674, (1, 3, 1))
    """
    lib, dtype, B, lanes = _setup(x, D, x_lengths, metric)
    if metric == kn.PRECOMPUTED:
        n, m, d = D.shape[1], D.shape[2], 0
        D = np.ascontiguousarray(D)
    else:
        n, m, d = x.shape[1], y.shape[1], x.shape[2]
    S = max(n, m) + lanes
    values = np.zeros(B, dtype)
    grads = want == kn.GRADIENT
    gx, gy = np.zeros((B, n, d) if grads else (B, 0, 0), dtype), np.zeros((B, m, d) if grads else (B, 0, 0), dtype)
    E = np.zeros((B, n, m) if want == kn.ALIGNMENT else (B, 0, 0), dtype)
    fn = lib.dtwrl_sdtw_diagonals_f32 if dtype.itemsize == 4 else lib.dtwrl_sdtw_diagonals_f64
    if corridor is not None:
        corridor = np.ascontiguousarray(corridor, dtype=np.int64)
    blocks = np.broadcast_to(np.asarray(x_lengths) + np.asarray(y_lengths) - 1 if block is None else block, (B,))

    def run(b):
        nl, ml = int(x_lengths[b]), int(y_lengths[b])
        xt, yr = np.zeros((max(d, 1), S), dtype), np.zeros((max(d, 1), S), dtype)
        if metric != kn.PRECOMPUTED:
            xt[:, :nl] = x[b, :nl].T
            yr[:, :ml] = y[b, :ml][::-1].T
        gxt, gyr = np.zeros_like(xt), np.zeros_like(yr)
        Db = D[b] if metric == kn.PRECOMPUTED else xt
        Eb = E[b] if want == kn.ALIGNMENT else gxt
        value = np.zeros(1, dtype)
        bounds = None if corridor is None else corridor[b].ctypes.data
        status = fn(
            xt.ctypes.data, yr.ctypes.data, Db.ctypes.data, bounds, nl, ml, m, d, S, int(metric), float(gamma),
            int(regularizer), int(want), max(1, int(blocks[b])), value.ctypes.data, gxt.ctypes.data,
            gyr.ctypes.data, Eb.ctypes.data,
        )  # fmt: skip
        values[b] = value[0]
        if grads:
            gx[b, :nl] = gxt[:, :nl].T
            gy[b, :ml] = gyr[:, :ml][:, ::-1].T
        return status

    if any(list(map_pairs(run, range(B)))):
        raise MemoryError(f"the SIMD soft-DTW diagonal kernel could not allocate its buffers (n={n}, m={m})")
    return values, gx, gy, E


def main():
    """``python -m dtwrl.tf._lanes``: build the kernel now (``make setup`` does), and say where or why not."""
    lib = library()
    if lib is None:
        print(f"dtwrl: SIMD soft-DTW kernel not built ({reason()}); the numba kernel will be used", file=sys.stderr)
        return 0
    print(f"dtwrl: SIMD soft-DTW kernel ready: {library_path()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
