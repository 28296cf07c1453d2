"""The command line of every experiment script: flags from a dataclass, and one-line errors.

A script reads top to bottom (cleanrl style)::

    @dataclasses.dataclass
    class Args:
        seed: int = field(1, "seed of everything")
        ...

    def check(args):                       # every flag checked before anything is written
        if args.num_pairs < 1:
            fail("--num-pairs", f"must be >= 1; got {args.num_pairs}")
        with blame("--metric"):            # a library validator's ValueError/TypeError, blamed on a flag
            check_metric(args.metric)

    @cli_main
    def main(argv=None):
        args = parse_args(Args, argv, description=__doc__, validate=check)
        seed_everything(args.seed)
        with blame("--pairs"):             # inputs that need loading: still before the run folder
            source = as_pair_source(args.pairs)
        run_dir = checked_run_dir("my_experiment", run_name(args.env_id, "my_exp", args.seed), args.out_dir)
        write_config(run_dir, args)        # every file goes through dtwrl.runs (atomic)
        ...

(``seed_everything``, ``checked_run_dir``, ``run_name`` and ``write_config`` are in
:mod:`experiments.run_folders`.)

Command-line errors
-------------------
One mechanism reports every bad flag, from argparse, from ``validate`` or from
later in ``main``, as ONE line on stderr, ``error: --flag: message``, and exits
with status 2 (argparse's convention), without a traceback:

- :class:`CLIError` (raise it with :func:`fail`) names the flag and what is wrong;
- :func:`blame` turns a library ``ValueError``/``TypeError`` into a ``CLIError``
  for a flag, so that scripts reuse the library's validators instead of copying them;
- :func:`parse_args` reports argparse's own errors (``invalid int value``, a
  missing required flag) in the same one-line form and runs ``validate(args)``;
- :func:`cli_main` wraps a script's ``main`` so that a ``CLIError`` raised
  anywhere in it (e.g. while loading ``--pairs``) is reported the same way;
- :func:`experiments.run_folders.checked_run_dir` creates the run folder, refusing
  an ``--out-dir`` that is a file or not writable; call it only after every check,
  so a refused run leaves nothing behind.

Why not tyro
------------
tyro (cleanrl's choice) also derives a CLI from a config dataclass, which :func:`parse_args`
already does from the same ``field(default, help)`` metadata the library's configs carry. Tried
here (tyro 1.0.17, 2026-12-05) on a two-field dataclass: ``--num-pairs x`` prints a 9-line
boxed panel and a misspelt flag an 11-line one, not the one line above; keeping the contract
would mean catching and reformatting its errors, and it adds ``docstring_parser`` and
``typeguard`` to the pinned set for no flag we cannot express now. So it is not adopted.
"""

import argparse
import contextlib
import dataclasses
import functools
import sys
import types
import typing

from agents.fields import field  # noqa: F401 (the one field(default, help) of every config and script)

__all__ = [
    "CLIError",
    "blame",
    "cli_main",
    "config_error_line",
    "fail",
    "field",
    "flag_of",
    "parse_args",
    "require_at_least",
    "require_fraction",
    "run_script",
    "table_main",
]


class CLIError(Exception):
    """A bad command-line value: ``flag`` (``"--radii"``) and what is wrong with it.

    ``str(error)`` is ``"--flag: message"``; :func:`cli_main` and :func:`parse_args`
    print it as ``error: --flag: message`` and exit with status 2.

    >>> str(CLIError("--radii", "must be >= 1; got 0"))
    '--radii: must be >= 1; got 0'
    """

    def __init__(self, flag: str, message: str):
        super().__init__(f"{flag}: {message}")
        self.flag = flag
        self.message = message


def fail(flag: str, message: str) -> typing.NoReturn:
    """Raise :class:`CLIError` for ``flag``.

    >>> fail("--metric", "unknown local cost 'nope'")
    Traceback (most recent call last):
    ...
    experiments.cli.CLIError: --metric: unknown local cost 'nope'
    """
    raise CLIError(flag, message)


def flag_of(name: str) -> str:
    """The command-line flag of an ``Args`` field.

    >>> flag_of("max_train")
    '--max-train'
    """
    return "--" + name.replace("_", "-")


def require_at_least(args, minimum, *names) -> None:
    """:func:`fail` for the first field of ``names`` whose value in ``args`` is below ``minimum``.

    >>> import types
    >>> require_at_least(types.SimpleNamespace(epochs=3, max_train=0), 1, "epochs", "max_train")
    Traceback (most recent call last):
    ...
    experiments.cli.CLIError: --max-train: must be >= 1; got 0
    """
    for name in names:
        if getattr(args, name) < minimum:
            fail(flag_of(name), f"must be >= {minimum}; got {getattr(args, name)}")


def require_fraction(args, *names) -> None:
    """:func:`fail` for the first field of ``names`` whose value in ``args`` is not in (0, 1) (nan included).

    >>> import types
    >>> require_fraction(types.SimpleNamespace(validation_split=float("nan")), "validation_split")
    Traceback (most recent call last):
    ...
    experiments.cli.CLIError: --validation-split: must be in (0, 1); got nan
    """
    for name in names:
        if not 0.0 < getattr(args, name) < 1.0:  # also refuses nan
            fail(flag_of(name), f"must be in (0, 1); got {getattr(args, name)}")


@contextlib.contextmanager
def blame(flag: str):
    """Turn a ``ValueError``/``TypeError`` raised inside the block into a :class:`CLIError` for ``flag``.

    >>> from dtwrl.validation import check_metric
    >>> with blame("--metric"):
    ...     check_metric("nope")
    Traceback (most recent call last):
    ...
    experiments.cli.CLIError: --metric: metric must be one of 'sqeuclidean', 'euclidean', 'abs'; got 'nope'
    """
    try:
        yield
    except CLIError:
        raise
    except (ValueError, TypeError) as error:
        raise CLIError(flag, str(error)) from None


def _exit_with(error: CLIError) -> typing.NoReturn:
    """Print ``error: --flag: message`` (one line) on stderr and exit with status 2."""
    message = " ".join(str(error).split())  # one line, whatever the library message held
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def config_error_line(error: Exception, names) -> str:
    """``error: --flag: message`` for a config's validation error, the flag being the field it names.

    The field is the error's own (``agents.fields.FieldError``) or, for the
    loaders' errors, the field of ``names`` its message starts with
    (``agents.training.config.flag_of_error``); the message is kept on one line.

    >>> from agents.fields import FieldError
    >>> config_error_line(FieldError("bc_detour", "must be in [0, 1); got 1.5"), [])
    'error: --bc-detour: bc_detour must be in [0, 1); got 1.5'
    >>> config_error_line(ValueError("init_from: 'x' is not a run folder"), ["init_from"])
    "error: --init-from: 'x' is not a run folder"
    """
    from agents.training.config import flag_of_error

    name = flag_of_error(error, list(names))
    message = " ".join(str(error).split())
    if name is None:
        return f"error: {message}"
    return f"error: {flag_of(name)}: {message.removeprefix(f'{name}: ')}"


def cli_main(main):
    """Decorate a script's ``main(argv=None)``: a :class:`CLIError` becomes one stderr line and exit status 2.

    >>> @cli_main
    ... def main(argv=None):
    ...     fail("--seed", "must be >= 0; got -1")
    >>> import contextlib, io
    >>> with contextlib.redirect_stderr(io.StringIO()) as err:
    ...     try:
    ...         main([])
    ...     except SystemExit as stop:
    ...         print(stop.code, err.getvalue().strip())
    2 error: --seed: must be >= 0; got -1
    """

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except CLIError as error:
            _exit_with(error)

    return wrapper


def table_main(args_class, run, description, validate=None):
    """The ``main(argv=None)`` of a script that prints one table: parse ``args_class`` (checked by ``validate``),
    ``text = run(args)``, print ``text`` and return it; bad flags exit as :func:`cli_main` says.

    >>> import dataclasses
    >>> @dataclasses.dataclass
    ... class Args:
    ...     rows: int = field(2, "rows")
    >>> main = table_main(Args, lambda args: "| n |" * args.rows, "Print a table.")
    >>> _ = main(["--rows", "2"])
    | n || n |
    """

    @cli_main
    def main(argv=None):
        text = run(parse_args(args_class, argv, description=description, validate=validate))
        print(text)
        return text

    return main


def run_script(main):
    """Run ``main()`` as ``python script.py`` does: a ``ValueError`` becomes ``error: message`` on stderr, exit 2.

    For scripts whose ``main`` lets the library's own ``ValueError`` (which names
    the argument) reach the top; :func:`cli_main` is the form that blames a flag.

    >>> def main():
    ...     raise ValueError("lookahead must be 'none' or SxD rows; got 'x'")
    >>> import contextlib, io
    >>> with contextlib.redirect_stderr(io.StringIO()) as err:
    ...     try:
    ...         run_script(main)
    ...     except SystemExit as stop:
    ...         print(stop.code, err.getvalue().strip())
    2 error: lookahead must be 'none' or SxD rows; got 'x'
    """
    try:
        main()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


class OneLineParser(argparse.ArgumentParser):
    """argparse, with its errors reported as ``error: --flag: message`` (no usage block), status 2.

    For the scripts that declare their flags with argparse itself (the benchmarks); the others use
    :func:`parse_args`, which builds one.
    """

    def error(self, message):
        flag = "arguments"
        if message.startswith("argument "):
            flag, _, message = message[len("argument ") :].partition(": ")
            flag = flag.split("/")[0]  # "--fast/--no-fast" -> "--fast"
        elif message.startswith("the following arguments are required: "):
            flag, message = message.split(": ", 1)[1], "is required"
        elif message.startswith("unrecognized arguments: "):
            flag, message = message.split(": ", 1)[1].split()[0], f"unrecognized argument (see {self.prog} --help)"
        _exit_with(CLIError(flag, message))


def _unwrap_optional(annotation):
    """``int | None`` -> (int, True); ``int`` -> (int, False); ``str | float`` -> (converter, False)."""
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return annotation, False
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    optional = len(args) < len(typing.get_args(annotation))
    if len(args) == 1:
        return args[0], optional
    return _first_that_parses(args), optional


def _first_that_parses(kinds):
    """A converter trying each type in turn, ``str`` last (``str | float``: "0.5" -> 0.5, "pair" -> "pair")."""
    ordered = sorted(kinds, key=lambda kind: kind is str)

    def convert(text):
        for kind in ordered:
            try:
                return kind(text)
            except ValueError:
                continue
        raise argparse.ArgumentTypeError(f"{text!r} is none of {[k.__name__ for k in kinds]}")

    convert.__name__ = " or ".join(kind.__name__ for kind in kinds)
    return convert


def _none_or(kind):
    def convert(text):
        return None if text.lower() == "none" else kind(text)

    convert.__name__ = kind.__name__
    return convert


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keeps the description's own lines (usage examples stay one per line) and shows each flag's default."""


def parse_args(cls, argv=None, description=None, validate=None):
    """Parse command-line arguments into the dataclass ``cls``.

    Every field becomes ``--field-name`` with its metadata ``help`` line and its
    default. ``bool`` fields get ``--flag/--no-flag``; ``tuple[int, ...]``
    fields take several values; ``X | None`` fields also accept ``none``.

    A value argparse cannot convert, an unknown flag, or a :class:`CLIError`
    raised by ``validate`` is printed as one line, ``error: --flag: message``,
    and the process exits with status 2 (``SystemExit(2)``).

    Parameters
    ----------
    cls : dataclass type
    argv : list of str or None
        None reads ``sys.argv[1:]``.
    description : str or None
    validate : callable or None
        ``validate(args)`` checks the parsed values before the script does
        anything; it raises :class:`CLIError` (see :func:`fail`, :func:`blame`).

    Returns
    -------
    An instance of ``cls``.

    Examples
    --------
    >>> @dataclasses.dataclass
    ... class Args:
    ...     seed: int = field(1, "random seed")
    ...     hidden: tuple[int, ...] = field((8,), "layer sizes")
    ...     fast: bool = field(False, "go fast")
    >>> parse_args(Args, ["--seed", "3", "--hidden", "4", "4", "--fast"])
    Args(seed=3, hidden=(4, 4), fast=True)
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"cls must be a dataclass type; got {cls!r}")
    parser = OneLineParser(description=description, formatter_class=_HelpFormatter)
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        flag = flag_of(f.name)
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        kind, optional = _unwrap_optional(hints[f.name])
        help_text = f.metadata.get("help", "").replace("%", "%%")  # argparse formats help with %
        if kind is bool:
            parser.add_argument(
                flag, dest=f.name, action=argparse.BooleanOptionalAction, default=default, help=help_text
            )
        elif typing.get_origin(kind) is tuple:
            item = typing.get_args(kind)[0]
            parser.add_argument(flag, dest=f.name, nargs="+", type=item, default=default, help=help_text)
        else:
            convert = _none_or(kind) if optional else kind
            parser.add_argument(flag, dest=f.name, type=convert, default=default, help=help_text)
    namespace = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    values = vars(namespace)
    for f in dataclasses.fields(cls):
        if isinstance(values[f.name], list):
            values[f.name] = tuple(values[f.name])
    args = cls(**values)
    if validate is not None:
        try:
            validate(args)
        except CLIError as error:
            _exit_with(error)
    return args
