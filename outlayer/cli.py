"""`outlayer`: run, deploy, call and inspect JavaScript NEAR contracts from the shell.

Exit codes: 0 success, 1 a contract call failed (or the toolchain did), 2 bad user input
(nothing ran, nothing was written). With ``--json`` every command prints exactly one JSON
object on stdout (at least status, result, logs, gas_burnt) and nothing else.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from outlayer.chain.accounts import DEFAULT_BALANCE, DEFAULT_SIGNER
from outlayer.chain.codec import state_from_json
from outlayer.chain.result import CallResult
from outlayer.chain.simulator import (
    DEFAULT_GAS,
    ContractCompileError,
    ContractSimulator,
    read_source,
)
from outlayer.chain.store import MEMORY, StoreError, default_db_path
from outlayer.chain.units import format_near, format_tgas, parse_amount, parse_gas
from outlayer.errors import InternalError, OutLayerError, UserError
from outlayer.host.guest_build import GuestBuildError

EXIT_FAILED = 1
EXIT_USAGE = 2
DEMO_ACCOUNT = "counter.test"

app = typer.Typer(
    name="outlayer",
    help="Run NEAR smart contracts written in JavaScript: deterministic, isolated, metered.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@dataclass
class _Options:
    db: str | None = None


JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object, nothing else.")]
ArgsOpt = Annotated[str | None, typer.Option("--args", help="Arguments: a JSON object.")]
GasOpt = Annotated[str, typer.Option("--gas", help="Prepaid gas: 300T, 30Tgas or an integer.")]
AccountArg = Annotated[str, typer.Argument(help="Account id, e.g. counter.test.")]
MethodArg = Annotated[str, typer.Argument(help="Exported function to call.")]
MathRandomOpt = Annotated[bool, typer.Option(
    "--allow-math-random", help="Realm option: Math.random() works, derived from the block's "
                                "random seed (deterministic).")]
DateNowOpt = Annotated[bool, typer.Option(
    "--allow-date-now", help="Realm option: Date.now() / new Date() return the block time.")]
FetchOpt = Annotated[bool, typer.Option(
    "--allow-fetch", help="Refused, with the reason: contracts cannot reach the network.")]


def _realm(math_random: bool, date_now: bool, fetch: bool) -> dict[str, bool]:
    return {"allow_math_random": math_random, "allow_date_now": date_now, "allow_fetch": fetch}


@app.callback()
def _main(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option(
        "--db", envvar="OUTLAYER_DB",
        help="State file (default .outlayer/state.db in the working directory; "
             "':memory:' keeps nothing).")] = None,
) -> None:
    ctx.obj = _Options(db=db)


# --- output ------------------------------------------------------------------------------


def _out() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _print_json(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _payload(result: Any, **extra: Any) -> dict[str, Any]:
    """A JSON object for commands that run no contract."""
    return {"status": "success", "result": result, "logs": [], "gas_burnt": 0, **extra}


def _fail(exc: BaseException, code: int, as_json: bool) -> NoReturn:
    kind = getattr(exc, "kind", type(exc).__name__)
    message = getattr(exc, "message", None) or str(exc)
    if as_json:
        _print_json({"status": "error", "result": None, "logs": [], "gas_burnt": 0,
                     "error": {"kind": kind, "message": message}})
    else:
        _err().print(f"[bold red]error:[/] [red]{escape(kind)}[/]: {escape(message)}")
    raise typer.Exit(code)


@contextmanager
def _errors(as_json: bool) -> Iterator[None]:
    """Turn every error a user can cause into a clear message and an exit code."""
    try:
        yield
    except typer.Exit:
        raise
    except UserError as exc:
        _fail(exc, EXIT_USAGE, as_json)
    except OutLayerError as exc:
        _fail(exc, EXIT_FAILED, as_json)
    except StoreError as exc:
        _fail(exc, EXIT_USAGE, as_json)
    except sqlite3.Error as exc:
        _fail(UserError(f"state database: {exc}"), EXIT_FAILED, as_json)
    except GuestBuildError as exc:
        _fail(exc, EXIT_FAILED, as_json)
    except Exception as exc:  # a bug of OutLayer: still one clear line (or JSON object)
        if os.environ.get("OUTLAYER_DEBUG"):
            raise
        _fail(InternalError(f"{type(exc).__name__}: {exc} (a bug in OutLayer; set "
                            "OUTLAYER_DEBUG=1 for the traceback)"), EXIT_FAILED, as_json)


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _show_call(result: CallResult, title: str, as_json: bool, prepaid: int | None = None,
               *, ephemeral: bool = False) -> None:
    """Print one call's result; exit 1 if it failed."""
    if as_json:
        _print_json(result.to_json())
    else:
        _out().print(_call_panel(result, title, prepaid, ephemeral))
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)


def _call_panel(result: CallResult, title: str, prepaid: int | None,
                ephemeral: bool) -> Panel:
    """Status, result or error, logs, gas, time; for `run` the state changes, no block."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    if result.ok:
        table.add_row("status", "[green]success[/]")
        table.add_row("result", escape(_json_text(result.result)))
    else:
        error = result.error or {}
        table.add_row("status", "[red]failure[/]")
        table.add_row("error", f"[red]{escape(error.get('kind', ''))}[/]: "
                      f"{escape(error.get('message', ''))}")
    logs = "\n".join(escape(line) for line in result.logs) or "[dim](none)[/]"
    table.add_row("logs", logs)
    gas = format_tgas(result.gas_burnt) + " burnt"
    if prepaid is not None:
        gas += f" of {format_tgas(prepaid)} prepaid"
    table.add_row("gas", gas)
    table.add_row("time", f"{result.execution_time_ms:.2f} ms")
    if not ephemeral:
        table.add_row("block", f"#{result.block_height}")
    if ephemeral and result.state_changes:
        changes = "\n".join(f"{escape(k)} = " + ("[dim](removed)[/]" if v is None
                                                  else escape(_json_text(v)))
                            for k, v in result.state_changes.items())
        table.add_row("state", changes)
    return Panel(table, title=escape(title), border_style="green" if result.ok else "red",
                 expand=False)


def _simulator(ctx: typer.Context) -> ContractSimulator:
    options: _Options = ctx.obj or _Options()
    return ContractSimulator(db_path=options.db)


def _db_label(ctx: typer.Context) -> str:
    options: _Options = ctx.obj or _Options()
    if options.db == MEMORY:
        return "memory"
    return str(options.db or default_db_path())


def _gas(text: str) -> int:
    return parse_gas(text)


#: the module name the guest gives a contract in syntax errors and stacks.
_GUEST_FILE = "contract.js:"


def _name_file(result: CallResult, file: Path) -> None:
    """Where the user named the file, point errors at it rather than at the guest's name."""
    if result.error is not None:
        message = result.error["message"].replace(_GUEST_FILE, f"{file.name}:")
        result.error = {**result.error, "message": message}


# --- commands -------------------------------------------------------------------------------


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="The contract: a JavaScript ES module.")],
    method: MethodArg,
    args: ArgsOpt = None,
    gas: GasOpt = str(DEFAULT_GAS),
    state: Annotated[str | None, typer.Option(
        "--state", help="Initial storage: a JSON object of key -> value strings "
                        "(0x-prefixed hex for bytes).")] = None,
    allow_math_random: MathRandomOpt = False,
    allow_date_now: DateNowOpt = False,
    allow_fetch: FetchOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Run METHOD of FILE once on throwaway state (nothing is saved)."""
    with _errors(as_json):
        code = read_source(file)
        initial = state_from_json(state) if state is not None else {}
        prepaid = _gas(gas)
        from outlayer.js.executor import QuickJSExecutor

        executor = QuickJSExecutor(gas=prepaid, realm=_realm(allow_math_random, allow_date_now,
                                                             allow_fetch))
        result = executor.execute_contract(code, method, args if args is not None else None,
                                           initial)
    _name_file(result, file)
    _show_call(result, f"{method} ({file.name})", as_json, prepaid, ephemeral=True)


@app.command()
def deploy(
    ctx: typer.Context,
    account: AccountArg,
    file: Annotated[Path, typer.Argument(help="The contract: a JavaScript ES module.")],
    allow_math_random: MathRandomOpt = False,
    allow_date_now: DateNowOpt = False,
    allow_fetch: FetchOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Deploy FILE to ACCOUNT (the account is created if it does not exist)."""
    with _errors(as_json):
        with _simulator(ctx) as sim:
            try:
                info = sim.deploy(account, file,
                                  realm=_realm(allow_math_random, allow_date_now, allow_fetch))
            except ContractCompileError as exc:
                raise ContractCompileError(exc.message.replace(_GUEST_FILE, f"{file.name}:")
                                           ) from None
    if as_json:
        _print_json(_payload(info))
        return
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("account", escape(account) + (" [dim](created)[/]" if info["created"] else ""))
    table.add_row("code hash", info["code_hash"])
    table.add_row("size", f"{info['code_size']} bytes")
    enabled = [name for name, on in info["realm"].items() if on]
    table.add_row("realm", ", ".join(enabled) if enabled else "[dim]locked down (defaults)[/]")
    if info["methods"] is not None:
        table.add_row("methods", escape(", ".join(info["methods"])) or "[dim](none)[/]")
    table.add_row("state", escape(_db_label(ctx)))
    _out().print(Panel(table, title="deployed", border_style="green", expand=False))


@app.command()
def call(
    ctx: typer.Context,
    account: AccountArg,
    method: MethodArg,
    args: ArgsOpt = None,
    signer: Annotated[str | None, typer.Option(
        "--signer", help=f"Signer account (default {DEFAULT_SIGNER}); created if it does not exist."
    )] = None,
    deposit: Annotated[str, typer.Option(
        "--deposit", help="Attached deposit in yoctoNEAR (or e.g. 1NEAR).")] = "0",
    gas: GasOpt = str(DEFAULT_GAS),
    as_json: JsonOpt = False,
) -> None:
    """Call METHOD of the contract at ACCOUNT as a transaction (state is saved)."""
    with _errors(as_json):
        prepaid = _gas(gas)
        amount = parse_amount(deposit)
        with _simulator(ctx) as sim:
            result = sim.call(account, method, args, signer_id=signer, deposit=amount,
                              gas=prepaid)
    _show_call(result, f"{method} @ {account}", as_json, prepaid)


@app.command()
def view(
    ctx: typer.Context,
    account: AccountArg,
    method: MethodArg,
    args: ArgsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Call METHOD of the contract at ACCOUNT read-only (a view: nothing can be written)."""
    with _errors(as_json):
        with _simulator(ctx) as sim:
            result = sim.view(account, method, args)
    _show_call(result, f"{method} @ {account} (view)", as_json)


@app.command()
def state(
    ctx: typer.Context,
    account: AccountArg,
    as_json: JsonOpt = False,
) -> None:
    """Show the contract storage of ACCOUNT (0x-prefixed hex where not UTF-8 text)."""
    with _errors(as_json):
        with _simulator(ctx) as sim:
            data = sim.state(account)
    if as_json:
        _print_json(_payload(data, account_id=account))
        return
    table = Table(title=f"state of {escape(account)}", show_lines=False)
    table.add_column("key", overflow="fold")
    table.add_column("value", overflow="fold")
    for key, value in data.items():
        table.add_row(escape(key), escape(value))
    if not data:
        table.add_row("[dim](empty)[/]", "")
    _out().print(table)


@app.command("create-account")
def create_account(
    ctx: typer.Context,
    account: AccountArg,
    balance: Annotated[str, typer.Option(
        "--balance", help="Initial balance in yoctoNEAR (or e.g. 100NEAR).")
    ] = str(DEFAULT_BALANCE),
    as_json: JsonOpt = False,
) -> None:
    """Create ACCOUNT with a balance."""
    with _errors(as_json):
        amount = parse_amount(balance)
        with _simulator(ctx) as sim:
            sim.create_account(account, amount)
            record = sim.store.get_account(account)
    assert record is not None
    if as_json:
        _print_json(_payload(record.to_json()))
        return
    _out().print(f"created [bold]{escape(account)}[/] with {format_near(record.balance)}")


@app.command()
def account(
    ctx: typer.Context,
    account: AccountArg,
    as_json: JsonOpt = False,
) -> None:
    """Show ACCOUNT: balance, code hash, storage usage."""
    with _errors(as_json):
        with _simulator(ctx) as sim:
            sim.account(account)
            record = sim.store.get_account(account)
    assert record is not None
    if as_json:
        _print_json(_payload(record.to_json()))
        return
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("balance", format_near(record.balance))
    table.add_row("code hash", record.code_hash or "[dim](no contract)[/]")
    table.add_row("storage", f"{record.storage_usage} bytes")
    table.add_row("created", f"block #{record.created_height}")
    _out().print(Panel(table, title=escape(account), expand=False))


@app.command("build-guest")
def build_guest_command(
    force: Annotated[bool, typer.Option("--force", help="Recompile everything.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Build the QuickJS guest wasm, fetch the pinned npm pieces (SES, acorn) and make the
    boot snapshot (SES lockdown). Done automatically on first use; everything is cached."""
    with _errors(as_json):
        from outlayer.host.guest_build import build_guest
        from outlayer.realm.npm import fetch_all

        path = build_guest(force=force, quiet=as_json)
        fetch_all(quiet=as_json)
        from outlayer.js.runner import runtime

        boot = runtime().boot_wasm
    if as_json:
        _print_json(_payload({"path": str(path), "boot_snapshot_bytes": len(boot)}))
    else:
        _out().print(f"guest ready: {escape(str(path))}\n"
                     f"boot snapshot (QuickJS booted, SES locked down): {len(boot):,} bytes")


def counter_example() -> Path:
    """examples/counter.js of the source tree this package runs from (or of the cwd)."""
    candidates = [Path(__file__).resolve().parent.parent / "examples" / "counter.js",
                  Path.cwd() / "examples" / "counter.js"]
    for path in candidates:
        if path.is_file():
            return path
    raise UserError("examples/counter.js not found (run the demo from the OutLayer checkout)")


@app.command()
def demo(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Deploy examples/counter.js to counter.test, increment it 3 times, view the count."""
    with _errors(as_json):
        with _simulator(ctx) as sim:
            info = sim.deploy(DEMO_ACCOUNT, counter_example())
            results = [(f"increment @ {DEMO_ACCOUNT}", sim.call(DEMO_ACCOUNT, "increment"))
                       for _ in range(3)]
            results.append((f"get_count @ {DEMO_ACCOUNT} (view)",
                            sim.view(DEMO_ACCOUNT, "get_count")))
    ok = all(r.ok for _, r in results)
    final = results[-1][1]
    if as_json:
        _print_json({
            "status": "success" if ok else "failure",
            "result": final.result,
            "logs": [line for _, r in results for line in r.logs],
            "gas_burnt": sum(r.gas_burnt for _, r in results),
            "account_id": DEMO_ACCOUNT,
            "code_hash": info["code_hash"],
            "db": _db_label(ctx),
            "calls": [r.to_json() for _, r in results],
        })
    else:
        out = _out()
        out.print(f"deployed examples/counter.js to [bold]{DEMO_ACCOUNT}[/] "
                  f"(state: {escape(_db_label(ctx))})")
        for title, result in results:
            out.print(_call_panel(result, title, None, ephemeral=False))
        if ok:
            out.print(f"count is [bold]{escape(_json_text(final.result))}[/]; state persists: "
                      "run the demo again and it keeps counting.")
    if not ok:
        raise typer.Exit(EXIT_FAILED)
