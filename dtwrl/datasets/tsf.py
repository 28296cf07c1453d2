"""Loader for the Monash Time Series Forecasting Archive format (``.tsf``).

A ``.tsf`` file (Godahewa et al., 2021) has a header of ``@`` lines, then
``@data`` and one series per line::

    # comment
    @relation M1
    @attribute series_name string
    @attribute start_timestamp date
    @frequency yearly
    @horizon 6
    @missing false
    @equallength false
    @data
    T1:1972-01-01 00-00-00:3600,7700,12300
    T2:1974-01-01 00-00-00:12654,22879,?,49524

Each data line holds the attribute values in the declared order, separated by
``:``, then the comma-separated values of the series; ``?`` is a missing value
(allowed only when the header says ``@missing true``). Series may have unequal
lengths. The format is univariate.
"""

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

__all__ = ["TSFData", "load_tsf"]

_ATTRIBUTE_TYPES = ("string", "numeric", "date")
_DATE_FORMAT = "%Y-%m-%d %H-%M-%S"


@dataclass
class TSFData:
    """The content of a ``.tsf`` file.

    Attributes
    ----------
    series : list of numpy.ndarray
        One float64 array ``(n_i,)`` per data line; missing values are NaN.
    attributes : dict
        ``{name: list}``, one value per series, in header order: ``str`` for
        ``string``, ``float`` for ``numeric``, ``datetime`` for ``date``.
    relation : str or None
        ``@relation``.
    frequency : str or None
        ``@frequency`` (``"yearly"``, ``"4_seconds"``, ...).
    horizon : int or None
        ``@horizon``: the forecast horizon the archive evaluates with.
    missing : bool
        ``@missing``: whether ``?`` values may occur.
    equal_length : bool
        ``@equallength``.
    """

    series: list
    attributes: dict = field(default_factory=dict)
    relation: str = None
    frequency: str = None
    horizon: int = None
    missing: bool = False
    equal_length: bool = False


def _bool(value, tag, where):
    word = value.strip().lower()
    if word not in ("true", "false"):
        raise ValueError(f"{where}: @{tag} must be true or false; got {value!r}")
    return word == "true"


def _attribute_value(text, kind, name, where):
    if kind == "string":
        return text
    if kind == "numeric":
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{where}: attribute {name!r} must be numeric; got {text!r}") from None
    try:
        return datetime.strptime(text.strip(), _DATE_FORMAT)
    except ValueError:
        raise ValueError(f"{where}: attribute {name!r} must be a date like 1972-01-01 00-00-00; got {text!r}") from None


def _values(text, missing, where):
    values = []
    for item in text.split(","):
        item = item.strip()
        if item == "?":
            if not missing:
                raise ValueError(f"{where}: '?' (a missing value) but the header says @missing false")
            values.append(np.nan)
            continue
        try:
            value = float(item)
        except ValueError:
            raise ValueError(f"{where}: {item!r} is not a number") from None
        if not np.isfinite(value):
            raise ValueError(f"{where}: values must be finite or '?'; got {item!r}")
        values.append(value)
    return np.asarray(values, dtype=np.float64)


def load_tsf(path: str | os.PathLike) -> TSFData:
    """Read a Monash ``.tsf`` file.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.tsf`` file.

    Returns
    -------
    TSFData
        The series (float64 arrays ``(n_i,)``, NaN where ``?``), the per-series
        attributes and the header fields.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Naming the file and line: no ``@data`` section, no series after it, an
        unknown attribute type, a bad ``@horizon``/``@missing``/``@equallength``,
        a data line with too few ``:`` fields, a value that is not a number, a
        ``?`` without ``@missing true``, an empty series, or unequal lengths
        under ``@equallength true``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> text = "@relation demo\\n@attribute name string\\n@horizon 2\\n@missing true\\n@data\\nA:1,2,?,4\\nB:5,6\\n"
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "demo.tsf"
    >>> _ = path.write_text(text)
    >>> data = load_tsf(path)
    >>> data.horizon, data.attributes["name"], [s.tolist() for s in data.series]
    (2, ['A', 'B'], [[1.0, 2.0, nan, 4.0], [5.0, 6.0]])
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such .tsf file: {str(path)!r}")
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    data = TSFData(series=[])
    names, kinds, start = [], [], None
    for index, raw in enumerate(lines):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path.name}, line {index + 1}"
        if not line.startswith("@"):
            raise ValueError(f"{where}: a series before the @data tag")
        tag, _, value = line[1:].partition(" ")
        tag, value = tag.lower(), value.strip()
        if tag == "data":
            start = index + 1
            break
        if tag == "attribute":
            parts = value.split()
            if len(parts) != 2 or parts[1].lower() not in _ATTRIBUTE_TYPES:
                raise ValueError(f"{where}: @attribute needs a name and a type in {_ATTRIBUTE_TYPES}; got {value!r}")
            names.append(parts[0])
            kinds.append(parts[1].lower())
        elif tag == "relation":
            data.relation = value
        elif tag == "frequency":
            data.frequency = value
        elif tag == "horizon":
            try:
                data.horizon = int(value)
            except ValueError:
                raise ValueError(f"{where}: @horizon must be an integer; got {value!r}") from None
            if data.horizon < 1:
                raise ValueError(f"{where}: @horizon must be >= 1; got {data.horizon}")
        elif tag == "missing":
            data.missing = _bool(value, tag, where)
        elif tag == "equallength":
            data.equal_length = _bool(value, tag, where)
    if start is None:
        raise ValueError(f"{path.name}: no @data tag found (not a .tsf file?)")
    attributes = {name: [] for name in names}
    for index in range(start, len(lines)):
        line = lines[index].strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path.name}, line {index + 1}"
        fields = line.split(":", len(names))
        if len(fields) != len(names) + 1:
            raise ValueError(f"{where}: expected {len(names)} attribute values and the series, separated by ':'")
        for name, kind, text in zip(names, kinds, fields):
            attributes[name].append(_attribute_value(text, kind, name, where))
        if not fields[-1].strip():
            raise ValueError(f"{where}: the series is empty")
        data.series.append(_values(fields[-1], data.missing, where))
    if not data.series:
        raise ValueError(f"{path.name}: no series after @data")
    if data.equal_length and len({len(s) for s in data.series}) > 1:
        raise ValueError(f"{path.name}: @equallength true but the series have unequal lengths")
    data.attributes = attributes
    return data
