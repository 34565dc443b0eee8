"""Real NEAR clients, unmodified, against a live `outlayer serve`: near-api-js in Node
(tests/clients/js) and a Python client from PyPI (tests/clients/python)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.service.live import live_node, near_api_js, require_near_api_js

ROOT = Path(__file__).parents[2]
COUNTER = ROOT / "examples" / "counter.js"


@pytest.fixture
def live(tmp_path):
    with live_node(tmp_path) as node:
        yield node


@pytest.fixture
def node_js():
    require_near_api_js()  # before `live` starts


def test_near_api_js_creates_deploys_calls_views(node_js, live):
    report = near_api_js("scenario.mjs", live.url, live.key_file, COUNTER)
    assert report["chain_id"] == "localnet"
    assert f"created genesis account key: {live.key_file}" in live.log.read_text()
    assert report["create_status"] == {"SuccessValue": ""}
    assert report["deploy_status"] == {"SuccessValue": ""}
    assert report["call_results"] == [1, 2]
    assert report["call_logs"] == ["Counter incremented to 2"]
    assert report["view"] == 2
    assert report["state"] == [["count", "2"]]
    assert report["code_size"] == len(COUNTER.read_bytes())
    assert report["tx_status"] == {"SuccessValue": "Mg=="}  # base64 of "2"
    assert report["tx_signer"] == "test.near"
    assert report["tx_receipts"] >= 1
    assert report["keys"] == [report["app_public_key"]]
    assert report["unknown_account_error"].startswith("AccountDoesNotExistError")
    assert report["unknown_method_error"].startswith("ContractMethodNotFoundError"), \
        report["unknown_method_error"]


def test_py_near_creates_deploys_calls_views(live):
    run = subprocess.run([sys.executable, str(ROOT / "tests" / "clients" / "python" /
                                              "scenario.py"),
                          live.url, str(live.key_file), str(COUNTER)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr + run.stdout
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["chain_id"] == "localnet"
    assert report["create_status"] == {"SuccessValue": ""}
    assert report["deploy_status"] == {"SuccessValue": ""}
    assert report["call_logs"] == ["Counter incremented to 3"]
    assert report["call_status"] == {"SuccessValue": "Mw=="}  # base64 of "3"
    assert report["view"] == 3
    assert report["state"] == {"count": "3"}
    assert report["tx_status"] == report["call_status"]
    assert 0 < int(report["balance"]) <= 30 * 10**24
    # the outcome is on the chain under the hash the client computed itself
    status = live.rpc("tx", {"tx_hash": report["tx_hash"], "sender_account_id": "test.near"})
    assert status["result"]["transaction"]["signer_id"] == "test.near"
