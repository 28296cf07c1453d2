"""Loaders for the UCR/UEA archive formats (``.ts`` and ``.tsv``) and the vendored data.

``X`` is a float64 array ``(N, n, d)`` when all series share one length, else a
list of ``(n_i, d)`` arrays. ``y`` is a NumPy array of class labels (strings),
of regression targets (float64), or None for an unlabelled ``.ts`` file.
"""

import os
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

SeriesSet = NDArray[np.float64] | list[NDArray[np.float64]]
"""N series: one float64 array (N, n, d) when all have the same length, else a list of (n_i, d) arrays."""

_SPLITS = ("train", "test")
_EXTENSIONS = (".ts", ".tsv")
_BOOLEAN_TAGS = ("timestamps", "missing", "univariate", "equallength")


def builtin_datasets() -> list[str]:
    """Names of the datasets shipped inside the package.

    Returns
    -------
    list of str

    Examples
    --------
    >>> builtin_datasets()
    ['GunPoint']
    """
    data = resources.files(__package__).joinpath("data")
    return sorted(p.name[: -len("_TRAIN.ts")] for p in data.iterdir() if p.name.endswith("_TRAIN.ts"))


def _stack(series):
    """One (N, n, d) array when all lengths agree, else the list itself."""
    if len({s.shape[0] for s in series}) == 1:
        return np.stack(series)
    return series


def _parse_bool(value, tag, where):
    word = value.lower()
    if word not in ("true", "false"):
        raise ValueError(f"{where}: @{tag} must be true or false; got {value!r}")
    return word == "true"


def _parse_ts_header(lines, where):
    """Header fields and the index of the first data line."""
    header = {"missing": False, "timestamps": False}
    for index, raw in enumerate(lines):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("@"):
            raise ValueError(f"{where}, line {index + 1}: data before the @data tag")
        tag, _, value = line[1:].partition(" ")
        tag, value = tag.lower(), value.strip()
        if tag == "data":
            return header, index + 1
        if tag in _BOOLEAN_TAGS:
            header[tag] = _parse_bool(value, tag, where)
        elif tag in ("dimensions", "serieslength"):
            try:
                header[tag] = int(value)
            except ValueError:
                raise ValueError(f"{where}: @{tag} must be an integer; got {value!r}") from None
        elif tag == "classlabel":
            words = value.split()
            header["classlabel"] = _parse_bool(words[0] if words else "", tag, where)
            header["classes"] = words[1:]
            if header["classlabel"] and not header["classes"]:
                # without the list a line's last ':' field cannot be told from a dimension
                raise ValueError(
                    f"{where}, line {index + 1}: @classLabel true must list the class values, "
                    f"e.g. '@classLabel true 1 2'"
                )
        elif tag == "targetlabel":
            header["targetlabel"] = _parse_bool(value, tag, where)
    raise ValueError(f"{where}: no @data tag found")


def _parse_dimension(text, missing, where):
    """One comma-separated dimension as float64; '?' is NaN only when missing values are declared."""
    if "(" in text:
        raise ValueError(f"{where}: timestamped values '(t, v)' are not supported")
    values = text.split(",")
    if "?" in (v.strip() for v in values):
        if not missing:
            raise ValueError(f"{where}: missing value '?' but the header does not say @missing true")
        values = ["nan" if v.strip() == "?" else v for v in values]
    try:
        arr = np.array(values, dtype=np.float64)
    except ValueError:
        raise ValueError(f"{where}: values must be numbers separated by ','") from None
    if np.isinf(arr).any() or (np.isnan(arr).any() and not missing):
        raise ValueError(f"{where}: values must be finite (NaN only with @missing true)")
    return arr


def _parse_ts(text, source):
    lines = text.splitlines()
    header, start = _parse_ts_header(lines, source)
    if header["timestamps"]:
        raise ValueError(f"{source}: @timeStamps true is not supported")
    has_class = header.get("classlabel", False)
    has_target = header.get("targetlabel", False)
    if has_class and has_target:
        raise ValueError(f"{source}: both @classLabel and @targetLabel are true")
    labelled = has_class or has_target
    series, labels = [], []
    for index in range(start, len(lines)):
        line = lines[index].strip()
        if not line or line.startswith("#"):
            continue
        where = f"{source}, line {index + 1}"
        fields = line.split(":")
        if labelled:
            if len(fields) < 2:
                raise ValueError(f"{where}: expected values followed by ':label'")
            labels.append(fields.pop().strip())
        dims = [_parse_dimension(f, header["missing"], where) for f in fields]
        if len({len(a) for a in dims}) != 1:
            raise ValueError(f"{where}: dimensions have different lengths {[len(a) for a in dims]}")
        if series and len(dims) != series[0].shape[1]:
            raise ValueError(f"{where}: {len(dims)} dimensions, but the first series has {series[0].shape[1]}")
        series.append(np.stack(dims, axis=1))
    if not series:
        raise ValueError(f"{source}: no series after @data")
    d = series[0].shape[1]
    if header.get("dimensions", d) != d:
        raise ValueError(f"{source}: @dimensions {header['dimensions']} but the data has {d}")
    if header.get("univariate") and d != 1:
        raise ValueError(f"{source}: @univariate true but the data has {d} dimensions")
    lengths = {s.shape[0] for s in series}
    if header.get("equallength"):
        expected = header.get("serieslength", next(iter(lengths)))
        if lengths != {expected}:
            raise ValueError(f"{source}: @equalLength true (length {expected}) but lengths {sorted(lengths)} occur")
    if has_class:
        classes = header["classes"]
        unknown = sorted(set(labels) - set(classes))
        if unknown:
            raise ValueError(f"{source}: labels {unknown} are not in @classLabel {classes}")
        y = np.array(labels, dtype=str)
    elif has_target:
        try:
            y = np.array(labels, dtype=np.float64)
        except ValueError:
            raise ValueError(f"{source}: @targetLabel values must be numbers") from None
    else:
        y = None
    return _stack(series), y


def _parse_tsv(text, source, allow_missing):
    series, labels = [], []
    for index, raw in enumerate(text.splitlines()):
        if not raw.strip():
            continue
        where = f"{source}, line {index + 1}"
        fields = raw.strip().split("\t")
        if len(fields) < 2:
            raise ValueError(f"{where}: expected a label then tab-separated values")
        try:
            values = np.array(fields[1:], dtype=np.float64)
        except ValueError:
            raise ValueError(f"{where}: values must be tab-separated numbers") from None
        finite = np.flatnonzero(~np.isnan(values))
        if finite.size == 0:
            raise ValueError(f"{where}: the series holds no values")
        values = values[: finite[-1] + 1]  # drop the NaN padding of a shorter series
        if np.isinf(values).any() or (np.isnan(values).any() and not allow_missing):
            raise ValueError(f"{where}: values must be finite (pass allow_missing=True to keep inner NaN)")
        labels.append(fields[0].strip())
        series.append(values[:, None])
    if not series:
        raise ValueError(f"{source}: the file holds no series")
    return _stack(series), np.array(labels, dtype=str)


def _read_text(path, name="path"):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike; got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{name}: no such file {str(path)!r}")
    return path.read_text(encoding="utf-8", errors="replace"), str(path)


def load_ts(path: str | os.PathLike) -> tuple[SeriesSet, NDArray | None]:
    """Load a UCR/UEA ``.ts`` file (sktime/aeon format).

    Supports univariate and multivariate series (dimensions separated by ':'),
    variable lengths (``@equalLength false``), missing values ``?`` (read as NaN
    only when the header says ``@missing true``), class labels (kept as strings)
    and regression targets (``@targetLabel true``, read as float64). Header tags
    are case-insensitive; ``#`` lines are comments. ``@timeStamps true`` is not
    supported.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.ts`` file.

    Returns
    -------
    X : numpy.ndarray (N, n, d) float64, or list of N arrays (n_i, d)
        An array when every series has the same length, else a list.
    y : numpy.ndarray (N,) of str, numpy.ndarray (N,) float64, or None
        Class labels, regression targets, or None for an unlabelled file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "toy.ts"
    >>> _ = f.write_text("@classLabel true a b\\n@data\\n1,2,3:a\\n4,5:b\\n")
    >>> X, y = load_ts(f)
    >>> [x.shape for x in X], y.tolist()
    ([(3, 1), (2, 1)], ['a', 'b'])
    """
    text, source = _read_text(path)
    return _parse_ts(text, source)


def load_tsv(path: str | os.PathLike, allow_missing: bool = False) -> tuple[SeriesSet, NDArray[np.str_]]:
    """Load a UCR ``.tsv`` file: one series per line, the label first, then tab-separated values.

    Trailing NaN (the padding of variable-length series) is trimmed; NaN inside
    a series raises unless ``allow_missing=True``. Labels are kept as strings.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.tsv`` file.
    allow_missing : bool
        Keep NaN inside a series instead of raising.

    Returns
    -------
    X : numpy.ndarray (N, n, 1) float64, or list of N arrays (n_i, 1)
    y : numpy.ndarray (N,) of str

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "toy.tsv"
    >>> _ = f.write_text("1\\t0.5\\t1.5\\tNaN\\n2\\t1\\t2\\t3\\n")
    >>> X, y = load_tsv(f)
    >>> [x.ravel().tolist() for x in X], y.tolist()
    ([[0.5, 1.5], [1.0, 2.0, 3.0]], ['1', '2'])
    """
    text, source = _read_text(path)
    return _parse_tsv(text, source, allow_missing)


def _load_file(path):
    suffix = Path(path).suffix.lower()
    if suffix == ".ts":
        return load_ts(path)
    if suffix == ".tsv":
        return load_tsv(path)
    raise ValueError(f"name_or_path: unknown file type {suffix!r} for {str(path)!r}; expected .ts or .tsv")


def _split_files(directory, name, split):
    """Candidate files ``<dir>/<Name>_<SPLIT>.ts`` then ``.tsv``."""
    return [Path(directory) / f"{name}_{split.upper()}{ext}" for ext in _EXTENSIONS]


def _load_builtin(name, split):
    for ext in _EXTENSIONS:
        resource = resources.files(__package__).joinpath("data", f"{name}_{split.upper()}{ext}")
        if resource.is_file():
            text, source = resource.read_text(encoding="utf-8"), f"builtin {name}_{split.upper()}{ext}"
            return _parse_ts(text, source) if ext == ".ts" else _parse_tsv(text, source, False)
    raise FileNotFoundError(f"name_or_path: the built-in dataset {name!r} has no {split} split")


def load_ucr(name_or_path: str | os.PathLike, split: str = "train") -> tuple[SeriesSet, NDArray | None]:
    """Load one split of a UCR/UEA dataset by built-in name, file, directory or name on ``DTWRL_UCR_ROOT``.

    ``name_or_path`` is resolved in this order:

    1. an existing ``.ts``/``.tsv`` file (``split`` is then not used);
    2. an existing directory ``<dir>``: ``<dir>/<Name>_TRAIN.ts`` (or ``_TEST``;
       ``.tsv`` if no ``.ts``) where ``<Name>`` is the directory's name;
    3. a built-in name (see :func:`builtin_datasets`, case-insensitive);
    4. a bare name looked up in each directory of the environment variable
       ``DTWRL_UCR_ROOT`` (``os.pathsep``-separated), as ``<root>/<Name>/<Name>_TRAIN.ts``
       or ``<root>/<Name>_TRAIN.ts`` (``.ts`` before ``.tsv``).

    Parameters
    ----------
    name_or_path : str or os.PathLike
        Dataset name, file or directory.
    split : {"train", "test"}
        Which split to load.

    Returns
    -------
    X : numpy.ndarray (N, n, d) float64, or list of N arrays (n_i, d)
    y : numpy.ndarray (N,) or None
        See :func:`load_ts` and :func:`load_tsv`.

    Raises
    ------
    FileNotFoundError
        Nothing matches; the message lists every path tried.

    Examples
    --------
    >>> X, y = load_ucr("GunPoint", split="test")
    >>> X.shape, y[:3].tolist()
    ((150, 150, 1), ['1', '2', '2'])
    """
    if split not in _SPLITS:
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(f"name_or_path must be a str or os.PathLike; got {type(name_or_path).__name__}")
    path = Path(name_or_path)
    if path.is_file():
        return _load_file(path)
    tried = []
    if path.is_dir():
        candidates = _split_files(path, path.resolve().name, split)
    else:
        builtin = {b.lower(): b for b in builtin_datasets()}
        if str(name_or_path).lower() in builtin:
            return _load_builtin(builtin[str(name_or_path).lower()], split)
        tried.append(f"a file or directory {str(path)!r}")
        tried.append(f"built-in names {sorted(builtin.values())}")
        candidates = []
        if path.name == str(name_or_path):  # a bare name, no directory part
            roots = [r for r in os.environ.get("DTWRL_UCR_ROOT", "").split(os.pathsep) if r]
            if not roots:
                tried.append("DTWRL_UCR_ROOT (not set)")
            for root in roots:
                candidates += _split_files(Path(root) / path.name, path.name, split)
                candidates += _split_files(root, path.name, split)
    for candidate in candidates:
        if candidate.is_file():
            return _load_file(candidate)
    tried += [str(c) for c in candidates]
    raise FileNotFoundError(
        f"name_or_path: dataset {str(name_or_path)!r} ({split}) not found; tried " + "; ".join(tried)
    )
