"""near-workspaces (npm), unmodified, runs ava suites (tests/clients/workspaces) on OutLayer:

- its "custom" network against one live `outlayer serve` (`outlayer.mjs` makes the Worker),
  with OutLayer's JS contracts and a near-sdk-js bundle;
- its default "sandbox" network, untouched, whose near-sandbox binary is OutLayer's
  shim (`outlayer workspaces-shim DIR`: one `outlayer serve` per Worker).

Neither may reach for the real near-sandbox: HOME is a fresh folder, and near-sandbox's
install folder under it must stay absent."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from outlayer import near_sandbox
from outlayer.host.engine import cache_root
from outlayer.sdkjs import bundler
from outlayer.testing.environment import missing
from outlayer.testing.live import outlayer_command
from tests.service.live import live_node

ROOT = Path(__file__).parents[2]
SUITE = ROOT / "tests" / "clients" / "workspaces"
AVA = SUITE / "node_modules" / "ava" / "entrypoints" / "cli.mjs"
#: a TAP line of one passed ava test: "ok 3 - <title>" ("<file> › <title>" for several files)
_PASSED = re.compile(r"^ok \d+ - (.+)$", re.MULTILINE)
#: a test of a suite: `test("<title>"` at the start of a line
_DECLARED = re.compile(r"""^test\(\s*"([^"]+)\"""", re.MULTILINE)


@pytest.fixture
def suite() -> Path:
    """Skip without Node.js or the npm folder (fail under OUTLAYER_REQUIRE_ALL=1)."""
    if shutil.which("node") is None:
        missing("Node.js (`node`) is not on PATH: install it to run near-workspaces")
    for package in ("near-workspaces", "ava", "near-api-js"):
        if not (SUITE / "node_modules" / package / "package.json").is_file():
            missing(f"{package} is not installed in {SUITE}: run scripts/setup_npm.sh")
    return SUITE


def _titles(path: Path, prefix: str = "") -> set[str]:
    return {prefix + title for title in _DECLARED.findall(path.read_text())}


def _ava(args: list[str], env: dict[str, str], home: Path) -> set[str]:
    """Run ava (TAP output) in the suite folder; the names of the tests that passed."""
    home.mkdir()
    run = subprocess.run(["node", str(AVA), "--tap", *args], cwd=SUITE,
                         env={**os.environ, **env, "HOME": str(home),
                              "NEAR_WORKSPACES_NO_LOGS": "1"},
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-4000:]
    assert not (home / ".near").exists(), "near-workspaces reached for a near-sandbox binary"
    return set(_PASSED.findall(run.stdout))


def test_custom_network_suites_pass_against_outlayer_serve(suite, tmp_path):
    try:
        sdk_counter = bundler.build(ROOT / "examples" / "sdkjs" / "counter.ts")
    except bundler.BuildError as exc:
        missing(f"the near-sdk-js counter cannot be built: {exc}")
    bundle = tmp_path / "sdk_counter.js"
    bundler.write_bundle(sdk_counter, bundle)
    (tmp_path / "node").mkdir()
    with live_node(tmp_path / "node") as node:
        passed = _ava([], {"OUTLAYER_RPC": node.url, "OUTLAYER_ROOT_KEY": str(node.key_file),
                           "OUTLAYER_SDKJS_COUNTER": str(bundle)}, tmp_path / "home")
    declared: set[str] = set()
    for path in suite.glob("*.test.mjs"):
        declared |= _titles(path, f"{path.name.removesuffix('.test.mjs')} › ")
    assert len(declared) >= 17
    assert passed == declared


def test_sandbox_network_runs_outlayer_serve_as_near_sandbox(suite, tmp_path):
    template = suite / "sandbox" / "template.test.mjs"
    shim_dir = tmp_path / "bin"
    made = subprocess.run([outlayer_command(), "workspaces-shim", str(shim_dir)],
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    assert "NEAR_SANDBOX_BINARY_PATH=" in made.stdout  # it says how to use it
    passed = _ava([str(template.relative_to(suite))],
                  {**near_sandbox.environment(shim_dir), "OUTLAYER_CACHE": str(cache_root()),
                   "TMPDIR": str(tmp_path)}, tmp_path / "home")
    assert passed == _titles(template)
    # one Worker, one OutLayer node: each test's home holds a chain of its own
    homes = sorted((tmp_path / "sandbox").iterdir())
    assert len(homes) == len(passed)
    for home in homes:
        assert (home / ".outlayer" / "state.db").is_file()
        assert (home / "validator_key.json").resolve().is_file()
