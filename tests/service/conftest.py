"""A node on an in-memory chain, spoken to through its ASGI app (no socket)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import base58
import pytest
from fastapi.testclient import TestClient
from nacl.signing import SigningKey

from outlayer.service.app import ServiceConfig, create_app

#: a user account besides test.near, with a known ed25519 key (tests create it)
USER = "user.test.near"
USER_SEED = bytes(range(32))
USER_PK = b"\x00" + bytes(SigningKey(USER_SEED).verify_key)
USER_KEY = "ed25519:" + base58.b58encode(USER_PK[1:]).decode()


class Client:
    """JSON-RPC calls and signed transactions as test.near (the genesis key)."""

    def __init__(self, http: TestClient, seed: bytes) -> None:
        self.http = http
        self.seed = seed
        self.public_key = "ed25519:" + base58.b58encode(seed[32:]).decode() if len(seed) == 64 \
            else None
        self.nonce = 0

    def call(self, method: str, params: Any = None) -> dict[str, Any]:
        response = self.http.post("/", json={"jsonrpc": "2.0", "id": "t", "method": method,
                                             "params": params if params is not None else {}})
        assert response.status_code == 200, response.text
        return response.json()

    def result(self, method: str, params: Any = None) -> Any:
        reply = self.call(method, params)
        assert "error" not in reply, reply
        return reply["result"]

    def error(self, method: str, params: Any = None) -> dict[str, Any]:
        reply = self.call(method, params)
        assert "result" not in reply, reply
        return reply["error"]

    def query(self, request_type: str, **params: Any) -> Any:
        """A `query` of `request_type` at the final block."""
        return self.result("query", {"request_type": request_type, "finality": "final",
                                     **params})

    def block_hash(self) -> bytes:
        return base58.b58decode(self.result("block", {"finality": "final"})["header"]["hash"])


@pytest.fixture
def node() -> Iterator[Client]:
    config = ServiceConfig(db=":memory:")
    app = create_app(config)
    secret = config.node.secret_keys["test.near"]
    seed = base58.b58decode(secret.split(":", 1)[1])
    with TestClient(app) as http:
        yield Client(http, seed)
