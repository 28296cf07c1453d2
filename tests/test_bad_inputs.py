"""The bad-input catalogue: every public entry point refuses bad input clearly (docs/ERRORS.md).

Each case calls one function with one bad argument and asserts the exception
type AND that the message names the argument (as a whole word). The causes
are those of issue 12 (huge-but-finite values, checks that vanished in
graphs, tiny gamma, Keras MSE, huge bands, path checks, ``load_ts`` labels,
env actions, registration) and the earlier ones (NaN, inf, empty, rank,
dims, gamma, band, metric, radius, window). Everything here is eager or a
small graph, so the catalogue takes seconds.
"""

import re

import gymnasium
import numpy as np
import pytest
import tensorflow as tf

import dtwrl
import envs
from agents.policy.baselines import GreedyAligner, greedy_path
from dtwrl.aligners import ExactDTWAligner, FastDTWAligner, align_batch, get_aligner
from dtwrl.bands import band_mask, check_band, min_band
from dtwrl.datasets import load_ts, load_tsv
from dtwrl.exact_dtw import cost_to_go, dtw_path_from_cost
from dtwrl.losses import get_loss
from experiments.cli import CLIError, blame, fail, parse_args
from experiments.run_folders import checked_run_dir

X, Y = np.linspace(0.0, 1.0, 5), np.linspace(0.0, 1.0, 7)
XB, YB = np.zeros((2, 5, 1)), np.ones((2, 6, 1))
HUGE, HUGE32 = np.array([1e200, -1e200, 3.0]), np.array([[1e30, -1e30, 3.0]], np.float32)


def _named(message, arg):
    """True iff ``arg`` appears in ``message`` as a whole word (so "x" does not match "max")."""
    return re.search(rf"(?<![\w.]){re.escape(arg)}(?![\w])", message) is not None


def _case(name, fn, error, arg):
    return pytest.param(fn, error, arg, id=name)


def _fn(f, *args, **kwargs):
    return lambda: f(*args, **kwargs)


# ------------------------------------------------------------------------------------------ NumPy core
NUMPY_CASES = [
    # the earlier causes
    _case("dtw nan x", _fn(dtwrl.dtw, [0.0, np.nan], Y), ValueError, "x"),
    _case("dtw inf y", _fn(dtwrl.dtw, X, [np.inf, 1.0]), ValueError, "y"),
    _case("dtw empty x", _fn(dtwrl.dtw, [], Y), ValueError, "x"),
    _case("dtw rank 3 y", _fn(dtwrl.dtw, X, np.zeros((2, 2, 2))), ValueError, "y"),
    _case("dtw strings", _fn(dtwrl.dtw, ["a", "b"], Y), TypeError, "x"),
    _case("dtw complex", _fn(dtwrl.dtw, X, Y + 1j), TypeError, "y"),
    _case("dtw ragged", _fn(dtwrl.dtw, [[1.0], [1.0, 2.0]], Y), ValueError, "x"),
    _case("dtw dims", _fn(dtwrl.dtw, np.zeros((3, 2)), np.zeros((3, 3))), ValueError, "x"),
    _case("dtw metric", _fn(dtwrl.dtw, X, Y, metric="cosine"), ValueError, "metric"),
    _case("dtw band -1", _fn(dtwrl.dtw, X, Y, band=-1), ValueError, "band"),
    _case("dtw band 1.5", _fn(dtwrl.dtw, X, Y, band=1.5), TypeError, "band"),
    _case("dtw band True", _fn(dtwrl.dtw, X, Y, band=True), TypeError, "band"),
    _case("dtw band too narrow", _fn(dtwrl.dtw, np.zeros(3), np.zeros(9), band=0), ValueError, "band"),
    _case("cost_matrix metric", _fn(dtwrl.cost_matrix, X, Y, metric=3), ValueError, "metric"),
    _case("fastdtw radius 0", _fn(dtwrl.fastdtw_path, X, Y, radius=0), ValueError, "radius"),
    _case("fastdtw radius 1.5", _fn(dtwrl.fastdtw_path, X, Y, radius=1.5), TypeError, "radius"),
    _case("band_mask n 0", _fn(band_mask, 0, 3, 1), ValueError, "n"),
    _case("min_band m float", _fn(min_band, 3, 2.0), TypeError, "m"),
    _case("check_band narrow", _fn(check_band, 2, 9, 0), ValueError, "band"),
    _case("from_cost nan", _fn(dtw_path_from_cost, [[0.0, np.nan]]), ValueError, "C"),
    _case("cost_to_go rank", _fn(cost_to_go, [1.0, 2.0]), ValueError, "C"),
    # path checks, one definition (dtwrl.validation.check_path)
    _case(
        "path_cost non-monotone",
        _fn(dtwrl.path_cost, X[:2], X[:2], [[0, 0], [1, 1], [0, 1], [1, 1]]),
        ValueError,
        "path",
    ),
    _case("path_cost wrong end", _fn(dtwrl.path_cost, X, Y, [[0, 0], [1, 1]]), ValueError, "path"),
    _case("path_cost float path", _fn(dtwrl.path_cost, X[:1], Y[:1], [[0.0, 0.0]]), ValueError, "path"),
    # 1. huge but finite values
    _case("dtw overflow", _fn(dtwrl.dtw, HUGE, [0.0, 1e200]), ValueError, "x"),
    _case("dtw_path overflow", _fn(dtwrl.dtw_path, HUGE, [0.0, 1e200]), ValueError, "x"),
    _case("dtw_path overflow 1.6e154", _fn(dtwrl.dtw_path, [1.6e154, 0.0], [-1.6e154]), ValueError, "y"),
    _case("cost_matrix overflow", _fn(dtwrl.cost_matrix, HUGE, [0.0]), ValueError, "x"),
    _case("path_cost overflow", _fn(dtwrl.path_cost, HUGE, [0.0], [[0, 0], [1, 0], [2, 0]]), ValueError, "x"),
    _case("fastdtw overflow", _fn(dtwrl.fastdtw_path, HUGE, [0.0, 1e200]), ValueError, "y"),
    _case("from_cost overflow", _fn(dtw_path_from_cost, [[1e308, 1e308], [1e308, 1e308]]), ValueError, "C"),
    # aligners, greedy included (shared pair-batch check)
    _case("exact aligner overflow", _fn(ExactDTWAligner(), HUGE[None], np.zeros((1, 2))), ValueError, "y_true"),
    _case("fastdtw aligner radius 0", _fn(FastDTWAligner, radius=0), ValueError, "radius"),
    _case("greedy dims", _fn(GreedyAligner(), np.zeros((2, 3, 2)), np.zeros((2, 3, 1))), ValueError, "y_true"),
    _case("greedy batch", _fn(GreedyAligner(), np.zeros((2, 3)), np.zeros((3, 3))), ValueError, "y_pred"),
    _case("greedy nan", _fn(GreedyAligner(), np.full((1, 3), np.nan), np.zeros((1, 3))), ValueError, "y_true"),
    _case("greedy metric", _fn(GreedyAligner, metric="nope"), ValueError, "metric"),
    _case("greedy band narrow", _fn(greedy_path, np.zeros(2), np.zeros(9), band=0), ValueError, "band"),
    _case("get_aligner", _fn(get_aligner, "dtw"), ValueError, "aligner"),
    _case(
        "align_batch bad path",
        _fn(align_batch, lambda a, b: [np.array([[0, 0], [0, 2]])], np.zeros((1, 2)), np.zeros((1, 3))),
        ValueError,
        "path 0 from the aligner",
    ),
]


@pytest.mark.parametrize("fn, error, arg", NUMPY_CASES)
def test_numpy_core_rejects_bad_input_naming_the_argument(fn, error, arg):
    with pytest.raises(error) as caught:
        fn()
    assert _named(str(caught.value), arg), str(caught.value)


def test_a_huge_band_is_capped_not_a_crash():
    """6. ``band=2**62`` allows every cell, like ``band=None`` (it used to crash numba typing)."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=9), rng.normal(size=13)
    assert dtwrl.dtw(x, y, band=2**62) == dtwrl.dtw(x, y)
    np.testing.assert_array_equal(dtwrl.dtw_path(x, y, band=2**62)[1], dtwrl.dtw_path(x, y)[1])
    assert band_mask(4, 6, 2**62).all()


def test_the_overflow_check_leaves_large_but_safe_values_alone():
    """Values up to ~1e150 still align exactly; ``abs`` tolerates far larger ones."""
    x, y = np.array([1e150, 0.0, -1e150]), np.array([1e150, -1e150])
    assert dtwrl.dtw(x, y) == pytest.approx(1e300)
    assert dtwrl.dtw(HUGE, [0.0, 1e200], metric="abs") == pytest.approx(3e200)


# ------------------------------------------------------------------------------------------ TensorFlow
TF_CASES = [
    _case("soft_dtw nan", _fn(dtwrl.soft_dtw, [[0.0, np.nan]], [[0.0]]), ValueError, "x"),
    _case("soft_dtw inf", _fn(dtwrl.soft_dtw, [[0.0]], [[np.inf]]), ValueError, "y"),
    _case("soft_dtw empty", _fn(dtwrl.soft_dtw, np.zeros((2, 0)), XB), ValueError, "x"),
    _case("soft_dtw rank 4", _fn(dtwrl.soft_dtw, XB, np.zeros((2, 3, 1, 1))), ValueError, "y"),
    _case("soft_dtw strings", _fn(dtwrl.soft_dtw, [["a"]], [[1.0]]), TypeError, "x"),
    _case("soft_dtw gamma 0", _fn(dtwrl.soft_dtw, XB, YB, gamma=0.0), ValueError, "gamma"),
    _case("soft_dtw gamma nan", _fn(dtwrl.soft_dtw, XB, YB, gamma=np.nan), ValueError, "gamma"),
    _case("soft_dtw gamma str", _fn(dtwrl.soft_dtw, XB, YB, gamma="1"), TypeError, "gamma"),
    _case("soft_dtw band -1", _fn(dtwrl.soft_dtw, XB, YB, band=-1), ValueError, "band"),
    _case("soft_dtw band narrow", _fn(dtwrl.soft_dtw, np.zeros((1, 2)), np.zeros((1, 9)), band=0), ValueError, "band"),
    _case("soft_dtw metric", _fn(dtwrl.soft_dtw, XB, YB, metric="l1"), ValueError, "metric"),
    _case("soft_dtw dims", _fn(dtwrl.soft_dtw, XB, np.zeros((2, 6, 2))), ValueError, "x"),
    _case("soft_dtw batch", _fn(dtwrl.soft_dtw, XB, np.zeros((3, 6, 1))), ValueError, "y"),
    _case("soft_dtw dtypes", _fn(dtwrl.soft_dtw, XB, YB.astype(np.float32)), ValueError, "y"),
    _case("soft_dtw x_lengths 0", _fn(dtwrl.soft_dtw, XB, YB, x_lengths=[0, 5]), ValueError, "x_lengths"),
    _case("soft_dtw y_lengths float", _fn(dtwrl.soft_dtw, XB, YB, y_lengths=[1.0, 2.0]), TypeError, "y_lengths"),
    _case("soft_dtw y_lengths 2**40", _fn(dtwrl.soft_dtw, XB, YB, y_lengths=[2**40, 2]), ValueError, "y_lengths"),
    _case(
        "soft_dtw band per-pair lengths",
        _fn(
            dtwrl.soft_dtw,
            np.zeros((2, 6, 1)),
            np.zeros((2, 6, 1)),
            band=0,
            x_lengths=tf.constant([6, 2]),
            y_lengths=tf.constant([6, 6]),
        ),
        ValueError,
        "band",
    ),
    _case("from_cost D nan", _fn(dtwrl.tf.sdtw.soft_dtw_from_cost, [[[np.nan]]]), ValueError, "D"),
    _case("from_cost D overflow", _fn(dtwrl.tf.sdtw.soft_dtw_from_cost, np.full((1, 2, 2), 1e308)), ValueError, "D"),
    # 1. huge but finite values
    _case("soft_dtw overflow f64", _fn(dtwrl.soft_dtw, HUGE[None, :, None], [[[0.0]]]), ValueError, "x"),
    _case("soft_dtw overflow f32", _fn(dtwrl.soft_dtw, HUGE32, HUGE32), ValueError, "y"),
    _case("divergence overflow", _fn(dtwrl.soft_dtw_divergence, HUGE32, HUGE32[:, :1]), ValueError, "x"),
    _case("alignment overflow", _fn(dtwrl.soft_dtw_alignment, HUGE32, HUGE32), ValueError, "x"),
    _case("smoothed l2 overflow", _fn(dtwrl.smoothed_dtw, HUGE32, HUGE32, regularizer="l2"), ValueError, "x"),
    _case("dilate overflow", _fn(dtwrl.dilate, HUGE32, HUGE32), ValueError, "y_true"),
    _case("fixed_path overflow", _fn(dtwrl.fixed_path_dtw, HUGE[None], np.zeros((1, 2))), ValueError, "y_pred"),
    # 4. tiny gamma in float32
    _case(
        "smoothed l2 gamma 1e-38",
        _fn(dtwrl.smoothed_dtw, XB.astype(np.float32), YB.astype(np.float32), gamma=1e-38, regularizer="l2"),
        ValueError,
        "gamma",
    ),
    _case(
        "smoothed l2 gamma 1e-300",
        _fn(dtwrl.smoothed_dtw, XB.astype(np.float32), YB.astype(np.float32), gamma=1e-300, regularizer="l2"),
        ValueError,
        "gamma",
    ),
    _case("smoothed regularizer", _fn(dtwrl.smoothed_dtw, XB, YB, regularizer="l1"), ValueError, "regularizer"),
    # relaxations
    _case("dilate alpha 1.5", _fn(dtwrl.dilate, XB, YB, alpha=1.5), ValueError, "alpha"),
    _case("dilate alpha nan", _fn(dtwrl.dilate, XB, YB, alpha=np.nan), ValueError, "alpha"),
    _case("dilate alpha True", _fn(dtwrl.dilate, XB, YB, alpha=True), TypeError, "alpha"),
    # 7. path_cost_tf checks its paths
    _case(
        "path_cost_tf non-monotone",
        _fn(dtwrl.path_cost_tf, XB[:1, :3], YB[:1, :3], [[[0, 0], [1, 1], [0, 1], [1, 2], [2, 2]]], [5]),
        ValueError,
        "paths_idx[0]",
    ),
    _case(
        "path_cost_tf lengths > Lmax",
        _fn(dtwrl.path_cost_tf, XB[:1, :2], YB[:1, :2], [[[0, 0], [1, 1]]], [3]),
        ValueError,
        "path_lengths[0]",
    ),
    _case(
        "path_cost_tf lengths 0",
        _fn(dtwrl.path_cost_tf, XB[:1, :2], YB[:1, :2], [[[0, 0], [1, 1]]], [0]),
        ValueError,
        "path_lengths[0]",
    ),
    _case(
        "path_cost_tf short path",
        _fn(dtwrl.path_cost_tf, XB[:1, :2], YB[:1, :2], [[[0, 0], [1, 1]]], [1]),
        ValueError,
        "paths_idx[0]",
    ),
    _case(
        "path_cost_tf float idx",
        _fn(dtwrl.path_cost_tf, XB[:1, :1], YB[:1, :1], [[[0.0, 0.0]]], [1]),
        ValueError,
        "paths_idx",
    ),
    # 5. the losses, mse included
    _case("get_loss unknown", _fn(get_loss, "mae"), ValueError, "name"),
    _case("mse nan", _fn(get_loss("mse"), [[np.nan, 1.0]], [[0.0, 1.0]]), ValueError, "y_true"),
    _case("mse broadcast", _fn(get_loss("mse"), np.zeros((2, 8, 1, 1)), np.zeros((2, 8))), ValueError, "y_true"),
    _case("mse lengths", _fn(get_loss("mse"), np.zeros((2, 8)), np.zeros((2, 7))), ValueError, "y_pred"),
    _case("mse batch", _fn(get_loss("mse"), np.zeros((2, 8)), np.zeros((3, 8))), ValueError, "y_pred"),
    _case("soft_dtw loss overflow", _fn(get_loss("soft_dtw"), HUGE32, HUGE32), ValueError, "y_true"),
    _case(
        "fastdtw_path loss overflow", _fn(get_loss("fastdtw_path"), HUGE[None], np.zeros((1, 2))), ValueError, "y_pred"
    ),
    _case("fastdtw_path loss radius 0", _fn(get_loss, "fastdtw_path", radius=0), ValueError, "radius"),
    _case("dtw_path loss band -1", _fn(get_loss, "dtw_path", band=-1), ValueError, "band"),
    _case("soft_dtw loss gamma -1", _fn(get_loss, "soft_dtw", gamma=-1.0), ValueError, "gamma"),
]


@pytest.mark.parametrize("fn, error, arg", TF_CASES)
def test_tensorflow_family_rejects_bad_input_naming_the_argument(fn, error, arg):
    with pytest.raises(error) as caught:
        fn()
    assert _named(str(caught.value), arg), str(caught.value)


@pytest.mark.parametrize(
    "fn", [dtwrl.fixed_path_dtw, dtwrl.dilate, get_loss("soft_dtw")], ids=["fixed", "dilate", "soft_dtw loss"]
)
@pytest.mark.parametrize("y_pred_dtype", [np.float16, np.float32])
def test_a_float16_y_true_is_named_not_y_pred(fn, y_pred_dtype):
    """It said ``y_pred must be float32 or float64`` (issue 21), or was cast silently beside a float32 y_pred."""
    with pytest.raises(TypeError, match=r"^y_true must be float32 or float64; got float16$"):
        fn(XB.astype(np.float16), YB.astype(y_pred_dtype))
    with pytest.raises(TypeError, match=r"^y_pred must be float32 or float64; got float16$"):
        fn(XB.astype(np.float32), YB.astype(np.float16))


# 3. checks that used to disappear in graphs
SPEC = tf.TensorSpec([None, 4, 1], tf.float64)  # B known only when the graph runs
GRAPH_CASES = [
    pytest.param(
        lambda: tf.function(dtwrl.soft_dtw, input_signature=[SPEC, SPEC])(
            tf.zeros((2, 4, 1), tf.float64), tf.zeros((3, 4, 1), tf.float64)
        ),
        "x and y must have the same number of series B (batch size)",
        id="dynamic batch mismatch",
    ),
    pytest.param(
        lambda: tf.function(lambda a, b: get_loss("mse")(a, b), input_signature=[SPEC, SPEC])(
            tf.zeros((2, 4, 1), tf.float64), tf.zeros((3, 4, 1), tf.float64)
        ),
        "y_true and y_pred must have the same number of series B (batch size)",
        id="mse dynamic batch mismatch",
    ),
    pytest.param(
        lambda: tf.function(dtwrl.soft_dtw)(tf.constant([[[np.nan]]]), tf.constant([[[0.0]]])),
        "x must be finite",
        id="nan in tf.function",
    ),
    pytest.param(
        lambda: tf.function(dtwrl.soft_dtw)(tf.constant(HUGE32), tf.constant(HUGE32)),
        "the local costs overflow float32",
        id="overflow in tf.function",
    ),
    pytest.param(
        lambda: tf.function(
            lambda a, b, xl, yl: dtwrl.soft_dtw(a, b, band=0, x_lengths=xl, y_lengths=yl),
            input_signature=[tf.TensorSpec([2, 6, 1], tf.float64)] * 2 + [tf.TensorSpec([None], tf.int32)] * 2,
        )(tf.zeros((2, 6, 1), tf.float64), tf.zeros((2, 6, 1), tf.float64), tf.constant([6, 2]), tf.constant([6, 6])),
        "band=0 is too narrow for the lengths of some pair",
        id="band with tensor lengths",
    ),
    pytest.param(
        lambda: tf.function(
            lambda i, k: dtwrl.path_cost_tf(XB[:1, :3], YB[:1, :3], i, k),
            input_signature=[tf.TensorSpec([1, None, 2], tf.int32), tf.TensorSpec([1], tf.int32)],
        )(tf.constant([[[0, 0], [1, 1], [0, 1], [1, 2], [2, 2]]]), tf.constant([5])),
        "paths_idx and path_lengths must describe warping paths",
        id="path_cost_tf paths in a graph",
    ),
]


@pytest.mark.parametrize("fn, message", GRAPH_CASES)
def test_run_time_checks_in_graphs_name_the_argument(fn, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(message)):
        fn()


def test_a_feasible_band_with_tensor_lengths_passes_in_a_graph():
    fn = tf.function(
        lambda a, b, xl, yl: dtwrl.soft_dtw(a, b, band=1, x_lengths=xl, y_lengths=yl, gamma=0.01),
        input_signature=[tf.TensorSpec([2, 6, 1], tf.float64)] * 2 + [tf.TensorSpec([None], tf.int32)] * 2,
    )
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(2, 6, 1)), rng.normal(size=(2, 6, 1))
    values = fn(x, y, tf.constant([6, 5]), tf.constant([6, 6])).numpy()
    exact = [dtwrl.dtw(x[0], y[0], band=1), dtwrl.dtw(x[1, :5], y[1], band=1)]
    np.testing.assert_allclose(values, exact, atol=0.2)


@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e30], ids=["nan", "inf", "overflow"])
def test_under_xla_an_invalid_pair_gives_nan_never_a_finite_value(bad):
    """XLA compiles assertions away and cannot raise at run time; the invalid pair's value is NaN, the others stay."""
    x = np.zeros((2, 3, 1), np.float32)
    x[1, 1, 0] = bad
    y = np.ones((2, 4, 1), np.float32)
    values = tf.function(lambda a, b: dtwrl.soft_dtw(a, b), jit_compile=True)(x, y).numpy()
    assert np.isnan(values[1])
    np.testing.assert_allclose(values[0], dtwrl.soft_dtw(x[:1], y[:1]).numpy()[0], rtol=1e-6)


# ------------------------------------------------------------------------------------------ env and registration
@pytest.fixture(scope="module")
def env():
    env = gymnasium.make("dtwrl/SyntheticWarp-v0")
    env.reset(seed=0)
    return env


@pytest.mark.parametrize(
    "action", [2**63, -1, 3, 1.0, True, "1", np.array([1, 2])], ids=["2**63", "-1", "3", "1.0", "True", "'1'", "array"]
)
def test_env_step_rejects_a_bad_action_naming_it(env, action):
    with pytest.raises(ValueError, match=r"^action must be 0, 1 or 2"):
        env.step(action)


def test_env_step_still_takes_numpy_integers(env):
    env.reset(seed=0)
    env.step(np.int64(0))
    env.step(np.array(1))


@pytest.mark.parametrize(
    "call, error, arg",
    [
        (lambda: envs.register_env(None, pairs=np.zeros((4, 5))), TypeError, "env_id"),
        (lambda: envs.register_env("", pairs=np.zeros((4, 5))), TypeError, "env_id"),
        (
            lambda: envs.register_env("test/R-v0", pairs=np.zeros((4, 5)), fastdtw_radius=0),
            ValueError,
            "fastdtw_radius",
        ),
        (lambda: envs.register_env("test/R-v0", pairs=np.zeros((4, 5)), window=0), ValueError, "window"),
        (lambda: gymnasium.make("dtwrl/SyntheticWarp-v0", fastdtw_radius=0), ValueError, "fastdtw_radius"),
    ],
    ids=["env_id None", "env_id empty", "radius 0", "window 0", "make radius 0"],
)
def test_registration_rejects_bad_arguments_at_once(call, error, arg):
    with pytest.raises(error) as caught:
        call()
    assert _named(str(caught.value), arg), str(caught.value)


# ------------------------------------------------------------------------------------------ datasets
@pytest.mark.parametrize(
    "text, match",
    [
        ("@classLabel true\n@data\n1,2,3:4,5,6\n", "must list the class values"),
        ("@classLabel true a b\n@data\n1,2,3:c\n", r"labels \['c'\] are not in @classLabel"),
        ("@classLabel maybe a\n@data\n1:a\n", "(?i)@classLabel must be true or false"),
        ("garbage\n1,2,3\n", "data before the @data tag"),
        ("@data\n1,x,3\n", "values must be numbers"),
    ],
    ids=["8. classLabel without list", "unknown label", "bad bool", "no header", "not numbers"],
)
def test_load_ts_rejects_malformed_files_naming_the_file(tmp_path, text, match):
    path = tmp_path / "bad_TRAIN.ts"
    path.write_text(text)
    with pytest.raises(ValueError, match=match) as caught:
        load_ts(path)
    assert str(path) in str(caught.value)


def test_load_tsv_rejects_missing_values_unless_allowed(tmp_path):
    path = tmp_path / "bad_TRAIN.tsv"
    path.write_text("1\t0.5\tNaN\t2.0\n")  # an inner NaN (trailing NaN is variable-length padding)
    with pytest.raises(ValueError) as caught:
        load_tsv(path)
    assert str(path) in str(caught.value)


# ------------------------------------------------------------------------------------------ the CLI mechanism
def test_parse_args_reports_argparse_and_validate_errors_in_one_line(capsys):
    import dataclasses

    from experiments.cli import field

    @dataclasses.dataclass
    class Args:
        seed: int = field(0, "seed")
        fast: bool = field(False, "go fast")

    def check(args):
        if args.seed < 0:
            fail("--seed", f"must be >= 0; got {args.seed}")

    for argv, expected in [
        (["--seed", "x"], "error: --seed: invalid int value: 'x'\n"),
        (["--seed", "-1"], "error: --seed: must be >= 0; got -1\n"),
        (["--nope"], "error: --nope: unrecognized argument"),
        (["--fast", "1"], "error: 1: unrecognized argument"),
    ]:
        with pytest.raises(SystemExit) as stop:
            parse_args(Args, argv, validate=check)
        assert stop.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith(expected) and err.count("\n") == 1, err


def test_blame_turns_a_library_error_into_a_cli_error():
    with pytest.raises(CLIError, match=r"^--metric: metric must be one of"), blame("--metric"):
        dtwrl.dtw(X, Y, metric="cosine")


def test_checked_run_dir_refuses_a_file_as_root_and_creates_nothing(tmp_path):
    blocker = tmp_path / "results"
    blocker.write_text("")
    with pytest.raises(CLIError, match="^--out-dir: "):
        checked_run_dir("exp", "run", blocker)
    with pytest.raises(CLIError, match="^--out-dir: "):
        checked_run_dir("exp", "run", blocker / "below")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]
    assert (checked_run_dir("exp", "run", tmp_path / "ok") / "figures").is_dir()
