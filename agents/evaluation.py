"""Compare aligners with exact DTW on a fixed set of pairs.

The cost ratio of a path is ``path cost / exact DTW cost`` (>= 1, 1 at the
optimum), both summed over the same local-cost matrix. Per method the table
reports its mean, its 90th percentile, the fraction of pairs at the optimum
(ratio <= 1 + 1e-9) and the wall time per pair.

>>> import envs
>>> from agents.training.environment import env_settings
>>> eval_set = make_eval_set(env_settings("dtwrl/SyntheticWarp-v0"), num_pairs=4, seed=7)
>>> stats = ratio_stats(eval_set.ratios([eval_set.exact_path(b) for b in range(4)]))
>>> round(stats["mean"], 9), stats["frac_optimal"]
(1.0, 1.0)

An :class:`EvalSet` keeps O(n + m) per pair (the series, DTW values, FastDTW's
path), never a cost matrix, so pairs of any length fit; paths are scored with
``dtwrl.path_cost``. Alignment figures of pairs above ``envs.rendering.FIGURE_CELLS`` grid
cells are drawn on every k-th frame, without the exact path.
"""

import dataclasses
import time

import numpy as np

import dtwrl
from dtwrl.exact_dtw import cost_ratio
from dtwrl.validation import check_path

OPTIMAL_TOLERANCE = 1e-9


@dataclasses.dataclass
class EvalSet:
    """Held-out pairs with their exact DTW values and FastDTW reference paths, O(n + m) memory per pair.

    Attributes
    ----------
    pairs : list of (x (n, d), y (m, d)) float64
    dtw_costs : (B,) exact DTW costs (band respected), from ``dtwrl.dtw``
    fastdtw_costs : (B,) costs of FastDTW (radius 1) paths
    fastdtw_paths : list of (L, 2)
    seed : int
        Seed of the generator the pairs were drawn from.
    metric : str
        Local cost every value and path cost is summed over.
    band : int or None
        Sakoe-Chiba half-width of the exact DTW values.
    """

    pairs: list
    dtw_costs: np.ndarray
    fastdtw_costs: np.ndarray
    fastdtw_paths: list
    seed: int
    metric: str = "sqeuclidean"
    band: int | None = None
    _heuristic_costs: dict = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)

    def path_costs(self, paths):
        """``(B,)`` cost of each path on its pair (``dtwrl.path_cost``, no cost matrix)."""
        if len(paths) != len(self.pairs):
            raise ValueError(f"paths must hold one path per pair ({len(self.pairs)}); got {len(paths)}")
        return np.array([dtwrl.path_cost(x, y, p, metric=self.metric) for (x, y), p in zip(self.pairs, paths)])

    def heuristic_costs(self, core_kwargs):
        """``(B,)`` costs of ``agents.HeuristicAligner(core_kwargs)``'s paths: the no-network control of a policy on
        that observation, computed once per observation (the pairs never change)."""
        from .policy.heuristic_aligner import HeuristicAligner

        key = repr(sorted(core_kwargs.items()))
        if key not in self._heuristic_costs:
            self._heuristic_costs[key] = self.path_costs(HeuristicAligner(core_kwargs).align_pairs(self.pairs))
        return self._heuristic_costs[key]

    def ratios(self, paths):
        """``(B,)`` cost ratios of ``paths`` vs exact DTW (pairs with DTW cost 0 count as 1 if the path is free too)."""
        costs = self.path_costs(paths)
        return cost_ratio(costs, self.dtw_costs)

    def exact_path(self, index):
        """``(L, 2)`` int64 optimal path of pair ``index``, solved now: O(n m) memory, for short pairs only."""
        x, y = self.pairs[index]
        return dtwrl.dtw_path(x, y, metric=self.metric, band=self.band)[1]


def make_eval_set(settings, num_pairs, seed):
    """Draw ``num_pairs`` pairs from ``settings.pairs`` with ``default_rng(seed)`` and solve them.

    Exact DTW values come from ``dtwrl.dtw`` (O(m) memory) and FastDTW's paths
    are scored with ``dtwrl.path_cost``, so the set holds O(n + m) per pair and
    never builds an n x m array beyond FastDTW's own O(n + m) windows.

    Parameters
    ----------
    settings : agents.training.environment.EnvSettings
    num_pairs : int
        >= 1.
    seed : int
        Use seeds that training never uses (training seeds its env with ``config.seed``).

    Returns
    -------
    EvalSet
    """
    if int(num_pairs) < 1:
        raise ValueError(f"num_pairs must be >= 1; got {num_pairs}")
    rng = np.random.default_rng(seed)
    metric = settings.core_kwargs.get("metric", "sqeuclidean")
    band = settings.core_kwargs.get("band")
    pairs, dtw_costs, fd_costs, fd_paths = [], [], [], []
    for _ in range(int(num_pairs)):
        x, y = settings.pairs(rng)
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        pairs.append((x, y))
        dtw_costs.append(dtwrl.dtw(x, y, metric=metric, band=band))
        fd_paths.append(np.asarray(dtwrl.fastdtw_path(x, y, radius=1, metric=metric)[1], dtype=np.int64))
        fd_costs.append(dtwrl.path_cost(x, y, fd_paths[-1], metric=metric))
    return EvalSet(pairs, np.array(dtw_costs), np.array(fd_costs), fd_paths, int(seed), metric, band)


def ratio_stats(ratios):
    """``{"mean", "p90", "median", "frac_optimal", "max"}`` of cost ratios.

    >>> ratio_stats([1.0, 1.0, 1.5, 3.0])["frac_optimal"]
    0.5
    """
    ratios = np.asarray(ratios, dtype=np.float64)
    if ratios.ndim != 1 or ratios.size == 0:
        raise ValueError(f"ratios must be a non-empty 1-D array; got shape {ratios.shape}")
    return {
        "mean": float(ratios.mean()),
        "p90": float(np.percentile(ratios, 90)),
        "median": float(np.median(ratios)),
        "frac_optimal": float(np.mean(ratios <= 1.0 + OPTIMAL_TOLERANCE)),
        "max": float(ratios.max()),
    }


def compare(eval_set, methods, repeats=1):
    """Run every method on the eval set, time it and score its paths.

    Parameters
    ----------
    eval_set : EvalSet
    methods : dict
        ``name -> align_pairs`` where ``align_pairs(pairs) -> list of paths``.
    repeats : int
        Timing repeats; the fastest is kept (the paths of the last one are scored).

    Returns
    -------
    rows : list of dict
        One per method: ``method``, ``mean``, ``p90``, ``median``,
        ``frac_optimal``, ``max``, ``ms_per_pair``.
    paths : dict
        ``name -> list of paths``.
    """
    rows, all_paths = [], {}
    for name, align_pairs in methods.items():
        best = np.inf
        for _ in range(max(1, int(repeats))):
            start = time.perf_counter()
            paths = align_pairs(eval_set.pairs)
            best = min(best, time.perf_counter() - start)
        paths = [np.asarray(p, dtype=np.int64) for p in paths]
        for b, (path, (x, y)) in enumerate(zip(paths, eval_set.pairs)):
            check_path(path, len(x), len(y), f"{name} path {b}")
        all_paths[name] = paths
        row = {"method": name, **ratio_stats(eval_set.ratios(paths))}
        row["ms_per_pair"] = 1e3 * best / len(eval_set.pairs)
        rows.append(row)
    return rows, all_paths


def comparison_table(rows, title=None):
    """A markdown table of :func:`compare` rows.

    >>> print(comparison_table([{"method": "exact DTW", "mean": 1.0, "p90": 1.0,
    ...                         "frac_optimal": 1.0, "ms_per_pair": 0.5}]))
    | method | mean ratio | p90 ratio | at optimum | ms / pair |
    |---|---|---|---|---|
    | exact DTW | 1.000 | 1.000 | 100.0% | 0.500 |
    """
    from dtwrl.runs import markdown_table as table

    body = table(
        ["method", "mean ratio", "p90 ratio", "at optimum", "ms / pair"],
        [
            [
                row["method"],
                f"{row['mean']:.3f}",
                f"{row['p90']:.3f}",
                f"{100 * row['frac_optimal']:.1f}%",
                f"{row['ms_per_pair']:.3f}",
            ]
            for row in rows
        ],
    )
    return f"**{title}**\n\n{body}" if title else body


def alignment_image(eval_set, index, paths_by_method, exact_label=None):
    """RGB ``(H, W, 3)`` uint8 image of one eval pair's cost matrix with several paths drawn.

    ``paths_by_method`` maps a label to the list of paths of every eval pair.
    ``exact_label`` names the exact DTW path, solved now and drawn last, or None.
    A pair of more than ``envs.rendering.FIGURE_CELLS`` cells is drawn on every k-th frame
    of both series (k the smallest stride that fits, said in the title), paths
    scaled by 1/k, and without the exact path, so the figure's memory stays
    bounded at any length.
    """
    from envs.rendering import draw_alignment, figure_stride

    x, y = eval_set.pairs[index]
    stride = figure_stride(len(x), len(y))
    paths = {label: np.asarray(paths[index]) / stride for label, paths in paths_by_method.items()}
    title = None
    if stride == 1 and exact_label is not None:
        paths[exact_label] = eval_set.exact_path(index)
    elif stride > 1:
        title = f"1 frame in {stride} of {len(x)} x {len(y)}" + ("; no exact path" if exact_label else "")
    cost = dtwrl.cost_matrix(x[::stride], y[::stride], metric=eval_set.metric)
    return draw_alignment(cost, paths, title=title)


def comparison_figure(rows, eval_set, paths_by_method, path, title="", index=None):
    """Save a two-panel PNG: mean and p90 cost ratio per method, and one alignment.

    The alignment shown is the pair where the first method's ratio is closest
    to its median (a typical case) unless ``index`` is given.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [row["method"] for row in rows]
    if index is None:
        ratios = eval_set.ratios(paths_by_method[names[0]])
        index = int(np.argmin(np.abs(ratios - np.median(ratios))))
    fig, (ax_bar, ax_img) = plt.subplots(1, 2, figsize=(11, 4.5))
    xs = np.arange(len(rows))
    ax_bar.bar(xs - 0.2, [row["mean"] for row in rows], width=0.4, label="mean")
    ax_bar.bar(xs + 0.2, [row["p90"] for row in rows], width=0.4, label="90th percentile")
    ax_bar.axhline(1.0, color="k", lw=0.8)
    ax_bar.set_xticks(xs, names, rotation=30, ha="right")
    ax_bar.set_yscale("log")
    ax_bar.set_ylabel("cost ratio vs exact DTW (log)")
    ax_bar.legend()
    ax_bar.set_title(title)
    shown = {name: paths_by_method[name] for name in names if name in paths_by_method}
    ax_img.imshow(alignment_image(eval_set, index, shown))
    ax_img.set_title(f"eval pair {index}")
    ax_img.axis("off")  # draw_alignment renders its own axes
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def time_per_pair(align_pairs, pairs, repeats=3, clock=time.process_time):
    """Median over ``repeats`` runs of the time per pair (ms) of ``align_pairs(pairs)``, after one warm-up run.

    ``clock`` defaults to this process's CPU time, which a busy shared machine
    disturbs far less than wall time (both aligners compared here run on one thread);
    pass ``time.perf_counter`` for wall time.

    >>> ms = time_per_pair(lambda pairs: [None for _ in pairs], [(0, 0)] * 4)
    >>> ms >= 0.0
    True
    """
    if int(repeats) < 1:
        raise ValueError(f"repeats must be >= 1; got {repeats}")
    align_pairs(pairs[:1])
    times = []
    for _ in range(int(repeats)):
        start = clock()
        align_pairs(pairs)
        times.append(clock() - start)
    return 1e3 * float(np.median(times)) / len(pairs)


def lookahead_argmin_paths(pairs, core_kwargs, row=0):
    """Paths that always take the move with the smallest lookahead value (no learning): the observation's own baseline.

    Parameters
    ----------
    pairs : sequence of (x (n, d), y (m, d))
    core_kwargs : dict
        ``envs.core.WarpingBatch`` arguments with a non-empty ``lookahead``.
    row : int
        Which lookahead row decides.

    Returns
    -------
    list of numpy.ndarray
        One int64 path ``(L, 2)`` per pair.

    Examples
    --------
    >>> x = np.sin(np.linspace(0, 4, 30))
    >>> path = lookahead_argmin_paths([(x, x[::2])], {"lookahead": [[2, 8]]})[0]
    >>> path[0].tolist(), path[-1].tolist()
    ([0, 0], [29, 14])
    """
    from .policy.rollouts import make_core

    core = make_core(core_kwargs)
    core.reset(list(pairs))
    while not np.all(core.done):
        values = core.move_values(np.arange(core.num), core.positions, row)
        core.step(np.where(core.done, 0, np.argmin(values, axis=1)))
    return [np.asarray(path, dtype=np.int64) for path in core.paths()]
