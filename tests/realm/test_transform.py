"""ES module -> compartment script: export forms, positions, rejections, cache, determinism.

The transform runs in the QuickJS guest; its scripts are checked by evaluating them in
plain native QuickJS-ng (PyPI `quickjs`) and in a real SES 2.3.0 Compartment.
"""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys
from typing import Any

import pytest
import quickjs

from outlayer import errors
from outlayer.realm import npm, transform
from outlayer.realm.transform import CompartmentScript, to_compartment_script

from .support import ses_evaluate

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def _eval(cs: CompartmentScript) -> tuple[quickjs.Context, Any]:
    """The script evaluated as a plain script; the namespace is also global `ns`."""
    ctx = quickjs.Context()
    ns = ctx.eval(cs.script.decode())
    ctx.set("ns", ns)
    return ctx, ns


def _call(ctx: quickjs.Context, expr: str) -> Any:
    """`expr` evaluated in JS, its value through JSON (plain Python data)."""
    return json.loads(ctx.eval(f"JSON.stringify({expr})"))


def _error(source: str, **kw: Any) -> str:
    with pytest.raises(errors.CompileError) as info:
        to_compartment_script(source, **kw)
    return info.value.message


# --------------------------------------------------------------------------- export forms

ALL_FORMS = """\
export function inc(args) { return args.n + 1; }
export async function later(args) { return args.n * 2; }
export function* gen() { yield 1; yield 2; }
export async function* agen() { yield 3; }
export const K = 7, [first, ...rest] = [1, 2, 3], {deep: {x}, y = 'dflt'} = {deep: {x: 'x'}};
export let counter = 0;
export var v = 'v';
export class Point { constructor(x) { this.x = x; } norm() { return Math.abs(this.x); } }
function helper() { return 'h'; }
const renamed = 5;
export { helper as help, renamed as "with space", helper };
export {
  renamed as again,
};
export default function main(args) { return 'main:' + args.x; }
"""


def test_every_named_export_form() -> None:
    cs = to_compartment_script(ALL_FORMS)
    names = ["K", "Point", "again", "agen", "default", "first", "gen", "help", "helper", "inc",
             "later", "rest", "v", "with space", "x", "y", "counter"]
    assert set(cs.exports) == set(names) and len(cs.exports) == len(names)
    ctx, _ = _eval(cs)
    assert _call(ctx, "ns.inc({n: 41})") == 42
    assert _call(ctx, "[...ns.gen()]") == [1, 2]
    assert _call(ctx, "[ns.K, ns.first, ns.rest, ns.x, ns.y, ns.counter, ns.v]") == \
        [7, 1, [2, 3], "x", "dflt", 0, "v"]
    assert _call(ctx, "new ns.Point(-3).norm()") == 3
    assert _call(ctx, "[ns.help(), ns.helper(), ns['with space'], ns.again]") == ["h", "h", 5, 5]
    assert _call(ctx, "ns.default({x: 1})") == "main:1"
    assert _call(ctx, "ns.default.name") == "main"
    ctx.eval("globalThis.out = []; ns.later({n: 4}).then(v => out.push(v));"
             "ns.agen().next().then(r => out.push(r.value));")
    while ctx.execute_pending_job():
        pass
    assert _call(ctx, "out") == [8, 3]


def test_namespace_is_frozen_null_prototype_and_sorted_like_a_module_namespace() -> None:
    cs = to_compartment_script(ALL_FORMS)
    ctx, _ = _eval(cs)
    assert _call(ctx, "Object.isFrozen(ns) && Object.getPrototypeOf(ns) === null") is True
    assert _call(ctx, "Object.keys(ns)") == list(cs.exports)
    # a module namespace sorts its keys by UTF-16 code units: so do the exports
    assert list(cs.exports) == sorted(cs.exports, key=lambda s: s.encode("utf-16-be"))


@pytest.mark.parametrize(("source", "expr", "expected"), [
    ("export default function () { return 1 }\n[1].map(x => x)", "ns.default()", 1),
    ("export default async function () { return 1 }", "typeof ns.default", "function"),
    ("export default function* () { yield 5 }", "ns.default().next().value", 5),
    ("export default class { get k() { return 2 } }\n(0)", "new ns.default().k", 2),
    ("export default class Named { static s = 3 }", "ns.default.s", 3),
    ("export default (args) => args.a", "ns.default({a: 4})", 4),
    ("export default {a: 1}", "ns.default.a", 1),
    ("export /* note */ default\n  6", "ns.default", 6),
    ("export default function(){ return 7 } (1)", "ns.default()", 7),
    ("const z = 8;\nexport { z as default };", "ns.default", 8),
])
def test_default_export_forms(source: str, expr: str, expected: Any) -> None:
    cs = to_compartment_script(source)
    assert cs.exports == ("default",)
    ctx, _ = _eval(cs)
    assert _call(ctx, expr) == expected


def test_statements_end_where_they_ended_in_the_module() -> None:
    """ASI: a statement the `export` keyword ended must stay ended after the rewrite."""
    source = ("const g = () => 1\nlet a = g\nexport { a }\n(() => 0)()\n"
              "let b = g\nexport default function () { return 2 }\n[1].map(String)\n")
    ctx, _ = _eval(to_compartment_script(source))
    assert _call(ctx, "[typeof ns.a, ns.default()]") == ["function", 2]


def test_odd_export_names_and_shadowed_globals() -> None:
    source = ('const p = 1, q = 2;\nexport { p as "__proto__", q as "import(x) <!-- eval(" };\n'
              "const Object = null;\nexport function f() { return 3; }\n")
    cs = to_compartment_script(source)
    ctx, _ = _eval(cs)
    assert _call(ctx, "Object.getPrototypeOf(ns) === null && Object.isFrozen(ns)") is True
    assert _call(ctx, "[ns['__proto__'], ns['import(x) <!-- eval('], ns.f()]") == [1, 2, 3]


def test_a_contract_without_exports_is_an_empty_namespace() -> None:
    ctx, _ = _eval(to_compartment_script("const a = 1;\n"))
    assert _call(ctx, "Object.keys(ns)") == []


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.js")), ids=lambda p: p.name)
def test_examples_transform(path: pathlib.Path) -> None:
    cs = to_compartment_script(path.read_bytes(), filename=path.name)
    assert cs.exports and all(isinstance(n, str) for n in cs.exports)
    quickjs.Context().eval(cs.script.decode())  # evaluates (near is only used in calls)


# ------------------------------------------------------------------- lines and columns


POSITIONS = """\
// line 1
let import_like = 0;
export function a(args) {
  return args;
}
export function boom() {
    null.x;
}
export {
  a as b,
};
export function last() { return missing_name; }
"""


def test_every_line_keeps_its_number_and_columns() -> None:
    cs = to_compartment_script(POSITIONS)
    src_lines = POSITIONS.split("\n")
    out_lines = cs.script.decode().split("\n")
    assert out_lines[0][:cs.line1_offset] == '(function (__ol_freeze) {"use strict";'
    # then `return ...`, `})(Object.freeze)` and the final line break
    assert out_lines[len(src_lines):] == [out_lines[-3], "})(Object.freeze)", ""]
    assert out_lines[-3].startswith("return __ol_freeze({__proto__: null, ")
    for i, src in enumerate(src_lines, start=1):
        out = out_lines[i - 1][cs.line1_offset:] if i == 1 else out_lines[i - 1]
        if i == 9:  # `export { a as b, }` becomes `;` and blanks, line breaks kept
            assert out == ";" + " " * (len(src) - 1), i
        elif i in (10, 11):
            assert out == " " * len(src), i
        else:
            assert out == re.sub(r"^export\b", "      ", src), i


def test_an_error_at_line_7_column_5_is_reported_there() -> None:
    cs = to_compartment_script(POSITIONS)
    ctx, _ = _eval(cs)
    stack = ctx.eval("(() => { try { ns.boom() } catch (e) { return e.stack } })()")
    assert re.search(r"at boom \(<input>:7:5\)", stack), stack
    stack = ctx.eval("(() => { try { ns.last() } catch (e) { return e.stack } })()")
    assert re.search(r"at last \(<input>:12:33\)", stack), stack


def _frame(stack: str, fn: str) -> tuple[int, int]:
    found = re.search(rf"at {fn} \(<input>:(\d+):(\d+)\)", stack)
    assert found, stack
    return int(found.group(1)), int(found.group(2))


def test_line_1_columns_shift_by_the_recorded_offset() -> None:
    source = "export function f() { return 1 + thrower(); }\nfunction thrower() {\n  null.x;\n}\n"
    cs = to_compartment_script(source)
    ctx, _ = _eval(cs)
    stack = ctx.eval("(() => { try { ns.f() } catch (e) { return e.stack } })()")
    # the same code as a plain script, unshifted: QuickJS's own column for that frame
    plain = quickjs.Context()
    plain.eval(source.replace("export ", "       "))
    expected = _frame(plain.eval("(() => { try { f() } catch (e) { return e.stack } })()"), "f")
    line, col = _frame(stack, "f")
    assert (line, col) == (1, expected[1] + cs.line1_offset)
    assert cs.source_position(line, col) == expected
    assert _frame(stack, "thrower") == (3, 3) == cs.source_position(3, 3)


# ------------------------------------------------------------------------- rejections


@pytest.mark.parametrize(("source", "where", "pattern"), [
    ("const a = 1;\nimport x from 'y';", "2:1", r"`import` declarations are not supported"),
    ("import 'side-effect';", "1:1", r"`import` declarations"),
    ("import { call, view } from 'near-sdk-js';", "1:1",
     r"near-sdk-js source: build it first with `outlayer build FILE`"),
    ("export async function f() {\n  return import('x');\n}", "2:10", r"`import\(...\)`"),
    ("const u = import.meta.url;", "1:11", r"`import.meta`"),
    ("export * from 'm';", "1:1", r"`export \* from`"),
    ("export * as ns from 'm';", "1:1", r"`export \* from`"),
    ("const a = 1;\nexport { a as b } from 'm';", "2:1", r"`export ... from`"),
    ("const x = 1;\n\nawait x;", "3:1", r"top-level `await`"),
    ("if (true) {\n  for await (const x of []) {}\n}", "2:3", r"top-level `for await`"),
    ("export const a = 1;\nconst b = 2;\nexport { b as a };", "3:15", r"Duplicate export 'a'"),
    ("export function a() {}\nexport function a() {}", "2:17", r"already been declared"),
    ("function f() {}\nexport { f as __ol_call };", "2:15", r"export name '__ol_call' is reserved"),
    ("export function __olBoot() {}", "1:17", r"identifier '__olBoot' is reserved"),
    ("let __ol_d = 1;", "1:5", r"'__ol_d' is reserved"),
    ("export const n = () => arguments.length;", "1:24", r"`arguments` outside a function"),
    ("let x = 1;\nlet y = ;", "2:9", r"^contract\.js:2:9: Unexpected token$"),
    ("export function f( {\n}", "2:2", r"Unexpected token"),
    ("export const s = 'a\u00e9\u20ac<!--b';", "1:22", r"HTML-like comment.*SES_HTML_COMMENT_REJECTED"),
    ("export let x = 1;\n// done -->\n", "2:9", r"SES_HTML_COMMENT_REJECTED"),
    ("let n = 3;\nn-->0;", "2:2", r"SES_HTML_COMMENT_REJECTED"),
    ("export const s = \"import('x')\";", "1:19", r"import expression.*SES_IMPORT_REJECTED"),
    ("// see import (x)\nexport const a = 1;", "1:8", r"SES_IMPORT_REJECTED"),
    ("/* import /* c */\nexport const a = 1;", "1:4", r"SES_IMPORT_REJECTED"),
    ("// eval(x) is refused too", "1:4", r"direct eval.*SES_EVAL_REJECTED"),
    ("export function f(s) {\n  return eval (s);\n}", "2:10", r"SES_EVAL_REJECTED"),
])
def test_rejections_carry_the_users_line_and_column(source: str, where: str,
                                                    pattern: str) -> None:
    message = _error(source)
    assert message.startswith(f"contract.js:{where}: "), message
    assert re.search(pattern, message), message


def test_the_filename_leads_the_message() -> None:
    assert _error("let x = ;", filename="token.js").startswith("token.js:1:9: ")


def test_not_utf8_is_refused() -> None:
    assert _error(b"export const s = '\xff';") == "contract.js: the source is not valid UTF-8"


def test_too_deep_nesting_is_a_located_compile_error() -> None:
    message = _error("export const x = " + "[" * 400 + "]" * 400 + ";")
    assert re.match(r"contract\.js:1:\d+: Not enough stack space to parse input", message)


@pytest.mark.parametrize("source", [
    "let reimport = (x) => x;\nreimport(1);",
    "const o = {import: (x) => x, eval: (x) => x};\no.import(1);\no.eval(2);",
    "const evaluate = (x) => x;\nevaluate(1);",
    "let important = 1;\nimportant--;\nimportant > 0;",
    "const a = [1];\nconst b = [...a];\n",
])
def test_text_ses_accepts_is_accepted(source: str, ses: quickjs.Context) -> None:
    cs = to_compartment_script(source)
    assert ses_evaluate(ses, source) == "ok"
    assert ses_evaluate(ses, cs.script.decode()) == "ok"


@pytest.mark.parametrize("source", [
    "const s = 'a<!--b';",
    "let n = 3;\nn-->0;",
    "const s = \"import('x')\";",
    "// see import (x)",
    "// eval(x)",
])
def test_what_is_refused_for_ses_is_what_ses_refuses(source: str, ses: quickjs.Context) -> None:
    """Consistency with the real SES 2.3.0: same text, same verdict, same rule."""
    code = re.search(r"\((SES_\w+)\)$", _error(source)).group(1)  # type: ignore[union-attr]
    assert code in ses_evaluate(ses, source)


def test_scripts_run_in_a_real_ses_compartment(ses: quickjs.Context) -> None:
    cs = to_compartment_script(ALL_FORMS)
    ses.set("script", cs.script.decode())
    assert ses.eval("globalThis.sns = c.evaluate(script); sns.inc({n: 1})") == 2
    assert ses.eval("Object.isFrozen(sns) && sns.default({x: 2})") == "main:2"


def test_the_ses_rules_are_ses_2_3_0s() -> None:
    """The tool copies SES's pattern sources; a new SES pin must bring new ones."""
    ses = npm.package_file("ses", "dist/ses.umd.js").read_text()
    tool = transform.TOOL_PATH.read_text()
    import_src = r"(^|[^.]|\\.\\.\\.)\\bimport(\\s*(?:\\(|/[/*]))"
    eval_src = r"(^|[^.])\\beval(\\s*\\()"
    for src in (import_src, eval_src):
        assert f"'{src}'" in ses and f'"{src}"' in tool
    assert "`(?:${'<'}!--|--${'>'})`" in ses and '`(?:${"<"}!--|--${">"})`' in tool
    assert "__rejectSomeDirectEvalExpressions__ = true" in ses  # on by default in evaluate


# ------------------------------------------------------------------ the tool and cache


def test_acorn_export_list_becomes_a_binding() -> None:
    text = "function parse() {}\nvar version = '1';\nfunction getLineInfo() {}\n" \
           "export { getLineInfo, parse, version as version };\n"
    out = transform.acorn_module(text)
    assert "export" not in out
    assert out.endswith("const olAcorn = Object.freeze({getLineInfo: getLineInfo, "
                        "parse: parse, version: version});\n")
    real, _ = transform.tool_module()
    assert b"\nexport {" not in real and b"const olAcorn = Object.freeze({" in real


@pytest.mark.parametrize("text", [
    "function parse() {}\n",  # no export list
    "import x from 'y';\nexport { parse, getLineInfo, version };",
    "export const a = 1;\nexport { parse, getLineInfo, version };",
    "export { parse };",  # lacks what the tool needs
    "export { parse, getLineInfo, version as default, x as 'y' };",
])
def test_acorn_module_refuses_an_unexpected_shape(text: str) -> None:
    with pytest.raises(errors.InternalError, match="acorn"):
        transform.acorn_module(text)


def test_results_are_cached_by_content(tmp_path: pathlib.Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transform, "cache_root", lambda: tmp_path)
    source = "export function cached() { return 1; }\n"
    first = to_compartment_script(source)
    assert len(list(tmp_path.rglob("*.json"))) == 1

    def no_tool(text: str) -> dict[str, Any]:
        raise AssertionError("the tool ran although the result was cached")

    monkeypatch.setattr(transform, "run_tool", no_tool)
    assert to_compartment_script(source) == first
    assert to_compartment_script(source.encode()) == first
    with pytest.raises(AssertionError, match="tool ran"):
        to_compartment_script(source + " ")


def test_errors_are_cached_too_and_named_per_call(tmp_path: pathlib.Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transform, "cache_root", lambda: tmp_path)
    assert _error("let x = ;").startswith("contract.js:1:9: ")
    monkeypatch.setattr(transform, "run_tool", lambda text: pytest.fail("not cached"))
    assert _error("let x = ;", filename="other.js").startswith("other.js:1:9: ")


def test_the_cache_key_covers_source_and_tool(tmp_path: pathlib.Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    key = transform.cache_key(b"export const a = 1;")
    assert key == transform.cache_key(b"export const a = 1;")
    assert key != transform.cache_key(b"export const a = 2;")
    edited = tmp_path / "transform_tool.js"
    edited.write_text(transform.TOOL_PATH.read_text() + "\n// edited\n")
    monkeypatch.setattr(transform, "TOOL_PATH", edited)
    assert transform.cache_key(b"export const a = 1;") != key


def test_a_corrupt_cache_entry_is_recomputed(tmp_path: pathlib.Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transform, "cache_root", lambda: tmp_path)
    source = b"export const corrupt = 1;"
    good = to_compartment_script(source)
    (entry,) = tmp_path.rglob("*.json")
    entry.write_text("{not json")
    assert to_compartment_script(source) == good


# ------------------------------------------------------------------------- determinism


def test_same_output_twice_uncached() -> None:
    source = (EXAMPLES / "fungible_token.js").read_text()
    assert transform.run_tool(source) == transform.run_tool(source)


def test_same_output_in_another_process() -> None:
    sources = [(EXAMPLES / "fungible_token.js").read_text(), ALL_FORMS, "let x = ;"]
    here = [transform.run_tool(s) for s in sources]
    code = ("import json, sys\nfrom outlayer.realm.transform import run_tool\n"
            "print(json.dumps([run_tool(s) for s in json.load(sys.stdin)]))\n")
    proc = subprocess.run([sys.executable, "-c", code], input=json.dumps(sources),
                          capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout.splitlines()[-1]) == here
