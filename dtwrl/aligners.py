"""Aligners: callables that turn batches of series pairs into warping paths.

The aligner protocol (``docs/ARCHITECTURE.md``) is the seam between the loss
functions of :mod:`dtwrl.losses` and any source of alignments, the RL policy of
``agents`` included, without dtwrl importing it. An aligner is a callable

    aligner(y_true, y_pred) -> list of B int arrays (L_b, 2)

given two NumPy batches ``y_true (B, n, d)`` and ``y_pred (B, m, d)``. Path ``b``
runs from ``(0, 0)`` to ``(n-1, m-1)`` in steps ``(1, 1)``, ``(1, 0)``,
``(0, 1)``; its first column indexes ``y_true[b]``, its second ``y_pred[b]``.

Several paths per pair
----------------------
An aligner may instead return, for any pair ``b``, a *group* of ``K_b >= 1``
such paths: a list (or tuple) of int arrays ``(L_bk, 2)``, or one int array
``(K_b, L, 2)``. A stochastic aligner uses it for paths sampled from its
distribution over paths (``agents.PolicyAligner(samples=K)``). Consumers
average over the group: :class:`dtwrl.losses.PathLoss` takes the mean cost of
the ``K_b`` paths, a Monte-Carlo estimate of the aligner's expected path cost,
in the spirit of soft-DTW's expected alignment. Single paths and groups may be
mixed within one batch. :func:`path_groups` normalises a result to one list per
pair and :func:`align_batch_groups` validates and pads every path of a batch;
:func:`align_batch` keeps the one-path-per-pair form and refuses groups.

Serialisation
-------------
An aligner that can be rebuilt exposes ``get_config()`` (a JSON-able dict) and
is registered with :func:`register_aligner`. The registry is keyed by the class
path string ``"<module>.<qualname>"``, so :func:`aligner_to_config` writes
``{"class_name": "agents.policy.aligner.PolicyAligner", "config": {...}}`` and
:func:`aligner_from_config` rebuilds it. When the key is not registered yet,
:func:`aligner_from_config` imports the module named by the key (importing it
runs its ``register_aligner`` call) and then looks again, also at the name the
module exports under the key (a class whose module moved keeps its old path
through an alias module); a class that is still not registered is refused, so a config cannot instantiate
arbitrary classes. The class is rebuilt with ``cls.from_config(config)`` when it
has one, else ``cls(**config)``.
"""

import importlib

import numpy as np

from .bands import _bounds, _check_band_value, check_band
from .exact_dtw import _njit_dtw_path
from .local_cost import _metric_code
from .oracle import fastdtw_path
from .pair_cache import PairCache, pair_keys
from .validation import as_batch, bad_padded_paths, check_cost_range, check_metric, check_path, check_radius

# "<module>.<qualname>" -> aligner class
_REGISTRY = {}


def _class_key(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def register_aligner(cls):
    """Register an aligner class so that configs naming it can be rebuilt.

    Usable as a class decorator. The key is the class path string
    ``f"{cls.__module__}.{cls.__qualname__}"``.

    Parameters
    ----------
    cls : type
        A class whose instances are aligners and expose ``get_config()``; it may
        define a ``from_config(config)`` classmethod, else it is rebuilt with
        ``cls(**config)``.

    Returns
    -------
    type
        ``cls`` unchanged.

    Raises
    ------
    TypeError
        If ``cls`` is not a class, or its instances are not callable or lack
        ``get_config``.

    Examples
    --------
    >>> @register_aligner
    ... class Diagonal:
    ...     def __call__(self, y_true, y_pred):
    ...         return [np.stack([np.arange(len(a))] * 2, axis=1) for a in y_true]
    ...     def get_config(self):
    ...         return {}
    >>> aligner_from_config(aligner_to_config(Diagonal())).__class__ is Diagonal
    True
    """
    if not isinstance(cls, type):
        raise TypeError(f"cls must be a class; got {cls!r}")
    instances_callable = callable(getattr(cls, "__call__", None))  # noqa: B004 (the instances must be callable)
    if not instances_callable or not callable(getattr(cls, "get_config", None)):
        raise TypeError(f"cls must define __call__(y_true, y_pred) and get_config(); {cls.__qualname__} does not")
    _REGISTRY[_class_key(cls)] = cls
    return cls


def aligner_to_config(aligner):
    """Serialise a registered aligner into a JSON-able dict.

    Parameters
    ----------
    aligner : object
        An instance of a class registered with :func:`register_aligner`.

    Returns
    -------
    dict
        ``{"class_name": "<module>.<qualname>", "config": aligner.get_config()}``.

    Raises
    ------
    ValueError
        If the aligner's class is not registered.

    Examples
    --------
    >>> aligner_to_config(ExactDTWAligner(band=2))
    {'class_name': 'dtwrl.aligners.ExactDTWAligner', 'config': {'metric': 'sqeuclidean', 'band': 2}}
    """
    key = _class_key(type(aligner))
    if _REGISTRY.get(key) is not type(aligner):
        raise ValueError(
            f"aligner of class {key} is not registered: decorate the class with "
            "dtwrl.aligners.register_aligner so that it can be saved and rebuilt"
        )
    return {"class_name": key, "config": dict(aligner.get_config())}


def _resolve(key):
    """The registered class for ``key``, importing the module that defines it if needed."""
    if key not in _REGISTRY:
        parts = key.split(".")
        for cut in range(len(parts) - 1, 0, -1):  # longest importable module prefix
            module = ".".join(parts[:cut])
            try:
                found = importlib.import_module(module)
            except ModuleNotFoundError as err:
                if err.name is None or not (module + ".").startswith(err.name + "."):
                    raise  # the module exists but one of its own imports failed: show that error
                continue
            for name in parts[cut:]:  # a class re-exported under an older path (a module that moved)
                found = getattr(found, name, None)
            if key not in _REGISTRY and isinstance(found, type) and _REGISTRY.get(_class_key(found)) is found:
                return found
            break
    if key not in _REGISTRY:
        raise ValueError(f"config names aligner class {key!r}, which is not registered; known: {sorted(_REGISTRY)}")
    return _REGISTRY[key]


def aligner_from_config(config):
    """Rebuild an aligner from the dict written by :func:`aligner_to_config`.

    Parameters
    ----------
    config : dict
        ``{"class_name": "<module>.<qualname>", "config": {...}}``.

    Returns
    -------
    callable
        ``cls.from_config(config["config"])`` if the class defines it, else
        ``cls(**config["config"])``.

    Raises
    ------
    ValueError
        If ``config`` is malformed or names a class that is not registered
        even after importing its module.

    Examples
    --------
    >>> aligner_from_config({"class_name": "dtwrl.aligners.FastDTWAligner", "config": {"radius": 3}})
    FastDTWAligner(radius=3, metric='sqeuclidean')
    """
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"config must be a dict with a 'class_name' string and a 'config' dict; got {config!r}")
    inner = config.get("config", {})
    if not isinstance(inner, dict):
        raise ValueError(f"config['config'] must be a dict; got {inner!r}")
    cls = _resolve(config["class_name"])
    if hasattr(cls, "from_config"):
        return cls.from_config(dict(inner))
    return cls(**inner)


def get_aligner(identifier):
    """An aligner from a name, a config dict or an aligner.

    Parameters
    ----------
    identifier : {"exact", "fastdtw"}, dict or callable
        ``"exact"``: :class:`ExactDTWAligner` with its defaults; ``"fastdtw"``:
        :class:`FastDTWAligner` with its defaults; a dict: passed to
        :func:`aligner_from_config`; a callable: returned unchanged.

    Returns
    -------
    callable

    Examples
    --------
    >>> get_aligner("fastdtw")
    FastDTWAligner(radius=1, metric='sqeuclidean')
    """
    if isinstance(identifier, str):
        if identifier == "exact":
            return ExactDTWAligner()
        if identifier == "fastdtw":
            return FastDTWAligner()
        raise ValueError(f"aligner must be 'exact', 'fastdtw', a config dict or a callable; got {identifier!r}")
    if isinstance(identifier, dict):
        return aligner_from_config(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"aligner must be 'exact', 'fastdtw', a config dict or a callable; got {identifier!r}")


def check_pair_batches(y_true, y_pred, metric=None):
    """Validate two batches of series that are aligned pair by pair.

    Parameters
    ----------
    y_true : array_like, shape (B, n) or (B, n, d)
    y_pred : array_like, shape (B, m) or (B, m, d)
    metric : {"sqeuclidean", "euclidean", "abs"} or None
        When given, also refuse values whose path costs under this local cost
        overflow float64 (:func:`dtwrl.validation.check_cost_range`).

    Returns
    -------
    y_true, y_pred : numpy.ndarray, shapes (B, n, d) and (B, m, d), float64

    Raises
    ------
    ValueError
        If either batch is invalid (see :func:`as_batch`), the batch sizes or
        feature dimensions differ, or (with ``metric``) the costs overflow.

    Examples
    --------
    >>> a, b = check_pair_batches(np.zeros((2, 3)), np.ones((2, 5, 1)))
    >>> a.shape, b.shape
    ((2, 3, 1), (2, 5, 1))
    """
    y_true, y_pred = as_batch(y_true, "y_true"), as_batch(y_pred, "y_pred")
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(
            f"y_true and y_pred must hold the same number of series B; got {y_true.shape[0]} and {y_pred.shape[0]}"
        )
    if y_true.shape[2] != y_pred.shape[2]:
        raise ValueError(
            f"y_true and y_pred must have the same number of features d; got {y_true.shape[2]} and {y_pred.shape[2]}"
        )
    if metric is not None:
        check_cost_range(y_true, y_pred, check_metric(metric), names=("y_true", "y_pred"))
    return y_true, y_pred


@register_aligner
class ExactDTWAligner:
    """Optimal DTW warping paths, one per pair (the exact oracle).

    Path ``b`` minimises ``sum_{(i, j) in P} C_b[i, j]`` over the warping paths
    inside the band, with ``C_b`` the local cost between ``y_true[b]`` and
    ``y_pred[b]``; it is the path of :func:`dtwrl.dtw_path` (ties prefer the
    diagonal). The batch is validated once and the numba kernel runs pair by
    pair, O(n m) time each.

    Parameters
    ----------
    metric : {"sqeuclidean", "euclidean", "abs"}
        Local cost.
    band : int >= 0 or None
        Sakoe-Chiba half-width (:mod:`dtwrl.bands`); None for no constraint.

    Examples
    --------
    >>> aligner = ExactDTWAligner()
    >>> [p.tolist() for p in aligner(np.array([[0.0, 1.0, 2.0]]), np.array([[0.0, 2.0]]))]
    [[[0, 0], [1, 0], [2, 1]]]
    """

    def __init__(self, metric="sqeuclidean", band=None):
        self.metric = check_metric(metric)
        self.band = _check_band_value(band)  # type and sign; the width is checked per batch

    def __call__(self, y_true, y_pred):
        """Optimal paths for a batch: list of B int64 arrays (L_b, 2)."""
        y_true, y_pred = check_pair_batches(y_true, y_pred, self.metric)
        n, m = y_true.shape[1], y_pred.shape[1]
        lo, hi = _bounds(n, m, check_band(n, m, self.band))
        code = _metric_code(self.metric)
        return [_njit_dtw_path(a, b, code, n, m, lo, hi)[1] for a, b in zip(y_true, y_pred)]

    def get_config(self):
        """The constructor arguments: ``{"metric": ..., "band": ...}``."""
        return {"metric": self.metric, "band": self.band}

    def __repr__(self):
        return f"ExactDTWAligner(metric={self.metric!r}, band={self.band!r})"


@register_aligner
class FastDTWAligner:
    """FastDTW warping paths (Salvador and Chan, 2007), one per pair.

    Each path is the one :func:`dtwrl.fastdtw_path` returns: FastDTW's
    multiresolution approximation, not necessarily optimal. It is the baseline
    that approximate aligners (the RL policy among them) are compared with.

    Parameters
    ----------
    radius : int >= 0
        FastDTW's search radius around the projected coarse path.
    metric : {"sqeuclidean", "euclidean", "abs"}
        Local cost.

    Examples
    --------
    >>> aligner = FastDTWAligner(radius=1)
    >>> [p.tolist() for p in aligner(np.array([[0.0, 1.0, 2.0]]), np.array([[0.0, 2.0]]))]
    [[[0, 0], [1, 1], [2, 1]]]
    """

    def __init__(self, radius=1, metric="sqeuclidean"):
        self.radius = check_radius(radius)
        self.metric = check_metric(metric)

    def __call__(self, y_true, y_pred):
        """FastDTW paths for a batch: list of B int64 arrays (L_b, 2)."""
        y_true, y_pred = check_pair_batches(y_true, y_pred, self.metric)
        return [
            np.asarray(fastdtw_path(a, b, radius=self.radius, metric=self.metric)[1], dtype=np.int64)
            for a, b in zip(y_true, y_pred)
        ]

    def get_config(self):
        """The constructor arguments: ``{"radius": ..., "metric": ...}``."""
        return {"radius": self.radius, "metric": self.metric}

    def __repr__(self):
        return f"FastDTWAligner(radius={self.radius!r}, metric={self.metric!r})"


@register_aligner
class ReusedPaths:
    """An aligner that keeps each pair's paths for ``every`` calls instead of aligning the pair on every call.

    A pair is known by the values of its ``y_true`` series and the length of its ``y_pred``: in
    forecasting, the target of one training series, whatever the current forecast (the rule of
    :mod:`dtwrl.pair_cache`; a target twice in one batch is two pairs). On a call, the
    pairs whose paths are ``every`` or more calls old (or were never aligned) go to ``aligner`` in one
    batch, in their batch order; the others get the paths computed for them then, on the forecast of
    that time. ``every = 1`` calls ``aligner`` on the whole batch every time, so it returns exactly what
    ``aligner`` returns. Every call of the wrapper ticks its clock, the calls on other pairs (e.g. a
    validation batch) included. A loss over stale paths, e.g. the lattice of
    :class:`dtwrl.losses.PathLoss`, follows the current forecast only within the old paths' cells.

    Parameters
    ----------
    aligner : callable
        Any aligner (module docstring), e.g. ``agents.PolicyAligner(samples=16)``.
    every : int >= 1
        Calls a pair's paths are used for (its own call included).

    Attributes
    ----------
    aligned : int
        Pairs sent to ``aligner`` so far (the cost: ``aligned / pairs asked`` of aligning every call).
    widened : int
        Lattice corridors computed so far (:meth:`lattice_corridors`).

    Examples
    --------
    >>> aligner = ReusedPaths(ExactDTWAligner(), every=2)
    >>> y = np.array([[0.0, 0.0, 2.0]])
    >>> aligner(y, y)[0].tolist()
    [[0, 0], [1, 1], [2, 2]]
    >>> aligner(y, np.array([[0.0, 2.0, 2.0]]))[0].tolist()  # the same target: last call's path, not its own
    [[0, 0], [1, 1], [2, 2]]
    >>> aligner(y, np.array([[0.0, 2.0, 2.0]]))[0].tolist(), aligner.aligned  # two calls old: aligned again
    ([[0, 0], [1, 0], [2, 1], [2, 2]], 2)
    """

    def __init__(self, aligner, every=1):
        self.aligner = get_aligner(aligner)
        self._cache = PairCache(every)  # pair key -> its paths; derived: radius -> its lattice corridor (n, 2)
        self.every = self._cache.every
        self.aligned = self.widened = 0

    @property
    def calls(self):
        """Calls so far (each :meth:`__call__` and :meth:`lattice_corridors` is one)."""
        return self._cache.calls

    def _paths(self, y_true, y_pred):
        """Per pair, its key (:func:`dtwrl.pair_cache.pair_keys`) and its paths, fresh or reused; one tick."""
        cache = self._cache
        cache.tick()
        keys = pair_keys(y_true, y_pred.shape[1])
        stale = cache.due(keys)
        if stale:
            whole = len(stale) == len(keys)
            fresh = list(self.aligner(y_true, y_pred) if whole else self.aligner(y_true[stale], y_pred[stale]))
            if len(fresh) != len(stale):
                raise ValueError(f"aligner returned {len(fresh)} entries for a batch of {len(stale)} pairs")
            self.aligned += len(stale)
            for b, paths in zip(stale, fresh):
                cache.put(keys[b], paths)
        return keys, [cache.get(key) for key in keys]

    def __call__(self, y_true, y_pred):
        """Per pair, its paths (one path or a group, as ``aligner`` returns them), fresh or reused."""
        return self._paths(*check_pair_batches(y_true, y_pred))[1]

    def lattice_corridors(self, y_true, y_pred, radius=0):
        """The lattice corridors of the pairs' paths (:meth:`__call__`, one tick), each kept as long as its paths.

        ``dtwrl.corridors.widen_paths`` of each pair's group widened by ``radius``: the corridor
        ``dtwrl.losses.PathLoss(path_reduction="lattice")`` runs on, computed (and the fresh paths
        checked) only when the pair's paths are new, so a reused pair costs neither, whichever
        batches it was absent from meanwhile (``widened`` counts the corridors computed).

        Returns
        -------
        numpy.ndarray of int64, shape (B, n, 2)

        Examples
        --------
        >>> y = np.array([[0.0, 0.0, 2.0]])
        >>> ReusedPaths(ExactDTWAligner(), every=2).lattice_corridors(y, y)[0].tolist()
        [[0, 0], [1, 1], [2, 2]]
        """
        from .corridors import widen_paths

        y_true, y_pred = check_pair_batches(y_true, y_pred)
        n, m = y_true.shape[1], y_pred.shape[1]
        keys, results = self._paths(y_true, y_pred)
        fresh = [b for b, key in enumerate(keys) if radius not in self._cache.derived(key)]
        if fresh:
            groups = path_groups([results[b] for b in fresh], len(fresh))
            flat = [path for group in groups for path in group]
            indices, lengths = pad_paths(flat)
            bad = bad_padded_paths(indices, lengths, n, m)
            if bad.any():
                check_path(flat[int(np.argmax(bad))], n, m, name="a path from the aligner")  # raises
            rows = widen_paths(groups, [n] * len(fresh), [m] * len(fresh), n, radius)
            for b, corridor in zip(fresh, rows):
                self._cache.derived(keys[b])[radius] = corridor
            self.widened += len(fresh)
        return np.stack([self._cache.derived(key)[radius] for key in keys])

    def get_config(self):
        """``{"aligner": <its config>, "every": every}`` (the wrapped aligner must be registered too)."""
        return {"aligner": aligner_to_config(self.aligner), "every": self.every}

    @classmethod
    def from_config(cls, config):
        """Rebuild from :meth:`get_config`."""
        return cls(aligner_from_config(config["aligner"]), config["every"])

    def __repr__(self):
        return f"ReusedPaths({self.aligner!r}, every={self.every})"


def pad_paths(paths):
    """Stack paths of different lengths into one padded index array.

    Parameters
    ----------
    paths : sequence of B int arrays, shapes (L_b, 2)

    Returns
    -------
    indices : numpy.ndarray of int32, shape (B, Lmax, 2)
        ``indices[b, :L_b] = paths[b]``; the padding rows are ``(0, 0)``, a
        valid cell, so gathers stay in range; consumers mask them out.
    lengths : numpy.ndarray of int32, shape (B,)
        ``L_b``.

    Examples
    --------
    >>> idx, lengths = pad_paths([np.array([[0, 0], [1, 1]]), np.array([[0, 0], [0, 1], [1, 1]])])
    >>> idx.tolist(), lengths.tolist()
    ([[[0, 0], [1, 1], [0, 0]], [[0, 0], [0, 1], [1, 1]]], [2, 3])
    """
    paths = [np.asarray(p) for p in paths]
    if not paths:
        raise ValueError("paths must hold at least one path; got an empty sequence")
    for b, p in enumerate(paths):
        if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] == 0 or p.dtype.kind not in "iu":
            raise ValueError(f"paths[{b}] must be a non-empty int array of shape (L, 2); got {p.dtype} {p.shape}")
    lengths = np.array([len(p) for p in paths], dtype=np.int32)
    indices = np.zeros((len(paths), lengths.max(), 2), dtype=np.int32)
    for b, p in enumerate(paths):
        indices[b, : len(p)] = p
    return indices, lengths


def _is_group(entry):
    """True when one pair's entry of an aligner's result is a group of paths rather than one path."""
    if isinstance(entry, np.ndarray):
        return entry.ndim == 3
    return isinstance(entry, (list, tuple)) and len(entry) > 0 and np.ndim(entry[0]) == 2


def path_groups(result, batch_size):
    """Normalise an aligner's result to a list of path groups, one per pair.

    Parameters
    ----------
    result : sequence of length B
        What an aligner returned: for each pair one int path ``(L, 2)``, or a
        group of paths (a list of ``(L_k, 2)`` arrays, or one ``(K, L, 2)`` array).
    batch_size : int
        ``B``, the number of pairs the aligner was given.

    Returns
    -------
    list of B lists of numpy.ndarray
        ``groups[b]`` holds the ``K_b >= 1`` paths of pair ``b`` (``K_b = 1`` for
        a single path). The paths themselves are not checked here
        (:func:`align_batch_groups` does).

    Raises
    ------
    ValueError
        If ``result`` does not hold ``B`` entries, or a group is empty.

    Examples
    --------
    >>> one = np.array([[0, 0], [1, 1]])
    >>> [len(g) for g in path_groups([one, [one, one, one]], 2)]
    [1, 3]
    """
    result = list(result)
    if len(result) != batch_size:
        raise ValueError(f"aligner returned {len(result)} paths for a batch of {batch_size} pairs")
    groups = []
    for b, entry in enumerate(result):
        if _is_group(entry):
            group = [np.asarray(path) for path in entry]
        elif isinstance(entry, (list, tuple)) and len(entry) == 0:
            raise ValueError(f"aligner returned an empty group of paths for pair {b}")
        else:
            group = [np.asarray(entry)]
        groups.append(group)
    return groups


def align_batch_groups(aligner, y_true, y_pred):
    """Run an aligner on a batch, check every path (one or several per pair), and pad them all.

    Parameters
    ----------
    aligner : callable
        ``aligner(y_true, y_pred)`` returning, per pair, one int path ``(L, 2)``
        or a group of paths (module docstring).
    y_true : array_like, shape (B, n) or (B, n, d)
    y_pred : array_like, shape (B, m) or (B, m, d)

    Returns
    -------
    indices : numpy.ndarray of int32, shape (P, Lmax, 2)
        Every path of the batch, pair by pair (``P = sum_b K_b``), padded as
        :func:`pad_paths` does.
    lengths : numpy.ndarray of int32, shape (P,)
    owners : numpy.ndarray of int32, shape (P,)
        The pair each path belongs to, non-decreasing: ``[0] * K_0 + [1] * K_1 + ...``.

    Raises
    ------
    ValueError
        If the aligner returns a number of entries other than B, an empty group,
        or a path that is not a warping path of its n-by-m grid (the message
        names the pair, and the path within a group).

    Examples
    --------
    >>> two = lambda a, b: [[np.array([[0, 0], [0, 1], [1, 1]]), np.array([[0, 0], [1, 1]])]]
    >>> idx, lengths, owners = align_batch_groups(two, np.zeros((1, 2)), np.zeros((1, 2)))
    >>> idx.shape, lengths.tolist(), owners.tolist()
    ((2, 3, 2), [3, 2], [0, 0])
    """
    y_true, y_pred = check_pair_batches(y_true, y_pred)
    groups = path_groups(aligner(y_true, y_pred), len(y_true))
    flat = [(b, k, path) for b, group in enumerate(groups) for k, path in enumerate(group)]
    indices, lengths = pad_paths([path for _, _, path in flat])
    owners = np.array([b for b, _, _ in flat], dtype=np.int32)
    n, m = y_true.shape[1], y_pred.shape[1]
    bad = bad_padded_paths(indices, lengths, n, m)
    if bad.any():
        b, k, path = flat[int(np.argmax(bad))]
        name = f"path {b} from the aligner" if len(groups[b]) == 1 else f"path {k} of pair {b} from the aligner"
        check_path(path, n, m, name=name)  # raises with the details
    return indices, lengths, owners


def align_batch(aligner, y_true, y_pred):
    """Run an aligner on a batch, check every path, and pad them.

    Parameters
    ----------
    aligner : callable
        ``aligner(y_true, y_pred) -> list of B int arrays (L_b, 2)``.
    y_true : array_like, shape (B, n) or (B, n, d)
    y_pred : array_like, shape (B, m) or (B, m, d)

    Returns
    -------
    indices : numpy.ndarray of int32, shape (B, Lmax, 2)
    lengths : numpy.ndarray of int32, shape (B,)
        As :func:`pad_paths`.

    Raises
    ------
    ValueError
        If the aligner returns a number of paths other than B, a group of
        several paths for a pair (use :func:`align_batch_groups`), or a path
        that is not a warping path of its n-by-m grid (the message names the pair).

    Examples
    --------
    >>> idx, lengths = align_batch(ExactDTWAligner(), np.zeros((2, 2)), np.zeros((2, 3)))
    >>> idx.shape, lengths.tolist()
    ((2, 3, 2), [3, 3])
    """
    indices, lengths, owners = align_batch_groups(aligner, y_true, y_pred)
    if len(owners) != int(owners[-1]) + 1:
        b = int(np.argmax(np.bincount(owners) > 1))
        raise ValueError(
            f"aligner returned {int(np.sum(owners == b))} paths for pair {b}; this consumer takes one path per pair "
            "(dtwrl.losses.PathLoss averages over several)"
        )
    return indices, lengths
