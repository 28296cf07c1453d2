"""Tests for dtwrl.datasets: loaders, vendored GunPoint, synthetic data, pair sources, forecasting."""

import os
import pickle
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from dtwrl.datasets import (
    ArrayPairs,
    CallablePairs,
    DatasetPairs,
    PairSource,
    SyntheticPairs,
    as_pair_source,
    builtin_datasets,
    forecast_split,
    gunpoint_pairs,
    iter_pairs,
    load_forecasting_task,
    load_ts,
    load_tsv,
    load_ucr,
    random_monotone_warp,
    random_smooth_waveform,
    resample,
    synthetic_step_task,
    synthetic_warp_pair,
)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def draw_from_seed(source, seed, count=5):
    rng = np.random.default_rng(seed)
    return [source(rng) for _ in range(count)]


def assert_same_pairs(a, b):
    assert len(a) == len(b)
    for (x1, y1), (x2, y2) in zip(a, b):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)


# --------------------------------------------------------------------------- real files


def test_gunpoint_real_files(ucr_root):
    X, y = load_ts(ucr_root / "GunPoint" / "GunPoint_TRAIN.ts")
    assert X.shape == (50, 150, 1) and X.dtype == np.float64
    assert X[0, 0, 0] == -0.6478854 and X[0, 1, 0] == -0.64199155
    assert y.shape == (50,) and y[:3].tolist() == ["2", "2", "1"]
    assert (y == "1").sum() == 24 and (y == "2").sum() == 26
    X_test, y_test = load_ts(ucr_root / "GunPoint" / "GunPoint_TEST.ts")
    assert X_test.shape == (150, 150, 1)
    assert X_test[0, 0, 0] == -1.1250133 and y_test[:3].tolist() == ["1", "2", "2"]


def test_italy_power_demand(ucr_root):
    X, y = load_ucr(ucr_root / "ItalyPowerDemand", split="train")
    assert X.shape == (67, 24, 1) and X[0, 0, 0] == -0.71051757 and y[0] == "1"
    X, y = load_ucr(ucr_root / "ItalyPowerDemand", split="test")
    assert X.shape == (1029, 24, 1)
    assert X[0, 0, 0] == 0.47297301 and X[0, -1, 0] == 1.2876634 and y[0] == "2"
    assert sorted(set(y.tolist())) == ["1", "2"]


def test_basic_motions_multivariate(ucr_root):
    X, y = load_ucr(ucr_root / "BasicMotions" / "BasicMotions_TRAIN.ts")
    assert X.shape == (40, 100, 6)
    np.testing.assert_array_equal(X[0, :3, 0], [0.079106, 0.079106, -0.903497])
    assert X[0, 0, 1] == 0.394032
    assert sorted(set(y.tolist())) == ["Badminton", "Running", "Standing", "Walking"]
    X_test, _ = load_ucr(ucr_root / "BasicMotions", split="test")
    assert X_test.shape == (40, 100, 6) and X_test[0, 0, 0] == -0.740653


def test_ts_and_tsv_agree(ucr_root):
    X_ts, y_ts = load_ts(ucr_root / "GunPoint" / "GunPoint_TRAIN.ts")
    X_tsv, y_tsv = load_tsv(ucr_root / "GunPoint" / "GunPoint_TRAIN.tsv")
    np.testing.assert_array_equal(X_ts, X_tsv)
    np.testing.assert_array_equal(y_ts, y_tsv)


def test_vendored_gunpoint_equals_shared_copy(ucr_root):
    assert builtin_datasets() == ["GunPoint"]
    data = resources.files("dtwrl.datasets").joinpath("data")
    for name in ("GunPoint_TRAIN.ts", "GunPoint_TEST.ts", "GunPoint_TRAIN.tsv"):
        assert data.joinpath(name).read_bytes() == (ucr_root / "GunPoint" / name).read_bytes()
    assert "Dau" in data.joinpath("README.md").read_text()
    for split in ("train", "test"):
        X, y = load_ucr("GunPoint", split=split)
        X_ref, y_ref = load_ts(ucr_root / "GunPoint" / f"GunPoint_{split.upper()}.ts")
        np.testing.assert_array_equal(X, X_ref)
        np.testing.assert_array_equal(y, y_ref)
    X, _ = load_ucr("gunpoint")  # built-in names are case-insensitive
    assert X.shape == (50, 150, 1)


def test_load_ucr_from_env_root(ucr_root, monkeypatch, tmp_path):
    monkeypatch.setenv("DTWRL_UCR_ROOT", f"{tmp_path}{os.pathsep}{ucr_root}")
    X, y = load_ucr("ItalyPowerDemand", split="test")
    assert X.shape == (1029, 24, 1)
    # flat layout <root>/<Name>_TRAIN.tsv
    (tmp_path / "Toy_TRAIN.tsv").write_text("a\t1\t2\nb\t3\t4\n")
    X, y = load_ucr("Toy")
    assert X.shape == (2, 2, 1) and y.tolist() == ["a", "b"]


def test_load_ucr_errors(monkeypatch, tmp_path):
    monkeypatch.setenv("DTWRL_UCR_ROOT", str(tmp_path))
    with pytest.raises(ValueError, match="split"):
        load_ucr("GunPoint", split="valid")
    with pytest.raises(FileNotFoundError, match="NoSuchSet_TRAIN.ts") as err:
        load_ucr("NoSuchSet")
    assert "GunPoint" in str(err.value) and str(tmp_path) in str(err.value)
    monkeypatch.delenv("DTWRL_UCR_ROOT")
    with pytest.raises(FileNotFoundError, match="DTWRL_UCR_ROOT"):
        load_ucr("NoSuchSet")
    with pytest.raises(TypeError, match="name_or_path"):
        load_ucr(3)
    with pytest.raises(ValueError, match=r"\.csv"):
        load_ucr(write(tmp_path, "x.csv", "1,2\n"))
    empty_dir = tmp_path / "Empty"
    empty_dir.mkdir()
    with pytest.raises(FileNotFoundError, match="Empty_TEST.ts"):
        load_ucr(empty_dir, split="test")
    with pytest.raises(FileNotFoundError, match="path"):
        load_ts(tmp_path / "missing.ts")


# --------------------------------------------------------------------------- hand-written .ts


def test_variable_length_ts_case_insensitive_tags(tmp_path):
    path = write(
        tmp_path,
        "var.ts",
        "# a comment\n@ProblemName toy\n@TIMESTAMPS false\n@Missing FALSE\n@univariate true\n"
        "@EQUALLENGTH false\n@CLASSLABEL true up down\n@DATA\n1,2,3:up\n\n4.5,5:down\n-1,0,1,2:up\n",
    )
    X, y = load_ts(path)
    assert isinstance(X, list) and [x.shape for x in X] == [(3, 1), (2, 1), (4, 1)]
    assert X[1].ravel().tolist() == [4.5, 5.0] and X[2].dtype == np.float64
    assert y.tolist() == ["up", "down", "up"]


def test_multivariate_ts(tmp_path):
    path = write(
        tmp_path,
        "mv.ts",
        "@dimensions 2\n@univariate false\n@equalLength true\n@seriesLength 3\n@classLabel true 0 1\n@data\n"
        "1,2,3:10,20,30:0\n4,5,6:40,50,60:1\n",
    )
    X, y = load_ts(path)
    assert X.shape == (2, 3, 2)
    np.testing.assert_array_equal(X[1], [[4, 40], [5, 50], [6, 60]])
    assert y.tolist() == ["0", "1"]


def test_missing_values_and_targets(tmp_path):
    path = write(tmp_path, "m.ts", "@missing true\n@targetLabel true\n@data\n1,?,3:0.5\n4,5,6:-2\n")
    X, y = load_ts(path)
    assert np.isnan(X[0, 1, 0]) and X[0, 2, 0] == 3.0 and np.isfinite(X[1]).all()
    assert y.dtype == np.float64 and y.tolist() == [0.5, -2.0]
    X, y = load_ts(write(tmp_path, "u.ts", "@classLabel false\n@data\n1,2:3,4\n"))
    assert X.shape == (1, 2, 2) and y is None


@pytest.mark.parametrize(
    "text, match",
    [
        ("@classLabel true a\n1,2:a\n", "before the @data"),
        ("@classLabel true a\n", "no @data"),
        ("@data\n", "no series"),
        ("@data\n1,?,3\n", "@missing true"),
        ("@data\n1,nan,3\n", "finite"),
        ("@data\n1,inf\n", "finite"),
        ("@data\n1,x,3\n", "numbers"),
        ("@classLabel true a b\n@data\n1,2,3:c\n", r"\['c'\]"),
        ("@classLabel true a\n@data\n1,2,3\n", "label"),
        ("@data\n1,2:3,4\n1,2\n", "dimensions"),
        ("@data\n1,2:3\n", "different lengths"),
        ("@dimensions 3\n@data\n1,2:3,4\n", "@dimensions 3"),
        ("@univariate true\n@data\n1,2:3,4\n", "univariate"),
        ("@equalLength true\n@data\n1,2\n1,2,3\n", "equalLength"),
        ("@seriesLength 4\n@equalLength true\n@data\n1,2,3\n", "length 4"),
        ("@missing maybe\n@data\n1\n", "true or false"),
        ("@timeStamps true\n@data\n(0,1),(1,2)\n", "timeStamps"),
        ("@data\n(0,1),(1,2)\n", "timestamped"),
        ("@seriesLength ten\n@data\n1\n", "integer"),
        ("@classLabel true a\n@targetLabel true\n@data\n1:a\n", "both"),
        ("@targetLabel true\n@data\n1,2:big\n", "targetLabel"),
    ],
)
def test_malformed_ts(tmp_path, text, match):
    path = write(tmp_path, "bad.ts", text)
    with pytest.raises(ValueError, match=match) as err:
        load_ts(path)
    assert "bad.ts" in str(err.value)


def test_tsv_padding_and_errors(tmp_path):
    X, y = load_tsv(write(tmp_path, "v.tsv", "1\t1\t2\tNaN\tNaN\n2\t3\t4\t5\t6\n"))
    assert [x.ravel().tolist() for x in X] == [[1.0, 2.0], [3.0, 4.0, 5.0, 6.0]]
    assert y.tolist() == ["1", "2"]
    inner = write(tmp_path, "inner.tsv", "1\t1\tNaN\t2\n")
    with pytest.raises(ValueError, match="allow_missing"):
        load_tsv(inner)
    X, _ = load_tsv(inner, allow_missing=True)
    assert np.isnan(X[0, 1, 0]) and X.shape == (1, 3, 1)
    for text, match in [("1\n", "label then"), ("1\tNaN\n", "no values"), ("1\ta\n", "numbers"), ("", "no series")]:
        with pytest.raises(ValueError, match=match):
            load_tsv(write(tmp_path, "bad.tsv", text))
    with pytest.raises(TypeError, match="path"):
        load_tsv(None)


# --------------------------------------------------------------------------- synthetic


def test_synthetic_warp_pair_seeding_and_shapes():
    a = synthetic_warp_pair(5, n=80, m=50, d=3)
    b = synthetic_warp_pair(np.random.default_rng(5), n=80, m=50, d=3)
    c = synthetic_warp_pair(6, n=80, m=50, d=3)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])
    x, y, warp = a
    assert x.shape == (80, 3) and y.shape == (50, 3) and warp.shape == (50,)
    assert synthetic_warp_pair(0, n=40)[1].shape == (40, 1)


@pytest.mark.parametrize("seed", range(10))
def test_warp_is_monotone_and_y_follows_it(seed):
    n, m = 60 + 7 * seed, 130 - 5 * seed
    x, y, warp = synthetic_warp_pair(seed, n=n, m=m, d=2, noise=0.0, warp_strength=2.0)
    assert warp[0] == 0.0 and warp[-1] == n - 1
    assert (np.diff(warp) > 0).all() and warp.min() >= 0 and warp.max() <= n - 1
    for k in range(2):
        np.testing.assert_allclose(y[:, k], np.interp(warp, np.arange(n), x[:, k]), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(y[0], x[0])
    np.testing.assert_array_equal(y[-1], x[-1])


def test_noise_level_and_identity_warp():
    x, y, warp = synthetic_warp_pair(1, n=2000, noise=0.5, warp_strength=0.0)
    np.testing.assert_allclose(warp, np.arange(2000.0), atol=1e-9)
    assert 0.45 < np.std(y - x) < 0.55


def test_waveform_is_smooth_and_normalised():
    for seed in range(20):
        x = random_smooth_waveform(seed, 200, d=2)
        np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=1e-12)
        np.testing.assert_allclose(x.std(axis=0), 1.0, atol=1e-12)
        assert np.abs(np.diff(x, axis=0)).max() < 0.5  # white noise of unit variance: ~3.5


def test_random_monotone_warp_strength_zero_is_linear():
    np.testing.assert_allclose(random_monotone_warp(3, 11, 21, strength=0.0), np.linspace(0, 10, 21), atol=1e-12)


def test_resample_values_and_errors():
    np.testing.assert_array_equal(resample([[0.0, 1.0], [10.0, 3.0]], [0.0, 0.25, 1.0]), [[0, 1], [2.5, 1.5], [10, 3]])
    with pytest.raises(ValueError, match="positions"):
        resample([0.0, 1.0], [1.5])
    with pytest.raises(ValueError, match="x"):
        resample([0.0], [0.0])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n=1), ValueError, "n must"),
        (dict(n=10, m=1), ValueError, "m must"),
        (dict(n=10.0), TypeError, "n must"),
        (dict(d=0), ValueError, "d must"),
        (dict(noise=-0.1), ValueError, "noise"),
        (dict(noise=float("nan")), ValueError, "noise"),
        (dict(warp_strength=-1.0), ValueError, "strength"),
    ],
)
def test_synthetic_warp_pair_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        synthetic_warp_pair(0, **kwargs)


def test_generator_argument_errors():
    with pytest.raises(TypeError, match="rng"):
        synthetic_warp_pair("seed")
    with pytest.raises(ValueError, match="rng"):
        synthetic_warp_pair(-1)
    with pytest.raises(ValueError, match="n_sines"):
        random_smooth_waveform(0, 10, n_sines=0, n_bumps=0)


def test_step_task_structure():
    inputs, targets = synthetic_step_task(300, seed=4, noise=0.0)
    assert inputs.shape == (300, 20, 1) and targets.shape == (300, 20, 1)
    again, _ = synthetic_step_task(300, seed=4, noise=0.0)
    np.testing.assert_array_equal(inputs, again)
    checked = 0
    for inp, tgt in zip(inputs[..., 0], targets[..., 0]):
        peaks = np.flatnonzero(inp)
        if len(peaks) != 2 or tgt[0] != 0.0:
            continue  # peaks coincide, or the step starts inside the input window
        t1, t2 = peaks
        assert 1 <= t1 <= 10 <= t2 <= 18
        step = np.flatnonzero(np.diff(tgt))
        assert len(step) == 1  # a single step inside the target window
        t3 = 20 + step[0] + 1
        assert abs(t3 - t2 - (t2 - t1)) <= 3
        assert tgt[-1] == pytest.approx(inp[t2] - inp[t1], abs=1e-15)
        checked += 1
    assert checked > 150
    noisy_in, noisy_out = synthetic_step_task(300, seed=4, noise=0.01)  # same draws, noise scaled
    residual = np.concatenate([noisy_in - inputs, noisy_out - targets], axis=1)
    assert residual.min() >= 0.0 and residual.max() < 0.01 and residual.std() > 0.002
    with pytest.raises(ValueError, match="input_length"):
        synthetic_step_task(5, seed=0, input_length=3)
    with pytest.raises(TypeError, match="seed"):
        synthetic_step_task(5, seed=None)


# --------------------------------------------------------------------------- pair sources


def test_synthetic_pairs_lengths_and_seeding():
    source = SyntheticPairs(n=(60, 130), m=(20, 30), d=2)
    assert source.dim == 2 and isinstance(source, PairSource)
    for x, y in draw_from_seed(source, 0, 30):
        assert 60 <= x.shape[0] <= 130 and 20 <= y.shape[0] <= 30 and x.shape[1] == y.shape[1] == 2
    assert_same_pairs(draw_from_seed(source, 1), draw_from_seed(source, 1))
    for x, y in draw_from_seed(SyntheticPairs(n=(10, 40)), 2, 10):
        assert x.shape == y.shape  # m=None: same length as x
    x, y = SyntheticPairs(n=17, m=9)(np.random.default_rng(0))
    assert x.shape == (17, 1) and y.shape == (9, 1)
    for bad, error in [(dict(n=(10, 5)), ValueError), (dict(n=1), ValueError), (dict(n="60"), TypeError)]:
        with pytest.raises(error, match="n must"):
            SyntheticPairs(**bad)


def test_dataset_pairs_distinct_and_same_class():
    X = np.arange(6.0)[:, None] * np.ones((6, 5))  # series i is constant i
    source = DatasetPairs(X)
    assert source.dim == 1 and len(source) == 6
    seen = set()
    for x, y in draw_from_seed(source, 0, 200):
        assert x.shape == (5, 1) and x[0, 0] != y[0, 0]
        seen.add(x[0, 0])
    assert seen == set(range(6))
    labels = np.array(["a", "a", "b", "b", "b", "c"])  # "c" has one member: never drawn
    same = DatasetPairs(X, labels=labels, same_class=True)
    for x, y in draw_from_seed(same, 1, 100):
        i, j = int(x[0, 0]), int(y[0, 0])
        assert i != j and labels[i] == labels[j] and i != 5
    x, _ = source(np.random.default_rng(0))
    x[:] = -1.0  # pairs are copies
    assert (X >= 0).all() and all((s >= 0).all() for s in source.series)


def test_dataset_pairs_ragged_and_multivariate():
    ragged = [np.zeros((4, 2)), np.ones((7, 2)), np.full((5, 2), 2.0)]
    source = DatasetPairs(ragged)
    assert source.dim == 2
    x, y = source(np.random.default_rng(3))
    assert x.shape[1] == y.shape[1] == 2 and {x.shape[0], y.shape[0]} <= {4, 5, 7}


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((np.array([[0.0, 1.0], [np.nan, 1.0]]),), {}, r"X\[1\]"),
        (([np.zeros((3, 1)), np.zeros((3, 2))],), {}, "same number of features"),
        ((np.zeros((1, 5)),), {}, "at least 2"),
        ((np.zeros((3, 5)),), dict(same_class=True), "labels"),
        ((np.zeros((3, 5)),), dict(labels=[0, 1], same_class=True), "labels must have shape"),
        ((np.zeros((3, 5)),), dict(labels=[0, 1]), "labels must have shape"),
        ((np.zeros((3, 5)),), dict(labels=[0, 1, 2], same_class=True), "at least 2 series"),
        ((np.zeros(5),), {}, "shape"),
    ],
)
def test_dataset_pairs_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        DatasetPairs(*args, **kwargs)


def test_array_pairs():
    pairs = [(np.zeros(3), np.zeros(4)), (np.ones(2), np.ones(5))]
    ordered = ArrayPairs(pairs, shuffle=False)
    shapes = [(x.shape[0], y.shape[0]) for x, y in draw_from_seed(ordered, 0, 4)]
    assert shapes == [(3, 4), (2, 5), (3, 4), (2, 5)]
    drawn = {x.shape[0] for x, _ in draw_from_seed(ArrayPairs(pairs), 0, 50)}
    assert drawn == {2, 3}
    for bad, match in [
        ([], "non-empty"),
        ([(np.zeros(3),)], r"pairs\[0\]"),
        ([(np.zeros((3, 2)), np.zeros((3, 1)))], "same number of features"),
        ([(np.zeros(3), np.zeros(3)), (np.zeros((3, 2)), np.zeros((3, 2)))], "same number of features"),
        ([(np.zeros(3), [1.0, np.inf])], "finite"),
    ]:
        with pytest.raises(ValueError, match=match):
            ArrayPairs(bad)


def module_level_source(rng):
    return rng.standard_normal((6, 2)), rng.standard_normal((4, 2))


def test_as_pair_source_kinds(ucr_root):
    synthetic = SyntheticPairs()
    assert as_pair_source(synthetic) is synthetic
    builtin = as_pair_source("GunPoint", split="test")
    assert isinstance(builtin, DatasetPairs) and len(builtin) == 150
    from_file = as_pair_source(ucr_root / "ItalyPowerDemand" / "ItalyPowerDemand_TRAIN.ts")
    assert len(from_file) == 67 and from_file.dim == 1
    from_str = as_pair_source(str(ucr_root / "BasicMotions"), same_class=True)
    assert from_str.dim == 6 and from_str.same_class
    assert as_pair_source(np.zeros((4, 10, 3))).dim == 3
    assert as_pair_source(np.zeros((4, 10))).dim == 1
    assert isinstance(as_pair_source([np.zeros(3), np.ones(5)]), DatasetPairs)
    assert isinstance(as_pair_source([[0.0, 1.0, 2.0], [3.0, 4.0]]), DatasetPairs)
    fixed = as_pair_source([(np.zeros(3), np.ones(4))], shuffle=False)
    assert isinstance(fixed, ArrayPairs) and not fixed.shuffle
    wrapped = as_pair_source(module_level_source)
    assert isinstance(wrapped, CallablePairs) and wrapped.dim is None
    x, y = wrapped(np.random.default_rng(0))
    assert x.shape == (6, 2) and y.shape == (4, 2)


def test_as_pair_source_errors():
    for bad in (42, {"x": 1}, None, 1.5):
        with pytest.raises(TypeError, match="pairs"):
            as_pair_source(bad)
    with pytest.raises(TypeError, match="pair source"):
        as_pair_source(SyntheticPairs(), split="test")
    with pytest.raises(TypeError, match="split and same_class"):
        as_pair_source("GunPoint", shuffle=True)
    with pytest.raises(ValueError, match="split"):
        as_pair_source("GunPoint", split="dev")
    with pytest.raises(TypeError, match="keyword"):
        as_pair_source(module_level_source, shuffle=True)
    nan_source = as_pair_source(lambda rng: (np.array([0.0, np.nan]), np.zeros(2)))
    with pytest.raises(ValueError, match="finite"):
        nan_source(np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"\(x, y\) pair"):
        as_pair_source(lambda rng: np.zeros(3))(np.random.default_rng(0))
    with pytest.raises(ValueError, match="same number of features"):
        as_pair_source(lambda rng: (np.zeros((3, 2)), np.zeros(3)))(np.random.default_rng(0))


def test_pickle_round_trip():
    sources = [
        SyntheticPairs(n=(30, 50), m=(20, 40), d=2),
        gunpoint_pairs(same_class=True),
        DatasetPairs([np.zeros(3), np.ones(5), np.full(4, 2.0)]),
        ArrayPairs([(np.zeros(3), np.ones(4)), (np.ones(2), np.zeros(2))]),
        CallablePairs(module_level_source),
    ]
    for source in sources:
        clone = pickle.loads(pickle.dumps(source))
        assert type(clone) is type(source) and clone.dim == source.dim
        assert_same_pairs(draw_from_seed(clone, 7), draw_from_seed(source, 7))


def test_iter_pairs():
    first = list(iter_pairs(SyntheticPairs(n=20), seed=3, count=4))
    assert len(first) == 4 and all(x.shape == (20, 1) for x, _ in first)
    assert_same_pairs(first, list(iter_pairs(SyntheticPairs(n=20), seed=3, count=4)))
    assert list(iter_pairs("GunPoint", seed=0, count=0)) == []
    with pytest.raises(ValueError, match="count"):
        iter_pairs(SyntheticPairs(), seed=0, count=-1)  # checked at the call
    with pytest.raises(TypeError, match="seed"):
        iter_pairs(SyntheticPairs(), seed=0.5, count=1)


def test_gunpoint_pairs_same_class():
    X, y = load_ucr("GunPoint")
    source = gunpoint_pairs(same_class=True)
    assert len(source) == 50 and source.dim == 1
    assert len(gunpoint_pairs(split="test")) == 150
    for a, b in draw_from_seed(source, 2, 20):
        i = int(np.flatnonzero((a == X).all(axis=(1, 2)))[0])
        j = int(np.flatnonzero((b == X).all(axis=(1, 2)))[0])
        assert i != j and y[i] == y[j]
    np.testing.assert_array_equal(source.series[0], X[0])  # stored as is, not renormalised


# --------------------------------------------------------------------------- forecasting


def test_forecast_split():
    X = np.arange(2 * 150 * 2, dtype=float).reshape(2, 150, 2)
    inputs, targets = forecast_split(X)
    assert inputs.shape == (2, 90, 2) and targets.shape == (2, 60, 2)
    np.testing.assert_array_equal(np.concatenate([inputs, targets], axis=1), X)
    inputs, targets = forecast_split(np.zeros((3, 24)))
    assert inputs.shape == (3, 14, 1) and targets.shape == (3, 10, 1)
    assert [a.shape[1] for a in forecast_split(np.zeros((1, 4, 1)), 0.5)] == [2, 2]
    with pytest.raises(ValueError, match="X is too short"):
        forecast_split(np.zeros((2, 3, 1)))
    for bad in (0.0, 1.0, 1.5, "0.5", True):
        with pytest.raises(ValueError, match="input_fraction"):
            forecast_split(np.zeros((2, 10, 1)), bad)
    with pytest.raises(ValueError, match="X"):
        forecast_split([np.zeros(5), np.zeros(6)])
    with pytest.raises(ValueError, match="X"):
        forecast_split(np.full((2, 10, 1), np.nan))
    with pytest.raises(ValueError, match="X"):
        forecast_split(np.zeros(10))


def test_load_forecasting_task(ucr_root):
    (x_tr, y_tr), (x_te, y_te) = load_forecasting_task("GunPoint")
    assert x_tr.shape == (50, 90, 1) and y_tr.shape == (50, 60, 1) and x_te.shape == (150, 90, 1)
    assert x_tr[0, 0, 0] == -0.6478854
    (x_tr, _), (x_te, y_te) = load_forecasting_task(ucr_root / "BasicMotions", input_fraction=0.5)
    assert x_tr.shape == (40, 50, 6) and y_te.shape == (40, 50, 6)
    (s_in, s_out), (t_in, _) = load_forecasting_task("synthetic_steps", n_series=30)
    ref_in, ref_out = synthetic_step_task(30, seed=0)
    np.testing.assert_array_equal(s_in, ref_in)
    np.testing.assert_array_equal(s_out, ref_out)
    assert s_in.shape == t_in.shape == (30, 20, 1) and not np.array_equal(s_in, t_in)
    with pytest.raises(ValueError, match="name_or_path"):
        load_forecasting_task(ucr_root / "GunPoint" / "GunPoint_TRAIN.ts")
    with pytest.raises(ValueError, match="n_series"):
        load_forecasting_task("synthetic_steps", n_series=0)


def test_module_names_do_not_shadow_exports():
    import dtwrl.datasets as ds

    modules = {p.stem for p in Path(ds.__file__).parent.glob("*.py")}
    assert modules.isdisjoint(ds.__all__)
    assert all(hasattr(ds, name) for name in ds.__all__)
