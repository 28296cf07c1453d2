"""The observation of a warping-path alignment, defined once: keys, shapes, ranges, features, cost transform.

Every consumer reads this module: ``envs.core.WarpingBatch`` computes the
values, ``envs.WarpingPathEnv`` builds its spaces from :func:`observation_spec`,
``agents.networks`` applies :func:`cost_transform`'s formula to the keys in
:data:`COST_KEYS`, and ``agents.PolicyAligner`` sizes and checks its NumPy actor
with :func:`feature_count`.

Keys, per alignment at cell (i, j) of an n-by-m grid (``s`` the pair's scale,
its mean local cost over the band cells):

- ``"window"`` float32 (k, k) in [0, 1]: ``c / (c + s)`` of cells
  (i + a, j + b); :data:`WINDOW_PAD` beyond the grid or the band.
- ``"position"`` float32 (6,): :data:`POSITION_FEATURES`, bounds
  :data:`POSITION_LOW` / :data:`POSITION_HIGH`.
- ``"lookahead"`` float32 (L, 3) in [0, 1], present when ``lookahead`` holds
  L > 0 ``(scale, depth)`` pairs: per move, a model-predictive estimate of the
  cost of the best completion. Row ``l`` uses the ``scale x scale``
  mean-pooled cost matrix: its exact cost-to-go ``Gc`` (a DP over
  ``n m / scale^2`` cells) is read, bilinearly and times ``scale``, into a
  fine-resolution terminal value ``H`` once at reset (O(n m), ``envs.terminal``); ``H`` is the
  terminal value of the fine cells on the frontier of the
  ``(depth+1) x (depth+1)`` block ahead; an exact DP through that block gives
  ``Q[a]``, the estimated cost of the best path that enters the cell of move
  ``a``. The feature is 0 for the best estimated move(s) and
  ``g + (1 - g) d / (d + 1)`` for the others, with ``d = (Q[a] - min Q) / s``
  and ``g =`` :data:`LOOKAHEAD_GAP`: scale-free, and the best move stands
  apart from a close second however small their difference (the networks'
  log transform would otherwise merge them). Illegal moves read
  :data:`WINDOW_PAD`.
- ``"action_mask"`` int8 (3,): 1 where the move is legal.

The corridor observation (linear time and memory): ``lookahead`` holds the one
row ``(CORRIDOR, r)`` (:func:`corridor_lookahead`). A reset then builds
``envs.corridor``'s corridor of radius ``r`` around a multiresolution path and
the exact cost-to-go ``G`` inside it, O((n + m) r) cells; a step reads
O(k^2 + 1) cells and computes the window's costs from the series. No n x m
array exists. ``"window"``, ``"position"`` and ``"action_mask"`` are as above
(the scale ``s`` is the mean local cost over at most :data:`SCALE_GRID` x
:data:`SCALE_GRID` band cells on evenly spaced rows and columns: every band
cell when n, m <= SCALE_GRID). ``"lookahead"`` is float32 (2, 3) in [0, 1]:

- row 0, the corridor's values: the lookahead formula above with ``Q[a] =
  G`` of the cell move ``a`` enters (its exact best completion inside the
  corridor, that cell's cost included); a legal move that leaves the corridor
  reads :data:`WINDOW_PAD`, as an illegal one does.
- row 1, the way back: ``D / (D + 1)`` with ``D`` the distance from the cell
  move ``a`` enters to the corridor: 0 inside it; ``lo[p] - q`` cells to the
  right for a cell left of its row's range; the rows down to the first row
  whose range reaches column ``q`` for a cell right of it. WINDOW_PAD for
  illegal moves.

Off the corridor the policy therefore sees row 0 all at WINDOW_PAD (or 0 on
the moves that re-enter it) and row 1 telling which move gets back soonest:
following row 1's argmin re-enters the corridor in ``D`` moves, after which
row 0 again ranks the moves by their exact corridor completions.

With ``(scale, depth)`` rows, a reset stays O(n m) (pooling is one pass over the cost matrix; the coarse DP
is ``n m / scale^2``) and a step O(k^2 + sum depth^2).

>>> spec = observation_spec(window=7, lookahead=((2, 16), (8, 16)))
>>> {key: shape for key, (shape, dtype, low, high) in spec.items()}
{'window': (7, 7), 'position': (6,), 'lookahead': (2, 3), 'action_mask': (3,)}
>>> feature_count(7, ((2, 16), (8, 16)))
61
>>> observation_spec(window=5, lookahead=corridor_lookahead(4))["lookahead"][0]
(2, 3)
"""

import numbers

import numpy as np
from numba import njit

from .prefetch import PREFETCH_AHEAD, prefetch

#: Names of the columns of ``"position"``, in order.
POSITION_FEATURES = (
    "row_progress",
    "col_progress",
    "diagonal_offset",
    "band_offset",
    "remaining",
    "row_share",
)
#: Lower and upper bounds of each position feature.
POSITION_LOW = np.array([0.0, 0.0, -1.0, -1.0, 0.0, 0.0], dtype=np.float32)
POSITION_HIGH = np.ones(len(POSITION_FEATURES), dtype=np.float32)
#: Value of a window cell beyond the grid or outside the band, and of an illegal
#: move's lookahead (the limit of ``c / (c + s)`` for an infinitely expensive cell).
WINDOW_PAD = 1.0
#: Lowest ``"lookahead"`` value of a move that is not the estimated best.
LOOKAHEAD_GAP = 0.01
#: The default lookahead: ``(scale, depth)`` rows of the ``"lookahead"`` key.
DEFAULT_LOOKAHEAD = ((2, 16), (8, 16))
#: ``scale`` of the lookahead row that selects the corridor observation: ``(CORRIDOR, radius)``.
CORRIDOR = 0
#: Rows of the ``"lookahead"`` key under the corridor observation (values, way back).
CORRIDOR_ROWS = 2
#: The corridor radius of :func:`corridor_lookahead` by default.
DEFAULT_RADIUS = 8
#: Side of the strided grid of cells whose mean local cost is the corridor observation's scale.
SCALE_GRID = 64
#: Keys whose values, in [0, 1], the networks feed through :func:`cost_transform`.
COST_KEYS = ("window", "lookahead")
#: Defaults of :func:`cost_transform`.
COST_FLOOR = 1e-3
MAX_COST = 1e4


def cost_transform(values, cost_floor=COST_FLOOR, max_cost=MAX_COST):
    """``log(max(min(v, max_cost), 0) + cost_floor)``: what the networks see of a cost-like key.

    Values near 0 (cheap cells, the best moves) span several orders of
    magnitude; the log makes ratios, not differences, what the MLP sees.
    ``agents.networks.LogCost`` (TensorFlow) and the NumPy actor of
    ``agents.policy_aligner`` apply this formula in float32.

    Parameters
    ----------
    values : array_like of float
    cost_floor : float > 0
    max_cost : float > 0

    Returns
    -------
    numpy.ndarray of float32, same shape

    Examples
    --------
    >>> [round(float(v), 3) for v in cost_transform([0.0, 1.0])]
    [-6.908, 0.001]
    """
    v = np.asarray(values, dtype=np.float32)
    return np.log(np.maximum(np.minimum(v, np.float32(max_cost)), np.float32(0.0)) + np.float32(cost_floor))


def corridor_lookahead(radius=DEFAULT_RADIUS):
    """The ``lookahead`` argument of the corridor observation of radius ``radius`` (see the module docstring).

    >>> corridor_lookahead(4)
    ((0, 4),)
    """
    return check_lookahead(((CORRIDOR, radius),))


def is_corridor(lookahead):
    """True when a validated ``lookahead`` selects the corridor observation."""
    return len(lookahead) == 1 and lookahead[0][0] == CORRIDOR


def lookahead_rows(lookahead):
    """Rows of the ``"lookahead"`` key: ``len(lookahead)``, or :data:`CORRIDOR_ROWS` for the corridor."""
    return CORRIDOR_ROWS if is_corridor(lookahead) else len(lookahead)


def check_lookahead(lookahead, name="lookahead"):
    """Validated ``((scale, depth), ...)`` as a tuple of int pairs (scale >= 1, depth >= 1); () disables it.

    ``((CORRIDOR, radius),)`` (scale 0, radius >= 0, alone) selects the corridor observation.

    >>> check_lookahead([[2, 16]])
    ((2, 16),)
    """
    if lookahead is None:
        return ()
    if not isinstance(lookahead, (list, tuple)):
        raise TypeError(f"{name} must be a sequence of (scale, depth) pairs; got {lookahead!r}")
    out = []
    for row in lookahead:
        if not (isinstance(row, (list, tuple)) and len(row) == 2):
            raise TypeError(f"{name} must be a sequence of (scale, depth) pairs; got {lookahead!r}")
        for value in row:
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
                raise TypeError(f"{name}: scale and depth must be ints; got {row!r}")
        if row[0] == CORRIDOR:
            if row[1] < 0:
                raise ValueError(f"{name}: the corridor radius must be >= 0; got {row!r}")
            if len(lookahead) != 1:
                raise ValueError(f"{name}: a corridor row ({CORRIDOR}, radius) must be the only row; got {lookahead!r}")
        elif row[0] < 1 or row[1] < 1:
            raise ValueError(f"{name}: scale and depth must be >= 1; got {row!r}")
        out.append((int(row[0]), int(row[1])))
    return tuple(out)


def observation_spec(window, lookahead=DEFAULT_LOOKAHEAD):
    """``{key: (shape, dtype, low, high)}`` of one alignment's observation, in the env's key order.

    Parameters
    ----------
    window : int
        Side k of the window.
    lookahead : sequence of (int, int)
        ``(scale, depth)`` rows; () leaves the ``"lookahead"`` key out.

    Returns
    -------
    dict
        ``low``/``high`` are scalars or arrays of the key's shape (0/1 for the mask).
    """
    lookahead = check_lookahead(lookahead)
    spec = {
        "window": ((window, window), np.float32, 0.0, 1.0),
        "position": ((len(POSITION_FEATURES),), np.float32, POSITION_LOW, POSITION_HIGH),
    }
    if lookahead:
        spec["lookahead"] = ((lookahead_rows(lookahead), 3), np.float32, 0.0, 1.0)
    spec["action_mask"] = ((3,), np.int8, 0, 1)
    return spec


def network_keys(window, lookahead=DEFAULT_LOOKAHEAD):
    """The keys a network reads (all but ``"action_mask"``), in ``tf.nest`` (sorted) order."""
    return tuple(sorted(key for key in observation_spec(window, lookahead) if key != "action_mask"))


def feature_count(window, lookahead=DEFAULT_LOOKAHEAD):
    """Width of the flattened network input: ``k^2 + 6 + 3 L``."""
    spec = observation_spec(window, lookahead)
    return int(sum(np.prod(spec[key][0]) for key in network_keys(window, lookahead)))


def lookahead_arrays(lookahead):
    """``(scales, depths)`` int64 arrays of a validated lookahead (what the kernels take)."""
    lookahead = check_lookahead(lookahead)
    scales = np.array([s for s, _ in lookahead], dtype=np.int64)
    depths = np.array([d for _, d in lookahead], dtype=np.int64)
    return scales, depths


# ------------------------------------------------------------------ kernels
@njit(cache=True, inline="always")
def _at(k):
    """``k`` as an unsigned index: numba then skips the negative-index wraparound (the kernels' indices are >= 0)."""
    return np.uint64(k)


@njit(cache=True, inline="always")
def _lesser(a, b):
    return a if a < b else b


#: Queries whose lookahead blocks ``_njit_lookahead_q2`` computes together, one per SIMD lane.
LANES = 16


@njit(cache=True)
def _njit_lookahead_q2(raw, allowed, terminal_a, terminal_b, base, lengths, cols, rows, cells, depth, banded, q_a, q_b):
    """Model-predictive move values ``q_a[t, a]``, ``q_b[t, a]`` of every query ``t`` for two terminal values.

    The arguments and values are :func:`_njit_lookahead_q2_blocks`'s, bitwise.
    A query whose block lies inside the grid (``i + depth < n - 1`` and ``j +
    depth < m - 1``: every step but those near the last row or column) has a
    block of one shape, ``(depth + 1) x (depth + 1)`` with its frontier on the
    last row and column, so :data:`LANES` of them are computed together: their
    costs and frontier values are gathered into lane-minor scratch arrays, and
    the DP runs cell by cell with the innermost loop over the lanes, which the
    compiler vectorises (the DP of one block is a chain of dependent min-plus
    steps; lanes of different queries are independent). Each lane's value is
    the same expression ``c + min(min(V_diag, V_down), V_right)`` as in the
    one-block DP, so the bits are the same. The other queries go through
    :func:`_njit_lookahead_q2_blocks`, and so does a last group of fewer than
    ``LANES // 2`` queries: a group costs about as much whatever its fill
    (~5 us), a block ~0.5 us (e.g. the one or two first observations after
    the resets of a vector step).
    """
    w = depth + 1
    num = rows.shape[0]
    cost = np.empty(depth * depth * LANES)  # cell (r, c) of lane g at (r * depth + c) * LANES + g
    va = np.empty(w * w * LANES)  # values, row stride w; row and column `depth` hold the frontier
    vb = np.empty(w * w * LANES)
    corner = np.empty(LANES, dtype=np.int64)  # flat index of each lane's cell (i, j)
    lane_query = np.empty(LANES, dtype=np.int64)
    edge = np.empty(num, dtype=np.int64)  # queries left to the one-block DP
    edges = filled = 0
    inputs = (raw, allowed, terminal_a, terminal_b, base, lengths, cols, rows, cells, depth, banded)
    for t in range(num + 1):
        if t < num:
            if t + PREFETCH_AHEAD < num:
                _prefetch_block(inputs, t + PREFETCH_AHEAD)
            b = rows[t]
            i, j = cells[t, 0], cells[t, 1]
            if i + depth < lengths[b, 0] - 1 and j + depth < lengths[b, 1] - 1:
                corner[filled] = base[b] + i * cols + j
                lane_query[filled] = t
                filled += 1
            else:
                edge[edges] = t
                edges += 1
            if filled < LANES:
                continue
        if t == num and filled < LANES // 2:  # a small last group: cheaper through the one-block DP
            edge[edges : edges + filled] = lane_query[:filled]
            edges += filled
            break
        for g in range(filled, LANES):  # a partial last group: the spare lanes repeat lane 0
            corner[g] = corner[0]
        _gather_lanes(raw, allowed, terminal_a, terminal_b, cols, corner, depth, banded, cost, va, vb)
        _dp_lanes(cost, va, vb, depth)
        for g in range(filled):
            t_out = lane_query[g]
            q_a[t_out, 0], q_a[t_out, 1], q_a[t_out, 2] = va[(w + 1) * LANES + g], va[w * LANES + g], va[LANES + g]
            q_b[t_out, 0], q_b[t_out, 1], q_b[t_out, 2] = vb[(w + 1) * LANES + g], vb[w * LANES + g], vb[LANES + g]
        filled = 0
    if edges > 0:
        e_rows = np.empty(edges, dtype=np.int64)
        e_cells = np.empty((edges, 2), dtype=np.int64)
        for e in range(edges):
            e_rows[e] = rows[edge[e]]
            e_cells[e, 0], e_cells[e, 1] = cells[edge[e], 0], cells[edge[e], 1]
        e_a = np.empty((edges, 3))
        e_b = np.empty((edges, 3))
        _njit_lookahead_q2_blocks(
            raw, allowed, terminal_a, terminal_b, base, lengths, cols, e_rows, e_cells, depth, banded, e_a, e_b
        )
        for e in range(edges):
            for a in range(3):
                q_a[edge[e], a] = e_a[e, a]
                q_b[edge[e], a] = e_b[e, a]


@njit(cache=True, inline="always")
def _prefetch_block(inputs, t):
    """Prefetch the block of query ``t`` and its frontier's terminal values (a hint: no effect on values).

    ``inputs``: ``_njit_lookahead_q2``'s first eleven arguments, as a tuple.
    """
    raw, allowed, terminal_a, terminal_b, base, lengths, cols, rows, cells, depth, banded = inputs
    b = rows[t]
    q = base[b] + cells[t, 0] * cols + cells[t, 1]
    for _ in range(min(depth + 1, lengths[b, 0] - cells[t, 0])):
        for c in range(0, depth + 1, 8):
            prefetch(raw, q + c)
        prefetch(raw, q + depth)
        if banded:
            prefetch(allowed, q)
            prefetch(allowed, q + depth)
        prefetch(terminal_a, q + depth)
        prefetch(terminal_b, q + depth)
        q += cols
    for c in range(0, depth + 1, 16):
        prefetch(terminal_a, q - cols + c)
        prefetch(terminal_b, q - cols + c)


@njit(cache=True)
def _gather_lanes(raw, allowed, terminal_a, terminal_b, cols, corner, depth, banded, cost, va, vb):
    """Lane-minor copies of :data:`LANES` interior blocks (cells at ``corner[g] + r * cols + c``).

    ``cost``: the costs of rows and columns ``0..depth-1`` (+inf off the band);
    ``va``/``vb`` row and column ``depth``: the frontier, cost plus terminal value (+inf off the band).
    """
    inf = np.inf
    w = depth + 1
    for r in range(depth):
        for c in range(depth):
            o = (r * depth + c) * LANES
            d = r * cols + c
            for g in range(LANES):
                k = corner[g] + d
                x = raw[_at(k)]
                if banded and allowed[_at(k)] != 1:
                    x = inf
                cost[_at(o + g)] = x
    for e in range(2 * depth + 1):  # the frontier column (rows 0..depth), then the frontier row (columns 0..depth-1)
        r, c = (e, depth) if e <= depth else (depth, e - depth - 1)
        o = (r * w + c) * LANES
        d = r * cols + c
        for g in range(LANES):
            k = corner[g] + d
            x = raw[_at(k)]
            ok = not banded or allowed[_at(k)] == 1
            va[_at(o + g)] = x + terminal_a[_at(k)] if ok else inf
            vb[_at(o + g)] = x + terminal_b[_at(k)] if ok else inf


@njit(cache=True)
def _dp_lanes(cost, va, vb, depth):
    """The block DP of :func:`_njit_lookahead_q2_blocks` on :data:`LANES` gathered blocks at once.

    Every cell but (0, 0), whose value no move reads, from the last row and column back.
    """
    w = depth + 1
    for r in range(depth - 1, -1, -1):
        for c in range(depth - 1, 0 if r == 0 else -1, -1):
            o = (r * w + c) * LANES
            oc = (r * depth + c) * LANES
            for g in range(LANES):
                x = cost[_at(oc + g)]
                va[_at(o + g)] = x + _lesser(
                    _lesser(va[_at(o + (w + 1) * LANES + g)], va[_at(o + w * LANES + g)]), va[_at(o + LANES + g)]
                )
                vb[_at(o + g)] = x + _lesser(
                    _lesser(vb[_at(o + (w + 1) * LANES + g)], vb[_at(o + w * LANES + g)]), vb[_at(o + LANES + g)]
                )


@njit(cache=True)
def _njit_lookahead_q2_blocks(
    raw, allowed, terminal_a, terminal_b, base, lengths, cols, rows, cells, depth, banded, q_a, q_b
):
    """Model-predictive move values ``q_a[t, a]``, ``q_b[t, a]`` of every query ``t`` for two terminal values.

    Query ``t`` is alignment ``b = rows[t]`` at cell ``(i, j) = cells[t]`` of
    its ``n``-by-``m`` grid (``lengths[b]``); +inf for illegal moves. ``raw``,
    ``allowed`` and the terminal values ``terminal_a``/``terminal_b`` are
    flat: cell (p, q) of alignment ``b`` lies at ``base[b] + p * cols + q``.
    An exact DP over the block ``[i, pe] x [j, qe]``, ``pe = min(i + depth,
    n - 1)``, ``qe = min(j + depth, m - 1)``: a frontier cell (the block's
    last row or column where that is not the grid's) is worth its cost plus
    the terminal value, +inf off the band; any other block cell is worth its
    cost plus the cheapest of its successors inside the block (the end cell
    (n-1, m-1): its cost plus 0.0), +inf off the band; ``q[t, a]`` is the
    value of the cell move ``a`` enters. ``banded`` False promises that every
    grid cell is enterable (no band): ``allowed`` is then not read.

    Every value is the same floating-point expression as in the plain
    recurrence ``V = c + min(V_diag, V_down, V_right)``: ``c + min(u, v) ==
    min(c + u, c + v)`` exactly (rounding is monotone) and min is exact, so the
    order below changes speed, not bits. Rows are computed two at a time,
    row ``r`` at column ``c`` with row ``r - 1`` at column ``c + 1``, so four
    dependency chains (two rows, two terminals) overlap instead of one. All
    queries run in this one call, with no per-query call of a function that
    takes arrays (numba would reference-count every array argument of such a
    call: two atomic operations each, more than a block's DP costs), and the
    block of the query ``PREFETCH_AHEAD`` further on is prefetched.
    """
    inf = np.inf
    w = depth + 2
    scratch_a = np.empty(w * w)  # flat blocks, row stride w
    scratch_b = np.empty(w * w)
    num = rows.shape[0]
    inputs = (raw, allowed, terminal_a, terminal_b, base, lengths, cols, rows, cells, depth, banded)
    for t in range(num):
        if t + PREFETCH_AHEAD < num:  # the block of a later query, and its frontier's terminal values
            _prefetch_block(inputs, t + PREFETCH_AHEAD)
        b = rows[t]
        i, j = cells[t, 0], cells[t, 1]
        n, m = lengths[b, 0], lengths[b, 1]
        pe = min(n - 1, i + depth)
        qe = min(m - 1, j + depth)
        di, dj = pe - i, qe - j
        # DP rows 0..rows-1 and columns 0..cols_dp-1; row `rows` and column `cols_dp` hold the boundary values.
        block_rows = di + 1 if pe == n - 1 else di
        cols_dp = dj + 1 if qe == m - 1 else dj
        if pe < n - 1:  # the frontier row (its last cell is also the frontier column's when qe < m - 1)
            k = base[b] + pe * cols + j
            for c in range(dj + 1):
                cost = raw[_at(k + c)]
                ok = not banded or allowed[_at(k + c)] == 1
                scratch_a[_at(block_rows * w + c)] = cost + terminal_a[_at(k + c)] if ok else inf
                scratch_b[_at(block_rows * w + c)] = cost + terminal_b[_at(k + c)] if ok else inf
            scratch_a[_at(block_rows * w + dj + 1)] = inf
            scratch_b[_at(block_rows * w + dj + 1)] = inf
        else:  # below the grid's last row: nothing, except 0.0 diagonally past the end cell
            for c in range(cols_dp + 1):
                scratch_a[_at(block_rows * w + c)] = inf
                scratch_b[_at(block_rows * w + c)] = inf
            if qe == m - 1:
                scratch_a[_at(block_rows * w + cols_dp)] = 0.0
                scratch_b[_at(block_rows * w + cols_dp)] = 0.0
        k = base[b] + i * cols + qe
        for r in range(block_rows):  # the frontier column, or nothing right of the grid's last column
            if qe < m - 1:
                cost = raw[_at(k)]
                ok = not banded or allowed[_at(k)] == 1
                scratch_a[_at(r * w + cols_dp)] = cost + terminal_a[_at(k)] if ok else inf
                scratch_b[_at(r * w + cols_dp)] = cost + terminal_b[_at(k)] if ok else inf
            else:
                scratch_a[_at(r * w + cols_dp)] = inf
                scratch_b[_at(r * w + cols_dp)] = inf
            k += cols
        r = block_rows - 1
        while r >= 0:
            k0 = base[b] + (i + r) * cols + j  # row r of the block
            o0 = r * w
            o1 = o0 - w  # row r - 1
            k1 = k0 - cols
            pair = r >= 1
            ra = scratch_a[_at(o0 + cols_dp)]  # V[r, c + 1]: the chain of row r
            rb = scratch_b[_at(o0 + cols_dp)]
            ua = scratch_a[_at(o1 + cols_dp)] if pair else inf  # V[r - 1, c + 2]: the chain of row r - 1
            ub = scratch_b[_at(o1 + cols_dp)] if pair else inf
            da = scratch_a[_at(o0 + w + cols_dp)]  # V[r + 1, c + 1]
            db = scratch_b[_at(o0 + w + cols_dp)]
            pa = inf  # V[r, c + 2]
            pb = inf
            for c in range(cols_dp - 1, -1, -1):
                x = raw[_at(k0 + c)] if not banded or allowed[_at(k0 + c)] == 1 else inf
                ba = scratch_a[_at(o0 + w + c)]
                bb = scratch_b[_at(o0 + w + c)]
                na = x + _lesser(_lesser(da, ba), ra)
                nb = x + _lesser(_lesser(db, bb), rb)
                da, db = ba, bb
                scratch_a[_at(o0 + c)] = na
                scratch_b[_at(o0 + c)] = nb
                if pair and c + 1 < cols_dp:  # row r - 1 at column c + 1: needs V[r, c + 2] and V[r, c + 1]
                    y = raw[_at(k1 + c + 1)] if not banded or allowed[_at(k1 + c + 1)] == 1 else inf
                    ua = y + _lesser(_lesser(pa, ra), ua)
                    ub = y + _lesser(_lesser(pb, rb), ub)
                    scratch_a[_at(o1 + c + 1)] = ua
                    scratch_b[_at(o1 + c + 1)] = ub
                pa, pb = ra, rb
                ra, rb = na, nb
            if pair and cols_dp > 0:  # row r - 1 at column 0
                y = raw[_at(k1)] if not banded or allowed[_at(k1)] == 1 else inf
                ua = y + _lesser(_lesser(pa, ra), ua)
                ub = y + _lesser(_lesser(pb, rb), ub)
                scratch_a[_at(o1)] = ua
                scratch_b[_at(o1)] = ub
            r -= 2
        q_a[t, 0] = scratch_a[_at(w + 1)] if di >= 1 and dj >= 1 else inf
        q_a[t, 1] = scratch_a[_at(w)] if di >= 1 else inf
        q_a[t, 2] = scratch_a[_at(1)] if dj >= 1 else inf
        q_b[t, 0] = scratch_b[_at(w + 1)] if di >= 1 and dj >= 1 else inf
        q_b[t, 1] = scratch_b[_at(w)] if di >= 1 else inf
        q_b[t, 2] = scratch_b[_at(1)] if dj >= 1 else inf


@njit(cache=True, inline="always")
def _njit_position(position, o, i, j, n1, m1, band_den):
    """Write row ``o`` of ``"position"`` for cell (i, j) of an (n1 + 1)-by-(m1 + 1) grid (POSITION_FEATURES)."""
    rows_left, cols_left = n1 - i, m1 - j
    row_progress = i / n1 if n1 > 0 else 1.0
    col_progress = j / m1 if m1 > 0 else 1.0
    position[o, 0] = row_progress
    position[o, 1] = col_progress
    position[o, 2] = col_progress - row_progress
    position[o, 3] = (j * n1 - i * m1) / band_den if band_den > 0 else 0.0
    position[o, 4] = (rows_left + cols_left) / (n1 + m1)
    position[o, 5] = rows_left / (rows_left + cols_left) if rows_left + cols_left > 0 else 0.5


@njit(cache=True, inline="always")
def _njit_lookahead_feature(q, best, scale_pair):
    """The ``"lookahead"`` value of a move worth ``q`` when the best is worth ``best = min(q)``: 0 for the best,
    else ``g + (1 - g) d / (d + 1)``, ``d = (q - best) / scale_pair``; WINDOW_PAD where ``q`` is +inf."""
    if np.isfinite(q) and np.isfinite(best):
        d = (q - best) / scale_pair
        return 0.0 if d <= 0.0 else LOOKAHEAD_GAP + (1.0 - LOOKAHEAD_GAP) * d / (d + 1.0)
    return WINDOW_PAD
