"""``CorridorBatch``: N alignments under the corridor observation, in O((n + m) r) memory per pair.

``envs.core.WarpingBatch(lookahead=corridor_lookahead(r))`` returns one, so the
environments, ``agents.PolicyAligner`` and every ``make_core`` caller use it
unchanged: the same methods, moves, rewards and keys as ``WarpingBatch`` (see
that class), the observation of ``envs.observation`` for a corridor row. The
state holds the series, each pair's corridor (``envs.corridor``) and its
cost-to-go, the band rows and the paths; local costs are computed from the
series when a step or an observation reads them, bitwise as
``dtwrl.cost_matrix`` gives them. The compiled kernels take that state as one
tuple.

Differences from ``WarpingBatch``, all because no n x m array is built:
:meth:`dtw_costs` runs exact DTW (``dtwrl.dtw``: O(n m) time, O(m) memory)
the first time a pair's value is asked for; :meth:`expert_actions` is exact
up to :data:`EXACT_EXPERT_CELLS` cells and the corridor's expert beyond;
:meth:`cost_matrix` builds the matrix (for rendering short pairs).

>>> from envs.core import WarpingBatch
>>> from envs.observation import corridor_lookahead
>>> batch = WarpingBatch(window=3, lookahead=corridor_lookahead(1))
>>> type(batch).__name__
'CorridorBatch'
>>> batch.reset([(np.arange(5.0), np.arange(5.0) ** 1.5)])
>>> batch.observation()["lookahead"].shape
(1, 2, 3)
>>> while not batch.done.all():
...     _ = batch.step(batch.expert_actions())
>>> bool(batch.path_costs[0] >= batch.dtw_costs()[0])
True
"""

import numpy as np
from numba import njit

from dtwrl.exact_dtw import cost_to_go, dtw
from dtwrl.local_cost import _metric_code, cost_matrix
from dtwrl.validation import check_cost_range

from .core import WarpingBatch, _check_window, check_reward_scale
from .corridor import COARSEST, build_corridor, corridor_path
from .kernels import MOVES, PREFERENCE, legal_actions, next_active
from .observation import (
    SCALE_GRID,
    WINDOW_PAD,
    _njit_lookahead_feature,
    _njit_position,
    check_lookahead,
    is_corridor,
    observation_spec,
)
from .packing import check_pair_scale, pack_pairs

__all__ = ["EXACT_EXPERT_CELLS", "CorridorBatch"]

#: Largest pair (n * m cells) whose expert moves are exact (its cost-to-go, 8 bytes per cell, is kept).
EXACT_EXPERT_CELLS = 2**21

# Positions in the kernels' state tuple (see CorridorBatch._layout).
_XS, _YS, _XB, _YB, _LENGTHS, _BLO, _BHI, _RB, _LO, _HI, _OFF, _VAL, _BAND_DEN, _SCALE, _DIMS = range(15)


@njit(cache=True, inline="always")
def _cost(xs, ys, xa, ya, d, code):
    """Local cost of the frames at ``xs[xa:xa + d]`` and ``ys[ya:ya + d]``: ``_njit_local_cost``'s arithmetic."""
    s = 0.0
    if code == 2:
        for k in range(d):
            s += abs(xs[xa + k] - ys[ya + k])
        return s
    for k in range(d):
        diff = xs[xa + k] - ys[ya + k]
        s += diff * diff
    if code == 1:
        return np.sqrt(s)
    return s


# The helpers below take the state's arrays, not the state tuple: each array taken out of a tuple inside a compiled
# function is reference-counted, which cost a rollout step more than its arithmetic.


@njit(cache=True, inline="always")
def _enterable(lengths, blo, bhi, rb, b, p, q):
    """Cell (p, q) of alignment b lies in its grid and band."""
    return p < lengths[b, 0] and q < lengths[b, 1] and blo[rb[b] + p] <= q <= bhi[rb[b] + p]


@njit(cache=True, inline="always")
def _cell_cost(xs, ys, xb, yb, dims, b, p, q, code):
    d = dims[b]
    return _cost(xs, ys, xb[b] + p * d, yb[b] + q * d, d, code)


@njit(cache=True, inline="always")
def _corridor_value(rb, lo_rows, hi_rows, off, val, b, p, q):
    """G[p, q] inside alignment b's corridor, +inf outside it."""
    r = rb[b] + p
    lo, hi = lo_rows[r], hi_rows[r]
    if lo <= q <= hi:
        return val[off[r] + q - lo]
    return np.inf


@njit(cache=True, inline="always")
def _distance(lengths, rb_rows, lo, hi, b, p, q):
    """Moves from (p, q) back to alignment b's corridor: lo - q left of it, else rows down to one reaching q."""
    rb = rb_rows[b]
    if q < lo[rb + p]:
        return lo[rb + p] - q
    if q <= hi[rb + p]:
        return 0
    a, z = p, lengths[b, 0] - 1  # hi is nondecreasing and hi[n-1] == m-1 >= q: binary search
    while a < z:
        mid = (a + z) // 2
        if hi[rb + mid] >= q:
            z = mid
        else:
            a = mid + 1
    return a - p


@njit(cache=True, inline="always", _nrt=False)
def _njit_observe(state, meta, outs, rows, cells, window, position, mask, look, q_raw):
    """Write into row ``outs[t]`` the observation of alignment ``rows[t]`` at ``cells[t]``; ``q_raw[t]`` (when it has
    rows) gets the raw move values ``G`` of the entered cells (+inf off the corridor or illegal)."""
    code = meta[0]
    band_den, scale = state[_BAND_DEN], state[_SCALE]
    lengths, blo, bhi, rb = state[_LENGTHS], state[_BLO], state[_BHI], state[_RB]
    xs, ys, xb, yb, dims = state[_XS], state[_YS], state[_XB], state[_YB], state[_DIMS]
    lo, hi, off, val = state[_LO], state[_HI], state[_OFF], state[_VAL]
    k = window.shape[1]
    for t in range(rows.shape[0]):
        o, b = outs[t], rows[t]
        i, j = cells[t, 0], cells[t, 1]
        s = scale[b]
        for r in range(k):
            for c in range(k):
                if _enterable(lengths, blo, bhi, rb, b, i + r, j + c):
                    v = _cell_cost(xs, ys, xb, yb, dims, b, i + r, j + c, code)
                    window[o, r, c] = v / (v + s)
                else:
                    window[o, r, c] = WINDOW_PAD
        q0, q1, q2 = np.inf, np.inf, np.inf
        for a in range(3):
            p, q = i + MOVES[a, 0], j + MOVES[a, 1]
            legal = _enterable(lengths, blo, bhi, rb, b, p, q)
            mask[o, a] = 1 if legal else 0
            g = _corridor_value(rb, lo, hi, off, val, b, p, q) if legal else np.inf
            if a == 0:
                q0 = g
            elif a == 1:
                q1 = g
            else:
                q2 = g
            if legal:
                dist = _distance(lengths, rb, lo, hi, b, p, q)
                look[o, 1, a] = dist / (dist + 1.0)
            else:
                look[o, 1, a] = WINDOW_PAD
        best = min(q0, min(q1, q2))
        look[o, 0, 0] = _njit_lookahead_feature(q0, best, s)
        look[o, 0, 1] = _njit_lookahead_feature(q1, best, s)
        look[o, 0, 2] = _njit_lookahead_feature(q2, best, s)
        if q_raw.shape[0] > 0:
            q_raw[t, 0], q_raw[t, 1], q_raw[t, 2] = q0, q1, q2
        _njit_position(position, o, i, j, lengths[b, 0] - 1, lengths[b, 1] - 1, band_den[b])


@njit(cache=True, inline="always", _nrt=False)
def _njit_move(state, walk, meta, actions, rewards, replaced):
    """Move every unfinished alignment (actions 0..2, illegal ones replaced as ``WarpingBatch.step`` does)."""
    code = meta[0]
    ij, pending, path_costs, length, paths, pbase, factor, done = walk
    lengths, blo, bhi, rb = state[_LENGTHS], state[_BLO], state[_BHI], state[_RB]
    xs, ys, xb, yb, dims = state[_XS], state[_YS], state[_XB], state[_YB], state[_DIMS]
    for b in range(ij.shape[0]):
        replaced[b] = False
        if done[b]:
            rewards[b] = 0.0
            continue
        a = actions[b]
        i, j = ij[b, 0], ij[b, 1]
        if not _enterable(lengths, blo, bhi, rb, b, i + MOVES[a, 0], j + MOVES[a, 1]):
            replaced[b] = True
            for c in range(1, 3):
                alt = PREFERENCE[a, c]
                if _enterable(lengths, blo, bhi, rb, b, i + MOVES[alt, 0], j + MOVES[alt, 1]):
                    a = alt
                    break
        i += MOVES[a, 0]
        j += MOVES[a, 1]
        ij[b, 0], ij[b, 1] = i, j
        cost = _cell_cost(xs, ys, xb, yb, dims, b, i, j, code) + pending[b]
        pending[b] = 0.0
        path_costs[b] += cost
        paths[pbase[b] + length[b], 0] = i
        paths[pbase[b] + length[b], 1] = j
        length[b] += 1
        done[b] = i == lengths[b, 0] - 1 and j == lengths[b, 1] - 1
        rewards[b] = 0.0 - cost * factor[b]


@njit(_nrt=False)
def _njit_rollout(policy, params, max_steps, state, walk, meta, window, position, mask, look, replaced, scratch):
    """``envs.kernels.run_loop`` for the corridor batch: observe, let ``policy`` act, move, until every alignment is
    done or ``max_steps``; returns whether every alignment is done. ``scratch``: :func:`_rollout_scratch`.

    Compiled without numba's reference counts (``_nrt=False``: it allocates nothing), with the observe and move
    kernels inlined: with them, every array taken out of the state tuples and every array argument of an inlined
    helper was counted at every step (an atomic increment and decrement each), which took over 80% of a one-pair
    rollout (perf: ``NRT_incref``/``NRT_decref``); ``run_loop``'s kernels come as function arguments, which
    numba compiles apart, so they cannot be inlined there (calling them so, compiled without counts, takes twice
    this loop's time). Not cached: numba's cache cannot key a compiled ``policy`` argument, so the first rollout
    of a process compiles the loop with its inlined kernels, about 2 s more than the separate kernels did.
    """
    actions, moves, rewards, no_values, active, cells = scratch
    ij, done = walk[0], walk[-1]
    for _ in range(max_steps):
        count = next_active(done, ij, mask, active, cells)
        if count == 0:
            return True
        rows = active[:count]
        _njit_observe(state, meta, rows, rows, cells[:count], window, position, mask, look, no_values)
        policy(window, position, look, mask, params, actions)
        legal_actions(actions, moves)
        _njit_move(state, walk, meta, moves, rewards, replaced)
    return np.all(done)


def _rollout_scratch(num):
    """The buffers :func:`_njit_rollout` writes: actions, moves, rewards, (0, 3) raw values, active rows, cells."""
    ints = np.int64
    return (
        np.zeros(num, ints),
        np.zeros(num, ints),
        np.empty(num),
        np.empty((0, 3)),
        np.empty(num, ints),
        np.empty((num, 2), ints),
    )


@njit(cache=True)
def _njit_scale(x, y, blo, bhi, code, grid):
    """Mean local cost over the band cells of at most ``grid`` evenly spaced rows and columns (row-major sum)."""
    n, m, d = x.shape[0], y.shape[0], x.shape[1]
    rows, cols = min(n, grid), min(m, grid)
    total, count = 0.0, 0
    for r in range(rows):
        i = r * (n - 1) // (rows - 1) if rows > 1 else 0
        for c in range(cols):
            j = c * (m - 1) // (cols - 1) if cols > 1 else 0
            if blo[i] <= j <= bhi[i]:
                total += _cost(x[i], y[j], 0, 0, d, code)
                count += 1
    return total / count if count else 0.0


class CorridorBatch:
    """N alignments under the corridor observation (``lookahead=((CORRIDOR, r),)``); see the module docstring.

    Parameters are those of ``envs.core.WarpingBatch``; ``lookahead`` must select the corridor.
    ``coarsest`` is ``envs.corridor.build_corridor``'s.
    """

    def __init__(self, window=7, metric="sqeuclidean", band=None, reward_scale=1.0, lookahead=None, coarsest=COARSEST):
        from dtwrl.bands import check_band
        from dtwrl.validation import check_metric

        self.window = _check_window(window)
        self.lookahead = check_lookahead(lookahead)
        if not is_corridor(self.lookahead):
            raise ValueError(f"lookahead must select the corridor observation; got {self.lookahead!r}")
        self.radius = self.lookahead[0][1]
        self.coarsest = int(coarsest)
        self._spec = observation_spec(self.window, self.lookahead)
        self.metric = check_metric(metric)
        self.band = check_band(1, 1, band)
        self.reward_scale = check_reward_scale(reward_scale)
        self._meta = np.array([_metric_code(self.metric)], dtype=np.int64)
        self.num = 0
        self._pairs = []
        self._capacity = None

    # ------------------------------------------------------------------ reset
    def reset(self, pairs, indices=None):
        """Start new alignments (see ``WarpingBatch.reset``)."""
        packed = pack_pairs(pairs, self.band)
        if indices is None:
            indices = np.arange(len(packed.series))
            self._pairs = [None] * len(indices)
            self._start_walk(len(indices))
            self._capacity = None
        else:
            indices = self._check_indices(indices, len(packed.series))
        code = int(self._meta[0])
        self._length[indices] = 1  # their old paths are not kept when the buffers are repacked
        for k, b in enumerate(indices.tolist()):
            x, y = packed.series[k]
            r0 = int(packed.meta[k, 7])
            blo, bhi = packed.lo[r0 : r0 + len(x)], packed.hi[r0 : r0 + len(x)]
            check_cost_range(x, y, self.metric, names=(f"pairs[{k}][0]", f"pairs[{k}][1]"))  # every cost, O(n + m)
            s = _njit_scale(x, y, blo, bhi, code, SCALE_GRID) or 1.0  # 0: every cost is 0, any scale maps them to 0
            check_pair_scale(s, self.reward_scale, k)
            corridor = build_corridor(x, y, self.metric, self.radius, self.band, self.coarsest)
            self._pairs[b] = (x, y, blo, bhi, corridor, s)
            self._dtw[b] = np.nan
            self._exact_ctg[b] = None
        self._pack_state(indices.tolist())
        for b in indices.tolist():
            self._restart(b)

    def argmin_paths(self, pairs):
        """The paths of "always the move with the smallest corridor value" on each pair, without a rollout.

        ``envs.corridor.corridor_path`` of each pair, validated as :meth:`reset` validates it: the moves a rollout
        takes when its policy picks the smallest ``"lookahead"`` row 0 (ties: diagonal, down, right), which is
        ``agents.HeuristicAligner``'s default rule, bitwise, from two bits per corridor cell instead of the
        corridor's float64 values and no observation. The batch's own alignments are left as they are.

        >>> from envs.observation import corridor_lookahead
        >>> x = np.sin(np.linspace(0, 6, 50))[:, None]
        >>> [p[-1].tolist() for p in CorridorBatch(lookahead=corridor_lookahead(2)).argmin_paths([(x, x[::2])])]
        [[49, 24]]
        """
        packed = pack_pairs(pairs, self.band)
        paths = []
        for k, (x, y) in enumerate(packed.series):
            check_cost_range(x, y, self.metric, names=(f"pairs[{k}][0]", f"pairs[{k}][1]"))
            paths.append(corridor_path(x, y, self.metric, self.radius, self.band, self.coarsest))
        return paths

    _check_indices = WarpingBatch._check_indices

    def _start_walk(self, num):
        self.num = num
        self._ij = np.zeros((num, 2), dtype=np.int64)
        self._pending = np.zeros(num)
        self.path_costs = np.zeros(num)
        self._length = np.ones(num, dtype=np.int64)
        self._factor = np.ones(num)
        self.done = np.zeros(num, dtype=bool)
        self.replaced = np.zeros(num, dtype=bool)
        self._dtw = np.full(num, np.nan)
        self._exact_ctg = [None] * num

    def _sizes(self, b):
        """Entries alignment b needs in each region: x values, y values, rows, corridor cells, path cells."""
        x, y, _, _, corridor, _ = self._pairs[b]
        return np.array([x.size, y.size, len(x), corridor.cells, len(x) + len(y) - 1], dtype=np.int64)

    def _pack_state(self, changed):
        """Write the alignments ``changed`` into their regions of the kernels' arrays, in place when they fit.

        Each alignment owns a region of every concatenated array (series, band rows, corridor rows and values,
        path), as large as its first pair needs; a later pair that outgrows its region makes the whole state be
        laid out again, every region 1.5 times the largest need, keeping every alignment's walk. A batch of one
        alignment (how ``HeuristicAligner`` routes long pairs) is laid out afresh at every reset and keeps its
        corridor's cost-to-go as the state's (:meth:`_layout`), which is then never written in place.
        """
        if self.num == 1:
            self._layout(self._sizes(0)[None], keep=False)
            self._write(0)
            return
        need = np.array([self._sizes(b) for b in range(self.num)]) if self._capacity is None else None
        if self._capacity is not None:
            grown = [b for b in changed if np.any(self._sizes(b) > self._capacity[b])]
            if grown:
                need = np.array([self._sizes(b) for b in range(self.num)])
        if need is not None:
            self._layout(need, keep=self._capacity is not None)
            changed = range(self.num)
        for b in changed:
            self._write(b)

    def _layout(self, need, keep):
        """Fresh arrays with regions of ``need`` (num, 5) per alignment; when ``keep`` (regrown after a partial reset,
        walked paths kept) every region holds 1.5 times the largest need."""
        if keep:  # regrown after a partial reset: every region as large as 1.5 times the largest need, so few regrow
            largest = need.max(axis=0)
            capacity = np.broadcast_to(largest + largest // 2, need.shape).copy()
        else:
            capacity = need
        starts = np.zeros_like(capacity)
        starts[1:] = np.cumsum(capacity, axis=0)[:-1]
        total = capacity.sum(axis=0)
        num = self.num
        old_paths = self._paths if keep else None
        self._state = (
            np.zeros(total[0]),
            np.zeros(total[1]),
            starts[:, 0].copy(),
            starts[:, 1].copy(),
            np.ones((num, 2), dtype=np.int64),
            np.zeros(total[2], dtype=np.int64),
            np.zeros(total[2], dtype=np.int64),
            starts[:, 2].copy(),
            np.zeros(total[2], dtype=np.int64),
            np.zeros(total[2], dtype=np.int64),
            np.zeros(total[2], dtype=np.int64),
            self._pairs[0][4].values if num == 1 and not keep else np.zeros(total[3]),  # one pair: no second copy
            np.zeros(num, dtype=np.int64),
            np.ones(num),
            np.ones(num, dtype=np.int64),
        )
        self._value_base = starts[:, 3].copy()
        paths = np.zeros((total[4], 2), dtype=np.int64)
        if old_paths is not None:
            for b in range(num):
                walked = old_paths[0][old_paths[1][b] : old_paths[1][b] + self._length[b]]
                paths[starts[b, 4] : starts[b, 4] + len(walked)] = walked
        self._paths = (paths, starts[:, 4].copy())
        self._capacity = capacity

    def _write(self, b):
        """Copy alignment b's pair, band rows and corridor into its regions."""
        x, y, blo, bhi, corridor, scale = self._pairs[b]
        state = self._state
        n, m = len(x), len(y)
        state[_XS][state[_XB][b] : state[_XB][b] + x.size] = x.reshape(-1)
        state[_YS][state[_YB][b] : state[_YB][b] + y.size] = y.reshape(-1)
        rows = slice(state[_RB][b], state[_RB][b] + n)
        state[_BLO][rows], state[_BHI][rows] = blo, bhi
        state[_LO][rows], state[_HI][rows] = corridor.lo, corridor.hi
        state[_OFF][rows] = corridor.offsets[:-1] + self._value_base[b]
        if state[_VAL] is not corridor.values:
            state[_VAL][self._value_base[b] : self._value_base[b] + corridor.cells] = corridor.values
        state[_LENGTHS][b] = n, m
        state[_BAND_DEN][b] = (max(n, m) - 1 if self.band is None else self.band) * (min(n, m) - 1)
        state[_SCALE][b] = scale
        state[_DIMS][b] = x.shape[1]

    def _restart(self, b):
        x, y = self._pairs[b][:2]
        self._ij[b] = 0
        self._length[b] = 1
        self._paths[0][self._paths[1][b]] = 0
        self._pending[b] = _cost(x[0], y[0], 0, 0, x.shape[1], int(self._meta[0]))
        self.path_costs[b] = 0.0
        self.done[b] = False
        self.replaced[b] = False
        s = self._state[_SCALE][b]
        self._factor[b] = 1.0 / s if self.reward_scale == "pair" else self.reward_scale

    @property
    def _walk(self):
        paths, pbase = self._paths
        return (self._ij, self._pending, self.path_costs, self._length, paths, pbase, self._factor, self.done)

    # ------------------------------------------------------------------- step
    def step(self, actions):
        """Move every unfinished alignment by one cell (see ``WarpingBatch.step``)."""
        if self.num == 0:
            raise RuntimeError("call reset(pairs) before step(actions)")
        a = np.asarray(actions)
        if a.shape != (self.num,) or a.dtype.kind not in "iu":
            raise ValueError(f"actions must be an int array of shape ({self.num},); got {a.dtype} {a.shape}")
        bad = np.flatnonzero((a < 0) | (a > 2))
        if bad.size:
            raise ValueError(
                f"actions must be 0 (diagonal), 1 (down) or 2 (right); got actions[{bad[0]}] = {a[bad[0]]}"
            )
        rewards = np.empty(self.num)
        self.replaced = np.zeros(self.num, dtype=bool)
        _njit_move(self._state, self._walk, self._meta, a.astype(np.int64), rewards, self.replaced)
        return rewards

    def _step_observe(self, actions, skip):
        """:meth:`step` then the observation of the alignments not in ``skip`` (see ``WarpingBatch._step_observe``)."""
        rewards = self.step(actions)
        obs = self._empty_observation(self.num)
        rows = np.flatnonzero(~skip).astype(np.int64)
        self._observe_into(obs, rows, rows, self._ij[rows])
        return rewards, obs

    # ------------------------------------------------------------ observation
    def observation(self):
        """The observation of every alignment (``envs.observation``'s corridor layout)."""
        if self.num == 0:
            raise RuntimeError("call reset(pairs) before observation()")
        obs = self._empty_observation(self.num)
        rows = np.arange(self.num)
        self._observe_into(obs, rows, rows, self._ij)
        return obs

    def observation_spec(self):
        """``{key: (shape, dtype, low, high)}`` of one alignment's observation."""
        return dict(self._spec)

    def _empty_observation(self, count):
        return {key: np.empty((count, *shape), dtype=dtype) for key, (shape, dtype, _, _) in self._spec.items()}

    def _observe_rows(self, obs, rows):
        self._observe_into(obs, rows, rows, self._ij[rows])

    def _observe_into(self, obs, outs, rows, cells, q_raw=None):
        q_raw = np.empty((0, 3)) if q_raw is None else q_raw
        args = (obs["window"], obs["position"], obs["action_mask"], obs["lookahead"], q_raw)
        _njit_observe(self._state, self._meta, np.asarray(outs, np.int64), np.asarray(rows, np.int64), cells, *args)

    def run_policy(self, policy, params, window=True):
        """Step every alignment to its end cell with a compiled policy (see ``WarpingBatch.run_policy``)."""
        if self.num == 0:
            raise RuntimeError("call reset(pairs) before run_policy()")
        obs = self._empty_observation(self.num)
        if not window:
            obs["window"] = np.empty((self.num, 0, 0), dtype=np.float32)
        self.replaced = np.zeros(self.num, dtype=bool)
        max_steps = int(self._state[_LENGTHS].sum(axis=1).max())
        keys = (obs["window"], obs["position"], obs["action_mask"], obs["lookahead"], self.replaced)
        scratch = _rollout_scratch(self.num)
        # The policy compiled on its own first (on no rows): inside _njit_rollout, compiled without reference
        # counts, numba would compile it without them too, and a policy that allocates (the MLP's features) fails.
        policy(
            *(key[:0] for key in (obs["window"], obs["position"], obs["lookahead"], obs["action_mask"])),
            params,
            scratch[0][:0],
        )
        if not _njit_rollout(policy, params, max_steps, self._state, self._walk, self._meta, *keys, scratch):
            raise RuntimeError("run_policy: an alignment did not reach its end cell within n + m steps")

    def observe_cells(self, rows, cells):
        """Observations at arbitrary cells and the raw corridor move values (see ``WarpingBatch.observe_cells``)."""
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        cells = np.ascontiguousarray(cells, dtype=np.int64).reshape(-1, 2)
        if len(rows) != len(cells) or (len(rows) and (rows.min() < 0 or rows.max() >= self.num)):
            raise ValueError("rows must index alignments and match cells in length")
        if len(rows) and (np.any(cells < 0) or np.any(cells >= self._state[_LENGTHS][rows])):
            raise ValueError("cells must lie inside their alignments' grids")
        obs = self._empty_observation(len(rows))
        values = np.full((len(rows), 3), np.inf)
        self._observe_into(obs, np.arange(len(rows)), rows, cells, values)
        return obs, values

    def move_values(self, rows, cells, row=0):
        """``G`` of the cells each move enters, inside the corridor (+inf outside it or illegal); ``row`` must be 0."""
        if row != 0:
            raise ValueError(f"row must be 0 under the corridor observation; got {row}")
        return self.observe_cells(rows, cells)[1]

    # ---------------------------------------------------------------- queries
    def expert_actions(self):
        """The expert move from every current cell: exact where affordable, else the corridor's.

        For a pair of at most :data:`EXACT_EXPERT_CELLS` cells, the move into the successor with the smallest exact
        cost-to-go (``dtwrl.exact_dtw.cost_to_go``, computed on first use and kept: 8 bytes per cell), as
        ``WarpingBatch.expert_actions``; for a longer pair, the lexicographic argmin of the ``"lookahead"`` rows
        (the corridor's optimal move inside it, the way back outside it). Ties: diagonal, down, right. 0 for
        finished alignments.
        """
        obs = self.observation()
        actions = lexicographic_argmin(obs["lookahead"], obs["action_mask"])
        lengths = self._state[_LENGTHS]
        for b in np.flatnonzero(~self.done & (lengths[:, 0] * lengths[:, 1] <= EXACT_EXPERT_CELLS)).tolist():
            if self._exact_ctg[b] is None:
                x, y = self._pairs[b][:2]
                self._exact_ctg[b] = cost_to_go(cost_matrix(x, y, self.metric), self.band)
            ctg, (i, j) = self._exact_ctg[b], self._ij[b]
            n, m = lengths[b]
            ahead = [ctg[i + di, j + dj] if i + di < n and j + dj < m else np.inf for di, dj in MOVES]
            actions[b] = int(np.argmin(ahead))
        return np.where(self.done, 0, actions)

    def dtw_costs(self, indices=None):
        """Exact DTW cost of each pair (``dtwrl.dtw``, computed on first request: O(n m) time, O(m) memory)."""
        idx = np.arange(self.num) if indices is None else np.asarray(indices, dtype=np.int64)
        for b in idx.tolist():
            if np.isnan(self._dtw[b]):
                x, y = self._pairs[b][:2]
                self._dtw[b] = dtw(x, y, self.metric, self.band)
        return self._dtw[idx].copy()

    def corridor(self, index):
        """The ``envs.corridor.Corridor`` of alignment ``index``."""
        return self._pairs[index][4]

    def paths(self, indices=None):
        """The cells visited so far, start cell included."""
        paths, pbase = self._paths
        idx = range(self.num) if indices is None else np.asarray(indices, dtype=np.int64).tolist()
        return [paths[pbase[b] : pbase[b] + self._length[b]].copy() for b in idx]

    def cost_matrix(self, index):
        """The local-cost matrix (n, m) of alignment ``index``: built on request, O(n m) (for rendering)."""
        x, y = self._pairs[index][:2]
        return cost_matrix(x, y, self.metric)

    def series(self, index):
        """The validated pair ``(x, y)`` of alignment ``index``."""
        return self._pairs[index][:2]

    @property
    def positions(self):
        """int64 (N, 2): the current cell of every alignment (a copy)."""
        return self._ij.copy()

    @property
    def lengths(self):
        """int64 (N, 2): (n, m) of every pair (a copy)."""
        return self._state[_LENGTHS].copy()

    @property
    def scales(self):
        """float64 (N,): each pair's scale (a copy)."""
        return self._state[_SCALE].copy()

    @property
    def reward_factors(self):
        """float64 (N,): the factor applied to ``-C`` in the rewards (a copy)."""
        return self._factor.copy()


def lexicographic_argmin(look, mask):
    """Per row, the legal move with the smallest ``look[:, 0]``, ties broken by ``look[:, 1]``, then move order.

    Parameters
    ----------
    look : numpy.ndarray, shape (N, L, 3)
    mask : numpy.ndarray of int, shape (N, 3)

    Returns
    -------
    numpy.ndarray of int64, shape (N,)

    >>> lexicographic_argmin(np.array([[[1.0, 1.0, 0.5], [0.0, 0.5, 0.0]]]), np.array([[1, 1, 0]]))
    array([0])
    """
    best = np.zeros(len(mask), dtype=np.int64)
    for r in range(len(mask)):
        keys = [(tuple(look[r, :, a]), a) for a in range(3) if mask[r, a]]
        best[r] = min(keys)[1] if keys else 0
    return best
