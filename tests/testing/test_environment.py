"""Missing outside programs: a skip with its reason, or a failure under
OUTLAYER_REQUIRE_ALL=1 (what CI sets so that a broken setup cannot pass as skips)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from outlayer.testing.environment import REQUIRE_ALL, missing, require_all

ROOT = Path(__file__).resolve().parents[2]
NEEDS = '''
import pytest
from outlayer.testing.environment import missing

@pytest.fixture(scope="module", autouse=True)
def _tool():
    missing("frobnicator is not installed")

def test_uses_it():
    pass
'''


def _run(tmp_path: Path, value: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_needs.py").write_text(NEEDS)
    env = {k: v for k, v in os.environ.items() if k != REQUIRE_ALL}
    if value is not None:
        env[REQUIRE_ALL] = value
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           str(tmp_path / "test_needs.py")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_missing_program_skips_with_its_reason(tmp_path: Path) -> None:
    run = _run(tmp_path, None)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 skipped" in run.stdout and "frobnicator is not installed" in run.stdout


def test_missing_program_fails_when_everything_is_required(tmp_path: Path) -> None:
    run = _run(tmp_path, "1")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "skipped" not in run.stdout and "1 error" in run.stdout
    assert "frobnicator is not installed (OUTLAYER_REQUIRE_ALL=1 requires it)" in run.stdout


@pytest.mark.parametrize(("value", "required"), [(None, False), ("0", False), ("", False),
                                                 ("1", True), (" 1 ", True)])
def test_require_all_reads_the_variable(monkeypatch: pytest.MonkeyPatch, value: str | None,
                                        required: bool) -> None:
    if value is None:
        monkeypatch.delenv(REQUIRE_ALL, raising=False)
    else:
        monkeypatch.setenv(REQUIRE_ALL, value)
    assert require_all() is required
    with pytest.raises(pytest.fail.Exception if required else pytest.skip.Exception):
        missing("x")
