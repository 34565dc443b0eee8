"""A native SES realm (PyPI quickjs + the pinned SES) to check compartment scripts against."""

from __future__ import annotations

import quickjs

from outlayer.realm import npm

#: what lockdown needs before it runs: SES reads console._times
_CONSOLE = ("globalThis.console = {log() {}, warn() {}, error() {}, info() {}, debug() {}, "
            "group() {}, groupEnd() {}, _times: {}};")


def ses_realm() -> quickjs.Context:
    """Native QuickJS-ng with SES 2.3.0 locked down and a compartment `c`."""
    ctx = quickjs.Context()
    ctx.eval(_CONSOLE)
    ctx.eval(npm.package_file("ses", "dist/ses.umd.min.js").read_text("utf-8"))
    ctx.eval("lockdown({errorTaming: 'unsafe'}); globalThis.c = new Compartment();")
    return ctx


def ses_evaluate(ctx: quickjs.Context, script: str) -> str:
    """'ok' if the compartment evaluates `script`, else the error message."""
    ctx.set("src", script)
    return str(ctx.eval("(() => { try { c.evaluate(src); return 'ok'; } "
                        "catch (e) { return e.message; } })()"))
