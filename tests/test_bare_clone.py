"""A clone without ../shared beside it passes: the tests that read shared data skip with the reason.

The repository's files (what git tracks, plus new files it does not ignore) are copied into a
temporary folder, which has no ``shared/`` beside it, and the ``shared_data`` tests (those taking
the ``ucr_root`` fixture) run there in a subprocess with ``DTWRL_UCR_ROOT`` unset. Tests that need
a dataset without ``ucr_root`` read vendored files (dtwrl/datasets/data, tests/data).
"""

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import NO_SHARED_DATA, REPO_ROOT


def _repository_files():
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=REPO_ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the bare-clone copy needs `git ls-files`")
    return [name for name in listed.decode().split("\0") if name and (REPO_ROOT / name).is_file()]


def _shared_data_test_files():
    return sorted(
        f"tests/{path.name}"
        for path in (REPO_ROOT / "tests").glob("test_*.py")
        if re.search(r"\bucr_root\b", path.read_text())
    )


def test_shared_data_tests_skip_with_the_reason_without_shared(tmp_path):
    clone = tmp_path / "clone"
    for name in _repository_files():
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, clone / name)
    assert not (clone.parent / "shared").exists()
    files = _shared_data_test_files()
    assert files, "no test takes ucr_root"
    env = {k: v for k, v in os.environ.items() if k != "DTWRL_UCR_ROOT"}
    report = tmp_path / "report.xml"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "shared_data and not slow"]
        + ["-o", "addopts=", f"--junitxml={report}", *files],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    cases = list(ET.parse(report).getroot().iter("testcase"))
    assert cases
    for case in cases:
        assert case.find("failure") is None and case.find("error") is None, case.get("name")
        skipped = case.find("skipped")
        assert skipped is not None and NO_SHARED_DATA in skipped.get("message", ""), case.get("name")
