"""The pairs of a ``WarpingBatch.reset``, validated and packed for the load kernel (``envs.kernels.njit_load``).

``pack_pairs`` checks every pair (errors name ``pairs[k]``) and lays the
series out flat: all x values one after the other (``xs``), all y values
(``ys``), every pair's Sakoe-Chiba band rows (``lo``, ``hi``), and one row of
sizes and offsets per pair (``meta``), so one compiled call loads every pair
of a reset.

>>> packed = pack_pairs([([0.0, 1.0, 2.0], [0.0, 2.0])], band=None)
>>> packed.meta.tolist()
[[3, 2, 3, 2, 1, 0, 0, 0]]
>>> packed.xs.tolist(), packed.lo.tolist(), packed.hi.tolist()
([0.0, 1.0, 2.0], [0, 0, 0], [1, 1, 1])
"""

from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numba import njit

from dtwrl.bands import band_bounds, check_band
from dtwrl.validation import as_series, check_same_dim

__all__ = ["SMALLEST_PAIR_SCALE", "Packed", "check_pair", "check_pair_scale", "pack_pairs"]


@lru_cache(maxsize=4096)
def _band_rows(n, m, band):
    """Validated band bounds (lo, hi) of an n-by-m grid, cached: pair lengths repeat."""
    check_band(n, m, band, "band")
    return band_bounds(n, m, band)


@njit(cache=True)
def _njit_first_nonfinite(xs, ys, meta):
    """``2 k + side`` for the first pair k whose x (side 0) or y (side 1) holds a NaN or inf, or -1."""
    for k in range(meta.shape[0]):
        for t in range(meta[k, 5], meta[k, 5] + meta[k, 0]):
            if not np.isfinite(xs[t]):
                return 2 * k
        for t in range(meta[k, 6], meta[k, 6] + meta[k, 1]):
            if not np.isfinite(ys[t]):
                return 2 * k + 1
    return -1


_FLOAT64 = np.dtype(np.float64)

#: The smallest pair scale (mean local cost) a ``reward_scale="pair"`` reward divides by: the smallest normal
#: float64. Below it the scale is subnormal and its reciprocal, the reward factor, overflows to inf.
SMALLEST_PAIR_SCALE = float(np.finfo(np.float64).tiny)


def check_pair_scale(scale, reward_scale, k):
    """``ValueError`` naming ``pairs[k]`` when the pair's ``scale`` is not finite, or is too small for ``"pair"``.

    ``scale`` is the pair's mean local cost (1 when it is 0); the rewards of a
    ``reward_scale="pair"`` environment are the costs divided by it.

    >>> check_pair_scale(1e-320, "pair", 3)
    Traceback (most recent call last):
    ...
    ValueError: pairs[3]: the local costs underflow float64 (mean cost 1e-320), so reward_scale='pair' cannot \
scale the rewards; rescale the series, or pass a number as reward_scale
    >>> check_pair_scale(1e-320, 1.0, 3)  # unscaled rewards need no factor
    """
    if not np.isfinite(scale):
        raise ValueError(f"pairs[{k}]: the local costs overflow float64; rescale the series")
    if reward_scale == "pair" and scale < SMALLEST_PAIR_SCALE:
        raise ValueError(
            f"pairs[{k}]: the local costs underflow float64 (mean cost {scale:.3g}), so reward_scale='pair' cannot "
            "scale the rewards; rescale the series, or pass a number as reward_scale"
        )


def _is_plain_series(x):
    """True for what pair sources return: a C-contiguous float64 ``numpy.ndarray`` (n, d), n, d >= 1.

    ``dtwrl.validation.as_series`` returns such an array as it is once it is
    known to be finite (``pack_pairs`` checks that for all pairs at once).
    """
    return (
        type(x) is np.ndarray
        and x.dtype == _FLOAT64  # native float64 (not "is": arrays numba returns carry their own dtype object)
        and x.ndim == 2
        and x.shape[0] > 0
        and x.shape[1] > 0
        and x.flags.c_contiguous
    )


def _stacked(arrays):
    """The arrays concatenated along their first axis (the array itself when there is one)."""
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


class Packed(NamedTuple):
    """Validated pairs, packed for ``envs.kernels.njit_load``.

    The series, per-pair sizes and offsets, flat values, band rows.
    """

    series: list  # [(x, y)], (n, d) and (m, d) float64
    meta: np.ndarray  # int64 (P, 8): x.size, y.size, n, m, d, and the offsets of pair k in xs, ys and lo/hi
    xs: np.ndarray  # float64, every x flattened, one after the other
    ys: np.ndarray
    lo: np.ndarray  # int64, every pair's band rows, one after the other
    hi: np.ndarray
    same: np.ndarray  # int64 (P,): the first earlier k whose pair is the very same (x, y) object, else -1


def check_pair(pair, k):
    """``pair`` as ``(x, y)`` when it is a list or tuple of two items; else a ``ValueError`` naming ``pairs[k]``.

    >>> check_pair(np.zeros(3), 0)
    Traceback (most recent call last):
    ...
    ValueError: pairs[0] must be an (x, y) pair of series; got ndarray
    """
    if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
        raise ValueError(f"pairs[{k}] must be an (x, y) pair of series; got {type(pair).__name__}")
    return pair[0], pair[1]


def pack_pairs(pairs, band):
    """Validate ``[(x, y), ...]`` (errors name ``pairs[k]``) and pack them for ``envs.kernels.njit_load``."""
    if not isinstance(pairs, (list, tuple)) or len(pairs) == 0:
        raise ValueError(f"pairs must be a non-empty list of (x, y) pairs; got {type(pairs).__name__}")
    series, slow, first, same = [], False, {}, np.full(len(pairs), -1, dtype=np.int64)
    for k, pair in enumerate(pairs):
        earlier = first.setdefault(id(pair), k)
        if earlier != k:  # the same pair object again (e.g. K rollouts of one pair): its load is a copy
            same[k] = earlier
            series.append(series[earlier])
            continue
        x, y = check_pair(pair, k)
        if not (_is_plain_series(x) and _is_plain_series(y) and x.shape[1] == y.shape[1]):
            x = as_series(x, f"pairs[{k}][0]")
            y = as_series(y, f"pairs[{k}][1]")
            check_same_dim(x, y, (f"pairs[{k}][0]", f"pairs[{k}][1]"))
            slow = True
        if len(x) == 1 and len(y) == 1:
            raise ValueError(f"pairs[{k}] has two series of length 1: the alignment has no move to make")
        series.append((x, y))
    rows, x_at, y_at, row_at = [], 0, 0, 0
    for x, y in series:  # sizes and offsets in Python ints: a few pairs per call, cheaper than array calls
        rows.append((x.size, y.size, len(x), len(y), x.shape[1], x_at, y_at, row_at))
        x_at, y_at, row_at = x_at + x.size, y_at + y.size, row_at + len(x)
    meta = np.array(rows, dtype=np.int64)
    xs = _stacked([x.reshape(-1) for x, _ in series])
    ys = _stacked([y.reshape(-1) for _, y in series])
    if not slow:  # the fast path skipped as_series' finiteness check: one pass over all values instead
        bad = _njit_first_nonfinite(xs, ys, meta)
        if bad >= 0:
            k, side = divmod(bad, 2)
            as_series(series[k][side], f"pairs[{k}][{side}]")  # raises, naming the argument
    rows = [_band_rows(len(x), len(y), band) for x, y in series]  # (lo, hi) of each pair
    return Packed(series, meta, xs, ys, _stacked([r[0] for r in rows]), _stacked([r[1] for r in rows]), same)
