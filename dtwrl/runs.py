"""Run folders and the files in them, written atomically.

Every file a run writes (``config.json``, ``metrics.json``/``.csv``,
``table.md``, ``eval*.json``, figures) goes through this module, so that a
crash or a SIGKILL mid-write leaves either the old file or the new one, never
a torn one: each writer fills a temporary file in the same folder, flushes it
to disk and then ``os.replace``-s it over the target.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> path = write_json(folder / "metrics.json", {"ratio": np.float64(1.5)})
>>> read_json(path)
{'ratio': 1.5}
>>> print(markdown_table(["method", "ratio"], [["exact DTW", "1.000"]]))
| method | ratio |
|---|---|
| exact DTW | 1.000 |
"""

import csv
import dataclasses
import io
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "make_run_dir",
    "markdown_table",
    "read_json",
    "save_figure",
    "to_jsonable",
    "write_csv",
    "write_json",
]


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, ``os.replace``); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def to_jsonable(value: Any) -> Any:
    """Dataclasses, paths, tuples and NumPy scalars/arrays as plain JSON values.

    >>> to_jsonable({"sizes": (64, 64), "lr": np.float32(0.5)})
    {'sizes': [64, 64], 'lr': 0.5}
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def write_json(path: str | os.PathLike, payload: Any) -> Path:
    """Write ``payload`` as indented JSON, atomically; returns the path.

    Non-finite floats are refused (``ValueError``), since JSON has no NaN or inf.
    """
    try:
        text = json.dumps(to_jsonable(payload), indent=2, allow_nan=False)
    except ValueError as error:
        raise ValueError(f"{Path(path).name}: refusing to write a non-finite number ({error})") from None
    return atomic_write_text(path, text + "\n")


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file written by :func:`write_json`."""
    return json.loads(Path(path).read_text())


def write_csv(path: str | os.PathLike, rows: Sequence[dict]) -> Path:
    """Write a list of dicts (the first row's keys, in order) as CSV, atomically; returns the path."""
    if not rows:
        raise ValueError("rows: nothing to write")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(to_jsonable(list(rows)))
    return atomic_write_text(path, buffer.getvalue())


def save_figure(figure: Any, path: str | os.PathLike, **savefig_kwargs: Any) -> Path:
    """Save a Matplotlib figure atomically (PNG unless ``format`` says otherwise); returns the path."""
    path = Path(path)
    buffer = io.BytesIO()
    savefig_kwargs.setdefault("format", path.suffix.lstrip(".") or "png")
    figure.savefig(buffer, **savefig_kwargs)
    return atomic_write_bytes(path, buffer.getvalue())


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None) -> str:
    """A GitHub markdown table: one header row, then one row per item of ``rows``.

    Parameters
    ----------
    header : sequence of str
        Column titles.
    rows : iterable of sequences
        Cells, already formatted (anything else goes through ``str``).
    align : str or None
        One character per column, ``"l"`` or ``"r"``; None leaves alignment to the viewer.

    >>> print(markdown_table(["n", "ms"], [[10, "0.5"]], align="rr"))
    | n | ms |
    |---:|---:|
    | 10 | 0.5 |
    """
    header = [str(h) for h in header]
    if align is not None and (len(align) != len(header) or set(align) - {"l", "r"}):
        raise ValueError(f"align: expected one of 'l'/'r' per column ({len(header)}); got {align!r}")
    rule = ["---" if align is None else ("---:" if a == "r" else "---") for a in (align or header)]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    for row in rows:
        cells = [str(cell) for cell in row]
        if len(cells) != len(header):
            raise ValueError(f"rows: a row has {len(cells)} cells for {len(header)} columns")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def make_run_dir(root: str | os.PathLike, experiment: str, name: str) -> Path:
    """Create ``<root>/<experiment>/<name>/`` with its ``figures/`` and return it.

    Call it only once every input is validated, so that a refused run leaves
    no folder behind.
    """
    run_dir = Path(root) / experiment / name
    (run_dir / "figures").mkdir(parents=True, exist_ok=True)
    return run_dir
