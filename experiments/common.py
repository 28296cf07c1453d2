"""Helpers every experiment script shares: arguments, run folders, seeding, progress bars.

A script reads top to bottom (cleanrl style)::

    @dataclasses.dataclass
    class Args:
        seed: int = field(1, "seed of everything")
        ...

    def main(argv=None):
        args = parse_args(Args, argv, description=__doc__)
        seed_everything(args.seed)
        run_dir = make_run_dir("my_experiment", run_name(args.env_id, "my_exp", args.seed))
        write_config(run_dir, args)
        ...

Run folders are ``results/<experiment>/<run-name>/`` with the run name
``{env}__{exp}__{seed}__{time}``.
"""
import argparse
import dataclasses
import random
import sys
import types
import typing
from datetime import datetime
from pathlib import Path

import numpy as np

from dtwrl import runs
from dtwrl.runs import to_jsonable, write_json

__all__ = [
    "field",
    "make_run_dir",
    "parse_args",
    "progress",
    "run_name",
    "seed_everything",
    "tensorboard_command",
    "to_jsonable",
    "write_config",
    "write_json",
]


def field(default, help):
    """A dataclass field with a help line; mutable defaults (lists, tuples) are copied per instance.

    >>> @dataclasses.dataclass
    ... class Args:
    ...     sizes: tuple = field((64, 64), "hidden sizes")
    >>> Args().sizes
    (64, 64)
    """
    if isinstance(default, (list, dict, set, tuple)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata={"help": help})
    return dataclasses.field(default=default, metadata={"help": help})


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


def parse_args(cls, argv=None, description=None):
    """Parse command-line arguments into the dataclass ``cls``.

    Every field becomes ``--field-name`` with its metadata ``help`` line and its
    default. ``bool`` fields get ``--flag/--no-flag``; ``tuple[int, ...]``
    fields take several values; ``X | None`` fields also accept ``none``.

    Parameters
    ----------
    cls : dataclass type
    argv : list of str or None
        None reads ``sys.argv[1:]``.
    description : str or None

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
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        flag = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        kind, optional = _unwrap_optional(hints[f.name])
        help_text = f.metadata.get("help", "")
        if kind is bool:
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=default, help=help_text)
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
    return cls(**values)


def run_name(env_id, exp_name, seed, when=None):
    """``{env}__{exp}__{seed}__{time}``; a namespaced id keeps its last part.

    >>> from datetime import datetime
    >>> run_name("dtwrl/SyntheticWarp-v0", "ppo", 1, when=datetime(2026, 11, 26, 10, 30))
    'SyntheticWarp-v0__ppo__1__20261126-103000'
    """
    when = datetime.now() if when is None else when
    return f"{env_id.split('/')[-1]}__{exp_name}__{seed}__{when.strftime('%Y%m%d-%H%M%S')}"


def make_run_dir(experiment, name, root="results"):
    """Create (if needed) and return ``<root>/<experiment>/<name>/`` with its ``figures/``.

    Call it only after every argument is validated: a refused run leaves no folder.
    """
    return runs.make_run_dir(root, experiment, name)


def write_config(run_dir, config):
    """Write a dataclass or dict to ``<run_dir>/config.json`` (atomically)."""
    return write_json(Path(run_dir) / "config.json", config)


def seed_everything(seed):
    """Seed Python's ``random``, NumPy's global generator and TensorFlow (if imported); return a Generator.

    >>> int(seed_everything(0).integers(10)) == int(np.random.default_rng(0).integers(10))
    True
    """
    random.seed(seed)
    np.random.seed(seed)
    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(seed)
    return np.random.default_rng(seed)


def progress(total, initial=0, desc=None, unit="step"):
    """A progress bar that can start mid-way (``initial``): ``dtwrl.progress.progress_bar`` (a few lines in a log)."""
    from dtwrl.progress import progress_bar

    return progress_bar(total, desc or "", initial=initial, unit=unit)


def tensorboard_command(logdir):
    """The shell line that watches ``logdir`` in TensorBoard."""
    return f"tensorboard --logdir {logdir}"
