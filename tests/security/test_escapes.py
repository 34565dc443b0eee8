"""Escapes: Function, eval, constructor chains, modules, host objects.

Whatever a contract climbs through, it reaches only its own compartment: no `lockdown`,
no `Compartment`, none of QuickJS's or a host's globals, never the start compartment's
global object, never a way to change `near`.
"""

from __future__ import annotations

import pytest

from outlayer.chain.simulator import ContractCompileError, ContractSimulator
from outlayer.js.executor import QuickJSExecutor

#: Globals that exist outside the compartment (SES, QuickJS's std/os modules and shell, a
#: host), or that would make a contract non-deterministic. None may be reachable.
FORBIDDEN = ["lockdown", "Compartment", "process", "require", "module", "exports", "std",
             "os", "print", "scriptArgs", "bjson", "gc", "fetch", "setTimeout", "setInterval",
             "setImmediate", "clearTimeout", "WeakRef", "FinalizationRegistry",
             "SharedArrayBuffer", "Atomics", "performance", "WebAssembly", "Intl", "global",
             "window", "self", "navigator", "crypto", "Deno", "Bun", "__ol_freeze",
             "loadContract", "ses"]

ESCAPES = r"""
const FORBIDDEN = %FORBIDDEN%;
// code that reports what the global object it runs against offers
const PROBE = 'return [this === undefined, ' +
  FORBIDDEN.map((n) => 'typeof globalThis[' + JSON.stringify(n) + ']').join(', ') + '];';
const report = (make) => {
  try {
    const seen = make();
    if (!Array.isArray(seen)) return ['value', typeof seen];
    const strictThis = seen[0];
    const reachable = FORBIDDEN.filter((n, i) => seen[i + 1] !== 'undefined');
    return ['ran', strictThis, reachable];
  } catch (e) {
    return ['threw', e.name];
  }
};
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor;
const AsyncGeneratorFunction = Object.getPrototypeOf(async function* () {}).constructor;
const indirectEval = globalThis.eval;
export function escapes() {
  const errorFrom = (f) => { try { f(); } catch (e) { return e; } return null; };
  const hostError = errorFrom(() => near.storageWrite(1, 2));
  return {
    Function: report(() => Function(PROBE)()),
    new_Function: report(() => new Function(PROBE)()),
    arrow_constructor: report(() => (() => {}).constructor(PROBE)()),
    function_constructor: report(() => (function () {}).constructor(PROBE)()),
    async_constructor: report(() => AsyncFunction(PROBE)),
    generator_constructor: report(() => GeneratorFunction(PROBE)().next().value),
    async_generator_constructor: report(() => AsyncGeneratorFunction(PROBE)),
    reflect_construct: report(() => Reflect.construct(Function, [PROBE])()),
    reflect_construct_async: report(() => Reflect.construct(AsyncFunction, [PROBE])),
    object_constructor_chain: report(() => ({}).constructor.constructor(PROBE)()),
    global_constructor_chain: report(() => globalThis.constructor.constructor(PROBE)()),
    near_method_constructor: report(() => near.log.constructor(PROBE)()),
    near_constructor_chain: report(() => near.constructor.constructor(PROBE)()),
    console_constructor: report(() => console.log.constructor(PROBE)()),
    host_error_constructor: report(() => hostError.constructor.constructor(PROBE)()),
    error_constructor: report(() => new Error('x').constructor.constructor(PROBE)()),
    promise_constructor: report(() => Promise.resolve().constructor.constructor(PROBE)()),
    proto_of_proto: report(() => Object.getPrototypeOf(Object.getPrototypeOf(() => {})).constructor.constructor(PROBE)()),
    queue_microtask_constructor: report(() => queueMicrotask.constructor(PROBE)()),
    harden_constructor: report(() => harden.constructor(PROBE)()),
    indirect_eval: report(() => indirectEval('(function () {' + PROBE + '})()')),
    indirect_eval_this: report(() => indirectEval('(function () { "use strict"; ' + PROBE + '})()')),
    nested_eval: report(() => Function('return globalThis.eval("(function () {' + PROBE.replace(/"/g, '\\"') + '})()")')()),
    eval_global_is_compartment: indirectEval('this') === globalThis,
    function_this: Function('return this')() === undefined,
    strict_caller: (() => { try { return typeof Function('return arguments.callee.caller')(); } catch (e) { return e.name; } })(),
    near_log_caller: (() => { try { return typeof near.log.caller; } catch (e) { return e.name; } })(),
    forbidden_here: FORBIDDEN.filter((n) => typeof globalThis[n] !== 'undefined'),
  };
}
export function stack_sites() {
  let sites = 'untouched';
  try { Error.prepareStackTrace = (e, s) => { sites = s; return 'mine'; }; } catch (e) { /* refused */ }
  const err = new Error('probe');
  return [typeof sites === 'string' ? sites : 'LEAKED', String(err.stack).includes('mine')];
}
export function proto_walk() {
  // walk every object reachable from near, console and globalThis through prototypes and
  // own properties: a start-compartment global object would own 'lockdown'
  const seen = new Set();
  const found = [];
  const visit = (o, path, depth) => {
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o) || depth > 4) return;
    seen.add(o);
    if (Object.prototype.hasOwnProperty.call(o, 'lockdown') || Object.prototype.hasOwnProperty.call(o, 'Compartment')) found.push(path);
    for (const key of Reflect.ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (d && 'value' in d) visit(d.value, path + '.' + String(key), depth + 1);
    }
    visit(Object.getPrototypeOf(o), path + '.__proto__', depth + 1);
  };
  visit(globalThis, 'globalThis', 0);
  visit(near, 'near', 0);
  visit(console, 'console', 0);
  return [found, seen.size > 200];
}
""".replace("%FORBIDDEN%", repr(FORBIDDEN))


@pytest.fixture(scope="module")
def escapes() -> dict[str, object]:
    result = QuickJSExecutor().execute_contract(ESCAPES, "escapes")
    assert result.ok, result.error
    return result.result  # type: ignore[no-any-return]


#: every `.constructor` climb ends at Function.prototype.constructor: SES's inert one
CONSTRUCTOR_ROUTES = ["arrow_constructor", "function_constructor", "async_constructor",
                      "generator_constructor", "async_generator_constructor",
                      "reflect_construct_async", "near_method_constructor",
                      "console_constructor", "queue_microtask_constructor",
                      "harden_constructor", "proto_of_proto", "object_constructor_chain",
                      "global_constructor_chain", "near_constructor_chain",
                      "host_error_constructor", "error_constructor", "promise_constructor"]
#: the compartment's own evaluators
EVALUATOR_ROUTES = ["Function", "new_Function", "reflect_construct", "indirect_eval",
                    "indirect_eval_this", "nested_eval"]


@pytest.mark.parametrize("route", CONSTRUCTOR_ROUTES)
def test_function_constructors_of_other_kinds_are_inert(escapes: dict, route: str) -> None:
    """(() => {}).constructor, async / generator function constructors, the constructors
    of host functions, `x.constructor.constructor` of anything: SES's inert constructor,
    which throws."""
    assert escapes[route] == ["threw", "TypeError"]


@pytest.mark.parametrize("route", EVALUATOR_ROUTES)
def test_evaluators_run_in_the_compartment_only(escapes: dict, route: str) -> None:
    """Function / eval reached any way: the code runs, strict, against the compartment's
    global object, where nothing of FORBIDDEN exists."""
    assert escapes[route] == ["ran", True, []]


def test_no_forbidden_global_and_no_global_this_leak(escapes: dict) -> None:
    assert escapes["forbidden_here"] == []
    assert escapes["eval_global_is_compartment"] is True
    assert escapes["function_this"] is True
    assert escapes["strict_caller"] == "TypeError"
    assert escapes["near_log_caller"] in ("TypeError", "undefined")


def test_routes_are_all_checked(escapes: dict) -> None:
    checked = set(CONSTRUCTOR_ROUTES) | set(EVALUATOR_ROUTES) | {
        "forbidden_here", "eval_global_is_compartment", "function_this", "strict_caller",
        "near_log_caller"}
    assert set(escapes) == checked


def test_a_contract_cannot_get_call_sites() -> None:
    result = QuickJSExecutor().execute_contract(ESCAPES, "stack_sites")
    assert result.ok, result.error
    assert result.result == ["untouched", False]


def test_nothing_reachable_owns_lockdown_or_compartment() -> None:
    result = QuickJSExecutor(gas="300T").execute_contract(ESCAPES, "proto_walk")
    assert result.ok, result.error
    assert result.result == [[], True]


# ------------------------------------------------------------------ modules and eval text


def test_dynamic_import_is_refused_at_deploy(chain: ContractSimulator) -> None:
    for src in ["export async function f() { return await import('x'); }",
                "export async function f() { return import('fs').then((m) => 1); }",
                "import x from 'os';\nexport function f() { return x; }",
                "import * as std from 'std';\nexport function f() { return 1; }",
                "export { readFile } from 'fs';\nexport function f() { return 1; }",
                "export function f() { return import.meta; }"]:
        with pytest.raises(ContractCompileError):
            chain.deploy("importer.test", src)


def test_direct_eval_is_refused_at_deploy(chain: ContractSimulator) -> None:
    with pytest.raises(ContractCompileError, match="direct eval"):
        chain.deploy("evaler.test", "export function f(a) { return eval(a.code); }")


def test_import_through_eval_or_function_gets_nothing() -> None:
    src = r"""
    const indirectEval = globalThis.eval;
    const tries = [
      () => indirectEval('imp' + 'ort("x")'),
      () => Function('return imp' + 'ort("os")')(),
      () => indirectEval('imp' + 'ort /* gap */ ("std")'),
      () => Function('return imp' + 'ort.meta')(),
    ];
    export async function f() {
      const out = [];
      for (const t of tries) {
        try { const m = await t(); out.push('loaded ' + typeof m); } catch (e) { out.push(e.name); }
      }
      return out;
    }
    export function g() {
      return [typeof require, typeof process, typeof module, typeof globalThis.process,
              (() => { try { return typeof globalThis.constructor.constructor('return process')(); } catch (e) { return e.name; } })(),
              (() => { try { return typeof require('fs'); } catch (e) { return e.name; } })()];
    }
    """
    ex = QuickJSExecutor()
    f = ex.execute_contract(src, "f")
    assert f.ok, f.error
    assert f.result == ["SyntaxError"] * 4
    g = ex.execute_contract(src, "g")
    assert g.ok, g.error
    assert g.result == ["undefined", "undefined", "undefined", "undefined", "TypeError",
                        "TypeError"]


def test_undeclared_global_is_a_reference_error() -> None:
    """SES alone reads it as undefined (on every engine); the deploy-time transform declares
    it so that it throws, as in NEAR's own QuickJS (tests/realm/test_undeclared.py)."""
    src = """export function f() {
      try { return ['no error', someUndeclaredName]; } catch (e) { return [e.name, e.message]; }
    }"""
    result = QuickJSExecutor().execute_contract(src, "f")
    assert result.ok, result.error
    assert result.result[0] == "ReferenceError"
    assert "someUndeclaredName" in result.result[1]


def test_code_made_at_run_time_cannot_modify_near() -> None:
    src = r"""
    export function f() {
      const before = near, log = near.log, clog = console.log;
      const out = {};
      for (const code of ['near = 1', 'near.log = null', 'globalThis.near = 1', 'delete near.log',
                          'Object.defineProperty(near, "x", {value: 1})', 'console.log = null',
                          'Math.random = () => 1', 'var near = 1']) {
        for (const [how, run] of [['eval', () => globalThis.eval(code)], ['Function', () => Function(code)()]]) {
          try { run(); out[how + ': ' + code] = 'no error'; } catch (e) { out[how + ': ' + code] = e.name; }
        }
      }
      near.log('still mine');
      return [out, near === before, near.log === log, console.log === clog, typeof near.x];
    }
    """
    result = QuickJSExecutor().execute_contract(src, "f")
    assert result.ok, result.error
    outcomes, *identity = result.result
    assert len(outcomes) == 16
    # `var near` declares a local of the evaluated code: allowed, and changes nothing
    assert {k: v for k, v in outcomes.items() if v != "TypeError"} == {
        "eval: var near = 1": "no error", "Function: var near = 1": "no error"}
    assert identity == [True, True, True, "undefined"]
    assert result.logs == ["still mine"]
