"""Signers the simulator creates by itself, and harness accounts, have a real ed25519 key:
`signer_account_pk` is that key (not the all-zero one), it can be added as an access key,
and it is the same on every run of the same chain (verify replays it)."""

from __future__ import annotations

from pathlib import Path

import base58

from outlayer.chain import actions, blocks
from outlayer.chain.runtime import NO_KEY
from outlayer.chain.simulator import ContractSimulator, convenience_key
from outlayer.testing import Sandbox
from outlayer.testing.sandbox import dev_public_key

PK = """
export function pk() {
  return Array.from(near.signerAccountPk(), (b) => b.toString(16).padStart(2, '0')).join('');
}
"""


def _raw(public_key: str) -> str:
    """ed25519:<base58> as the 33-byte borsh hex a contract sees."""
    assert public_key.startswith("ed25519:")
    return (b"\x00" + base58.b58decode(public_key.split(":", 1)[1])).hex()


def test_a_call_s_new_signer_signs_with_its_derived_key(tmp_path: Path) -> None:
    db = tmp_path / "chain.db"
    with ContractSimulator(db_path=db) as sim:
        sim.deploy("pk.test", PK)
        seen = sim.call("pk.test", "pk", signer_id="alice.test").result
        key = convenience_key(sim.chain_seed, "alice.test")
        assert seen == _raw(key) != NO_KEY.hex()
        assert [k["public_key"] for k in sim.access_keys("alice.test")] == [key]
        # a real key: it can be given to another account, which then signs with it
        added = sim.transact("alice.test", "bob.alice.test", [
            actions.create_account(), actions.transfer("5NEAR"),
            actions.add_full_access_key(key)])
        assert added.ok, added.error
        assert sim.verify().ok
    with ContractSimulator(db_path=tmp_path / "again.db") as again:
        again.deploy("pk.test", PK)
        assert again.call("pk.test", "pk", signer_id="alice.test").result == seen
    other_seed = bytes(32)
    assert convenience_key(other_seed, "alice.test") != convenience_key(blocks.CHAIN_SEED,
                                                                        "alice.test")


def test_harness_accounts_sign_with_their_dev_key(sandbox: Sandbox) -> None:
    contract = sandbox.dev_deploy(PK)
    alice = sandbox.root.create_subaccount("alice")
    assert alice.call(contract, "pk").json() == _raw(dev_public_key(alice.id))
    assert sandbox.root.call(contract, "pk").json() == _raw(dev_public_key(sandbox.root.id))
