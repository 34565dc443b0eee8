"""The playground end to end in a real headless Chromium (Debian's, never a downloaded
one), driven by Playwright, against a real `outlayer serve` app (uvicorn on a free port,
state in a temp file). Screenshots go to test-artifacts/playground/."""

from __future__ import annotations

import os
import re
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from outlayer.testing.environment import missing

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "test-artifacts" / "playground"
DIST = ROOT / "web" / "dist"


@pytest.fixture(scope="module", autouse=True)
def _chromium() -> None:
    """Skip without Debian's chromium (fail under OUTLAYER_REQUIRE_ALL=1)."""
    if not os.access(CHROMIUM, os.X_OK):
        missing(f"{CHROMIUM} is missing: install Debian's chromium "
                "(scripts/setup_system.sh) to run the browser tests")


#: what the test types into the editor: a new method that logs, writes and returns
TWICE = ("\nexport function twice({ n }) {\n"
         "  near.log(`doubling ${n}`);\n"
         "  near.storageWrite('last', JSON.stringify({ n, twice: n * 2 }));\n"
         "  return n * 2;\n}\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    import uvicorn

    from outlayer.service.app import ServiceConfig, create_app

    assert (DIST / "index.html").is_file(), "web/dist is not built: run `make setup`"
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(ServiceConfig(db=Path(tmp) / "state.db"))
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        srv = uvicorn.Server(config)
        thread = threading.Thread(target=srv.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not srv.started:
            assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
        srv.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True,
            viewport={"width": 1400, "height": 1000},
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        yield context
        context.close()


@pytest.fixture
def page(browser: object, server: str) -> Iterator[object]:
    """A fresh tab on the playground; fails the test on any page error and on any request
    that leaves the local server (the page must work offline)."""
    tab = browser.new_page()  # type: ignore[attr-defined]
    errors: list[str] = []
    outside: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("request", lambda req: None if req.url.startswith((server, "data:"))
           else outside.append(req.url))
    tab.goto(server + "/")
    tab.wait_for_selector("[data-demo=date_now]")
    yield tab
    tab.close()
    assert errors == [], errors
    assert outside == [], outside


def shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def text(page: object, selector: str) -> str:
    return page.locator(selector).inner_text()  # type: ignore[attr-defined]


def wait_ready(page: object) -> None:
    """The last action finished (buttons are disabled while one runs)."""
    page.wait_for_function("!document.querySelector('#deploy').disabled")  # type: ignore


def test_edit_deploy_call_view(page: object) -> None:
    assert page.locator("[data-testid=example]").input_value() == "counter.js"
    assert "export function increment" in page.evaluate("window.playground.source()")
    # edit in the editor: put the cursor at the end and type a new method
    page.click("[data-testid=editor] .cm-content")
    page.keyboard.press("Control+End")
    page.keyboard.insert_text(TWICE)
    assert page.evaluate("window.playground.source()").endswith(TWICE)
    page.fill("[data-testid=account]", "browser.test")
    page.click("[data-testid=deploy]")
    wait_ready(page)
    assert "methods: decrement, get_count, increment, reset, twice" in text(page, "[data-testid=deploy-info]")
    options = page.locator("[data-testid=method] option").all_inner_texts()
    assert options == ["decrement", "get_count", "increment", "reset", "twice"]
    # nothing was selected before: the sensible default, not the alphabetically first
    assert page.locator("[data-testid=method]").input_value() == "increment"

    page.select_option("[data-testid=method]", "twice")
    page.click("[data-testid=args] .cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.insert_text('{"n": 21}')
    page.click("[data-testid=call]")
    wait_ready(page)
    assert text(page, "[data-testid=status]") == "success"
    assert text(page, "[data-testid=result]") == "42"
    assert page.locator("[data-testid=logs] li").all_inner_texts() == ["doubling 21"]
    metrics = text(page, "[data-testid=metrics]")
    assert re.search(r"gas burnt \(method\)\s+[\d,]+ \(\d+\.\d{3} Tgas\)", metrics), metrics
    assert "tokens burnt" in metrics and "wall time" in metrics
    rows = page.locator("[data-testid=state-row]").all_inner_texts()
    assert len(rows) == 1 and rows[0].startswith("last") and '"twice": 42' in rows[0]
    receipts = page.locator("[data-testid=receipt]")
    assert receipts.count() >= 2  # the transaction, the receipt it made (and a refund)
    tree = text(page, "[data-testid=receipts]")
    assert "browser.test ← test.near" in tree and "✓ 42" in tree and "doubling 21" in tree
    shot(page, "call")

    # Ctrl+Enter in the args editor calls again: the counter goes up
    page.select_option("[data-testid=method]", "increment")
    page.click("[data-testid=args] .cm-content")
    page.keyboard.press("Control+Enter")
    wait_ready(page)
    assert text(page, "[data-testid=result]") == "1"
    assert page.locator("[data-testid=logs] li").all_inner_texts() == ["Counter incremented to 1"]

    page.select_option("[data-testid=method]", "get_count")
    page.click("[data-testid=view]")
    wait_ready(page)
    assert text(page, "[data-testid=status]") == "success"
    assert text(page, "[data-testid=result]") == "1"
    assert "a view runs no transaction" in text(page, "[data-testid=receipts]")
    keys = [r.split("\t")[0] for r in page.locator("[data-testid=state-row]").all_inner_texts()]
    assert keys == ["count", "last"]
    shot(page, "view")


def test_redeploy_keeps_the_method_and_sdkjs_examples_build(page: object) -> None:
    page.fill("[data-testid=account]", "keep.test")
    page.click("[data-testid=deploy]")
    wait_ready(page)
    page.select_option("[data-testid=method]", "reset")
    page.click("[data-testid=deploy]")  # the same account again: the choice stays
    wait_ready(page)
    assert page.locator("[data-testid=method]").input_value() == "reset"
    assert "warning" not in text(page, "[data-testid=deploy-info]")

    # a name nothing declares: the deploy warns, on a line of its own, where it is used
    page.click("[data-testid=editor] .cm-content")
    page.keyboard.press("Control+End")
    page.keyboard.insert_text("\nexport function typo() { return requier('x'); }\n")
    page.click("[data-testid=deploy]")
    wait_ready(page)
    lines = text(page, "[data-testid=deploy-info]").splitlines()
    assert "typo" in lines[0], lines
    assert re.fullmatch(r"warning: contract\.js:\d+:\d+: `requier` is declared nowhere .*"
                        r"ReferenceError", lines[1]), lines

    # a near-sdk-js example from the menu: Deploy bundles it with the near-sdk-js toolchain
    page.select_option("[data-testid=example]", "sdkjs/counter.ts")
    assert 'from "near-sdk-js"' in page.evaluate("window.playground.source()")
    assert page.locator("[data-testid=account]").input_value() == "counter-ts.test"
    page.click("[data-testid=deploy]")
    wait_ready(page)
    info = text(page, "[data-testid=deploy-info]")
    assert "built with near-sdk-js" in info and "increment" in info, info
    assert page.locator("[data-testid=method]").input_value() == "increment"
    page.click("[data-testid=call]")
    wait_ready(page)
    assert text(page, "[data-testid=status]") == "success"
    assert text(page, "[data-testid=result]") == "1"
    shot(page, "sdkjs-counter")


def test_determinism_x100(page: object) -> None:
    page.click("[data-testid=deploy]")  # counter.js to counter.test
    wait_ready(page)
    page.select_option("[data-testid=method]", "increment")
    height = text(page, "#height")
    page.click("[data-testid=determinism]")
    wait_ready(page)
    headline = text(page, "[data-testid=determinism-headline]")
    assert headline == "✓ identical: 100 of 100 runs bit-identical"
    assert re.search(r"digest of all fields [0-9a-f]{64}", text(page, "[data-testid=determinism-digest]"))
    assert text(page, "[data-testid=determinism-chain]").startswith(f"real chain unchanged: block {height}")
    report = text(page, "[data-testid=determinism-report]")
    for field in ("result", "logs", "gas", "state_changes", "receipts", "call_digest"):
        assert re.search(rf"{field}\s+1\s+[0-9a-f]{{16}}…", report), (field, report)
    shot(page, "determinism")


DEMO_SAYS = {
    "date_now": "Date.now() is not available",
    "math_random": "Math.random() is not available",
    "prototype_pollution": "object is not extensible",
    "json_hijack": "'stringify' is read-only",
    "rebind_near": "'near' is read-only",
    "eval_escape": "none reached a host global",
    "infinite_loop": "GasExceeded",
    "memory_bomb": "MemoryLimitExceeded",
    "deep_recursion": "RangeError",
}


def test_security_demos(page: object) -> None:
    ids = [e.get_attribute("data-demo") for e in page.locator("[data-demo]").all()]
    assert sorted(ids) == sorted(DEMO_SAYS)
    for demo, says in DEMO_SAYS.items():
        card = f"[data-testid=demo-{demo}]"
        page.click(f"[data-demo={demo}]")
        page.wait_for_selector(f"{card} [data-testid=demo-verdict]")
        assert text(page, f"{card} [data-testid=demo-verdict]") == "BLOCKED", demo
        assert says in text(page, f"{card} [data-testid=demo-detail]"), demo
        assert text(page, f"{card} [data-testid=demo-state]") == \
            'state unchanged: victim = "original"'
    assert "10.000 Tgas" in text(page, "[data-testid=demo-infinite_loop]")
    shot(page, "demos")


def test_bad_input_shows_a_clear_error(page: object) -> None:
    page.click("[data-testid=deploy]")
    wait_ready(page)
    page.select_option("[data-testid=method]", "increment")
    page.click("[data-testid=call]")
    wait_ready(page)
    state_before = page.locator("[data-testid=state-row]").all_inner_texts()
    assert len(state_before) == 1 and state_before[0].startswith("count")
    page.click("[data-testid=args] .cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.insert_text("{oops")
    page.click("[data-testid=call]")
    wait_ready(page)
    error = page.locator("[data-testid=error]")
    assert error.is_visible()
    assert "args are not valid JSON" in error.inner_text()
    assert page.locator("[data-testid=state-row]").all_inner_texts() == state_before
    shot(page, "bad-args")

    # a contract that does not parse: refused with line:column, nothing deployed
    page.click("[data-testid=editor] .cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.insert_text("export function broken( {\n")
    page.fill("[data-testid=account]", "broken.test")
    page.click("[data-testid=deploy]")
    wait_ready(page)
    assert re.search(r"CompileError\s+the contract does not compile: contract\.js:2:1: Unexpected token",
                     error.inner_text()), error.inner_text()
    assert page.locator("[data-testid=state-row]").all_inner_texts() == []
    page.fill("[data-testid=account]", "counter.test")
    page.dispatch_event("[data-testid=account]", "change")
    page.wait_for_function(
        "document.querySelector('#state-account').textContent === 'counter.test'"
        " && document.querySelectorAll('[data-testid=state-row]').length > 0")
    assert page.locator("[data-testid=state-row]").all_inner_texts() == state_before
    shot(page, "bad-deploy")
    page.click("#error-close")
    assert not error.is_visible()
