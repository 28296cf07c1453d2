"""Reporting helpers the experiment scripts share: summaries, comparison tables, forecast figures.

>>> rows = [{"loss": "mse", "dtw": 2.0}, {"loss": "soft_dtw", "dtw": 1.0}]
>>> print(summary_table(summarize(rows, "loss", ["dtw"]), "loss", ["dtw"]))
| loss | dtw | runs |
|---|---|---|
| mse | 2 ± 0 | 1 |
| soft_dtw | **1 ± 0** | 1 |
"""

from collections.abc import Collection, Mapping, Sequence

import numpy as np

from dtwrl.runs import markdown_table, save_figure


def summarize(rows: Sequence[dict], group_by: str, metrics: Sequence[str]) -> list[dict]:
    """Mean and standard deviation of ``metrics`` over the rows of each group.

    Parameters
    ----------
    rows : list of dict
        One dict per run (e.g. per loss and seed).
    group_by : str
        Key whose value names a group (e.g. ``"config"``); groups keep the order
        of their first row.
    metrics : sequence of str
        Keys averaged within each group.

    Returns
    -------
    list of dict
        ``{group_by: name, "n": runs, metric: (mean, std), ...}`` per group; the
        std is the sample std (ddof=1), 0 for a single run.

    >>> summarize([{"c": "a", "x": 1.0}, {"c": "a", "x": 3.0}], "c", ["x"])
    [{'c': 'a', 'n': 2, 'x': (2.0, 1.4142135623730951)}]
    """
    groups: dict = {}
    for row in rows:
        groups.setdefault(row[group_by], []).append(row)
    summary = []
    for name, members in groups.items():
        entry = {group_by: name, "n": len(members)}
        for metric in metrics:
            values = np.array([float(m[metric]) for m in members])
            entry[metric] = (float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0)
        summary.append(entry)
    return summary


def summary_table(
    summary: Sequence[dict],
    group_by: str,
    metrics: Sequence[str],
    labels: Mapping[str, str] | None = None,
    higher_is_better: Collection[str] = (),
) -> str:
    """A markdown table of ``mean ± std`` cells with the best mean per metric in bold.

    ``summary`` is the output of :func:`summarize`; ``labels`` renames metric
    columns; metrics in ``higher_is_better`` are best when largest.
    """
    labels = labels or {}
    best = {}
    for metric in metrics:
        means = [entry[metric][0] for entry in summary]
        best[metric] = max(means) if metric in higher_is_better else min(means)
    rows = []
    for entry in summary:
        cells = [str(entry[group_by])]
        for metric in metrics:
            mean, std = entry[metric]
            cell = f"{mean:.4g} ± {std:.2g}"
            cells.append(f"**{cell}**" if mean == best[metric] else cell)
        rows.append([*cells, entry["n"]])
    return markdown_table([group_by, *(labels.get(m, m) for m in metrics), "runs"], rows)


def plot_forecasts(inputs, targets, predictions: Mapping, path, num_series: int = 3, title: str | None = None):
    """Save a figure of forecasts against the truth: one column per model, one row per series.

    Parameters
    ----------
    inputs : array (N, n_in, d)
        Input windows (first feature drawn in grey).
    targets : array (N, n_out, d_out)
        True continuations (black).
    predictions : dict
        ``{label: array (N, n_out, d_out)}``, one panel column per label.
    path : str or path
        Output ``.png``, written atomically.
    num_series : int
        Rows: the first ``num_series`` series.
    title : str or None
        Figure title.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from dtwrl.forecasting.training import as_batch

    inputs, targets = as_batch(inputs, "inputs"), as_batch(targets, "targets")
    num_series = min(int(num_series), len(inputs))
    n_in, n_out = inputs.shape[1], targets.shape[1]
    t_in, t_out = np.arange(n_in), np.arange(n_in, n_in + n_out)
    cols = len(predictions)
    fig = Figure(figsize=(3.2 * cols, 2.2 * num_series))
    FigureCanvasAgg(fig)
    axes = fig.subplots(num_series, cols, squeeze=False, sharex=True)
    for c, (label, pred) in enumerate(predictions.items()):
        pred = as_batch(pred, f"predictions[{label!r}]")
        for r in range(num_series):
            ax = axes[r, c]
            ax.plot(t_in, inputs[r, :, 0], color="0.6", lw=1)
            ax.plot(t_out, targets[r, :, 0], color="k", lw=1.5, label="truth")
            ax.plot(t_out, pred[r, :, 0], color=f"C{c}", lw=1.5, label="forecast")
            ax.axvline(n_in - 0.5, color="0.8", lw=0.8, ls="--")
            if r == 0:
                ax.set_title(label, fontsize=9)
            ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7, loc="best")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path, dpi=110)
