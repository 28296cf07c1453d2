"""The oldest public functions carry complete type hints (numpy.typing), which resolve at run time."""

import inspect
import typing

import pytest

import dtwrl
import dtwrl.datasets as ds

ANNOTATED = [
    dtwrl.dtw,
    dtwrl.dtw_path,
    dtwrl.fastdtw_path,
    dtwrl.path_cost,
    dtwrl.cost_matrix,
    ds.builtin_datasets,
    ds.load_ts,
    ds.load_tsv,
    ds.load_ucr,
    ds.load_tsf,
    ds.load_series_file,
    ds.load_series,
    ds.load_pair_source,
    ds.as_pair_source,
    ds.gunpoint_pairs,
    ds.load_forecasting_task,
    ds.load_forecast_task,
]


@pytest.mark.parametrize("fn", ANNOTATED, ids=lambda fn: fn.__name__)
def test_every_parameter_and_the_return_are_annotated(fn):
    hints = typing.get_type_hints(fn)  # resolves every annotation: a typo or a missing import fails here
    missing = [name for name in inspect.signature(fn).parameters if name not in hints]
    assert not missing and "return" in hints, f"{fn.__name__}: not annotated: {missing or ['return']}"
