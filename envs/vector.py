"""``WarpingPathVectorEnv``: N warping-path episodes stepped at once (a ``gymnasium.vector.VectorEnv``)."""

import numbers

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from dtwrl.datasets import as_pair_source
from dtwrl.exact_dtw import cost_ratio
from dtwrl.oracle import fastdtw_path

from .observation import DEFAULT_LOOKAHEAD
from .rendering import draw_batch_alignment
from .warping_path_env import _check_flag, _configure, observation_space


class WarpingPathVectorEnv(VectorEnv):
    """``num_envs`` independent ``WarpingPathEnv`` episodes, natively batched.

    The vectorised twin of :class:`envs.WarpingPathEnv`: the same MDP,
    observation, rewards and infos (see that class), stepped for all
    sub-environments at once by one ``envs.core.WarpingBatch`` with no Python
    loop over sub-environments. Pairs are drawn only when a sub-environment
    resets, by the pair source with that sub-environment's own generator, so
    ``reset(seed=s)`` followed by the same actions reproduces exactly what N
    ``WarpingPathEnv`` seeded ``s, s+1, ..., s+N-1`` do (as
    ``gymnasium.vector.SyncVectorEnv`` seeds them).

    Autoreset is ``AutoresetMode.NEXT_STEP`` (``metadata["autoreset_mode"]``):
    the step that enters the end cell returns ``terminated=True`` with the
    final observation and the final info keys (``path``, ``path_cost``,
    ``dtw_cost``, ``cost_ratio``, ... each with its ``_key`` mask); the next
    ``step`` ignores that sub-environment's action, starts a new pair and
    returns its first observation with reward 0 and ``terminated=False``.
    This is TF-Agents' LAST -> FIRST convention. ``truncated`` is always False.

    Parameters
    ----------
    num_envs : int >= 1
        Number of sub-environments N.
    pairs, window, metric, band, reward_scale, lookahead, compute_fastdtw, fastdtw_radius, render_mode, exact_info
        As for :class:`envs.WarpingPathEnv`.

    Examples
    --------
    >>> venv = WarpingPathVectorEnv(4, window=5)
    >>> obs, info = venv.reset(seed=0)
    >>> obs["window"].shape, obs["action_mask"].shape
    ((4, 5, 5), (4, 3))
    >>> obs, rewards, terminated, truncated, info = venv.step(np.zeros(4, dtype=np.int64))
    >>> rewards.shape, terminated.tolist()
    ((4,), [False, False, False, False])
    """

    metadata = {"render_modes": ["rgb_array"], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs=1,
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
        if isinstance(num_envs, (bool, np.bool_)) or not isinstance(num_envs, numbers.Integral) or num_envs < 1:
            raise ValueError(f"num_envs must be an int >= 1; got {num_envs!r}")
        self.num_envs = int(num_envs)
        _configure(
            self, pairs, window, metric, band, reward_scale, lookahead, compute_fastdtw, fastdtw_radius, render_mode
        )
        self.exact_info = _check_flag(exact_info, "exact_info")
        self.single_observation_space = observation_space(self.batch.window, self.batch.lookahead)
        self.single_action_space = spaces.Discrete(3)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._rngs = [None] * self.num_envs
        self._autoreset = np.zeros(self.num_envs, dtype=bool)

    def set_pairs(self, pairs):
        """Draw the pairs of every later reset from ``pairs`` (anything ``dtwrl.datasets.as_pair_source`` accepts).

        Alignments in flight finish on their pairs; each sub-environment that
        resets after this call (on its own, at the end of its episode) draws from ``pairs``.
        """
        self.pairs = as_pair_source(pairs)

    def reset(self, *, seed=None, options=None):
        """Reset every sub-environment (or those in ``options["reset_mask"]``).

        Parameters
        ----------
        seed : int, list of int or None
            An int s seeds sub-environment k with s + k; a list gives one seed
            (or None) per sub-environment; None keeps the generators.
        options : dict or None
            ``"reset_mask"``: bool (N,), reset only these (after a first full
            reset). ``"pairs"``: a list of (x, y), one per sub-environment
            reset, used instead of drawing from the pair source.

        Returns
        -------
        observation : dict of arrays with leading N
        info : dict
            ``action_mask`` and its ``_action_mask`` mask.
        """
        seeds = self._seeds(seed)
        if isinstance(seed, numbers.Integral):
            super().reset(seed=int(seed))
        options = {} if options is None else dict(options)
        mask = options.get("reset_mask")
        if mask is None:
            mask = np.ones(self.num_envs, dtype=bool)
        else:
            mask = np.asarray(mask)
            if mask.shape != (self.num_envs,) or mask.dtype != bool:
                raise ValueError(f"options['reset_mask'] must be a bool array of shape ({self.num_envs},)")
            if self.batch.num == 0 and not mask.all():
                raise ValueError("options['reset_mask'] needs a first reset of every sub-environment")
        indices = np.flatnonzero(mask)
        for k in indices.tolist():
            if seeds[k] is not None:
                self._rngs[k] = seeding.np_random(seeds[k])[0]
            elif self._rngs[k] is None:
                self._rngs[k] = seeding.np_random()[0]
        if "pairs" in options:
            pairs = list(options["pairs"])
            if len(pairs) != indices.size:
                raise ValueError(f"options['pairs'] must hold {indices.size} pairs, one per reset; got {len(pairs)}")
        else:
            pairs = self._draw_pairs(indices)
        self.batch.reset(pairs, None if self.batch.num == 0 else indices)
        self._autoreset[indices] = False
        obs = self.batch.observation()
        return obs, {"action_mask": obs["action_mask"].copy(), "_action_mask": np.ones(self.num_envs, dtype=bool)}

    def _draw_pairs(self, indices):
        """A fresh pair for each sub-environment in ``indices``, drawn with its own generator."""
        return [self.pairs(self._rngs[k]) for k in indices.tolist()]

    def _seeds(self, seed):
        if seed is None:
            return [None] * self.num_envs
        if isinstance(seed, numbers.Integral) and not isinstance(seed, (bool, np.bool_)):
            return [int(seed) + k for k in range(self.num_envs)]
        if isinstance(seed, (list, tuple)) and len(seed) == self.num_envs:
            return list(seed)
        raise ValueError(f"seed must be None, an int or a list of {self.num_envs} seeds; got {seed!r}")

    def step(self, actions):
        """Step every sub-environment; see the class docstring for autoreset.

        Parameters
        ----------
        actions : array_like of int, shape (N,)

        Returns
        -------
        observation : dict of arrays with leading N
        reward : numpy.ndarray of float64, shape (N,)
        terminated, truncated : numpy.ndarray of bool, shape (N,)
        info : dict
            Every step: ``action_mask``, ``action_replaced``,
            ``return_unscaled``. Terminated sub-environments: ``path``
            (object array), ``path_cost``, ``dtw_cost``, ``cost_ratio``
            (and ``fastdtw_cost``, ``fastdtw_ratio``; ``exact_info=False``
            leaves out ``dtw_cost`` and the ratios). Each key ``k`` has a
            bool mask ``_k`` of the sub-environments it holds values for.
        """
        if self.batch.num == 0:
            raise RuntimeError("call reset() before step()")
        pending = self._autoreset
        # One pass steps every sub-environment and observes all but the pending ones (done: they stay put
        # and get 0), whose rows are written once they have been reset below.
        rewards, obs = self.batch._step_observe(actions, pending)
        terminated = self.batch.done & ~pending
        everyone = np.ones(self.num_envs, dtype=bool)  # the "_key" mask of the keys every step has
        infos = {
            "action_replaced": self.batch.replaced,
            "_action_replaced": everyone,
            "return_unscaled": 0.0 - self.batch.path_costs,
            "_return_unscaled": everyone,
        }
        if np.count_nonzero(terminated):
            self._add_final_infos(infos, terminated)
        indices = pending.nonzero()[0]
        if indices.size:
            self.batch.reset(self._draw_pairs(indices), indices)
            self.batch._observe_rows(obs, indices)
        self._autoreset = terminated
        infos["action_mask"] = obs["action_mask"].copy()
        infos["_action_mask"] = everyone
        return obs, rewards, terminated.copy(), np.zeros(self.num_envs, dtype=bool), infos

    def _add_final_infos(self, infos, mask):
        indices = mask.nonzero()[0]
        paths = np.empty(self.num_envs, dtype=object)  # all None
        for k, path in zip(indices.tolist(), self.batch.paths(indices)):
            paths[k] = path
        path_cost = np.where(mask, self.batch.path_costs, 0.0)
        infos.update(path=paths, path_cost=path_cost)
        keys = ["path", "path_cost"]
        if self.exact_info:
            dtw_cost = np.zeros(self.num_envs)
            dtw_cost[indices] = self.batch.dtw_costs(indices)  # the finished pairs only: O(n m) each
            infos.update(dtw_cost=dtw_cost, cost_ratio=cost_ratio(path_cost, dtw_cost))
            keys += ["dtw_cost", "cost_ratio"]
        if self.compute_fastdtw:
            fast = np.zeros(self.num_envs)
            for k in indices.tolist():
                x, y = self.batch.series(k)
                fast[k] = fastdtw_path(x, y, radius=self.fastdtw_radius, metric=self.batch.metric)[0]
            infos["fastdtw_cost"] = fast
            keys.append("fastdtw_cost")
            if self.exact_info:
                infos["fastdtw_ratio"] = cost_ratio(fast, dtw_cost)
                keys.append("fastdtw_ratio")
        final = mask.copy()  # the "_key" mask of the final-info keys
        for key in keys:
            infos["_" + key] = final

    def expert_actions(self):
        """int64 (N,): the optimal move of every sub-environment (see ``WarpingBatch.expert_actions``)."""
        return self.batch.expert_actions()

    def render(self):
        """One uint8 (H, W, 3) image per sub-environment: its cost matrix and path so far."""
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode; pass render_mode='rgb_array'")
            return None
        if self.batch.num == 0:
            raise RuntimeError("call reset() before render()")
        return tuple(draw_batch_alignment(self.batch, k) for k in range(self.num_envs))
