"""Checks shared by the tests of the experiment scripts' command lines."""

from pathlib import Path

import pytest


def refusal(main, argv, out_dir, capsys) -> str:
    """Run ``main([*argv, "--out-dir", out_dir])`` and return the line of its refusal.

    Asserts what every script promises for a bad flag: exit status 2, ONE line on
    stderr starting ``error: ``, no traceback, and nothing created at ``out_dir``
    (every flag is checked before the run folder is made).
    """
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--out-dir", str(out_dir)])
    err = capsys.readouterr().err
    assert stop.value.code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert not Path(out_dir).exists(), "a refused run must leave no folder"
    return err.strip()
