"""The compiled engines of soft-DTW (the SIMD lane kernel dtwrl.tf._lanes and the numba kernel dtwrl.tf._kernel):
against brute force, the wavefront, float64 and finite differences; the memory-light mode; the automatic choice of
engine; float32 costs far from 0."""

import numpy as np
import pytest
import tensorflow as tf

import dtwrl
from dtwrl.bands import min_band
from dtwrl.corridors import widen_paths
from dtwrl.tf import _kernel_ops as ko
from dtwrl.tf import _lanes
from dtwrl.tf.cost import pairwise_costs
from dtwrl.tf.sdtw import soft_dtw, soft_dtw_alignment, soft_dtw_alignment_from_cost, soft_dtw_from_cost
from dtwrl.tf.smoothed import smoothed_dtw, smoothed_dtw_alignment
from tests import reference as ref

ENGINES = ("kernel", "numba", "light", "tf")


def _value_and_grads(fn, x, y, **kwargs):
    x, y = tf.constant(x), tf.constant(y)
    with tf.GradientTape() as tape:
        tape.watch([x, y])
        value = fn(x, y, **kwargs)
    gx, gy = tape.gradient(value, [x, y])
    return value.numpy(), gx.numpy(), gy.numpy()


def _grad_error(f, *args):
    theoretical, numerical = tf.test.compute_gradient(f, [tf.constant(a) for a in args], delta=1e-6)
    return max(np.abs(t - n).max() for t, n in zip(theoretical, numerical))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("band", [None, 0, 1])
def test_every_engine_matches_brute_force_with_lengths_and_bands(rng, engine, band):
    sizes = [(n, m) for n in range(1, 5) for m in range(1, 5) if band is None or band >= min_band(n, m)]
    x = rng.uniform(60.0, 90.0, size=(len(sizes), 4, 2))  # padding: garbage that must not count
    y = rng.uniform(60.0, 90.0, size=(len(sizes), 4, 2))
    want = []
    for b, (n, m) in enumerate(sizes):
        x[b, :n], y[b, :m] = rng.normal(size=(n, 2)), rng.normal(size=(m, 2))
        want.append(ref.brute_force_soft_dtw(ref.local_costs(x[b, :n], y[b, :m]), 0.7, band))
    xl, yl = np.array(sizes).T
    got = soft_dtw(x, y, gamma=0.7, band=band, x_lengths=xl, y_lengths=yl, implementation=engine).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean", "abs"])
@pytest.mark.parametrize("band", [None, 3])
def test_kernel_values_and_gradients_equal_the_wavefront(rng, metric, band):
    x, y = rng.normal(size=(5, 23, 3)), rng.normal(size=(5, 17, 3))
    kw = dict(gamma=0.3, band=band, metric=metric, x_lengths=[23, 20, 9, 1, 14], y_lengths=[17, 17, 12, 5, 1])
    want = _value_and_grads(soft_dtw, x, y, implementation="tf", **kw)
    for engine in ("kernel", "numba", "light"):
        for got, expected in zip(_value_and_grads(soft_dtw, x, y, implementation=engine, **kw), want):
            np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("regularizer", ["entropy", "l2"])
def test_smoothed_family_on_the_kernel_equals_the_wavefront(rng, regularizer):
    x, y = rng.normal(size=(3, 12, 1)), rng.normal(size=(3, 15, 1))
    kw = dict(gamma=0.4, regularizer=regularizer, band=4, x_lengths=[12, 7, 3])
    want = _value_and_grads(smoothed_dtw, x, y, implementation="tf", **kw)
    for got, expected in zip(_value_and_grads(smoothed_dtw, x, y, implementation="kernel", **kw), want):
        np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(
        smoothed_dtw_alignment(x, y, implementation="kernel", **kw).numpy(),
        smoothed_dtw_alignment(x, y, implementation="tf", **kw).numpy(),
        rtol=1e-11,
        atol=1e-12,
    )


@pytest.mark.parametrize("engine", ["kernel", "light"])
def test_kernel_gradients_match_finite_differences(rng, engine):
    x, y = rng.normal(size=(2, 5, 2)), rng.normal(size=(2, 4, 2))
    for metric in ("sqeuclidean", "euclidean", "abs"):
        fn = lambda x, y: soft_dtw(x, y, gamma=0.5, metric=metric, band=2, implementation=engine)  # noqa: E731
        assert _grad_error(fn, x, y) < 1e-6
    D = rng.uniform(0.0, 2.0, size=(2, 4, 6))
    assert _grad_error(lambda D: soft_dtw_from_cost(D, gamma=0.6, band=1, implementation=engine), D) < 1e-7


def test_kernel_second_derivatives_are_the_hessian_vector_product(rng):
    D = rng.uniform(0.0, 2.0, size=(2, 4, 3))
    W = tf.constant(rng.normal(size=(2, 4, 3)))

    def temporal(D):
        return tf.reduce_sum(soft_dtw_alignment_from_cost(D, gamma=0.5, implementation="kernel") * W, axis=(1, 2))

    assert _grad_error(temporal, D) < 1e-7
    x, y = rng.normal(size=(2, 4, 2)), rng.normal(size=(2, 3, 2))
    # the gradient of the kernel's gradient (a nested tape) equals the wavefront's
    out = []
    for engine in ("kernel", "tf"):
        xt, yt = tf.constant(x), tf.constant(y)
        with tf.GradientTape() as outer:
            outer.watch(xt)
            with tf.GradientTape() as inner:
                inner.watch(xt)
                value = soft_dtw(xt, yt, gamma=0.5, implementation=engine)
            gx = inner.gradient(value, xt)
            total = tf.reduce_sum(gx * gx)
        out.append(outer.gradient(total, xt).numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n, m", [(1, 1), (1, 9), (9, 1), (31, 7)])
def test_float32_kernel_agrees_with_a_float64_reference(rng, n, m):
    x, y = rng.normal(size=(4, n, 2)) * 3.0, rng.normal(size=(4, m, 2)) * 3.0
    want = _value_and_grads(soft_dtw, x, y, gamma=0.1, implementation="tf")
    got = _value_and_grads(soft_dtw, x.astype(np.float32), y.astype(np.float32), gamma=0.1, implementation="kernel")
    assert all(g.dtype == np.float32 for g in got)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-5 * np.abs(w).max())


def test_memory_light_mode_recomputes_blocks_exactly(rng, monkeypatch):
    x, y = rng.normal(size=(3, 50, 1)), rng.normal(size=(3, 40, 1))
    assert ko.block_rows(3, 50, 40, 8, light=True) < 50  # several blocks of stored weights
    assert ko.lane_block(3, 8, light=True)(np.zeros(50, np.int64), np.full(50, 40)) < 50
    kw = dict(gamma=0.2, band=12, x_lengths=[50, 33, 20])
    full = _value_and_grads(soft_dtw, x, y, implementation="tf", **kw)
    for got, want in zip(_value_and_grads(soft_dtw, x, y, implementation="light", **kw), full):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    monkeypatch.setenv(ko.ENV_MEMORY, "0.001")  # the numba kernel's own memory-light mode
    assert ko.block_rows(3, 50, 40, 8, light=False) < 50
    for got, want in zip(_value_and_grads(soft_dtw, x, y, implementation="numba", **kw), full):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("corridor", [False, True])
def test_numba_budgets_its_weights_by_the_row_width_it_stores(rng, monkeypatch, corridor):
    # a full-grid run stores m weights per row; only a corridor's narrower rows may budget by fewer
    seen = []
    monkeypatch.setattr(ko, "block_rows", lambda B, n, width, *a: seen.append(width) or n)
    x, y = rng.normal(size=(2, 30, 1)), rng.normal(size=(2, 200, 1))
    path = np.stack([np.arange(30), np.arange(30) * 199 // 29], axis=1)
    lanes = widen_paths([[path], [path]], [30, 30], [200, 200], 30, radius=2) if corridor else None
    soft_dtw(x, y, gamma=0.5, implementation="numba", corridor=lanes)
    assert seen and all(width < 200 if corridor else width == 200 for width in seen), seen


def test_memory_budget_switches_to_light_mode(monkeypatch):
    monkeypatch.setattr(ko, "_threads", lambda: 2)  # two pairs in flight
    assert ko.block_rows(8, 4096, 4096, 4, light=False) == 4096
    monkeypatch.setenv(ko.ENV_MEMORY, "16")
    assert ko.block_rows(8, 4096, 4096, 4, light=False) == 64
    monkeypatch.setenv(ko.ENV_MEMORY, "-1")
    with pytest.raises(ValueError, match=ko.ENV_MEMORY):
        ko.block_rows(8, 4096, 4096, 4, light=False)


def test_automatic_choice_and_its_overrides(rng, monkeypatch):
    monkeypatch.delenv(ko.ENV_IMPLEMENTATION, raising=False)
    monkeypatch.delenv(ko.ENV_MEMORY, raising=False)
    # on this CPU-only machine with a C++ compiler: the lane kernel from two pairs on
    assert _lanes.library() is not None
    assert ko.resolve("auto", 64, 256, 256, 4) == "kernel"
    assert ko.resolve("auto", 8, 4096, 4096, 4) == "kernel"
    assert ko.resolve("auto", None, None, 4096, 4) == "tf"  # unknown lengths: the wavefront
    # one pair on the full grid: the diagonal kernel (through "kernel"); with a band, the numba kernel for a narrow
    # band, else the wavefront
    assert ko.resolve("auto", 1, 256, 256, 4) == "kernel"
    assert ko.resolve("auto", 1, 8192, 8192, 4) == "kernel"
    assert ko.band_fraction(512, 512, 52) == pytest.approx(105 / 512)
    assert ko.resolve("auto", 1, 512, 512, 4, band=52) == "numba"
    assert ko.resolve("auto", 1, 512, 512, 4, band=200) == "tf"
    seen = []

    def probe(x):
        seen.append(ko.resolve("auto", 8, 4096, 4096, 4))
        return soft_dtw(x, x)

    x = tf.constant(rng.normal(size=(2, 5, 1)))
    tf.function(probe)(x)
    tf.function(probe, jit_compile=True)(x)
    assert seen == ["kernel", "tf"]  # never a compiled kernel inside an XLA compilation
    for engine in ("kernel", "numba", "light"):
        with pytest.raises(ValueError, match="implementation"):
            tf.function(lambda x, engine=engine: soft_dtw(x, x, implementation=engine), jit_compile=True)(x)
    with pytest.raises(ValueError, match="implementation"):
        soft_dtw(x, x, implementation="fast")
    monkeypatch.setenv(ko.ENV_MEMORY, "0.001")  # a tiny budget sends even one small banded pair to the numba kernel
    assert ko.resolve("auto", 1, 5, 5, 8, band=4) == "numba"
    y = tf.constant(rng.normal(size=(2, 7, 1)))
    want = _value_and_grads(soft_dtw, x, y, implementation="tf")
    for got, expected in zip(_value_and_grads(soft_dtw, x, y), want):
        np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-12)
    monkeypatch.setenv(ko.ENV_IMPLEMENTATION, "tf")
    assert ko.resolve("auto", 2, 5, 5, 8) == "tf" and ko.resolve("kernel") == "kernel"
    monkeypatch.setenv(ko.ENV_IMPLEMENTATION, "fast")
    with pytest.raises(ValueError, match=ko.ENV_IMPLEMENTATION):
        soft_dtw(x, x)


def test_without_the_lane_kernel_the_numba_kernel_runs(rng, monkeypatch):
    """No C++ compiler: "auto" falls back to the previous rule and "kernel" to the numba kernel, same numbers."""
    monkeypatch.delenv(ko.ENV_IMPLEMENTATION, raising=False)
    monkeypatch.delenv(ko.ENV_MEMORY, raising=False)
    x, y = rng.normal(size=(3, 9, 2)), rng.normal(size=(3, 6, 2))
    with_lanes = _value_and_grads(soft_dtw, x, y, gamma=0.3, implementation="kernel")
    # past the memory budget the lane kernel's weights do not fit: its memory-light mode runs
    monkeypatch.setenv(ko.ENV_MEMORY, "0.001")
    assert ko.lane_block(3, 8, light=False)(np.zeros(9, np.int64), np.full(9, 6)) == 2  # round(sqrt(9 / 3))
    for got, want in zip(_value_and_grads(soft_dtw, x, y, gamma=0.3, implementation="kernel"), with_lanes):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-12)
    monkeypatch.delenv(ko.ENV_MEMORY)
    monkeypatch.setattr(_lanes, "library", lambda: None)
    assert ko.resolve("auto", 64, 256, 256, 4) == "tf"
    assert ko.resolve("auto", 8, 4096, 4096, 4) == "numba"
    assert ko.resolve("auto", 1, 256, 256, 4) == "tf"  # one pair: the wavefront while it fits the budget
    assert ko.resolve("auto", 1, 8192, 8192, 4) == "numba"
    for got, want in zip(_value_and_grads(soft_dtw, x, y, gamma=0.3, implementation="kernel"), with_lanes):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-12)


def test_kernel_inside_tf_function_with_unknown_batch_and_lengths(rng, monkeypatch):
    monkeypatch.setenv(ko.ENV_IMPLEMENTATION, "kernel")
    x, y = rng.normal(size=(3, 6, 2)), rng.normal(size=(3, 8, 2))
    xl, yl = np.array([6, 4, 1]), np.array([8, 2, 5])
    spec = tf.TensorSpec((None, None, 2), tf.float64)
    lspec = tf.TensorSpec((None,), tf.int32)

    @tf.function(input_signature=[spec, spec, lspec, lspec])
    def fn(x, y, xl, yl):
        with tf.GradientTape() as tape:
            tape.watch([x, y])
            value = soft_dtw(x, y, gamma=0.5, x_lengths=xl, y_lengths=yl)
        return (value, *tape.gradient(value, [x, y]))

    got = [t.numpy() for t in fn(tf.constant(x), tf.constant(y), tf.constant(xl, tf.int32), tf.constant(yl, tf.int32))]
    want = _value_and_grads(soft_dtw, x, y, gamma=0.5, x_lengths=xl, y_lengths=yl, implementation="tf")
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-11, atol=1e-12)


def test_kernel_alignment_is_a_probability_and_zero_outside_band_and_lengths(rng):
    x, y = rng.normal(size=(2, 7, 1)), rng.normal(size=(2, 6, 1))
    E = soft_dtw_alignment(x, y, band=1, x_lengths=[7, 4], y_lengths=[6, 5], implementation="kernel").numpy()
    np.testing.assert_allclose(E[0, 0, 0], 1.0)
    np.testing.assert_allclose([E[0, 6, 5], E[1, 3, 4]], 1.0)
    assert np.all(E[0][~ref.in_band(7, 6, 1)] == 0.0)
    assert np.all(E[1, 4:] == 0.0) and np.all(E[1, :, 5:] == 0.0)


@pytest.mark.parametrize("scale", [1.0, 1e2, 1e4])
@pytest.mark.parametrize("engine", ["kernel", "tf"])
def test_float32_costs_far_from_zero_do_not_cancel(rng, engine, scale):
    """Issue 12: d = 3, values ~1e4, y = x + 0.1 noise gave 304 where exact DTW is 0.892 in float32."""
    x32 = (rng.normal(size=(2, 30, 3)) * scale).astype(np.float32)
    y32 = (x32 + 0.1 * rng.normal(size=x32.shape)).astype(np.float32)
    x, y = x32.astype(np.float64), y32.astype(np.float64)  # the float64 reference sees the same numbers
    want = soft_dtw(x, y, gamma=0.01, implementation="tf").numpy()
    exact = [dtwrl.dtw(x[b], y[b]) for b in range(2)]
    assert np.all(np.abs(want - exact) < 0.01 * np.log(3.0) * 60)  # soft-DTW near exact DTW (~1 here)
    got = soft_dtw(x32, y32, gamma=0.01, implementation=engine).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4)


def test_cost_matrices_far_from_zero_are_exact_for_many_features(rng):
    for d in (3, 40):
        x = (rng.normal(size=(2, 5, d)) * 1e4).astype(np.float32)
        y = (x[:, :4] + 0.1 * rng.normal(size=(2, 4, d))).astype(np.float32)
        want = np.array([ref.local_costs(x[b].astype(np.float64), y[b].astype(np.float64)) for b in range(2)])
        got = pairwise_costs(tf.constant(x), tf.constant(y)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5)


def test_gpu_check_rejects_bad_flags_in_one_line(capsys):
    from experiments import gpu_check

    with pytest.raises(SystemExit) as stop:
        gpu_check.main(["--repeats", "0"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --repeats: ")


@pytest.mark.slow
def test_gpu_check_cpu_part_passes_and_skips_without_a_gpu(capsys):
    from experiments import gpu_check

    assert gpu_check.main([]) == 0
    out = capsys.readouterr().out
    assert "[ok]" in out and "FAIL" not in out


@pytest.mark.parametrize("implementation", ["tf", "kernel", "numba", "light"])
def test_a_variable_input_is_differentiated_like_a_tensor(implementation):
    """tf.Variable inputs (model weights, README's example) reach the custom gradients as tensors."""
    rng = np.random.default_rng(3)
    x = tf.constant(rng.normal(size=(2, 9, 1)), tf.float64)
    y0 = rng.normal(size=(2, 7, 1))
    grads = []
    for y in (tf.Variable(y0), tf.constant(y0)):
        with tf.GradientTape() as tape:
            tape.watch(y)
            value = tf.reduce_sum(soft_dtw(x, y, gamma=0.1, band=3, implementation=implementation))
        grads.append(tape.gradient(value, y).numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)
