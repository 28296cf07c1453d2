"""Sparse corridor soft-DTW (``corridor=``): every engine against brute force over the corridor's paths, a dense
reference with +inf off the corridor, the band, finite differences; validation; the corridor sources."""

import numpy as np
import pytest
import tensorflow as tf

import dtwrl
from dtwrl import corridors as cr
from dtwrl.tf import _wavefront as wf
from dtwrl.tf.sdtw import soft_dtw, soft_dtw_alignment
from dtwrl.tf.smoothed import smoothed_dtw
from tests import reference as ref

ENGINES = ("kernel", "numba", "light", "tf")


def _random_corridors(rng, x_lengths, y_lengths, n, radius):
    """Random valid corridors: a path of random moves widened by a random radius <= ``radius``."""
    groups = [[cr.random_path(nb, mb, rng)] for nb, mb in zip(x_lengths, y_lengths)]
    out = np.zeros((len(groups), n, 2), np.int64)
    for b, group in enumerate(groups):
        out[b] = cr.widen_paths([group], [x_lengths[b]], [y_lengths[b]], n, int(rng.integers(radius + 1)))[0]
    return out


def _brute_force(x, y, corridor, gamma, metric):
    """soft-DTW over the warping paths whose cells all lie in the corridor, by enumeration."""
    C = ref.local_costs(x, y, metric)
    n, m = C.shape
    mask = cr.corridor_mask(corridor[None, :n], m)[0]
    costs = np.array([C[p[:, 0], p[:, 1]].sum() for p in ref.all_warping_paths(n, m) if mask[p[:, 0], p[:, 1]].all()])
    z = -costs / gamma
    return -gamma * (z.max() + np.log(np.exp(z - z.max()).sum()))


def _value_and_grads(x, y, **kwargs):
    x, y = tf.constant(x), tf.constant(y)
    with tf.GradientTape() as tape:
        tape.watch([x, y])
        value = soft_dtw(x, y, **kwargs)
    return (value.numpy(), *(g.numpy() for g in tape.gradient(value, [x, y])))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean", "abs"])
def test_every_engine_matches_brute_force_over_the_corridor(rng, engine, metric):
    sizes = [(n, m) for n in range(1, 5) for m in range(1, 5)] * 2
    x_lengths, y_lengths = [s[0] for s in sizes], [s[1] for s in sizes]
    x = rng.uniform(-2.0, 2.0, size=(len(sizes), 4, 2))  # padding beyond the lengths must not count
    y = rng.uniform(-2.0, 2.0, size=(len(sizes), 5, 2))
    corridor = _random_corridors(rng, x_lengths, y_lengths, 4, radius=1)
    values = soft_dtw(
        x, y, 0.7, metric=metric, x_lengths=x_lengths, y_lengths=y_lengths, corridor=corridor, implementation=engine
    ).numpy()
    for b, (nb, mb) in enumerate(sizes):
        expected = _brute_force(x[b, :nb], y[b, :mb], corridor[b], 0.7, metric)
        assert values[b] == pytest.approx(expected, abs=1e-6), (b, nb, mb)


@pytest.mark.parametrize("engine", ENGINES)
def test_values_and_gradients_equal_a_dense_reference_with_inf_off_the_corridor(rng, engine):
    B, n, m = 11, 13, 17
    x_lengths = rng.integers(2, n + 1, B)
    y_lengths = rng.integers(2, m + 1, B)
    x, y = rng.normal(size=(B, n, 3)), rng.normal(size=(B, m, 3))
    corridor = _random_corridors(rng, x_lengths, y_lengths, n, radius=3)
    lengths = {"x_lengths": x_lengths, "y_lengths": y_lengths}
    value, gx, gy = _value_and_grads(x, y, gamma=0.3, corridor=corridor, implementation=engine, **lengths)
    # the reference: dense costs, +inf off the corridor, the wavefront engine through soft_dtw_from_cost
    xt, yt = tf.constant(x), tf.constant(y)
    with tf.GradientTape() as tape:
        tape.watch([xt, yt])
        D = tf.reduce_sum(tf.square(xt[:, :, None] - yt[:, None]), axis=-1)
        D = tf.where(cr.corridor_mask(corridor, m), D, tf.constant(np.inf, tf.float64))
        xl, yl = tf.constant(x_lengths, tf.int32), tf.constant(y_lengths, tf.int32)
        expected = wf.dp_value(tf.transpose(D, (1, 2, 0)), 0.3, "entropy", None, xl, yl)
    ex, ey = tape.gradient(expected, [xt, yt])
    np.testing.assert_allclose(value, expected.numpy(), atol=1e-6)
    np.testing.assert_allclose(gx, ex.numpy(), atol=1e-6)
    np.testing.assert_allclose(gy, ey.numpy(), atol=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_corridor_of_the_band_gives_the_band(rng, engine):
    B, n, m, band = 9, 12, 15, 2
    x_lengths, y_lengths = rng.integers(5, n + 1, B), rng.integers(5, m + 1, B)
    x, y = rng.normal(size=(B, n, 2)), rng.normal(size=(B, m, 2))
    lengths = {"x_lengths": x_lengths, "y_lengths": y_lengths, "implementation": engine}
    corridor = cr.band_corridor(x_lengths, y_lengths, n, band)
    banded = _value_and_grads(x, y, gamma=0.5, band=band, **lengths)
    cornered = _value_and_grads(x, y, gamma=0.5, corridor=corridor, **lengths)
    for a, b in zip(banded, cornered):
        np.testing.assert_allclose(a, b, atol=1e-10)


@pytest.mark.parametrize("engine", ["kernel", "numba"])
def test_gradients_match_finite_differences(rng, engine):
    x, y = rng.normal(size=(3, 6, 2)), rng.normal(size=(3, 7, 2))
    corridor = _random_corridors(rng, [6] * 3, [7] * 3, 6, radius=2)

    def f(x, y):
        return soft_dtw(x, y, 0.5, corridor=corridor, implementation=engine)

    theoretical, numerical = tf.test.compute_gradient(f, [tf.constant(x), tf.constant(y)], delta=1e-6)
    assert max(np.abs(t - u).max() for t, u in zip(theoretical, numerical)) < 1e-6


def test_second_order_derivatives_reach_the_series_through_the_corridor(rng):
    x, y = tf.constant(rng.normal(size=(2, 5, 1))), tf.constant(rng.normal(size=(2, 6, 1)))
    corridor = _random_corridors(rng, [5, 5], [6, 6], 5, radius=1)

    def hessian_row(engine):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                v = tf.reduce_sum(soft_dtw(x, y, 0.5, corridor=corridor, implementation=engine))
            g = inner.gradient(v, x)
            s = tf.reduce_sum(g * g)
        return outer.gradient(s, x).numpy()

    np.testing.assert_allclose(hessian_row("kernel"), hessian_row("tf"), atol=1e-8)


@pytest.mark.parametrize("engine", ["kernel", "numba"])
def test_float32_follows_float64(rng, engine):
    B, n, m = 20, 30, 40
    x, y = rng.normal(size=(B, n, 2)), rng.normal(size=(B, m, 2))
    corridor = _random_corridors(rng, [n] * B, [m] * B, n, radius=4)
    v64, gx64, _ = _value_and_grads(x, y, gamma=0.2, corridor=corridor, implementation=engine)
    v32, gx32, _ = _value_and_grads(
        x.astype(np.float32), y.astype(np.float32), gamma=0.2, corridor=corridor, implementation=engine
    )
    assert v32.dtype == np.float32 and gx32.dtype == np.float32
    np.testing.assert_allclose(v32, v64, rtol=1e-4)
    np.testing.assert_allclose(gx32, gx64, atol=1e-3)


def test_alignment_and_smoothed_l2_on_the_corridor(rng):
    x, y = rng.normal(size=(4, 7, 1)), rng.normal(size=(4, 8, 1))
    corridor = _random_corridors(rng, [7] * 4, [8] * 4, 7, radius=1)
    mask = cr.corridor_mask(corridor, 8)
    E = soft_dtw_alignment(x, y, 0.5, corridor=corridor).numpy()
    D = np.where(mask, ((x[:, :, None] - y[:, None]) ** 2).sum(-1), np.inf)
    dense = wf.dp_alignment(tf.constant(np.transpose(D, (1, 2, 0))), 0.5, "entropy")
    np.testing.assert_allclose(E, np.transpose(dense.numpy(), (2, 0, 1)), atol=1e-8)
    assert np.all(E[~mask] == 0.0)
    for engine in ("kernel", "numba"):
        l2 = smoothed_dtw(x, y, 0.5, "l2", corridor=corridor, implementation=engine)
        dense = smoothed_dtw(x, y, 0.5, "l2", corridor=corridor, implementation="tf")
        np.testing.assert_allclose(l2.numpy(), dense.numpy(), atol=1e-8)


def test_auto_picks_a_compiled_kernel_and_a_full_corridor_is_soft_dtw(rng):
    x, y = rng.normal(size=(3, 9, 1)), rng.normal(size=(3, 10, 1))
    full = np.zeros((3, 9, 2), np.int64)
    full[..., 1] = 9
    np.testing.assert_allclose(soft_dtw(x, y, 0.4, corridor=full).numpy(), soft_dtw(x, y, 0.4).numpy(), atol=1e-10)
    from dtwrl.tf import _kernel_ops as ko

    compiled = "kernel" if ko._lanes.library() is not None else "numba"
    assert ko.resolve("auto", 3, 9, 10, corridor=True) == ko.resolve("auto", 1, 9, 10, corridor=True) == compiled


@pytest.mark.parametrize("batch", [5, 1])
def test_a_compiled_step_with_unknown_batch_runs_the_engine_of_its_real_batch(rng, monkeypatch, batch):
    """Keras train steps are traced with batch None: a corridor runs on the C++ engine at any batch (one pair on
    its diagonal kernel), as eagerly; a band's engine is chosen per call, by the real batch."""
    from dtwrl.tf import _kernel_ops as ko
    from dtwrl.tf import _lanes

    if _lanes.library() is None:
        pytest.skip("the SIMD lane kernel is not built (no C++ compiler)")
    monkeypatch.delenv(ko.ENV_IMPLEMENTATION, raising=False)
    x, y = rng.normal(size=(batch, 9, 1)), rng.normal(size=(batch, 10, 1))
    corridor = _random_corridors(rng, [9] * batch, [10] * batch, 9, radius=2)
    engines, run = [], ko._run
    monkeypatch.setattr(ko, "_run", lambda *args, **kwargs: engines.append(args[10]) or run(*args, **kwargs))
    eager = _value_and_grads(x, y, gamma=0.3, corridor=corridor)
    assert engines == [ko.run_engine(ko.resolve("auto", batch, 9, 10, corridor=True), batch)]
    assert engines[0] == "kernel"
    del engines[:]
    signature = [tf.TensorSpec((None,) + a.shape[1:], a.dtype) for a in (x, y, corridor)]  # lengths known

    @tf.function(input_signature=signature)
    def step(x, y, corridor):
        with tf.GradientTape() as tape:
            tape.watch([x, y])
            value = soft_dtw(x, y, 0.3, corridor=corridor)
        return (value, *tape.gradient(value, [x, y]))

    compiled = [t.numpy() for t in step(tf.constant(x), tf.constant(y), tf.constant(corridor))]
    assert engines == ["kernel"]
    for got, want in zip(compiled, eager):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert ko.resolve("auto", None, 9, 10, corridor=True) == "kernel"
    assert ko.resolve("auto", None, 9, 10, band=2) == ko.BY_BATCH


def test_corridor_names_are_computed_from_the_values(rng):
    x, y = rng.normal(size=(3, 12, 1)), rng.normal(size=(3, 12, 1))
    full = soft_dtw(x, y, 0.1).numpy()
    np.testing.assert_allclose(soft_dtw(x, y, 0.1, corridor="band:frac=1").numpy(), full, atol=1e-10)
    exact = soft_dtw(x, y, 0.1, corridor="exact:r=0").numpy()
    dtw = np.array([dtwrl.dtw(a, b) for a, b in zip(x, y)])
    assert np.all(exact >= full - 1e-9) and np.all(exact <= dtw + 1e-9)  # fewer paths, the optimal one among them

    @tf.function
    def graph(x, y):
        return soft_dtw(x, y, 0.1, corridor="fastdtw:r=2")

    np.testing.assert_allclose(
        graph(tf.constant(x), tf.constant(y)).numpy(), soft_dtw(x, y, 0.1, corridor="fastdtw:r=2")
    )


@pytest.mark.parametrize(
    "corridor, match",
    [
        ([[[0, 1], [1, 2], [2, 2]]], "pair 0 must end at column m-1 = 3"),
        ([[[1, 1], [1, 2], [2, 3]]], "pair 0 must start at column 0"),
        ([[[0, 1], [0, 0], [2, 3]]], "pair 0, row 1 breaks hi non-decreasing"),
        ([[[0, 0], [2, 2], [2, 3]]], r"pair 0, row 1 breaks rows that overlap or touch"),
        ([[[0, 1], [1, 4], [2, 3]]], "pair 0, row 1 breaks hi <= m-1 = 3"),
        ([[[0, 1], [1, 2]]], r"shape \(B, n, 2\) = \(1, 3, 2\)"),
        ("nosuch:r=1", "unknown corridor source 'nosuch'"),
        ("band:frac=2", "frac must be a number in"),
        ("fastdtw:r", "key=value"),
    ],
)
def test_bad_corridors_raise_naming_the_argument(corridor, match):
    x, y = np.zeros((1, 3, 1)), np.zeros((1, 4, 1))
    with pytest.raises(ValueError, match="corridor"):
        soft_dtw(x, y, corridor=corridor)
    with pytest.raises(ValueError, match=match):
        soft_dtw(x, y, corridor=corridor)


def test_bad_corridor_types_and_band_together():
    x, y = np.zeros((1, 2, 1)), np.zeros((1, 2, 1))
    with pytest.raises(TypeError, match="corridor must be an int array"):
        soft_dtw(x, y, corridor=np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match="band and corridor are exclusive"):
        soft_dtw(x, y, band=1, corridor=[[[0, 1], [0, 1]]])


def test_a_corridor_known_only_in_the_graph_is_checked_when_it_runs():
    @tf.function(input_signature=[tf.TensorSpec([1, 2, 2], tf.int64)])
    def f(corridor):
        return soft_dtw(tf.zeros((1, 2, 1)), tf.zeros((1, 2, 1)), corridor=corridor)

    assert float(f(tf.constant([[[0, 0], [1, 1]]], tf.int64))[0]) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="corridor: pair 0 must end"):
        f(tf.constant([[[0, 0], [0, 0]]], tf.int64))


@pytest.mark.parametrize("spec", ["band:frac=0.1", "fastdtw:r=3", "exact:r=2", "random:r=3,seed=4"])
def test_every_source_returns_valid_corridors_around_its_path(rng, spec):
    x, y = rng.normal(size=(4, 30, 2)), rng.normal(size=(4, 25, 2))
    xl, yl = [30, 21, 9, 1], [25, 25, 3, 7]
    corridor = cr.corridor_from_name(spec, x, y, xl, yl)  # validated inside
    assert corridor.shape == (4, 30, 2)
    if spec.startswith("exact"):
        for b in range(4):
            path = dtwrl.dtw_path(x[b, : xl[b]], y[b, : yl[b]])[1]
            assert np.all(cr.corridor_mask(corridor[b : b + 1], 25)[0][path[:, 0], path[:, 1]])
    if spec.startswith("random"):
        np.testing.assert_array_equal(corridor, cr.corridor_from_name(spec, x, y, xl, yl))
        other = cr.corridor_from_name("random:r=3,seed=5", x, y, xl, yl)
        assert not np.array_equal(corridor, other)


def test_widening_one_path_is_the_dense_dilated_lattice(rng):
    from dtwrl.tf.relaxations import lattice_mask

    path = cr.random_path(9, 12, rng)
    for radius in range(4):
        corridor = cr.widen_paths([[path]], [9], [12], 9, radius)
        dense = lattice_mask(
            tf.constant(path[None], tf.int32), tf.constant([len(path)]), tf.constant([0]), (9, 12, 1), radius
        )
        np.testing.assert_array_equal(cr.corridor_mask(corridor, 12)[0], dense.numpy()[:, :, 0])


def test_lazy_policy_sources_resolve_through_their_provider(monkeypatch):
    monkeypatch.setitem(cr.LAZY_SOURCES, "lazy_test", "tests.nosuch_provider_module")
    with pytest.raises(ModuleNotFoundError):
        cr.get_corridor_source("lazy_test")
    assert "policy" in cr.corridor_source_names()


def test_losses_take_corridor_names_and_train_in_a_graph(rng):
    from dtwrl.losses import SoftDTWLoss, SparseDTWLoss, get_loss

    y_true, y_pred = rng.normal(size=(4, 10, 1)), rng.normal(size=(4, 10, 1))
    full = SoftDTWLoss(gamma=0.3)(y_true, y_pred)
    assert float(SoftDTWLoss(gamma=0.3, corridor="band:frac=1")(y_true, y_pred)) == pytest.approx(float(full))
    loss = get_loss("soft_dtw", gamma=0.3, corridor="fastdtw:r=2", corridor_every=4)
    rebuilt = SoftDTWLoss.from_config(loss.get_config())
    assert (rebuilt.corridor, rebuilt.corridor_every) == ("fastdtw:r=2", 4)
    assert float(SparseDTWLoss(gamma=0.3, corridor="exact:r=1")(y_true, y_pred)) > 0
    model = tf.keras.Sequential([tf.keras.layers.Dense(10, input_shape=(5,)), tf.keras.layers.Reshape((10, 1))])
    model.compile(optimizer="adam", loss=loss)
    history = model.fit(rng.normal(size=(8, 5)), rng.normal(size=(8, 10, 1)), batch_size=4, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert (
        loss._schedule.calls == 4 and loss._schedule.computed == 8
    )  # 4 steps: 8 pairs, each computed in epoch 1 and kept


def test_a_kept_corridor_belongs_to_its_own_pair_whatever_the_batch_order(rng):
    from dtwrl.corridors import CorridorSchedule, corridor_from_name

    x, y, moved = rng.normal(size=(6, 12, 1)), rng.normal(size=(6, 10, 1)), rng.normal(size=(6, 10, 1))
    on_y, on_moved = corridor_from_name("exact:r=1", x, y), corridor_from_name("exact:r=1", x, moved)
    schedule = CorridorSchedule("exact:r=1", every=3)
    calls = [  # (pairs, forecasts, the corridors each pair must get: those of its pair's first call)
        ([0, 1, 2], y, on_y),
        ([2, 0, 1], moved, on_y),
        ([4, 3, 5], moved, on_moved),
        ([5, 4, 3], y, on_moved),
    ]
    for order, forecasts, expected in calls:
        assert np.array_equal(schedule(x[order], forecasts[order]), expected[order]), order
    assert schedule.computed == 6
    assert np.array_equal(schedule(x[:1], y[:1]), on_y[:1]) and schedule.computed == 7  # four calls old: anew
    assert not np.array_equal(on_y, on_moved)  # the check above can tell whose corridor was kept


def test_a_schedule_that_reuses_nothing_keeps_nothing(rng):
    from dtwrl.corridors import CorridorSchedule, corridor_from_name

    x, y = rng.normal(size=(3, 12, 1)), rng.normal(size=(3, 10, 1))
    schedule = CorridorSchedule("exact:r=1", every=1)
    for _ in range(2):
        assert np.array_equal(
            schedule(x, y, [12, 11, 9], [10, 10, 8]), corridor_from_name("exact:r=1", x, y, [12, 11, 9], [10, 10, 8])
        )
    assert (schedule.calls, schedule.computed, len(schedule._cache)) == (2, 6, 0)


def test_loss_corridor_arguments_are_checked():
    from dtwrl.losses import SoftDTWLoss

    with pytest.raises(TypeError, match="corridor must be a corridor source name"):
        SoftDTWLoss(corridor=np.zeros((1, 2, 2), int))
    with pytest.raises(ValueError, match="corridor_every applies to a corridor only"):
        SoftDTWLoss(corridor_every=3)
    with pytest.raises(ValueError, match="corridor_every must be an int >= 1"):
        SoftDTWLoss(corridor="band:frac=0.1", corridor_every=0)
    with pytest.raises(ValueError, match="band and corridor are exclusive"):
        SoftDTWLoss(band=2, corridor="band:frac=0.1")


def test_divergence_takes_a_source_per_term(rng):
    from dtwrl.tf.sdtw import soft_dtw_divergence

    x, y = rng.normal(size=(3, 8, 1)), rng.normal(size=(3, 9, 1))
    full = soft_dtw_divergence(x, y, 0.5).numpy()
    np.testing.assert_allclose(soft_dtw_divergence(x, y, 0.5, corridor="band:frac=1").numpy(), full, atol=1e-10)
    assert float(soft_dtw_divergence(x, x, 0.5, corridor="fastdtw:r=1")[0]) == pytest.approx(0.0, abs=1e-10)
    with pytest.raises(TypeError, match="must be a source spec"):
        soft_dtw_divergence(x, y, corridor=np.zeros((3, 8, 2), int))


def _dense_lattice(y_true, y_pred, idx, lengths, owners, gamma, radius):
    """The former dense lattice: soft-DTW over the whole grid with +inf off the union of the widened paths."""
    from dtwrl.tf.cost import grid_costs
    from dtwrl.tf.relaxations import lattice_mask

    costs = grid_costs(tf.constant(y_true), tf.constant(y_pred), "sqeuclidean")
    mask = lattice_mask(idx, lengths, owners, tf.shape(costs), radius)
    return wf.dp_value(tf.where(mask, costs, tf.constant(np.inf, costs.dtype)), gamma, "entropy").numpy()


def test_lattice_runs_on_its_corridor_and_equals_the_dense_lattice_when_rows_are_contiguous(rng):
    from dtwrl.aligners import pad_paths
    from dtwrl.tf.relaxations import lattice_corridor, lattice_mask, lattice_softmin

    B, n, m = 6, 10, 12
    y_true, y_pred = rng.normal(size=(B, n, 1)), rng.normal(size=(B, m, 1))
    for radius, K in [(0, 1), (2, 1), (3, 4), (0, 4)]:
        paths = [cr.random_path(n, m, rng) for _ in range(B * K)]
        idx, lengths = (tf.constant(a, tf.int32) for a in pad_paths(paths))
        owners = tf.constant(np.repeat(np.arange(B), K), tf.int32)
        value = lattice_softmin(
            tf.constant(y_true), tf.constant(y_pred), idx, lengths, owners, "sqeuclidean", 0.2, radius=radius
        ).numpy()
        dense = _dense_lattice(y_true, y_pred, idx, lengths, owners, 0.2, radius)
        corridor = lattice_corridor(idx, lengths, owners, [n] * B, [m] * B, n, radius).numpy()
        union = lattice_mask(idx, lengths, owners, (n, m, B), radius).numpy().transpose(2, 0, 1)
        hull = cr.corridor_mask(corridor, m)
        assert np.all(hull[union])  # the hull holds the lattice
        contiguous = np.array([np.array_equal(hull[b], union[b]) for b in range(B)])
        np.testing.assert_allclose(value[contiguous], dense[contiguous], atol=1e-9)
        assert np.all(value[~contiguous] <= dense[~contiguous] + 1e-9)  # a superset: more paths, a lower soft-min
        if K == 1:
            assert contiguous.all()  # one widened path is contiguous in every row


def test_the_benchmark_corridor_section_runs_and_its_flags_are_checked():
    from experiments import benchmark_soft_dtw as bench

    rows = bench.run_corridor(quick=True, repeats=1)
    assert [row["cpu_vs_full_kernel"] for row in rows][-1] == 1.0 and all(row["cells_per_pair"] > 0 for row in rows)
    with pytest.raises(SystemExit):
        bench.main(["--corridor-long"])


def test_a_constant_corridor_compiles_under_xla(rng):
    x, y = tf.constant(rng.normal(size=(3, 8, 1))), tf.constant(rng.normal(size=(3, 9, 1)))
    corridor = cr.band_corridor([8] * 3, [9] * 3, 8, 1)
    compiled = tf.function(lambda x, y: soft_dtw(x, y, 0.5, corridor=corridor), jit_compile=True)
    np.testing.assert_allclose(compiled(x, y).numpy(), soft_dtw(x, y, 0.5, band=1).numpy(), atol=1e-10)


def test_widen_cells_on_padded_paths_equals_the_flat_cells_and_widen_paths(rng):
    from dtwrl.aligners import pad_paths

    groups = [[cr.random_path(9, 7, rng) for _ in range(3)], [cr.random_path(6, 7, rng)]]
    flat = [(b, path) for b, group in enumerate(groups) for path in group]
    indices, lengths = pad_paths([path for _, path in flat])
    indices[0, lengths[0] :] = 99  # the padding is never read
    owners = np.array([b for b, _ in flat])
    for radius in (0, 2):
        padded = cr.widen_cells(owners, indices, [9, 6], [7, 7], 9, radius, counts=lengths)
        cells = np.concatenate([path for _, path in flat])
        each = np.concatenate([np.full(len(path), b) for b, path in flat])
        np.testing.assert_array_equal(padded, cr.widen_cells(each, cells, [9, 6], [7, 7], 9, radius))
        np.testing.assert_array_equal(padded, cr.widen_paths(groups, [9, 6], [7, 7], 9, radius))


def test_aligned_corridors_widen_each_pairs_own_paths_without_stacking_them(rng):
    """Pair by pair it is widen_paths of the aligner's paths (equal lengths share a call, groups included); the
    batch's paths are never copied and stacked, so its traced peak stays near one set of the aligner's paths."""
    import tracemalloc

    x, y = rng.normal(size=(5, 40, 1)), rng.normal(size=(5, 33, 1))
    xl, yl = [40, 40, 17, 1, 40], [33, 33, 9, 5, 33]  # three pairs share a shape, two do not

    def two_paths(a, b):  # a group of two paths per pair: the exact one and a seeded random one
        return [
            [dtwrl.dtw_path(p, q)[1], cr.random_path(len(p), len(q), np.random.default_rng(len(p)))]
            for p, q in zip(a, b)
        ]

    groups = [two_paths(x[b : b + 1, : xl[b]], y[b : b + 1, : yl[b]])[0] for b in range(5)]
    np.testing.assert_array_equal(
        cr.aligned_corridors(two_paths, x, y, xl, yl, 2), cr.widen_paths(groups, xl, yl, 40, 2)
    )

    n = 4000  # random paths of ~6,000 cells: 96 KB each as int64; two pairs per aligner call
    walks = rng.normal(size=(8, n, 1))
    walks[:, 0, 0] = np.arange(8)  # which pair a call got
    paths = [cr.random_path(n, n, np.random.default_rng(b)) for b in range(8)]

    def aligner(a, b):
        return [paths[int(pair[0, 0])].copy() for pair in a]

    cr.aligned_corridors(aligner, walks, walks, [n] * 8, [n] * 8, radius=3)
    tracemalloc.start()
    try:
        cr.aligned_corridors(aligner, walks, walks, [n] * 8, [n] * 8, radius=3)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    path_bytes, out_bytes = sum(p.nbytes for p in paths), 8 * n * 2 * 8
    # the aligner's paths, their int32 padding and the corridors (before: 2.7x as much, copies of both stacked)
    assert peak < 1.6 * path_bytes + 1.5 * out_bytes


def test_a_valid_int64_corridor_tensor_is_used_as_it_is_and_a_bad_one_still_refused():
    """A corridor loss hands soft_dtw its schedule's int64 tensor: checked, then used without a copy (1 MB at B = 8,
    H = 8192); any other int array becomes a checked constant, and a bad corridor is refused either way."""
    from dtwrl.tf.checks import corridor_tensor

    x = tf.zeros((2, 4, 1))
    band = cr.band_corridor([4, 4], [4, 4], 4, 1)
    tensor = tf.constant(band)
    assert corridor_tensor(tensor, x, x) is tensor
    np.testing.assert_array_equal(corridor_tensor(band.astype(np.int32), x, x).numpy(), band)
    bad = band.copy()
    bad[1, 0, 0] = 1
    for corridor in (tf.constant(bad), bad):
        with pytest.raises(ValueError, match="pair 1, row 1 breaks lo non-decreasing"):
            corridor_tensor(corridor, x, x)
