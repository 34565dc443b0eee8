"""The node's own RPC methods: health, network_info, validators, genesis config.

A single OutLayer node has no peers and no validators (nothing is elected, blocks carry no
BFT signatures), so these answer in nearcore's shapes with empty peer and validator sets.
What the chain does have is answered from it: the epoch of a block (from the chain's fixed
epoch length), the stake proposals waiting for the next epoch boundary
(`outlayer.chain.staking`), and the genesis (chain config plus the node config's genesis
accounts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import base58

from outlayer.chain import blocks, signed
from outlayer.chain.simulator import ContractSimulator
from outlayer.chain.store import Block
from outlayer.errors import json_type
from outlayer.service import errors, views
from outlayer.service.errors import RpcError
from outlayer.service.rpc import _block_by_id, _shown, parse_block_id

if TYPE_CHECKING:
    from outlayer.service.rpc import Handler, Params, Rpc

#: nearcore's defaults for the genesis fields a one-node chain has no use for (Rational32
#: values are [numerator, denominator], as nearcore serializes them)
_GENESIS_DEFAULTS: dict[str, Any] = {
    "config_version": 1, "genesis_height": 0, "num_block_producer_seats": 1,
    "num_block_producer_seats_per_shard": [1], "avg_hidden_validator_seats_per_shard": [0],
    "dynamic_resharding": False, "protocol_upgrade_stake_threshold": [8, 10],
    "block_producer_kickout_threshold": 90, "chunk_producer_kickout_threshold": 90,
    "online_min_threshold": [90, 100], "online_max_threshold": [99, 100],
    "gas_price_adjustment_rate": [0, 1], "validators": [],
    "protocol_reward_rate": [0, 1], "max_inflation_rate": [0, 1],
    "protocol_treasury_account": "near", "fishermen_threshold": "0",
    "minimum_stake_divisor": 10, "shard_layout": {"V0": {"num_shards": 1, "version": 0}},
    "num_chunk_only_producer_seats": 0, "minimum_validators_per_shard": 1,
    "max_kickout_stake_perc": 100, "minimum_stake_ratio": [1, 6250],
    "use_production_config": False,
}
_YEAR_NS = 365 * 24 * 3600 * 1_000_000_000


def _no_params(params: Params, method: str) -> None:
    """Methods without params take none, [] or {} (what clients send)."""
    if params not in (None, [], {}):
        raise errors.bad_params(f"{method} takes no params, got {_shown(params)}")


def _maybe_block_id(params: Params, method: str) -> Any:
    """`[block_id]`, `[null]`, `{block_id}`, `{}`, `[]` or null: the block id or None."""
    if params is None:
        return None
    if isinstance(params, list):
        if len(params) > 1:
            raise errors.bad_params(f"{method} takes [block_id or null], got {len(params)} "
                                    "params")
        return params[0] if params else None
    if isinstance(params, dict):
        unknown = sorted(set(params) - {"block_id"})
        if unknown:
            raise errors.bad_params(f"unknown field `{unknown[0]}` ({method} takes "
                                    "[block_id or null] or {block_id})")
        return params.get("block_id")
    raise errors.bad_params(f"{method} takes [block_id or null] or {{block_id}}, got "
                            f"{json_type(params)}")


def _stake_view(account_id: str, stake: int, public_key: str) -> dict[str, Any]:
    """nearcore's ValidatorStakeView (V1)."""
    return {"validator_stake_struct_version": "V1", "account_id": account_id,
            "public_key": public_key, "stake": str(stake)}


def _proposals_at(sim: ContractSimulator, block: Block) -> list[dict[str, Any]]:
    """The stake proposals waiting for the next epoch boundary as of `block` (lowered
    stakes: a raised stake is locked at once and proposes nothing)."""
    if block.height == sim.height:
        with sim.store.snapshot():
            rows = sim.store.stake_proposals()
    else:
        with sim.store.snapshot():
            tables, _ = sim.store.state_as_of(block.height)
        rows = [(r[0], int(r[1]), r[2]) for r in tables["stake_proposals"]]
    return [_stake_view(a, s, k) for a, s, k in sorted(rows)]


#: the params nearcore's RpcValidatorRequest parses: the legacy [block_id or null], or an
#: object of its EpochReference
VALIDATOR_FORMS = "[null], [block_id], {block_id}, {epoch_id} or {latest: null}"
#: EpochReference's keys, in the order nearcore's parse finds them (a flattened externally
#: tagged enum read from a sorted map: the first present decides, other keys are ignored)
_EPOCH_REFERENCE_KEYS = ("block_id", "epoch_id", "latest")


def epoch_reference(params: Params) -> tuple[str, Any]:
    """("latest", None), ("block_id", id) or ("epoch_id", base58 hash) of a validators
    request; missing params (null) mean the latest epoch."""
    if params is None:
        return "latest", None
    if isinstance(params, list) and len(params) == 1:
        block_id = params[0]
        return ("latest", None) if block_id is None else ("block_id", _block_id(block_id))
    if not isinstance(params, dict):
        raise errors.bad_params(f"validators takes {VALIDATOR_FORMS}, got {_shown(params)}")
    key = next((k for k in _EPOCH_REFERENCE_KEYS if k in params), None)
    if key is None:
        raise errors.bad_params(f"validators takes {VALIDATOR_FORMS}, got {_shown(params)}")
    value = params[key]
    if key == "latest":
        if value is not None:
            raise errors.bad_params(f"`latest` takes null (validators takes "
                                    f"{VALIDATOR_FORMS}), got {_shown(value)}")
        return "latest", None
    if key == "block_id":
        return "block_id", _block_id(value)
    if not isinstance(value, str):
        raise errors.bad_params(f"`epoch_id` must be a base58 hash, got {json_type(value)}")
    try:
        valid = len(base58.b58decode(value)) == 32
    except ValueError:
        valid = False
    if not valid:
        raise errors.bad_params(f"epoch_id {value!r} is not a base58 32-byte hash")
    return "epoch_id", value


def _block_id(value: Any) -> Any:
    """A well-formed block id of a validators request, else a parse error naming the forms."""
    try:
        parse_block_id(value)
    except RpcError as exc:
        raise errors.bad_params(f"{exc.data} (validators takes {VALIDATOR_FORMS})") from None
    return value


def _validators(sim: ContractSimulator, params: Params) -> dict[str, Any]:
    kind, value = epoch_reference(params)
    if kind == "epoch_id" and value != views.ZERO_HASH:  # every block names the zero epoch
        raise errors.handler("UNKNOWN_EPOCH", {}, "Unknown Epoch")
    block = _block_by_id(sim, value) if kind == "block_id" else sim.block
    length = sim.epoch_length
    return {"current_validators": [], "next_validators": [], "current_fishermen": [],
            "next_fishermen": [], "current_proposals": _proposals_at(sim, block),
            "prev_epoch_kickout": [],
            "epoch_start_height": blocks.epoch_start(block.height, length),
            "epoch_height": blocks.epoch_height(block.height, length)}


def _validators_ordered(sim: ContractSimulator, params: Params) -> list[Any]:
    block_id = _maybe_block_id(params, "EXPERIMENTAL_validators_ordered")
    if block_id is not None:
        _block_by_id(sim, block_id)
    return []  # no validators: nothing is elected on a one-node chain


def _genesis_config(sim: ContractSimulator, chain_id: str, supply: int) -> dict[str, Any]:
    genesis = sim.store.get_block(0)
    assert genesis is not None
    chunk = views.block_view(genesis, None, sim.gas_price)["chunks"][0]
    return {**_GENESIS_DEFAULTS,
            "protocol_version": views.PROTOCOL_VERSION,
            "genesis_time": views.iso_time(sim.genesis_time_ns), "chain_id": chain_id,
            "epoch_length": sim.epoch_length, "gas_limit": chunk["gas_limit"],
            "min_gas_price": str(sim.gas_price), "max_gas_price": str(sim.gas_price),
            "transaction_validity_period": signed.TRANSACTION_VALIDITY_PERIOD,
            "total_supply": str(supply),
            "num_blocks_per_year": _YEAR_NS // sim.block_time_ns}


# --- handlers (registered by Rpc) ---------------------------------------------------------


async def health(rpc: Rpc, params: Params) -> Any:
    _no_params(params, "health")
    await rpc.node.run(lambda sim: sim.height)  # the chain thread answers: the node is up
    return None


async def network_info(rpc: Rpc, params: Params) -> Any:
    _no_params(params, "network_info")
    return {"active_peers": [], "num_active_peers": 0, "peer_max_count": 0,
            "sent_bytes_per_sec": 0, "received_bytes_per_sec": 0, "known_producers": []}


async def validators(rpc: Rpc, params: Params) -> Any:
    epoch_reference(params)  # a malformed request is refused before the chain thread
    return await rpc.node.run(_validators, params)


async def validators_ordered(rpc: Rpc, params: Params) -> Any:
    return await rpc.node.run(_validators_ordered, params)


async def genesis_config(rpc: Rpc, params: Params) -> Any:
    _no_params(params, "EXPERIMENTAL_genesis_config")
    supply = sum(account.balance for account in rpc.genesis)
    return await rpc.node.run(_genesis_config, rpc.chain_id, supply)


METHODS: dict[str, Handler] = {
    "health": health, "network_info": network_info, "validators": validators,
    "EXPERIMENTAL_validators_ordered": validators_ordered,
    "EXPERIMENTAL_genesis_config": genesis_config, "genesis_config": genesis_config,
}
