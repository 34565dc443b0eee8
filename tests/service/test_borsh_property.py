"""Property tests of the borsh SignedTransaction codec (outlayer.chain.signed)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outlayer.chain import signed
from outlayer.vm.receipts import (
    AddKey,
    CreateAccount,
    DeleteAccount,
    DeleteKey,
    DeployContract,
    FullAccess,
    FunctionCall,
    FunctionCallPermission,
    Stake,
    Transfer,
)

u64 = st.integers(0, 2**64 - 1)
u128 = st.integers(0, 2**128 - 1)
text = st.text(max_size=20)
public_keys = st.one_of(st.binary(min_size=32, max_size=32).map(lambda b: b"\x00" + b),
                        st.binary(min_size=64, max_size=64).map(lambda b: b"\x01" + b))
permissions = st.one_of(st.just(FullAccess()), st.builds(
    FunctionCallPermission, st.none() | u128, text, st.lists(text, max_size=3).map(tuple)))
plain_actions = st.one_of(
    st.just(CreateAccount()),
    st.builds(DeployContract, st.binary(max_size=64)),
    st.builds(FunctionCall, text, st.binary(max_size=32), u128, u64),
    st.builds(Transfer, u128),
    st.builds(Stake, u128, public_keys),
    st.builds(AddKey, public_keys, u64, permissions),
    st.builds(DeleteKey, public_keys),
    st.builds(DeleteAccount, text),
    st.builds(signed.DeployGlobalContract, st.binary(max_size=16), st.integers(0, 1)),
    st.builds(signed.UseGlobalContract, st.binary(min_size=32, max_size=32), st.none()),
    st.builds(signed.UseGlobalContract, st.none(), text),
)
delegates = st.builds(
    signed.SignedDelegate,
    st.builds(signed.DelegateAction, text, text, st.lists(plain_actions, max_size=2).map(tuple),
              u64, u64, public_keys),
    st.binary(min_size=64, max_size=64).map(lambda b: b"\x00" + b))
actions = st.one_of(plain_actions, delegates)
account_ids = st.text("abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=2, max_size=64)


@settings(max_examples=300, deadline=None)
@given(account_ids, public_keys, u64, text, st.binary(min_size=32, max_size=32),
       st.lists(actions, max_size=4), st.integers(0, 1), u64,
       st.one_of(st.binary(min_size=64, max_size=64).map(lambda b: b"\x00" + b),
                 st.binary(min_size=65, max_size=65).map(lambda b: b"\x01" + b)))
def test_round_trip(signer, key, nonce, receiver, block_hash, acts, version, fee, signature):
    tx = signed.encode_transaction(signer, key, nonce, receiver, block_hash, acts,
                                   version=version, priority_fee=fee)
    raw = tx + signature
    stx = signed.decode_signed(raw)
    assert (stx.signer_id, stx.public_key, stx.nonce, stx.receiver_id, stx.block_hash) == \
        (signer, key, nonce, receiver, block_hash)
    assert list(stx.actions) == acts and stx.version == version
    assert stx.priority_fee == (fee if version == 1 else 0)
    assert stx.tx_bytes == tx and stx.signature == signature
    assert signed.encode_signed(stx) == raw
    assert stx.hash_bytes == hashlib.sha256(tx).digest()


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_decode_or_borsh_error(data):
    try:
        stx = signed.decode_signed(data)
    except signed.BorshError:
        return
    assert signed.encode_signed(stx) == data  # whatever decodes is canonical


@settings(max_examples=200, deadline=None)
@given(st.lists(plain_actions, min_size=1, max_size=3), st.data())
def test_truncations_and_extensions_are_refused(acts, data):
    raw = signed.sign(bytes(32), "alice.near", 1, "bob.near", bytes(32), acts)
    cut = data.draw(st.integers(0, len(raw) - 1))
    with pytest.raises(signed.BorshError):
        signed.decode_signed(raw[:cut])
    with pytest.raises(signed.BorshError):
        signed.decode_signed(raw + data.draw(st.binary(min_size=1, max_size=8)))


def test_signature_checks():
    raw = signed.sign(bytes(range(32)), "alice.near", 1, "bob.near", bytes(32), [Transfer(5)])
    signed.verify_signature(signed.decode_signed(raw))
    v1 = signed.sign(bytes(range(32)), "alice.near", 1, "bob.near", bytes(32), [Transfer(5)],
                     version=1, priority_fee=7)
    assert v1[0] == 1 and signed.decode_signed(v1).priority_fee == 7
    signed.verify_signature(signed.decode_signed(v1))
    bad = raw[:-1] + bytes([raw[-1] ^ 0x80])
    with pytest.raises(signed.InvalidTx):
        signed.verify_signature(signed.decode_signed(bad))


def test_secp256k1_signatures():
    import coincurve

    secret = coincurve.PrivateKey(bytes(range(1, 33)))
    public = b"\x01" + secret.public_key.format(compressed=False)[1:]
    tx = signed.encode_transaction("alice.near", public, 1, "bob.near", bytes(32),
                                   [Transfer(5)])
    digest = hashlib.sha256(tx).digest()
    signature = b"\x01" + secret.sign_recoverable(digest, hasher=None)
    signed.verify_signature(signed.decode_signed(tx + signature))
    other = coincurve.PrivateKey(bytes(range(2, 34))).sign_recoverable(digest, hasher=None)
    with pytest.raises(signed.InvalidTx):
        signed.verify_signature(signed.decode_signed(tx + b"\x01" + other))
