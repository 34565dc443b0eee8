"""Block time and randomness of the simulated chain: derived, never read from the host."""

from __future__ import annotations

import hashlib

#: 2023-11-14T22:13:20Z, the default genesis (also VMContext's default timestamp).
GENESIS_TIME_NS = 1_700_000_000_000_000_000
BLOCK_TIME_NS = 1_000_000_000
CHAIN_SEED = b"outlayer"


def block_seed(chain_seed: bytes, height: int) -> bytes:
    """The block's 32-byte random seed: sha256(chain_seed || height as u64 little-endian)."""
    return hashlib.sha256(chain_seed + height.to_bytes(8, "little")).digest()


def block_timestamp(genesis_time_ns: int, block_time_ns: int, height: int) -> int:
    return genesis_time_ns + height * block_time_ns

#: blocks per epoch (mainnet's figure).
EPOCH_LENGTH = 43_200


def epoch_height(height: int) -> int:
    return 1 + height // EPOCH_LENGTH
