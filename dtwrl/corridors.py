"""Corridors: per-row column intervals of the DTW grid, and the one registry of their sources.

A *corridor* restricts soft-DTW (:func:`dtwrl.soft_dtw` with ``corridor=``) to the cells
``lo[b, i] <= j <= hi[b, i]`` of each row ``i`` of each pair ``b``: an int array of shape
``(B, n, 2)`` of inclusive bounds. It is valid for a pair of lengths ``(n_b, m_b)`` when, on the
rows ``i < n_b`` (later rows are padding and ignored):

- ``0 <= lo[i] <= hi[i] <= m_b - 1``, ``lo[0] = 0`` and ``hi[n_b - 1] = m_b - 1``;
- ``lo`` and ``hi`` are non-decreasing;
- consecutive rows overlap or touch, ``lo[i + 1] <= hi[i] + 1``, so a warping path joins
  ``(0, 0)`` to ``(n_b - 1, m_b - 1)`` inside it.

The Sakoe-Chiba band (:func:`band_corridor`) and a warping path widened by ``r`` cells
(:func:`widen_paths`, FastDTW's window) are corridors. soft-DTW over a corridor costs time and
memory proportional to its cells (:func:`corridor_cells`), not to ``n m``.

Sources
-------
A *source* is a function ``fn(x, y, x_lengths, y_lengths, **params) -> corridors (B, n, 2)`` of a
pair batch (NumPy ``x (B, n, d)``, ``y (B, m, d)``, lengths ``(B,)``), registered under a name
with :func:`register_corridor_source` and called by a spec string ``"name:key=value,..."``
(:func:`corridor_from_name`). Built in:

- ``band:frac=0.1``: the Sakoe-Chiba band of half-width ``ceil(frac * max(n_b, m_b))`` (at least
  the narrowest band that connects, :func:`dtwrl.min_band`);
- ``fastdtw:r=8``: FastDTW's path (:func:`dtwrl.fastdtw_path`, its own search radius ``radius``, default 1)
  widened by ``r``;
- ``exact:r=2``: the exact DTW path widened by ``r`` (an oracle: O(n m) to find);
- ``random:r=3,seed=0``: a path of uniformly random moves widened by ``r`` (the control; seeded by
  ``seed`` and the batch's values, so a batch always gets the same corridor).

``policy:r=...`` (the pretrained aligner's greedy path), ``policy_samples:k=16,t=8,r=3`` (the hull
of K sampled paths) and ``heuristic:r=...`` (the no-network greedy path on the policy's observation, its
control) are registered by ``agents.corridor_sources``, which :func:`corridor_from_name` imports on first
use of those names (dtwrl never imports ``agents`` itself).

Cost of recomputing a corridor. A source runs in NumPy on the current predictions, outside the
gradient: ``band`` costs O(B n); ``random`` O(B (n + m)); ``fastdtw`` O(B radius (n + m)) (FastDTW
runs in Python: tens of milliseconds per pair of a thousand steps at radius 1); ``exact`` O(B n m), as much as full DTW;
the policy sources one policy rollout per pair (K for samples). Recomputed every step, the source
runs once per batch, next to the corridor soft-DTW itself. With ``SoftDTWLoss(corridor_every=k)``
each pair (known by its ``y_true`` series) keeps the corridor computed for it for ``k`` loss calls,
so the source runs on about one pair in ``k``; with shuffled batches, ``k`` = steps per epoch
recomputes each pair's corridor about once per epoch. A stale corridor may no longer hold the current
optimal path: the loss is then a (larger) soft-DTW over fewer paths.

Examples
--------
>>> import numpy as np
>>> x = np.zeros((1, 4, 1)); y = np.zeros((1, 4, 1))
>>> corridor_from_name("band:frac=0.25", x, y)[0].tolist()
[[0, 1], [0, 2], [1, 3], [2, 3]]
>>> widen_paths([[np.array([[0, 0], [1, 1], [2, 2], [3, 3]])]], [4], [4], 4, radius=0)[0].tolist()
[[0, 0], [1, 1], [2, 2], [3, 3]]
"""

import importlib
import math
import zlib

import numba
import numpy as np

from .aligners import ExactDTWAligner, FastDTWAligner, align_batch_groups, get_aligner
from .bands import _bounds, min_band
from .pair_cache import PairCache, pair_keys

# name -> source function
_SOURCES = {}

#: Names whose source is registered by importing a provider module on first use (dtwrl never imports it itself).
LAZY_SOURCES = dict.fromkeys(("policy", "policy_samples", "heuristic"), "agents.corridor_sources")


# ----------------------------------------------------------------------------
# validation and geometry
# ----------------------------------------------------------------------------
def check_corridor(corridor, x_lengths, y_lengths, n, name="corridor"):
    """Validate corridors for pairs of the given lengths; returns them as int64 ``(B, n, 2)``.

    Parameters
    ----------
    corridor : int array_like, shape (B, n, 2)
        Inclusive column bounds ``[lo, hi]`` of each row of each pair (module docstring).
    x_lengths, y_lengths : int array_like, shape (B,)
        Each pair's rows and columns.
    n : int
        Rows of the padded grid.
    name : str
        The argument name in error messages.

    Raises
    ------
    TypeError
        If ``corridor`` is not an integer array.
    ValueError
        If its shape is wrong or a pair's corridor is not valid; the message names the first bad
        pair and row.

    Examples
    --------
    >>> check_corridor([[[0, 1], [1, 1]]], [2], [2], 2).tolist()
    [[[0, 1], [1, 1]]]
    >>> check_corridor([[[0, 0], [1, 1], [1, 1]]], [3], [3], 3)
    Traceback (most recent call last):
    ...
    ValueError: corridor: pair 0 must end at column m-1 = 2 in row 2; got hi = 1
    """
    array = np.asarray(corridor)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.integer) and array.dtype != np.bool_):
        raise TypeError(f"{name} must be an int array of shape (B, n, 2); got dtype {array.dtype}")
    x_lengths, y_lengths = np.asarray(x_lengths, np.int64), np.asarray(y_lengths, np.int64)
    B = len(x_lengths)
    if array.shape != (B, n, 2):
        raise ValueError(f"{name} must have shape (B, n, 2) = ({B}, {n}, 2); got {array.shape}")
    array = np.ascontiguousarray(array, dtype=np.int64)  # no copy of an int64 array already in C order
    lo, hi = array[..., 0], array[..., 1]
    inside = np.arange(n)[None, :] < x_lengths[:, None]
    follows = inside & (np.arange(n)[None, :] > 0)  # a row with a row above it
    mb = y_lengths[:, None]

    def after(rule):  # rule(row, row above) on rows 1.., as (B, n) with row 0 False (no shifted copies)
        bad = np.zeros_like(follows)
        bad[:, 1:] = follows[:, 1:] & rule(slice(1, None), slice(None, -1))
        return bad

    problems = [
        (inside & (lo < 0), "lo >= 0"),
        (inside & (hi > mb - 1), "hi <= m-1"),
        (inside & (lo > hi), "lo <= hi"),
        (after(lambda i, up: lo[:, i] < lo[:, up]), "lo non-decreasing"),
        (after(lambda i, up: hi[:, i] < hi[:, up]), "hi non-decreasing"),
        (after(lambda i, up: lo[:, i] > hi[:, up] + 1), "rows that overlap or touch (lo[i] <= hi[i-1] + 1)"),
    ]
    bad_pairs = [(np.argmax(bad.any(axis=1)), rule, bad) for bad, rule in problems if bad.any()]
    if bad_pairs:
        b, rule, bad = min(bad_pairs, key=lambda item: item[0])
        i = int(np.argmax(bad[b]))
        rule = rule.replace("m-1", f"m-1 = {y_lengths[b] - 1}")
        raise ValueError(f"{name}: pair {b}, row {i} breaks {rule}; got [lo, hi] = {array[b, i].tolist()}")
    if B:
        ends = hi[np.arange(B), np.maximum(x_lengths, 1) - 1]
        for b in np.flatnonzero(lo[:, 0] != 0)[:1]:
            raise ValueError(f"{name}: pair {b} must start at column 0 in row 0; got lo = {int(lo[b, 0])}")
        for b in np.flatnonzero(ends != y_lengths - 1)[:1]:
            raise ValueError(
                f"{name}: pair {b} must end at column m-1 = {y_lengths[b] - 1} in row {x_lengths[b] - 1}; "
                f"got hi = {int(ends[b])}"
            )
    return array


def corridor_cells(corridor, x_lengths):
    """Cells inside each pair's corridor, shape (B,): ``sum_{i < n_b} (hi[i] - lo[i] + 1)``.

    >>> corridor_cells(np.array([[[0, 1], [0, 2], [1, 2]]]), [3]).tolist()
    [7]
    """
    corridor = np.asarray(corridor)
    rows = np.arange(corridor.shape[1])[None, :] < np.asarray(x_lengths)[:, None]
    return np.sum((corridor[..., 1] - corridor[..., 0] + 1) * rows, axis=1)


def corridor_mask(corridor, m):
    """Dense boolean mask (B, n, m) of the cells inside the corridors (for references and the XLA engine).

    >>> corridor_mask(np.array([[[0, 0], [0, 1]]]), 2)[0].astype(int).tolist()
    [[1, 0], [1, 1]]
    """
    corridor = np.asarray(corridor)
    j = np.arange(m)
    return (j >= corridor[..., :1]) & (j <= corridor[..., 1:])


def band_corridor(x_lengths, y_lengths, n, band):
    """The Sakoe-Chiba band of each pair (its own lengths, :func:`dtwrl.band_bounds`) as corridors (B, n, 2).

    >>> band_corridor([3], [3], 3, 0)[0].tolist()
    [[0, 0], [1, 1], [2, 2]]
    """
    x_lengths, y_lengths = np.asarray(x_lengths, np.int64), np.asarray(y_lengths, np.int64)
    out = np.zeros((len(x_lengths), n, 2), np.int64)
    for b, (nb, mb) in enumerate(zip(x_lengths.tolist(), y_lengths.tolist())):
        lo, hi = _bounds(nb, mb, band)
        out[b, :nb, 0], out[b, :nb, 1] = lo, hi
    return out


def widen_paths(groups, x_lengths, y_lengths, n, radius=0):
    """Corridors around groups of warping paths: the per-row hull of their cells, widened by ``radius``.

    Row ``i`` of pair ``b`` gets ``[lo, hi]`` with ``lo`` the least column any path of the group visits
    in rows ``i - r .. i + r``, minus ``r``, and ``hi`` the largest, plus ``r`` (clipped to the grid):
    the row hull of the paths' cells dilated by a ``(2 r + 1)``-square (FastDTW's window). For one path
    this is exactly the dilated path (its rows are contiguous); for several paths that leave a gap
    between them in a row, the hull is a superset that also holds the gap (every path of the union is
    still inside). The one widening rule of dtwrl: every path-based source and the lattice of
    :func:`dtwrl.tf.relaxations.lattice_softmin` use it.

    Parameters
    ----------
    groups : sequence of B sequences of int arrays (L, 2)
        The paths of each pair (rows then columns, from (0, 0) to (n_b - 1, m_b - 1)).
    x_lengths, y_lengths : int array_like, shape (B,)
    n : int
        Rows of the padded grid.
    radius : int >= 0

    Returns
    -------
    numpy.ndarray of int64, shape (B, n, 2)
        Valid corridors (padding rows hold ``[0, 0]``).

    Examples
    --------
    >>> path = np.array([[0, 0], [1, 1], [2, 2], [3, 3]])
    >>> widen_paths([[path]], [4], [4], 4, radius=1)[0].tolist()
    [[0, 2], [0, 3], [0, 3], [1, 3]]
    """
    cells = [(b, np.asarray(path, np.int64)) for b, group in enumerate(groups) for path in group]
    owners = np.concatenate([np.full(len(path), b, np.int64) for b, path in cells]) if cells else np.zeros(0, int)
    path_cells = np.concatenate([path for _, path in cells]) if cells else np.zeros((0, 2), np.int64)
    return widen_cells(owners, path_cells, x_lengths, y_lengths, n, radius)


@numba.njit(cache=True, nogil=True)
def _njit_row_extremes(owners, cells, counts, out):
    """Per (pair, row): the least and largest column of the cells ``cells[p, :counts[p]]`` of pair ``owners[p]``,
    folded into ``out[b, i, 0]`` (min with what it holds) and ``out[b, i, 1]`` (max)."""
    for p in range(owners.shape[0]):
        b = owners[p]
        for t in range(counts[p]):
            i, column = cells[p, t, 0], cells[p, t, 1]
            if column < out[b, i, 0]:
                out[b, i, 0] = column
            if column > out[b, i, 1]:
                out[b, i, 1] = column


@numba.njit(cache=True, nogil=True)
def _njit_widen_rows(out, x_lengths, y_lengths, radius):
    """Rows' extremes ``out[b, i]`` -> the corridor widened by ``radius``, in place (padding rows ``[0, 0]``).

    Row i's bounds are ``lo = first[max(i - r, 0)] - r`` and ``hi = last[min(i + r, n_b - 1)] + r``, clipped to the
    grid: both extremes are non-decreasing along a pair's rows (each path is monotone), so a window's extremes are
    at its ends. ``lo`` reads an earlier row and ``hi`` a later one, so the rows go down for ``lo`` and up for
    ``hi``, each reading a row before it is overwritten.
    """
    for b in range(out.shape[0]):
        nb, top = x_lengths[b], y_lengths[b] - 1
        for i in range(nb - 1, -1, -1):
            lo = out[b, max(i - radius, 0), 0] - radius
            out[b, i, 0] = lo if lo > 0 else 0
        for i in range(nb):
            hi = out[b, min(i + radius, nb - 1), 1] + radius
            out[b, i, 1] = hi if hi < top else top
        for i in range(nb, out.shape[1]):
            out[b, i, 0] = 0
            out[b, i, 1] = 0


def widen_cells(owners, cells, x_lengths, y_lengths, n, radius=0, counts=None):
    """:func:`widen_paths` on the flat cells of every path: ``cells (N, 2)`` of pair ``owners (N,)``.

    With ``counts (P,)``, ``cells`` are padded paths instead, ``(P, L, 2)``: path ``p`` of pair
    ``owners[p]`` is ``cells[p, :counts[p]]`` (the rest is padding, never read).

    >>> widen_cells(np.array([0, 0, 0]), np.array([[0, 0], [1, 0], [1, 1]]), [2], [2], 2, 0)[0].tolist()
    [[0, 0], [0, 1]]
    >>> widen_cells(np.array([0]), np.array([[[0, 0], [1, 0], [1, 1], [9, 9]]]), [2], [2], 2, 0, counts=[3])[0].tolist()
    [[0, 0], [0, 1]]
    """
    x_lengths, y_lengths = np.asarray(x_lengths, np.int64), np.asarray(y_lengths, np.int64)
    out = _no_extremes(y_lengths, n)
    cells = np.ascontiguousarray(cells, np.int64)
    if counts is None:
        cells, counts = cells.reshape(-1, 1, 2), np.ones(len(cells), np.int64)
    _add_extremes(out, owners, cells, counts)
    _njit_widen_rows(out, x_lengths, y_lengths, int(radius))
    return out


def _no_extremes(y_lengths, n):
    """int64 (B, n, 2) rows' extremes before any cell: ``[m_b, -1]``, which any column replaces."""
    out = np.empty((len(y_lengths), n, 2), np.int64)
    out[..., 0] = y_lengths[:, None]
    out[..., 1] = -1
    return out


def _add_extremes(out, owners, cells, counts):
    """Fold padded paths ``cells (P, L, 2)`` (path ``p``: its first ``counts[p]`` cells, of pair ``owners[p]``) into
    the rows' extremes ``out`` (B, n, 2), in place."""
    owners, counts = np.ascontiguousarray(owners, np.int64), np.ascontiguousarray(counts, np.int64)
    _njit_row_extremes(owners, np.ascontiguousarray(cells), counts, out)


def random_path(n, m, rng):
    """A warping path of uniformly random moves: at each cell one of the allowed moves (1, 1), (1, 0), (0, 1).

    >>> random_path(3, 1, np.random.default_rng(0)).tolist()
    [[0, 0], [1, 0], [2, 0]]
    """
    i = j = 0
    cells = [(0, 0)]
    while i < n - 1 or j < m - 1:
        moves = [(1, 1), (1, 0), (0, 1)] if i < n - 1 and j < m - 1 else ([(1, 0)] if i < n - 1 else [(0, 1)])
        di, dj = moves[rng.integers(len(moves))]
        i, j = i + di, j + dj
        cells.append((i, j))
    return np.asarray(cells, np.int64)


# ----------------------------------------------------------------------------
# the registry
# ----------------------------------------------------------------------------
def register_corridor_source(name, fn):
    """Register a corridor source under ``name`` (a later registration replaces it); returns ``fn``.

    ``fn(x, y, x_lengths, y_lengths, **params)`` gets NumPy ``x (B, n, d)``, ``y (B, m, d)`` and int64
    lengths ``(B,)`` and returns valid corridors ``(B, n, 2)`` (module docstring); ``params`` come from
    the spec string, e.g. ``"name:r=3"`` calls it with ``r=3``.

    >>> register_corridor_source("diagonal_band", lambda x, y, xl, yl, r=0: band_corridor(xl, yl, x.shape[1], r))
    <function <lambda> at ...>
    >>> corridor_from_name("diagonal_band:r=0", np.zeros((1, 2, 1)), np.zeros((1, 2, 1)))[0].tolist()
    [[0, 0], [1, 1]]
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be an identifier string; got {name!r}")
    if not callable(fn):
        raise TypeError(f"fn must be callable; got {fn!r}")
    _SOURCES[name] = fn
    return fn


def corridor_source_names():
    """The names registered so far and the lazily provided ones, sorted.

    >>> {"band", "fastdtw", "exact", "random", "policy"} <= set(corridor_source_names())
    True
    """
    return sorted(set(_SOURCES) | set(LAZY_SOURCES))


def _value(text):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_corridor_spec(spec, name="corridor"):
    """``"fastdtw:r=8"`` -> ``("fastdtw", {"r": 8})`` (ints, then floats, else strings); validates the syntax.

    >>> parse_corridor_spec("policy_samples:k=16,t=8,r=3")
    ('policy_samples', {'k': 16, 't': 8, 'r': 3})
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"{name} must be a corridor source name such as 'fastdtw:r=8'; got {spec!r}")
    source, _, rest = spec.strip().partition(":")
    params = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, text = item.partition("=")
        if not eq or not key.strip().isidentifier() or not text.strip():
            raise ValueError(f"{name}: parameters are key=value pairs separated by commas; got {item!r} in {spec!r}")
        params[key.strip()] = _value(text.strip())
    return source, params


def get_corridor_source(source, name="corridor"):
    """The function registered as ``source``, importing its provider module first for a lazy name."""
    if source not in _SOURCES and source in LAZY_SOURCES:
        importlib.import_module(LAZY_SOURCES[source])
    if source not in _SOURCES:
        raise ValueError(f"{name}: unknown corridor source {source!r}; known: {', '.join(corridor_source_names())}")
    return _SOURCES[source]


def check_corridor_spec(spec, name="corridor"):
    """Validate a spec string without computing anything: known source and parameters; returns it.

    >>> check_corridor_spec("band:frac=0.1")
    'band:frac=0.1'
    """
    source, params = parse_corridor_spec(spec, name)
    fn = get_corridor_source(source, name)
    check = getattr(fn, "check_params", None)
    if check is not None:
        check(name=name, **params)
    return spec


def corridor_from_name(spec, x, y, x_lengths=None, y_lengths=None, name="corridor"):
    """Corridors (B, n, 2) of a pair batch from a source spec such as ``"fastdtw:r=8"``.

    Parameters
    ----------
    spec : str
        ``"source"`` or ``"source:key=value,..."`` (module docstring for the sources).
    x : array_like, shape (B, n, d) or (B, n)
    y : array_like, shape (B, m, d) or (B, m)
    x_lengths, y_lengths : int array_like, shape (B,), optional
        Each pair's lengths (default: full).
    name : str
        The argument name in error messages.

    Returns
    -------
    numpy.ndarray of int64, shape (B, n, 2)
        Validated corridors (:func:`check_corridor`).

    Examples
    --------
    >>> x = np.array([[0.0, 1.0, 2.0, 3.0]]); y = np.array([[0.0, 0.0, 1.0, 2.0, 3.0]])
    >>> corridor_from_name("exact:r=0", x, y)[0].tolist()
    [[0, 1], [2, 2], [3, 3], [4, 4]]
    """
    source, params = parse_corridor_spec(spec, name)
    fn = get_corridor_source(source, name)
    x, y = np.asarray(x), np.asarray(y)
    x = x[..., None] if x.ndim == 2 else x
    y = y[..., None] if y.ndim == 2 else y
    B, n, m = x.shape[0], x.shape[1], y.shape[1]
    x_lengths = np.full(B, n, np.int64) if x_lengths is None else np.asarray(x_lengths, np.int64)
    y_lengths = np.full(B, m, np.int64) if y_lengths is None else np.asarray(y_lengths, np.int64)
    corridor = fn(x, y, x_lengths, y_lengths, **params)
    return check_corridor(corridor, x_lengths, y_lengths, n, name=f"{name} (from source {spec!r})")


# ----------------------------------------------------------------------------
# the built-in sources
# ----------------------------------------------------------------------------
def _check_radius_param(r, name, key="r"):
    if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 0:
        raise ValueError(f"{name}: {key} must be an int >= 0; got {r!r}")
    return int(r)


def _unknown(params, name, source):
    if params:
        raise ValueError(f"{name}: source {source!r} takes no parameter(s) {', '.join(sorted(params))}")


def _band_source(x, y, x_lengths, y_lengths, frac=0.1):
    _check_band_params(frac=frac)
    out = np.zeros((len(x_lengths), x.shape[1], 2), np.int64)
    for b, (nb, mb) in enumerate(zip(x_lengths.tolist(), y_lengths.tolist())):
        band = max(math.ceil(frac * max(nb, mb)), min_band(nb, mb))
        out[b] = band_corridor([nb], [mb], x.shape[1], band)[0]
    return out


def _check_band_params(name="corridor", frac=0.1, **rest):
    _unknown(rest, name, "band")
    if isinstance(frac, bool) or not isinstance(frac, (int, float)) or not 0 <= frac <= 1:
        raise ValueError(f"{name}: band's frac must be a number in [0, 1]; got {frac!r}")


_band_source.check_params = _check_band_params


#: Path cells (``n + m`` per pair) one aligner call of :func:`aligned_corridors` covers at most: 256 KB of int64
#: paths, so that long pairs are aligned a few at a time while short ones stay in one batched call.
PATH_CELLS_PER_CALL = 2**14


def aligned_corridors(aligner, x, y, x_lengths, y_lengths, radius=0):
    """:func:`widen_paths` of the paths an aligner returns for each pair of a padded batch (cut to its lengths).

    Pairs of equal lengths share aligner calls (:func:`dtwrl.aligners.align_batch_groups`, which checks every
    path) of at most :data:`PATH_CELLS_PER_CALL` path cells' worth of pairs (``n + m`` each), and each call's
    padded paths go straight into the rows' extremes: no copy of the batch's paths is kept or stacked (at a
    horizon of 8,192 a path is about 16,000 cells, so each pair goes alone; pairs of 150 go 54 per call). Returns
    (B, n, 2) int64.

    >>> aligned_corridors("exact", np.array([[[0.0], [1.0], [9.0]]]), np.array([[[0.0], [1.0]]]), [2], [2])[0].tolist()
    [[0, 0], [1, 1], [0, 0]]
    """
    aligner = get_aligner(aligner)
    x_lengths, y_lengths = np.asarray(x_lengths, np.int64), np.asarray(y_lengths, np.int64)
    out = _no_extremes(y_lengths, x.shape[1])
    by_shape = {}
    for b, key in enumerate(zip(x_lengths.tolist(), y_lengths.tolist())):
        by_shape.setdefault(key, []).append(b)
    for (nb, mb), members in by_shape.items():
        per_call = max(1, PATH_CELLS_PER_CALL // (nb + mb))
        for start in range(0, len(members), per_call):
            some = members[start : start + per_call]
            rows = slice(None) if len(some) == len(x) else some  # the whole batch: views, not copies
            idx, lengths, owners = align_batch_groups(aligner, x[rows, :nb], y[rows, :mb])
            _add_extremes(out, np.asarray(some, np.int64)[owners], idx, lengths)
            del idx  # before the next call's paths
    _njit_widen_rows(out, x_lengths, y_lengths, int(radius))
    return out


def aligner_source(make_aligner, params=(), source="aligner"):
    """A corridor source that widens the paths of an aligner by ``r``: one path, or the hull of a group, per pair.

    Parameters
    ----------
    make_aligner : callable
        ``make_aligner(r=..., **params) -> aligner`` (any aligner of :mod:`dtwrl.aligners`, one path or a
        group of paths per pair; a policy's samples give a group). Called on every use: cache inside it
        what is costly to build.
    params : tuple of str
        The parameter names the source accepts besides ``r`` (an unknown name is a ``ValueError``).
    source : str
        Its name in error messages.

    Returns
    -------
    callable
        ``fn(x, y, x_lengths, y_lengths, r=1, **params)`` for :func:`register_corridor_source`.

    Examples
    --------
    >>> fn = aligner_source(lambda r: ExactDTWAligner())
    >>> fn(np.zeros((1, 3, 1)), np.zeros((1, 3, 1)), np.array([3]), np.array([3]), r=0)[0].tolist()
    [[0, 0], [1, 1], [2, 2]]
    """

    def check(name="corridor", r=1, **given):
        _check_radius_param(r, name)
        _unknown({key: v for key, v in given.items() if key not in params}, name, source)

    def fn(x, y, x_lengths, y_lengths, r=1, **given):
        check(r=r, **given)
        return aligned_corridors(make_aligner(r=r, **given), x, y, x_lengths, y_lengths, r)

    fn.check_params = check
    return fn


class RandomMovesAligner:
    """An aligner of uniformly random moves (:func:`random_path`), one path per pair: the control.

    Each pair's generator is seeded by ``seed`` and the pair's values, so a pair always gets the same path.

    >>> RandomMovesAligner(seed=0)(np.zeros((1, 2, 1)), np.zeros((1, 1, 1)))[0].tolist()
    [[0, 0], [1, 0]]
    """

    def __init__(self, seed=0):
        self.seed = int(seed)

    def __call__(self, y_true, y_pred):
        paths = []
        for a, b in zip(np.asarray(y_true), np.asarray(y_pred)):
            key = zlib.crc32(np.ascontiguousarray(a).tobytes() + np.ascontiguousarray(b).tobytes())
            paths.append(random_path(len(a), len(b), np.random.default_rng([self.seed, key])))
        return paths


def _fastdtw_aligner(r, radius=1, metric="sqeuclidean"):
    return FastDTWAligner(radius=radius, metric=metric)


def _exact_aligner(r, metric="sqeuclidean"):
    return ExactDTWAligner(metric=metric)


register_corridor_source("band", _band_source)
register_corridor_source("fastdtw", aligner_source(_fastdtw_aligner, ("radius", "metric"), "fastdtw"))
register_corridor_source("exact", aligner_source(_exact_aligner, ("metric",), "exact"))
register_corridor_source("random", aligner_source(lambda r, seed=0: RandomMovesAligner(seed), ("seed",), "random"))


class CorridorSchedule:
    """A corridor source whose corridor of each pair is kept for ``every`` calls.

    Called with a pair batch like a source (NumPy ``x``, ``y``, lengths), it returns per pair the
    corridor last computed for that pair, if fewer than ``every`` calls have passed since, and
    computes it anew otherwise. A pair is known by the values and length of its ``x`` row and the
    length of its ``y`` row (in forecasting: one training target, whatever the current forecast),
    so shuffled batches never get another pair's corridor (the rule of :mod:`dtwrl.pair_cache`; a
    target twice in one batch is two pairs). Every call ticks the clock. ``every = 1``
    runs the source on the whole batch on every call, exactly as the source alone, and keeps nothing (at
    H = 8192, B = 8 the kept corridors and keys were 1.3 MB of a training step's peak); the pairs due on
    a call go to the source in one batch, in their batch order. The same rule as
    :class:`dtwrl.aligners.ReusedPaths`. Keras losses call it once per step
    (:class:`dtwrl.losses.SoftDTWLoss` with ``corridor_every``).

    Parameters
    ----------
    spec : str
        A source spec (:func:`corridor_from_name`).
    every : int >= 1

    Attributes
    ----------
    calls, computed : int
        Calls so far, and pairs whose corridor the source computed (the cost:
        ``computed / pairs asked`` of recomputing every call).

    Examples
    --------
    >>> schedule = CorridorSchedule("exact:r=0", every=2)
    >>> a, b = np.array([[0.0, 1.0, 2.0]]), np.array([[0.0, 0.0, 2.0]])
    >>> schedule(a, a).tolist() == schedule(a, b).tolist(), schedule.computed  # the same pair: kept
    (True, 1)
    >>> _, _ = schedule(b, a), schedule(a, b)  # another pair (new), then a again (two calls old: due)
    >>> schedule.computed
    3
    """

    def __init__(self, spec, every=1, name="corridor"):
        self.spec = check_corridor_spec(spec, name)
        self._cache = PairCache(every, f"{name}_every")  # pair key -> its corridor (n, 2)
        self.every, self.name = self._cache.every, name
        self.computed = 0

    @property
    def calls(self):
        """Calls so far."""
        return self._cache.calls

    def __call__(self, x, y, x_lengths=None, y_lengths=None):
        x, y = np.asarray(x), np.asarray(y)
        self._cache.tick()
        if self.every == 1:  # nothing is ever reused: the source on the whole batch, and nothing kept
            self.computed += len(x)
            return corridor_from_name(self.spec, x, y, x_lengths, y_lengths, self.name)
        n, m = x.shape[1], y.shape[1]
        xl = np.full(len(x), n) if x_lengths is None else np.asarray(x_lengths)
        yl = np.full(len(y), m) if y_lengths is None else np.asarray(y_lengths)
        keys = pair_keys(x, xl, yl, m)
        due = self._cache.due(keys)
        if len(due) == len(keys):  # the whole batch: the source on it as given
            fresh = corridor_from_name(self.spec, x, y, x_lengths, y_lengths, self.name)
        else:
            lengths = (None if x_lengths is None else xl[due], None if y_lengths is None else yl[due])
            fresh = corridor_from_name(self.spec, x[due], y[due], *lengths, self.name) if due else ()
        for b, corridor in zip(due, fresh):
            self._cache.put(keys[b], corridor)
        self.computed += len(due)
        return np.stack([self._cache.get(key) for key in keys])
