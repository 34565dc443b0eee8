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

#: blocks per epoch (mainnet's figure); a chain can be made with another (`epoch_length=`).
EPOCH_LENGTH = 43_200


def epoch_height(height: int, epoch_length: int = EPOCH_LENGTH) -> int:
    """The epoch of block `height`: epoch 1 is blocks 0 .. length - 1, and so on."""
    return 1 + height // epoch_length


def epoch_start(height: int, epoch_length: int = EPOCH_LENGTH) -> int:
    """The height of the first block of block `height`'s epoch."""
    return height - height % epoch_length


def starts_epoch(height: int, epoch_length: int = EPOCH_LENGTH) -> bool:
    """Block `height` is the first block of a new epoch (stake changes settle there)."""
    return height > 0 and height % epoch_length == 0
