"""A signed transaction's block hash: valid while the block before the one that includes it
is at most the hash's height + 86,400 (nearcore's check_transaction_validity_period)."""

from __future__ import annotations

import base58
import pytest

from outlayer.chain import signed
from outlayer.chain.simulator import ContractSimulator, convenience_secret_key
from outlayer.vm.receipts import Transfer


def test_the_last_valid_block_is_the_hash_height_plus_the_period_plus_one() -> None:
    with ContractSimulator(db_path=":memory:", gas_price=0) as sim:
        sim.create_account("alice.test")
        base = sim.store.latest_block()
        assert base is not None and base.hash is not None
        secret = base58.b58decode(
            convenience_secret_key(sim.chain_seed, "alice.test").split(":", 1)[1])[:32]
        stx = signed.decode_signed(signed.sign(secret, "alice.test", 10**6 * base.height + 1,
                                               "test.near", base.hash, [Transfer(1)]))
        last = base.height + signed.TRANSACTION_VALIDITY_PERIOD + 1  # its prev is base + period
        signed.check(stx, sim.store, sim.params, last, 1, 0)
        with pytest.raises(signed.InvalidTx) as info:
            signed.check(stx, sim.store, sim.params, last + 1, 1, 0)
        assert info.value.detail == "Expired"
