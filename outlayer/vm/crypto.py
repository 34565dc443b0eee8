"""Hashes and signature checks behind NEAR's math host functions, with NEAR's input rules.

sha256 comes from hashlib; keccak256/512 (the original Keccak padding, not SHA3) and
RIPEMD-160 from pycryptodome; ed25519 from PyNaCl (libsodium); secp256k1 recovery from
coincurve (libsecp256k1, the library nearcore uses too).
"""

from __future__ import annotations

import hashlib

import coincurve
from Crypto.Hash import RIPEMD160, keccak
from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import VerifyKey

#: secp256k1 group order n, and nearcore's bound for "low s" (n // 2 + 1, exclusive).
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECP256K1_N_HALF_ONE = SECP256K1_N // 2 + 1


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def keccak512(data: bytes) -> bytes:
    return keccak.new(digest_bits=512, data=data).digest()


def ripemd160(data: bytes) -> bytes:
    return RIPEMD160.new(data).digest()


def ripemd160_blocks(length: int) -> int:
    """Message blocks NEAR charges ripemd160_block for: (len + 8) // 64 + 1."""
    return (length + 8) // 64 + 1


def ed25519_verify(signature: bytes, message: bytes, public_key: bytes) -> bool:
    """True iff `signature` (64 bytes) is `public_key`'s (32 bytes) signature of `message`.

    libsodium is slightly stricter than nearcore's ed25519-dalek ``verify`` (it refuses
    small-order keys and non-canonical points), so a few adversarial signatures dalek
    accepts come out False here; honest signatures agree.
    """
    try:
        VerifyKey(public_key).verify(message, signature)
    except (BadSignatureError, CryptoError, ValueError, TypeError):
        return False
    return True


def secp256k1_signature_ok(signature: bytes, reject_upper: bool) -> bool:
    """nearcore's check_signature_values: r < n, and s < n (or s <= n/2 if reject_upper)."""
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    return r < SECP256K1_N and s < (SECP256K1_N_HALF_ONE if reject_upper else SECP256K1_N)


def ecrecover(hash32: bytes, signature: bytes, v: int, reject_upper: bool) -> bytes | None:
    """The 64-byte uncompressed public key (x || y, no 0x04 prefix) that signed `hash32`.

    `signature` is r || s (64 bytes), `v` the recovery id 0-3. Returns None when the
    signature fails NEAR's value checks or recovery fails. Sizes are the caller's to check.
    """
    if not secp256k1_signature_ok(signature, reject_upper):
        return None
    try:
        key = coincurve.PublicKey.from_signature_and_message(
            signature + bytes((v,)), hash32, hasher=None
        )
    except Exception:  # any libsecp256k1 refusal means "no key"
        return None
    return key.format(compressed=False)[1:]
