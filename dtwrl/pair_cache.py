"""Per-pair values kept for ``every`` calls, keyed by the pair's target: the one reuse rule of dtwrl.

In training, the same target series comes back in shuffled batches, each time with a new forecast. A
value computed for a pair on one step (its sampled paths, its corridor) may serve it for the next
``every - 1`` steps instead of being computed again. :func:`pair_keys` names each pair of a batch by the
bytes of its target row (values, shape and dtype) and by integers that tell pairs of the same target apart
(lengths), and :class:`PairCache` holds one value per key with the call at which it was stored.
:class:`dtwrl.aligners.ReusedPaths` (sampled paths, and the lattice corridor derived from them) and
:class:`dtwrl.corridors.CorridorSchedule` (``SoftDTWLoss(corridor_every=k)``) both use it.

A target that occurs twice in one batch gets two keys (its first and second occurrence): each occurrence
keeps its own value, as two pairs would, whatever their forecasts.

Examples
--------
>>> import numpy as np
>>> cache = PairCache(every=2)
>>> keys = pair_keys(np.array([[0.0, 1.0], [5.0, 5.0]]), 3)
>>> cache.tick(); cache.due(keys)
[0, 1]
>>> cache.put(keys[0], "a"); cache.put(keys[1], "b")
>>> cache.tick(); cache.due(keys), cache.get(keys[0])  # one call later: kept
([], 'a')
>>> cache.tick(); cache.due(keys)  # two calls old: due again
[0, 1]
"""

import numpy as np

__all__ = ["PairCache", "pair_keys"]


def pair_keys(targets, *extras):
    """One hashable key per pair of a batch: its target row's bytes, the ``extras``, and its occurrence.

    Parameters
    ----------
    targets : array_like, shape (B, ...)
        One target row per pair (e.g. ``y_true (B, n, d)``); two rows are the same target when their shape,
        dtype and values are.
    *extras : int or int array_like of shape (B,)
        Integers that belong to a pair's identity (its lengths, the forecast's length): a scalar for the
        whole batch, or one per pair.

    Returns
    -------
    list of B tuples
        ``(shape, dtype, bytes, *extras, occurrence)``: ``occurrence`` counts the earlier pairs of the batch
        with the same target and extras, so a duplicated pair gets a key of its own.

    Raises
    ------
    ValueError
        If ``targets`` has no batch axis or an extra holds other than one integer per pair.

    Examples
    --------
    >>> keys = pair_keys(np.array([[1.0], [1.0], [2.0]]), 4)
    >>> [key[-2:] for key in keys], keys[0][:-1] == keys[1][:-1]
    ([(4, 0), (4, 1), (4, 0)], True)
    """
    if np.ndim(targets) < 1:
        raise ValueError(f"targets must have a batch axis, shape (B, ...); got the scalar {targets!r}")
    targets = np.ascontiguousarray(targets)
    B = len(targets)
    columns = []
    for k, extra in enumerate(extras):
        values = np.asarray(extra)
        if values.ndim == 0:
            values = np.full(B, values)
        if values.shape != (B,) or not np.issubdtype(values.dtype, np.integer):
            raise ValueError(f"extras[{k}] must be an int or B = {B} ints; got {extra!r}")
        columns.append([int(v) for v in values.tolist()])
    seen = {}
    keys = []
    for b, row in enumerate(targets):
        base = (row.shape, row.dtype.str, row.tobytes(), *(column[b] for column in columns))
        occurrence = seen.get(base, 0)
        seen[base] = occurrence + 1
        keys.append(base + (occurrence,))
    return keys


class PairCache:
    """Values of pairs, each kept for ``every`` calls of its owner after the call that stored it.

    The owner calls :meth:`tick` once per call (batch), asks which of its pairs are :meth:`due` (never
    stored, or stored ``every`` or more calls ago: dropped by that tick), computes their values and
    :meth:`put` s them; the others :meth:`get` theirs. Values derived from an entry (a corridor from a
    pair's paths) live in its :meth:`derived` dict and go with it: a new :meth:`put` starts a new dict.

    Parameters
    ----------
    every : int >= 1
        Calls a value serves (the call that stored it included); 1 recomputes every pair on every call.
    name : str
        The argument name in error messages.

    Attributes
    ----------
    calls : int
        Ticks so far.

    Examples
    --------
    >>> cache = PairCache(every=3)
    >>> key = pair_keys(np.zeros((1, 2)))[0]
    >>> cache.tick(); cache.put(key, "paths"); cache.derived(key)["corridor"] = "from the paths"
    >>> cache.tick(); cache.derived(key)
    {'corridor': 'from the paths'}
    >>> cache.put(key, "new paths"); cache.derived(key)  # a new value: nothing derived from it yet
    {}
    """

    def __init__(self, every=1, name="every"):
        if isinstance(every, (bool, np.bool_)) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"{name} must be an int >= 1; got {every!r}")
        self.every = int(every)
        self.calls = 0
        self._entries = {}  # key -> [value, call at which it was stored, {values derived from it}]

    def tick(self):
        """Start a call: advance the clock and drop the entries ``every`` or more calls old."""
        self.calls += 1
        now = self.calls - 1
        self._entries = {key: entry for key, entry in self._entries.items() if now - entry[1] < self.every}

    def due(self, keys):
        """The positions in ``keys`` (list) of the pairs with no live value, in order."""
        return [b for b, key in enumerate(keys) if key not in self._entries]

    def put(self, key, value):
        """Store ``value`` for ``key`` at the current call (replacing any older one and what derives from it)."""
        self._entries[key] = [value, self.calls - 1, {}]

    def get(self, key):
        """The value stored for ``key`` (``KeyError`` when it has none)."""
        return self._entries[key][0]

    def derived(self, key):
        """The dict of values derived from ``key``'s value, dropped with it."""
        return self._entries[key][2]

    def __contains__(self, key):
        return key in self._entries

    def __len__(self):
        return len(self._entries)

    def __repr__(self):
        return f"PairCache(every={self.every}, calls={self.calls}, pairs={len(self)})"
