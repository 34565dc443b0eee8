"""The playground builds a pasted near-sdk-js source with the near-sdk-js toolchain (as
`outlayer build` does) and offers the examples/sdkjs contracts in its Example menu."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from outlayer.service.node import Node
from tests.service.test_playground_api import make_app

SDKJS = Path(__file__).resolve().parents[2] / "examples" / "sdkjs"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app, node = make_app()
    with TestClient(app) as test_client:
        yield test_client
    assert isinstance(node, Node)
    node.close()


def test_examples_include_the_sdkjs_contracts(client: TestClient) -> None:
    examples = client.get("/api/playground/info").json()["examples"]
    by_name = {e["name"]: e for e in examples}
    for path in SDKJS.glob("*.ts"):
        example = by_name[f"sdkjs/{path.name}"]
        assert example["source"] == path.read_text()
    assert by_name["sdkjs/counter.ts"]["account_id"] == "counter-ts.test"
    assert "counter.js" in by_name  # the plain examples stay


def test_a_pasted_sdkjs_counter_is_built_deployed_and_called(client: TestClient) -> None:
    source = (SDKJS / "counter.ts").read_text()
    deployed = client.post("/api/playground/deploy",
                           json={"account_id": "counter-ts.test", "source": source})
    assert deployed.status_code == 200, deployed.text
    doc = deployed.json()
    assert doc["built_with"] == "near-sdk-js"
    assert {"increment", "decrement", "get_count"} <= set(doc["methods"])
    called = client.post("/api/playground/call", json={
        "account_id": "counter-ts.test", "method": "increment", "args": '{"by": 2}'}).json()
    assert called["status"] == "success" and called["result"] == 2, called
    plain = client.post("/api/playground/deploy", json={
        "account_id": "plain.test", "source": "export function f() { return 1; }"}).json()
    assert plain["built_with"] is None


def test_a_build_error_names_the_pasted_file(client: TestClient) -> None:
    source = 'import { near } from "near-sdk-js";\nexport function f( {\n'
    response = client.post("/api/playground/deploy",
                           json={"account_id": "broken-ts.test", "source": source})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["kind"] == "BuildError"
    assert error["message"].startswith("contract.ts:3:"), error
    assert "playground" not in error["message"]  # not the cache folder it was built in
    assert client.get("/api/playground/contract/broken-ts.test").status_code == 404
