"""`outlayer build` (outlayer.sdkjs): near-sdk-js's bundling pipeline, its cache, its
errors, and which sources deploy builds by itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from outlayer import ContractSimulator
from outlayer.realm.transform import SDKJS_TAG
from outlayer.sdkjs import bundler, needs_build
from outlayer.sdkjs.bundler import BuildError, build
from tests.examples.support import Cli

from .support import example, ok

CONTRACT = """import { NearBindgen, call, view } from "near-sdk-js";
import { STEP } from "./step";

@NearBindgen({})
export class Stepper {
  n: number = 0;
  @call({}) step(): number { this.n += STEP; return this.n; }
  @view({}) get(): number { return this.n; }
}
"""


def make_project(folder: Path) -> Path:
    """A contract that imports a local file, in its own folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "step.ts").write_text("export const STEP: number = 2;\n")
    entry = folder / "stepper.ts"
    entry.write_text(CONTRACT)
    return entry


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project for the tests that only read it (built once, then from the cache)."""
    return make_project(tmp_path_factory.mktemp("stepper"))


def test_bundle_is_one_tagged_module_with_the_exported_methods(project: Path) -> None:
    bundle = build(project)
    text = bundle.code.decode()
    assert text.startswith(SDKJS_TAG + "\n")
    assert "import " not in text.split("\n", 1)[1].lstrip()[:7]
    assert bundle.exports == ("Stepper", "get", "step")
    assert str(project) in bundle.inputs and str(project.with_name("step.ts")) in bundle.inputs


def test_cached_until_an_imported_file_changes(tmp_path: Path, sim: ContractSimulator) -> None:
    project = make_project(tmp_path)
    first = build(project)
    again = build(project)
    assert again.cached and again.code == first.code
    project.with_name("step.ts").write_text("export const STEP: number = 10;\n")
    changed = build(project)
    assert not changed.cached and changed.code != first.code
    sim.deploy("stepper.test", project)
    assert ok(sim.call("stepper.test", "step")) == 10


def test_a_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ts"
    bad.write_text('import { near } from "near-sdk-js";\nexport function f( {\n  near.log(1);\n')
    with pytest.raises(BuildError) as info:
        build(bad)
    message = info.value.message
    assert 'bad.ts:3:7: Unexpected token, expected ","\n' in message, message
    assert "> 3 |   near.log(1);" in message  # babel's code frame


def test_an_unresolved_import_is_an_error(tmp_path: Path) -> None:
    entry = tmp_path / "needs.ts"
    entry.write_text('import { near } from "near-sdk-js";\nimport x from "no-such-package";\n'
                     "export function f() { near.log(String(x)); }\n")
    with pytest.raises(BuildError, match="cannot resolve 'no-such-package'"):
        build(entry)


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="contract file not found"):
        build(tmp_path / "nope.ts")


def test_a_missing_toolchain_says_to_run_make_setup(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundler, "TOOLCHAIN", tmp_path)
    with pytest.raises(BuildError, match="run `make setup`"):
        build(example("counter.ts"))


@pytest.mark.parametrize(("name", "code", "expected"), [
    ("c.ts", b"export function f() {}", True),
    ("c.js", b'import { near } from "near-sdk-js";', True),
    ("c.js", b"import {NearBindgen} from 'near-sdk-js/lib/near-bindgen';", True),
    ("c.js", b"export function f() { near.log('near-sdk-js'); }", False),
    ("c.js", (SDKJS_TAG + '\nimport x from "near-sdk-js";').encode(), False),
])
def test_which_sources_are_built(name: str, code: bytes, expected: bool) -> None:
    assert needs_build(Path(name), code) is expected


def test_cli_build_writes_the_bundle(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "stepper.js"
    payload = Cli(tmp_path / "state.db")("build", project, "-o", out)
    assert payload["result"]["output"] == str(out)
    assert payload["result"]["exports"] == ["Stepper", "get", "step"]
    assert out.read_bytes() == build(project).code


def test_cli_build_errors_exit_2(tmp_path: Path) -> None:
    payload = Cli(tmp_path / "state.db")("build", tmp_path / "missing.ts", code=2)
    assert payload["error"]["kind"] == "BuildError"


def test_a_built_bundle_deploys_as_it_is(project: Path, tmp_path: Path,
                                         sim: ContractSimulator) -> None:
    out = tmp_path / "bundle.js"
    out.write_bytes(build(project).code)
    sim.deploy("stepper.test", out)
    assert ok(sim.call("stepper.test", "step")) == 2
    assert ok(sim.view("stepper.test", "get")) == 2


def test_include_bytes_embeds_a_file_at_build_time(tmp_path: Path,
                                                    sim: ContractSimulator) -> None:
    """near-sdk-js's includeBytes plugin: the file's bytes become a latin1 string literal
    turned back into bytes by env.latin1_string_to_uint8array."""
    (tmp_path / "blob.bin").write_bytes(bytes([0, 1, 0xFE, 0xFF, 0x41]))
    entry = tmp_path / "embed.ts"
    entry.write_text('import { NearBindgen, view, includeBytes } from "near-sdk-js";\n'
                     '@NearBindgen({})\nexport class Embed {\n'
                     '  @view({}) blob(): number[] { return Array.from(includeBytes("blob.bin")); }\n'
                     "}\n")
    sim.deploy("embed.test", entry)
    assert ok(sim.view("embed.test", "blob")) == [0, 1, 0xFE, 0xFF, 0x41]
