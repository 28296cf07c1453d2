"""Pair sources: callables ``source(rng) -> (x, y)`` that feed alignment environments.

A pair source returns two float64 arrays ``(n, d)`` and ``(m, d)`` with the same
``d`` and draws all of its randomness from ``rng`` (a ``numpy.random.Generator``),
so an environment seeds it through its own ``np_random``. Every source here is
picklable (for ``ParallelPyEnvironment`` and ``AsyncVectorEnv``) and exposes
``.dim``, the number of features d (None when unknown).
"""

import json
import numbers
import os
import pickle
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..validation import as_series, check_same_dim
from .series_files import SERIES_FILE_SUFFIXES, load_series_file
from .synthetic import _as_generator, _check_int, _check_real, draw_warp_pair
from .ucr import SeriesSet, load_ucr


class PairSource:
    """Base class of the built-in pair sources: ``source(rng) -> (x, y)`` and ``.dim``."""

    dim = None


def _length_range(value, name):
    """An int or an inclusive (low, high) pair of ints >= 2, as (low, high)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        value = (value, value)
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise TypeError(f"{name} must be an int or a (low, high) pair of ints; got {value!r}")
    low = _check_int(value[0], name, 2)
    high = _check_int(value[1], name, 2)
    if high < low:
        raise ValueError(f"{name} must satisfy low <= high; got ({low}, {high})")
    return low, high


class SyntheticPairs(PairSource):
    """Random smooth series x and a noisy, randomly warped copy y (the model of ``synthetic_warp_pair``).

    Each call draws its lengths and every random number of the pair with two
    calls to ``rng`` (``dtwrl.datasets.synthetic.draw_warp_pair``), about 10 us
    for a pair of length 100, so environments draw a fresh pair at every reset.

    Parameters
    ----------
    n : int or (int, int)
        Length of x: fixed, or drawn uniformly from the inclusive range (low, high).
    m : int, (int, int) or None
        Length of y, drawn independently of n; None means ``m = n`` (same length).
    d : int
        Number of features.
    noise : float
        Standard deviation of the Gaussian noise on y (x has unit variance).
    warp_strength : float
        Strength of the random monotone warp; 0 means y is x resampled linearly.

    Examples
    --------
    >>> source = SyntheticPairs(n=(60, 130), m=(60, 130), d=2)
    >>> x, y = source(np.random.default_rng(0))
    >>> x.shape[1], y.shape[1], source.dim
    (2, 2, 2)
    """

    def __init__(self, n=(60, 130), m=None, d=1, noise=0.05, warp_strength=1.0):
        self.n = _length_range(n, "n")
        self.m = None if m is None else _length_range(m, "m")
        self.dim = _check_int(d, "d", 1)
        self.noise = _check_real(noise, "noise")
        self.warp_strength = _check_real(warp_strength, "warp_strength")

    def __call__(self, rng):
        return draw_warp_pair(rng, self.n, self.m, self.dim, self.noise, self.warp_strength)

    def __repr__(self):
        return (
            f"SyntheticPairs(n={self.n}, m={self.m}, d={self.dim}, "
            f"noise={self.noise}, warp_strength={self.warp_strength})"
        )


def _as_series_list(X, name):
    """Validated (n_i, d) float64 series from an array (N, n[, d]) or a sequence of series."""
    if isinstance(X, np.ndarray):
        if X.ndim not in (2, 3):
            raise ValueError(f"{name} must have shape (N, n) or (N, n, d); got shape {X.shape}")
        items = list(X)
    elif isinstance(X, (list, tuple)):
        items = list(X)
    else:
        raise TypeError(f"{name} must be an array (N, n[, d]) or a list of series; got {type(X).__name__}")
    series = [as_series(s, f"{name}[{i}]") for i, s in enumerate(items)]
    for i, s in enumerate(series[1:], start=1):
        check_same_dim(series[0], s, (f"{name}[0]", f"{name}[{i}]"))
    return series


def _two_distinct(rng, size):
    """Two distinct indices drawn uniformly from range(size), size >= 2."""
    i = int(rng.integers(size))
    j = int(rng.integers(size - 1))
    return i, j + (j >= i)


class DatasetPairs(PairSource):
    """Two distinct series drawn uniformly at random from a dataset.

    Parameters
    ----------
    X : numpy.ndarray (N, n) or (N, n, d), or sequence of (n_i,) / (n_i, d) arrays
        The series, N >= 2; a 2-D array holds N univariate series.
    labels : array_like (N,) or None
        Class labels (kept as ``.labels``), needed when ``same_class=True``.
    same_class : bool
        Draw both series from the same class: the first uniformly among series
        whose class has at least two members, the second uniformly among the
        other members of that class.

    Examples
    --------
    >>> source = DatasetPairs(np.arange(12.0).reshape(3, 4))
    >>> x, y = source(np.random.default_rng(0))
    >>> x.shape, y.shape, source.dim
    ((4, 1), (4, 1), 1)
    """

    def __init__(self, X, labels=None, same_class=False):
        self.series = _as_series_list(X, "X")
        if len(self.series) < 2:
            raise ValueError(f"X must hold at least 2 series; got {len(self.series)}")
        self.dim = self.series[0].shape[1]
        self.same_class = bool(same_class)
        self.labels = None if labels is None else np.asarray(labels)
        if self.labels is not None and self.labels.shape != (len(self.series),):
            raise ValueError(f"labels must have shape ({len(self.series)},); got {self.labels.shape}")
        self.groups = None
        if self.same_class:
            if self.labels is None:
                raise ValueError("labels must be given when same_class=True")
            labels = self.labels
            groups = [np.flatnonzero(labels == c) for c in np.unique(labels)]
            self.groups = [g for g in groups if g.size >= 2]
            if not self.groups:
                raise ValueError("labels must have a class with at least 2 series when same_class=True")
            sizes = np.array([g.size for g in self.groups], dtype=np.float64)
            self._group_weights = sizes / sizes.sum()

    def __len__(self):
        return len(self.series)

    def __call__(self, rng):
        if self.groups is None:
            i, j = _two_distinct(rng, len(self.series))
        else:
            group = self.groups[rng.choice(len(self.groups), p=self._group_weights)]
            i, j = group[list(_two_distinct(rng, group.size))]
        return self.series[i].copy(), self.series[j].copy()

    def __repr__(self):
        return f"DatasetPairs(<{len(self.series)} series, d={self.dim}>, same_class={self.same_class})"


class ArrayPairs(PairSource):
    """A fixed list of (x, y) pairs.

    Parameters
    ----------
    pairs : sequence of (x, y)
        At least one pair; each series is (n,) or (n, d) with one d throughout.
    shuffle : bool
        True: every call draws a pair uniformly at random (with replacement).
        False: calls return the pairs in order, cycling (the position is state of
        this object; ``rng`` is not used).

    Examples
    --------
    >>> source = ArrayPairs([([0.0, 1.0], [0.0, 0.5, 1.0])], shuffle=False)
    >>> [a.shape for a in source(np.random.default_rng(0))]
    [(2, 1), (3, 1)]
    """

    def __init__(self, pairs, shuffle=True):
        if not isinstance(pairs, (list, tuple)) or not pairs:
            raise ValueError("pairs must be a non-empty list of (x, y) pairs")
        checked = []
        for k, pair in enumerate(pairs):
            if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
                raise ValueError(f"pairs[{k}] must be an (x, y) pair")
            x = as_series(pair[0], f"pairs[{k}][0]")
            y = as_series(pair[1], f"pairs[{k}][1]")
            check_same_dim(x, y, (f"pairs[{k}][0]", f"pairs[{k}][1]"))
            if checked:
                check_same_dim(checked[0][0], x, ("pairs[0][0]", f"pairs[{k}][0]"))
            checked.append((x, y))
        self.pairs = checked
        self.dim = checked[0][0].shape[1]
        self.shuffle = bool(shuffle)
        self._next = 0

    def __len__(self):
        return len(self.pairs)

    def __call__(self, rng):
        if self.shuffle:
            k = int(rng.integers(len(self.pairs)))
        else:
            k, self._next = self._next, (self._next + 1) % len(self.pairs)
        x, y = self.pairs[k]
        return x.copy(), y.copy()

    def __repr__(self):
        return f"ArrayPairs(<{len(self.pairs)} pairs, d={self.dim}>, shuffle={self.shuffle})"


class CallablePairs(PairSource):
    """Wraps any callable ``fn(rng) -> (x, y)`` and validates each pair it returns.

    Picklable when ``fn`` is (a module-level function or a picklable object).

    Parameters
    ----------
    fn : callable
        Takes a ``numpy.random.Generator``, returns two series with the same d.

    Examples
    --------
    >>> def draw(rng):
    ...     return rng.standard_normal(5), rng.standard_normal(7)
    >>> x, y = CallablePairs(draw)(np.random.default_rng(0))
    >>> x.shape, y.shape
    ((5, 1), (7, 1))
    """

    def __init__(self, fn):
        if not callable(fn):
            raise TypeError(f"fn must be callable; got {type(fn).__name__}")
        self.fn = fn
        self.dim = getattr(fn, "dim", None)

    def __call__(self, rng):
        pair = self.fn(rng)
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise ValueError(f"pairs: the pair source {self.fn!r} must return an (x, y) pair")
        x = as_series(pair[0], "x (from the pair source)")
        y = as_series(pair[1], "y (from the pair source)")
        check_same_dim(x, y, ("x (from the pair source)", "y (from the pair source)"))
        if self.dim is not None and x.shape[1] != self.dim:
            raise ValueError(f"pairs: the pair source declares dim={self.dim} but returned d={x.shape[1]}")
        return x, y

    def __repr__(self):
        return f"CallablePairs({self.fn!r})"


def _is_pair_list(obj):
    return isinstance(obj, (list, tuple)) and len(obj) > 0 and all(isinstance(p, tuple) and len(p) == 2 for p in obj)


def as_pair_source(pairs: object, **kwargs: object) -> PairSource:
    """Turn a pair source, callable, file, dataset name, array of series or list of pairs into a pair source.

    ============================================  ===========================================
    ``pairs``                                     result
    ============================================  ===========================================
    a :class:`PairSource`                         itself (no keyword arguments allowed)
    str or os.PathLike: a ``.ts``, ``.tsv``,      ``DatasetPairs`` over :func:`load_series`
    ``.npy`` or ``.csv`` file, a UCR folder, a    ``(pairs, split)``; kwargs
    built-in or ``DTWRL_UCR_ROOT`` name           ``split="train"``, ``same_class=False``
    array (N, n) or (N, n, d), or a list of       ``DatasetPairs(pairs, **kwargs)``
    series (arrays or lists)
    list/tuple of ``(x, y)`` tuples               ``ArrayPairs(pairs, **kwargs)``
    any other callable ``fn(rng) -> (x, y)``      ``CallablePairs(fn)`` (validates each pair)
    ============================================  ===========================================

    Parameters
    ----------
    pairs : object
        See the table.
    **kwargs
        Passed to the pair source built (see the table).

    Returns
    -------
    PairSource

    Raises
    ------
    TypeError
        ``pairs`` is of none of these kinds, or keyword arguments do not apply.

    Examples
    --------
    >>> as_pair_source("GunPoint", split="test").dim
    1
    >>> as_pair_source([(np.zeros(3), np.ones(4))]).dim
    1
    """
    if isinstance(pairs, PairSource):
        if kwargs:
            raise TypeError(f"pairs is already a pair source; unexpected keyword arguments {sorted(kwargs)}")
        return pairs
    if isinstance(pairs, (str, os.PathLike)):
        split = kwargs.pop("split", "train")
        same_class = kwargs.pop("same_class", False)
        if kwargs:
            raise TypeError(f"pairs as a dataset accepts only split and same_class; got {sorted(kwargs)}")
        X, y = load_series(pairs, split=split)
        return DatasetPairs(X, labels=y, same_class=same_class)
    if isinstance(pairs, np.ndarray):
        return DatasetPairs(pairs, **kwargs)
    if _is_pair_list(pairs):
        return ArrayPairs(list(pairs), **kwargs)
    if isinstance(pairs, (list, tuple)):
        return DatasetPairs(pairs, **kwargs)
    if callable(pairs):
        if kwargs:
            raise TypeError(f"pairs as a callable takes no keyword arguments; got {sorted(kwargs)}")
        return CallablePairs(pairs)
    raise TypeError(
        "pairs must be a pair source, a callable rng -> (x, y), a .ts/.tsv path or dataset name, "
        f"an array of series or a list of (x, y) pairs; got {type(pairs).__name__}"
    )


def iter_pairs(source, seed, count):
    """Yield ``count`` pairs from a pair source, seeded once.

    Parameters
    ----------
    source : object
        Anything :func:`as_pair_source` accepts.
    seed : int or numpy.random.Generator
        Seed or generator.
    count : int
        Number of pairs, >= 0.

    Returns
    -------
    generator of (x, y)
        Arrays (n, d) and (m, d). Arguments are checked at the call, not on first use.

    Examples
    --------
    >>> [x.shape[1] for x, y in iter_pairs(SyntheticPairs(d=3), seed=0, count=2)]
    [3, 3]
    """
    source = as_pair_source(source)
    rng = _as_generator(seed, "seed")
    count = _check_int(count, "count", 0)
    return (source(rng) for _ in range(count))


def gunpoint_pairs(split: str = "train", same_class: bool = False) -> DatasetPairs:
    """Pairs of distinct series from the vendored UCR GunPoint data (150 samples, d = 1).

    The series are used as stored: the archive has already z-normalised each one.

    Parameters
    ----------
    split : {"train", "test"}
        50 train or 150 test series.
    same_class : bool
        Draw both series from the same class (Gun-Draw or Point).

    Returns
    -------
    DatasetPairs

    Examples
    --------
    >>> source = gunpoint_pairs()
    >>> len(source), source.dim
    (50, 1)
    """
    X, y = load_ucr("GunPoint", split=split)
    return DatasetPairs(X, labels=y, same_class=same_class)


SERIES_FILE_TYPES = (".ts", ".tsv", ".npy", ".csv")
"""File types :func:`load_series` reads (besides UCR folders and dataset names)."""


def load_series(path: str | os.PathLike, split: str = "train") -> tuple[SeriesSet, NDArray | None]:
    """Series from a file a user has: UCR/UEA ``.ts``/``.tsv``, NumPy ``.npy``, ``.csv``, or a UCR folder/name.

    Parameters
    ----------
    path : str or os.PathLike
        - ``.npy``: a numeric array (N, n) or (N, n, d), N series;
        - ``.csv``: one univariate series per row, comma-separated (rows may
          differ in length; :func:`dtwrl.datasets.load_series_file`);
        - ``.ts``/``.tsv``, a UCR folder, a built-in or ``DTWRL_UCR_ROOT``
          dataset name: :func:`dtwrl.datasets.load_ucr` (``split`` applies).
    split : {"train", "test"}
        The split of a UCR folder or dataset name (ignored for files).

    Returns
    -------
    X : numpy.ndarray (N, n, d) or list of (n_i, d) arrays
    labels : numpy.ndarray (N,) or None
        Class labels of UCR files; None for ``.npy`` and ``.csv``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "series.csv"
    >>> _ = path.write_text("1,2,3\\n4,5\\n")
    >>> [len(s) for s in load_series(path)[0]]
    [3, 2]
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"pairs must be a path or dataset name; got {type(path).__name__}")
    if Path(path).suffix.lower() in SERIES_FILE_SUFFIXES:
        try:
            series = load_series_file(path)
        except (OSError, ValueError) as error:
            raise ValueError(f"pairs: cannot read {str(path)!r}: {error}") from None
        return (np.stack(series) if len({s.shape for s in series}) == 1 else series), None
    return load_ucr(path, split=split)


# ------------------------------------------------------------------ storing a pair source in a folder
PAIRS_SPEC_FILE = "pairs.json"
"""The file :func:`save_pair_source` writes: the source's kind and settings."""


def save_pair_source(source, folder):
    """Store a pair source in ``folder`` so that :func:`load_pair_source` rebuilds it in another process.

    The built-in sources are stored as data: ``pairs.json`` (kind and settings)
    plus ``pairs.npz`` (the series of ``DatasetPairs``/``ArrayPairs``), so a
    run folder needs neither the original file nor a registered id. Other
    sources (``CallablePairs`` or custom classes) are pickled to
    ``pairs.pkl``; that needs their code importable where they are loaded.

    Parameters
    ----------
    source : object
        Anything :func:`as_pair_source` accepts.
    folder : str or os.PathLike
        Created if needed.

    Returns
    -------
    pathlib.Path
        The ``pairs.json`` written.

    Raises
    ------
    ValueError
        The source is not picklable (e.g. a lambda).

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> _ = save_pair_source(SyntheticPairs(n=20, d=2), folder)
    >>> load_pair_source(folder)
    SyntheticPairs(n=(20, 20), m=None, d=2, noise=0.05, warp_strength=1.0)
    """
    from ..runs import atomic_write_bytes, write_json

    source = as_pair_source(source)
    folder = Path(folder)
    arrays = {}
    if type(source) is SyntheticPairs:
        spec = {
            "kind": "synthetic",
            "n": list(source.n),
            "m": None if source.m is None else list(source.m),
            "d": source.dim,
            "noise": source.noise,
            "warp_strength": source.warp_strength,
        }
    elif type(source) is DatasetPairs:
        spec = {
            "kind": "dataset",
            "count": len(source.series),
            "same_class": source.same_class,
            "labels": source.labels is not None,
        }
        arrays = {f"series_{i}": s for i, s in enumerate(source.series)}
        if source.labels is not None:
            labels = source.labels
            arrays["labels"] = labels.astype(str) if labels.dtype.kind == "O" else labels
    elif type(source) is ArrayPairs:
        spec = {"kind": "array", "count": len(source.pairs), "shuffle": source.shuffle}
        for i, (x, y) in enumerate(source.pairs):
            arrays[f"x_{i}"], arrays[f"y_{i}"] = x, y
    else:
        try:
            data = pickle.dumps(source)
        except Exception as error:  # pickling raises many types
            raise ValueError(
                f"pairs: the pair source {source!r} cannot be stored ({error}); "
                "use a module-level function or one of dtwrl.datasets' sources"
            ) from None
        atomic_write_bytes(folder / "pairs.pkl", data)
        spec = {"kind": "pickle"}
    if arrays:
        import io

        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        atomic_write_bytes(folder / "pairs.npz", buffer.getvalue())
    return write_json(folder / PAIRS_SPEC_FILE, spec)


def load_pair_source(folder: str | os.PathLike) -> PairSource:
    """The pair source :func:`save_pair_source` stored in ``folder``.

    Parameters
    ----------
    folder : str or os.PathLike

    Returns
    -------
    PairSource

    Raises
    ------
    ValueError
        ``folder`` holds no stored pair source or a damaged one.
    """
    folder = Path(folder)
    path = folder / PAIRS_SPEC_FILE
    try:
        spec = json.loads(path.read_text())
        kind = spec["kind"]
        if kind == "synthetic":
            m = None if spec["m"] is None else tuple(spec["m"])
            return SyntheticPairs(
                n=tuple(spec["n"]), m=m, d=spec["d"], noise=spec["noise"], warp_strength=spec["warp_strength"]
            )
        if kind == "pickle":
            return as_pair_source(pickle.loads((folder / "pairs.pkl").read_bytes()))
        with np.load(folder / "pairs.npz", allow_pickle=False) as data:
            if kind == "dataset":
                series = [data[f"series_{i}"] for i in range(spec["count"])]
                labels = data["labels"] if spec["labels"] else None
                return DatasetPairs(series, labels=labels, same_class=spec["same_class"])
            if kind == "array":
                pairs = [(data[f"x_{i}"], data[f"y_{i}"]) for i in range(spec["count"])]
                return ArrayPairs(pairs, shuffle=spec["shuffle"])
        raise ValueError(f"unknown kind {kind!r}")
    except (OSError, KeyError, ValueError, TypeError, pickle.UnpicklingError, AttributeError, ImportError) as error:
        reason = f"{type(error).__name__}: {error}"
        raise ValueError(f"{str(folder)!r} holds no readable stored pair source ({reason})") from None
