"""TensorFlow ops around the compiled kernels of smoothed-min DTW, and the choice between them and the wavefront.

Three engines compute the same smoothed-min DTW:

- ``"tf"``: the anti-diagonal wavefront of :mod:`dtwrl.tf._wavefront`, compiled
  by XLA and vectorised over the batch; it runs everywhere (eagerly, in
  ``tf.function``, under ``jit_compile=True``, on GPU), but holds the
  ``B x n x m`` costs and about three more tensors of that size (R and E by
  diagonals) for the gradient.
- ``"kernel"``: the SIMD lane kernel (:mod:`dtwrl.tf._lanes`, C++ built on first
  use): 16 float32 (8 float64) pairs at once, one per vector lane, the
  exponentials and logarithm as vector polynomials, lane groups spread over
  ``NUMBA_NUM_THREADS`` threads; arithmetic in the input dtype (as the
  wavefront). It computes the local costs on the fly and chains the gradient to
  ``x`` and ``y`` itself; it holds the transition weights of the lane groups in
  flight (three per cell of the group's union band or corridor, times its 16
  lanes, or 8 when the batch fills at most half a group), and past the memory
  budget (for a corridor, also past ``$DTWRL_CORRIDOR_STORE_MB`` per group) it
  switches to its memory-light mode (weights of ``~sqrt(n / 3)`` rows at a time,
  recomputed from checkpoint rows of R kept over each row's union corridor only:
  :func:`lane_block`). Fewer pairs than lanes without band
  or corridor, and corridors whose estimated work is smaller there
  (:func:`corridor_engine`: corridors that differ from pair to pair, bands wider
  than ~2 lanes given as corridors), run one by one on its diagonal kernel
  instead (one pair vectorised along anti-diagonals over its own cells;
  memory-light past the budget, or for a corridor past
  ``$DTWRL_CORRIDOR_STORE_MB`` per pair: weights of ~sqrt(n + m) diagonals,
  checkpoints of R every as many). Without a C++ compiler the numba kernel runs
  instead.
- ``"numba"``: the numba kernel (:mod:`dtwrl.tf._kernel`), parallel over the
  pairs, float64 accumulation whatever the input dtype, with the same
  memory-light mode past the budget.
- ``"light"`` forces the memory-light mode (of the lane kernel when it is built).

The compiled engines run behind ``tf.numpy_function`` with a ``tf.custom_gradient``:
CPU only, not under ``jit_compile=True``.

``implementation="auto"`` (the default) takes ``$DTWRL_SOFT_DTW_IMPL`` when set;
else the wavefront under ``jit_compile=True``, on GPU and when the lengths are
unknown at trace time; on CPU the C++ engine (``"kernel"``) from ``LANES_MIN_BATCH``
(2) pairs on, and for one pair without band (its full grid or a corridor: the
diagonal kernel); for one pair the numba
kernel for a band that keeps at most a third of the cells (:func:`band_fraction`;
its time follows the band), and otherwise the wavefront while its working set
(:func:`wavefront_bytes`) fits the memory budget
``$DTWRL_SOFT_DTW_MEMORY_MB`` (default 1024), the numba kernel past it. A band on
a batch of unknown size (compiled train steps) picks between the C++ and
the numba engine on each call, by the batch it gets (:func:`run_engine`).
Second derivatives (the gradient of the expected alignment, the
Hessian-vector product) always come from the wavefront.
"""

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import tensorflow as tf
from tensorflow.python.eager import record
from tensorflow.python.ops import control_flow_util

from . import _kernel as kn
from . import _lanes
from . import _wavefront as wf
from .cost import grid_costs

IMPLEMENTATIONS = ("auto", "tf", "kernel", "numba", "light")
ENV_IMPLEMENTATION = "DTWRL_SOFT_DTW_IMPL"
ENV_MEMORY = "DTWRL_SOFT_DTW_MEMORY_MB"
DEFAULT_MEMORY_MB = 1024.0
# a corridor's lane group stores the weights of all its cells only up to this many MB (per group), else it runs
# memory-light: corridors serve long horizons, where all the weights take O(n w) and the light mode
# O(sqrt(n) w) for one more forward pass (float32, H = 8192, 1% band, B = 8: 65 MB against 2 MB)
ENV_CORRIDOR_STORE = "DTWRL_CORRIDOR_STORE_MB"
DEFAULT_CORRIDOR_STORE_MB = 32.0


def check_implementation(implementation, name="implementation"):
    """Validate an implementation name; returns it."""
    if not isinstance(implementation, str) or implementation not in IMPLEMENTATIONS:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, IMPLEMENTATIONS))}; got {implementation!r}")
    return implementation


def _in_xla():
    return not tf.executing_eagerly() and control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())


def wavefront_bytes(B, n, m, itemsize):
    """Working set of the wavefront for value + gradient: the costs, R and E by diagonals, and E on the grid."""
    return itemsize * B * (2 * n * m + 2 * (n + m) * (n + 1))


# the lane kernel runs 16 float32 (8 float64) pairs at once, one per SIMD lane; from two pairs on it is faster than
# the wavefront (measured on CPU: 2 x 256^2 value + gradient in a third of the wavefront's time), for one pair
# it idles 15 of its 16 lanes
LANES_MIN_BATCH = 2

# fewer pairs than a lane group's lanes (16 float32, 8 float64), without band or corridor, run one by one on the
# diagonal kernel (one pair vectorised along anti-diagonals, pairs over the threads) instead of idling lanes of a
# lane group (measured on CPU, float32 value + gradient at n = m = 1024, ns per cell diagonal / lanes: B = 1 7.5 /
# 54, B = 4 11.7 / 40, B = 8 11.9 / 20.5, B = 16 12.1 / 11.4); one such pair takes it on "auto" (B = 1 n = 256:
# 3.4 ms against the wavefront's 7.3 ms)

# for one pair, a band keeping at most this fraction of the cells runs faster on the numba kernel, whose time
# follows the cells in the band, than on the wavefront, which masks the whole grid (measured on CPU: the numba
# kernel takes about 2.5x the wavefront's time per cell, and half its time with a 10% band on 16 x 512^2)
KERNEL_BAND_FRACTION = 1 / 3


def band_fraction(n, m, band):
    """Approximate fraction of the n x m cells inside the Sakoe-Chiba band (1 without a valid band)."""
    if not isinstance(band, (int, np.integer)) or isinstance(band, bool) or band < 0 or n <= 1 or m <= 1:
        return 1.0
    rows, cols = n - 1, m - 1
    return min(1.0, (2 * band * min(rows, cols) / rows + 1) / m)


def resolve(implementation, B=None, n=None, m=None, itemsize=4, band=None, corridor=False):
    """The engine to run: ``"tf"``, ``"kernel"``, ``"numba"``, ``"light"`` or :data:`BY_BATCH` (``"auto"``: above).

    ``B, n, m`` are the static sizes where known (unknown lengths leave the wavefront in place); ``band`` the
    validated band or None; ``corridor`` whether the cells are a corridor (:mod:`dtwrl.corridors`): on CPU it
    runs on the C++ engine at any batch (its lane or diagonal kernel, :func:`corridor_engine`; one pair on the
    diagonal kernel: 3.4x faster than the numba kernel on a 3% corridor of 4096^2 in float64), on the numba
    kernel without a C++ compiler (both visit the corridor's cells only), never on the wavefront, which masks the
    whole grid. A band on a batch of unknown size (a ``tf.function`` traced with batch ``None``, as compiled Keras
    train steps are) gets :data:`BY_BATCH` when the lane kernel is built: the choice between the lane kernel and
    the numba kernel is made on each call, once the batch is known (:func:`run_engine`); an unknown batch
    otherwise counts as 1.

    >>> on_cpu = not tf.config.list_logical_devices("GPU")
    >>> not on_cpu or resolve("auto", None, 64, 64, band=3) == (BY_BATCH if _lanes.library() else "numba")
    True
    """
    implementation = check_implementation(implementation)
    if implementation == "auto":
        env = os.environ.get(ENV_IMPLEMENTATION, "").strip()
        if env and env != "auto":
            implementation = check_implementation(env, f"${ENV_IMPLEMENTATION}")
        elif tf.config.list_logical_devices("GPU") or _in_xla() or n is None or m is None:
            return "tf"
        elif ((B or 1) >= LANES_MIN_BATCH or band is None) and _lanes.library() is not None:
            return "kernel"
        elif B is None and _lanes.library() is not None:  # a band on a batch known at run time only
            return BY_BATCH
        elif corridor or band_fraction(n, m, band) <= KERNEL_BAND_FRACTION:
            return "numba"
        else:
            return "tf" if wavefront_bytes(B or 1, n, m, itemsize) <= _memory_budget() else "numba"
    if implementation != "tf" and _in_xla():
        raise ValueError(
            f"implementation={implementation!r} (a compiled kernel) cannot run inside jit_compile=True; "
            "use 'auto' or 'tf'"
        )
    return implementation


#: The engine :func:`resolve` gives a band whose batch size is unknown when the graph is built: the lane
#: kernel from ``LANES_MIN_BATCH`` pairs on, else the numba kernel, picked when the numpy function runs.
BY_BATCH = "by_batch"


def run_engine(engine, B):
    """The engine that runs a call on ``B`` pairs: ``engine`` itself, or for :data:`BY_BATCH` the lane kernel from
    ``LANES_MIN_BATCH`` pairs on and the numba kernel below (the rule :func:`resolve` applies to a known batch).

    >>> run_engine(BY_BATCH, 32), run_engine(BY_BATCH, 1), run_engine("numba", 32)
    ('kernel', 'numba', 'numba')
    """
    if engine != BY_BATCH:
        return engine
    return "kernel" if B >= LANES_MIN_BATCH else "numba"


def _memory_budget(env=ENV_MEMORY, default=DEFAULT_MEMORY_MB):
    """Bytes of the budget ``$env`` (in MB, > 0), ``default`` MB when unset."""
    text = os.environ.get(env, "")
    try:
        budget = float(text) if text else default
    except ValueError:
        raise ValueError(f"${env} must be a number of megabytes; got {text!r}") from None
    if not budget > 0:
        raise ValueError(f"${env} must be > 0; got {text!r}")
    return budget * 2**20


def _in_flight(B, itemsize, lanes):
    """Weight holders computed at once: lane groups (``lanes``) or pairs, at most one per thread."""
    return min(-(-B // _lanes.group_width(B, itemsize)) if lanes else B, _threads())


def block_rows(B, n, m, itemsize, light):
    """Rows per block of stored weights of the numba kernel (m: the most cells of a row): all n rows while the
    pairs in flight hold them within the memory budget, else (and when ``light``) ~sqrt(n), the memory-light mode."""
    if not light and 3 * itemsize * m * n * _in_flight(B, itemsize, False) <= _memory_budget():
        return n
    return max(1, math.isqrt(n))


def lane_block(B, itemsize, light, want=kn.GRADIENT, corridor=False):
    """Rows per block of stored weights of each lane group, as the callable :func:`dtwrl.tf._lanes.batch` asks
    each group with its union column bounds ``(lo, hi)`` (N,).

    All N rows while the groups in flight hold their scratch (:func:`dtwrl.tf._lanes.scratch_bytes`: the cells
    of the group's union corridor, not n x m) within the memory budget and, for a ``corridor``, each group's
    within ``$DTWRL_CORRIDOR_STORE_MB`` (default 32); else (and when ``light``) the memory-light mode with
    ~sqrt(N / 3) rows per block, which balances the checkpoint rows (N / block of them) against the three weight
    planes of one block.

    >>> choose = lane_block(8, 4, light=True)
    >>> choose(np.zeros(300, np.int64), np.full(300, 40))
    10
    """
    in_flight = _in_flight(B, itemsize, lanes=True)
    vector_bytes = _lanes.group_width(B, itemsize) * itemsize
    cap = _memory_budget(ENV_CORRIDOR_STORE, DEFAULT_CORRIDOR_STORE_MB) if corridor else math.inf

    def choose(lo, hi):
        N = len(lo)
        stored = _lanes.scratch_bytes(lo, hi, N, want, vector_bytes)
        if not light and stored * in_flight <= _memory_budget() and stored <= cap:
            return N
        return max(1, round(math.sqrt(N / 3)))

    return choose


# ----------------------------------------------------------------------------
# the numpy side
# ----------------------------------------------------------------------------
def _threads():
    """Threads for the kernels: numba's thread count (``NUMBA_NUM_THREADS``, by default the CPU count)."""
    return max(1, numba.config.NUMBA_NUM_THREADS)


_POOL = None


def _pool():
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_threads(), thread_name_prefix="dtwrl-kernel")
    return _POOL


def _run(x, y, D, x_lengths, y_lengths, band, metric, gamma, regularizer, want, engine, corridor=None):
    """The kernel of ``engine`` on numpy arrays: the SIMD lane kernel (``"kernel"`` and ``"light"`` when it is
    built; lane groups spread over the threads) or the numba kernel (the batch cut into one slice per thread).
    ``corridor`` (B, n, 2) int64, validated, replaces the band."""
    B = len(x_lengths)
    if metric == kn.PRECOMPUTED:
        n, m = D.shape[1:]
        x = y = np.zeros((1, 1, 1), D.dtype)
    else:
        n, m = x.shape[1], y.shape[1]
        D = np.zeros((1, 1, 1), x.dtype)
    itemsize = x.dtype.itemsize
    x_lengths, y_lengths = x_lengths.astype(np.int64), y_lengths.astype(np.int64)
    compiled = engine in ("kernel", "light") and _lanes.library() is not None
    vectors = None  # the diagonal kernel's vector operations per pair of a corridor
    if compiled and corridor is not None:
        vectors = _lanes.diagonal_vectors(corridor, x_lengths, y_lengths, _lanes.width(itemsize))
    if compiled and _diagonal(B, band, corridor, itemsize, x_lengths, y_lengths, vectors):
        mapper = _pool().map if min(B, _threads()) > 1 else map
        block = diagonal_block(B, n, m, itemsize, engine == "light", vectors, x_lengths + y_lengths - 1)
        values, gx, gy, E = _lanes.diagonal_batch(
            x, y, D, x_lengths, y_lengths, metric, gamma, regularizer, want, mapper, block, corridor
        )
    elif engine in ("kernel", "light") and _lanes.library() is not None:
        mapper = _pool().map if _in_flight(B, itemsize, lanes=True) > 1 else map
        block = lane_block(B, itemsize, engine == "light", want, corridor is not None)
        values, gx, gy, E = _lanes.batch(
            x, y, D, x_lengths, y_lengths, band, metric, gamma, regularizer, want, mapper, block, corridor
        )
    else:
        width = m if corridor is None else _corridor_width(corridor, x_lengths, m)
        if corridor is None:
            corridor = np.zeros((B, 0, 2), np.int64)
        values, gx, gy, E = _numba_run(
            x, y, D, x_lengths, y_lengths, band, corridor, metric, gamma, regularizer, want, engine, width
        )
    dtype = x.dtype
    if want == kn.VALUE:
        return values.astype(dtype, copy=False)
    if want == kn.GRADIENT:
        return values.astype(dtype, copy=False), gx.astype(dtype, copy=False), gy.astype(dtype, copy=False)
    return values.astype(dtype, copy=False), E.astype(dtype, copy=False)


def _diagonal(B, band, corridor, itemsize, x_lengths=None, y_lengths=None, vectors=None):
    """Whether the C++ engine runs the pairs one by one on the diagonal kernel rather than in lane groups: full
    grids when there are fewer pairs than lanes, corridors when :func:`corridor_engine` says so (``vectors``: its
    :func:`dtwrl.tf._lanes.diagonal_vectors`, computed when None), bands never."""
    if band >= 0:
        return False
    if corridor is None:
        return _lanes.width(itemsize) > B
    return corridor_engine(corridor, x_lengths, y_lengths, itemsize, vectors) == "diagonals"


# The C++ engine runs a batch of corridors on whichever of its two kernels has less estimated work, in units of one
# vector operation of the diagonal kernel: each anti-diagonal of a pair costs its cells padded up to W, in vectors
# (:func:`dtwrl.tf._lanes.diagonal_vectors`), plus DIAGONAL_STEP_COST (a diagonal waits for the one before it: with
# one vector per diagonal, the latency of its exponentials and logarithm is not hidden); the lane kernel costs
# LANE_CELL_COST per cell of each lane group's union corridor (:func:`dtwrl.tf._lanes.lane_cells`), or
# HALF_LANE_CELL_COST for a half-width group. Measured on CPU through _run (value + gradient, each kernel with its
# own block choice: both memory-light past a lane's share of $DTWRL_CORRIDOR_STORE_MB per pair; ms, lanes /
# diagonals): float32 B = 16 n = 4096: random-move corridors of 3% 109 / 61, band radius 61 42 / 48, radius 5
# 8 / 17; half-width B = 8: n = 8192 radius 123 116 / 81, n = 4096 radius 5 3 / 7; float64 n = 4096: B = 8
# radius 61 57 / 59, radius 5 6 / 10, B = 4 random 90 / 39, B = 8 n = 2048 random 38 / 22. Fitted: a diagonal
# costs 0.5-0.65 of a vector operation beyond its vectors, a union cell 1.0-1.1 of one (half-width: 0.75-0.85).
# All weights stored on both (small corridors) gives the same ratios (lane / diagonal vector operation, float32
# 1.1 full width and 0.7 half, float64 1.0-1.15 and 0.85). So corridors that differ from pair to pair (a group's
# union about twice each corridor) go to the diagonal kernel, equal ones (bands as corridors) to the lane kernel
# unless a half-width group idles half its vector (B = 8, float32, radius 123: the diagonal kernel).
DIAGONAL_STEP_COST = 0.6
LANE_CELL_COST = 1.1
HALF_LANE_CELL_COST = 0.8


def corridor_engine(corridor, x_lengths, y_lengths, itemsize, vectors=None):
    """``"diagonals"`` or ``"lanes"``: the C++ kernel with less estimated work on a batch of corridors (B, n, 2)
    (the rule above; ``vectors``: :func:`dtwrl.tf._lanes.diagonal_vectors` when already computed). Vectorised
    NumPy, O(B (n + m)): 1.3 ms for 16 pairs of 4096 rows, against 75 ms for the kernel (value + gradient).

    >>> from dtwrl import corridors as cr
    >>> corridor_engine(cr.band_corridor([500] * 16, [500] * 16, 500, 5), [500] * 16, [500] * 16, 4)
    'lanes'
    """
    B = len(x_lengths)
    lanes = _lanes.group_width(B, itemsize)
    if vectors is None:
        vectors = _lanes.diagonal_vectors(corridor, x_lengths, y_lengths, _lanes.width(itemsize))
    diagonals = np.sum(np.asarray(x_lengths) + np.asarray(y_lengths) - 1)
    diagonal_work = np.sum(vectors) + DIAGONAL_STEP_COST * diagonals
    cost = LANE_CELL_COST if lanes == _lanes.width(itemsize) else HALF_LANE_CELL_COST
    lane_work = cost * _lanes.lane_cells(corridor, x_lengths, y_lengths, lanes)
    return "diagonals" if diagonal_work < lane_work else "lanes"


def diagonal_block(B, n, m, itemsize, light, vectors=None, diagonals=None):
    """Diagonals per block of stored weights of the diagonal kernel: all of them while the pairs in flight hold
    their weights within the memory budget, else (and when ``light``) ~sqrt(n + m), the memory-light mode.

    For corridors, (B,) blocks, one per pair, from its ``vectors`` (:func:`dtwrl.tf._lanes.diagonal_vectors`:
    its weights are three numbers per lane of each) and its ``diagonals`` (nl + ml - 1): all while they also fit a
    lane's share of ``$DTWRL_CORRIDOR_STORE_MB`` (the cap of a lane group of W pairs, :func:`lane_block`, over W:
    2 MB float32, 4 MB float64 by default), so that a pair holds no more weights than a lane of a group. Corridors
    serve long horizons, where storing costs more memory than the light mode costs time: float32 value + gradient,
    CPU ns per cell stored / light, random-move corridors 16 x 4096^2 5.2-6.0 / 6.7, the 3% band corridor 8 x
    8192^2 5.2-5.7 / 5.4 (its weights, 25 MB per pair, stream from memory; the light mode's stay in cache), where
    storing took a training step at H = 8192 from 11 to 59 MB (experiments/long_horizon_memory.py).

    >>> blocks = diagonal_block(8, 8192, 8192, 4, False, [10**4, 10**6], [16383, 16383])
    >>> blocks.tolist()  # 1.9 MB of weights: stored; 192 MB: light, checkpoints every ~sqrt(K) diagonals
    [16383, 127]
    """
    in_flight = min(B, _threads())
    if vectors is None:
        diagonals = n + m - 1
        if not light and 3 * itemsize * n * m * in_flight <= _memory_budget():
            return diagonals
        return max(1, math.isqrt(diagonals))
    stored = 3 * itemsize * _lanes.width(itemsize) * np.asarray(vectors)
    share = _memory_budget(ENV_CORRIDOR_STORE, DEFAULT_CORRIDOR_STORE_MB) / _lanes.width(itemsize)
    keep = (stored * in_flight <= _memory_budget()) & (stored <= share) & (not light)
    diagonals = np.asarray(diagonals, np.int64)
    return np.where(keep, diagonals, np.maximum(1, np.sqrt(diagonals).astype(np.int64)))


def _numba_run(x, y, D, x_lengths, y_lengths, band, corridor, metric, gamma, regularizer, want, engine, width):
    """The numba kernel, float64 results (:func:`dtwrl.tf._kernel.batch`); ``width``: the most cells of a row."""
    B = len(x_lengths)
    n = D.shape[1] if metric == kn.PRECOMPUTED else x.shape[1]
    block = block_rows(B, n, width, x.dtype.itemsize, engine == "light")
    x, y, D = np.ascontiguousarray(x), np.ascontiguousarray(y), np.ascontiguousarray(D)

    def part(s, e):
        xs, ys = (x, y) if metric == kn.PRECOMPUTED else (x[s:e], y[s:e])
        Ds = D[s:e] if metric == kn.PRECOMPUTED else D
        return kn.batch(
            xs, ys, Ds, x_lengths[s:e], y_lengths[s:e], int(band), corridor[s:e], int(metric), float(gamma),
            int(regularizer), int(want), int(block),
        )  # fmt: skip

    bounds = np.linspace(0, B, min(B, _threads()) + 1).astype(int)
    if len(bounds) <= 2:
        parts = [part(0, B)]
    else:
        parts = list(_pool().map(part, bounds[:-1], bounds[1:]))
    return tuple(np.concatenate(arrays) for arrays in zip(*parts))


def _corridor_width(corridor, x_lengths, m):
    """Cells per row to budget the numba kernel's stored weights of a corridor by: twice its mean row, at most m."""
    rows = np.maximum(x_lengths, 1)
    cells = np.sum(corridor[..., 1] - corridor[..., 0] + 1, axis=1, where=np.arange(corridor.shape[1]) < rows[:, None])
    return int(min(m, 2 * int(np.max(cells // rows, initial=1)) + 1))


def _lengths(lengths, batch, size):
    return tf.fill(tf.reshape(batch, [1]), size) if lengths is None else lengths


class _Problem:
    """The static settings of one kernel call, and the tensors of its numpy_function."""

    def __init__(self, gamma, regularizer, metric, band, x_lengths, y_lengths, engine, corridor=None):
        self.gamma, self.band, self.engine = float(gamma), -1 if band is None else int(band), engine
        self.corridor = corridor
        self.regularizer = kn.REGULARIZER_CODES[regularizer]
        self.metric = kn.PRECOMPUTED if metric is None else kn.METRIC_CODES[metric]
        self.lengths = (x_lengths, y_lengths)

    def call(self, x, y, D, want):
        """numpy_function over (x, y) or D; returns value (B,) and, per ``want``, (gx, gy) or E."""
        ref = D if self.metric == kn.PRECOMPUTED else x
        shape = tf.shape(ref)
        B, n = shape[0], shape[1]
        m = shape[2] if self.metric == kn.PRECOMPUTED else tf.shape(y)[1]
        xl = tf.cast(_lengths(self.lengths[0], B, n), tf.int64)
        yl = tf.cast(_lengths(self.lengths[1], B, m), tf.int64)

        def run(x, y, D, xl, yl, *corridor):
            corridor = np.ascontiguousarray(corridor[0], np.int64) if corridor else None
            engine = run_engine(self.engine, len(xl))
            return _run(x, y, D, xl, yl, self.band, self.metric, self.gamma, self.regularizer, want, engine, corridor)

        dummy = tf.zeros((1, 1, 1), ref.dtype)
        args = (dummy, dummy, D) if self.metric == kn.PRECOMPUTED else (x, y, dummy)
        args += (xl, yl) if self.corridor is None else (xl, yl, self.corridor)
        count = {kn.VALUE: 1, kn.GRADIENT: 3, kn.ALIGNMENT: 2}[want]
        out = tf.numpy_function(run, list(args), [ref.dtype] * count, stateful=False)
        out = out if isinstance(out, (list, tuple)) else [out]
        out[0].set_shape(ref.shape[:1])
        if want == kn.GRADIENT:
            out[1].set_shape(x.shape)
            out[2].set_shape(y.shape)
        elif want == kn.ALIGNMENT:
            out[1].set_shape(D.shape)
        return out


def _higher_order(*tensors):
    """Whether a tape records operations on these tensors (a higher-order derivative is being taken)."""
    return record.should_record_backprop(tensors)


# ----------------------------------------------------------------------------
# differentiable entry points
# ----------------------------------------------------------------------------
def value_from_series(x, y, gamma, regularizer, metric, band, x_lengths, y_lengths, engine="kernel", corridor=None):
    """Smoothed DTW (B,) of validated series x (B, n, d), y (B, m, d) by the kernel; differentiable twice.

    Eagerly without a tape only the forward pass runs; otherwise the forward pass also runs
    the backward one (the gradient is ready when asked for). Second derivatives come from
    the wavefront on the cost grid (masked to the ``corridor`` (B, n, 2) int64 when given: dense).
    """
    problem = _Problem(gamma, regularizer, metric, band, x_lengths, y_lengths, engine, corridor)
    value_only = tf.executing_eagerly() and not _higher_order(x, y)

    def tf_value(x, y):
        D = grid_costs(x, y, metric)
        if corridor is not None:
            D = mask_corridor(D, corridor)
        return wf.dp_value(D, gamma, regularizer, band, x_lengths, y_lengths)

    @tf.custom_gradient
    def series_grads(x, y):
        _, gx, gy = problem.call(x, y, None, kn.GRADIENT)

        def grad(ux, uy):
            with tf.GradientTape() as outer:
                outer.watch([x, y])
                with tf.GradientTape() as inner:
                    inner.watch([x, y])
                    v = tf_value(x, y)
                tx, ty = inner.gradient(v, [x, y])
            return outer.gradient([tx, ty], [x, y], output_gradients=[ux, uy])

        return (gx, gy), grad

    @tf.custom_gradient
    def value(x, y):
        if value_only:
            (out,) = problem.call(x, y, None, kn.VALUE)
            saved = None
        else:
            out, *saved = problem.call(x, y, None, kn.GRADIENT)

        def grad(g):
            gx, gy = series_grads(x, y) if saved is None or _higher_order(x, y) else saved
            return g[:, None, None] * gx, g[:, None, None] * gy

        return out, grad

    return value(x, y)


def corridor_allowed(corridor, m):
    """(n, m, B) bool: the cells inside the corridors (B, n, 2) of inclusive bounds, as the wavefront lays them out."""
    j = tf.range(m, dtype=corridor.dtype)
    inside = (j >= corridor[:, :, :1]) & (j <= corridor[:, :, 1:])
    return tf.transpose(inside, (1, 2, 0))


def mask_corridor(D, corridor):
    """Costs D (n, m, B) with +inf outside the corridors (B, n, 2): the dense form of a corridor."""
    return tf.where(corridor_allowed(corridor, tf.shape(D)[1]), D, tf.constant(np.inf, D.dtype))


def _alignment_with_hvp(D, E, gamma, regularizer, band, x_lengths, y_lengths):
    """E (n, m, B) as computed by the kernel, with the wavefront's Hessian-vector product as its gradient."""

    @tf.custom_gradient
    def alignment(D):
        def grad(Z):
            _, Rs = wf._value_sweep_fn(wf._cut(D), tf.constant(gamma, D.dtype), regularizer, band, x_lengths, y_lengths)
            _, Es = wf._alignment_sweep_fn(Rs, tf.constant(gamma, D.dtype), regularizer, x_lengths, y_lengths)
            return wf._hvp_sweep_fn(
                Rs, Es, wf._cut(Z), tf.constant(gamma, D.dtype), regularizer, band, x_lengths, y_lengths
            )

        return tf.identity(E), grad

    return alignment(D)


def _grid_call(D, gamma, regularizer, band, x_lengths, y_lengths, engine):
    """(value (B,), E (n, m, B)) of costs laid out (n, m, B), by the kernel."""
    problem = _Problem(gamma, regularizer, None, band, x_lengths, y_lengths, engine)
    value, E = problem.call(None, None, tf.transpose(wf._cut(D), (2, 0, 1)), kn.ALIGNMENT)
    return value, tf.transpose(E, (1, 2, 0))


def value_from_costs(D, gamma, regularizer, band, x_lengths, y_lengths, engine="kernel"):
    """Smoothed DTW (B,) of validated costs laid out (n, m, B) by the kernel; differentiable twice."""

    @tf.custom_gradient
    def value(D):
        val, E = _grid_call(D, gamma, regularizer, band, x_lengths, y_lengths, engine)

        def grad(g):
            return g[None, None, :] * _alignment_with_hvp(D, E, gamma, regularizer, band, x_lengths, y_lengths)

        return val, grad

    return value(D)


def alignment_from_costs(D, gamma, regularizer, band, x_lengths, y_lengths, engine="kernel"):
    """Expected alignment (n, m, B) of validated costs laid out (n, m, B) by the kernel; differentiable."""
    _, E = _grid_call(D, gamma, regularizer, band, x_lengths, y_lengths, engine)
    return _alignment_with_hvp(D, E, gamma, regularizer, band, x_lengths, y_lengths)
