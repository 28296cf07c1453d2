"""Input checks of the TensorFlow half of dtwrl, defined once for every TF function.

Every public TF function (soft-DTW, smoothed DTW, the relaxations, the losses)
validates its arguments here. A check runs in one of three ways:

- **eagerly**: it raises ``ValueError`` (``TypeError`` for a wrong type) whose
  message names the argument, before any work;
- **inside** ``tf.function``: a check on values that are only known when the
  graph runs (NaN or inf, overflowing costs, a batch size or a per-pair
  length known only at run time) becomes an assertion that runs *before* the
  computation it guards and raises ``tf.errors.InvalidArgumentError`` with the
  same message;
- **inside** ``tf.function(jit_compile=True)``: XLA compiles assertions away and
  cannot raise at run time. A failed NaN/inf or overflow check makes the
  outputs of the pair it concerns NaN (the other pairs keep their values); a
  band that does not fit a pair's tensor lengths leaves that pair's value
  ``+inf``. An invalid pair never yields a finite (wrong) value; to get the
  error message, call the function once eagerly or inside a plain
  ``tf.function``, whose dynamic programme is compiled with XLA anyway.

Shape, rank, dtype and argument-type checks always run when the function is
called or traced, so they raise ``ValueError``/``TypeError`` in all three modes.

>>> import numpy as np
>>> x, y = check_pair_tf(np.zeros((2, 3)), np.ones((2, 4, 1)))
>>> x.shape.as_list(), y.shape.as_list()
([2, 3, 1], [2, 4, 1])
"""

import numpy as np
import tensorflow as tf
from tensorflow.python.framework import ops
from tensorflow.python.ops import control_flow_util

from .. import corridors
from ..bands import _check_band_value, check_band
from ..validation import as_real_array, check_metric, check_padded_paths

__all__ = [
    "as_batch",
    "check_costs",
    "check_finite",
    "check_gamma_dtype",
    "check_geometry",
    "check_lengths",
    "check_pair",
    "check_pair_tf",
    "check_paths",
    "check_same_length",
    "mask_nonfinite_pairs",
]


def _in_xla() -> bool:
    """True while tracing inside a ``jit_compile=True`` function (assertions would be compiled away)."""
    return control_flow_util.GraphOrParentsInXlaContext(ops.get_default_graph())


def _require(ok, message: str, guarded):
    """Enforce the boolean tensor ``ok`` (scalar, or (B,) for one flag per pair) on the tensors ``guarded``.

    Eagerly: ``ValueError(message)`` if any flag is False. In a graph: an assertion
    that every tensor of ``guarded`` depends on (so it runs before them). Under
    XLA: the floating tensors of ``guarded`` (batch first) become NaN for the
    failing pairs (integer tensors pass unchanged). Returns ``guarded`` as a list.
    """
    if tf.executing_eagerly():
        if not bool(tf.reduce_all(ok)):
            raise ValueError(message)
        return list(guarded)
    if _in_xla():
        out = []
        for tensor in guarded:
            if tensor.dtype.is_floating:
                trailing = tf.ones([tensor.shape.rank - ok.shape.rank], tf.int32)
                flags = tf.reshape(ok, tf.concat([tf.shape(ok), trailing], 0))
                tensor = tf.where(flags, tensor, tf.constant(np.nan, tensor.dtype))
            out.append(tensor)
        return out
    assertion = tf.debugging.Assert(tf.reduce_all(ok), [message])
    with tf.control_dependencies([assertion]):
        return [tf.identity(tensor) for tensor in guarded]


def _pair_axes(x):
    """Every axis of a batch-first tensor but the first: the per-pair reduction axes."""
    return list(range(1, x.shape.rank))


def check_finite(x, name: str):
    """``x`` (batch first), checked for NaN or inf: ``ValueError`` eagerly, else as the module docstring says.

    >>> check_finite(tf.constant([[1.0, np.inf]]), "x")
    Traceback (most recent call last):
    ...
    ValueError: x must be finite; it holds NaN or inf
    """
    ok = tf.reduce_all(tf.math.is_finite(x), axis=_pair_axes(x)) if x.shape.rank > 1 else tf.math.is_finite(x)
    return _require(ok, f"{name} must be finite; it holds NaN or inf", [x])[0]


NONFINITE_MODES = ("error", "inf")


def mask_nonfinite_pairs(x, y, nonfinite: str = "error"):
    """Under ``nonfinite="inf"``: zero the pairs of (B, n[, d]) batches that hold NaN or inf, and flag them.

    Returns ``(x, y, ok)``: ``ok`` is a bool (B,) tensor, False for the pairs whose
    ``x`` or ``y`` holds NaN or inf, whose series are replaced by zeros so that
    the computation downstream stays finite; ``ok`` is None for
    ``nonfinite="error"`` and for batches whose shapes the usual checks will
    refuse (``x`` and ``y`` then come back unchanged). Only ``tf.where`` and
    reductions: it works eagerly, in graphs and under XLA, where the default
    check cannot raise (module docstring).

    >>> x, y, ok = mask_nonfinite_pairs([[0.0, 1.0], [np.nan, 1.0]], [[1.0], [2.0]], nonfinite="inf")
    >>> ok.numpy().tolist(), x.numpy().tolist()
    ([True, False], [[0.0, 1.0], [0.0, 0.0]])
    """
    if not isinstance(nonfinite, str) or nonfinite not in NONFINITE_MODES:
        raise ValueError(f"nonfinite must be one of {', '.join(map(repr, NONFINITE_MODES))}; got {nonfinite!r}")
    if nonfinite == "error":
        return x, y, None
    x, y = _to_tensor(x, "x"), _to_tensor(y, "y")
    ranks_ok = x.shape.rank in (2, 3) and y.shape.rank in (2, 3)
    if not ranks_ok or not x.shape[:1].is_compatible_with(y.shape[:1]):
        return x, y, None
    ok = tf.logical_and(
        tf.reduce_all(tf.math.is_finite(x), axis=_pair_axes(x)), tf.reduce_all(tf.math.is_finite(y), axis=_pair_axes(y))
    )

    def zeroed(t):
        flags = tf.reshape(ok, tf.concat([tf.shape(ok), tf.ones([t.shape.rank - 1], tf.int32)], 0))
        return tf.where(flags, t, tf.zeros_like(t))

    return zeroed(x), zeroed(y), ok


def _to_tensor(x, name: str, dtype=None):
    """A real tensor-like as a float tensor (integers become float32, or ``dtype``); TypeError otherwise."""
    if not tf.is_tensor(x):
        arr = as_real_array(x, name, "an array of real numbers")
        x = tf.convert_to_tensor(arr if arr.dtype.kind == "f" else arr.astype(np.float32))
    elif isinstance(x, tf.Variable):
        x = tf.convert_to_tensor(x)  # a read of the variable: custom gradients take tensors, the tape still sees it
    if not (x.dtype.is_floating or x.dtype.is_integer) or x.dtype == tf.bool:
        raise TypeError(f"{name} must hold real numbers; got dtype {x.dtype.name}")
    if dtype is not None:
        return tf.cast(x, dtype)
    if x.dtype not in (tf.float32, tf.float64):
        if not x.dtype.is_integer:
            raise TypeError(f"{name} must be float32 or float64; got {x.dtype.name}")
        x = tf.cast(x, tf.float32)
    return x


def as_batch(x, name: str, dtype=None):
    """Validate a batch of series into a float tensor (B, n, d); a rank-2 input (B, n) is univariate.

    Parameters
    ----------
    x : tensor-like, shape (B, n) or (B, n, d)
        Real values; integers become float32, other floats keep their dtype.
    name : str
        The argument name used in error messages.
    dtype : tf.DType or None
        Cast to this dtype (e.g. ``y_true`` to the dtype of ``y_pred``).

    Returns
    -------
    tf.Tensor, shape (B, n, d), float32 or float64

    Raises
    ------
    TypeError
        Non-real values (strings, booleans, complex numbers).
    ValueError
        Wrong rank, an empty axis, an unknown number of features d, NaN or inf.

    Examples
    --------
    >>> as_batch([[1, 2, 3]], "x").dtype.name
    'float32'
    """
    x = _to_tensor(x, name, dtype)
    rank = x.shape.rank
    if rank not in (2, 3):
        raise ValueError(f"{name} must have shape (B, n) or (B, n, d); got shape {x.shape}")
    if rank == 2:
        x = x[:, :, tf.newaxis]
    if any(s == 0 for s in x.shape):
        raise ValueError(f"{name} must not be empty; got shape {x.shape}")
    if x.shape[2] is None:
        raise ValueError(f"{name} must have a static number of features d; got shape {x.shape}")
    return check_finite(x, name)


def _cost_bound(span, metric):
    """Largest local cost of frames whose features each differ by at most ``span`` (..., d) -> (...).

    It follows the kernels' own arithmetic (the squares are formed even for
    "euclidean"), so it is infinite exactly when a kernel could overflow.
    """
    if metric == "abs":
        return tf.reduce_sum(span, axis=-1)
    squares = tf.reduce_sum(tf.square(span), axis=-1)
    return tf.sqrt(squares) if metric == "euclidean" else squares


def _overflow_message(names, dtype):
    return f"{names[0]} and {names[1]}: the local costs overflow {tf.as_dtype(dtype).name}; rescale the series"


def check_pair(x, y, metric: str = "sqeuclidean", names=("x", "y")):
    """Check that two validated batches (B, n, d), (B, m, d) agree and that their DTW costs fit in their dtype.

    Parameters
    ----------
    x, y : tf.Tensor, shapes (B, n, d) and (B, m, d)
        Outputs of :func:`as_batch`.
    metric : {"sqeuclidean", "euclidean", "abs"}
        The local cost whose path sums must stay finite.
    names : tuple of str
        The two argument names used in error messages.

    Returns
    -------
    x, y : tf.Tensor
        The inputs, guarded by the run-time checks (batch size B and overflow).

    Raises
    ------
    ValueError
        Different dtypes, batch sizes or feature dimensions; or values so large
        that a path's summed local cost (at most ``n + m - 1`` terms) overflows
        the dtype ("the local costs overflow float32; rescale the series").

    Examples
    --------
    >>> check_pair(tf.constant([[[1e30]]]), tf.constant([[[-1e30]]]))
    Traceback (most recent call last):
    ...
    ValueError: x and y: the local costs overflow float32; rescale the series
    """
    metric = check_metric(metric)
    a, b = names
    if x.dtype != y.dtype:
        raise ValueError(f"{a} and {b} must have the same dtype; got {a} {x.dtype.name} and {b} {y.dtype.name}")
    for axis, what in ((0, "number of series B (batch size)"), (2, "number of features d")):
        if x.shape[axis] is not None and y.shape[axis] is not None and x.shape[axis] != y.shape[axis]:
            raise ValueError(
                f"{a} and {b} must have the same {what}; got {a} with {x.shape[axis]} and {b} with {y.shape[axis]}"
            )
    if x.shape[0] is None or y.shape[0] is None:
        same = tf.equal(tf.shape(x)[0], tf.shape(y)[0])
        x, y = _require(same, f"{a} and {b} must have the same number of series B (batch size)", [x, y])
    hi = tf.maximum(tf.reduce_max(x, axis=1), tf.reduce_max(y, axis=1))  # (B, d)
    lo = tf.minimum(tf.reduce_min(x, axis=1), tf.reduce_min(y, axis=1))
    terms = tf.cast(tf.shape(x)[1] + tf.shape(y)[1] - 1, x.dtype)
    bound = _cost_bound(hi - lo, metric) * terms  # (B,): no path of the pair costs more
    ok = tf.math.is_finite(bound)
    return tuple(_require(ok, _overflow_message(names, x.dtype), [x, y]))


def check_pair_tf(y_true, y_pred, metric: str = "sqeuclidean"):
    """Validate a batch of pairs for the TensorFlow losses and relaxations.

    Parameters
    ----------
    y_true : tensor-like, shape (B, n) or (B, n, d)
        Float32, float64 or integers (as ``y_pred``), cast to the dtype of ``y_pred``.
    y_pred : real tensor-like, shape (B, m) or (B, m, d)
    metric : {"sqeuclidean", "euclidean", "abs"}
        The local cost whose path sums must not overflow.

    Returns
    -------
    y_true, y_pred : tf.Tensor, shapes (B, n, d) and (B, m, d)

    Raises
    ------
    ValueError, TypeError
        As :func:`as_batch` and :func:`check_pair`, naming ``y_true`` or ``y_pred``.

    Examples
    --------
    >>> a, b = check_pair_tf([[0.0, 1.0]], [[0.0, 1.0, 2.0]])
    >>> a.shape.as_list(), b.shape.as_list()
    ([1, 2, 1], [1, 3, 1])
    """
    y_true = _to_tensor(y_true, "y_true")  # its own dtype first: a float16 y_true is named, not cast
    y_pred = as_batch(y_pred, "y_pred")
    y_true = as_batch(y_true, "y_true", dtype=y_pred.dtype)
    return check_pair(y_true, y_pred, metric, names=("y_true", "y_pred"))


def check_same_length(x, y, names=("x", "y")):
    """Check that two validated batches (B, n, d), (B, m, d) have ``n == m``; returns them (guarded).

    >>> check_same_length(tf.zeros((1, 2, 1)), tf.zeros((1, 3, 1)))
    Traceback (most recent call last):
    ...
    ValueError: x and y must have the same length; got x with n=2 and y with m=3
    """
    a, b = names
    n, m = x.shape[1], y.shape[1]
    if n is not None and m is not None:
        if n != m:
            raise ValueError(f"{a} and {b} must have the same length; got {a} with n={n} and {b} with m={m}")
        return x, y
    return tuple(_require(tf.equal(tf.shape(x)[1], tf.shape(y)[1]), f"{a} and {b} must have the same length", [x, y]))


def check_costs(D, name: str = "D"):
    """Validate a batch of cost matrices (B, n, m): real, non-empty, finite, and summable along a path.

    >>> check_costs([[[1.0, 2.0]]]).shape.as_list()
    [1, 1, 2]
    """
    D = _to_tensor(D, name)
    if D.shape.rank != 3:
        raise ValueError(f"{name} must have shape (B, n, m); got shape {D.shape}")
    if any(s == 0 for s in D.shape):
        raise ValueError(f"{name} must not be empty; got shape {D.shape}")
    D = check_finite(D, name)
    terms = tf.cast(tf.shape(D)[1] + tf.shape(D)[2] - 1, D.dtype)
    ok = tf.math.is_finite(tf.reduce_max(tf.abs(D), axis=[1, 2]) * terms)
    message = f"{name}: the costs overflow {D.dtype.name} when summed along a path; rescale them"
    return _require(ok, message, [D])[0]


def check_gamma_dtype(gamma: float, dtype, name: str = "gamma") -> float:
    """Check that a validated ``gamma`` and its inverse are normal numbers of ``dtype``.

    The smoothed min divides by ``gamma``: a ``gamma`` that rounds to 0 or to a
    subnormal number in ``dtype``, or whose inverse overflows, gives inf or NaN.

    >>> check_gamma_dtype(1e-38, tf.float32)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: gamma=1e-38 is too small for float32: it and 1 / gamma must be normal float32 numbers ...
    """
    kind = tf.as_dtype(dtype).name
    info = np.finfo(tf.as_dtype(dtype).as_numpy_dtype)
    low = max(float(info.tiny), 1.0 / float(info.max))
    if not low <= gamma <= float(info.max):
        bound = f"gamma >= {low:g}" if gamma < low else f"gamma <= {float(info.max):g}"
        raise ValueError(
            f"{name}={gamma:g} is too {'small' if gamma < low else 'large'} for {kind}: "
            f"it and 1 / gamma must be normal {kind} numbers ({bound})"
        )
    return gamma


def check_lengths(lengths, size, batch, name: str):
    """Validate per-example lengths: int (B,) with 1 <= length <= size; None stays None.

    >>> check_lengths([3, 5], 4, 2, "x_lengths")
    Traceback (most recent call last):
    ...
    ValueError: x_lengths must lie in [1, 4]; got [3, 5]
    """
    if lengths is None:
        return None
    if not tf.is_tensor(lengths):
        arr = np.asarray(lengths)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{name} must be integers; got dtype {arr.dtype}")
        if arr.size and (arr.max() > np.iinfo(np.int32).max or arr.min() < np.iinfo(np.int32).min):
            raise ValueError(f"{name} must lie in [1, {size}]; got {arr.tolist()}")
        lengths = tf.convert_to_tensor(arr.astype(np.int32))
    if not lengths.dtype.is_integer:
        raise TypeError(f"{name} must be integers; got dtype {lengths.dtype.name}")
    if lengths.shape.rank != 1 or (batch is not None and lengths.shape[0] not in (None, batch)):
        raise ValueError(f"{name} must have shape (B,) = ({batch},); got shape {lengths.shape}")
    static = tf.get_static_value(lengths)
    if static is not None:
        if (static < 1).any() or (size is not None and (static > size).any()):
            raise ValueError(f"{name} must lie in [1, {size}]; got {static.tolist()}")
        return tf.cast(lengths, tf.int32)
    lengths = tf.cast(lengths, tf.int32)  # graph values: checked when the graph runs
    ok = lengths >= 1
    if size is not None:
        ok = ok & (lengths <= size)
    checks = [tf.reduce_all(ok)]
    if batch is not None:
        checks.append(tf.equal(tf.size(lengths), batch))
    return _require(
        tf.reduce_all(tf.stack(checks)), f"{name} must have shape ({batch},) and lie in [1, {size}]", [lengths]
    )[0]


def _band_feasible(n, m, band):
    """Per pair, whether a warping path fits inside ``band`` for lengths n, m (int32 (B,)); mirrors dtwrl.bands."""
    n, m = tf.cast(n, tf.int64), tf.cast(m, tf.int64)
    rows = tf.range(tf.reduce_max(n), dtype=tf.int64)[None, :]  # (1, R)
    r = tf.minimum(tf.constant(band, tf.int64), tf.maximum(n, m))[:, None]
    n1, m1 = (n - 1)[:, None], (m - 1)[:, None]
    centre = rows * m1
    width = r * tf.minimum(n1, m1)
    den = tf.maximum(n1, 1)
    lo = tf.maximum(-tf.math.floordiv(width - centre, den), 0)
    hi = tf.minimum(tf.math.floordiv(centre + width, den), m1)
    real = rows < n[:, None]
    nonempty = tf.reduce_all((lo <= hi) | ~real, axis=1)
    touching = tf.reduce_all((lo[:, 1:] <= hi[:, :-1] + 1) | ~real[:, 1:], axis=1)
    trivial = (n == 1) | (m == 1)
    return trivial | (nonempty & touching)


def check_geometry(D, band, x_lengths, y_lengths):
    """Validate band and lengths against costs laid out (n, m, B); returns (band, x_lengths, y_lengths).

    A band is checked (``dtwrl.bands.check_band``) against the full sizes, then
    for every pair's own lengths: at once when they are known (eagerly, or
    constants), else when the graph runs (under XLA an infeasible pair's value
    is +inf). Lengths given for one side only default to the full size on the
    other side. A band wider than ``max(n, m)`` is capped there (it allows
    every cell either way).
    """
    n, m, B = D.shape
    x_lengths = check_lengths(x_lengths, n, B, "x_lengths")
    y_lengths = check_lengths(y_lengths, m, B, "y_lengths")
    if (x_lengths is None) != (y_lengths is None):
        shape = tf.shape(D)
        if x_lengths is None:
            x_lengths = tf.fill(shape[2:], shape[0])
        else:
            y_lengths = tf.fill(shape[2:], shape[1])
    if band is not None:
        band = _check_band_value(band)
        if n is None or m is None:
            raise ValueError(f"band needs static lengths n and m; got shape {D.shape}")
        band = check_band(n, m, min(band, max(n, m)))
        if x_lengths is not None:
            xs, ys = tf.get_static_value(x_lengths), tf.get_static_value(y_lengths)
            if xs is not None and ys is not None:
                for nb, mb in sorted(set(zip(xs.tolist(), ys.tolist()))):
                    check_band(nb, mb, band)
            else:
                ok = _band_feasible(x_lengths, y_lengths, band)
                message = (
                    f"band={band} is too narrow for the lengths of some pair (x_lengths, y_lengths): "
                    "no warping path fits inside it"
                )
                x_lengths, y_lengths = _require(ok, message, [x_lengths, y_lengths])
    return band, x_lengths, y_lengths


def check_paths(paths_idx, path_lengths, n, m, names=("paths_idx", "path_lengths")):
    """Validate padded warping paths (B, L, 2) and their lengths (B,) on n-by-m grids.

    Every path must run from (0, 0) to (n-1, m-1) in steps (1, 1), (1, 0) or
    (0, 1) within its first ``path_lengths[b]`` cells, and
    ``1 <= path_lengths[b] <= L``. Known values are checked with
    :func:`dtwrl.validation.check_padded_paths` (``ValueError`` naming the
    pair); graph values when the graph runs.

    Returns
    -------
    paths_idx : tf.Tensor of int32, shape (B, L, 2)
    path_lengths : tf.Tensor of int32, shape (B,)

    Examples
    --------
    >>> idx, lengths = check_paths([[[0, 0], [1, 1]]], [2], 2, 2)
    >>> lengths.numpy().tolist()
    [2]
    """
    a, b = names
    paths_idx, path_lengths = tf.convert_to_tensor(paths_idx), tf.convert_to_tensor(path_lengths)
    if not paths_idx.dtype.is_integer or paths_idx.shape.rank != 3 or paths_idx.shape[-1] not in (None, 2):
        raise ValueError(
            f"{a} must be an int tensor of shape (B, Lmax, 2); got {paths_idx.dtype.name} {paths_idx.shape}"
        )
    if not path_lengths.dtype.is_integer or path_lengths.shape.rank != 1:
        raise ValueError(f"{b} must be an int tensor of shape (B,); got {path_lengths.dtype.name} {path_lengths.shape}")
    batches = paths_idx.shape[0], path_lengths.shape[0]
    if None not in batches and batches[0] != batches[1]:
        raise ValueError(f"{a} and {b} must hold as many paths; got {paths_idx.shape[0]} and {path_lengths.shape[0]}")
    idx_value, len_value = tf.get_static_value(paths_idx), tf.get_static_value(path_lengths)
    if idx_value is not None and len_value is not None and n is not None and m is not None:
        check_padded_paths(idx_value, len_value, int(n), int(m), names)
        return tf.cast(paths_idx, tf.int32), tf.cast(path_lengths, tf.int32)
    paths_idx, path_lengths = tf.cast(paths_idx, tf.int32), tf.cast(path_lengths, tf.int32)
    bad = _bad_paths_tf(paths_idx, path_lengths, n, m)
    message = (
        f"{a} and {b} must describe warping paths from (0, 0) to (n-1, m-1) in steps (1, 1), (1, 0) or "
        f"(0, 1), with 1 <= {b} <= Lmax"
    )
    paths_idx, path_lengths = _require(~bad, message, [paths_idx, path_lengths])
    return paths_idx, path_lengths


def _bad_paths_tf(paths_idx, path_lengths, n, m):
    """TF twin of :func:`dtwrl.validation.bad_padded_paths`, for values known only when the graph runs."""
    L = tf.shape(paths_idx)[1]
    in_range = (path_lengths >= 1) & (path_lengths <= L)
    safe = tf.clip_by_value(path_lengths, 1, L)
    last = tf.gather(paths_idx, safe - 1, batch_dims=1)
    steps = paths_idx[:, 1:] - paths_idx[:, :-1]
    legal = tf.reduce_all((steps == 0) | (steps == 1), axis=2) & (tf.reduce_sum(steps, axis=2) > 0)
    counted = tf.range(L - 1)[None, :] < (safe - 1)[:, None]
    ends = tf.stack([tf.cast(n, tf.int32) - 1, tf.cast(m, tf.int32) - 1])
    return (
        ~in_range
        | tf.reduce_any(paths_idx[:, 0] != 0, axis=1)
        | tf.reduce_any(last != ends, axis=1)
        | tf.reduce_any(counted & ~legal, axis=1)
    )


def _static_lengths(lengths, batch, size):
    """The lengths (B,) as NumPy when known before the graph runs (None lengths: the full static size), else None."""
    if lengths is None:
        return None if batch is None or size is None else np.full(batch, size, np.int64)
    return tf.get_static_value(lengths)


def corridor_tensor(corridor, x, y, x_lengths=None, y_lengths=None, name="corridor"):
    """Validated corridors (B, n, 2) int64 of validated batches x (B, n, d), y (B, m, d).

    ``corridor`` is an int array (B, n, 2) of inclusive column bounds, or a source spec such as
    ``"fastdtw:r=8"`` (:mod:`dtwrl.corridors`), computed here from the values of ``x`` and ``y``
    outside the gradient. An array known now (eagerly, or a constant) is checked now
    (``ValueError`` naming ``corridor``, the pair and the row); one known only when a graph runs is
    checked then (``tf.errors.InvalidArgumentError`` with the same message). Under ``jit_compile=True``
    only a corridor array known when tracing works (a source name runs NumPy).
    """
    B, n, m = tf.shape(x)[0], tf.shape(x)[1], tf.shape(y)[1]
    xl = tf.fill([B], n) if x_lengths is None else x_lengths
    yl = tf.fill([B], m) if y_lengths is None else y_lengths
    if isinstance(corridor, str):
        spec = corridors.check_corridor_spec(corridor, name)

        def run(x, y, xl, yl):
            return corridors.corridor_from_name(spec, x, y, xl, yl, name=name)

        out = tf.numpy_function(run, [tf.stop_gradient(x), tf.stop_gradient(y), xl, yl], tf.int64, stateful=False)
    else:
        if not tf.is_tensor(corridor):
            corridor = np.asarray(corridor)
            if not np.issubdtype(corridor.dtype, np.integer) or corridor.dtype == np.bool_:
                raise TypeError(
                    f"{name} must be an int array of shape (B, n, 2) or a source name; got {corridor.dtype}"
                )
        elif not corridor.dtype.is_integer:
            raise TypeError(f"{name} must be an int array of shape (B, n, 2) or a source name; got {corridor.dtype}")
        static = [
            tf.get_static_value(corridor),
            _static_lengths(x_lengths, x.shape[0], x.shape[1]),
            _static_lengths(y_lengths, y.shape[0], y.shape[1]),
            x.shape[1],
        ]
        if not any(v is None for v in static):  # checked now; a constant also compiles under jit_compile=True
            checked = corridors.check_corridor(static[0], static[1], static[2], int(static[3]), name)
            if tf.is_tensor(corridor) and corridor.dtype == tf.int64:
                return corridor  # valid as it is (a corridor loss's own, 1 MB at B = 8, H = 8192): no copy
            return tf.constant(checked)

        def run(c, xl, yl, n):
            return corridors.check_corridor(c, xl, yl, int(n), name)

        out = tf.numpy_function(run, [corridor, xl, yl, n], tf.int64, stateful=False)
    out.set_shape([x.shape[0], x.shape[1], 2])
    return out
