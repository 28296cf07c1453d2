"""Tests for dtwrl.losses: values against brute force, gradients, get_loss, Keras fit/save/reload."""

import numpy as np
import pytest
import tensorflow as tf
from reference import all_warping_paths, brute_force_dtw, brute_force_soft_dtw, dp_value, local_costs

import dtwrl
from dtwrl.aligners import ExactDTWAligner, FastDTWAligner, register_aligner
from dtwrl.losses import (
    LOSS_NAMES,
    DILATELoss,
    MSELoss,
    PathLoss,
    SoftDTWDivergenceLoss,
    SoftDTWLoss,
    SparseDTWLoss,
    get_loss,
)
from dtwrl.tf.relaxations import aligned_path_cost


@register_aligner
class StaircaseAligner:
    """A fixed, non-optimal aligner: down the first column, then along the last row."""

    def __call__(self, y_true, y_pred):
        n, m = y_true.shape[1], y_pred.shape[1]
        cells = [(i, 0) for i in range(n)] + [(n - 1, j) for j in range(1, m)]
        return [np.array(cells) for _ in range(len(y_true))]

    def get_config(self):
        return {}


def _staircase_cost(a, b, metric="sqeuclidean"):
    C = local_costs(a, b, metric)
    return C[:, 0].sum() + C[-1, 1:].sum()


def _sparsemax_min(a, gamma):
    """min over the simplex of <q, a> + gamma / 2 |q|^2, by sort-based projection (inf entries get q = 0)."""
    finite = np.isfinite(a)
    z = -a[finite] / gamma
    u = np.sort(z)[::-1]
    cssv = np.cumsum(u) - 1.0
    k = np.arange(1, len(u) + 1)
    rho = k[u - cssv / k > 0][-1]
    q = np.maximum(z - cssv[rho - 1] / rho, 0.0)
    return float(q @ a[finite] + 0.5 * gamma * q @ q)


def _reference_l2_dtw(C, gamma, band=None):
    """Smoothed DTW with the squared-L2 regulariser by a plain double loop (Mensch and Blondel, 2018)."""
    return dp_value(C, band, lambda r: _sparsemax_min(r, gamma))


def _brute_force_dilate(C, alpha, gamma):
    n, m = C.shape
    paths = all_warping_paths(n, m)
    costs = np.array([C[p[:, 0], p[:, 1]].sum() for p in paths])
    w = np.exp(-(costs - costs.min()) / gamma)
    w /= w.sum()
    temporal = w @ np.array([np.sum((p[:, 0] - p[:, 1]) ** 2) / (n * m) for p in paths])
    return alpha * brute_force_soft_dtw(C, gamma) + (1 - alpha) * temporal


@pytest.fixture
def pair(rng):
    """A tiny float64 batch: y_true (2, 3, 1) and y_pred (2, 4, 1)."""
    return rng.normal(size=(2, 3, 1)), rng.normal(size=(2, 4, 1))


# ----------------------------------------------------------------------------- values
def _reference_values(name, a, b):
    C = local_costs(a, b)
    if name == "soft_dtw":
        return brute_force_soft_dtw(C, 0.7)
    if name == "soft_dtw_divergence":
        return brute_force_soft_dtw(C, 0.7) - 0.5 * (
            brute_force_soft_dtw(local_costs(a, a), 0.7) + brute_force_soft_dtw(local_costs(b, b), 0.7)
        )
    if name == "sparse_dtw":
        return _reference_l2_dtw(C, 0.7)
    if name == "dilate":
        return _brute_force_dilate(C, 0.25, 0.7)
    if name == "dtw_path":
        return brute_force_dtw(C)
    if name == "fastdtw_path":
        return dtwrl.fastdtw_path(a, b, radius=1)[0]
    return _staircase_cost(a, b)  # policy_path


LOSS_KWARGS = {
    "soft_dtw": dict(gamma=0.7),
    "soft_dtw_divergence": dict(gamma=0.7),
    "sparse_dtw": dict(gamma=0.7),
    "dilate": dict(alpha=0.25, gamma=0.7),
    "dtw_path": {},
    "fastdtw_path": {},
    "policy_path": dict(aligner=StaircaseAligner()),
}
DTW_LOSSES = sorted(LOSS_KWARGS)


@pytest.mark.parametrize("name", DTW_LOSSES)
def test_loss_values_match_references(pair, name):
    y_true, y_pred = pair
    loss = get_loss(name, **LOSS_KWARGS[name])
    per_pair = [_reference_values(name, a, b) for a, b in zip(y_true, y_pred)]
    np.testing.assert_allclose(loss.call(y_true, y_pred).numpy(), per_pair, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(float(loss(y_true, tf.constant(y_pred))), np.mean(per_pair), rtol=1e-10)


def test_sparse_dtw_with_band_matches_reference(rng):
    y_true, y_pred = rng.normal(size=(2, 4)), rng.normal(size=(2, 5))
    got = SparseDTWLoss(gamma=0.3, band=1).call(y_true, y_pred).numpy()
    expected = [_reference_l2_dtw(local_costs(a, b), 0.3, band=1) for a, b in zip(y_true, y_pred)]
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_soft_dtw_loss_band_and_metric(rng):
    y_true, y_pred = rng.normal(size=(2, 4, 2)), rng.normal(size=(2, 4, 2))
    got = SoftDTWLoss(gamma=0.2, band=1, metric="abs").call(y_true, y_pred).numpy()
    expected = [brute_force_soft_dtw(local_costs(a, b, "abs"), 0.2, band=1) for a, b in zip(y_true, y_pred)]
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_path_loss_equals_exact_dtw_with_band(rng):
    y_true, y_pred = rng.normal(size=(3, 5, 2)), rng.normal(size=(3, 5, 2))
    loss = get_loss("dtw_path", band=1, metric="euclidean")
    assert loss.aligner.get_config() == {"metric": "euclidean", "band": 1}
    expected = [dtwrl.dtw(a, b, metric="euclidean", band=1) for a, b in zip(y_true, y_pred)]
    np.testing.assert_allclose(loss.call(y_true, y_pred).numpy(), expected, rtol=1e-12)


def test_normalize_divides_by_the_longer_length(pair):
    y_true, y_pred = pair
    for cls in (SoftDTWLoss, SoftDTWDivergenceLoss, SparseDTWLoss):
        raw = cls(gamma=0.5).call(y_true, y_pred).numpy()
        np.testing.assert_allclose(cls(gamma=0.5, normalize=True).call(y_true, y_pred).numpy(), raw / 4, rtol=1e-14)
    raw = PathLoss().call(y_true, y_pred).numpy()
    np.testing.assert_allclose(PathLoss(normalize=True).call(y_true, y_pred).numpy(), raw / 4, rtol=1e-14)


def test_dilate_loss_endpoints(pair):
    y_true, y_pred = pair
    np.testing.assert_allclose(
        DILATELoss(alpha=1.0, gamma=0.3).call(y_true, y_pred).numpy(),
        SoftDTWLoss(gamma=0.3).call(y_true, y_pred).numpy(),
        rtol=1e-12,
    )
    temporal = [_brute_force_dilate(local_costs(a, b), 0.0, 0.3) for a, b in zip(y_true, y_pred)]
    np.testing.assert_allclose(DILATELoss(alpha=0.0, gamma=0.3).call(y_true, y_pred).numpy(), temporal, rtol=1e-10)


def test_keras_reduction_and_sample_weight(pair):
    y_true, y_pred = pair
    per_pair = SoftDTWLoss().call(y_true, y_pred).numpy()
    weighted = SoftDTWLoss()(y_true, y_pred, sample_weight=tf.constant([1.0, 0.0], tf.float64))
    np.testing.assert_allclose(float(weighted), per_pair[0] / 2, rtol=1e-12)  # SUM_OVER_BATCH_SIZE
    summed = SoftDTWLoss(reduction=tf.keras.losses.Reduction.SUM)(y_true, y_pred)
    np.testing.assert_allclose(float(summed), per_pair.sum(), rtol=1e-12)


def test_univariate_2d_inputs_equal_3d(pair):
    y_true, y_pred = pair
    for name in DTW_LOSSES:
        loss = get_loss(name, **LOSS_KWARGS[name])
        np.testing.assert_allclose(
            loss.call(y_true[..., 0], y_pred[..., 0]).numpy(), loss.call(y_true, y_pred).numpy(), rtol=1e-14
        )


# ----------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("name", DTW_LOSSES)
def test_loss_gradients_match_finite_differences(pair, name):
    y_true, y_pred = pair[0][:1], pair[1][:1]
    loss = get_loss(name, **LOSS_KWARGS[name])
    theoretical, numerical = tf.test.compute_gradient(lambda p: loss(tf.constant(y_true), p), [tf.constant(y_pred)])
    np.testing.assert_allclose(theoretical[0], numerical[0], atol=1e-6)
    assert np.abs(theoretical[0]).max() > 1e-3  # the check is not vacuous


# ----------------------------------------------------------------------------- mse
@pytest.mark.parametrize("shape", [(3, 5), (3, 5, 2)])
def test_mse_matches_keras_on_valid_input(rng, shape):
    y_true, y_pred = rng.normal(size=shape), rng.normal(size=shape)
    ours = float(get_loss("mse")(y_true, y_pred))
    keras = float(tf.keras.losses.MeanSquaredError()(y_true, y_pred))
    np.testing.assert_allclose(ours, keras, rtol=1e-6)
    np.testing.assert_allclose(ours, np.mean((y_true - y_pred) ** 2), rtol=1e-6)


# ----------------------------------------------------------------------------- get_loss
def test_get_loss_builds_every_name():
    assert set(LOSS_NAMES) == {"mse", *DTW_LOSSES}
    assert isinstance(get_loss("mse"), MSELoss)
    assert isinstance(get_loss("soft_dtw", gamma=0.1), SoftDTWLoss)
    assert isinstance(get_loss("soft_dtw_divergence"), SoftDTWDivergenceLoss)
    assert isinstance(get_loss("sparse_dtw"), SparseDTWLoss)
    assert get_loss("dilate", alpha=0.8).alpha == 0.8
    fast = get_loss("fastdtw_path", radius=3, metric="abs")
    assert isinstance(fast.aligner, FastDTWAligner) and fast.aligner.get_config() == {"radius": 3, "metric": "abs"}
    exact = get_loss("dtw_path", normalize=True)
    assert isinstance(exact.aligner, ExactDTWAligner) and exact.normalize
    aligner = StaircaseAligner()
    assert get_loss("policy_path", aligner=aligner).aligner is aligner
    default = get_loss("policy_path").aligner  # the package's pretrained policy, through the aligner registry
    assert type(default).__name__ == "PolicyAligner" and default.get_config()["policy"] == "pretrained"


def test_get_loss_errors():
    with pytest.raises(ValueError, match="name must be one of 'mse', 'soft_dtw'.*'policy_path'"):
        get_loss("softdtw")
    with pytest.raises(ValueError, match="name must be one of"):
        get_loss(None)
    with pytest.raises(TypeError, match="radius"):
        get_loss("dtw_path", radius=2)


@pytest.mark.parametrize(
    "build, exc, match",
    [
        (lambda: SoftDTWLoss(gamma=0.0), ValueError, "gamma"),
        (lambda: SoftDTWDivergenceLoss(gamma=-1.0), ValueError, "gamma"),
        (lambda: SparseDTWLoss(gamma=float("nan")), ValueError, "gamma"),
        (lambda: DILATELoss(gamma=0.0), ValueError, "gamma"),
        (lambda: DILATELoss(alpha=1.5), ValueError, "alpha"),
        (lambda: DILATELoss(alpha=-0.5), ValueError, "alpha"),
        (lambda: SoftDTWLoss(band=-2), ValueError, "band"),
        (lambda: SoftDTWLoss(metric="cosine"), ValueError, "metric"),
        (lambda: SoftDTWLoss(normalize="yes"), TypeError, "normalize"),
        (lambda: PathLoss(aligner="dtaidistance"), ValueError, "aligner"),
        (lambda: PathLoss(aligner=3), TypeError, "aligner"),
    ],
)
def test_constructor_errors(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


@pytest.mark.parametrize("name", DTW_LOSSES)
def test_call_errors(name):
    loss = get_loss(name, **LOSS_KWARGS[name])
    with pytest.raises(ValueError, match="same number of series B"):
        loss(np.zeros((2, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="same number of features d"):
        loss(np.zeros((2, 3, 2)), np.zeros((2, 3, 1)))
    with pytest.raises(ValueError, match="y_pred must be finite"):
        loss(np.zeros((1, 3)), np.array([[0.0, np.nan, 1.0]]))


def test_band_too_narrow_is_reported():
    with pytest.raises(ValueError, match="band"):
        SoftDTWLoss(band=0)(np.zeros((1, 3)), np.zeros((1, 5)))
    with pytest.raises(ValueError, match="band"):
        get_loss("dtw_path", band=0)(np.zeros((1, 3)), np.zeros((1, 5)))


# ----------------------------------------------------------------------------- Keras
def _data(rng):
    return rng.normal(size=(16, 4)).astype(np.float32), rng.normal(size=(16, 5)).astype(np.float32)


def _fit_save_reload_fit(rng, path, name):
    X, Y = _data(rng)
    model = tf.keras.Sequential([tf.keras.Input(shape=(4,)), tf.keras.layers.Dense(5)])
    model.compile(optimizer=tf.keras.optimizers.SGD(1e-3), loss=get_loss(name, **LOSS_KWARGS[name]))
    assert np.isfinite(model.fit(X, Y, batch_size=16, epochs=1, verbose=0).history["loss"][0])
    model.save(path)
    reloaded = tf.keras.models.load_model(path)
    assert type(reloaded.loss) is type(model.loss)
    assert reloaded.loss.get_config() == model.loss.get_config()
    before = float(model.loss(Y, model(X)))
    np.testing.assert_allclose(float(reloaded.loss(Y, reloaded(X))), before, rtol=1e-6)
    after = reloaded.fit(X, Y, batch_size=16, epochs=1, verbose=0).history["loss"][0]
    np.testing.assert_allclose(after, before, rtol=1e-5)  # the first step reports the pre-update loss


@pytest.mark.parametrize("name", DTW_LOSSES)
def test_keras_fit_save_reload_fit(rng, tmp_path, name):
    _fit_save_reload_fit(rng, tmp_path / "model.keras", name)


@pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")
@pytest.mark.parametrize("filename", ["model.h5", "saved_model"])
def test_keras_legacy_formats(rng, tmp_path, filename):
    _fit_save_reload_fit(rng, tmp_path / filename, "policy_path")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")
@pytest.mark.parametrize("name", DTW_LOSSES)
@pytest.mark.parametrize("filename", ["model.h5", "saved_model"])
def test_keras_legacy_formats_every_loss(rng, tmp_path, filename, name):
    _fit_save_reload_fit(rng, tmp_path / filename, name)


def test_serialize_round_trip_without_a_model():
    loss = get_loss("dtw_path", band=2, metric="abs", normalize=True)
    rebuilt = tf.keras.losses.deserialize(tf.keras.losses.serialize(loss))
    assert type(rebuilt) is PathLoss and rebuilt.get_config() == loss.get_config()
    assert rebuilt.aligner.get_config() == {"metric": "abs", "band": 2}


# ----------------------------------------------------------------------------- PathLoss over groups of paths
class _GroupAligner:
    """Every warping path for pair 0 (the whole Gibbs support) and two fixed paths for pair 1."""

    def __call__(self, y_true, y_pred):
        n, m = y_true.shape[1], y_pred.shape[1]
        diagonal_then_right = [(i, i) for i in range(n)] + [(n - 1, j) for j in range(n, m)]
        staircase = [(i, 0) for i in range(n)] + [(n - 1, j) for j in range(1, m)]
        return [all_warping_paths(n, m), [np.array(diagonal_then_right), np.array(staircase)]]


def _group_costs(a, b):
    n, m = a.shape[1], b.shape[1]
    groups = _GroupAligner()(np.zeros((2, n, 1)), np.zeros((2, m, 1)))
    return [np.array([local_costs(a[k], b[k], "sqeuclidean")[tuple(p.T)].sum() for p in groups[k]]) for k in (0, 1)]


@pytest.mark.parametrize("gamma", [0.05, 1.0, 30.0])
def test_path_loss_softmin_matches_hand_computation(rng, gamma):
    y_true, y_pred = rng.normal(size=(2, 3, 1)), rng.normal(size=(2, 4, 1))
    value = PathLoss(_GroupAligner(), path_reduction="softmin", gamma=gamma).call(y_true, y_pred).numpy()
    costs = _group_costs(y_true, y_pred)
    expected = [-gamma * np.log(np.mean(np.exp(-c / gamma))) for c in costs]
    np.testing.assert_allclose(value, expected, rtol=1e-8)
    for v, c in zip(value, costs):
        assert c.min() - 1e-12 <= v <= c.mean() + 1e-12  # between the best path and the mean


def test_path_loss_softmin_over_every_path_is_soft_dtw(rng):
    """Over all warping paths, the normalised soft minimum is soft-DTW plus gamma log(number of paths)."""
    y_true, y_pred = rng.normal(size=(2, 3, 1)), rng.normal(size=(2, 4, 1))
    gamma = 0.7
    value = PathLoss(_GroupAligner(), path_reduction="softmin", gamma=gamma).call(y_true, y_pred).numpy()[0]
    reference = brute_force_soft_dtw(local_costs(y_true[0], y_pred[0], "sqeuclidean"), gamma)
    np.testing.assert_allclose(value, reference + gamma * np.log(len(all_warping_paths(3, 4))), rtol=1e-8)


def test_path_loss_softmin_limits_and_single_path(rng):
    y_true, y_pred = rng.normal(size=(2, 3, 1)), rng.normal(size=(2, 4, 1))
    costs = _group_costs(y_true, y_pred)
    tiny = PathLoss(_GroupAligner(), path_reduction="softmin", gamma=1e-6).call(y_true, y_pred).numpy()
    np.testing.assert_allclose(tiny, [c.min() for c in costs], atol=1e-4)  # no overflow: shifted by the minimum
    huge = PathLoss(_GroupAligner(), path_reduction="softmin", gamma=1e6).call(y_true, y_pred).numpy()
    np.testing.assert_allclose(huge, PathLoss(_GroupAligner()).call(y_true, y_pred).numpy(), rtol=1e-5)
    one_path = PathLoss("exact", path_reduction="softmin", gamma=0.3).call(y_true, y_pred).numpy()
    np.testing.assert_allclose(one_path, PathLoss("exact").call(y_true, y_pred).numpy(), rtol=1e-12)


def _on_lattice(path, groups):
    cells = {tuple(c) for p in groups for c in np.asarray(p).tolist()}
    return all(tuple(c) in cells for c in path.tolist())


@pytest.mark.parametrize("gamma", [0.05, 1.0])
def test_path_loss_lattice_matches_brute_force_over_lattice_paths(rng, gamma):
    """The lattice of two paths holds them and their recombinations: brute force over every path on its cells."""
    y_true, y_pred = rng.normal(size=(2, 3, 2)), rng.normal(size=(2, 4, 2))
    value = PathLoss(_GroupAligner(), path_reduction="lattice", gamma=gamma).call(y_true, y_pred).numpy()
    groups = _GroupAligner()(y_true, y_pred)
    for b in (0, 1):
        cost = local_costs(y_true[b], y_pred[b], "sqeuclidean")
        on = [p for p in all_warping_paths(3, 4) if _on_lattice(p, groups[b])]
        costs = np.array([cost[tuple(p.T)].sum() for p in on])
        expected = -gamma * np.log(np.sum(np.exp(-costs / gamma)))
        np.testing.assert_allclose(value[b], expected, rtol=1e-10)
    # pair 0's lattice is the whole grid: soft-DTW itself
    np.testing.assert_allclose(
        value[0], brute_force_soft_dtw(local_costs(y_true[0], y_pred[0], "sqeuclidean"), gamma), rtol=1e-10
    )
    assert len([p for p in all_warping_paths(3, 4) if _on_lattice(p, groups[1])]) > 2  # recombinations count


def _near_lattice(path, groups, radius):
    cells = np.array([c for p in groups for c in np.asarray(p).tolist()])
    return all(np.abs(cells - np.asarray(c)).max(axis=1).min() <= radius for c in path.tolist())


@pytest.mark.parametrize("radius", [1, 2])
def test_path_loss_lattice_radius_matches_brute_force_over_the_widened_lattice(rng, radius):
    y_true, y_pred = rng.normal(size=(2, 5, 1)), rng.normal(size=(2, 4, 1))
    loss = PathLoss("exact", path_reduction="lattice", gamma=0.5, lattice_radius=radius)
    value = loss.call(y_true, y_pred).numpy()
    for b in (0, 1):
        cost = local_costs(y_true[b], y_pred[b], "sqeuclidean")
        exact_path = [dtwrl.dtw_path(y_true[b], y_pred[b])[1]]
        on = [p for p in all_warping_paths(5, 4) if _near_lattice(p, exact_path, radius)]
        costs = np.array([cost[tuple(p.T)].sum() for p in on])
        np.testing.assert_allclose(value[b], -0.5 * np.log(np.sum(np.exp(-costs / 0.5))), rtol=1e-10)
    wide = PathLoss("exact", path_reduction="lattice", gamma=0.5, lattice_radius=4).call(y_true, y_pred).numpy()
    full = [brute_force_soft_dtw(local_costs(y_true[b], y_pred[b], "sqeuclidean"), 0.5) for b in (0, 1)]
    np.testing.assert_allclose(wide, full, rtol=1e-10)  # the widened lattice covers the grid: soft-DTW


def test_path_loss_lattice_of_one_path_is_its_cost_and_padding_is_ignored(rng):
    y_true, y_pred = rng.normal(size=(3, 5, 1)), rng.normal(size=(3, 4, 1))
    lattice = PathLoss("exact", path_reduction="lattice", gamma=0.3).call(y_true, y_pred).numpy()
    np.testing.assert_allclose(lattice, PathLoss("exact").call(y_true, y_pred).numpy(), rtol=1e-10)
    x_lengths, y_lengths = np.array([5, 3, 2]), np.array([4, 4, 1])
    padded = aligned_path_cost(y_true, y_pred, "exact", "sqeuclidean", x_lengths, y_lengths, "lattice", 0.3).numpy()
    cut = [
        float(
            aligned_path_cost(
                y_true[b : b + 1, :n], y_pred[b : b + 1, :m], "exact", path_reduction="lattice", gamma=0.3
            )[0]
        )
        for b, (n, m) in enumerate(zip(x_lengths, y_lengths))
    ]
    np.testing.assert_allclose(padded, cut, rtol=1e-10)


def test_path_loss_lattice_float32_large_costs_stay_finite():
    y_true = np.zeros((2, 3, 1), np.float32)
    y_pred = np.full((2, 4, 1), 1e3, np.float32)
    value = PathLoss(_GroupAligner(), path_reduction="lattice", gamma=1e-3).call(y_true, y_pred).numpy()
    assert value.dtype == np.float32
    np.testing.assert_allclose(value, [4e6, 4e6], rtol=1e-6)


@pytest.mark.parametrize("path_reduction, gamma", [("mean", None), ("softmin", 0.5), ("lattice", 0.5)])
def test_path_loss_group_gradient_matches_finite_differences(rng, path_reduction, gamma):
    y_true, y_pred = rng.normal(size=(2, 3, 2)), rng.normal(size=(2, 4, 2))
    loss = PathLoss(_GroupAligner(), path_reduction=path_reduction, gamma=gamma)
    x = tf.Variable(y_pred)
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(loss.call(y_true, x))
    grad = tf.convert_to_tensor(tape.gradient(total, x)).numpy()
    eps, numeric = 1e-6, np.zeros_like(y_pred)
    for index in np.ndindex(*y_pred.shape):
        shifted = [y_pred.copy(), y_pred.copy()]
        shifted[0][index] += eps
        shifted[1][index] -= eps
        plus, minus = (float(tf.reduce_sum(loss.call(y_true, s))) for s in shifted)
        numeric[index] = (plus - minus) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_path_loss_softmin_float32_large_costs():
    y_true = np.zeros((2, 3, 1), np.float32)
    y_pred = np.full((2, 4, 1), 1e3, np.float32)  # costs ~1e6-1e7, gamma 1e-3: exp would overflow unshifted
    value = PathLoss(_GroupAligner(), path_reduction="softmin", gamma=1e-3).call(y_true, y_pred).numpy()
    assert value.dtype == np.float32 and np.all(np.isfinite(value))
    np.testing.assert_allclose(value, [4e6, 4e6], rtol=1e-6)  # 1e6 per cell; the shortest paths have 4 cells


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"path_reduction": "max"}, ValueError, "path_reduction must be one of 'mean', 'softmin', 'lattice'"),
        ({"path_reduction": "lattice"}, ValueError, "gamma is required by path_reduction='lattice'"),
        ({"path_reduction": None}, ValueError, "path_reduction"),
        ({"path_reduction": "softmin"}, ValueError, "gamma is required"),
        ({"path_reduction": "softmin", "gamma": 0.0}, ValueError, "gamma"),
        ({"path_reduction": "softmin", "gamma": float("inf")}, ValueError, "gamma"),
        ({"path_reduction": "mean", "gamma": 0.5}, ValueError, "gamma is not used by path_reduction='mean'"),
        ({"path_reduction": "softmin", "gamma": 0.5, "lattice_radius": 1}, ValueError, "lattice_radius applies to"),
        ({"path_reduction": "lattice", "gamma": 0.5, "lattice_radius": -1}, ValueError, "lattice_radius must be >= 0"),
        (
            {"path_reduction": "lattice", "gamma": 0.5, "lattice_radius": 1.5},
            TypeError,
            "lattice_radius must be an int",
        ),
        (
            {"path_reduction": "lattice", "gamma": 0.5, "lattice_radius": True},
            TypeError,
            "lattice_radius must be an int",
        ),
    ],
)
def test_path_loss_reduction_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        PathLoss("exact", **kwargs)
    with pytest.raises(exc, match=match):
        get_loss("policy_path", aligner=StaircaseAligner(), **kwargs)


def test_path_loss_softmin_round_trip():
    loss = get_loss("policy_path", aligner=StaircaseAligner(), path_reduction="softmin", gamma=0.25)
    rebuilt = tf.keras.losses.deserialize(tf.keras.losses.serialize(loss))
    assert rebuilt.get_config() == loss.get_config()
    assert (rebuilt.path_reduction, rebuilt.gamma) == ("softmin", 0.25)
    lattice = get_loss("policy_path", aligner=StaircaseAligner(), path_reduction="lattice", gamma=0.1, lattice_radius=3)
    rebuilt = tf.keras.losses.deserialize(tf.keras.losses.serialize(lattice))
    assert (rebuilt.path_reduction, rebuilt.gamma, rebuilt.lattice_radius) == ("lattice", 0.1, 3)
