"""The web playground at ``/``: edit, deploy, call and inspect JS contracts in a browser.

`install(app)` adds the page (``GET /``), its bundled assets (``/playground/…``, built from
the repo's ``web/`` npm project into ``web/dist`` by `make setup`: CodeMirror and the UI, all
local, no CDN) and the JSON API of `outlayer.service.playground.api`. The app must carry a
`outlayer.service.node.Node` as ``app.state.node``: every chain access goes through it.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response

from outlayer.service.playground.api import router

#: where `npm run build` in web/ puts the page
DIST = Path(__file__).resolve().parents[3] / "web" / "dist"
_ASSET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OutLayer playground: not built</title>
</head><body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>The playground is not built</h1>
<p>This server found no <code>{dist}/index.html</code>. Run <code>make setup</code> in the
OutLayer repository (or <code>cd web &amp;&amp; npm ci --ignore-scripts &amp;&amp;
npm run build</code>), then reload this page.</p>
<p>The JSON-RPC endpoint (<code>POST /</code>) and the playground API
(<code>/api/playground/</code>) work without it.</p>
</body></html>
"""


def install(app: FastAPI, dist: Path | None = None) -> None:
    """Serve the playground page and API on `app` (`dist`: the built page, default web/dist)."""
    folder = DIST if dist is None else Path(dist)
    _no_cache = {"Cache-Control": "no-cache"}

    async def index() -> Response:
        page = folder / "index.html"
        if not page.is_file():
            return HTMLResponse(NOT_BUILT.format(dist=folder), status_code=503)
        return FileResponse(page, headers=_no_cache)

    async def asset(name: str) -> Response:
        path = folder / name
        if not _ASSET.fullmatch(name) or not path.is_file():
            return HTMLResponse(f"no playground asset {name!r}", status_code=404)
        return FileResponse(path, headers=_no_cache)

    app.add_api_route("/", index, methods=["GET"], include_in_schema=False)
    app.add_api_route("/playground/{name}", asset, methods=["GET"], include_in_schema=False)
    app.include_router(router)
