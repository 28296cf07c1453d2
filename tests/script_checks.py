"""Checks shared by the tests of the experiment scripts' command lines."""

import importlib
import shlex
from pathlib import Path

import pytest


def one_line_refusal(main, argv, capsys) -> str:
    """Run ``main(argv)``; assert exit status 2 and ONE line on stderr starting ``error: ``, no traceback."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


def refusal(main, argv, out_dir, capsys) -> str:
    """Run ``main([*argv, "--out-dir", out_dir])`` and return the line of its refusal.

    Asserts what every script promises for a bad flag: exit status 2, ONE line on
    stderr starting ``error: ``, no traceback, and nothing created at ``out_dir``
    (every flag is checked before the run folder is made).
    """
    line = one_line_refusal(main, [*argv, "--out-dir", str(out_dir)], capsys)
    assert not Path(out_dir).exists(), "a refused run must leave no folder"
    return line


def out_dir_file_refusal(main, argv, tmp_path, capsys) -> str:
    """Run ``main([*argv, "--out-dir", FILE])`` where FILE is a file in ``tmp_path``; return the refusal line.

    Asserts the one-line refusal of :func:`refusal`, that it names ``--out-dir``, and that the
    file is left as it was.
    """
    blocker = tmp_path / "file"
    blocker.write_text("x")
    line = one_line_refusal(main, [*argv, "--out-dir", str(blocker)], capsys)
    assert line.startswith("error: --out-dir: "), line
    assert blocker.read_text() == "x", "a refused run must leave the file as it was"
    return line


def refusals_test(script, cases, *, common=()):
    """A test, one case per row of ``cases``, that the script refuses each command line as :func:`refusal` says.

    Parameters
    ----------
    script : str
        The script's module (``"experiments.forecast"``); imported when the test runs.
    cases : list of (str, str)
        ``(argv, message)``: ``argv`` as typed on a command line (split with :func:`shlex.split`),
        ``message`` what the refusal line says after ``error: `` (its start).
    common : sequence of str
        Arguments appended to every case's (``("--no-progress",)``).

    Returns
    -------
    function
        The parametrized test; assign it to a ``test_...`` name in the test module.
    """

    @pytest.mark.parametrize("argv, message", cases, ids=[argv for argv, _ in cases])
    def test(tmp_path, capsys, argv, message):
        main = importlib.import_module(script).main
        line = refusal(main, [*shlex.split(argv), *common], tmp_path / "out", capsys)
        assert line.startswith(f"error: {message}"), line

    return test


def one_line_refusals_test(script, cases, *, common=()):
    """A test, one case per row of ``cases``, that the script refuses each command line as :func:`one_line_refusal`
    says: for scripts without a run folder (``--out`` files, or nothing written).

    ``script``: the module name; ``cases``: ``{argv as typed: start of the message after "error: "}``;
    ``common``: arguments put before every case's. Assign the returned test to a ``test_...`` name.
    """

    @pytest.mark.parametrize("argv", list(cases))
    def test(capsys, argv):
        main = importlib.import_module(script).main
        line = one_line_refusal(main, [*common, *shlex.split(argv)], capsys)
        assert line.startswith(f"error: {cases[argv]}"), line

    return test
