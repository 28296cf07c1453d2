"""soft-DTW in TensorFlow (dtwrl.tf.sdtw) against brute force, finite differences and exact DTW."""

import numpy as np
import pytest
import tensorflow as tf

import dtwrl
from dtwrl.bands import min_band
from dtwrl.tf.cost import pairwise_costs
from dtwrl.tf.sdtw import (
    soft_dtw,
    soft_dtw_alignment,
    soft_dtw_alignment_from_cost,
    soft_dtw_divergence,
    soft_dtw_from_cost,
)
from tests import reference as ref

SIZES = [(n, m) for n in range(1, 6) for m in range(1, 6)]


def _grad_error(f, *args):
    theoretical, numerical = tf.test.compute_gradient(f, [tf.constant(a) for a in args], delta=1e-6)
    return max(np.abs(t - n).max() for t, n in zip(theoretical, numerical))


def _padded_costs(rng, sizes, size=5):
    """All cost matrices of the given sizes, padded with large garbage into one batch."""
    D = rng.uniform(50.0, 90.0, size=(len(sizes), size, size))
    mats = []
    for b, (n, m) in enumerate(sizes):
        mats.append(rng.uniform(0.0, 3.0, size=(n, m)))
        D[b, :n, :m] = mats[-1]
    lengths = np.array(sizes, dtype=np.int32)
    return D, mats, lengths[:, 0], lengths[:, 1]


@pytest.mark.parametrize("band", [None, 0, 1, 2])
def test_values_match_brute_force_for_every_size_up_to_5x5(rng, band):
    sizes = [(n, m) for n, m in SIZES if band is None or band >= min_band(n, m)]
    D, mats, xl, yl = _padded_costs(rng, sizes)
    got = soft_dtw_from_cost(D, gamma=0.7, band=band, x_lengths=xl, y_lengths=yl).numpy()
    want = [ref.brute_force_soft_dtw(C, 0.7, band) for C in mats]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n, m", [(1, 1), (1, 4), (4, 1), (3, 5), (5, 2), (4, 4)])
def test_unpadded_multivariate_pairs_match_brute_force(rng, n, m):
    x, y = rng.normal(size=(2, n, 2)), rng.normal(size=(2, m, 2))
    got = soft_dtw(x, y, gamma=0.5).numpy()
    want = [ref.brute_force_soft_dtw(ref.local_costs(x[b], y[b]), 0.5) for b in range(2)]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean", "abs"])
def test_metrics_and_cost_matrices(rng, metric):
    x, y = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 3, 3))
    C = pairwise_costs(tf.constant(x), tf.constant(y), metric).numpy()
    for b in range(2):
        np.testing.assert_allclose(C[b], ref.local_costs(x[b], y[b], metric), rtol=1e-12, atol=1e-12)
    got = soft_dtw(x, y, gamma=0.3, metric=metric, band=1).numpy()
    want = [ref.brute_force_soft_dtw(ref.local_costs(x[b], y[b], metric), 0.3, band=1) for b in range(2)]
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_rank2_is_univariate_and_dtype_is_kept(rng):
    x, y = rng.normal(size=(3, 4)), rng.normal(size=(3, 5))
    v64 = soft_dtw(x, y)
    np.testing.assert_array_equal(v64.numpy(), soft_dtw(x[..., None], y[..., None]).numpy())
    assert v64.dtype == tf.float64 and v64.shape == (3,)
    v32 = soft_dtw(x.astype(np.float32), y.astype(np.float32))
    assert v32.dtype == tf.float32
    np.testing.assert_allclose(v32.numpy(), v64.numpy(), rtol=1e-5)


@pytest.mark.parametrize("band", [None, 1])
def test_small_gamma_tends_to_exact_dtw(rng, band):
    x, y = rng.normal(size=(3, 5, 1)), rng.normal(size=(3, 4, 1))
    got = soft_dtw(x, y, gamma=1e-3, band=band).numpy()
    exact = np.array([dtwrl.dtw(x[b], y[b], band=band) for b in range(3)])
    # -gamma log(#paths) <= soft_dtw - dtw <= 0
    assert np.all(got <= exact + 1e-12)
    assert np.all(exact - got <= 1e-3 * np.log(len(ref.all_warping_paths(5, 4))) + 1e-12)


def test_no_nan_with_tiny_gamma_and_large_values(rng):
    x = tf.constant(rng.normal(size=(2, 6, 1)) * 1e3)
    y = tf.constant(rng.normal(size=(2, 7, 1)) * 1e3)
    for dtype in (tf.float64, tf.float32):
        xs, ys = tf.cast(x, dtype), tf.cast(y, dtype)
        with tf.GradientTape() as tape:
            tape.watch(xs)
            value = soft_dtw(xs, ys, gamma=1e-3)
        grad = tape.gradient(value, xs)
        assert np.isfinite(value.numpy()).all() and np.isfinite(grad.numpy()).all()
        exact = [dtwrl.dtw(x[b].numpy(), y[b].numpy()) for b in range(2)]
        np.testing.assert_allclose(value.numpy(), exact, rtol=1e-5 if dtype == tf.float32 else 1e-9)
        E = soft_dtw_alignment(xs, ys, gamma=1e-3).numpy()
        assert np.isfinite(E).all() and E.min() >= 0.0 and E.max() <= 1.0 + 1e-6


def test_gradient_wrt_costs_matches_finite_differences(rng):
    D = rng.uniform(0.0, 2.0, size=(2, 3, 4))
    assert _grad_error(lambda D: soft_dtw_from_cost(D, gamma=0.6), D) < 1e-7
    assert _grad_error(lambda D: soft_dtw_from_cost(D, gamma=0.6, band=1), D) < 1e-7


@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean", "abs"])
def test_gradient_wrt_x_and_y_matches_finite_differences(rng, metric):
    x, y = rng.normal(size=(2, 3, 2)), rng.normal(size=(2, 4, 2))
    assert _grad_error(lambda x, y: soft_dtw(x, y, gamma=0.5, metric=metric), x, y) < 1e-6


def test_alignment_is_the_gradient_and_a_probability(rng):
    D = tf.constant(rng.uniform(0.0, 2.0, size=(2, 4, 3)))
    with tf.GradientTape() as tape:
        tape.watch(D)
        value = soft_dtw_from_cost(D, gamma=0.8)
    E = soft_dtw_alignment_from_cost(D, gamma=0.8).numpy()
    np.testing.assert_allclose(E, tape.gradient(value, D).numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(E[:, 0, 0], 1.0)
    np.testing.assert_allclose(E[:, -1, -1], 1.0)
    # expected alignment = sum over paths of p(path) * path indicator (brute force)
    for b in range(2):
        paths = ref.all_warping_paths(4, 3)
        costs = np.array([D.numpy()[b][p[:, 0], p[:, 1]].sum() for p in paths])
        probs = np.exp(-(costs - costs.min()) / 0.8)
        probs /= probs.sum()
        want = np.zeros((4, 3))
        for p, w in zip(paths, probs):
            want[p[:, 0], p[:, 1]] += w
        np.testing.assert_allclose(E[b], want, rtol=1e-10, atol=1e-12)


def test_alignment_gradient_is_the_hessian_vector_product(rng):
    D = rng.uniform(0.0, 2.0, size=(2, 4, 3))
    W = tf.constant(rng.normal(size=(2, 4, 3)))
    assert _grad_error(lambda D: tf.reduce_sum(soft_dtw_alignment_from_cost(D, gamma=0.5) * W, axis=(1, 2)), D) < 1e-7
    assert (
        _grad_error(lambda D: tf.reduce_sum(soft_dtw_alignment_from_cost(D, gamma=0.5, band=1) * W, axis=(1, 2)), D)
        < 1e-7
    )
    x, y = rng.normal(size=(2, 4, 2)), rng.normal(size=(2, 3, 2))
    assert _grad_error(lambda x, y: tf.reduce_sum(soft_dtw_alignment(x, y, gamma=0.5) * W, axis=(1, 2)), x, y) < 1e-6


def test_second_derivative_of_the_value_is_a_symmetric_hessian(rng):
    D = tf.constant(rng.uniform(0.0, 2.0, size=(1, 3, 3)))
    u, v = (tf.constant(rng.normal(size=(1, 3, 3))) for _ in range(2))

    def hvp(direction):
        with tf.GradientTape() as outer:
            outer.watch(D)
            with tf.GradientTape() as inner:
                inner.watch(D)
                value = soft_dtw_from_cost(D, gamma=0.5)
            E = inner.gradient(value, D)
        return outer.gradient(E, D, output_gradients=direction)

    Hu, Hv = hvp(u), hvp(v)
    np.testing.assert_allclose(tf.reduce_sum(u * Hv), tf.reduce_sum(v * Hu), rtol=1e-12)
    eps = 1e-6
    grad = lambda D: soft_dtw_alignment_from_cost(D, gamma=0.5)  # noqa: E731
    numerical = (grad(D + eps * v) - grad(D - eps * v)) / (2 * eps)
    np.testing.assert_allclose(Hv.numpy(), numerical.numpy(), atol=1e-8)


def _agree_in_all_modes(fn, rng):
    """``fn(x, y)`` on random (3, 5, 2) and (3, 4, 2) batches: the same tensors eager, in tf.function and XLA."""
    x = tf.constant(rng.normal(size=(3, 5, 2)))
    y = tf.constant(rng.normal(size=(3, 4, 2)))
    eager = fn(x, y)
    for compiled in (tf.function(fn), tf.function(fn, jit_compile=True)):
        for want, got in zip(eager, compiled(x, y)):
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)


def test_eager_tf_function_and_xla_agree(rng):
    def value_and_grads(x, y):
        with tf.GradientTape() as tape:
            tape.watch([x, y])
            value = soft_dtw(x, y, gamma=0.4, band=2, x_lengths=tf.constant([5, 3, 2]))
        return (value, *tape.gradient(value, [x, y]), soft_dtw_alignment(x, y, gamma=0.4))

    _agree_in_all_modes(value_and_grads, rng)


@pytest.mark.slow
def test_alignment_gradient_in_all_modes(rng):
    def temporal_grads(x, y):
        with tf.GradientTape() as tape:
            tape.watch([x, y])
            temporal = tf.reduce_sum(soft_dtw_alignment(x, y, gamma=0.4) ** 2)
        return tape.gradient(temporal, [x, y])

    _agree_in_all_modes(temporal_grads, rng)


def test_batch_with_lengths_equals_per_pair_and_padding_gets_zero_gradient(rng):
    xl, yl = np.array([5, 2, 4, 1]), np.array([3, 4, 1, 4])
    x, y = rng.normal(size=(4, 5, 2)), rng.normal(size=(4, 4, 2))
    xt, yt = tf.constant(x), tf.constant(y)
    for band in (None, 2):
        with tf.GradientTape() as tape:
            tape.watch([xt, yt])
            value = soft_dtw(xt, yt, gamma=0.5, band=band, x_lengths=xl, y_lengths=yl)
        gx, gy = (g.numpy() for g in tape.gradient(value, [xt, yt]))
        E = soft_dtw_alignment(xt, yt, gamma=0.5, band=band, x_lengths=xl, y_lengths=yl).numpy()
        for b in range(4):
            xb, yb = tf.constant(x[b : b + 1, : xl[b]]), tf.constant(y[b : b + 1, : yl[b]])
            with tf.GradientTape() as tape:
                tape.watch([xb, yb])
                single = soft_dtw(xb, yb, gamma=0.5, band=band)
            sx, sy = tape.gradient(single, [xb, yb])
            np.testing.assert_allclose(value[b].numpy(), single.numpy()[0], rtol=1e-12)
            np.testing.assert_allclose(gx[b, : xl[b]], sx.numpy()[0], rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(gy[b, : yl[b]], sy.numpy()[0], rtol=1e-10, atol=1e-14)
            assert np.all(gx[b, xl[b] :] == 0.0) and np.all(gy[b, yl[b] :] == 0.0)
            assert np.all(E[b, xl[b] :] == 0.0) and np.all(E[b, :, yl[b] :] == 0.0)
    # the same value when only one side is padded
    np.testing.assert_allclose(
        soft_dtw(x, y, x_lengths=xl).numpy()[1], soft_dtw(x[1:2, :2], y[1:2]).numpy()[0], rtol=1e-12
    )


def test_band_outside_cells_get_zero_alignment(rng):
    x, y = rng.normal(size=(1, 5, 1)), rng.normal(size=(1, 5, 1))
    E = soft_dtw_alignment(x, y, band=1).numpy()[0]
    assert np.all(E[~ref.in_band(5, 5, 1)] == 0.0)


def test_divergence_is_non_negative_and_zero_on_the_diagonal(rng):
    x, y = rng.normal(size=(6, 5, 2)), rng.normal(size=(6, 4, 2))
    div = soft_dtw_divergence(x, y, gamma=0.5).numpy()
    assert np.all(div >= 0.0)
    np.testing.assert_allclose(soft_dtw_divergence(x, x, gamma=0.5).numpy(), 0.0, atol=1e-12)
    sdtw = lambda a, b: soft_dtw(a, b, gamma=0.5).numpy()  # noqa: E731
    np.testing.assert_allclose(div, sdtw(x, y) - 0.5 * (sdtw(x, x) + sdtw(y, y)), rtol=1e-12)
    xl, yl = np.array([5, 3, 2, 4, 1, 5]), np.array([2, 4, 4, 1, 3, 3])
    div_l = soft_dtw_divergence(x, y, gamma=0.5, x_lengths=xl, y_lengths=yl).numpy()
    for b in range(6):
        single = soft_dtw_divergence(x[b : b + 1, : xl[b]], y[b : b + 1, : yl[b]], gamma=0.5).numpy()[0]
        np.testing.assert_allclose(div_l[b], single, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(gamma=0.0), "gamma"),
        (dict(gamma=-1.0), "gamma"),
        (dict(metric="cosine"), "metric"),
        (dict(band=-1), "band"),
        (dict(band=0, y=np.zeros((2, 3, 1))), "band"),
        (dict(x=np.zeros((2, 4, 1, 1))), "x"),
        (dict(x=np.zeros((2, 0, 1))), "x"),
        (dict(y=np.zeros((2, 4, 2))), "features d"),
        (dict(y=np.zeros((3, 4, 1))), "batch"),
        (dict(y=np.zeros((2, 4, 1), np.float32)), "dtype"),
        (dict(x=np.full((2, 4, 1), np.nan)), "x"),
        (dict(y=np.array([[[np.inf]] * 4] * 2)), "y"),
        (dict(x_lengths=[0, 4]), "x_lengths"),
        (dict(x_lengths=[4, 5]), "x_lengths"),
        (dict(y_lengths=[1, 2, 3]), "y_lengths"),
        (dict(band=0, x_lengths=[4, 2]), "band"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(kwargs, name):
    args = dict(x=np.zeros((2, 4, 1)), y=np.zeros((2, 4, 1)))
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        soft_dtw(**args)


def test_bad_cost_input_raises():
    with pytest.raises(ValueError, match="D"):
        soft_dtw_from_cost(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="D"):
        soft_dtw_from_cost(np.full((1, 2, 2), np.nan))
    with pytest.raises(TypeError, match="band"):
        soft_dtw_from_cost(np.zeros((1, 2, 2)), band=1.5)


def test_nan_inside_tf_function_is_not_silent():
    fn = tf.function(lambda x: soft_dtw(x, x))
    with pytest.raises(tf.errors.InvalidArgumentError, match="x must be finite"):
        fn(tf.constant(np.full((1, 3, 1), np.nan)))


@pytest.mark.parametrize("gamma", [1e-300, 1e-39])
def test_a_gamma_too_small_for_float32_is_refused_by_every_entry_point(rng, gamma):
    """soft_dtw_alignment gave an all-NaN alignment for it (issue 21); the value's gradient was NaN too."""
    x, y = rng.normal(size=(2, 10, 1)).astype(np.float32), rng.normal(size=(2, 10, 1)).astype(np.float32)
    calls = [
        lambda: soft_dtw_alignment(x, y, gamma=gamma),
        lambda: soft_dtw(x, y, gamma=gamma),
        lambda: soft_dtw_divergence(x, y, gamma=gamma),
        lambda: soft_dtw_from_cost(pairwise_costs(x, y), gamma=gamma),
        lambda: soft_dtw_alignment_from_cost(pairwise_costs(x, y), gamma=gamma),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=r"^gamma=.* is too small for float32"):
            call()
    E = soft_dtw_alignment(x.astype(np.float64), y.astype(np.float64), gamma=gamma).numpy()  # normal in float64
    assert np.isfinite(E).all() and E[:, 0, 0].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("mode", ["eager", "xla"])
def test_nonfinite_inf_gives_the_bad_pair_inf_and_zero_gradient_even_under_xla(rng, mode):
    x = rng.normal(size=(3, 5, 2)).astype(np.float32)
    y = rng.normal(size=(3, 4, 2)).astype(np.float32)
    x[1, 2, 0], y[2, 0, 1] = np.nan, -np.inf

    def value_and_grad(a, b):
        with tf.GradientTape() as tape:
            tape.watch(a)
            value = soft_dtw(a, b, gamma=0.1, nonfinite="inf")
            loss = tf.reduce_mean(value)
        return value, tape.gradient(loss, a)

    fn = tf.function(value_and_grad, jit_compile=True) if mode == "xla" else value_and_grad
    value, grad = (t.numpy() for t in fn(tf.constant(x), tf.constant(y)))
    assert value[1] == value[2] == np.inf
    np.testing.assert_allclose(value[0], soft_dtw(x[:1], y[:1], gamma=0.1).numpy()[0], rtol=1e-5)
    assert np.isfinite(grad).all() and not grad[1:].any() and grad[0].any()
    with tf.GradientTape() as tape:
        x0 = tf.constant(x[:1])
        tape.watch(x0)
        loss = soft_dtw(x0, y[:1], gamma=0.1) / 3.0
    reference = tape.gradient(loss, x0)
    np.testing.assert_allclose(grad[0], reference.numpy()[0], rtol=1e-4, atol=1e-6)


def test_nonfinite_inf_leaves_finite_batches_unchanged_and_checks_its_value(rng):
    x, y = rng.normal(size=(2, 6)), rng.normal(size=(2, 3))
    np.testing.assert_array_equal(soft_dtw(x, y, nonfinite="inf").numpy(), soft_dtw(x, y).numpy())
    with pytest.raises(ValueError, match="^nonfinite must be one of 'error', 'inf'"):
        soft_dtw(x, y, nonfinite="nan")
    with pytest.raises(ValueError, match="x must be finite"):
        soft_dtw(np.full((2, 6), np.nan), y)  # the default still raises eagerly
    with pytest.raises(ValueError, match="features d"):
        soft_dtw(x, np.zeros((2, 3, 2)), nonfinite="inf")  # the usual checks still name the argument


def test_public_names_are_reexported():
    for name in ("soft_dtw", "soft_dtw_alignment", "soft_dtw_divergence"):
        assert getattr(dtwrl, name) is globals()[name]


@pytest.mark.slow
def test_benchmark_quick_run_agrees_with_numba():
    from experiments import benchmark_soft_dtw

    rows = benchmark_soft_dtw.run(quick=True, repeats=1)  # raises if the implementations disagree
    assert {row["impl"] for row in rows} >= {"numba per-pair loop", "dtwrl soft_dtw tf.function", "dtwrl wavefront XLA"}
    assert all(row["ms"] > 0 for row in rows)


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["--gamma", "0"], "--gamma"),
        (["--repeats", "0"], "--repeats"),
        (["--lattice-every", "0"], "--lattice-every"),
        (["--lattice-steps", "0"], "--lattice-steps"),
    ],
)
def test_benchmark_rejects_bad_flags_in_one_line(capsys, argv, flag):
    from experiments import benchmark_soft_dtw

    with pytest.raises(SystemExit) as exit_info:
        benchmark_soft_dtw.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {flag}: ")


@pytest.mark.parametrize("n, m, regularizer", [(70, 45, "entropy"), (33, 96, "l2")])
def test_phased_sweeps_match_a_single_full_width_phase(rng, monkeypatch, n, m, regularizer):
    """Grids large enough for several phases (static row windows) give what one full-width phase gives."""
    from dtwrl.tf import _wavefront as wf

    assert len(wf._segments(n, m)) > 1
    B = 3
    xl = np.array([n, n - 20, 9], np.int32)
    yl = np.array([m, m - 7, 30], np.int32)
    band = max(min_band(int(a), int(b)) for a, b in zip(xl, yl)) + 4
    D = tf.constant(rng.uniform(0.0, 2.0, size=(n, m, B)))
    Z = tf.constant(rng.normal(size=(n, m, B)))

    def run():
        out = []
        for kw in ({}, {"band": band, "x_lengths": tf.constant(xl), "y_lengths": tf.constant(yl)}):
            with tf.GradientTape() as tape:
                tape.watch(D)
                value = wf.dp_value(D, 0.3, regularizer, **kw)
                E = wf.dp_alignment(D, 0.3, regularizer, **kw)
            out += [value, E, tape.gradient(E, D, output_gradients=Z)]
        return [t.numpy() for t in out]

    phased = run()
    monkeypatch.setattr(wf, "_segments", lambda n, m: [(0, n + m - 1, 0, n)])
    for name in ("_value_sweep", "_alignment_sweep", "_hvp_sweep"):
        monkeypatch.setattr(wf, name + "_fn", wf._compile(getattr(wf, name)))
    for got, want in zip(phased, run()):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_the_benchmark_lattice_reuse_stream_runs_shrunk():
    """The reuse table of --lattice on a few steps: one row per case, soft-DTW first at 1.0x."""
    from experiments import benchmark_soft_dtw

    rows = benchmark_soft_dtw.run_lattice_reuse(every=(1, 3), steps=3, series=6, batch=4, horizon=12)
    assert [row["impl"] for row in rows] == [
        "soft-DTW (SoftDTWLoss)",
        "lattice loss, every step (today)",
        "lattice loss, sampled every 3 steps",
    ]
    assert rows[0]["cpu_vs_soft_dtw"] == 1.0 and all(row["wall_ms_per_step"] > 0 for row in rows)
