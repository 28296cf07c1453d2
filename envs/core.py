"""``WarpingBatch``: the NumPy state of N warping-path alignments stepped at once.

The single environment, the vector environment and ``agents.PolicyAligner``
all step through this class, so the observation has exactly one
implementation.

Grid and moves
--------------
Pair ``b`` aligns ``x`` (n rows, index ``i``) with ``y`` (m columns, index
``j``). An alignment starts in cell (0, 0) and ends in (n-1, m-1). Action 0
(``DIAGONAL``) enters (i+1, j+1), 1 (``DOWN``) enters (i+1, j), 2 (``RIGHT``)
enters (i, j+1). A move is legal iff the cell it enters lies in the grid and
in the Sakoe-Chiba band (``dtwrl.bands``). Every legal move keeps the end cell
reachable, because the band's rows are monotone and connected.

Memory layout
-------------
At reset each pair's local costs are computed once (numba, with
``dtwrl.cost_matrix``'s own row kernel) into two padded slabs of shape ``(N, rows,
cols)``, ``rows >= n_max + k - 1`` and ``cols >= m_max + k - 1`` (``k`` the
window, at least one row and column of padding): the exact float64 costs and
an int8 flag "cell is enterable" (in the grid and the band). The same pass
computes the pair's scale and its exact DTW cost (bitwise the value
``dtwrl.dtw`` returns) and pools the costs for the lookahead's terminal values
(``envs.terminal``). The slabs lie on transparent huge pages where the system
offers them (``envs.hugepages``): steps read them at scattered cells. The
compiled kernels (``envs.kernels``: load, step, observe, roll a policy out)
take all of this as one tuple, the fields of an ``envs.kernels.BatchState``,
whose module docstring lays the arrays out; the batch rebuilds it when its
layout changes. Memory:
``(9 + 4 L) * N * rows * cols`` bytes (0.6 MB per alignment at n = m = 256 without lookahead, L its rows),
8 more per cell once
:meth:`WarpingBatch.expert_actions` has been called (the cost-to-go slab).
"""

import numbers

import numpy as np

from dtwrl.bands import check_band
from dtwrl.exact_dtw import cost_to_go
from dtwrl.local_cost import _metric_code
from dtwrl.memory import check_fits
from dtwrl.validation import check_metric

from .hugepages import zeros
from .kernels import MOVES, BatchState, njit_load, njit_move, njit_observe, njit_step, njit_step_observe, run_loop
from .observation import (
    DEFAULT_LOOKAHEAD,
    POSITION_FEATURES,
    POSITION_HIGH,
    POSITION_LOW,
    WINDOW_PAD,
    _njit_lookahead_q2,
    check_lookahead,
    is_corridor,
    lookahead_arrays,
    observation_spec,
)
from .packing import check_pair_scale, pack_pairs
from .terminal import njit_terminal_values

__all__ = [
    "DIAGONAL",
    "DOWN",
    "RIGHT",
    "MOVES",
    "POSITION_FEATURES",
    "POSITION_HIGH",
    "POSITION_LOW",
    "WINDOW_PAD",
    "WarpingBatch",
]

#: Action ids.
DIAGONAL, DOWN, RIGHT = 0, 1, 2


def _check_window(window):
    if isinstance(window, (bool, np.bool_)) or not isinstance(window, numbers.Integral):
        raise TypeError(f"window must be an int >= 1; got {window!r}")
    if window < 1:
        raise ValueError(f"window must be an int >= 1; got {window}")
    return int(window)


def check_reward_scale(reward_scale):
    """``reward_scale`` as a batch keeps it: ``"pair"`` or a float > 0 (``TypeError``/``ValueError`` naming it)."""
    if isinstance(reward_scale, str):
        if reward_scale != "pair":
            raise ValueError(f"reward_scale must be a positive number or 'pair'; got {reward_scale!r}")
        return reward_scale
    if isinstance(reward_scale, (bool, np.bool_)) or not isinstance(reward_scale, numbers.Real):
        raise TypeError(f"reward_scale must be a positive number or 'pair'; got {reward_scale!r}")
    value = float(reward_scale)
    if not np.isfinite(value) or value <= 0.0:
        raise ValueError(f"reward_scale must be a finite number > 0 or 'pair'; got {value}")
    return value


class WarpingBatch:
    """N warping-path alignments, stepped at once.

    Parameters
    ----------
    window : int >= 1
        Side ``k`` of the observed window of local costs.
    metric : {"sqeuclidean", "euclidean", "abs"}
        Local cost between frames (see ``dtwrl.cost_matrix``).
    band : int >= 0 or None
        Sakoe-Chiba half-width (see ``dtwrl.bands``); moves leaving it are masked.
    reward_scale : float > 0 or "pair"
        Rewards are ``-reward_scale * c`` for a float, ``-c / s`` for ``"pair"``
        (``s`` the pair's scale, see Notes; a reset refuses, naming it, a pair
        whose scale is below ``envs.packing.SMALLEST_PAIR_SCALE``: ``1 / s``
        would overflow). :attr:`path_costs` is unscaled.
    lookahead : sequence of (int, int)
        ``(scale, depth)`` rows of the ``"lookahead"`` observation key
        (``envs.observation``); () leaves the key out (the window-only observation).
        ``((CORRIDOR, r),)`` (``envs.observation.corridor_lookahead``) selects the
        linear corridor observation: the constructor then returns an
        ``envs.corridor_batch.CorridorBatch``, with the same methods, that never
        builds an n x m array.

    Attributes
    ----------
    num : int
        Number of alignments N (set by :meth:`reset`).
    done : numpy.ndarray of bool, shape (N,)
        True once an alignment has entered its end cell.
    path_costs : numpy.ndarray of float64, shape (N,)
        Exact cost of each path so far (start cell included after the first step).
    replaced : numpy.ndarray of bool, shape (N,)
        Which actions of the last :meth:`step` were illegal and replaced.

    Notes
    -----
    Observation, per alignment at cell (i, j) of an n-by-m grid:

    - ``"window"`` float32 (k, k): ``window[a, b]`` describes cell
      ``(i + a, j + b)``, so rows run along x (down) and columns along y
      (right); ``window[0, 0]`` is the current cell, ``window[1, 1]``,
      ``window[1, 0]`` and ``window[0, 1]`` are the cells actions 0, 1, 2
      enter. The value is ``c / (c + s)`` in [0, 1), with ``c`` the local
      cost and ``s`` the pair's scale: the mean local cost over the band's
      cells (1 if that mean is 0). This is invariant to the scale of the data,
      bounded, and resolves costs near the typical cost best. Cells beyond the
      grid or outside the band read ``WINDOW_PAD = 1.0``, the value of an
      infinitely expensive cell.
    - ``"position"`` float32 (6,), see ``POSITION_FEATURES``:
      ``row_progress = i / (n-1)`` and ``col_progress = j / (m-1)`` (1 when
      the length is 1); ``diagonal_offset = col_progress - row_progress`` in
      [-1, 1], positive right of the scaled diagonal;
      ``band_offset = (j (n-1) - i (m-1)) / (r min(n-1, m-1))`` in [-1, 1],
      where the band edges are -1 and 1 (``r = max(n, m) - 1``, the band that
      allows every cell, when ``band`` is None; 0 when the denominator is 0);
      ``remaining = ((n-1-i) + (m-1-j)) / (n + m - 2)``, the fraction of the
      unit moves left; ``row_share = (n-1-i) / ((n-1-i) + (m-1-j))``, the
      share of them that must go down (0.5 at the end cell).
    - ``"lookahead"`` float32 (L, 3), when ``lookahead`` is not empty: per move,
      the scale-free model-predictive estimate of ``envs.observation`` (0 for the
      move whose best completion is estimated cheapest). The coarse cost-to-go
      it reads is computed at reset (O(n m)).
    - ``"action_mask"`` int8 (3,): 1 where the action's cell is enterable; all
      0 at the end cell.

    Reward for entering cell (i, j) is ``-C[i, j]`` (scaled, see
    ``reward_scale``); the first step also pays for the start cell, so the
    undiscounted return is minus the path cost exactly.

    Examples
    --------
    >>> batch = WarpingBatch(window=3, lookahead=())
    >>> batch.reset([([0.0, 1.0, 2.0], [0.0, 2.0]), ([0.0, 1.0], [1.0, 1.0, 0.0])])
    >>> obs = batch.observation()
    >>> obs["window"].shape, obs["position"].shape, obs["action_mask"].tolist()
    ((2, 3, 3), (2, 6), [[1, 1, 1], [1, 1, 1]])
    >>> batch.step([DOWN, RIGHT]).tolist()     # enter (1, 0) and (0, 1); start cells paid too
    [-1.0, -2.0]
    >>> while not batch.done.all():
    ...     _ = batch.step(batch.expert_actions())
    >>> batch.path_costs.tolist(), batch.dtw_costs().tolist()   # the detour cost 1 more on pair 2
    ([1.0, 3.0], [1.0, 2.0])
    """

    def __new__(cls, window=7, metric="sqeuclidean", band=None, reward_scale=1.0, lookahead=DEFAULT_LOOKAHEAD):
        """A ``envs.corridor_batch.CorridorBatch`` when ``lookahead`` selects the corridor observation."""
        if cls is WarpingBatch and is_corridor(check_lookahead(lookahead)):
            from .corridor_batch import CorridorBatch

            return CorridorBatch(
                window=window, metric=metric, band=band, reward_scale=reward_scale, lookahead=lookahead
            )
        return super().__new__(cls)

    def __init__(self, window=7, metric="sqeuclidean", band=None, reward_scale=1.0, lookahead=DEFAULT_LOOKAHEAD):
        self.window = _check_window(window)
        self.lookahead = check_lookahead(lookahead)
        self._spec = observation_spec(self.window, self.lookahead)  # built once: every step allocates from it
        self._scales, self._depths = lookahead_arrays(self.lookahead)
        self._no_lookahead = np.empty((0, 0, 3), dtype=np.float32)  # the kernels' "lookahead" without one
        self.metric = check_metric(metric)
        self.band = check_band(1, 1, band)  # type and sign; the size check happens per pair
        self.reward_scale = check_reward_scale(reward_scale)
        self._code = _metric_code(self.metric)
        self.num = 0
        self._rows = self._cols = 0

    # ------------------------------------------------------------------ reset
    def reset(self, pairs, indices=None):
        """Start new alignments.

        Parameters
        ----------
        pairs : list of (x, y)
            Series of shapes (n,) or (n, d) and (m,) or (m, d), same d.
        indices : array_like of int or None
            None: the batch becomes ``len(pairs)`` fresh alignments. Otherwise
            the distinct alignments ``indices`` restart with ``pairs`` (same
            length) and the others keep their state.

        Raises
        ------
        ValueError
            Bad series (wrong rank, empty, NaN or inf, different d), a pair of
            two length-1 series, a band too narrow for a pair, bad indices.
        """
        packed = pack_pairs(pairs, self.band)
        count = len(packed.series)
        pad = max(self.window - 1, 1)
        # (Python ints: a vector step resets one or two pairs, for which two array reductions cost ~3 us more)
        rows = max(len(x) for x, _ in packed.series) + pad
        cols = max(len(y) for _, y in packed.series) + pad
        if indices is None:
            if count == self.num:
                rows, cols = max(rows, self._rows), max(cols, self._cols)
            self._allocate(count, rows, cols)
            indices = np.arange(count)
        else:
            indices = self._check_indices(indices, count)
            if rows > self._rows or cols > self._cols:
                self._grow(max(rows, self._rows), max(cols, self._cols))
        self._load(packed, indices)

    def _check_indices(self, indices, count):
        if self.num == 0:
            raise ValueError("indices can only be given after a first reset(pairs) of the whole batch")
        idx = np.asarray(indices)
        if idx.dtype.kind not in "iu" or idx.ndim != 1:
            raise ValueError(f"indices must be a 1-D array of ints; got {idx!r}")
        idx = idx.tolist()
        if len(idx) != count:
            raise ValueError(f"indices must have one entry per pair: got {len(idx)} indices for {count} pairs")
        if min(idx) < 0 or max(idx) >= self.num or len(set(idx)) != len(idx):
            raise ValueError(f"indices must be distinct and lie in [0, {self.num}); got {idx}")
        return np.array(idx, dtype=np.int64)

    def _check_fits(self, num, rows, cols):
        """``ValueError`` naming ``pairs`` when the slabs of ``num`` alignments of ``rows`` x ``cols`` cells would
        not fit in the memory available: this observation holds every alignment's whole grid (costs, flags and
        terminal values, 9 + 4 L bytes a cell), so a long pair belongs on the corridor observation. Before, such a
        reset raised ``OSError: Cannot allocate memory``, or the system killed the process."""
        check_fits(
            num * rows * cols * (9 + 4 * len(self._depths)) + num * (rows + cols) * 16,
            "pairs",
            f"this observation holds each alignment's whole grid: {num} alignment(s) of up to {rows} x {cols} cells",
            "for long pairs pass lookahead=envs.observation.corridor_lookahead() (O((n + m) r) memory), or use fewer "
            "environments",
        )

    def _allocate(self, num, rows, cols):
        """Fresh state for ``num`` alignments; the slabs are reused when their shape is unchanged."""
        if (num, rows, cols) != (self.num, self._rows, self._cols):
            self._check_fits(num, rows, cols)
            self._raw = zeros((num, rows, cols))
            self._allowed = zeros((num, rows, cols), np.int8)
            self._paths = np.zeros((num, rows + cols, 2), dtype=np.int64)
            self._terminal = zeros((len(self._depths), num, rows, cols), np.float32)
        self.num, self._rows, self._cols = num, rows, cols
        self._series = [None] * num
        self._ctg = None
        self._ctg_ready = np.zeros(num, dtype=bool)
        self._dtw = np.zeros(num)
        self._scale = np.ones(num)
        self._factor = np.ones(num)
        self._lengths = np.ones((num, 2), dtype=np.int64)  # (n, m)
        self._band_den = np.zeros(num, dtype=np.int64)
        self._ij = np.zeros((num, 2), dtype=np.int64)
        self._end = np.zeros(num, dtype=np.int64)
        self._pending = np.zeros(num)
        self._length = np.ones(num, dtype=np.int64)
        self.path_costs = np.zeros(num)
        self.done = np.zeros(num, dtype=bool)
        self.replaced = np.zeros(num, dtype=bool)
        self._flatten()

    def _grow(self, rows, cols):
        """Enlarge the slabs, keeping every alignment's state."""
        self._check_fits(self.num, rows, cols)
        old_rows, old_cols = self._rows, self._cols
        raw, allowed, paths = self._raw, self._allowed, self._paths
        self._raw = zeros((self.num, rows, cols))
        self._allowed = zeros((self.num, rows, cols), np.int8)
        self._paths = np.zeros((self.num, rows + cols, 2), dtype=np.int64)
        self._raw[:, :old_rows, :old_cols] = raw
        self._allowed[:, :old_rows, :old_cols] = allowed
        self._paths[:, : old_rows + old_cols] = paths
        self._terminal = zeros((len(self._depths), self.num, rows, cols), np.float32)
        self._rows, self._cols = rows, cols
        for b in range(self.num):
            if self._series[b] is not None:
                self._load_terminal(b)
        self._ctg = None
        self._ctg_ready[:] = False
        self._flatten()

    def _load_terminal(self, b):
        """Fill alignment ``b``'s terminal values ``H`` of every lookahead row (envs.observation)."""
        n, m = self._lengths[b]
        njit_terminal_values(
            self._raw[b], self._allowed[b], n, m, self._scales, self.band is not None, self._terminal, b
        )

    def _flatten(self):
        """After the layout changed: flat views of the slabs, the flat current and end cells, the kernels' state.

        The state is the plain tuple of a ``BatchState``'s fields (``envs.kernels``: numba types it faster).
        """
        self._flat_raw = self._raw.reshape(-1)
        self._flat_terminal = self._terminal.reshape(len(self._depths), self.num * self._rows * self._cols)
        self._flat_allowed = self._allowed.reshape(-1)
        self._base = np.arange(self.num, dtype=np.int64) * (self._rows * self._cols)
        self._pos = self._base + self._ij[:, 0] * self._cols + self._ij[:, 1]
        self._end = self._base + (self._lengths[:, 0] - 1) * self._cols + self._lengths[:, 1] - 1
        self._state = tuple(
            BatchState(
                raw=self._flat_raw,
                allowed=self._flat_allowed,
                terminal=self._flat_terminal,
                base=self._base,
                pos=self._pos,
                end=self._end,
                ij=self._ij,
                lengths=self._lengths,
                paths=self._paths,
                length=self._length,
                pending=self._pending,
                path_costs=self.path_costs,
                done=self.done,
                scale=self._scale,
                factor=self._factor,
                dtw_cost=self._dtw,
                band_den=self._band_den,
                depths=self._depths,
                scales=self._scales,
                rows=self._rows,
                cols=self._cols,
                banded=self.band is not None,
            )
        )

    def _load(self, packed, indices):
        """Start the alignments ``indices`` (int64) on the ``envs.packing.pack_pairs`` pairs, in one kernel call."""
        pair_scaled = self.reward_scale == "pair"
        bad = njit_load(
            self._state,
            indices,
            packed.meta,
            packed.xs,
            packed.ys,
            packed.lo,
            packed.hi,
            packed.same,
            self._code,
            -1 if self.band is None else self.band,
            pair_scaled,
            1.0 if pair_scaled else self.reward_scale,
            self.replaced,
        )
        loaded = len(packed.series) if bad < 0 else bad
        for b, pair in zip(indices[:loaded].tolist(), packed.series):
            self._series[b] = pair
        self._ctg_ready[indices[:loaded]] = False
        if bad >= 0:
            check_pair_scale(float(self._scale[indices[bad]]), self.reward_scale, bad)

    # ------------------------------------------------------------------- step
    def step(self, actions):
        """Move every unfinished alignment by one cell.

        Parameters
        ----------
        actions : array_like of int, shape (N,)
            0 diagonal, 1 down, 2 right. An illegal action is replaced by the
            legal move closest in direction (diagonal, down, right for 0; down,
            diagonal, right for 1; right, diagonal, down for 2) and flagged in
            :attr:`replaced`; finished alignments ignore theirs.

        Returns
        -------
        numpy.ndarray of float64, shape (N,)
            ``-C[cell entered]`` (plus ``-C[0, 0]`` on an alignment's first
            step) times the reward factor; 0 for finished alignments.
        """
        if self.num == 0:
            raise RuntimeError("call reset(pairs) before step(actions)")
        a = self._checked_actions(actions)
        rewards = np.empty(self.num)
        self.replaced = np.zeros(self.num, dtype=bool)
        bad = njit_step(self._state, a, rewards, self.replaced)
        if bad >= 0:
            raise ValueError(f"actions must be 0 (diagonal), 1 (down) or 2 (right); got actions[{bad}] = {a[bad]}")
        return rewards

    def _checked_actions(self, actions):
        a = np.asarray(actions)
        if a.shape != (self.num,) or a.dtype.kind not in "iu":
            raise ValueError(f"actions must be an int array of shape ({self.num},); got {a.dtype} {a.shape}")
        return a.astype(np.int64, copy=False)

    def _step_observe(self, actions, skip):
        """:meth:`step` then :meth:`observation`, in one kernel call (one pass over the alignments).

        Parameters
        ----------
        actions : array_like of int, shape (N,)
        skip : numpy.ndarray of bool, shape (N,)
            Alignments whose observation rows are left unwritten (uninitialised):
            the caller is about to reset them and fills their rows with
            :meth:`_observe_rows` afterwards.

        Returns
        -------
        rewards : numpy.ndarray of float64, shape (N,)
        observation : dict of fresh arrays, as :meth:`observation`
        """
        if self.num == 0:
            raise RuntimeError("call reset(pairs) before step(actions)")
        a = self._checked_actions(actions)
        rewards = np.empty(self.num)
        self.replaced = np.zeros(self.num, dtype=bool)
        obs = self._empty_observation()
        bad = njit_step_observe(
            self._state, a, rewards, self.replaced, skip.view(np.uint8), *self._observation_arrays(obs)
        )
        if bad >= 0:
            raise ValueError(f"actions must be 0 (diagonal), 1 (down) or 2 (right); got actions[{bad}] = {a[bad]}")
        return rewards, obs

    # ------------------------------------------------------------ observation
    def observation(self):
        """The observation of every alignment (see the class Notes for the layout).

        Returns
        -------
        dict
            ``"window"`` float32 (N, k, k), ``"position"`` float32 (N, 6),
            ``"lookahead"`` float32 (N, L, 3) when L > 0, ``"action_mask"``
            int8 (N, 3); fresh arrays.
        """
        if self.num == 0:
            raise RuntimeError("call reset(pairs) before observation()")
        obs = self._empty_observation()
        rows = np.arange(self.num)
        self._observe_into(obs, rows, rows, self._ij)
        return obs

    def observation_spec(self):
        """``{key: (shape, dtype, low, high)}`` of one alignment's observation (``envs.observation``)."""
        return dict(self._spec)

    def _empty_observation(self):
        return {key: np.empty((self.num, *shape), dtype=dtype) for key, (shape, dtype, _, _) in self._spec.items()}

    def _observation_arrays(self, obs):
        """The kernels' observation outputs: window, position, action mask, lookahead ((N, 0, 3) without one)."""
        look = obs.get("lookahead")
        if look is None:
            look = np.empty((self.num, 0, 3), dtype=np.float32)
        return obs["window"], obs["position"], obs["action_mask"], look

    def run_policy(self, policy, params, window=True):
        """Step every alignment to its end cell with a compiled policy, in one compiled loop (no Python per step).

        Parameters
        ----------
        policy : numba-compiled function
            ``policy(window, position, lookahead, action_mask, params, actions)``
            reads the batch's observation arrays (``lookahead`` is (N, 0, 3)
            without a lookahead; finished alignments have an all-0 mask) and
            writes one action per alignment into ``actions`` (int64 (N,)).
            An illegal action is replaced as in :meth:`step`; one outside 0..2 becomes 0.
        params : tuple
            Passed to ``policy`` unchanged (e.g. its weights).
        window : bool
            False promises that ``policy`` never reads ``window``: it then gets an (N, 0, 0) array, and no step
            computes the k x k window (under the corridor observation, k^2 local costs per step: most of a step).

        Raises
        ------
        RuntimeError
            If an alignment is not done after n + m steps (cannot happen with legal moves).
        """
        if self.num == 0:
            raise RuntimeError("call reset(pairs) before run_policy()")
        obs = self._empty_observation()
        if not window:
            obs["window"] = np.empty((self.num, 0, 0), dtype=np.float32)
        self.replaced = np.zeros(self.num, dtype=bool)
        max_steps = int(self._lengths.sum(axis=1).max())
        ok = run_loop(
            policy,
            params,
            max_steps,
            njit_observe,
            njit_move,
            self._state,
            self._ij,
            self.done,
            *self._observation_arrays(obs),
            self.replaced,
        )
        if not ok:
            raise RuntimeError("run_policy: an alignment did not reach its end cell within n + m steps")

    def observe_cells(self, rows, cells):
        """Observations of alignments at arbitrary cells of their grids (for search).

        Also the first lookahead row's raw values.

        Parameters
        ----------
        rows : array_like of int, shape (T,)
            Alignment of each query.
        cells : array_like of int, shape (T, 2)
            Cell (i, j) of each query, inside that alignment's grid.

        Returns
        -------
        observation : dict
            As :meth:`observation`, one row per query.
        values : numpy.ndarray of float64, shape (T, 3)
            :meth:`move_values` of lookahead row 0 (all +inf without a lookahead).
        """
        if self.num == 0:
            raise RuntimeError("call reset(pairs) before observe_cells()")
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        cells = np.ascontiguousarray(cells, dtype=np.int64).reshape(-1, 2)
        if len(rows) != len(cells) or (len(rows) and (rows.min() < 0 or rows.max() >= self.num)):
            raise ValueError("rows must index alignments and match cells in length")
        if len(rows) and (np.any(cells < 0) or np.any(cells >= self._lengths[rows])):
            raise ValueError("cells must lie inside their alignments' grids")
        obs = {key: np.empty((len(rows), *shape), dtype=dtype) for key, (shape, dtype, _, _) in self._spec.items()}
        values = np.full((len(rows), 3), np.inf)
        self._observe_into(obs, np.arange(len(rows)), rows, cells, values)
        return obs, values

    def move_values(self, rows, cells, row=0):
        """Lookahead move values in raw cost units at arbitrary cells (for search).

        Parameters
        ----------
        rows : array_like of int, shape (T,)
            Alignment of each query.
        cells : array_like of int, shape (T, 2)
            Cell (i, j) of each query, inside that alignment's grid.
        row : int
            Which ``lookahead`` row (scale, depth) to use.

        Returns
        -------
        numpy.ndarray of float64, shape (T, 3)
            ``Q[t, a]``: the estimated cost of the best path from ``cells[t]``
            that enters the cell of move ``a`` (that cell's cost included, the
            current cell's not); +inf for illegal moves.
        """
        if not self.lookahead:
            raise ValueError("move_values needs a batch built with a non-empty lookahead")
        if not 0 <= row < len(self.lookahead):
            raise ValueError(f"row must lie in [0, {len(self.lookahead)}); got {row}")
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        cells = np.ascontiguousarray(cells, dtype=np.int64).reshape(-1, 2)
        out = np.empty((len(rows), 3))
        terminal = self._flat_terminal[row]
        depth = int(self._depths[row])
        args = (self._flat_raw, self._flat_allowed, terminal, terminal, self._base, self._lengths, self._cols)
        _njit_lookahead_q2(*args, rows, cells, depth, self.band is not None, out, np.empty((len(rows), 3)))
        return out

    def _observe_rows(self, obs, rows):
        """Write the observation of the alignments ``rows`` (int64 array) into those rows of ``obs``."""
        self._observe_into(obs, rows, rows, self._ij[rows])

    def _observe_into(self, obs, outs, rows, cells, q_first=None):
        """Write into row ``outs[t]`` of ``obs`` the observation of alignment ``rows[t]`` at ``cells[t]`` (int64);
        ``q_first[t]``, if given, receives the raw move values of the first lookahead row."""
        njit_observe(
            self._state,
            outs,
            rows,
            cells,
            obs["window"],
            obs["position"],
            obs["action_mask"],
            obs.get("lookahead", self._no_lookahead),
            np.empty((0, 3)) if q_first is None else q_first,
        )

    # ---------------------------------------------------------------- queries
    def expert_actions(self):
        """The optimal move from every current cell, on the optimal path or off it.

        The move enters the successor with the smallest cost-to-go
        ``G = dtwrl.exact_dtw.cost_to_go(C, band)`` (ties prefer diagonal, then
        down), so following it from any cell completes the cheapest path from
        that cell. ``G`` is computed once per pair, on first use.

        Returns
        -------
        numpy.ndarray of int64, shape (N,)
            0 for finished alignments.
        """
        if self.num == 0:
            raise RuntimeError("call reset(pairs) before expert_actions()")
        missing = np.flatnonzero(~self._ctg_ready)
        if missing.size:
            if self._ctg is None:
                self._ctg = np.full(self._raw.shape, np.inf)
            for b in missing.tolist():
                n, m = self._lengths[b]
                self._ctg[b] = np.inf  # clear what a longer previous pair left beyond this grid
                self._ctg[b, :n, :m] = cost_to_go(self._raw[b, :n, :m], self.band)
            self._ctg_ready[missing] = True
        offsets = MOVES[:, 0] * self._cols + MOVES[:, 1]
        ahead = self._ctg.reshape(-1)[self._pos[:, None] + offsets]
        return np.where(self.done, 0, np.argmin(ahead, axis=1))

    def dtw_costs(self, indices=None):
        """Exact DTW cost of each pair under the batch's metric and band (computed at reset).

        Parameters
        ----------
        indices : array_like of int or None
            Which alignments; None for all.

        Returns
        -------
        numpy.ndarray of float64
        """
        return self._dtw.copy() if indices is None else self._dtw[np.asarray(indices, dtype=np.int64)]

    def paths(self, indices=None):
        """The cells visited so far, start cell included.

        Parameters
        ----------
        indices : array_like of int or None
            Which alignments; None for all.

        Returns
        -------
        list of numpy.ndarray of int64, shape (L, 2)
        """
        idx = range(self.num) if indices is None else np.asarray(indices, dtype=np.int64).tolist()
        return [self._paths[b, : self._length[b]].copy() for b in idx]

    def cost_matrix(self, index):
        """The exact local-cost matrix (n, m) of alignment ``index`` (a copy)."""
        n, m = self._lengths[index]
        return self._raw[index, :n, :m].copy()

    def series(self, index):
        """The validated pair ``(x, y)``, shapes (n, d) and (m, d), of alignment ``index``."""
        return self._series[index]

    @property
    def positions(self):
        """int64 (N, 2): the current cell (i, j) of every alignment (a copy)."""
        return self._ij.copy()

    @property
    def lengths(self):
        """int64 (N, 2): (n, m) of every pair (a copy)."""
        return self._lengths.copy()

    @property
    def scales(self):
        """float64 (N,): each pair's scale ``s``, the mean local cost over its band cells (a copy)."""
        return self._scale.copy()

    @property
    def reward_factors(self):
        """float64 (N,): the factor applied to ``-C`` in the rewards (a copy)."""
        return self._factor.copy()
