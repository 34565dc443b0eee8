"""The playground's JSON API under ``/api/playground/``: deploy, call, view, contract,
determinism check and security demos, all run on the node's chain thread.

Every error is ``{"error": {"kind", "message"}}`` with a 4xx status naming the problem (5xx
only for a bug of OutLayer's); the simulator guarantees that a refused deploy or a failed
call writes nothing.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from outlayer.chain.accounts import DEFAULT_SIGNER
from outlayer.chain.simulator import DEFAULT_GAS
from outlayer.errors import AccountNotFound, OutLayerError, UserError
from outlayer.service.playground import demos, ops
from outlayer.service.rpc import nesting_error

log = logging.getLogger(__name__)

#: the repository's example contracts (absent in an installed package: the list is empty)
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
#: a request body over this is refused before it is parsed (contracts are at most 4 MiB)
MAX_BODY = 8 * 1024 * 1024

router = APIRouter(prefix="/api/playground")


class BadRequest(UserError):
    kind = "BadRequest"


class NotFound(UserError):
    kind = "NotFound"


_MISSING = object()


async def _body(request: Request, allowed: set[str]) -> dict[str, Any]:
    """The JSON object body, refusing oversized or too deeply nested bodies (the JSON-RPC's
    depth guard: the parser would recurse past Python's limit), non-objects and unknown
    fields."""
    size, chunks = 0, []
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise BadRequest(f"request body is over the limit of {MAX_BODY} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    too_deep = nesting_error(body)
    if too_deep is not None:
        raise BadRequest(too_deep)
    try:
        doc = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"request body is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise BadRequest(f"request body must be a JSON object, not {type(doc).__name__}")
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise BadRequest(f"unknown field(s) {', '.join(unknown)}; expected: "
                         f"{', '.join(sorted(allowed))}")
    return doc


def _get(doc: dict[str, Any], name: str, kinds: tuple[type, ...], default: Any = _MISSING
         ) -> Any:
    value = doc.get(name, _MISSING)
    if value is _MISSING or value is None:
        if default is _MISSING:
            raise BadRequest(f"field {name!r} is required")
        return default
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        wanted = " or ".join(k.__name__ for k in kinds)
        raise BadRequest(f"field {name!r} must be {wanted}, not {type(value).__name__}")
    return value


def _args(doc: dict[str, Any]) -> str | None:
    """`args` as JSON text: a string is passed through (the simulator says what is wrong
    with it), an object is serialized; empty means no arguments."""
    value = _get(doc, "args", (str, dict, list), None)
    if isinstance(value, str):
        return value if value.strip() else None
    return None if value is None else json.dumps(value)


_CALL_FIELDS = {"account_id", "method", "args", "signer_id", "deposit", "gas"}


def _spec(doc: dict[str, Any], *, view: bool) -> ops.CallSpec:
    return ops.CallSpec(
        account_id=_get(doc, "account_id", (str,)), method=_get(doc, "method", (str,)),
        args=_args(doc), view=view,
        signer_id=_get(doc, "signer_id", (str,), DEFAULT_SIGNER) or DEFAULT_SIGNER,
        deposit=str(_get(doc, "deposit", (str, int), "0") or "0"),
        gas=str(_get(doc, "gas", (str, int), DEFAULT_GAS) or DEFAULT_GAS))


async def _answer(request: Request, work: Callable[[], Awaitable[Any]]) -> JSONResponse:
    try:
        return JSONResponse(await work())
    except OutLayerError as exc:
        status = 404 if isinstance(exc, NotFound | AccountNotFound) else 400
        return JSONResponse({"error": exc.to_dict()}, status_code=status)
    except Exception as exc:  # a bug of OutLayer's: say so, keep serving
        log.exception("playground request %s failed", request.url.path)
        return JSONResponse({"error": {"kind": "InternalError",
                                       "message": f"{type(exc).__name__}: {exc}"}},
                            status_code=500)


def examples() -> list[dict[str, str]]:
    """The plain JS examples, then the near-sdk-js ones (examples/sdkjs/*.ts: Deploy bundles
    them with the near-sdk-js toolchain first)."""
    if not EXAMPLES.is_dir():
        return []
    plain = [{"name": p.name, "account_id": f"{p.stem.replace('_', '-')}.test",
              "source": p.read_text(encoding="utf-8")} for p in sorted(EXAMPLES.glob("*.js"))]
    sdkjs = [{"name": f"sdkjs/{p.name}", "account_id": f"{p.stem.replace('_', '-')}-ts.test",
              "source": p.read_text(encoding="utf-8")}
             for p in sorted((EXAMPLES / "sdkjs").glob("*.ts"))]
    return plain + sdkjs


@router.get("/info")
async def info(request: Request) -> JSONResponse:
    """What the page needs at start: examples, demos and defaults."""
    async def work() -> dict[str, Any]:
        height = await request.app.state.node.run(lambda sim: sim.height)
        return {"examples": examples(), "demos": [d.to_json() for d in demos.DEMOS],
                "defaults": {"signer_id": DEFAULT_SIGNER, "gas": str(DEFAULT_GAS),
                             "runs": 100},
                "block_height": height, "max_runs": ops.MAX_RUNS}
    return await _answer(request, work)


@router.get("/contract/{account_id}")
async def contract(request: Request, account_id: str) -> JSONResponse:
    async def work() -> dict[str, Any]:
        return await request.app.state.node.run(ops.contract, account_id)
    return await _answer(request, work)


@router.post("/deploy")
async def deploy(request: Request) -> JSONResponse:
    async def work() -> dict[str, Any]:
        doc = await _body(request, {"account_id", "source", "realm"})
        realm = _get(doc, "realm", (dict,), None)
        account_id, source = _get(doc, "account_id", (str,)), _get(doc, "source", (str,))
        # a near-sdk-js source is bundled first, off the chain thread (seconds on a miss)
        bundle = await run_in_threadpool(ops.sdkjs_bundle, source)
        return await request.app.state.node.run(
            functools.partial(ops.deploy, built=bundle is not None), account_id,
            source if bundle is None else bundle, realm)
    return await _answer(request, work)


@router.post("/call")
async def call(request: Request) -> JSONResponse:
    async def work() -> dict[str, Any]:
        spec = _spec(await _body(request, _CALL_FIELDS), view=False)
        return await request.app.state.node.run(ops.call, spec)
    return await _answer(request, work)


@router.post("/view")
async def view(request: Request) -> JSONResponse:
    async def work() -> dict[str, Any]:
        spec = _spec(await _body(request, {"account_id", "method", "args"}), view=True)
        return await request.app.state.node.run(ops.call, spec)
    return await _answer(request, work)


@router.post("/determinism")
async def determinism(request: Request) -> JSONResponse:
    async def work() -> dict[str, Any]:
        doc = await _body(request, _CALL_FIELDS | {"view", "runs"})
        spec = _spec(doc, view=_get(doc, "view", (bool,), False))
        runs = _get(doc, "runs", (int,), 100)
        return await request.app.state.node.run(ops.determinism, spec, runs)
    return await _answer(request, work)


@router.post("/demos/{demo_id}")
async def demo(request: Request, demo_id: str) -> JSONResponse:
    async def work() -> dict[str, Any]:
        if demo_id not in demos.BY_ID:
            raise NotFound(f"no security demo {demo_id!r}; demos: {', '.join(demos.BY_ID)}")
        return await request.app.state.node.run(demos.run, demo_id)
    return await _answer(request, work)
