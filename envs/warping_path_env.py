"""``WarpingPathEnv``: build a DTW warping path one cell at a time (a ``gymnasium.Env``)."""

import numbers

import gymnasium
import numpy as np
from gymnasium import spaces

from dtwrl.datasets import SyntheticPairs, as_pair_source
from dtwrl.exact_dtw import cost_ratio
from dtwrl.oracle import fastdtw_path
from dtwrl.validation import check_radius

from .core import WarpingBatch
from .observation import DEFAULT_LOOKAHEAD, observation_spec
from .rendering import draw_batch_alignment


def observation_space(window, lookahead=DEFAULT_LOOKAHEAD):
    """The ``spaces.Dict`` observation space of one alignment (``envs.observation.observation_spec``).

    Parameters
    ----------
    window, lookahead
        As in :func:`~envs.observation.observation_spec`.

    Returns
    -------
    gymnasium.spaces.Dict
        ``"window"`` Box [0, 1] float32 (k, k), ``"position"`` Box float32
        (6,), ``"lookahead"`` Box [0, 1] float32 (L, 3) when L > 0,
        ``"action_mask"`` MultiBinary(3) (int8).

    Examples
    --------
    >>> observation_space(5)["window"].shape, observation_space(5)["lookahead"].shape
    ((5, 5), (2, 3))
    """
    out = {}
    for key, (shape, dtype, low, high) in observation_spec(window, lookahead).items():
        if key == "action_mask":
            out[key] = spaces.MultiBinary(3)
        elif np.ndim(low):
            out[key] = spaces.Box(low, high, dtype=dtype)
        else:
            out[key] = spaces.Box(low, high, shape=shape, dtype=dtype)
    return spaces.Dict(out)


def _check_flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def _configure(env, pairs, window, metric, band, reward_scale, lookahead, compute_fastdtw, fastdtw_radius, render_mode):
    """Check and set what both envs hold: the pair source, the ``WarpingBatch``, the FastDTW infos, the render mode."""
    env.pairs = SyntheticPairs() if pairs is None else as_pair_source(pairs)
    env.batch = WarpingBatch(window=window, metric=metric, band=band, reward_scale=reward_scale, lookahead=lookahead)
    env.compute_fastdtw = _check_flag(compute_fastdtw, "compute_fastdtw")
    env.fastdtw_radius = check_radius(fastdtw_radius, "fastdtw_radius")
    if render_mode is not None and render_mode not in env.metadata["render_modes"]:
        raise ValueError(f"render_mode must be None or 'rgb_array'; got {render_mode!r}")
    env.render_mode = render_mode


class WarpingPathEnv(gymnasium.Env):
    """Build the warping path between two series, one cell at a time.

    ## Description

    An episode aligns one pair (x, y) drawn from a pair source: x has n frames
    (rows, index i), y has m frames (columns, index j). The agent starts in
    cell (0, 0) of the n-by-m grid of local costs ``C[i, j]`` (``metric``) and
    moves down, right or diagonally until it reaches (n-1, m-1). The cells it
    visits form a warping path; its cost, the sum of their local costs, is at
    least the exact DTW cost, with equality for an optimal path. An optional
    Sakoe-Chiba ``band`` restricts the cells. All state lives in a one-pair
    ``envs.core.WarpingBatch``, shared with the vector environment.

    ## Action Space

    ``Discrete(3)``:

    | action | move | cell entered |
    |---|---|---|
    | 0 | diagonal | (i+1, j+1) |
    | 1 | down | (i+1, j) |
    | 2 | right | (i, j+1) |

    A move that would leave the grid or the band is masked (see
    ``action_mask``). A masked action passed to ``step`` anyway is replaced by
    the legal move closest in direction (diagonal -> down -> right for 0,
    down -> diagonal -> right for 1, right -> diagonal -> down for 2), and
    ``info["action_replaced"]`` is True.

    ## Observation Space

    ``Dict`` with three keys:

    - ``"window"``: Box(0, 1, (k, k), float32). ``window[a, b]`` describes
      cell (i+a, j+b) (rows along x, columns along y): ``c / (c + s)``, with c
      its local cost and s the pair's mean local cost over the band; 1.0
      beyond the grid or outside the band.
    - ``"position"``: Box(float32, (6,)). ``row_progress`` i/(n-1),
      ``col_progress`` j/(m-1), ``diagonal_offset`` (their difference),
      ``band_offset`` (-1 and 1 are the band's edges), ``remaining`` (the
      fraction of unit moves left) and ``row_share`` (the share of those that
      go down).
    - ``"action_mask"``: MultiBinary(3), int8. 1 where the move is legal; all
      0 at the end cell.

    The window is scale-free and bounded, so one network works across
    datasets; the position features tell where the end cell and the band lie,
    which the window cannot show. ``envs.core.WarpingBatch`` documents each
    value exactly.

    ## Rewards

    ``-C[cell entered]``; the first step also pays ``-C[0, 0]``. The
    undiscounted return is therefore exactly minus the path cost. With
    ``reward_scale`` the rewards are multiplied by a constant (or divided by
    the pair's scale s for ``"pair"``); ``info["return_unscaled"]`` and
    ``info["path_cost"]`` stay exact.

    ## Starting State

    Cell (0, 0) of a pair drawn from ``pairs`` with ``self.np_random``, or of
    ``options["pair"]`` passed to ``reset``.

    ## Episode End

    Terminated when the agent enters (n-1, m-1), after between max(n, m) - 1
    and n + m - 2 steps. There is no truncation and no time limit is needed.
    The final ``info`` adds ``path`` (int64 (L, 2)), ``path_cost``,
    ``dtw_cost`` (exact, same band), ``cost_ratio = path_cost / dtw_cost``,
    and with ``compute_fastdtw=True`` ``fastdtw_cost`` and ``fastdtw_ratio``;
    with ``exact_info=False``, neither ``dtw_cost`` nor the ratios.
    Every ``info`` holds ``action_mask``; step infos also ``action_replaced``
    and ``return_unscaled`` (minus the path cost so far).

    ## Arguments

    ```python
    import gymnasium as gym
    import envs
    env = gym.make("dtwrl/SyntheticWarp-v0", window=7, band=None, render_mode="rgb_array")
    ```

    - ``pairs``: a pair source or anything ``dtwrl.datasets.as_pair_source``
      accepts (arrays of series, a list of (x, y), a UCR/UEA file or name, a
      callable ``rng -> (x, y)``); default ``SyntheticPairs()``.
    - ``window``: side k of the window, >= 1 (default 7).
    - ``metric``: ``"sqeuclidean"`` (default), ``"euclidean"`` or ``"abs"``.
    - ``band``: Sakoe-Chiba half-width (int >= 0) or None.
    - ``reward_scale``: float > 0 or ``"pair"`` (default 1.0).
    - ``lookahead``: ``(scale, depth)`` rows of the ``"lookahead"`` key
      (``envs.observation``); () for the window-only observation;
      ``envs.observation.corridor_lookahead(r)`` for the linear corridor
      observation (pairs of any length in O((n + m) r) memory; the final
      info's exact DTW cost then costs O(n m) time, O(m) memory).
    - ``compute_fastdtw``: add FastDTW's cost to the final info (slow).
    - ``fastdtw_radius``: FastDTW's radius (default 1).
    - ``exact_info``: put the exact DTW cost and the cost ratios in the final
      info (default True). It costs O(n m) time at each episode's end: about
      1 s at n = m = 20,000 (25 s at 100,000), four times what the episode's
      own steps cost there on the corridor observation
      (``results/tables/env_exact_info_long_pairs.md``). False leaves them
      out, for training on long pairs.
    - ``render_mode``: None or ``"rgb_array"``.

    Examples
    --------
    >>> env = WarpingPathEnv(pairs=[([0.0, 1.0, 2.0], [0.0, 2.0])], window=3)
    >>> obs, info = env.reset(seed=0)
    >>> obs["action_mask"].tolist()
    [1, 1, 1]
    >>> _, reward, terminated, _, info = env.step(1)
    >>> reward, terminated
    (-1.0, False)
    >>> _, reward, terminated, _, info = env.step(0)
    >>> reward, terminated, info["path_cost"], info["dtw_cost"]
    (0.0, True, 1.0, 1.0)
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(
        self,
        pairs=None,
        window=7,
        metric="sqeuclidean",
        band=None,
        reward_scale=1.0,
        lookahead=DEFAULT_LOOKAHEAD,
        compute_fastdtw=False,
        fastdtw_radius=1,
        render_mode=None,
        exact_info=True,
    ):
        _configure(
            self, pairs, window, metric, band, reward_scale, lookahead, compute_fastdtw, fastdtw_radius, render_mode
        )
        self.exact_info = _check_flag(exact_info, "exact_info")
        self.action_space = spaces.Discrete(3)
        self.observation_space = observation_space(self.batch.window, self.batch.lookahead)

    def set_pairs(self, pairs):
        """Draw the pairs of every later reset from ``pairs`` (anything ``dtwrl.datasets.as_pair_source`` accepts).

        The alignment in flight finishes on its pair.
        """
        self.pairs = as_pair_source(pairs)

    def reset(self, *, seed=None, options=None):
        """Start an episode on a new pair (``options={"pair": (x, y)}`` picks it)."""
        super().reset(seed=seed)
        if options is not None and "pair" in options:
            pair = options["pair"]
        else:
            pair = self.pairs(self.np_random)
        self.batch.reset([pair])
        obs = self._observation()
        return obs, {"action_mask": obs["action_mask"].copy()}

    def step(self, action):
        if self.batch.num == 0:
            raise RuntimeError("call reset() before step()")
        value = action.item() if isinstance(action, np.ndarray) and action.shape == () else action
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value not in (0, 1, 2):
            raise ValueError(f"action must be 0, 1 or 2; got {action!r}")  # checked before any int64 conversion
        reward = float(self.batch.step(np.array([action], dtype=np.int64))[0])
        obs = self._observation()
        terminated = bool(self.batch.done[0])
        info = {
            "action_mask": obs["action_mask"].copy(),
            "action_replaced": bool(self.batch.replaced[0]),
            "return_unscaled": -float(self.batch.path_costs[0]),
        }
        if terminated:
            info.update(self._final_info())
        return obs, reward, terminated, False, info

    def _final_info(self):
        path_cost = float(self.batch.path_costs[0])
        info = {"path": self.batch.paths([0])[0], "path_cost": path_cost}
        if self.exact_info:
            dtw_cost = float(self.batch.dtw_costs([0])[0])
            info.update(dtw_cost=dtw_cost, cost_ratio=float(cost_ratio(path_cost, dtw_cost)))
        if self.compute_fastdtw:
            x, y = self.batch.series(0)
            cost, _ = fastdtw_path(x, y, radius=self.fastdtw_radius, metric=self.batch.metric)
            info["fastdtw_cost"] = cost
            if self.exact_info:
                info["fastdtw_ratio"] = float(cost_ratio(cost, info["dtw_cost"]))
        return info

    def _observation(self):
        return {key: value[0] for key, value in self.batch.observation().items()}

    def render(self):
        """The cost matrix with the path so far, as uint8 (H, W, 3) (``render_mode="rgb_array"``); a long pair on
        every k-th frame (``envs.rendering.draw_batch_alignment``)."""
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode; pass render_mode='rgb_array'")
            return None
        if self.batch.num == 0:
            raise RuntimeError("call reset() before render()")
        return draw_batch_alignment(self.batch, 0)

    @property
    def cost(self):
        """The local-cost matrix (n, m) of the current pair (a copy)."""
        return self.batch.cost_matrix(0)
