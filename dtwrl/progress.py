"""Progress reports for long work: a tqdm bar on a terminal, a few plain lines otherwise.

When the output is a log file or a pipe, a redrawn bar would write hundreds of
carriage-return frames; :func:`progress_bar` then prints at most ``lines``
lines (every ``1/lines`` of the total, and at the end) instead.

>>> import io
>>> out = io.StringIO()
>>> with progress_bar(100, "work", unit="item", lines=2, stream=out) as bar:
...     for _ in range(4):
...         bar.update(25)
>>> print(out.getvalue().strip())  # doctest: +ELLIPSIS
work: 50/100 item (50%), ... item/s
work: 100/100 item (100%)
"""

import sys
import time
from typing import Any, TextIO


class LineProgress:
    """A tqdm-like progress report that prints one line every ``total / lines`` units.

    Parameters
    ----------
    total : int
    desc : str
    initial : int
        Units already done (a resumed run).
    unit : str
    lines : int
        Lines printed over the whole total (at most).
    stream : file-like
    """

    def __init__(
        self, total: int, desc: str, initial: int = 0, unit: str = "step", lines: int = 10, stream: TextIO | None = None
    ):
        self.total = max(int(total), 1)
        self.desc = desc
        self.n = int(initial)
        self.unit = unit
        self.stream = sys.stdout if stream is None else stream
        self.every = max(self.total / max(int(lines), 1), 1)
        self._next = (self.n // self.every + 1) * self.every
        self._postfix = ""
        self._start = time.perf_counter()
        self._initial = self.n

    def set_postfix(self, refresh: bool = False, **values: Any) -> None:
        """Values shown after the count on the next line, e.g. ``ratio="1.05"``."""
        self._postfix = ", ".join(f"{key}={value}" for key, value in values.items())

    def update(self, n: int = 1) -> None:
        """``n`` more units done; prints a line when a reporting point is passed."""
        self.n += int(n)
        if self.n >= self._next or self.n >= self.total:
            self._print()
            while self._next <= self.n:
                self._next += self.every

    def _print(self) -> None:
        elapsed = time.perf_counter() - self._start
        rate = (self.n - self._initial) / elapsed if elapsed > 0 and self.n > self._initial else None
        parts = [f"{self.desc}: {self.n}/{self.total} {self.unit} ({100 * self.n / self.total:.0f}%)"]
        if self._postfix:
            parts.append(self._postfix)
        if rate is not None and self.n < self.total:
            parts.append(f"{rate:,.0f} {self.unit}/s")
        print(", ".join(parts), file=self.stream, flush=True)

    def close(self) -> None:
        """Nothing to clear (tqdm compatibility)."""

    def __enter__(self) -> "LineProgress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def progress_bar(
    total: int,
    desc: str,
    initial: int = 0,
    unit: str = "step",
    lines: int = 10,
    stream: TextIO | None = None,
    enabled: bool = True,
) -> Any:
    """A tqdm bar when ``stream`` (default stdout) is a terminal, else a :class:`LineProgress`.

    Parameters
    ----------
    total : int
        Units of the whole job.
    desc : str
        Label at the start of the bar or line.
    initial : int
        Units already done (e.g. a resumed run's step).
    unit : str
    lines : int
        Lines printed when the stream is not a terminal.
    stream : file-like or None
        Where to report (stdout when None).
    enabled : bool
        False returns a silent reporter (same interface).

    Returns
    -------
    tqdm.tqdm or LineProgress
        Both have ``update(n)``, ``set_postfix(**values)``, ``close()`` and
        work as context managers.
    """
    stream = sys.stdout if stream is None else stream
    if not enabled:
        return LineProgress(total, desc, initial, unit, lines=0, stream=_Null())
    if getattr(stream, "isatty", lambda: False)():
        from tqdm.auto import tqdm

        return tqdm(
            total=total, initial=initial, desc=desc, unit=unit, unit_scale=True, dynamic_ncols=True, file=stream
        )
    return LineProgress(total, desc, initial, unit, lines, stream)


class _Null:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass
