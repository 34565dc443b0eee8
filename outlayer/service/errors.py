"""JSON-RPC error objects shaped like nearcore's.

nearcore answers every failure with ``{"name", "cause": {"name", "info"}, "code", "message",
"data"}``: `name` is the family (REQUEST_VALIDATION_ERROR, HANDLER_ERROR, INTERNAL_ERROR),
`cause.name` the specific error (UNKNOWN_ACCOUNT, INVALID_TRANSACTION, ...), `code` the
JSON-RPC code (-32700 parse error, of the body or of its params, as nearcore's RpcParseError;
-32600 not a JSON-RPC request; -32601 method not found; -32000 server/handler error) and
`data` the legacy free-form detail clients still read (near-api-js reads
``data.TxExecutionError`` for a refused transaction).
"""

from __future__ import annotations

from typing import Any

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
SERVER_ERROR = -32000

_MESSAGES = {PARSE_ERROR: "Parse error", INVALID_REQUEST: "Invalid request",
             METHOD_NOT_FOUND: "Method not found", SERVER_ERROR: "Server error"}


class RpcError(Exception):
    """One JSON-RPC error; `to_json` is the response's ``error`` member."""

    def __init__(self, name: str, cause: str, info: dict[str, Any] | None = None, *,
                 code: int = SERVER_ERROR, data: Any = None) -> None:
        self.name = name
        self.cause = cause
        self.info = info or {}
        self.code = code
        self.data = data
        super().__init__(f"{cause}: {data if data is not None else self.info}")

    #: False for causes nearcore serializes without `info` (unit variants: TIMEOUT_ERROR)
    has_info = True

    def to_json(self) -> dict[str, Any]:
        cause: dict[str, Any] = {"name": self.cause}
        if self.has_info:
            cause["info"] = self.info
        return {"name": self.name, "cause": cause,
                "code": self.code, "message": _MESSAGES.get(self.code, "Server error"),
                "data": self.data if self.data is not None else self.info}


def parse_error(message: str) -> RpcError:
    """The request body or its params could not be read (nearcore's PARSE_ERROR)."""
    return RpcError("REQUEST_VALIDATION_ERROR", "PARSE_ERROR", {"error_message": message},
                    code=PARSE_ERROR, data=message)


def bad_params(message: str) -> RpcError:
    """The params have the wrong shape or a value that does not parse (a bad hash, base64,
    height): nearcore's RpcParseError, the same PARSE_ERROR with code -32700 for all."""
    return parse_error(message)


def invalid_request(message: str) -> RpcError:
    return RpcError("REQUEST_VALIDATION_ERROR", "PARSE_ERROR", {"error_message": message},
                    code=INVALID_REQUEST, data=message)


def method_not_found(method: str) -> RpcError:
    return RpcError("REQUEST_VALIDATION_ERROR", "METHOD_NOT_FOUND", {"method_name": method},
                    code=METHOD_NOT_FOUND, data=method)


def handler(cause: str, info: dict[str, Any] | None = None, data: Any = None) -> RpcError:
    return RpcError("HANDLER_ERROR", cause, info, code=SERVER_ERROR, data=data)


def internal(message: str) -> RpcError:
    return RpcError("INTERNAL_ERROR", "INTERNAL_ERROR", {"error_message": message},
                    code=SERVER_ERROR, data=message)


def invalid_transaction(detail: Any, message: str) -> RpcError:
    """A transaction refused before it ran (nearcore's InvalidTxError, e.g. InvalidNonce)."""
    tx_error = {"TxExecutionError": {"InvalidTxError": detail}}
    return RpcError("HANDLER_ERROR", "INVALID_TRANSACTION",
                    {**tx_error, "error_message": message}, code=SERVER_ERROR, data=tx_error)


def timeout() -> RpcError:
    """The transaction did not reach the wait_until asked for in time (nearcore's
    RpcTransactionError::TimeoutError: a cause without info, data "Timeout")."""
    error = RpcError("HANDLER_ERROR", "TIMEOUT_ERROR", code=SERVER_ERROR, data="Timeout")
    error.has_info = False
    return error
