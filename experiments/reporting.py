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

from dtwrl.runs import atomic_write_text, markdown_table, save_figure


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


#: Forecasts longer than this many steps get a zoomed panel of their start (:func:`plot_forecasts`).
ZOOM_AFTER = 300
#: Steps after the forecast origin that the zoomed panel shows (with half as many input steps before it).
ZOOM_STEPS = 120


def titled_table(title: str, header: Sequence[str], rows: Sequence[Sequence], out: str = "") -> str:
    """``## title`` and the markdown table of ``rows``; also written (atomically) to ``out`` when given.

    >>> print(titled_table("Peaks", ["loss", "MB"], [["mse", 4.8]]))
    ## Peaks
    <BLANKLINE>
    | loss | MB |
    |---|---|
    | mse | 4.8 |
    <BLANKLINE>
    """
    text = f"## {title}\n\n" + markdown_table(list(header), [list(row) for row in rows]) + "\n"
    if out:
        atomic_write_text(out, text)
    return text


def plot_forecasts(inputs, targets, predictions: Mapping, path, num_series: int = 3, title: str | None = None):
    """Save a figure of forecasts against the truth: one column per model, one row per series.

    At long horizons (more than :data:`ZOOM_AFTER` output steps) a whole forecast is a block of
    colour, so each series gets a second row: a zoom on the last input steps and the first
    :data:`ZOOM_STEPS` steps after the forecast origin, where the phase of a forecast can be seen.

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

    Returns
    -------
    path
        The written file.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from dtwrl.forecasting.training import as_batch

    inputs, targets = as_batch(inputs, "inputs"), as_batch(targets, "targets")
    num_series = min(int(num_series), len(inputs))
    n_in, n_out = inputs.shape[1], targets.shape[1]
    zoom = n_out > ZOOM_AFTER
    views = [(n_in, n_out)] + ([(min(n_in, ZOOM_STEPS // 2), ZOOM_STEPS)] if zoom else [])
    cols = len(predictions)
    fig = Figure(figsize=(3.2 * cols if not zoom else 4.2 * cols, 2.2 * num_series * len(views)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(num_series * len(views), cols, squeeze=False)
    for c, (label, pred) in enumerate(predictions.items()):
        pred = as_batch(pred, f"predictions[{label!r}]")
        for r in range(num_series):
            for v, (k_in, k_out) in enumerate(views):
                ax = axes[r * len(views) + v, c]
                ax.plot(np.arange(n_in - k_in, n_in), inputs[r, n_in - k_in :, 0], color="0.6", lw=1)
                t_out = np.arange(n_in, n_in + k_out)
                ax.plot(t_out, targets[r, :k_out, 0], color="k", lw=1.5, label="truth")
                ax.plot(t_out, pred[r, :k_out, 0], color=f"C{c}", lw=1.5, label="forecast")
                ax.axvline(n_in - 0.5, color="0.8", lw=0.8, ls="--")
                ax.set_xlim(n_in - k_in - 0.5, n_in + k_out - 0.5)
                if v:
                    ax.set_title(f"series {r}: first {k_out} forecast steps", fontsize=8)
                elif r == 0:
                    ax.set_title(label if not zoom else f"{label}\nseries 0: all {n_out} forecast steps", fontsize=9)
                elif zoom:
                    ax.set_title(f"series {r}: all {n_out} forecast steps", fontsize=8)
                ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7, loc="best")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path, dpi=110)
