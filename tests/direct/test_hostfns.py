"""Every NEAR host function from a direct wasm contract (tests/direct/contracts/hostfns.c),
through ContractSimulator: results, state, errors, and known test vectors."""

from __future__ import annotations

import hashlib
import struct
from typing import Any

import coincurve
import nacl.signing
import pytest

from outlayer.chain.simulator import ContractSimulator
from outlayer.vm.crypto import keccak256

from .conftest import h

U64_MAX = 2**64 - 1


class Out:
    """Reads what the test contract returns: u64s, u128s and (u64 length, bytes) registers."""

    def __init__(self, data: bytes | None) -> None:
        assert data is not None
        self.data, self.pos = data, 0

    def u64(self) -> int:
        (value,) = struct.unpack_from("<Q", self.data, self.pos)
        self.pos += 8
        return int(value)

    def u128(self) -> int:
        value = int.from_bytes(self.data[self.pos:self.pos + 16], "little")
        self.pos += 16
        return value

    def reg(self) -> bytes | None:
        n = self.u64()
        if n == U64_MAX:
            return None
        value = self.data[self.pos:self.pos + n]
        self.pos += n
        return value

    def raw(self, n: int) -> bytes:
        value = self.data[self.pos:self.pos + n]
        self.pos += n
        return value

    def done(self) -> None:
        assert self.pos == len(self.data)


def call(sim: ContractSimulator, method: str, data: bytes | str = b"", **kw: Any) -> Out:
    result = sim.call("c.test", method, h(data), **kw)
    assert result.ok, result.error
    return Out(result.return_data)


def fails(sim: ContractSimulator, method: str, data: bytes | str = b"") -> dict[str, str]:
    result = sim.call("c.test", method, h(data))
    assert not result.ok and result.error is not None
    assert result.state_changes == {}
    return result.error


# --------------------------------------------------------------------------- registers


def test_registers(deployed: ContractSimulator) -> None:
    out = call(deployed, "registers", b"abc")
    assert out.reg() == b"abc" and out.u64() == U64_MAX  # register 9 was never set
    out.done()
    assert fails(deployed, "read_unset_register") == {
        "kind": "InvalidRegisterId", "message": "Accessed invalid register id: 42"}
    out = call(deployed, "register_as_input", b"abc")  # len u64::MAX: data from a register
    assert out.reg() == hashlib.sha256(b"abc").digest()


# ----------------------------------------------------------------------------- storage


def test_storage_write_read_remove_and_usage(deployed: ContractSimulator) -> None:
    usage0 = deployed.account("c.test")["storage_usage"]
    out = call(deployed, "storage_put", b"\x03keyvalue")
    assert (out.u64(), out.reg()) == (0, None)
    assert out.u64() == usage0 + 3 + 5 + 40  # key + value + 40 bytes per record
    out = call(deployed, "storage_put", b"\x03keyv2")
    assert (out.u64(), out.reg(), out.u64()) == (1, b"value", usage0 + 3 + 2 + 40)
    assert deployed.state("c.test") == {"key": "v2"}
    out = call(deployed, "storage_get", b"\x03key")
    assert (out.u64(), out.reg(), out.u64()) == (1, b"v2", 1)
    out = call(deployed, "storage_del", b"\x03key")
    assert (out.u64(), out.reg(), out.u64()) == (1, b"v2", usage0)
    out = call(deployed, "storage_get", b"\x03key")
    assert (out.u64(), out.reg(), out.u64()) == (0, None, 0)  # register untouched on a miss
    assert deployed.state("c.test") == {}
    for which, name in enumerate(("prefix", "range", "next")):
        assert fails(deployed, "storage_iter", bytes([which])) == {
            "kind": "Deprecated",
            "message": f"Attempted to call deprecated host function storage_iter_{name}"}
    assert fails(deployed, "big_key") == {
        "kind": "KeyLengthExceeded",
        "message": "The length of a storage key 2049 exceeds the limit 2048"}


def test_failed_call_writes_nothing_but_keeps_logs(deployed: ContractSimulator) -> None:
    result = deployed.call("c.test", "write_then_panic", h(b""))
    assert result.error == {"kind": "GuestPanic", "message": "explicit guest panic"}
    assert result.logs == ["before"] and result.attempted_changes == {"w": "1"}
    assert deployed.state("c.test") == {}


# ------------------------------------------------------------------ context, economics


def test_context_and_economics(deployed: ContractSimulator) -> None:
    before = deployed.account("c.test")
    result = deployed.call("c.test", "context", h(b""), deposit=5, gas=100 * 10**12)
    assert result.ok, result.error
    out = Out(result.return_data)
    assert out.reg() == b"c.test"
    assert out.reg() == b"test.near"
    pk = out.reg()
    assert pk is not None and len(pk) == 33
    assert out.reg() == b"test.near"
    assert out.reg() == b'{"h":""}'
    block = deployed.store.get_block(result.block_height)
    assert block is not None
    assert out.u64() == result.block_height
    assert out.u64() == block.timestamp_ns
    assert out.u64() >= 0  # epoch height
    assert out.u64() == before["storage_usage"]
    assert out.u128() == before["balance"] + 5  # the deposit is already credited
    assert out.u128() == before["locked"] == 0
    assert out.u128() == 5
    assert out.u64() == 100 * 10**12
    used = out.u64()
    assert 0 < used < result.gas_burnt
    assert out.reg() == block.random_seed
    assert out.u128() == 0 and out.u128() == 0  # no validators in the simulator
    out.done()


def test_view_reads_context_but_not_what_views_may_not(deployed: ContractSimulator) -> None:
    result = deployed.view("c.test", "view_context", h(b""))
    assert result.ok, result.error
    out = Out(result.return_data)
    assert out.reg() == b"c.test"
    assert out.u64() == deployed.height
    out.u64()
    out.u128()
    assert len(out.reg() or b"") == 32
    names = ["signer_account_id", "predecessor_account_id", "attached_deposit", "prepaid_gas",
             "storage_write", "promise_batch_create"]
    for i, name in enumerate(names):
        error = deployed.view("c.test", "prohibited", h(bytes([i]))).error
        assert error == {"kind": "ProhibitedInView",
                         "message": f"{name} is not allowed in view calls"}


# ------------------------------------------------------------- hashes and signatures


@pytest.mark.parametrize(("alg", "data", "digest"), [
    (0, b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    (0, b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (1, b"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
    (1, b"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
    (2, b"", "0eab42de4c3ceb9235fc91acffe746b29c29a8c366b7c60e4e67c466f36a4304"
             "c00fa9caf9d87976ba469bcbe06713b435f091ef2769fb160cdab33d3670680e"),
    (3, b"", "9c1185a5c5e9fc54612808977ee8f548b2258d31"),
    (3, b"abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"),
])
def test_hashes_known_vectors(deployed: ContractSimulator, alg: int, data: bytes,
                              digest: str) -> None:
    assert call(deployed, "hash", bytes([alg]) + data).reg() == bytes.fromhex(digest)


def test_ed25519_rfc8032_vector(deployed: ContractSimulator) -> None:
    # RFC 8032 section 7.1, test 1 (empty message)
    pk = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    sig = bytes.fromhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
                        "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    assert call(deployed, "ed25519", sig + pk).u64() == 1
    assert call(deployed, "ed25519", sig + pk + b"x").u64() == 0
    key = nacl.signing.SigningKey(b"\7" * 32)
    signed = key.sign(b"outlayer").signature
    assert call(deployed, "ed25519", signed + bytes(key.verify_key) + b"outlayer").u64() == 1


def test_ecrecover_ethereum_key_one(deployed: ContractSimulator) -> None:
    # private key 1: its Ethereum address is 0x7e5f4552091a69125d5dfcb7b8c2659029395bdf
    digest = keccak256(b"hello")
    sig = coincurve.PrivateKey((1).to_bytes(32, "big")).sign_recoverable(digest, hasher=None)
    out = call(deployed, "ecrecover_", digest + sig[:64] + bytes([sig[64], 0]))
    assert out.u64() == 1
    key = out.reg()
    assert key is not None and keccak256(key)[12:].hex() == (
        "7e5f4552091a69125d5dfcb7b8c2659029395bdf")
    out = call(deployed, "ecrecover_", digest + sig[:64] + bytes([1 - sig[64], 0]))
    assert out.u64() == 1 and out.reg() not in (None, key)  # the other recovery id: another key
    assert fails(deployed, "ecrecover_", digest + sig[:64] + bytes([4, 0]))["kind"] == (
        "ECRecoverError")


def _le(value: int) -> bytes:
    return value.to_bytes(32, "little")


G1 = _le(1) + _le(2)
# 2·G1, EIP-196's ecadd test vector (big-endian there, NEAR's little-endian here)
G1_DOUBLE = (bytes.fromhex("030644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd3")[::-1]
             + bytes.fromhex("15ed738c0e0a7c92e7845f96b2ae9c0a68a6a449e3538fc7ff3ebf7a5a18a2c4")[::-1])
FIELD = 0x30644E72E131A029B85045B68181585D97816A916871CA8D3C208C16D87CFD47
G1_NEG = _le(1) + _le(FIELD - 2)
# the G2 generator of EIP-197 (each Fq2 element: real part first, as NEAR encodes it)
G2 = b"".join(_le(v) for v in (
    10857046999023057135944570762232829481370756359578518086990519993285655852781,
    11559732032986387107991004021392285783925812861821192530917403151452391805634,
    8495653923123431417604973247489272438418190587263600148770280649306958101930,
    4082367875863433681332203403145435568316851327593401208105741076214120093531))


def test_alt_bn128_vectors(deployed: ContractSimulator) -> None:
    assert call(deployed, "bn_sum", b"\0" + G1 + b"\0" + G1).reg() == G1_DOUBLE
    assert call(deployed, "bn_sum", b"\0" + G1 + b"\1" + G1).reg() == bytes(64)
    assert call(deployed, "bn_multiexp", G1 + _le(2)).reg() == G1_DOUBLE
    assert call(deployed, "bn_multiexp", G1 + _le(3) + G1 + _le(0)).reg() == call(
        deployed, "bn_sum", b"\0" + G1 + b"\0" + G1_DOUBLE).reg()
    assert call(deployed, "bn_pairing", G1 + G2 + G1_NEG + G2).u64() == 1  # e(P,Q)e(-P,Q)=1
    assert call(deployed, "bn_pairing", G1 + G2 + G1 + G2).u64() == 0
    assert call(deployed, "bn_pairing", b"").u64() == 1
    for method, data in [("bn_sum", b"\2" + G1), ("bn_sum", b"\0" + _le(1) + _le(3)),
                         ("bn_multiexp", G1 + _le(2)[:31]), ("bn_pairing", G1 + G1 + G1),
                         ("bn_multiexp", _le(FIELD) + _le(0) + _le(1))]:
        assert fails(deployed, method, data)["kind"] == "AltBn128InvalidInput", method


BLS = ["g1_sum", "g2_sum", "g1_multiexp", "g2_multiexp", "map_fp_to_g1", "map_fp2_to_g2",
       "pairing_check", "g1_decompress", "g2_decompress"]


def test_bls12381_is_importable_but_unsupported(deployed: ContractSimulator) -> None:
    for i, name in enumerate(BLS):
        error = fails(deployed, "bls", bytes([i]))
        assert error["kind"] == "UnsupportedHostFunction"
        assert f"bls12381_{name}" in error["message"]


def test_the_contract_imports_every_env_function(hostfns: bytes) -> None:
    from outlayer.host import wasm_binary as wb
    from outlayer.syscalls import ENV

    imported = {i.field for i in wb.imports(wb.parse(hostfns))}
    assert imported == set(ENV)


# ------------------------------------------------------- logs, panics, value_return


def test_logs(deployed: ContractSimulator) -> None:
    assert deployed.call("c.test", "log", h("héllo ✓")).logs == ["héllo ✓"]
    assert deployed.call("c.test", "log16", h("hi ✓".encode("utf-16-le"))).logs == ["hi ✓"]
    assert deployed.call("c.test", "log_nul", h(b"")).logs == ["nul-terminated"]
    assert len(deployed.call("c.test", "log_many", h(b"\x64")).logs) == 100
    many = deployed.call("c.test", "log_many", h(b"\x65"))
    assert many.error is not None and many.error["kind"] == "NumberOfLogsExceeded"
    assert len(many.logs) == 100
    assert fails(deployed, "log", b"\xff\xfe")["kind"] == "BadUTF8"
    assert fails(deployed, "log16", b"\x00\xd8")["kind"] == "BadUTF16"  # lone surrogate
    too_long = fails(deployed, "log", b"x" * 16_385)
    assert too_long["kind"] == "TotalLogLengthExceeded"


def test_panics_and_abort(deployed: ContractSimulator) -> None:
    assert fails(deployed, "panic_") == {"kind": "GuestPanic", "message": "explicit guest panic"}
    assert fails(deployed, "panic_msg", "boom ✓") == {"kind": "GuestPanic", "message": "boom ✓"}
    result = deployed.call("c.test", "abort_", h(b""))
    assert result.error == {"kind": "GuestPanic",
                            "message": 'hi!, filename: "a.ts" line: 7 col: 3'}
    assert result.logs == ['ABORT: hi!, filename: "a.ts" line: 7 col: 3']


def test_value_return(deployed: ContractSimulator) -> None:
    assert deployed.call("c.test", "return_twice", h(b"")).return_data == b"second"
    result = deployed.call("c.test", "return_register", h(b'{"a":1}'))
    assert result.return_data == b'{"a":1}' and result.result == {"a": 1}


# ------------------------------------------------------------- faults and limits


def test_faults_name_themselves(deployed: ContractSimulator) -> None:
    assert fails(deployed, "out_of_bounds") == {
        "kind": "MemoryAccessViolation",
        "message": "read of 16 bytes at 4294967380 is out of bounds"}
    assert fails(deployed, "bad_utf8") == {"kind": "BadUTF8",
                                           "message": "String encoding is bad UTF-8 sequence."}
    assert fails(deployed, "bad_account") == {"kind": "InvalidAccountId",
                                              "message": "invalid account id 'BAD!'"}
    assert fails(deployed, "trap") == {
        "kind": "WasmTrap",
        "message": "Unreachable (wasm trap: wasm `unreachable` instruction executed)"}
    assert fails(deployed, "bad_promise_index")["kind"] == "InvalidPromiseIndex"
    assert fails(deployed, "result_outside_callback")["kind"] == "InvalidPromiseResultIndex"
    missing = deployed.call("c.test", "nope", h(b""))
    assert missing.error is not None and missing.error["kind"] == "MethodNotFound"
    assert "exported functions: abort_, bad_account" in missing.error["message"]


def test_gas_limits(deployed: ContractSimulator) -> None:
    burn = deployed.call("c.test", "burn", h(b""))  # an endless loop
    assert burn.error is not None and burn.error["kind"] == "GasLimitExceeded"
    assert burn.gas_burnt == 300 * 10**12
    small = deployed.call("c.test", "burn", h(b""), gas=5 * 10**12)
    assert small.error is not None and small.error["kind"] == "GasExceeded"
    assert small.gas_burnt == 5 * 10**12


def test_memory_is_nears_and_capped(deployed: ContractSimulator) -> None:
    out = call(deployed, "mem_pages")
    assert out.u64() == 1024  # NEAR's initial pages, whatever the contract declared
    assert out.u64() == 0xFFFFFFFF  # growing past 2048 pages fails (-1)
    assert out.u64() == 1024  # growing by one works and returns the old size


# ------------------------------------------------------------------ promises


JS_PEER = """
export function hello() { return near.predecessorAccountId(); }
export function boom() { throw new Error("no"); }
"""


def _results(out: Out) -> tuple[list[tuple[int, bytes | None]], bytes | None]:
    results = []
    for _ in range(out.u64()):
        status = out.u64()
        results.append((status, out.reg()))
    return results, out.reg()


def test_cross_contract_direct_to_direct_and_js(deployed: ContractSimulator,
                                                hostfns: bytes) -> None:
    deployed.deploy("d.test", hostfns)
    deployed.deploy("js.test", JS_PEER)
    # on_result runs as a callback of c.test itself: its predecessor is c.test
    for target, method in [(b"d.test", b"whoami"), (b"js.test", b"hello")]:
        out = call(deployed, "call_other", bytes([len(target)]) + target + method)
        assert _results(out) == ([(1, b'"c.test"')], b"c.test")
    out = call(deployed, "call_other", b"\x07js.testboom")
    (status, _), = _results(out)[0]
    assert status == 2  # failed
    out = call(deployed, "call_both", b"\x06d.test\x07js.test")  # promise_and; js has no fail
    results, _ = _results(out)
    assert [s for s, _ in results] == [1, 2] and results[0][1] == b'"c.test"'


def test_js_contract_calls_direct_counters(sim: ContractSimulator, counter_wasm: bytes) -> None:
    from .conftest import EXAMPLES

    for name in ("c1.test", "c2.test"):
        sim.deploy(name, counter_wasm)
    sim.deploy("sum.test", EXAMPLES / "cross_counter.js")
    sim.call("c1.test", "increment")
    result = sim.call("sum.test", "sum", {"counters": ["c1.test", "c2.test"]})
    assert result.result == {"total": 3, "values": [2, 1], "failed": []}
    awaited = sim.call("sum.test", "sum_await", {"counters": ["c1.test", "c2.test"]})
    assert awaited.result == {"total": 5, "values": [3, 2]}


def test_batch_actions_create_fund_key_deploy_and_call(deployed: ContractSimulator,
                                                       counter_wasm: bytes) -> None:
    key_a = b"\0" + bytes(nacl.signing.SigningKey(b"\1" * 32).verify_key)
    key_b = b"\0" + bytes(nacl.signing.SigningKey(b"\2" * 32).verify_key)
    amount = 10**24
    result = deployed.call("c.test", "make_sub",
                           h(amount.to_bytes(16, "little") + key_a + key_b + counter_wasm))
    assert result.ok, result.receipt_failures
    assert result.result == 1  # get_count after increment, through promise_return
    sub = deployed.account("sub.c.test")
    assert sub["balance"] >= amount and sub["code_hash"] is not None
    assert deployed.state("sub.c.test") == {"count": "1"}
    keys = deployed.access_keys("sub.c.test")
    assert len(keys) == 1 and "FunctionCall" in str(keys[0])  # key A was deleted again


def test_stake_and_delete_account(deployed: ContractSimulator, hostfns: bytes) -> None:
    key = b"\0" + bytes(nacl.signing.SigningKey(b"\1" * 32).verify_key)
    staked = deployed.call("c.test", "stake", h((10**24).to_bytes(16, "little") + key))
    assert staked.ok and staked.receipt_failures == []
    assert deployed.account("c.test")["locked"] == 10**24
    refused = deployed.call("c.test", "delete_me", h("test.near"))
    assert [f["kind"] for f in refused.receipt_failures] == ["DeleteAccountStaking"]
    deployed.deploy("d.test", hostfns)
    result = deployed.call("d.test", "delete_me", h("test.near"))
    assert result.ok and result.receipt_failures == []
    assert deployed.store.get_account("d.test") is None


def test_yield_and_resume(deployed: ContractSimulator) -> None:
    asked = deployed.call("c.test", "yield_", h(b""))
    assert asked.pending
    resumed = call(deployed, "resume", b"payload")
    assert resumed.u64() == 1
    final = deployed.tx_outcome(asked.tx_hash)
    assert final.status == "SuccessValue" and final.value is not None
    results, predecessor = _results(Out(final.value))
    assert results == [(1, b"payload")] and predecessor == b"c.test"
    assert call(deployed, "resume", b"again").u64() == 0  # no pending yield any more
