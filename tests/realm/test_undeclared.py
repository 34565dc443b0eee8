"""Undeclared names: found at deploy by the transform's scope analysis, a ReferenceError
when used (SES alone reads them as `undefined`), with no false alarm on real code."""

from __future__ import annotations

import pathlib
import re

import pytest

from outlayer.chain.simulator import ContractSimulator
from outlayer.js.executor import QuickJSExecutor
from outlayer.realm import npm, transform
from outlayer.realm.transform import to_compartment_script
from outlayer.sdkjs import bundler
from outlayer.testing.environment import missing

ROOT = pathlib.Path(__file__).resolve().parents[2]


def undeclared(source: str) -> tuple[str, ...]:
    return to_compartment_script(source).undeclared


# ---------------------------------------------------------------- the scope analysis

DECLARED = {
    "hoisted var and function": """
        export function f() { g(); x = 1; { var x; } return h; function g() {} }
        var h = 1;""",
    "let, const, class per block": """
        export function f() { { let a = 1; const b = 2; class C {} return [a, b, C]; } }""",
    "parameters with defaults and patterns": """
        export function f(a, { b, c: [d] = [a] }, ...rest) { return [a, b, d, rest]; }
        export const g = (x, y = x) => x + y;""",
    "catch clause": "export function f() { try {} catch ({ message: m }) { return m; } }",
    "named function and class expressions": """
        export const f = function self_(n) { return n ? self_(n - 1) : 0; };
        export const K = class Named { m() { return Named; } };""",
    "arguments in functions": "export function f() { return arguments.length; }",
    "loops": """
        export function f(o) {
          for (let i = 0; i < 1; i++) i;
          for (const k in o) k;
          for (var v of [1]) v;
          return v;
        }""",
    "switch cases share a scope": """
        export function f(x) { switch (x) { case 1: let y = 2; default: return y; } }""",
    "labels are not names": "export function f() { out: for (;;) { break out; } }",
    "properties, methods and keys are not references": """
        export const o = { a: 1, b() { return this.a; }, get c() { return 1; } };
        export class P { field = 1; #secret = 2; static s = 3; m() { return this.#secret; } }
        export function f(x) { return x.someProperty + x?.other; }""",
    "static blocks": "export class S { static { var inner = 1; S.v = inner; } }",
    "globals and endowments": """
        export function f() {
          near.log(JSON.stringify([Math.max(1), new Date(0), globalThis, undefined, NaN]));
          return [console, harden, BigInt, Promise, Symbol, Reflect, Proxy, queueMicrotask];
        }""",
    "exports of local names": "function a() {} const b = 1; export { a, b as c };",
}


@pytest.mark.parametrize("source", DECLARED.values(), ids=list(DECLARED))
def test_declared_and_global_names_are_not_undeclared(source: str) -> None:
    assert undeclared(source) == ()


UNDECLARED = {
    "a call of a typo": ("export function f(x) { return requier(x); }", ("requier",)),
    "a write": ("export function f() { total = 1; }", ("total",)),
    "in a default parameter": ("export function f(a = fallback) { return a; }", ("fallback",)),
    "outside the block that declares it": (
        "export function f() { { let inner = 1; } return inner; }", ("inner",)),
    "shorthand property": ("export function f() { return { shorthand }; }", ("shorthand",)),
    "computed key and spread": (
        "export function f() { return { [k1]: 1, ...s1 }; }", ("k1", "s1")),
    "destructuring assignment target": (
        "export function f() { [t1, { p: t2 }] = [1, { p: 2 }]; }", ("t1", "t2")),
    "class heritage and tagged template": (
        "export class A extends Base {} export const s = tag`x`;", ("Base", "tag")),
    "a class name outside its expression": (
        "export const K = class Inner {}; export function f() { return Inner; }", ("Inner",)),
    "sorted, each once": ("export function f() { return [zz, aa, zz, mm]; }",
                          ("aa", "mm", "zz")),
}


@pytest.mark.parametrize(("source", "names"), UNDECLARED.values(), ids=list(UNDECLARED))
def test_undeclared_names_are_found(source: str, names: tuple[str, ...]) -> None:
    assert undeclared(source) == names


def test_names_guarded_by_typeof_or_written_as_properties_are_left_to_ses() -> None:
    source = """
        export function f() {
          globalThis.installed = 1;
          (0, Function)('globalThis.fromCode = 2')();
          return [typeof window, installed, fromCode, typeof guarded, guarded, typo];
        }"""
    assert undeclared(source) == ("typo",)


@pytest.mark.parametrize("use", [
    "globalThis['dyn' + 'Name'] = 7", "const g = globalThis; g.dynName = 7",
    "Object.defineProperty(globalThis, 'dyn' + 'Name', { value: 7 })",
    "Object.assign(self, { dynName: 7 })"])
def test_a_contract_that_can_make_any_global_gets_no_trap(use: str) -> None:
    """The global object used other than by `globalThis.name`: any name may exist at run
    time, so none is declared (SES's `undefined` for all, as before)."""
    source = f"export function f() {{ {use}; return [dynName, typo]; }}"
    assert undeclared(source) == ()
    found = transform.run_tool(source)
    assert found["open_global_object"] is True and "typo" in found["unresolved"]
    if "Object.assign" not in use:  # `self` is near-sdk-js's only
        assert QuickJSExecutor().execute_contract(source, "f").result == [7, None]


def test_names_outside_ascii_are_found() -> None:
    assert undeclared("export function f() { return été + ok_名前; }") == ("ok_名前", "été")


def test_a_long_flat_chain_does_not_exhaust_the_analysis() -> None:
    terms = " + ".join(f"v{i}" for i in range(600))
    assert len(undeclared(f"export function f() {{ return {terms}; }}")) == 600


# ------------------------------------------------------------------ in a running call


def test_reading_an_undeclared_name_is_a_reference_error_naming_it() -> None:
    src = """export function f() {
      try { return ['no error', someUndeclaredName]; } catch (e) { return [e.name, e.message]; }
    }
    export function g() { return requier('x'); }
    export function h() { return [typeof window, typeof notThere]; }"""
    executor = QuickJSExecutor()
    caught = executor.execute_contract(src, "f")
    assert caught.ok, caught.error
    assert caught.result[0] == "ReferenceError"
    assert "someUndeclaredName" in caught.result[1]
    uncaught = executor.execute_contract(src, "g")
    assert uncaught.error is not None
    assert "ReferenceError: requier is not" in uncaught.error["message"]
    assert "contract.js:4:" in uncaught.error["message"]  # where it was used
    assert executor.execute_contract(src, "h").result == ["undefined", "undefined"]


def test_deploy_warns_and_a_transaction_fails_where_the_name_is_used() -> None:
    sim = ContractSimulator(db_path=":memory:")
    src = "export function f() {\n  near.log('before');\n  return totl + 1;\n}\n"
    info = sim.deploy("typo.test", src)
    assert info["warnings"] == ["contract.js:3:10: `totl` is declared nowhere and is not a "
                                "global: using it throws ReferenceError"]
    result = sim.call("typo.test", "f")
    assert not result.ok
    assert "ReferenceError: totl is not initialized" in result.error["message"]
    assert "contract.js:3:10" in result.error["message"]
    assert sim.state("typo.test") == {}


def test_a_global_set_at_run_time_is_still_read_by_name() -> None:
    src = """export function f() {
      globalThis.later = 41;
      return later + 1;
    }"""
    result = QuickJSExecutor().execute_contract(src, "f")
    assert result.ok and result.result == 42, result.error


# ------------------------------------------------------ no false alarm on real code


def test_acorn_itself_uses_no_undeclared_name() -> None:
    """acorn.mjs, 6,000 lines of real ES module, reads only standard globals."""
    text = npm.package_file("acorn", transform.ACORN_FILE).read_text("utf-8")
    # its strings and comments hold text SES refuses in any contract: respelled
    text = re.sub(r"\b(import|eval)(\s*\()", r"\1_\2", text)
    text = text.replace("<" + "!--", "< !--").replace("--" + ">", "-- >")
    assert undeclared(transform.acorn_module(text)) == ()


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "examples" / "sdkjs").glob("*.ts")))
def test_near_sdk_js_bundles_use_no_undeclared_name(name: str) -> None:
    """A whole near-sdk-js bundle (the SDK, lodash-es, borsh, its contract): every name it
    uses resolves (`unresolved`, before the open-global rule). It gets no trap anyway: lodash
    passes the global object around (`self`), so any global may exist at run time."""
    try:
        bundle = bundler.build(ROOT / "examples" / "sdkjs" / name)
    except bundler.BuildError as exc:
        missing(f"the near-sdk-js example cannot be built: {exc}")
    found = transform.run_tool(bundle.code.decode())
    assert found["unresolved"] == []
    assert found["open_global_object"] is True
    assert to_compartment_script(bundle.code).undeclared == ()


def test_every_name_a_compartment_global_has_is_known() -> None:
    """Each name on a contract compartment's global object (own and inherited), plus the
    near-sdk-js compartment's `env` and `self`, is left to the compartment: a new endowment
    in the realm prelude can never be turned into a ReferenceError."""
    probe = """export function names() {
      const out = new Set();
      for (let o = globalThis; o; o = Object.getPrototypeOf(o)) {
        for (const k of Reflect.ownKeys(o)) if (typeof k === 'string') out.add(k);
      }
      return [...out].sort();
    }"""
    result = QuickJSExecutor().execute_contract(probe, "names")
    assert result.ok, result.error
    names = [n for n in result.result if re.fullmatch(r"[A-Za-z_$][\w$]*", n)]
    assert {"near", "console", "harden", "JSON", "Math", "Date"} <= set(names)
    uses = ", ".join(f"() => {n}" for n in [*names, "env", "self"])
    assert undeclared(f"export const uses = [{uses}];") == ()
