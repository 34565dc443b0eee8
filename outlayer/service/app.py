"""The node's ASGI app: NEAR JSON-RPC at ``POST /`` and, when installed, the playground.

`create_app(config)` opens the chain (one `Node`: one thread owns the simulator), applies
the genesis accounts of the node config, and serves JSON-RPC. Request bodies are read up
to `rpc.MAX_BODY_BYTES` and refused past it (HTTP 413 with a JSON-RPC error) without
reading the rest. The playground (`outlayer.service.playground.install`) adds ``GET /``,
its static files and ``/api/playground/*`` on the same node (``app.state.node``).
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import importlib.util
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from outlayer.chain.actions import add_full_access_key
from outlayer.chain.simulator import ContractSimulator
from outlayer.chain.store import MEMORY, default_db_path
from outlayer.errors import AccountAlreadyExists, UserError
from outlayer.service import config as node_config
from outlayer.service import errors
from outlayer.service.node import Node
from outlayer.service.rpc import DEFAULT_TX_TIMEOUT, MAX_BODY_BYTES, Rpc


@dataclass
class ServiceConfig:
    """Where the node keeps its state and its configuration.

    `db`: the state file (None: `.outlayer/state.db` of the working directory; ":memory:"
    keeps nothing). `config_file`: the node config (None: ``node.json`` beside the state
    file, created with a new `test.near` key on a fresh start; an in-memory chain without
    one keeps its new key in memory only: ``config.node.secret_keys``). `keys_dir`: where a
    fresh start writes key files (None: ``keys`` beside the config). `tx_timeout`: seconds
    send_tx / broadcast_tx_commit / tx wait for a transaction to finish (one waiting on a
    yield) before answering TIMEOUT_ERROR.
    """

    db: str | Path | None = None
    config_file: Path | None = None
    keys_dir: Path | None = None
    execution_mode: str = "quickjs"
    gas_price: int | None = None
    tx_timeout: float = DEFAULT_TX_TIMEOUT
    #: filled by create_app: the loaded node config
    node: node_config.NodeConfig = field(default_factory=node_config.NodeConfig)

    def config_path(self) -> Path | None:
        """The node config file (None: an in-memory chain with no file given)."""
        if self.config_file is not None:
            return self.config_file
        if self.db is None:
            return default_db_path().parent / "node.json"
        if str(self.db) == MEMORY:
            return None
        return Path(self.db).resolve().parent / "node.json"


def apply_genesis(sim: ContractSimulator, accounts: list[node_config.GenesisAccount]) -> list[str]:
    """Create the genesis accounts the chain does not have yet. An account that exists
    (e.g. made by `outlayer call` on this state file) but lacks its configured key gets it
    by a transaction of its own (recorded like any other); returns notes for the user."""
    notes = []
    for account in accounts:
        if sim.store.get_account(account.account_id) is None:
            sim.create_account(account.account_id, account.balance,
                               public_key=account.public_key,
                               keyless=account.public_key is None)  # as configured
            continue
        if account.public_key and sim.store.get_access_key(account.account_id,
                                                            account.public_key) is None:
            result = sim.transact(account.account_id, account.account_id,
                                  [add_full_access_key(account.public_key)])
            if result.ok:
                notes.append(f"added the configured key {account.public_key} to the "
                             f"existing account {account.account_id}")
            else:
                notes.append(f"could not add the configured key to the existing account "
                             f"{account.account_id}: {result.error}")
    return notes


def create_app(config: ServiceConfig | None = None) -> FastAPI:
    """The node app over `config`'s chain (see `ServiceConfig`)."""
    config = config or ServiceConfig()
    path = config.config_path()
    if config.config_file is not None and not Path(config.config_file).exists():
        # only the default path is made on a fresh start: a mistyped --config must not
        # become a new config, with a new key added to an existing chain
        raise UserError(f"config file {config.config_file} does not exist (leave --config "
                        "out to use, or make on the first start, node.json beside the "
                        "state file)")
    keys_dir = config.keys_dir or (path.parent / "keys" if path is not None else None)
    config.node = node_config.load_or_create(path, keys_dir)
    db = config.db

    def open_chain() -> ContractSimulator:
        if db is not None and str(db) != MEMORY:
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        return ContractSimulator(config.execution_mode, db_path=db,
                                 gas_price=config.gas_price)

    node = Node(open_chain)
    try:
        notes = node.call(apply_genesis, config.node.accounts)
    except AccountAlreadyExists:  # raced with another process: nothing to add
        notes = []
    except BaseException:
        node.close()
        raise

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            node.close()

    app = FastAPI(title="OutLayer node", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    rpc = Rpc(node, config.node.chain_id, config.tx_timeout, genesis=config.node.accounts)
    app.state.node = node
    app.state.rpc = rpc
    app.state.config = config
    app.state.notes = notes

    @app.post("/")
    async def json_rpc(request: Request) -> JSONResponse:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return _too_large()
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_BODY_BYTES:
                return _too_large()
        return JSONResponse(await rpc.handle(bytes(body)))

    if importlib.util.find_spec("outlayer.service.playground") is not None:
        importlib.import_module("outlayer.service.playground").install(app)
    return app


def _too_large() -> JSONResponse:
    error = errors.invalid_request(f"the request body is over {MAX_BODY_BYTES} bytes")
    return JSONResponse({"jsonrpc": "2.0", "id": None, "error": error.to_json()},
                        status_code=413)


def bind(host: str, port: int) -> socket.socket:
    """The node's listening socket, bound before anything is announced or written, so a
    busy port is a clear UserError (no keys made, nothing printed first)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UserError(f"cannot listen on {host!r}: {exc.strerror}") from None
    family, kind, proto, _name, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UserError(f"port {port} on {host} is in use: pass --port to choose "
                            "another") from None
        if exc.errno == errno.EACCES:
            raise UserError(f"no permission to listen on port {port} of {host}: pass "
                            "--port with a port above 1023") from None
        raise UserError(f"cannot listen on {host} port {port}: {exc.strerror}") from None
    return sock


def keyless_warnings(node: node_config.NodeConfig) -> list[str]:
    """A genesis account configured without a public_key has no access key: nobody can
    sign for it (it can still receive). Said out loud, since that is rarely meant."""
    where = f" in {node.path}" if node.path else ""
    return [f"genesis account {account.account_id} has no public_key{where}: it has no "
            "access key, so no transaction can be signed for it (add a public_key, e.g. "
            "from `near generate-key`, or delete the config to get a fresh test.near key)"
            for account in node.accounts if account.public_key is None]


#: said when the node listens beyond this machine
PLAYGROUND_OPEN = ("this node listens beyond this machine, and its playground API "
                   "(/api/playground/...) deploys contracts and sends calls as any account "
                   "without a signature: anyone who can reach the port can change the "
                   "chain. Signed JSON-RPC transactions are checked; the playground is for "
                   "local use")


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or name given to --host) only reaches this machine."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(host: str, port: int, config: ServiceConfig, tx_timeout: float | None = None
          ) -> None:
    """Run the node until interrupted (`outlayer serve`)."""
    import uvicorn

    if not 0 <= port <= 65535:
        raise UserError(f"--port must be 0..65535, got {port}")
    if tx_timeout is not None:
        if not 0 < tx_timeout <= 3600:
            raise UserError(f"--tx-timeout must be above 0 and at most 3600 seconds, got "
                            f"{tx_timeout}")
        config.tx_timeout = tx_timeout
    sock = bind(host, port)
    try:
        app = create_app(config)
    except BaseException:
        sock.close()
        raise
    where = config.config_path()
    print(f"OutLayer node: chain {config.node.chain_id!r}, state "
          f"{config.db or default_db_path()}, config {where or '(in memory)'}", flush=True)
    for path in config.node.created_keys:
        print(f"created genesis account key: {path} (near-cli credentials format)", flush=True)
    if where is None:  # an in-memory chain: its fresh key exists nowhere else
        for account_id, secret in config.node.secret_keys.items():
            print(f"in-memory chain: {account_id} private key {secret}", flush=True)
    for text in app.state.notes:
        print(f"note: {text}", flush=True)
    for text in keyless_warnings(config.node):
        print(f"warning: {text}", file=sys.stderr, flush=True)
    if not is_loopback(host):
        print(f"warning: {PLAYGROUND_OPEN}", file=sys.stderr, flush=True)
    bound = sock.getsockname()[1]
    print(f"JSON-RPC on http://{host}:{bound}/", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    server.run(sockets=[sock])
