"""Compare many losses over many (dataset, seed) blocks: mean ranks, wins against a baseline, critical difference.

A *block* is one (dataset, seed) pair: every loss was trained on it and has a
test score. Lower scores are better. Ranks are computed within each block
(ties share the mean rank) and averaged over blocks, as in Demšar (2006).

>>> scores = {"a": [1.0, 1.0, 3.0], "b": [2.0, 1.0, 1.0]}
>>> mean_ranks(scores)
{'a': 1.5, 'b': 1.5}
>>> win_tie_loss(scores["b"], scores["a"])
(1, 1, 1)
"""

import math

import numpy as np

__all__ = ["critical_difference", "mean_ranks", "plot_ranks", "win_tie_loss"]

# Studentized range statistic / sqrt(2) at alpha = 0.05 for k = 2..10 groups (Demšar, 2006, Table 5a).
_Q_005 = {2: 1.960, 3: 2.343, 4: 2.569, 5: 2.728, 6: 2.850, 7: 2.949, 8: 3.031, 9: 3.102, 10: 3.164}


def _ranks(values):
    """Ranks 1..k of one block, lowest value first, ties sharing their mean rank."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    for value in np.unique(values):
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def mean_ranks(scores):
    """Mean rank of each method over the blocks.

    Parameters
    ----------
    scores : dict
        ``{method: sequence of N scores}``, the b-th score of every method on
        the same block b; lower is better; every score finite.

    Returns
    -------
    dict
        ``{method: mean rank}`` in [1, k], in the order of ``scores``.

    Examples
    --------
    >>> mean_ranks({"mse": [3.0, 2.0], "soft_dtw": [1.0, 1.0], "dilate": [2.0, 3.0]})
    {'mse': 2.5, 'soft_dtw': 1.0, 'dilate': 2.5}
    """
    names = list(scores)
    table = np.array([scores[n] for n in names], dtype=np.float64)  # (k, N)
    if table.ndim != 2 or table.shape[1] == 0 or not np.isfinite(table).all():
        raise ValueError("scores must hold the same number (>= 1) of finite values for every method")
    ranks = np.array([_ranks(table[:, b]) for b in range(table.shape[1])])  # (N, k)
    return {n: float(r) for n, r in zip(names, ranks.mean(axis=0))}


def win_tie_loss(scores, baseline, rtol=1e-9):
    """How often ``scores`` beat, tie with and lose to ``baseline`` block by block (lower is better).

    A tie is ``|a - b| <= rtol * max(|a|, |b|)``.

    >>> win_tie_loss([1.0, 2.0, 3.0], [2.0, 2.0, 2.0])
    (1, 1, 1)
    """
    a, b = np.asarray(scores, dtype=np.float64), np.asarray(baseline, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"scores and baseline must have the same length; got {a.shape} and {b.shape}")
    tie = np.abs(a - b) <= rtol * np.maximum(np.abs(a), np.abs(b))
    return int(((a < b) & ~tie).sum()), int(tie.sum()), int(((a > b) & ~tie).sum())


def critical_difference(k, blocks):
    """Nemenyi's critical difference of mean ranks at alpha = 0.05: ``q sqrt(k (k + 1) / (6 N))``.

    Two methods whose mean ranks differ by less are not significantly
    different (Demšar, 2006). Defined for 2 <= k <= 10 methods.

    >>> round(critical_difference(8, 9), 3)
    3.5
    """
    if k not in _Q_005:
        raise ValueError(f"k must be between 2 and 10 methods; got {k}")
    if blocks < 1:
        raise ValueError(f"blocks must be >= 1; got {blocks}")
    return _Q_005[k] * math.sqrt(k * (k + 1) / (6.0 * blocks))


def plot_ranks(ranks, blocks, path, title="mean rank (lower is better)"):
    """Save a critical-difference style figure: methods on a rank axis, with the Nemenyi CD bar.

    Parameters
    ----------
    ranks : dict
        ``{method: mean rank}`` (:func:`mean_ranks`).
    blocks : int
        Number of blocks N the ranks average over.
    path : str or path
        Output ``.png``, written atomically.
    title : str
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..runs import save_figure

    k = len(ranks)
    ordered = sorted(ranks.items(), key=lambda item: item[1])
    fig = Figure(figsize=(7.0, 1.2 + 0.28 * k))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.set_xlim(k + 0.2, 0.8)  # best (rank 1) on the right, as in Demšar's diagrams
    ax.set_ylim(-1.5, k + 0.5)
    ax.axhline(0, color="k", lw=1)
    for r in range(1, k + 1):
        ax.plot([r, r], [-0.1, 0.1], color="k", lw=1)
        ax.text(r, -0.45, str(r), ha="center", va="top", fontsize=8)
    for row, (name, rank) in enumerate(ordered, start=1):
        ax.plot([rank, rank], [0, row], color=f"C{row % 10}", lw=1)
        ax.plot(rank, 0, "o", color=f"C{row % 10}", ms=4)
        ax.text(rank, row, f" {name} ({rank:.2f})", va="center", ha="right", fontsize=8)
    if 2 <= k <= 10:
        cd = critical_difference(k, blocks)
        ax.plot([1, 1 + cd], [k + 0.2, k + 0.2], color="k", lw=2)
        ax.text(1 + cd / 2, k + 0.35, f"CD = {cd:.2f} (Nemenyi, α = 0.05, N = {blocks})", ha="center", fontsize=8)
    ax.axis("off")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path, dpi=110)
