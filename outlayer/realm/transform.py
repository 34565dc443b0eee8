"""ES-module contract -> SES compartment script, at deploy time, by a real parser.

SES's `compartment.evaluate(src)` runs a *script*; contracts are ES modules. This module
produces, once per contract source, a script whose completion value is the frozen export
namespace:

    (function (__ol_freeze) {"use strict";<line 1, `export` keywords blanked>
    <lines 2..n, same>
    return __ol_freeze({__proto__: null, ["increment"]: increment, ...});
    })(Object.freeze)

Every line keeps its number and every column its place, except line 1, shifted right by
`line1_offset`, so error stacks point at the user's code. `Object.freeze` is passed in
rather than named inside: a contract may declare its own top-level `Object`. Differences
from the module, all deliberate: exported values are read once, after the top level ran
(a frozen object cannot be a live binding; methods are what callers use); an anonymous
default export is named `__ol_d`, not `default`; `export default function () {}` followed
by code on the same line without a space shifts that code one column (a `;` is needed).

Names the contract uses but nothing declares, and that the compartment's global object does
not have, are declared by the script (`let` after its `return`, never initialized): using
one is a ReferenceError where it happens, as in a plain JS engine, where SES alone would
give `undefined`. Names tested with `typeof`, or also written as a property name or a
string (`globalThis.x = ...`), are left to SES.

The parser is acorn (pinned npm package) and it runs inside OutLayer's own sandbox, the
QuickJS guest, as a native module (`transform_tool.js` appended to acorn's source): no Node,
and the same regexp engine as the guest's SES decides SES's source-text rules. Anything a
compartment cannot run (imports, re-exports, top-level await, reserved `__ol` names, text
SES refuses) is refused here, with the user's line and column, so it fails at deploy and
never at call time. Results are cached on disk by the hash of every input.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import os
import pathlib
import re
import tempfile
from dataclasses import dataclass
from typing import Any

from outlayer import errors
from outlayer.host.engine import Limits, cache_root
from outlayer.realm import npm

#: bump when the Python side changes what the tool's output means.
RECIPE_VERSION = 2
TOOL_PATH = pathlib.Path(__file__).with_name("transform_tool.js")
TOOL_METHOD = "transform"
ACORN_FILE = "dist/acorn.mjs"
#: acorn bindings the tool reads through `olAcorn`.
ACORN_NEEDS = ("parse", "getLineInfo")
#: the tool is infrastructure: gas only stops a runaway, it is not what bounds a deploy.
TOOL_GAS = 10**18
TOOL_LIMITS = Limits(memory_bytes=512 * 1024 * 1024, wall_clock_seconds=120.0)
#: outcome errors that mean "this source is too big or too deep for the tool", i.e. the
#: user's to fix, rather than a fault of OutLayer.
_RESOURCE_ERRORS = frozenset({"GasExceeded", "GasLimitExceeded", "MemoryLimitExceeded",
                              "WallClockTimeExceeded"})

#: what starts a near-sdk-js bundle's source (and its script): see docs/NEAR_SDK_JS.md
SDKJS_TAG = "/*near-sdk-js*/"
_EXPORT_LIST = re.compile(r"^export\s*\{([^{}]*)\}\s*;?\s*\Z", re.M)
_MODULE_STATEMENT = re.compile(r"^(?:export|import)\b", re.M)
_IDENT = re.compile(r"[A-Za-z_$][\w$]*\Z")


@dataclass(frozen=True)
class CompartmentScript:
    """A contract as `compartment.evaluate` runs it; the completion value is the namespace."""

    script: bytes
    #: export names, sorted by UTF-16 code units (a module namespace's key order).
    exports: tuple[str, ...]
    #: how far right line 1's columns moved (UTF-16 code units); other lines did not move.
    line1_offset: int
    #: a near-sdk-js bundle (it starts with SDKJS_TAG): runs as near-sdk-js runs contracts
    sdkjs: bool = False
    #: names the contract uses that nothing declares and the compartment's global object
    #: does not have: the script declares them, uninitialized, so that using one is a
    #: ReferenceError (SES alone would read them as undefined). Sorted.
    undeclared: tuple[str, ...] = ()
    #: (name, line, column) of each undeclared name's first use (1-based), in source order
    undeclared_at: tuple[tuple[str, int, int], ...] = ()

    def warnings(self, filename: str = "contract.js") -> list[str]:
        """One deploy-time warning per undeclared name, at its first use."""
        return [f"{filename}:{line}:{column}: `{name}` is declared nowhere and is not a "
                f"global: using it throws ReferenceError"
                for name, line, column in self.undeclared_at]

    def source_position(self, line: int, column: int) -> tuple[int, int]:
        """(line, column) in the contract for a position in the script (both 1-based)."""
        return (line, column - self.line1_offset) if line == 1 else (line, column)


# ------------------------------------------------------------------------------ the tool


def acorn_module(text: str) -> str:
    """acorn.mjs as a module that exports nothing: its export list becomes `olAcorn`.

    Refuses any other shape (a second `export`, an `import`, a list without what the tool
    needs) rather than guessing: the file is pinned, so a new shape means a new pin.
    """
    match = _EXPORT_LIST.search(text)
    if match is None:
        raise errors.InternalError(f"acorn's {ACORN_FILE} does not end with its export list")
    body = text[:match.start()]
    stray = _MODULE_STATEMENT.search(body)
    if stray is not None:
        line = body.count("\n", 0, stray.start()) + 1
        raise errors.InternalError(f"acorn's {ACORN_FILE}:{line}: unexpected module statement")
    entries: dict[str, str] = {}
    for spec in match.group(1).split(","):
        words = spec.split()
        if len(words) == 1:
            local = exported = words[0]
        elif len(words) == 3 and words[1] == "as":
            local, exported = words[0], words[2]
        else:
            raise errors.InternalError(f"acorn's export list has {spec.strip()!r}")
        if not (_IDENT.match(local) and _IDENT.match(exported)):
            raise errors.InternalError(f"acorn's export list has {spec.strip()!r}")
        entries[exported] = local
    missing = [name for name in ACORN_NEEDS if name not in entries]
    if missing:
        raise errors.InternalError(f"acorn's {ACORN_FILE} does not export {missing}")
    fields = ", ".join(f"{k}: {v}" for k, v in entries.items())
    return f"{body}const olAcorn = Object.freeze({{{fields}}});\n"


@functools.lru_cache(maxsize=4)
def _tool(acorn_path: pathlib.Path, tool_path: pathlib.Path) -> tuple[bytes, str]:
    """(the tool module's source, the hash of every input but the contract)."""
    tool = tool_path.read_text("utf-8")
    if _MODULE_STATEMENT.search(tool.replace("export function transform(", "")):
        raise errors.InternalError(f"{tool_path.name} must import nothing, export only transform")
    code = (acorn_module(acorn_path.read_text("utf-8")) + "\n" + tool).encode()
    from outlayer.host import guest_build

    pin = npm.PINS["acorn"]
    h = hashlib.sha256()
    # the guest's inputs too: its regexp engine gives the SES-rule verdicts, its realm
    # prelude the global names a contract's undeclared names are checked against
    for part in (f"outlayer-realm-transform {RECIPE_VERSION}", pin.version, pin.integrity,
                 f"guest {guest_build.cache_key()}"):
        _frame(h, part.encode())
    _frame(h, code)
    return code, h.hexdigest()


def tool_module() -> tuple[bytes, str]:
    """The tool module (acorn + transform_tool.js) and its input hash, for this process."""
    return _tool(npm.package_file("acorn", ACORN_FILE), TOOL_PATH)


def _frame(h: Any, data: bytes) -> None:
    h.update(len(data).to_bytes(8, "little") + data)


def cache_key(source: bytes) -> str:
    """sha256 over acorn's pin, QuickJS's version, the tool module and the contract source."""
    _, tool_hash = tool_module()
    h = hashlib.sha256(tool_hash.encode())
    _frame(h, source)
    return h.hexdigest()


def _cache_path(key: str) -> pathlib.Path:
    return cache_root() / "realm" / "transform" / key[:2] / f"{key}.json"


def run_tool(text: str) -> dict[str, Any]:
    """Run the tool in the QuickJS guest on `text`; its JSON answer, uncached."""
    from outlayer.js.runner import runtime
    from outlayer.vm.context import VMContext
    from outlayer.vm.params import DEFAULT_PARAMS

    code, _ = tool_module()
    payload = json.dumps({"source": text}).encode()
    big = max(1 << 30, 4 * len(payload))
    params = dataclasses.replace(
        DEFAULT_PARAMS, max_gas_burnt=TOOL_GAS, max_gas_burnt_view=TOOL_GAS,
        max_total_prepaid_gas=TOOL_GAS, max_arguments_length=big,
        max_length_returned_data=big, max_register_size=big,
    )
    context = VMContext(
        current_account_id="transform.outlayer", signer_account_id="transform.outlayer",
        predecessor_account_id="transform.outlayer", input=payload, prepaid_gas=TOOL_GAS,
    )
    rt = runtime()
    # the tool is an ES module run natively; once the runner has a mode for compartment
    # scripts, it takes this flag to keep native-module evaluation
    extra = {"native_module": True} if "native_module" in inspect.signature(rt.run).parameters \
        else {}
    outcome = rt.run(code, TOOL_METHOD, context, {}, params, TOOL_LIMITS, **extra)
    if outcome.error is not None or outcome.return_data is None:
        kind = outcome.error.kind if outcome.error else "NoResult"
        message = outcome.error.message if outcome.error else "the tool returned nothing"
        if kind in _RESOURCE_ERRORS:
            return {"error": {"message": f"the source is too large or too deeply nested to "
                                         f"transform ({kind}: {message})",
                              "line": None, "column": None}}
        raise errors.InternalError(f"the deploy-time transform failed: {kind}: {message}")
    result = json.loads(outcome.return_data)
    if not isinstance(result, dict):
        raise errors.InternalError("the deploy-time transform returned no object")
    return result


def _cached_result(source: bytes, text: str) -> dict[str, Any]:
    path = _cache_path(cache_key(source))
    try:
        cached = json.loads(path.read_bytes())
        if isinstance(cached, dict):
            return cached
    except (OSError, ValueError):
        pass
    result = run_tool(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(json.dumps(result, sort_keys=True).encode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return result


@functools.lru_cache(maxsize=64)  # a deploy reads it twice: to load the code, to warn
def to_compartment_script(source: str | bytes, *,
                          filename: str = "contract.js") -> CompartmentScript:
    """The compartment script of an ES-module contract (cached by content).

    Raises `errors.CompileError` with "file:line:column: message" (1-based) when the
    source does not parse or uses what a compartment cannot run.
    """
    try:
        data = source.encode("utf-8") if isinstance(source, str) else bytes(source)
        text = data.decode("utf-8")
    except UnicodeError:
        raise errors.CompileError(f"{filename}: the source is not valid UTF-8") from None
    result = _cached_result(data, text)
    err = result.get("error")
    if err is not None:
        where = f":{err['line']}:{err['column']}" if err.get("line") else ""
        raise errors.CompileError(f"{filename}{where}: {err['message']}")
    return CompartmentScript(
        script=result["script"].encode("utf-8"),
        exports=tuple(result["exports"]),
        line1_offset=int(result["line1_offset"]),
        sdkjs=bool(result.get("sdkjs", False)),
        undeclared=tuple(result.get("undeclared", ())),
        undeclared_at=tuple((u["name"], int(u["line"]), int(u["column"]))
                            for u in result.get("undeclared_at", ())),
    )


def deploy_warnings(code: bytes, filename: str = "contract.js") -> list[str]:
    """What a deploy of `code` warns about: the undeclared names of a JS contract (none
    for wasm, nor for code that does not compile: its deploy fails instead)."""
    from outlayer.direct.prepare import is_wasm

    if is_wasm(code):
        return []
    try:
        return to_compartment_script(code, filename=filename).warnings(filename)
    except errors.CompileError:
        return []


__all__ = ["CompartmentScript", "to_compartment_script", "cache_key", "run_tool",
           "tool_module", "acorn_module", "deploy_warnings"]


def main(argv: list[str] | None = None) -> int:
    """`python -m outlayer.realm.transform FILE`: print FILE's compartment script."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog=f"python -m {__name__}", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=pathlib.Path)
    args = parser.parse_args(argv)
    try:
        cs = to_compartment_script(args.file.read_bytes(), filename=args.file.name)
    except errors.CompileError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    sys.stdout.write(cs.script.decode())
    print(f"exports: {', '.join(cs.exports)}; line 1 offset: {cs.line1_offset}; "
          f"undeclared: {', '.join(cs.undeclared) or '-'}", file=sys.stderr)
    for warning in cs.warnings(args.file.name):
        print(f"warning: {warning}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
