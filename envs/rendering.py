"""Pictures of alignments: a cost matrix with warping paths drawn over it (matplotlib Agg).

The environments' ``render()`` and the agents' TensorBoard images (policy vs
FastDTW vs exact paths) share :func:`draw_alignment`. A pair of more than
:data:`FIGURE_CELLS` grid cells is drawn on every k-th frame of both series
(:func:`figure_stride`), so a picture's memory stays bounded at any length.
"""

import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dtwrl.local_cost import cost_matrix

#: Largest grid (n * m cells, 512 x 512) a picture draws in full; larger pairs are drawn on every k-th frame.
FIGURE_CELLS = 2**18

# Path colours, in order of the ``paths`` dict: readable over viridis.
_COLOURS = ("#ff3b30", "#ffffff", "#ff9f0a", "#30d5ff", "#ff2dd4", "#000000")


def draw_alignment(cost, paths=None, *, title=None, size=4.0, dpi=80):
    """Draw a cost matrix and warping paths over it into an RGB image.

    Parameters
    ----------
    cost : array_like, shape (n, m)
        Local costs; row i is frame i of x (drawn top to bottom), column j
        frame j of y (left to right). Shown as ``c / (c + mean(c))`` so that
        the picture's contrast does not depend on the data's scale; non-finite
        cells (e.g. outside a band) are drawn white.
    paths : dict of str -> array_like of int, shape (L, 2), or None
        Label -> path of (i, j) cells, drawn as lines in order, with a legend.
    title : str or None
        Figure title.
    size : float
        Width and height of the figure in inches.
    dpi : int
        Dots per inch; the image is ``round(size * dpi)`` pixels square.

    Returns
    -------
    numpy.ndarray of uint8, shape (H, W, 3)

    Examples
    --------
    >>> image = draw_alignment(np.ones((4, 5)), {"exact": [[0, 0], [1, 1], [2, 2], [3, 3], [3, 4]]})
    >>> image.shape, image.dtype
    ((320, 320, 3), dtype('uint8'))
    """
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2 or cost.size == 0:
        raise ValueError(f"cost must be a non-empty 2-D array (n, m); got shape {cost.shape}")
    paths = {} if paths is None else dict(paths)
    finite = np.isfinite(cost)
    mean = cost[finite].mean() if finite.any() else 0.0
    with np.errstate(invalid="ignore"):
        shown = np.where(finite, cost / (cost + mean) if mean > 0 else 0.0, np.nan)

    figure = Figure(figsize=(size, size), dpi=dpi)
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.imshow(shown, cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest", aspect="auto")
    for k, (label, path) in enumerate(paths.items()):
        path = np.asarray(path)
        if path.ndim != 2 or path.shape[1] != 2:
            raise ValueError(f"paths[{label!r}] must have shape (L, 2); got shape {path.shape}")
        axes.plot(path[:, 1], path[:, 0], color=_COLOURS[k % len(_COLOURS)], linewidth=1.5, label=str(label))
    if paths:
        axes.legend(loc="lower left", fontsize="small", framealpha=0.7)
    axes.set_xlabel("j (y)")
    axes.set_ylabel("i (x)")
    if title is not None:
        axes.set_title(title)
    figure.tight_layout()
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def figure_stride(n, m):
    """The smallest k for which every k-th frame of an n x m grid holds at most :data:`FIGURE_CELLS` cells.

    >>> figure_stride(150, 150), figure_stride(600, 700), figure_stride(100_000, 100_000)
    (1, 2, 196)
    """
    return max(1, math.ceil(math.sqrt(n * m / FIGURE_CELLS)))


def draw_batch_alignment(batch, index):
    """The picture of alignment ``index`` of a warping batch (``envs.core.WarpingBatch`` or the corridor's) and its
    path so far, as the environments' ``render()`` returns it.

    The batch's cost matrix when the grid fits in :data:`FIGURE_CELLS` cells (cells outside a band white); else
    every k-th frame of both series (:func:`figure_stride`, said in the title) with the path scaled by 1/k, so a
    long pair is drawn without its n x m matrix.
    """
    x, y = batch.series(index)
    path = batch.paths([index])[0]
    stride = figure_stride(len(x), len(y))
    if stride == 1:
        return draw_alignment(batch.cost_matrix(index), {"agent": path})
    cost = cost_matrix(x[::stride], y[::stride], batch.metric)
    return draw_alignment(cost, {"agent": path / stride}, title=f"1 frame in {stride} of {len(x)} x {len(y)}")
