"""Tests for dtwrl.aligners: the aligner protocol, the built-in aligners, padding and the registry."""

import textwrap

import numpy as np
import pytest
from reference import brute_force_dtw, local_costs

import dtwrl
from dtwrl.aligners import (
    ExactDTWAligner,
    FastDTWAligner,
    align_batch,
    aligner_from_config,
    aligner_to_config,
    as_batch,
    check_pair_batches,
    get_aligner,
    pad_paths,
    register_aligner,
)
from dtwrl.validation import check_path
from tests.bad_batches import each_bad_pair_batch


def _is_warping_path(path, n, m):
    steps = np.diff(path, axis=0)
    return (
        tuple(path[0]) == (0, 0)
        and tuple(path[-1]) == (n - 1, m - 1)
        and all(tuple(s) in {(1, 1), (1, 0), (0, 1)} for s in steps)
    )


@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean", "abs"])
@pytest.mark.parametrize("band", [None, 1])
def test_exact_aligner_paths_are_optimal(rng, metric, band):
    x, y = rng.normal(size=(4, 5, 2)), rng.normal(size=(4, 6, 2))
    paths = ExactDTWAligner(metric=metric, band=band)(x, y)
    assert len(paths) == 4
    for a, b, path in zip(x, y, paths):
        assert path.dtype == np.int64 and _is_warping_path(path, 5, 6)
        C = local_costs(a, b, metric)
        np.testing.assert_allclose(C[path[:, 0], path[:, 1]].sum(), brute_force_dtw(C, band), rtol=1e-12)
        np.testing.assert_array_equal(path, dtwrl.dtw_path(a, b, metric=metric, band=band)[1])


def test_exact_aligner_univariate_batch_and_known_path():
    paths = ExactDTWAligner()(np.array([[0.0, 1.0, 2.0]]), np.array([[0.0, 2.0]]))
    assert [p.tolist() for p in paths] == [[[0, 0], [1, 0], [2, 1]]]


def test_fastdtw_aligner_matches_oracle(rng):
    x, y = rng.normal(size=(3, 12)), rng.normal(size=(3, 9))
    paths = FastDTWAligner(radius=2, metric="abs")(x, y)
    for a, b, path in zip(x, y, paths):
        cost, expected = dtwrl.fastdtw_path(a, b, radius=2, metric="abs")
        np.testing.assert_array_equal(path, expected)
        assert _is_warping_path(path, 12, 9)
        assert cost >= dtwrl.dtw(a, b, metric="abs") - 1e-12


@pytest.mark.parametrize(
    "aligner, kwargs, error",
    [
        (ExactDTWAligner, {"metric": "cosine"}, ValueError),
        (ExactDTWAligner, {"band": -1}, ValueError),
        (ExactDTWAligner, {"band": 1.5}, TypeError),
        (FastDTWAligner, {"radius": -1}, ValueError),
    ],
)
def test_aligner_argument_errors_name_the_argument(aligner, kwargs, error):
    (name,) = kwargs
    with pytest.raises(error, match=name):
        aligner(**kwargs)


def test_a_band_too_narrow_for_the_lengths_is_refused_when_called():
    with pytest.raises(ValueError, match="band=0 is too narrow"):
        ExactDTWAligner(band=0)(np.zeros((1, 3)), np.zeros((1, 5)))


@each_bad_pair_batch
def test_bad_batches(y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        ExactDTWAligner()(y_true, y_pred)


def test_as_batch_types():
    assert as_batch([[1, 2]]).dtype == np.float64
    with pytest.raises(TypeError, match="x must hold real numbers"):
        as_batch([["a", "b"]])
    a, b = check_pair_batches(np.zeros((2, 4)), np.zeros((2, 3, 1)))
    assert a.shape == (2, 4, 1) and b.shape == (2, 3, 1)


def test_pad_paths_layout():
    idx, lengths = pad_paths([np.array([[0, 0], [1, 1]]), np.array([[0, 0], [0, 1], [1, 2], [2, 2]])])
    assert idx.dtype == np.int32 and lengths.dtype == np.int32
    assert lengths.tolist() == [2, 4]
    assert idx.tolist() == [[[0, 0], [1, 1], [0, 0], [0, 0]], [[0, 0], [0, 1], [1, 2], [2, 2]]]


def test_pad_paths_errors():
    with pytest.raises(ValueError, match="at least one path"):
        pad_paths([])
    with pytest.raises(ValueError, match=r"paths\[1\]"):
        pad_paths([np.array([[0, 0]]), np.array([0, 0])])
    with pytest.raises(ValueError, match=r"paths\[0\]"):
        pad_paths([np.array([[0.0, 0.0]])])


def test_align_batch_checks_the_aligner_output():
    x, y = np.zeros((2, 3)), np.zeros((2, 3))
    with pytest.raises(ValueError, match="returned 1 paths for a batch of 2"):
        align_batch(lambda a, b: [np.array([[0, 0], [1, 1], [2, 2]])], x, y)
    bad = [np.array([[0, 0], [1, 1], [2, 2]]), np.array([[0, 0], [2, 2]])]
    with pytest.raises(ValueError, match="path 1 from the aligner has an illegal step"):
        align_batch(lambda a, b: bad, x, y)
    short = [np.array([[0, 0], [1, 1]])] * 2
    with pytest.raises(ValueError, match=r"path 0 from the aligner must end at \(n-1, m-1\)"):
        align_batch(lambda a, b: short, x, y)
    idx, lengths = align_batch(ExactDTWAligner(), np.zeros((2, 2)), np.zeros((2, 4)))
    assert idx.shape == (2, 4, 2) and lengths.tolist() == [4, 4]


@pytest.mark.parametrize(
    "aligner", [ExactDTWAligner(metric="abs", band=3), FastDTWAligner(radius=4, metric="euclidean")]
)
def test_builtin_config_round_trip(aligner):
    config = aligner_to_config(aligner)
    assert config["class_name"] == f"dtwrl.aligners.{type(aligner).__name__}"
    rebuilt = aligner_from_config(config)
    assert type(rebuilt) is type(aligner) and rebuilt.get_config() == aligner.get_config()


def test_registry_imports_the_module_named_by_the_key(tmp_path, monkeypatch):
    # a plugin module (like agents.policy.aligner) that registers itself on import
    (tmp_path / "dtwrl_test_plugin.py").write_text(
        textwrap.dedent(
            """
        import numpy as np
        from dtwrl.aligners import register_aligner

        @register_aligner
        class DiagonalThenLast:
            def __init__(self, tag="x"):
                self.tag = tag

            def __call__(self, y_true, y_pred):
                n, m = y_true.shape[1], y_pred.shape[1]
                cells = [(min(k, n - 1), min(k, m - 1)) for k in range(max(n, m))]
                return [np.array(cells) for _ in range(len(y_true))]

            def get_config(self):
                return {"tag": self.tag}

            @classmethod
            def from_config(cls, config):
                return cls(tag=config["tag"] + "!")
        """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    aligner = aligner_from_config({"class_name": "dtwrl_test_plugin.DiagonalThenLast", "config": {"tag": "a"}})
    assert type(aligner).__name__ == "DiagonalThenLast" and aligner.tag == "a!"  # from_config was used
    assert aligner_to_config(aligner) == {"class_name": "dtwrl_test_plugin.DiagonalThenLast", "config": {"tag": "a!"}}
    idx, lengths = align_batch(aligner, np.zeros((1, 2)), np.zeros((1, 3)))
    assert idx[0].tolist() == [[0, 0], [1, 1], [1, 2]] and lengths.tolist() == [3]


def test_registry_reports_a_failing_import_inside_the_plugin(tmp_path, monkeypatch):
    (tmp_path / "dtwrl_test_broken_plugin.py").write_text("import dtwrl_missing_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="dtwrl_missing_dependency_xyz"):
        aligner_from_config({"class_name": "dtwrl_test_broken_plugin.Aligner", "config": {}})


def test_registry_refuses_unknown_and_unregistered_classes():
    with pytest.raises(ValueError, match="not registered"):
        aligner_from_config({"class_name": "no_such_module_xyz.Aligner", "config": {}})
    with pytest.raises(ValueError, match="not registered"):  # importable, but not an aligner
        aligner_from_config({"class_name": "collections.OrderedDict", "config": {}})
    with pytest.raises(ValueError, match="class_name"):
        aligner_from_config({"config": {}})

    class Unregistered:
        def __call__(self, y_true, y_pred):
            return []

        def get_config(self):
            return {}

    with pytest.raises(ValueError, match="register_aligner"):
        aligner_to_config(Unregistered())
    with pytest.raises(TypeError, match="get_config"):
        register_aligner(type("NoConfig", (), {"__call__": lambda self, a, b: []}))


def test_get_aligner():
    assert isinstance(get_aligner("exact"), ExactDTWAligner)
    assert isinstance(get_aligner("fastdtw"), FastDTWAligner)
    assert get_aligner({"class_name": "dtwrl.aligners.ExactDTWAligner", "config": {"band": 2}}).band == 2
    fn = lambda a, b: []  # noqa: E731
    assert get_aligner(fn) is fn
    with pytest.raises(ValueError, match="aligner must be 'exact', 'fastdtw'"):
        get_aligner("policy")
    with pytest.raises(TypeError, match="aligner must be"):
        get_aligner(3)


# ----------------------------------------------------------------------------
# ReusedPaths: a pair's paths kept for `every` calls
# ----------------------------------------------------------------------------
class _CountingAligner:
    """Exact DTW paths; records the batch sizes it was called with."""

    def __init__(self):
        self.batches = []

    def __call__(self, y_true, y_pred):
        self.batches.append(len(y_true))
        return ExactDTWAligner()(y_true, y_pred)


def test_reused_paths_aligns_only_the_stale_pairs_in_batch_order():
    from dtwrl.aligners import ReusedPaths

    rng = np.random.default_rng(1)
    y = rng.normal(size=(4, 9, 2))
    counting = _CountingAligner()
    reused = ReusedPaths(counting, every=2)
    first = reused(y[:3], y[:3] + 1.0)  # call 0: pairs 0-2 aligned
    shifted = y[[1, 2, 3]] + rng.normal(size=(3, 9, 2))
    second = reused(y[[1, 2, 3]], shifted)  # call 1: pairs 1, 2 reused (one call old), pair 3 is new
    assert counting.batches == [3, 1]
    assert np.array_equal(second[0], first[1]) and np.array_equal(second[1], first[2])
    assert np.array_equal(second[2], ExactDTWAligner()(y[3:], shifted[2:])[0])
    third = reused(y[[0, 3]], y[[0, 3]])  # call 2: pair 0 is two calls old (aligned again), pair 3 one call old
    assert counting.batches == [3, 1, 1] and np.array_equal(third[1], second[2])
    assert np.array_equal(third[0], ExactDTWAligner()(y[:1], y[:1])[0])
    assert (reused.calls, reused.aligned) == (3, 5)


def test_reused_paths_keys_pairs_by_target_and_forecast_length():
    from dtwrl.aligners import ReusedPaths

    counting = _CountingAligner()
    reused = ReusedPaths(counting, every=10)
    y = np.linspace(0, 1, 6)[None, :, None]
    reused(y, y)
    reused(y, y[:, :4])  # another forecast length: another pair, and its path ends at its own corner
    (path,) = reused(y, y[:, :4])
    assert counting.batches == [1, 1] and path[-1].tolist() == [5, 3]
    check_path(path, 6, 4)


def test_reused_paths_checks_its_arguments_and_round_trips_its_config():
    from dtwrl.aligners import ReusedPaths, aligner_from_config, aligner_to_config

    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="every must be an int >= 1"):
            ReusedPaths(ExactDTWAligner(), every=bad)
    rebuilt = aligner_from_config(aligner_to_config(ReusedPaths(FastDTWAligner(radius=2), every=4)))
    assert isinstance(rebuilt, ReusedPaths) and rebuilt.every == 4 and rebuilt.aligner.radius == 2
    short = ReusedPaths(lambda a, b: [np.array([[0, 0]])], every=2)
    with pytest.raises(ValueError, match="aligner returned 1 entries for a batch of 2 pairs"):
        short(np.zeros((2, 1, 1)), np.zeros((2, 1, 1)))


class _TwoPaths:
    """A group of two paths per pair: the exact DTW path and a seeded path of random moves (a new one per call)."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def __call__(self, y_true, y_pred):
        from dtwrl.corridors import random_path

        exact = ExactDTWAligner()(y_true, y_pred)
        return [[p, random_path(len(a), len(b), self.rng)] for p, a, b in zip(exact, y_true, y_pred)]


def test_the_lattice_over_reused_paths_keeps_each_corridor_and_gives_the_same_loss():
    """PathLoss(lattice) takes ReusedPaths' kept corridors: the same values and gradients as rebuilding them."""
    import tensorflow as tf

    from dtwrl.aligners import ReusedPaths
    from dtwrl.losses import PathLoss

    rng = np.random.default_rng(3)
    targets = rng.normal(size=(6, 11, 1)).astype(np.float32)
    kept = ReusedPaths(_TwoPaths(0), every=3)
    rebuilt = ReusedPaths(_TwoPaths(0), every=3)
    losses = [
        PathLoss(kept, path_reduction="lattice", gamma=0.1, lattice_radius=1),
        PathLoss(lambda a, b: rebuilt(a, b), path_reduction="lattice", gamma=0.1, lattice_radius=1),
    ]
    for step in range(5):
        batch = rng.choice(6, size=4, replace=False)
        y = tf.constant(targets[batch])
        p = tf.Variable(targets[batch] + rng.normal(size=(4, 11, 1)).astype(np.float32))
        results = []
        for loss in losses:
            with tf.GradientTape() as tape:
                value = tf.reduce_sum(loss(y, p))
            results.append((value.numpy(), tape.gradient(value, p).numpy()))
        assert results[0][0] == results[1][0], step
        np.testing.assert_array_equal(results[0][1], results[1][1])
    assert kept.aligned == rebuilt.aligned < 20 and kept.widened == kept.aligned  # one corridor per fresh paths
    with pytest.raises(ValueError, match="a path from the aligner"):
        ReusedPaths(lambda a, b: [np.array([[0, 0], [2, 2]])], every=2).lattice_corridors(
            np.zeros((1, 3)), np.zeros((1, 3))
        )
