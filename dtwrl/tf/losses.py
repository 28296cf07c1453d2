"""Keras losses for every DTW-family training signal, and :func:`get_loss`.

Each class is a ``tf.keras.losses.Loss`` registered for serialisation under the
package ``"dtwrl"``, so a model compiled with it can be saved (``.keras``, H5
or SavedModel) and reloaded without ``custom_objects``.

Shapes and reduction
--------------------
``y_true`` is ``(B, n, d)`` and ``y_pred`` is ``(B, m, d)``; ``(B, n)`` and
``(B, m)`` are univariate (d = 1). The lengths ``n`` and ``m`` may differ.
``call`` returns one value per pair, shape ``(B,)``, and Keras applies its
standard reduction (by default the mean over the batch, weighted by
``sample_weight`` of shape ``(B,)`` when given). ``y_true`` is cast to the dtype
of ``y_pred``.

Scale
-----
By default the losses are *not* divided by the length: soft-DTW, its divergence,
smoothed DTW and path costs are sums of local costs along (soft) paths, as in
Cuturi and Blondel's (2017) multistep forecasting experiments and in DILATE.
``normalize=True`` divides each pair's value by ``max(n, m)``, the fewest cells
any warping path has, so that for ``n == m`` a diagonal alignment gives the
per-step squared error (``d`` times Keras' MSE). DILATE follows its paper:
raw soft-DTW plus the temporal term normalised by ``n m``.

Examples
--------
>>> import tensorflow as tf
>>> model = tf.keras.Sequential([tf.keras.layers.Dense(4, input_shape=(3,))])
>>> model.compile(optimizer="adam", loss=get_loss("soft_dtw", gamma=0.1))
>>> loss = SoftDTWLoss(gamma=0.1)
>>> float(loss(tf.zeros((2, 4)), tf.zeros((2, 4)))) < 0.0  # soft-DTW is below DTW = 0
True
"""

import tensorflow as tf

from ..aligners import (
    ExactDTWAligner,
    FastDTWAligner,
    aligner_from_config,
    aligner_to_config,
    get_aligner,
)
from ..bands import _check_band_value
from ..corridors import CorridorSchedule
from ..validation import check_alpha, check_gamma, check_metric
from .checks import check_pair_tf, check_same_length
from .relaxations import aligned_path_cost, check_pair_lengths, check_path_reduction, dilate
from .sdtw import soft_dtw, soft_dtw_divergence
from .smoothed import smoothed_dtw

__all__ = [
    "DILATELoss",
    "LOSS_NAMES",
    "MSELoss",
    "PathLoss",
    "SoftDTWDivergenceLoss",
    "SoftDTWLoss",
    "SparseDTWLoss",
    "get_loss",
]

_AUTO = tf.keras.losses.Reduction.AUTO


def _check_normalize(normalize):
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be True or False; got {normalize!r}")
    return normalize


def _per_step(values, y_true, y_pred, x_lengths=None, y_lengths=None):
    """Divide per-pair values (B,) by max(n, m), or by max(n_b, m_b) with lengths."""
    if x_lengths is not None:
        return values / tf.cast(tf.maximum(x_lengths, y_lengths), values.dtype)
    steps = tf.maximum(tf.shape(y_true)[1], tf.shape(y_pred)[1])
    return values / tf.cast(steps, values.dtype)


class _DTWLoss(tf.keras.losses.Loss):
    """Shared plumbing: validation of the pair, optional length normalisation, config."""

    def __init__(self, normalize, reduction, name):
        super().__init__(reduction=reduction, name=name)
        self.normalize = _check_normalize(normalize)

    def call(self, y_true, y_pred):
        """Per-pair loss values, shape (B,)."""
        return self.pair_values(y_true, y_pred)

    def pair_values(self, y_true, y_pred, x_lengths=None, y_lengths=None):
        """Per-pair loss values (B,) of padded batches: ``x_lengths``/``y_lengths`` (B,) are the true lengths."""
        y_true, y_pred = check_pair_tf(y_true, y_pred)
        lengths = check_pair_lengths(y_true, y_pred, x_lengths, y_lengths)
        values = self._values(y_true, y_pred, *lengths)
        return _per_step(values, y_true, y_pred, *lengths) if self.normalize else values

    def get_config(self):
        return {**super().get_config(), "normalize": self.normalize}


class _SmoothedDTWLoss(_DTWLoss):
    """A loss over one smoothed DTW value per pair, parametrised by (gamma, band, metric).

    A subclass names its default Keras name in ``default_name`` and its values in ``_values``.
    """

    default_name = None

    def __init__(
        self,
        gamma=1.0,
        band=None,
        metric="sqeuclidean",
        normalize=False,
        reduction=_AUTO,
        name=None,
        corridor=None,
        corridor_every=1,
    ):
        super().__init__(normalize, reduction, self.default_name if name is None else name)
        self.gamma = check_gamma(gamma)
        self.band = _check_band_value(band)
        self.metric = check_metric(metric)
        self.corridor, self.corridor_every = corridor, corridor_every
        self._schedule = None
        if corridor is not None:
            if not isinstance(corridor, str):
                raise TypeError(f"corridor must be a corridor source name such as 'fastdtw:r=8'; got {corridor!r}")
            if self.band is not None:
                raise ValueError(f"band and corridor are exclusive; got band={self.band}, corridor={corridor!r}")
            self._schedule = CorridorSchedule(corridor, corridor_every)
        elif corridor_every != 1:
            raise ValueError(f"corridor_every applies to a corridor only; got corridor_every={corridor_every!r}")

    def _options(self, y_true, y_pred, x_lengths, y_lengths):
        """The keyword arguments of this loss's value function for one batch.

        ``gamma``, ``band``, ``metric`` and the lengths, plus this batch's
        ``corridor`` when the loss has one (:meth:`_corridor`).
        """
        options = dict(gamma=self.gamma, band=self.band, metric=self.metric, x_lengths=x_lengths, y_lengths=y_lengths)
        if self._schedule is not None:
            options["corridor"] = self._corridor(y_true, y_pred, x_lengths, y_lengths)
        return options

    def _corridor(self, y_true, y_pred, x_lengths, y_lengths):
        """The corridors (B, n, 2) of this batch from the schedule (outside the gradient)."""
        batch = tf.shape(y_true)[:1]
        xl = tf.fill(batch, tf.shape(y_true)[1]) if x_lengths is None else x_lengths
        yl = tf.fill(batch, tf.shape(y_pred)[1]) if y_lengths is None else y_lengths
        values = [tf.stop_gradient(y_true), tf.stop_gradient(y_pred), xl, yl]
        return tf.numpy_function(self._schedule, values, tf.int64, stateful=True, name="corridor")

    def get_config(self):
        config = {**super().get_config(), "gamma": self.gamma, "band": self.band, "metric": self.metric}
        if self.corridor is not None:
            config.update(corridor=self.corridor, corridor_every=self.corridor_every)
        return config


@tf.keras.utils.register_keras_serializable(package="dtwrl")
class SoftDTWLoss(_SmoothedDTWLoss):
    """soft-DTW (Cuturi and Blondel, 2017) as a Keras loss.

    Per pair: ``sdtw_gamma(y_true, y_pred) = -gamma log sum_P exp(-<A_P, C> / gamma)``
    over the warping paths ``P`` inside the band (:func:`dtwrl.soft_dtw`). It
    can be negative and tends to exact DTW as ``gamma -> 0``.

    Parameters
    ----------
    gamma : float > 0
        Smoothing.
    band : int >= 0 or None
        Sakoe-Chiba half-width (:mod:`dtwrl.bands`).
    metric : {"sqeuclidean", "euclidean", "abs"}
        Local cost.
    normalize : bool
        Divide each pair's value by ``max(n, m)`` (module docstring).
    reduction : tf.keras.losses.Reduction
    name : str
    corridor : str or None
        A corridor source spec (:mod:`dtwrl.corridors`), e.g. ``"fastdtw:r=8"``: soft-DTW over
        the corridor computed from the batch (``y_true`` rows, ``y_pred`` columns), at a cost
        proportional to its cells. Exclusive with ``band``.
    corridor_every : int >= 1
        Recompute the corridor on one step in ``corridor_every`` (a new batch shape always
        recomputes it; :class:`dtwrl.corridors.CorridorSchedule`).

    Examples
    --------
    >>> loss = SoftDTWLoss(gamma=1.0)
    >>> round(float(loss([[0.0, 1.0]], [[0.0, 1.0]])), 4)  # -log(1 + 2 e^-1)
    -0.5514
    >>> round(float(SoftDTWLoss(gamma=1.0, corridor="band:frac=0")([[0.0, 1.0]], [[0.0, 1.0]])), 4)  # one path
    0.0
    """

    default_name = "soft_dtw"

    def _values(self, y_true, y_pred, x_lengths=None, y_lengths=None):
        return soft_dtw(y_true, y_pred, **self._options(y_true, y_pred, x_lengths, y_lengths))


@tf.keras.utils.register_keras_serializable(package="dtwrl")
class SoftDTWDivergenceLoss(_SmoothedDTWLoss):
    """soft-DTW divergence (Blondel, Mensch and Vert, 2021) as a Keras loss.

    Per pair: ``sdtw(x, y) - (sdtw(x, x) + sdtw(y, y)) / 2``
    (:func:`dtwrl.soft_dtw_divergence`), non-negative and zero iff
    ``y_pred == y_true``.

    Parameters
    ----------
    gamma, band, metric, normalize, reduction, name
        As in :class:`SoftDTWLoss` (the divergence takes no corridor).

    Examples
    --------
    >>> loss = SoftDTWDivergenceLoss(gamma=1.0)
    >>> float(loss([[0.0, 1.0, 2.0]], [[0.0, 1.0, 2.0]]))
    0.0
    """

    def __init__(
        self, gamma=1.0, band=None, metric="sqeuclidean", normalize=False, reduction=_AUTO, name="soft_dtw_divergence"
    ):
        super().__init__(gamma, band, metric, normalize, reduction, name)

    def _values(self, y_true, y_pred, x_lengths=None, y_lengths=None):
        return soft_dtw_divergence(y_true, y_pred, **self._options(y_true, y_pred, x_lengths, y_lengths))


@tf.keras.utils.register_keras_serializable(package="dtwrl")
class SparseDTWLoss(_SmoothedDTWLoss):
    """DTW smoothed by a squared-L2 regulariser (Mensch and Blondel, 2018).

    Per pair: the dynamic program of DTW whose ``min`` is replaced by
    ``min_gamma(a) = min_{q in simplex} <q, a> + gamma / 2 ||q||^2`` (a
    sparsemax), :func:`dtwrl.smoothed_dtw` with ``regularizer="l2"``. Its
    alignments are sparse, unlike soft-DTW's.

    Parameters
    ----------
    gamma, band, metric, normalize, reduction, name, corridor, corridor_every
        As in :class:`SoftDTWLoss`.

    Examples
    --------
    >>> loss = SparseDTWLoss(gamma=0.1)
    >>> round(float(loss([[0.0, 1.0]], [[0.0, 1.0]])), 6)  # far from ties: DTW + gamma / 2 per cell
    0.1
    """

    default_name = "sparse_dtw"

    def _values(self, y_true, y_pred, x_lengths=None, y_lengths=None):
        return smoothed_dtw(y_true, y_pred, regularizer="l2", **self._options(y_true, y_pred, x_lengths, y_lengths))


@tf.keras.utils.register_keras_serializable(package="dtwrl")
class DILATELoss(tf.keras.losses.Loss):
    """DILATE (Le Guen and Thome, 2019): shape plus temporal distortion.

    Per pair: ``alpha * sdtw_gamma(C) + (1 - alpha) * <A_gamma(C), Omega>``
    with ``Omega[i, j] = (i - j)^2 / (n m)`` (:func:`dtwrl.tf.relaxations.dilate`,
    which states the conventions). The default reduction (batch mean) gives
    the authors' batch loss.

    Parameters
    ----------
    alpha : float in [0, 1]
        Weight of the shape term.
    gamma : float > 0
        soft-DTW smoothing (the paper uses 0.01).
    band : int >= 0 or None
    metric : {"sqeuclidean", "euclidean", "abs"}
    reduction : tf.keras.losses.Reduction
    name : str

    Examples
    --------
    >>> loss = DILATELoss(alpha=1.0, gamma=1.0)  # alpha = 1: soft-DTW
    >>> round(float(loss([[0.0, 1.0]], [[0.0, 1.0]])), 4)
    -0.5514
    """

    def __init__(self, alpha=0.5, gamma=0.01, band=None, metric="sqeuclidean", reduction=_AUTO, name="dilate"):
        super().__init__(reduction=reduction, name=name)
        self.alpha = check_alpha(alpha)
        self.gamma = check_gamma(gamma)
        self.band = _check_band_value(band)
        self.metric = check_metric(metric)

    def call(self, y_true, y_pred):
        """Per-pair DILATE values, shape (B,)."""
        return self.pair_values(y_true, y_pred)

    def pair_values(self, y_true, y_pred, x_lengths=None, y_lengths=None):
        """Per-pair DILATE values (B,) of padded batches: ``x_lengths``/``y_lengths`` (B,) are the true lengths."""
        return dilate(
            y_true,
            y_pred,
            alpha=self.alpha,
            gamma=self.gamma,
            band=self.band,
            metric=self.metric,
            x_lengths=x_lengths,
            y_lengths=y_lengths,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "alpha": self.alpha,
            "gamma": self.gamma,
            "band": self.band,
            "metric": self.metric,
        }


@tf.keras.utils.register_keras_serializable(package="dtwrl")
class PathLoss(_DTWLoss):
    """Cost of the warping paths an aligner chooses, differentiated along them.

    Per pair: ``sum_{(i, j) in P_b} c(y_true[b, i], y_pred[b, j])`` with
    ``P_b = aligner(y_true, y_pred)[b]`` computed in NumPy on the current values
    (``tf.numpy_function``, so it works in ``model.fit``'s graph but not under
    XLA). The gradient flows into ``y_pred`` only through the cells on the
    paths. With :class:`~dtwrl.aligners.ExactDTWAligner` this is exact DTW with
    its subgradient; with the RL policy (``agents.PolicyAligner``) it is the
    return of the policy's episode, negated.

    An aligner may return several paths for a pair (a group of ``K_b`` paths,
    :mod:`dtwrl.aligners`); the pair's value is then their mean cost
    ``(1 / K_b) sum_k sum_{(i, j) in P_bk} c(y_true[b, i], y_pred[b, j])``, and
    its gradient the mean of the paths' gradients. With paths sampled from a
    stochastic policy (``agents.PolicyAligner(samples=K, temperature=t)``) this
    is a Monte-Carlo estimate of the policy's expected path cost: a smoothing
    of DTW by an expectation over alignments, as soft-DTW's gradient is the
    expected alignment under its Gibbs distribution over paths.
    ``path_reduction="softmin"`` replaces the mean by the normalised soft minimum
    ``-gamma log((1 / K_b) sum_k exp(-c_bk / gamma))``: soft-DTW's Gibbs
    smoothing restricted to the sampled paths, whose gradient weights each path
    by ``softmax(-c_b / gamma)``, so cheaper paths pull harder (the best of the
    K as ``gamma -> 0``, the mean as ``gamma -> inf``).
    ``path_reduction="lattice"`` is soft-DTW at ``gamma`` over every warping
    path whose cells all lie on the union of the pair's paths: the K samples
    and all their recombinations where they touch, exponentially many paths
    from K rollouts. Its gradient is soft-DTW's expected alignment restricted to
    the cells the policy visits; on the whole grid it is soft-DTW itself.
    ``lattice_radius=r`` widens the lattice by ``r`` cells around each path
    cell, as FastDTW widens its projected path.

    Parameters
    ----------
    aligner : callable, "exact", "fastdtw" or dict
        Any aligner (:mod:`dtwrl.aligners`); ``"exact"`` and ``"fastdtw"`` build
        :class:`~dtwrl.aligners.ExactDTWAligner` or
        :class:`~dtwrl.aligners.FastDTWAligner` with ``metric``; a dict is an
        aligner config. Saving the loss needs an aligner registered with
        :func:`~dtwrl.aligners.register_aligner`.
    metric : {"sqeuclidean", "euclidean", "abs"}
        Local cost summed along the paths.
    normalize : bool
        Divide each pair's value by ``max(n, m)`` (after ``path_reduction``).
    path_reduction : {"mean", "softmin", "lattice"}
        How a group of paths of one pair is reduced to its value
        (:func:`dtwrl.tf.relaxations.aligned_path_cost`); the same for one path.
    gamma : float > 0 or None
        Smoothing of ``"softmin"`` and ``"lattice"`` on the scale of the
        unnormalised path costs (soft-DTW's ``gamma``); None with ``"mean"``.
    lattice_radius : int >= 0
        ``"lattice"`` only: also every cell within this many rows and columns
        of a path cell (FastDTW's window around the samples).
    reduction : tf.keras.losses.Reduction
        Keras' reduction over the batch.
    name : str

    Examples
    --------
    >>> loss = PathLoss("exact")
    >>> float(loss([[0.0, 1.0, 2.0]], [[0.0, 2.0]]))  # DTW
    1.0
    >>> two_paths = lambda a, b: [[[[0, 0], [1, 0], [2, 1]], [[0, 0], [0, 1], [1, 1], [2, 1]]]]
    >>> float(PathLoss(two_paths)([[0.0, 1.0, 2.0]], [[0.0, 2.0]]))  # the mean of the costs 1 and 4 + 1
    3.0
    >>> round(float(PathLoss(two_paths, path_reduction="softmin", gamma=1.0)([[0.0, 1.0, 2.0]], [[0.0, 2.0]])), 3)
    1.675
    >>> lattice = PathLoss(two_paths, path_reduction="lattice", gamma=0.1)  # 4 paths on their cells, costs 1, 1, 2, 5
    >>> round(float(lattice([[0.0, 1.0, 2.0]], [[0.0, 2.0]])), 4)  # -0.1 log(2 e^-10 + e^-20 + e^-50)
    0.9307
    """

    def __init__(
        self,
        aligner="exact",
        metric="sqeuclidean",
        normalize=False,
        path_reduction="mean",
        gamma=None,
        lattice_radius=0,
        reduction=_AUTO,
        name="path_loss",
    ):
        super().__init__(normalize, reduction, name)
        self.path_reduction, self.gamma, self.lattice_radius = check_path_reduction(
            path_reduction, gamma, lattice_radius
        )
        self.metric = check_metric(metric)
        if isinstance(aligner, str) and aligner in ("exact", "fastdtw"):  # built with this loss's metric
            aligner = (ExactDTWAligner if aligner == "exact" else FastDTWAligner)(metric=self.metric)
        self.aligner = get_aligner(aligner)

    def _values(self, y_true, y_pred, x_lengths=None, y_lengths=None):
        return aligned_path_cost(
            y_true,
            y_pred,
            self.aligner,
            self.metric,
            x_lengths,
            y_lengths,
            self.path_reduction,
            self.gamma,
            self.lattice_radius,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "aligner": aligner_to_config(self.aligner),
            "metric": self.metric,
            "path_reduction": self.path_reduction,
            "gamma": self.gamma,
            "lattice_radius": self.lattice_radius,
        }


@tf.keras.utils.register_keras_serializable(package="dtwrl")
class MSELoss(tf.keras.losses.Loss):
    """Mean squared error per pair, with the same input checks as the DTW losses.

    Per pair: ``mean_{i, k} (y_true[b, i, k] - y_pred[b, i, k])**2`` over the
    ``n`` steps and ``d`` features, so the default reduction gives the value of
    ``tf.keras.losses.MeanSquaredError``. Unlike the bare Keras loss it refuses
    NaN or inf, wrong ranks (no silent broadcasting of ``(B, n, 1, 1)`` against
    ``(B, n)``), different batch sizes, feature dimensions or lengths, naming
    ``y_true`` or ``y_pred``.

    Parameters
    ----------
    reduction : tf.keras.losses.Reduction
    name : str

    Examples
    --------
    >>> float(MSELoss()([[0.0, 1.0]], [[1.0, 1.0]]))
    0.5
    """

    def __init__(self, reduction=_AUTO, name="mse"):
        super().__init__(reduction=reduction, name=name)

    def call(self, y_true, y_pred):
        """Per-pair mean squared errors, shape (B,)."""
        y_true, y_pred = check_same_length(*check_pair_tf(y_true, y_pred), names=("y_true", "y_pred"))
        return tf.reduce_mean(tf.square(y_true - y_pred), axis=[1, 2])


#: The aligner ``get_loss("policy_path")`` uses when none is given: the package's pretrained policy,
#: rebuilt through the aligner registry (which imports ``agents`` only then; dtwrl never imports it itself).
PRETRAINED_POLICY_ALIGNER = {
    "class_name": "agents.policy_aligner.PolicyAligner",
    "config": {"policy": "pretrained", "long_cells": 0},  # as PolicyAligner.pretrained(): the corridor network
}


def _policy_path(aligner=None, **kwargs):
    if aligner is None:
        aligner = aligner_from_config(PRETRAINED_POLICY_ALIGNER)
    return PathLoss(aligner=aligner, **kwargs)


def _path_with(aligner_cls, aligner_keys):
    def build(metric="sqeuclidean", normalize=False, **kwargs):
        aligner_kwargs = {key: kwargs.pop(key) for key in aligner_keys if key in kwargs}
        return PathLoss(aligner_cls(metric=metric, **aligner_kwargs), metric=metric, normalize=normalize, **kwargs)

    return build


_LOSSES = {
    "mse": MSELoss,
    "soft_dtw": SoftDTWLoss,
    "soft_dtw_divergence": SoftDTWDivergenceLoss,
    "sparse_dtw": SparseDTWLoss,
    "dilate": DILATELoss,
    "dtw_path": _path_with(ExactDTWAligner, ("band",)),
    "fastdtw_path": _path_with(FastDTWAligner, ("radius",)),
    "policy_path": _policy_path,
}

#: Names accepted by :func:`get_loss`.
LOSS_NAMES = tuple(_LOSSES)


def get_loss(name: str, **kwargs) -> tf.keras.losses.Loss:
    """A Keras loss by name.

    Parameters
    ----------
    name : str
        ``"mse"``: :class:`MSELoss` (Keras' mean squared error, with the pair checks);
        ``"soft_dtw"``: :class:`SoftDTWLoss`;
        ``"soft_dtw_divergence"``: :class:`SoftDTWDivergenceLoss`;
        ``"sparse_dtw"``: :class:`SparseDTWLoss`;
        ``"dilate"``: :class:`DILATELoss`;
        ``"dtw_path"``: :class:`PathLoss` with an
        :class:`~dtwrl.aligners.ExactDTWAligner` (accepts ``band=``);
        ``"fastdtw_path"``: :class:`PathLoss` with a
        :class:`~dtwrl.aligners.FastDTWAligner` (accepts ``radius=``);
        ``"policy_path"``: :class:`PathLoss` with ``aligner=`` (a policy
        aligner), by default the package's pretrained ``agents.PolicyAligner``
        (greedy paths); with ``aligner=PolicyAligner.pretrained(samples=K,
        temperature=t)`` sampled paths, reduced by ``path_reduction="mean"``,
        or by ``"softmin"`` or ``"lattice"`` with ``gamma``.
    **kwargs
        Passed to the constructor.

    Returns
    -------
    tf.keras.losses.Loss

    Raises
    ------
    ValueError
        If ``name`` is unknown (the message lists the names).

    Examples
    --------
    >>> get_loss("dtw_path", band=2).aligner
    ExactDTWAligner(metric='sqeuclidean', band=2)
    >>> get_loss("dilate", alpha=0.8).alpha
    0.8
    """
    if not isinstance(name, str) or name not in _LOSSES:
        raise ValueError(f"name must be one of {', '.join(map(repr, LOSS_NAMES))}; got {name!r}")
    return _LOSSES[name](**kwargs)
