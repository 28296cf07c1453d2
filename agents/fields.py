"""Config dataclass fields: ``field(default, help)``, the int/real checks, and the error that names its field.

Every config of the package (``AlignerConfig``, ``ImitationConfig``,
``DistributedOptions``, ``ComparisonConfig``) declares its fields with
:func:`field` (the help line is what ``experiments.cli.parse_args`` shows)
and checks them with :func:`check_int` / :func:`check_real`, which raise a
:class:`FieldError` carrying the field's name. That name, not the message text,
is what a script turns into ``error: --flag-name: ...`` (:func:`field_of_error`).

>>> import dataclasses
>>> @dataclasses.dataclass
... class Budget:
...     steps: int = field(10, "steps to run")
...     def __post_init__(self):
...         check_int(self, "steps", 1)
>>> try:
...     Budget(steps=0)
... except FieldError as error:
...     print(error.field, "|", error)
steps | steps must be >= 1; got 0
>>> try:
...     Budget(steps="ten")
... except TypeError as error:
...     print(error.field, "|", error)
steps | steps must be an int; got 'ten'
"""

import dataclasses
import math
import numbers
from typing import Any


class FieldError(ValueError):
    """A bad value of the config field ``field``; ``message`` says what is wrong (``str``: ``"<field> <message>"``)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field} {message}")
        self.field = field
        self.message = message


class FieldTypeError(FieldError, TypeError):
    """A value of the wrong type for the config field ``field`` (both a ``TypeError`` and a :class:`FieldError`)."""


def field(default: Any, help: str) -> Any:
    """A dataclass field with a ``help`` line; a list, tuple, dict or set default is copied for each instance."""
    if isinstance(default, (list, tuple, dict, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata={"help": help})
    return dataclasses.field(default=default, metadata={"help": help})


def is_int(value) -> bool:
    """An integer that is not a bool (NumPy integers included, NumPy bools not)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and type(value).__name__ != "bool_"


def check_int(config, name: str, minimum: int, maximum: int | None = None) -> None:
    """Check ``config.<name>`` is an int in ``[minimum, maximum]`` and store it as a Python int."""
    value = getattr(config, name)
    if not is_int(value):
        raise FieldTypeError(name, f"must be an int; got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise FieldError(name, f"must be {bound}; got {value}")
    object.__setattr__(config, name, int(value))


def check_real(config, name: str, low: float, high: float = math.inf, low_open=False, high_open=False) -> None:
    """Check ``config.<name>`` is a finite real in the interval and store it as a Python float."""
    value = getattr(config, name)
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or type(value).__name__ == "bool_":
        raise FieldTypeError(name, f"must be a real number; got {value!r}")
    value = float(value)
    inside = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not math.isfinite(value) or not inside:
        if high == math.inf:
            bound = f"> {low}" if low_open else f">= {low}"
            raise FieldError(name, f"must be finite and {bound}; got {value}")
        bound = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise FieldError(name, f"must be in {bound}; got {value}")
    object.__setattr__(config, name, value)


def field_of_error(error: Exception) -> str | None:
    """The config field an error is about (a :class:`FieldError`'s ``field``), else None.

    >>> field_of_error(FieldError("bc_detour", "must be in [0, 1); got 1.5")), field_of_error(ValueError("x"))
    ('bc_detour', None)
    """
    return getattr(error, "field", None) if isinstance(error, FieldError) else None
