"""The playground's JSON API over a real simulator: deploy, call, view, the determinism
check, the security demos (judged on the real outcome) and bad input (a clear error, no
state written)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from outlayer.chain.simulator import ContractSimulator
from outlayer.chain.units import TGAS
from outlayer.service.node import Node
from outlayer.service.playground import demos, install, ops
from outlayer.service.playground.api import router
from outlayer.service.rpc import MAX_JSON_DEPTH

COUNTER = (Path(__file__).resolve().parents[2] / "examples" / "counter.js").read_text()


def make_app(dist: Path | None = None) -> tuple[FastAPI, Node]:
    app = FastAPI()
    node = Node(lambda: ContractSimulator(db_path=":memory:"))
    app.state.node = node
    install(app, dist=dist)
    return app, node


@pytest.fixture(scope="module")
def node_client() -> Iterator[tuple[TestClient, Node]]:
    app, node = make_app()
    with TestClient(app) as client:
        deployed = client.post("/api/playground/deploy",
                               json={"account_id": "counter.test", "source": COUNTER})
        assert deployed.status_code == 200, deployed.text
        yield client, node
    node.close()


@pytest.fixture
def client(node_client: tuple[TestClient, Node]) -> TestClient:
    return node_client[0]


def chain_mark(client: TestClient) -> dict[str, Any]:
    contract = client.get("/api/playground/contract/counter.test").json()
    return {"height": contract["block_height"], "state": contract["state"],
            "balance": contract["balance"]}


def test_info_lists_examples_demos_and_defaults(client: TestClient) -> None:
    info = client.get("/api/playground/info").json()
    names = [e["name"] for e in info["examples"]]
    assert "counter.js" in names
    counter = next(e for e in info["examples"] if e["name"] == "counter.js")
    assert counter["source"] == COUNTER and counter["account_id"] == "counter.test"
    assert [d["id"] for d in info["demos"]] == [d.id for d in demos.DEMOS]
    assert info["defaults"]["runs"] == 100


def test_deploy_reports_methods_and_an_empty_state(client: TestClient) -> None:
    source = COUNTER + "\nexport function twice({ n }) { return n * 2; }\n"
    doc = client.post("/api/playground/deploy",
                      json={"account_id": "fresh.test", "source": source}).json()
    assert doc["created"] is True
    assert doc["methods"] == ["decrement", "get_count", "increment", "reset", "twice"]
    assert doc["contract"]["methods"] == doc["methods"]  # listed again from the stored code
    assert doc["contract"]["state"] == []
    assert doc["warnings"] == []
    again = client.get("/api/playground/contract/fresh.test").json()
    assert again["methods"] == doc["methods"] and again["code_hash"] == doc["code_hash"]


def test_call_shows_result_logs_gas_state_and_receipt_tree(client: TestClient) -> None:
    before = chain_mark(client)
    doc = client.post("/api/playground/call",
                      json={"account_id": "counter.test", "method": "increment",
                            "args": "{}", "signer_id": "alice.test"}).json()
    count = int(before["state"][0]["value"]) if before["state"] else 0
    assert doc["status"] == "success" and doc["result"] == count + 1
    assert doc["logs"] == [f"Counter incremented to {count + 1}"]
    assert 0 < doc["gas_burnt"] < doc["total_gas_burnt"]
    assert int(doc["tokens_burnt"]) > 0 and doc["wall_time_ms"] > 0
    assert doc["contract"]["state"] == [{"key": "count", "value": str(count + 1),
                                         "size": 5 + len(str(count + 1))}]
    root = doc["receipts"]
    assert root["receipt_kind"] == "transaction" and root["executor_id"] == "alice.test"
    action = root["children"][0]
    assert (action["receipt_kind"], action["executor_id"]) == ("action", "counter.test")
    assert action["logs"] == doc["logs"]
    assert action["status"] == {"SuccessValue": doc["final_status"]["SuccessValue"]}
    assert doc["contract"]["block_height"] > before["height"]


def test_view_reads_without_a_block(client: TestClient) -> None:
    before = chain_mark(client)
    doc = client.post("/api/playground/view",
                      json={"account_id": "counter.test", "method": "get_count"}).json()
    assert doc["kind"] == "view" and doc["receipts"] is None
    assert doc["result"] == (int(before["state"][0]["value"]) if before["state"] else 0)
    assert chain_mark(client) == before


@pytest.mark.parametrize("view", [False, True])
def test_determinism_x100_is_identical_and_keeps_nothing(client: TestClient,
                                                        view: bool) -> None:
    client.post("/api/playground/call", json={"account_id": "counter.test", "method": "reset"})
    before = chain_mark(client)
    doc = client.post("/api/playground/determinism",
                      json={"account_id": "counter.test", "view": view,
                            "method": "get_count" if view else "increment"}).json()
    assert doc["runs"] == 100 and doc["identical"] is True and doc["distinct_runs"] == 1
    assert {name: f["distinct"] for name, f in doc["fields"].items()} == {
        name: 1 for name in ops.FIELDS}
    assert doc["result"] == (0 if view else 1)
    assert doc["chain_unchanged"] is True and chain_mark(client) == before
    if not view:  # every trial sealed its own next block on the same state
        assert doc["state_root_after_call"] != doc["chain_before"]["state_root"]


def test_determinism_check_reports_a_difference(client: TestClient,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison is real: runs that differ (here: a log that counts calls) are named."""
    real = ops._execute
    seen: list[int] = []

    def varying(sim: ContractSimulator, spec: ops.CallSpec) -> Any:
        result = real(sim, spec)
        seen.append(1)
        result.logs = [*result.logs, f"run {len(seen) // 7}"]
        return result

    monkeypatch.setattr(ops, "_execute", varying)
    doc = client.post("/api/playground/determinism",
                      json={"account_id": "counter.test", "method": "increment",
                            "runs": 20}).json()
    assert doc["identical"] is False and doc["distinct_runs"] == 3
    assert doc["fields"]["logs"]["first_difference"] == 6
    assert doc["fields"]["result"]["identical"] and doc["fields"]["gas"]["identical"]


@pytest.mark.parametrize("demo", demos.DEMOS, ids=lambda d: d.id)
def test_security_demo_is_blocked_for_real(client: TestClient, demo: demos.Demo) -> None:
    doc = client.post(f"/api/playground/demos/{demo.id}").json()
    assert doc["blocked"] is True, doc["verdict"]
    assert doc["state_unchanged"] and doc["victim_after"] == "original" and doc["host_alive"]
    assert doc["state_before"] == doc["state_after"]
    call = doc["call"]
    if demo.id == "eval_escape":
        assert call["status"] == "success"
        assert all(route["reached"] == [] for route in call["result"].values())
        assert call["result"]["Function('return this')()"]["got"] == "undefined"
    else:
        assert call["status"] == "failure" and call["state_changes"] == {}
        assert call["attempted_changes"] == {"victim": "overwritten by the attack"}
        assert doc["verdict"].startswith(call["error"]["kind"])


def test_demo_outcomes_are_the_runtimes(client: TestClient) -> None:
    runs = {d: client.post(f"/api/playground/demos/{d}").json()["call"]
            for d in ("date_now", "infinite_loop", "memory_bomb", "prototype_pollution")}
    assert "Date.now() is not available" in runs["date_now"]["error"]["message"]
    assert runs["infinite_loop"]["error"]["kind"] == "GasExceeded"
    assert runs["infinite_loop"]["gas_burnt"] == 10 * TGAS
    assert runs["memory_bomb"]["error"]["kind"] == "MemoryLimitExceeded"
    assert "not extensible" in runs["prototype_pollution"]["error"]["message"]


def test_a_demo_that_is_let_through_is_reported_as_not_blocked(
        node_client: tuple[TestClient, Node]) -> None:
    """The verdict is judged from the outcome: the Date.now demo on a contract deployed with
    allow_date_now really returns a time, and the same judge says so."""
    client, node = node_client
    demo = demos.BY_ID["date_now"]
    client.post("/api/playground/deploy", json={"account_id": "clock.test",
                                                "source": demo.source,
                                                "realm": {"allow_date_now": True}})
    doc = node.call(ops.call, ops.CallSpec("clock.test", demo.method))
    blocked, verdict = demo.judge(doc)
    assert doc["status"] == "success" and isinstance(doc["result"], int)
    assert blocked is False and verdict == f"the call succeeded and returned {doc['result']}"


BAD = [
    ("call", b"{", 400, "BadRequest", "request body is not JSON"),
    ("call", b"[1]", 400, "BadRequest", "must be a JSON object"),
    ("call", b'{"account_id": "counter.test"}', 400, "BadRequest", "'method' is required"),
    ("call", b'{"account_id": 7, "method": "increment"}', 400, "BadRequest",
     "'account_id' must be str"),
    ("call", b'{"account_id": "counter.test", "method": "increment", "sneaky": 1}', 400,
     "BadRequest", "unknown field(s) sneaky"),
    ("call", b'{"account_id": "counter.test", "method": "increment", "args": "{oops"}', 400,
     "UserError", "args are not valid JSON"),
    ("call", b'{"account_id": "counter.test", "method": "increment", "gas": "lots"}', 400,
     "UserError", "gas"),
    ("call", b'{"account_id": "Not Valid", "method": "increment"}', 400, "InvalidAccountId",
     "invalid contract account id"),
    ("call", b'{"account_id": "ghost.test", "method": "increment"}', 404, "AccountNotFound",
     "does not exist"),
    ("view", b'{"account_id": "counter.test", "method": "increment"}', 200, "ProhibitedInView",
     ""),
    ("deploy", b'{"account_id": "broken.test", "source": "export function f( {"}', 400,
     "CompileError", "contract.js:1:"),
    ("deploy", b'{"account_id": "broken.test", "source": ""}', 400, "UserError", "empty"),
    ("deploy", b'{"account_id": "broken.test", "source": "export function f() {}", '
     b'"realm": {"allow_fetch": true}}', 400, "UserError", "allow_fetch"),
    ("determinism", b'{"account_id": "counter.test", "method": "increment", "runs": 0}', 400,
     "UserError", "runs must be an integer from 1 to 1000"),
    ("determinism", b'{"account_id": "counter.test", "method": "increment", "runs": true}',
     400, "BadRequest", "'runs' must be int"),
    ("demos/nope", b"{}", 404, "NotFound", "no security demo 'nope'"),
]


@pytest.mark.parametrize(("path", "body", "status", "kind", "says"), BAD)
def test_bad_input_is_a_clear_error_and_writes_nothing(client: TestClient, path: str,
                                                       body: bytes, status: int, kind: str,
                                                       says: str) -> None:
    before = chain_mark(client)
    response = client.post(f"/api/playground/{path}", content=body)
    assert response.status_code == status, response.text
    doc = response.json()
    error = doc["error"]
    assert error["kind"] == kind and says in error["message"], error
    if status == 200:  # the contract's own failure: a result with an error
        assert doc["status"] == "failure"
    assert chain_mark(client) == before
    assert client.get("/api/playground/contract/broken.test").status_code == 404


def test_unknown_method_fails_the_call_and_keeps_the_state(client: TestClient) -> None:
    before = chain_mark(client)
    doc = client.post("/api/playground/call",
                      json={"account_id": "counter.test", "method": "nope"}).json()
    assert doc["status"] == "failure" and doc["error"]["kind"] == "MethodNotFound"
    assert "exported functions: decrement, get_count, increment, reset" in doc["error"]["message"]
    after = chain_mark(client)
    assert after["state"] == before["state"]


def test_oversized_body_is_refused(client: TestClient) -> None:
    body = json.dumps({"account_id": "big.test", "source": "x" * (9 * 1024 * 1024)})
    response = client.post("/api/playground/deploy", content=body)
    assert response.status_code == 400
    assert "over the limit" in response.json()["error"]["message"]
    assert client.get("/api/playground/contract/big.test").status_code == 404


POST_ROUTES = sorted(route.path for route in router.routes
                     if "POST" in getattr(route, "methods", ()))


@pytest.mark.parametrize("path", POST_ROUTES)
def test_deeply_nested_bodies_are_a_clear_400(client: TestClient, path: str,
                                               caplog: pytest.LogCaptureFixture) -> None:
    """JSON nested past the JSON-RPC's depth limit is refused before it is parsed (Python's
    parser would hit its recursion limit: a 500 and a logged traceback)."""
    url = path.replace("{demo_id}", "no-such-demo")
    before = chain_mark(client)
    for depth in (100_000, MAX_JSON_DEPTH + 1):
        response = client.post(url, content=b"[" * depth + b"]" * depth)
        if "{demo_id}" in path:  # takes no body: the demo id decides
            assert response.status_code == 404, response.text
            continue
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["kind"] == "BadRequest" and "nested too deeply" in error["message"]
    at_limit = client.post(url, content=b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    assert at_limit.status_code in (400, 404) and "nested" not in at_limit.text
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert chain_mark(client) == before


def test_page_and_assets(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>pg</title>")
    (tmp_path / "app.js").write_text("console.log(1)")
    app, node = make_app(dist=tmp_path)
    with TestClient(app) as client:
        page = client.get("/")
        assert page.status_code == 200 and "<title>pg</title>" in page.text
        asset = client.get("/playground/app.js")
        assert asset.status_code == 200 and "javascript" in asset.headers["content-type"]
        assert client.get("/playground/..%2Fsecret").status_code == 404
        assert client.get("/playground/missing.js").status_code == 404
    node.close()


def test_page_says_to_run_make_setup_when_not_built(tmp_path: Path) -> None:
    app, node = make_app(dist=tmp_path / "nowhere")
    with TestClient(app) as client:
        page = client.get("/")
        assert page.status_code == 503 and "make setup" in page.text
        assert client.get("/api/playground/info").status_code == 200
    node.close()


def test_the_node_app_serves_the_playground_beside_json_rpc() -> None:
    """`create_app` installs the playground: GET / is the page, POST / stays JSON-RPC, and
    the playground's calls go to the same chain the RPC sees."""
    from outlayer.service.app import ServiceConfig, create_app

    with TestClient(create_app(ServiceConfig(db=":memory:"))) as client:
        page = client.get("/")
        assert page.status_code in (200, 503) and "playground" in page.text.lower()
        deployed = client.post("/api/playground/deploy",
                               json={"account_id": "counter.test", "source": COUNTER})
        assert deployed.status_code == 200, deployed.text
        client.post("/api/playground/call",
                    json={"account_id": "counter.test", "method": "increment"})
        rpc = client.post("/", json={"jsonrpc": "2.0", "id": 1, "method": "query", "params": {
            "request_type": "view_state", "finality": "final", "account_id": "counter.test",
            "prefix_base64": ""}}).json()
        assert rpc["result"]["values"] == [{"key": "Y291bnQ=", "value": "MQ=="}], rpc


def test_an_account_running_a_global_contract_lists_its_methods() -> None:
    sim = ContractSimulator(db_path=":memory:", gas_price=0)
    counter = Path(__file__).parents[2] / "examples" / "counter.js"
    deployed = sim.deploy_global("lib.test", counter)
    sim.create_account("user.test")
    sim.use_global("user.test", code_hash=deployed["identifier"]["CodeHash"])
    shown = ops.contract(sim, "user.test")
    assert shown["code_hash"] is None
    assert shown["global_contract"] == deployed["identifier"]
    assert "increment" in shown["methods"]
