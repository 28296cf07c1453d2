"""Free-length forecasting data: the .tsf and .csv/.npy loaders, task splits, normalisation and layout."""

from pathlib import Path

import numpy as np
import pytest

from dtwrl.datasets import (
    ForecastSplit,
    fill_missing,
    holdout_split,
    load_forecast_task,
    load_series_file,
    load_tsf,
    rolling_origin_task,
    split_series,
)
from dtwrl.forecasting.preprocessing import Normalizer, SeriesLayout, resample_to

M1_HEAD = Path(__file__).parent / "data" / "m1_yearly_head.tsf"

HEADER = (
    "# a comment\n@relation demo\n@attribute series_name string\n@attribute start date\n"
    "@attribute weight numeric\n@frequency monthly\n@horizon 2\n@missing true\n@equallength false\n@data\n"
)


def write(tmp_path, text, name="demo.tsf"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_tsf_reads_header_attributes_unequal_lengths_and_missing_values(tmp_path):
    data = load_tsf(write(tmp_path, HEADER + "A:2001-01-01 00-00-00:1.5:1,2,?,4,5\nB:2002-03-01 00-00-00:2:7,8,9\n"))
    assert (data.relation, data.frequency, data.horizon, data.missing, data.equal_length) == (
        "demo",
        "monthly",
        2,
        True,
        False,
    )
    assert data.attributes["series_name"] == ["A", "B"] and data.attributes["weight"] == [1.5, 2.0]
    assert data.attributes["start"][1].year == 2002 and data.attributes["start"][1].month == 3
    assert [len(s) for s in data.series] == [5, 3] and np.isnan(data.series[0][2])
    assert data.series[1].tolist() == [7.0, 8.0, 9.0]


def test_tsf_m1_head_is_the_real_file_trimmed():
    data = load_tsf(M1_HEAD)
    assert data.horizon == 6 and data.frequency == "yearly" and len(data.series) == 16
    assert data.series[0][:3].tolist() == [3600.0, 7700.0, 12300.0] and len(data.series[0]) == 28
    assert data.attributes["series_name"][:2] == ["T1", "T2"]


@pytest.mark.parametrize(
    "text,message",
    [
        ("@relation x\n@horizon 2\n", "no @data tag"),
        ("@attribute a string\n@data\n", "no series after @data"),
        ("@attribute a blob\n@data\nA:1,2\n", "@attribute needs a name and a type"),
        ("@horizon six\n@data\n1,2\n", "@horizon must be an integer"),
        ("@missing maybe\n@data\n1,2\n", "@missing must be true or false"),
        ("@attribute a string\n@data\n1,2,3\n", "expected 1 attribute values"),
        ("@data\n1,x,3\n", "'x' is not a number"),
        ("@missing false\n@data\n1,?,3\n", "@missing false"),
        ("@attribute a string\n@data\nA:\n", "the series is empty"),
        ("@equallength true\n@data\n1,2\n1,2,3\n", "unequal lengths"),
        ("@attribute d date\n@data\n2001-01-01:1,2\n", "must be a date"),
    ],
)
def test_tsf_bad_files_name_the_file_and_the_problem(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        load_tsf(write(tmp_path, text))


def test_series_files_csv_ragged_rows_and_npy_arrays(tmp_path):
    csv = write(tmp_path, "1,2,3,4\n\n5,6,7,,\n", "s.csv")
    assert [s.ravel().tolist() for s in load_series_file(csv)] == [[1, 2, 3, 4], [5, 6, 7]]
    npy = tmp_path / "s.npy"
    np.save(npy, np.arange(24.0).reshape(2, 4, 3))
    series = load_series_file(npy)
    assert [s.shape for s in series] == [(4, 3), (4, 3)] and series[1][0].tolist() == [12.0, 13.0, 14.0]
    for name, text, message in [
        ("h.csv", "a,b\n1,2\n3,x\n", "line 3: 'x' is not a number"),
        ("e.csv", "\n\n", "holds no series"),
        ("semicolons.csv", "1;2;3\n4;5;6\n", "line 2: '4;5;6' is not a number"),  # was "holds no series"
        ("one.csv", "1\t2\t3\n", r"holds no series; its one row, '1\\t2\\t3', reads as a header"),
        ("n.csv", "1,nan\n", "finite"),
        ("x.txt", "1,2\n", "must end in .csv or .npy"),
    ]:
        with pytest.raises(ValueError, match=message):
            load_series_file(write(tmp_path, text, name))
    np.save(tmp_path / "bad.npy", np.zeros(3))
    with pytest.raises(ValueError, match=r"shape \(N, n\) or \(N, n, d\)"):
        load_series_file(tmp_path / "bad.npy")


def test_split_series_cuts_each_series_at_its_own_length():
    split = split_series([np.arange(10.0), np.arange(20.0)], input_fraction=0.6)
    assert split.input_lengths.tolist() == [6, 12] and split.target_lengths.tolist() == [4, 8]
    assert split.targets[1][0, 0] == 12.0 and not split.equal_length
    by_horizon = split_series([np.arange(10.0), np.arange(20.0)], horizon=3)
    assert by_horizon.target_lengths.tolist() == [3, 3] and by_horizon.inputs[1][-1, 0] == 16.0
    with pytest.raises(ValueError, match="horizon 9 is too long for series\\[0\\] of length 10"):
        split_series([np.arange(10.0)], horizon=9)


def test_rolling_origin_never_trains_on_a_test_target_and_fills_missing_values():
    series = [np.arange(14.0), np.r_[np.arange(9.0), np.nan, 10.0, 11.0, 12.0, 13.0, 14.0]]
    train, test = rolling_origin_task(series, horizon=3)
    for i, s in enumerate(series):
        n = len(s)
        assert len(test.inputs[i]) == n - 3 and len(train.inputs[i]) == n - 6
        assert np.array_equal(np.vstack([train.inputs[i], train.targets[i]]), test.inputs[i])
    assert test.inputs[1][9, 0] == 9.0  # the missing value, interpolated
    with pytest.raises(ValueError, match="needs >= 2 \\* horizon \\+ 2 = 8 points"):
        rolling_origin_task([np.arange(7.0)], horizon=3)
    assert fill_missing([np.nan, 2.0, np.nan]).ravel().tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(ValueError, match="every value is missing"):
        fill_missing([np.nan, np.nan])


def test_holdout_rule_is_seeded_and_disjoint():
    series = [np.full(5, float(i)) for i in range(10)]
    train, test = holdout_split(series, 0.3, seed=0)
    again, _ = holdout_split(series, 0.3, seed=0)
    assert len(test) == 3 and [s[0] for s in train] == [s[0] for s in again]
    assert sorted(s[0] for s in train + test) == list(range(10))
    with pytest.raises(ValueError, match="at least one of each"):
        holdout_split(series[:1])


def test_load_forecast_task_on_m1_csv_and_npy(tmp_path):
    task = load_forecast_task(M1_HEAD)
    assert task.horizon == 6 and len(task.train) == len(task.test) == 16
    assert set(task.test.target_lengths.tolist()) == {6} and task.test.input_lengths.min() == 9
    rows = "\n".join(",".join(str(v) for v in range(n)) for n in (10, 12, 14, 16, 18)) + "\n"
    csv_task = load_forecast_task(write(tmp_path, rows, "s.csv"), input_fraction=0.5, test_fraction=0.4)
    assert (len(csv_task.train), len(csv_task.test)) == (3, 2) and "seeded permutation" in csv_task.rule
    np.save(tmp_path / "s.npy", np.zeros((6, 12)))
    assert load_forecast_task(tmp_path / "s.npy", horizon=4).test.target_lengths.tolist() == [4, 4]
    with pytest.raises(ValueError, match="has no @horizon"):
        load_forecast_task(write(tmp_path, "@data\n1,2,3,4,5,6\n", "nohorizon.tsf"))


def test_zscore_uses_train_statistics_and_inverts_exactly(rng):
    train = ForecastSplit([rng.normal(100, 5, (8, 2))], [rng.normal(100, 5, (4, 2))])
    test = ForecastSplit([rng.normal(300, 5, (6, 2))], [rng.normal(300, 5, (3, 2))])
    for kind in ("zscore", "zscore-series", "none"):
        norm = Normalizer(kind).fit(train)
        scaled = norm.transform(test)
        back = norm.inverse(scaled.targets, test.inputs)
        assert np.allclose(back[0], test.targets[0])
    z = Normalizer("zscore").fit(train)
    values = np.vstack([train.inputs[0], train.targets[0]])
    assert np.allclose(z.mean, values.mean(0)) and np.allclose(z.std, values.std(0))
    assert (z.transform(test).inputs[0].mean(0) > 20).all()  # the test split is scaled by the train statistics
    per_series = Normalizer("zscore-series").fit(train).transform(test).inputs[0]
    assert np.allclose(per_series.mean(0), 0) and np.allclose(per_series.std(0), 1)
    flat = Normalizer("zscore-series").transform(ForecastSplit([np.ones((3, 1))], [np.ones((2, 1))]))
    assert np.isfinite(flat.targets[0]).all()  # a constant window is not divided by 0


def test_layout_pads_for_lengths_and_resamples_otherwise():
    split = ForecastSplit([np.arange(3.0)[:, None], np.arange(5.0)[:, None]], [np.ones((2, 1)), np.full((4, 1), 2.0)])
    padded = SeriesLayout.fit([split], takes_lengths=True)
    X, Y, x_len, y_len = padded.arrays(split)
    assert X[0, :, 0].tolist() == [0, 0, 0, 1, 2] and Y[0, :, 0].tolist() == [1, 1, 0, 0]
    assert [f.shape for f in padded.forecasts(Y, y_len)] == [(2, 1), (4, 1)]
    fixed = SeriesLayout.fit([split], takes_lengths=False)
    X, Y, x_len, y_len = fixed.arrays(split)
    assert X.shape == (2, 5, 1) and X[0, :, 0].tolist() == [0, 0.5, 1, 1.5, 2] and x_len.tolist() == [5, 5]
    assert [f.shape for f in fixed.forecasts(Y, split.target_lengths)] == [(2, 1), (4, 1)]
    assert resample_to(np.array([[3.0]]), 3).ravel().tolist() == [3.0, 3.0, 3.0]
