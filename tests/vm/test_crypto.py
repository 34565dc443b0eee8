"""Hash vectors, ed25519 and ecrecover through VMLogic, with NEAR's input rules and gas."""

from __future__ import annotations

import coincurve
import pytest
from nacl.signing import SigningKey

from outlayer.errors import ECRecoverError, Ed25519VerifyInvalidInput
from outlayer.vm import crypto

from .conftest import VM

BASE = 264_768_111
RM_BASE, RM_BYTE = 2_609_863_200, 3_801_333
WR_BASE, WR_BYTE = 2_865_522_486, 3_801_564

VECTORS = {
    "sha256": {
        b"": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        b"abc": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    },
    "keccak256": {
        b"": "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
        b"abc": "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45",
    },
    "keccak512": {
        b"": "0eab42de4c3ceb9235fc91acffe746b29c29a8c366b7c60e4e67c466f36a4304"
        "c00fa9caf9d87976ba469bcbe06713b435f091ef2769fb160cdab33d3670680e",
        b"abc": "18587dc2ea106b9a1563e32b3312421ca164c7f1f07bc922a9c83d77cea3a1e5"
        "d0c69910739025372dc14ac9642629379540c17e2a65b19d77aa511a9d00bb96",
    },
    "ripemd160": {
        b"": "9c1185a5c5e9fc54612808977ee8f548b2258d31",
        b"abc": "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc",
    },
}
HASH_COSTS = {
    "sha256": (4_540_970_250, 24_117_351),
    "keccak256": (5_879_491_275, 21_471_105),
    "keccak512": (5_811_388_236, 36_649_701),
}


@pytest.mark.parametrize(
    ("name", "data", "digest"),
    [(name, data, digest) for name, table in VECTORS.items() for data, digest in table.items()],
)
def test_hash_vectors(vm: VM, name: str, data: bytes, digest: str) -> None:
    assert getattr(crypto, name)(data).hex() == digest
    getattr(vm.logic, name)(*vm.put(data), 1)
    assert vm.logic.registers.get(1) == bytes.fromhex(digest)


@pytest.mark.parametrize("name", list(HASH_COSTS))
def test_hash_gas(vm: VM, name: str) -> None:
    base, per_byte = HASH_COSTS[name]
    getattr(vm.logic, name)(*vm.put(b"x" * 10), 0)
    out = len(VECTORS[name][b""]) // 2
    assert vm.burnt() == base + RM_BASE + 10 * RM_BYTE + 10 * per_byte + WR_BASE + out * WR_BYTE


@pytest.mark.parametrize(("length", "blocks"), [(0, 1), (55, 1), (56, 2), (119, 2), (120, 3)])
def test_ripemd160_charges_per_block(vm: VM, length: int, blocks: int) -> None:
    assert crypto.ripemd160_blocks(length) == blocks
    vm.logic.ripemd160(*vm.put(bytes(length)), 0)
    assert vm.burnt() == (
        853_675_086 + RM_BASE + length * RM_BYTE + blocks * 680_107_584 + WR_BASE + 20 * WR_BYTE
    )


# --- ed25519 ---------------------------------------------------------------------------

KEY = SigningKey(bytes(range(32)))
PK = bytes(KEY.verify_key)


def test_ed25519_verify(vm: VM) -> None:
    message = b"hello near"
    signature = KEY.sign(message).signature
    args = (*vm.put(signature), *vm.put(message), *vm.put(PK))
    assert vm.logic.ed25519_verify(*args) == 1
    assert vm.burnt() == (
        210_000_000_000 + 3 * RM_BASE + (64 + 10 + 32) * RM_BYTE + 10 * 9_000_000
    )
    assert vm.logic.ed25519_verify(*vm.put(signature), *vm.put(b"hello neat"), *vm.put(PK)) == 0
    other = bytes(SigningKey(bytes(32)).verify_key)
    assert vm.logic.ed25519_verify(*vm.put(signature), *vm.put(message), *vm.put(other)) == 0


def test_ed25519_sizes_and_high_bits(vm: VM) -> None:
    signature = KEY.sign(b"m").signature
    with pytest.raises(Ed25519VerifyInvalidInput, match="signature length"):
        vm.logic.ed25519_verify(*vm.put(signature[:63]), *vm.put(b"m"), *vm.put(PK))
    with pytest.raises(Ed25519VerifyInvalidInput, match="public key length"):
        vm.logic.ed25519_verify(*vm.put(signature), *vm.put(b"m"), *vm.put(PK[:31]))
    bad = signature[:63] + bytes([signature[63] | 0x80])
    before = vm.burnt()
    assert vm.logic.ed25519_verify(*vm.put(bad), *vm.put(b"m"), *vm.put(PK)) == 0
    assert vm.burnt() - before == 210_000_000_000 + RM_BASE + 64 * RM_BYTE  # stops early


# --- ecrecover -------------------------------------------------------------------------

N = crypto.SECP256K1_N
HASH = bytes(range(32))
PRIV = coincurve.PrivateKey(bytes([7]) * 32)
PUB64 = PRIV.public_key.format(compressed=False)[1:]


def _sign() -> tuple[bytes, int]:
    sig = PRIV.sign_recoverable(HASH, hasher=None)
    return sig[:64], sig[64]


def _high_s(sig: bytes, v: int) -> tuple[bytes, int]:
    r, s = sig[:32], int.from_bytes(sig[32:], "big")
    return r + (N - s).to_bytes(32, "big"), v ^ 1


def test_ecrecover_recovers_the_signer(vm: VM) -> None:
    sig, v = _sign()
    assert vm.logic.ecrecover(*vm.put(HASH), *vm.put(sig), v, 0, 3) == 1
    assert vm.logic.registers.get(3) == PUB64
    assert vm.burnt() == (
        278_821_988_457 + 2 * RM_BASE + 96 * RM_BYTE + WR_BASE + 64 * WR_BYTE
    )


def test_ecrecover_malleability_flag(vm: VM) -> None:
    sig, v = _sign()
    low_s = int.from_bytes(sig[32:], "big") <= N // 2
    sig_lo, v_lo = (sig, v) if low_s else _high_s(sig, v)
    sig_hi, v_hi = _high_s(sig_lo, v_lo)
    assert vm.logic.ecrecover(*vm.put(HASH), *vm.put(sig_lo), v_lo, 1, 0) == 1
    assert vm.logic.ecrecover(*vm.put(HASH), *vm.put(sig_hi), v_hi, 0, 1) == 1
    assert vm.logic.registers.get(0) == vm.logic.registers.get(1) == PUB64
    assert vm.logic.ecrecover(*vm.put(HASH), *vm.put(sig_hi), v_hi, 1, 2) == 0
    assert vm.logic.registers.get(2) is None


def test_ecrecover_failures_return_zero(vm: VM) -> None:
    sig, v = _sign()
    zero = bytes(64)
    assert vm.logic.ecrecover(*vm.put(HASH), *vm.put(zero), 0, 0, 0) == 0
    over = N.to_bytes(32, "big") + sig[32:]  # r >= n
    assert vm.logic.ecrecover(*vm.put(HASH), *vm.put(over), v, 0, 0) == 0
    assert vm.logic.registers.get(0) is None


@pytest.mark.parametrize(
    ("hash_len", "sig_len", "v", "flag", "match"),
    [
        (32, 63, 0, 0, "signature"),
        (32, 65, 0, 0, "signature"),
        (31, 64, 0, 0, "hash"),
        (32, 64, 4, 0, "V recovery byte"),
        (32, 64, 0, 2, "Malleability flag"),
    ],
)
def test_ecrecover_bad_input_is_an_error(
    vm: VM, hash_len: int, sig_len: int, v: int, flag: int, match: str
) -> None:
    with pytest.raises(ECRecoverError, match=match):
        vm.logic.ecrecover(*vm.put(bytes(hash_len)), *vm.put(bytes(sig_len)), v, flag, 0)


def test_secp256k1_low_s_bound_is_nearcores() -> None:
    r = (1).to_bytes(32, "big")
    assert crypto.secp256k1_signature_ok(r + (N // 2).to_bytes(32, "big"), True)
    assert not crypto.secp256k1_signature_ok(r + (N // 2 + 1).to_bytes(32, "big"), True)
    assert crypto.secp256k1_signature_ok(r + (N - 1).to_bytes(32, "big"), False)
    assert not crypto.secp256k1_signature_ok(r + N.to_bytes(32, "big"), False)
