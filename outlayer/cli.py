"""`outlayer`: run, deploy, call and inspect JavaScript NEAR contracts from the shell.

Exit codes: 0 success, 1 a contract call failed (or the toolchain did), 2 bad user input
(nothing ran, nothing was written). With ``--json`` every command prints exactly one JSON
object on stdout (at least status, result, logs, gas_burnt) and nothing else.
"""

from __future__ import annotations

import json
import os
import shlex
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.panel import Panel
from rich.table import Table
from rich.tree import Tree

from outlayer.chain import actions as chain_actions
from outlayer.chain.accounts import DEFAULT_BALANCE, DEFAULT_SIGNER
from outlayer.chain.codec import bytes_to_text, decode_result, state_from_json, text_to_bytes
from outlayer.chain.history import TxReplay
from outlayer.chain.outcomes import ExecutionOutcome, FinalOutcome
from outlayer.chain.result import CallResult
from outlayer.chain.simulator import (
    DEFAULT_GAS,
    ContractCompileError,
    ContractSimulator,
    convenience_key,
    read_source,
)
from outlayer.chain.store import MEMORY, Account, StoreError, default_db_path
from outlayer.chain.units import format_near, format_tgas, parse_amount, parse_gas
from outlayer.errors import AccountNotFound, InternalError, OutLayerError, UserError
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
    gas_price: int | None = None
    epoch_length: int | None = None


JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object, nothing else.")]
ArgsOpt = Annotated[str | None, typer.Option("--args", help="Arguments: a JSON object.")]
ArgsFileOpt = Annotated[Path | None, typer.Option(
    "--args-file", help="Arguments from FILE ('-' = stdin), byte for byte: for args too big "
                        "for a command line (NEAR allows 4 MiB). Not with --args.")]
GasOpt = Annotated[str, typer.Option("--gas", help="Prepaid gas: 300T, 30Tgas or an integer.")]
AccountArg = Annotated[str, typer.Argument(help="Account id, e.g. counter.test.")]
MethodArg = Annotated[str, typer.Argument(help="Exported function to call.")]
MathRandomOpt = Annotated[bool, typer.Option(
    "--allow-math-random", help="Realm option: Math.random() works, derived from the block's "
                                "random seed (deterministic).")]
DateNowOpt = Annotated[bool, typer.Option(
    "--allow-date-now", help="Realm option: Date.now() / new Date() return the block time.")]
TreeOpt = Annotated[bool, typer.Option(
    "--tree", help="Always print the receipt tree (it is printed anyway when the "
                   "transaction has more than one receipt).")]
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
    gas_price: Annotated[int | None, typer.Option(
        "--gas-price", help="yoctoNEAR per gas of a new state file (default NEAR's 10^8; 0: "
                            "gas costs nothing). Fixed when the file is made.")] = None,
    epoch_length: Annotated[int | None, typer.Option(
        "--epoch-length", help="Blocks per epoch of a new state file (default 43200): "
                               "lowered stakes are released at epoch boundaries.")] = None,
) -> None:
    ctx.obj = _Options(db=db, gas_price=gas_price, epoch_length=epoch_length)


# --- output ------------------------------------------------------------------------------


def _out() -> Console:
    return Console(highlight=False, soft_wrap=True, emoji=False)


def _grid() -> Table:
    """A two-column table: bold names, then values."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    return table


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


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
               *, ephemeral: bool = False, tree: bool = False) -> None:
    """Print one call's result (and its receipt tree when it has more than one receipt, or
    when `tree`); exit 1 if it failed (a pending one, waiting on a yield, did not fail)."""
    if as_json:
        _print_json(result.to_json())
    else:
        out = _out()
        out.print(_call_panel(result, title, prepaid, ephemeral))
        if result.outcome is not None and (tree or len(result.receipts_outcome) > 1
                                           or result.pending):
            out.print(outcome_tree(result.outcome))
    if not (result.ok or result.pending):
        raise typer.Exit(EXIT_FAILED)


def _short(hash_text: str) -> str:
    return hash_text[:8] + "…" if len(hash_text) > 9 else hash_text


def _status_text(outcome: ExecutionOutcome) -> str:
    if outcome.status == "SuccessValue":
        value = outcome.value or b""
        shown = "(nothing)" if not value else bytes_to_text(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return f"[green]✓[/] value {escape(shown)}"
    if outcome.status == "SuccessReceiptId":
        return f"[green]✓[/] → result of {_short(outcome.receipt_id or '')}"
    error = outcome.error
    kind = error.kind if error else "Failure"
    message = error.message if error else ""
    at = f" (action {error.index})" if error and error.index is not None else ""
    return f"[red]✗ {escape(kind)}{at}[/]: {escape(message)}"


def _action_text(actions: list[dict[str, Any]]) -> str:
    parts = []
    for action in actions:
        (name, body), = action.items()
        if name == "FunctionCall":
            text = f"{body['method_name']}()"
            if body.get("deposit", "0") != "0":
                text += f" + {format_near(int(body['deposit']))}"
            parts.append(text)
        elif name == "Transfer":
            parts.append(f"transfer {format_near(int(body['deposit']))}")
        else:
            parts.append(name)
    return ", ".join(parts)


def _outcome_label(outcome: ExecutionOutcome) -> str:
    kind = {"refund": " [dim](refund)[/]", "yield": " [dim](yield callback)[/]"}.get(
        outcome.receipt_kind, "")
    gas = format_tgas(outcome.gas_burnt)
    if outcome.tokens_burnt:
        gas += f", {format_near(outcome.tokens_burnt)}"
    results = ""
    if outcome.promise_results:
        results = f" [dim]inputs: {', '.join(outcome.promise_results)}[/]"
    return (f"[bold]{escape(outcome.executor_id)}[/] ← {escape(outcome.predecessor_id)}: "
            f"{escape(_action_text(outcome.actions))}{kind}\n[dim]#{outcome.block_height} "
            f"{_short(outcome.id)} {gas}[/]{results}\n{_status_text(outcome)}")


def outcome_tree(final: FinalOutcome) -> Tree:
    """A transaction's receipts as a tree: each receipt under the one that made it."""
    tx = final.transaction_outcome
    status = final.status
    if status == "SuccessValue":
        value = decode_result(final.value) if final.value else None
        head = f"[green]{status}[/] {escape(_json_text(value))}"
    elif status == "Failure":
        head = f"[red]Failure[/] {escape(final.error.kind if final.error else '')}"
    else:
        head = f"[yellow]{status}[/] (waiting: see `outlayer pending`)"
    total = format_tgas(final.total_gas_burnt)
    if final.tokens_burnt:
        total += f", {format_near(final.tokens_burnt)}"
    root = Tree(f"transaction {tx.id}\n[bold]{escape(tx.executor_id)}[/] [dim]#"
                f"{tx.block_height}, sent for {format_tgas(tx.gas_burnt)}; total {total}[/]"
                f"\n{head}")
    by_id = {o.id: o for o in final.receipts_outcome}
    placed: set[str] = set()

    def grow(node: Tree, ids: list[str]) -> None:
        for rid in ids:
            outcome = by_id.get(rid)
            if outcome is None:
                node.add(f"[yellow]{_short(rid)} not run yet[/]")
                continue
            if rid in placed:
                continue
            placed.add(rid)
            branch = node.add(_outcome_label(outcome))
            for line in outcome.logs:
                branch.add(f"[dim]log:[/] {escape(line)}")
            grow(branch, outcome.receipt_ids)

    grow(root, tx.receipt_ids)
    for outcome in final.receipts_outcome:
        if outcome.id not in placed:
            root.add(_outcome_label(outcome))
    return root


def _call_panel(result: CallResult, title: str, prepaid: int | None,
                ephemeral: bool) -> Panel:
    """Status, result or error, logs, gas, time; for `run` the state changes, no block."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    if result.ok:
        table.add_row("status", "[green]success[/]")
        table.add_row("result", escape(_json_text(result.result)))
    elif result.pending:
        table.add_row("status", "[yellow]pending[/]: the result waits on a yield resume "
                      "(or its timeout)")
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
    if result.total_gas_burnt and not result.gas_burnt:
        gas = f"transaction total {format_tgas(result.total_gas_burnt)}"
    elif result.total_gas_burnt:
        gas += f"; transaction total {format_tgas(result.total_gas_burnt)}"
        if result.tokens_burnt:
            gas += f" ({format_near(result.tokens_burnt)})"
    table.add_row("gas", gas)
    table.add_row("time", f"{result.execution_time_ms:.2f} ms")
    if not ephemeral:
        table.add_row("block", f"#{result.block_height}")
    if result.tx_hash and result.transaction_outcome is not None:
        table.add_row("tx", result.tx_hash)
    if ephemeral and result.state_changes:
        changes = "\n".join(f"{escape(k)} = " + ("[dim](removed)[/]" if v is None
                                                  else escape(_json_text(v)))
                            for k, v in result.state_changes.items())
        table.add_row("state", changes)
    border = "green" if result.ok else ("yellow" if result.pending else "red")
    return Panel(table, title=escape(title), border_style=border, expand=False)


def _simulator(ctx: typer.Context) -> ContractSimulator:
    options: _Options = ctx.obj or _Options()
    return ContractSimulator(db_path=options.db, gas_price=options.gas_price,
                             epoch_length=options.epoch_length)


def _db_label(ctx: typer.Context) -> str:
    options: _Options = ctx.obj or _Options()
    if options.db == MEMORY:
        return "memory"
    return str(options.db or default_db_path())


def _gas(text: str) -> int:
    return parse_gas(text)


def _call_args(args: str | None, args_file: Path | None) -> str | bytes | None:
    """--args or --args-file (one of them): the JSON object text, or None for none. A
    file's bytes go as they are (the size limit and JSON checks are the simulator's)."""
    if args_file is None:
        return args
    if args is not None:
        raise UserError("give the arguments with --args or --args-file, not both")
    if str(args_file) == "-":
        return sys.stdin.buffer.read()
    try:
        return args_file.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read --args-file {str(args_file)!r}: "
                        f"{exc.strerror or exc}") from None


def _key_file_hint(ctx: typer.Context, account: str) -> str:
    """Where `outlayer serve` wrote ACCOUNT's key beside this chain's state file, if it did
    (its keys are random, not the chain's derived ones)."""
    label = _db_label(ctx)
    if label == "memory":
        return ""
    found = sorted((Path(label).parent / "keys").glob(f"*/{account}.json"))
    return f"; `outlayer serve` wrote its key to {found[0]}" if found else ""


#: the module name the guest gives a contract in syntax errors and stacks.
_GUEST_FILE = "contract.js:"


def _name_file(result: CallResult, file: Path) -> None:
    """Where the user named the file, point errors at it rather than at the guest's name
    (not for a near-sdk-js source: its positions are the bundle's, `outlayer build` output)."""
    from outlayer.sdkjs.bundler import needs_build

    if result.error is not None and not (file.is_file() and needs_build(file, file.read_bytes())):
        message = result.error["message"].replace(_GUEST_FILE, f"{file.name}:")
        result.error = {**result.error, "message": message}


# --- commands -------------------------------------------------------------------------------


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="The contract: a JavaScript ES module.")],
    method: MethodArg,
    args: ArgsOpt = None,
    args_file: ArgsFileOpt = None,
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
        result = executor.execute_contract(code, method, _call_args(args, args_file),
                                           initial)
    _name_file(result, file)
    _show_call(result, f"{method} ({file.name})", as_json, prepaid, ephemeral=True)


@app.command()
def deploy(
    ctx: typer.Context,
    account: AccountArg,
    file: Annotated[Path, typer.Argument(
        help="The contract: a JavaScript ES module, or a NEAR wasm contract (.wasm).")],
    allow_math_random: MathRandomOpt = False,
    allow_date_now: DateNowOpt = False,
    allow_fetch: FetchOpt = False,
    as_global: Annotated[bool, typer.Option(
        "--global", help="Deploy a global contract (NEP-591) by a transaction of ACCOUNT, "
        "under its code hash: any account can then use it (`outlayer use-global`).")] = False,
    by_account: Annotated[bool, typer.Option(
        "--by-account", help="With --global: under ACCOUNT's id instead, so deploying again "
        "updates it for every account using it.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Deploy FILE to ACCOUNT (the account is created if it does not exist)."""
    if by_account and not as_global:
        _fail(UserError("--by-account goes with --global"), EXIT_USAGE, as_json)
    if as_global:
        _deploy_global(ctx, account, file, by_account, as_json)
        return
    with _errors(as_json):
        with _simulator(ctx) as sim:
            try:
                info = sim.deploy(account, file,
                                  realm=_realm(allow_math_random, allow_date_now, allow_fetch))
            except ContractCompileError as exc:
                raise ContractCompileError(exc.message.replace(_GUEST_FILE, f"{file.name}:")
                                           ) from None
            code = sim.store.get_code(info["code_hash"]) or b""
            params = sim.params
    _place_warnings(info, file, code)
    if as_json:
        _print_json(_payload(info))
        return
    table = _grid()
    table.add_row("account", escape(account) + (" [dim](created)[/]" if info["created"] else ""))
    table.add_row("code hash", info["code_hash"])
    table.add_row("size", f"{info['code_size']} bytes")
    from outlayer.direct.prepare import describe, is_wasm

    if is_wasm(code):  # the realm options are about JavaScript; say how the wasm runs
        table.add_row("execution", escape(describe(code, params)))
    else:
        enabled = [name for name, on in info["realm"].items() if on]
        table.add_row("realm",
                      ", ".join(enabled) if enabled else "[dim]locked down (defaults)[/]")
    if info["methods"] is not None:
        table.add_row("methods", escape(", ".join(info["methods"])) or "[dim](none)[/]")
    table.add_row("state", escape(_db_label(ctx)))
    _out().print(Panel(table, title="deployed", border_style="green", expand=False))
    _print_warnings(info["warnings"])


def _place_warnings(info: dict[str, Any], file: Path, code: bytes) -> None:
    """Name the user's file in a deploy's warnings (or its bundle, when it was built)."""
    try:
        own = file.read_bytes() == code
    except OSError:
        own = False
    where = f"{file.name}:" if own else f"the bundle of {file.name}:"
    info["warnings"] = [w.replace(_GUEST_FILE, where, 1) for w in info.get("warnings", [])]


def _print_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        _err().print(f"[yellow]warning:[/] {escape(warning)}")


def _deploy_global(ctx: typer.Context, account: str, file: Path, by_account: bool,
                   as_json: bool) -> None:
    with _errors(as_json):
        with _simulator(ctx) as sim:
            try:
                info = sim.deploy_global(account, file,
                                         mode="AccountId" if by_account else "CodeHash")
            except ContractCompileError as exc:
                raise ContractCompileError(exc.message.replace(_GUEST_FILE, f"{file.name}:")
                                           ) from None
            code = sim.store.get_code(info["code_hash"]) or b""
    _place_warnings(info, file, code)
    if as_json:
        _print_json(_payload(info, gas_burnt=info["gas_burnt"], tx_hash=info["tx_hash"],
                             block_height=info["block_height"],
                             tokens_burnt=info["tokens_burnt"]))
        return
    (kind, value), = info["identifier"].items()
    table = _grid()
    table.add_row("deployer", escape(account))
    table.add_row("use it with", escape(f"outlayer use-global ACCOUNT "
                                        f"{'--hash' if kind == 'CodeHash' else '--account'} "
                                        f"{value}"))
    table.add_row("code hash", info["code_hash"])
    table.add_row("size", f"{info['code_size']} bytes")
    if info["methods"] is not None:
        table.add_row("methods", escape(", ".join(info["methods"])) or "[dim](none)[/]")
    table.add_row("cost", f"{format_near(int(info['tokens_burnt']))} burnt: "
                  f"{format_near(int(info['storage_burnt']))} for {info['code_size']} bytes "
                  f"of storage, the rest for {format_tgas(info['gas_burnt'])} of gas")
    table.add_row("block", f"#{info['block_height']}")
    table.add_row("tx", info["tx_hash"])
    _out().print(Panel(table, title="global contract deployed", border_style="green",
                       expand=False))
    _print_warnings(info["warnings"])


@app.command("use-global")
def use_global(
    ctx: typer.Context,
    account: AccountArg,
    code_hash: Annotated[str | None, typer.Option(
        "--hash", help="The global contract's code hash (base58), deployed with --global.")
    ] = None,
    by_account: Annotated[str | None, typer.Option(
        "--account", help="The account that deployed it with --global --by-account.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Make ACCOUNT run a global contract (NEP-591) instead of its own code: a
    UseGlobalContract transaction of ACCOUNT (its local code and that code's storage are
    released)."""
    with _errors(as_json):
        with _simulator(ctx) as sim:
            info = sim.use_global(account, code_hash=code_hash, by_account=by_account)
    uses = info.pop("global_contract")
    if as_json:  # the shape of `account --json`
        _print_json(_payload({**Account(**info).to_json(), "global_contract": uses}))
        return
    (kind, value), = uses.items()
    table = _grid()
    table.add_row("global contract", escape(f"{kind} {value}"))
    table.add_row("storage", f"{info['storage_usage']} bytes")
    _out().print(Panel(table, title=escape(account), border_style="green", expand=False))


@app.command()
def call(
    ctx: typer.Context,
    account: AccountArg,
    method: MethodArg,
    args: ArgsOpt = None,
    args_file: ArgsFileOpt = None,
    signer: Annotated[str | None, typer.Option(
        "--signer", help=f"Signer account (default {DEFAULT_SIGNER}); created if it does not exist."
    )] = None,
    deposit: Annotated[str, typer.Option(
        "--deposit", help="Attached deposit in yoctoNEAR (or e.g. 1NEAR).")] = "0",
    gas: GasOpt = str(DEFAULT_GAS),
    tree: TreeOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Call METHOD of the contract at ACCOUNT as a transaction (state is saved). Returns
    when its receipts have run; with --json the whole outcome tree is included."""
    with _errors(as_json):
        prepaid = _gas(gas)
        amount = parse_amount(deposit)
        raw = _call_args(args, args_file)
        with _simulator(ctx) as sim:
            result = sim.call(account, method, raw, signer_id=signer, deposit=amount,
                              gas=prepaid)
    _show_call(result, f"{method} @ {account}", as_json, prepaid, tree=tree)


@app.command()
def view(
    ctx: typer.Context,
    account: AccountArg,
    method: MethodArg,
    args: ArgsOpt = None,
    args_file: ArgsFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Call METHOD of the contract at ACCOUNT read-only (a view: nothing can be written)."""
    with _errors(as_json):
        raw = _call_args(args, args_file)
        with _simulator(ctx) as sim:
            result = sim.view(account, method, raw)
    _show_call(result, f"{method} @ {account} (view)", as_json)


AtBlockOpt = Annotated[int | None, typer.Option(
    "--at-block", min=0, help="As it was at the end of block N (from the recorded history).")]


@app.command()
def state(
    ctx: typer.Context,
    account: AccountArg,
    at_block: AtBlockOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the contract storage of ACCOUNT (0x-prefixed hex where not UTF-8 text; in the
    table, control characters are escaped as \\xNN and backslashes doubled; --json is exact)."""
    with _errors(as_json):
        with _simulator(ctx) as sim:
            data = sim.state(account) if at_block is None else sim.state_at(account, at_block)
            height = sim.height if at_block is None else at_block
    if as_json:
        _print_json(_payload(data, account_id=account, block_height=height))
        return
    title = f"state of {escape(account)}" + ("" if at_block is None else f" at block #{height}")
    table = Table(title=title, show_lines=False)
    table.add_column("key", overflow="fold")
    table.add_column("value", overflow="fold")
    for key, value in data.items():
        table.add_row(escape(printable(key)), escape(printable(value)))
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
    at_block: AtBlockOpt = None,
    secret_key: Annotated[bool, typer.Option(
        "--secret-key", help="Print the secret key of the full-access key this chain derived "
        "for ACCOUNT (near-cli's private_key form), to sign for it over RPC.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show ACCOUNT: balance, code hash, storage usage."""
    if secret_key:
        with _errors(as_json), _simulator(ctx) as sim:
            try:
                private_key = sim.secret_key(account)
            except AccountNotFound:
                raise
            except UserError as exc:
                raise UserError(exc.message + _key_file_hint(ctx, account)) from None
            public_key = convenience_key(sim.chain_seed, account)
        if as_json:
            _print_json(_payload({"account_id": account, "public_key": public_key,
                                  "private_key": private_key}))
        else:
            print(private_key)
        return
    with _errors(as_json):
        with _simulator(ctx) as sim:
            fields = sim.account(account) if at_block is None else sim.account_at(account,
                                                                                  at_block)
            record: Account | None = Account(**fields)
            uses = sim.global_contract(account, at_block)
            first = sim.store.first_height(account)
            latest = sim.height
    assert record is not None
    if as_json:
        _print_json(_payload({**record.to_json(), "global_contract": uses}))
        return
    table = _grid()
    table.add_row("balance", format_near(record.balance))
    if record.locked:
        table.add_row("locked", f"{format_near(record.locked)} (staked)")
    if uses is not None:
        (kind, value), = uses.items()
        table.add_row("global contract", escape(f"{kind} {value}"))
    else:
        table.add_row("code hash", record.code_hash or "[dim](no contract)[/]")
    table.add_row("storage", f"{record.storage_usage} bytes")
    if first is not None:  # the block whose end state first holds it (RPC view_account)
        table.add_row("created", f"in block #{first}" + (" (the next block: not made yet)"
                                                         if first > latest else ""))
    _out().print(Panel(table, title=escape(account), expand=False))


@app.command()
def tx(
    ctx: typer.Context,
    tx_hash: Annotated[str, typer.Argument(help="Transaction hash (from a call's output).")],
    as_json: JsonOpt = False,
) -> None:
    """Show a transaction's outcome tree: every receipt it caused, as it stands now."""
    with _errors(as_json):
        with _simulator(ctx) as sim:
            final = sim.tx_outcome(tx_hash)
    if as_json:
        status = {"SuccessValue": "success", "Failure": "failure"}.get(final.status, "pending")
        _print_json({**final.to_json(), "final_status": final.status_json(),
                     "status": status, "tx_hash": final.tx_hash,
                     "result": decode_result(final.value) if final.value else None,
                     "logs": final.logs, "gas_burnt": final.total_gas_burnt,
                     "error": final.error.to_dict() if final.error else None})
        return
    _out().print(outcome_tree(final))


@app.command("fast-forward")
def fast_forward(
    ctx: typer.Context,
    blocks: Annotated[int, typer.Argument(help="How many blocks to produce.", min=0)],
    as_json: JsonOpt = False,
) -> None:
    """Produce BLOCKS blocks: receipts in flight run and yields time out as they would."""
    with _errors(as_json):
        with _simulator(ctx) as sim:
            ran = sim.fast_forward(blocks)
            height = sim.height
    if as_json:
        _print_json(_payload({"height": height, "receipts": [o.to_json() for o in ran]},
                             logs=[line for o in ran for line in o.logs],
                             gas_burnt=sum(o.gas_burnt for o in ran)))
        return
    out = _out()
    out.print(f"now at block #{height}; {len(ran)} receipt(s) ran")
    for outcome in ran:
        out.print(_outcome_label(outcome))


@app.command("set-timestamp")
def set_timestamp(
    ctx: typer.Context,
    timestamp: Annotated[int, typer.Argument(help="Nanoseconds since the Unix epoch.")],
    as_json: JsonOpt = False,
) -> None:
    """Give the next block exactly this timestamp (later blocks follow at the block time)."""
    with _errors(as_json):
        with _simulator(ctx) as sim:
            sim.set_timestamp(timestamp)
    if as_json:
        _print_json(_payload({"next_timestamp_ns": timestamp}))
        return
    _out().print(f"the next block's timestamp will be {timestamp}")


@app.command()
def pending(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Show receipts in flight: queued for a block, waiting for data, yields waiting."""
    with _errors(as_json):
        with _simulator(ctx) as sim:
            data = sim.pending()
            height = sim.height
    if as_json:
        _print_json(_payload(data, height=height))
        return
    out = _out()
    out.print(f"block #{height}")
    for label, items in (("queued", data["queued"]), ("waiting for data", data["postponed"]),
                         ("yields", data["yields"])):
        out.print(f"[bold]{label}[/]: {len(items) or '[dim]none[/]'}")
        for item in items:
            where = (f" (runs at #{item['height']})" if "height" in item else
                     f" (times out at #{item['expires_at']})" if "expires_at" in item else "")
            what = _action_text(item.get("actions", [])) or item["type"]
            out.print(f"  {escape(item['receiver_id'])} ← {escape(item['predecessor_id'])}: "
                      f"{escape(what)}{where}")


@app.command()
def keys(ctx: typer.Context, account: AccountArg, as_json: JsonOpt = False) -> None:
    """List the access keys of ACCOUNT."""
    with _errors(as_json):
        with _simulator(ctx) as sim:
            listed = sim.access_keys(account)
    if as_json:
        _print_json(_payload(listed, account_id=account))
        return
    table = Table(title=f"access keys of {escape(account)}")
    table.add_column("public key", overflow="fold")
    table.add_column("nonce")
    table.add_column("permission", overflow="fold")
    for key in listed:
        permission = key["access_key"]["permission"]
        if isinstance(permission, dict):
            body = permission["FunctionCall"]
            allowance = body["allowance"]
            permission = (f"calls to {body['receiver_id']} "
                          f"({', '.join(body['method_names']) or 'any method'}), allowance "
                          + ("unlimited" if allowance is None else format_near(int(allowance))))
        table.add_row(key["public_key"], str(key["access_key"]["nonce"]), escape(permission))
    if not listed:
        table.add_row("[dim](none)[/]", "", "")
    _out().print(table)


@app.command()
def transfer(
    ctx: typer.Context,
    receiver: Annotated[str, typer.Argument(help="Account that receives the amount.")],
    amount: Annotated[str, typer.Argument(help="yoctoNEAR, or e.g. 1.5NEAR.")],
    signer: Annotated[str | None, typer.Option(
        "--signer", help=f"Signer account (default {DEFAULT_SIGNER}).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Send AMOUNT from the signer to RECEIVER (a Transfer transaction)."""
    with _errors(as_json):
        action = chain_actions.transfer(parse_amount(amount))
        with _simulator(ctx) as sim:
            result = sim.transact(signer or DEFAULT_SIGNER, receiver, [action])
    _show_call(result, f"transfer to {receiver}", as_json)


@app.command()
def stake(
    ctx: typer.Context,
    account: AccountArg,
    amount: Annotated[str, typer.Argument(help="The new stake: yoctoNEAR or e.g. 20NEAR; "
                                               "0 unstakes.")],
    public_key: Annotated[str, typer.Argument(help="Validator key, ed25519:<base58>.")],
    as_json: JsonOpt = False,
) -> None:
    """Stake AMOUNT of ACCOUNT's balance (a Stake transaction signed by ACCOUNT): raising it
    locks at once, lowering it is released at the next epoch boundary."""
    with _errors(as_json):
        action = chain_actions.stake(parse_amount(amount), public_key)
        with _simulator(ctx) as sim:
            result = sim.transact(account, account, [action])
    _show_call(result, f"stake of {account}", as_json)


@app.command("patch-state")
def patch_state(
    ctx: typer.Context,
    account: Annotated[str | None, typer.Argument(
        metavar="ACCOUNT", help="Account id, e.g. counter.test.", show_default=False)] = None,
    key: Annotated[str | None, typer.Argument(
        metavar="KEY", help="Storage key (text, or 0x-prefixed hex).",
        show_default=False)] = None,
    value: Annotated[str | None, typer.Argument(
        metavar="VALUE",
        help="New value (text, or 0x-prefixed hex); omit with --remove.")] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Remove the key.")] = False,
    records: Annotated[Path | None, typer.Option(
        "--records", help="Instead: a JSON file of nearcore StateRecords (a list, or "
        "{records: [...]} as sandbox_patch_state takes; - for stdin): Account, AccessKey, "
        "Contract and Data records, all or none.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write one storage entry of ACCOUNT directly, as near-workspaces' patch_state, or
    nearcore StateRecords (--records), as near-sandbox's sandbox_patch_state; recorded in
    the history, replayed by `verify`."""
    with _errors(as_json):
        if records is not None:
            if account is not None or key is not None or value is not None or remove:
                raise UserError("give either --records FILE, or ACCOUNT KEY VALUE / --remove")
            doc = _json_file(records)
            listed = doc.get("records") if isinstance(doc, dict) else doc
            with _simulator(ctx) as sim:
                sim.patch_records(listed)
            if as_json:
                _print_json(_payload({"records": len(listed)}))
            else:
                _out().print(f"patched {len(listed)} record(s)")
            return
        if account is None or key is None:
            raise UserError("give ACCOUNT and KEY (or --records FILE)")
        if (value is None) != remove:
            raise UserError("give a VALUE, or --remove to delete the key")
        with _simulator(ctx) as sim:
            sim.patch_state(account, text_to_bytes(key),
                            None if value is None else text_to_bytes(value))
    if as_json:
        _print_json(_payload({"account_id": account, "key": key, "value": value}))
        return
    _out().print(f"{escape(account or '')}: {escape(key or '')} "
                 + ("removed" if value is None else f"= {escape(value)}"))


def _json_file(path: Path) -> Any:
    """A JSON document from a file, or stdin for `-`."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UserError(f"{path} is not JSON: {exc}") from None


@app.command()
def block(
    ctx: typer.Context,
    height: Annotated[int | None, typer.Argument(help="Block height (default: the latest).",
                                                 min=0)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a block: timestamp, seed, state root, outcomes root, inputs root, hash."""
    with _errors(as_json):
        with _simulator(ctx) as sim:
            found = sim.block if height is None else sim.store.get_block(height)
            if found is None:
                raise UserError(f"no block {height} (the latest is {sim.height})")
            outcomes = sim.block_outcomes(found.height)

    def hx(value: bytes | None) -> str | None:
        return None if value is None else value.hex()

    doc = {"height": found.height, "timestamp_ns": found.timestamp_ns,
           "random_seed": found.random_seed.hex(), "state_root": hx(found.state_root),
           "outcomes_root": hx(found.outcomes_root), "inputs_root": hx(found.inputs_root),
           "hash": hx(found.hash), "outcomes": [o.to_json() for o in outcomes]}
    if as_json:
        _print_json(_payload(doc))
        return
    table = _grid()
    for name in ("timestamp_ns", "random_seed", "state_root", "outcomes_root", "inputs_root",
                 "hash"):
        table.add_row(name.replace("_", " "), str(doc[name] or "[dim](none)[/]"))
    table.add_row("outcomes", str(len(outcomes)))
    out = _out()
    out.print(Panel(table, title=f"block #{found.height}", expand=False))
    for outcome in outcomes:
        out.print(_outcome_label(outcome))


@app.command()
def verify(
    ctx: typer.Context,
    from_block: Annotated[int | None, typer.Option(
        "--from-block", min=0, help="Start from the state at the end of block N - 1 (a "
                                    "checkpoint rebuilt from the history and checked "
                                    "against its state root) instead of genesis.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Replay the whole recorded history on a fresh in-memory chain, re-executing every
    receipt, and check every block's outcomes, state changes and roots, then the live
    state. Exit 1 naming the first divergence."""
    with _errors(as_json):
        with _simulator(ctx) as sim:
            report = sim.verify(from_block)
    if as_json:
        _print_json({"status": "success" if report.ok else "failure", "result": report.to_json(),
                     "logs": [], "gas_burnt": 0,
                     "error": None if report.ok else {
                         "kind": "Divergence",
                         "message": report.divergence.message() if report.divergence else ""}})
    else:
        span = f"blocks #{report.from_block}..#{report.to_block}"
        summary = (f"{report.blocks} blocks, {report.transactions} transactions, "
                   f"{report.receipts} receipts in {report.seconds:.2f} s")
        if report.ok:
            _out().print(f"[green]✓ verified[/] {span}: {summary}; every outcome, state "
                         f"change and root matches, and so does the live state\n"
                         f"[dim]tip hash {report.tip_hash}[/]")
        else:
            assert report.divergence is not None
            _out().print(f"[red]✗ divergence[/] after checking {summary}:\n"
                         f"{escape(report.divergence.message())}")
        for warning in report.warnings:
            _err().print(f"[yellow]warning:[/] {escape(warning)}")
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def replay(
    ctx: typer.Context,
    tx_hash: Annotated[str, typer.Argument(help="Transaction hash (from a call's output).")],
    as_json: JsonOpt = False,
) -> None:
    """Re-execute a past transaction on the state as of just before it, printing every
    host call of its receipts with its gas, and whether the outcomes match the record."""
    with _errors(as_json):
        with _simulator(ctx) as sim:
            replayed = sim.replay_tx(tx_hash)
    ok = replayed.divergence is None
    if as_json:
        _print_json({"status": "success" if ok else "failure", "result": replayed.to_json(),
                     "logs": [line for r in replayed.receipts for line in r.outcome.logs],
                     "gas_burnt": sum(r.outcome.gas_burnt for r in replayed.receipts),
                     "error": None if ok else {"kind": "Divergence", "message":
                                               replayed.divergence.message()
                                               if replayed.divergence else ""}})
    else:
        _print_replay(replayed)
    if not ok:
        raise typer.Exit(EXIT_FAILED)


def printable(text: str) -> str:
    """`text` for a terminal: characters that would move the cursor or vanish (NUL, control,
    format, unassigned) as ``\\xNN`` / ``\\uNNNN``, and ``\\`` doubled so the escapes are
    unambiguous. near-sdk-js collection keys such as ``h\\x00\\x00\\x00\\x00`` need this."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else
                       f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


def _print_wide(out: Console, table: Table, limit: int = 160) -> None:
    """Print `table` at its natural width (up to `limit`) when the output is not a terminal
    (a pipe or file has no width; 80 would fold every long host-call name); a terminal
    folds the wide columns to fit."""
    if not out.is_terminal:
        natural = Measurement.get(out, out.options.update_width(limit), table).maximum
        out = Console(highlight=False, soft_wrap=True, emoji=False,
                      width=min(max(natural, out.width), limit))
    out.print(table)


def _print_replay(replayed: TxReplay) -> None:
    out = _out()
    out.print(f"replay of transaction {replayed.tx_hash} (blocks #{replayed.from_block}.."
              f"#{replayed.to_block}, {replayed.seconds * 1000:.1f} ms)")
    for receipt in replayed.receipts:
        mark = "[green]✓ matches the record[/]" if receipt.matches else "[red]✗ differs[/]"
        out.print(f"\n{_outcome_label(receipt.outcome)}\n{mark}")
        for run in receipt.runs:
            out.print(f"[bold]{escape(run.method)}()[/]: {run.outcome.burnt_gas:,} gas burnt "
                      f"({format_tgas(run.outcome.burnt_gas)}), {len(run.trace or [])} host "
                      "calls")
            calls = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="dim")
            calls.add_column("#", justify="right", no_wrap=True)
            longest = max((len(name) for name, *_ in run.trace or []), default=9)
            calls.add_column("host call", overflow="fold", min_width=min(longest, 20))
            for heading in ("gas before", "host gas", "wasm gas"):
                calls.add_column(heading, justify="right", no_wrap=True)
            calls.add_column("args", overflow="fold", min_width=8)
            previous = 0
            for i, (name, args, before, after) in enumerate(run.trace or [], 1):
                calls.add_row(str(i), escape(name), f"{before:,}", f"{after - before:,}",
                              f"{before - previous:,}", ", ".join(map(str, args)))
                previous = after
            _print_wide(out, calls)
            profile = dict(run.outcome.profile)
            spent = ", ".join(f"{name} {gas:,}" for name, (_n, gas) in sorted(
                profile.items(), key=lambda item: -item[1][1]) if gas)
            out.print(f"[dim]profile: {escape(spent)}[/]")
    if replayed.divergence is not None:
        out.print(f"[red]✗ divergence:[/] {escape(replayed.divergence.message())}")
    for warning in replayed.warnings:
        _err().print(f"[yellow]warning:[/] {escape(warning)}")


@app.command("build")
def build_command(
    file: Annotated[Path, typer.Argument(help="A near-sdk-js contract: .ts or .js.")],
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="Where to write the bundle (default build/<name>.js).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Bundle a near-sdk-js contract (TypeScript, decorators, near-sdk-js itself) into one
    ES module that OutLayer deploys (`outlayer deploy` does this by itself for .ts files
    and .js files that import near-sdk-js). Cached by its inputs."""
    with _errors(as_json):
        from outlayer.sdkjs.bundler import build, default_output, write_bundle

        bundle = build(file)
        out = output or default_output(file)
        write_bundle(bundle, out)
    info = {"output": str(out), "size": len(bundle.code), "exports": list(bundle.exports),
            "cached": bundle.cached}
    if as_json:
        _print_json(_payload(info))
    else:
        _out().print(f"built [bold]{escape(str(out))}[/] ({len(bundle.code):,} bytes"
                     f"{', cached' if bundle.cached else ''}); methods: "
                     f"{escape(', '.join(bundle.exports)) or '(none)'}")


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


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 3030,
    db: Annotated[str | None, typer.Option(
        "--db", help="State file (default: the global --db, else .outlayer/state.db).")] = None,
    config: Annotated[Path | None, typer.Option(
        "--config", help="Node config (JSON or TOML: chain_id, genesis accounts and keys); "
                         "default node.json beside the state file, made on a fresh start.")
    ] = None,
    tx_timeout: Annotated[float | None, typer.Option(
        "--tx-timeout", help="Seconds a send_tx / broadcast_tx_commit / tx request waits for "
                             "its transaction to finish (e.g. on a yield) before answering "
                             "TIMEOUT_ERROR; default 10, as nearcore.")] = None,
) -> None:
    """Run a local NEAR node: JSON-RPC at POST / (and the playground, when installed)."""
    from outlayer.service.app import ServiceConfig
    from outlayer.service.app import serve as run_node

    options: _Options = ctx.obj or _Options()
    with _errors(False):
        run_node(host, port, ServiceConfig(db=db or options.db, config_file=config),
                 tx_timeout=tx_timeout)


@app.command("workspaces-shim")
def workspaces_shim(
    folder: Annotated[Path, typer.Argument(help="Folder to write `near-sandbox` into.")],
) -> None:
    """Write a `near-sandbox` for near-workspaces' sandbox network: each Worker it starts
    gets its own `outlayer serve` instead of a downloaded near-sandbox."""
    from outlayer import near_sandbox

    with _errors(False):
        shim = near_sandbox.write_shim(folder)
    _err().print(f"wrote {escape(str(shim))}; run your near-workspaces suite with:")
    for name, value in near_sandbox.environment(folder).items():
        print(f"export {name}={shlex.quote(value)}")


@app.command("near-sandbox", hidden=True,
             context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def near_sandbox_command(ctx: typer.Context) -> None:
    """near-sandbox's command line (`--home DIR init`, `--home DIR run --rpc-addr H:PORT`),
    as near-workspaces calls it through `workspaces-shim`."""
    from outlayer import near_sandbox
    from outlayer.service.app import ServiceConfig
    from outlayer.service.app import serve as run_node

    with _errors(False):
        invocation = near_sandbox.parse(ctx.args)
        near_sandbox.prepare(invocation)
        if invocation.command == "run":
            assert invocation.port is not None
            os.chdir(invocation.home)  # `serve` keeps its state in the working directory
            run_node("127.0.0.1", invocation.port, ServiceConfig())


if __name__ == "__main__":
    app()
