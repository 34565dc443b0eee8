"""The node's configuration: chain id, genesis accounts and their keys.

A config file is JSON (``.json``) or TOML (``.toml``)::

    {"chain_id": "localnet",
     "accounts": [{"account_id": "test.near", "balance": "1000000NEAR",
                   "public_key": "ed25519:..."}]}

A fresh start (no config file yet) writes one with `test.near` and a new ed25519 full-access
key, and stores the key pair as near-cli does (``<keys>/<chain_id>/<account>.json`` holding
account_id, public_key and private_key), so NEAR tools can sign with it. Genesis accounts
missing from the chain are created when the node starts; existing ones are left as they are.
Keys are host data: they never reach a contract (only public keys do, through transactions).
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import base58
from nacl.signing import SigningKey

from outlayer.chain.accounts import DEFAULT_SIGNER, check_account_id, public_key_bytes
from outlayer.chain.units import parse_amount
from outlayer.errors import UserError

DEFAULT_CHAIN_ID = "localnet"
DEFAULT_GENESIS_BALANCE = "1000000000NEAR"


@dataclass
class GenesisAccount:
    account_id: str
    balance: int
    public_key: str | None


@dataclass
class NodeConfig:
    chain_id: str = DEFAULT_CHAIN_ID
    accounts: list[GenesisAccount] = field(default_factory=list)
    #: where this config was read from (None: made in memory)
    path: Path | None = None
    #: key files written by a fresh start (to tell the user)
    created_keys: list[Path] = field(default_factory=list)
    #: private keys a fresh start made, by account (in-process users such as tests)
    secret_keys: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, doc: Any, path: Path | None = None) -> NodeConfig:
        where = f" in {path}" if path else ""
        if not isinstance(doc, dict):
            raise UserError(f"node config{where} must be an object")
        chain_id = doc.get("chain_id", DEFAULT_CHAIN_ID)
        if not isinstance(chain_id, str) or not chain_id:
            raise UserError(f"chain_id{where} must be a non-empty string")
        raw = doc.get("accounts", [])
        if not isinstance(raw, list):
            raise UserError(f"accounts{where} must be a list")
        accounts = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict) or "account_id" not in item:
                raise UserError(f"accounts[{i}]{where} needs an account_id")
            account_id = check_account_id(item["account_id"], f"accounts[{i}]")
            balance = parse_amount(item.get("balance", DEFAULT_GENESIS_BALANCE))
            key = item.get("public_key")
            if key is not None:
                public_key_bytes(key)  # raises on a malformed key
            accounts.append(GenesisAccount(account_id, balance, key))
        return cls(chain_id, accounts, path)


def load(path: Path) -> NodeConfig:
    """Read a JSON or TOML config file."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise UserError(f"config file not found: {path}") from None
    except OSError as exc:
        raise UserError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        doc = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"config file {path} is not valid "
                        f"{'TOML' if path.suffix == '.toml' else 'JSON'}: {exc}") from None
    return NodeConfig.from_json(doc, path)


def new_key_pair() -> tuple[str, str]:
    """(public_key, private_key) in NEAR's text forms; the private key is seed || public."""
    signing = SigningKey.generate()
    public = bytes(signing.verify_key)
    return (f"ed25519:{base58.b58encode(public).decode()}",
            f"ed25519:{base58.b58encode(bytes(signing) + public).decode()}")


def write_key_file(keys_dir: Path, chain_id: str, account_id: str, public_key: str,
                   private_key: str) -> Path:
    """A near-cli credentials file (readable by the owner only)."""
    folder = keys_dir / chain_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{account_id}.json"
    doc = {"account_id": account_id, "public_key": public_key, "private_key": private_key}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(doc, out, indent=2)
        out.write("\n")
    return path


def load_or_create(path: Path | None, keys_dir: Path | None) -> NodeConfig:
    """The config at `path`; if there is none, a new one with `test.near` and a new key,
    written to `path` and (the key pair) under `keys_dir` when they are given."""
    if path is not None and path.exists():
        return load(path)
    public, private = new_key_pair()
    doc = {"chain_id": DEFAULT_CHAIN_ID,
           "accounts": [{"account_id": DEFAULT_SIGNER, "balance": DEFAULT_GENESIS_BALANCE,
                         "public_key": public}]}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=2) + "\n", "utf-8")
    config = NodeConfig.from_json(doc, path)
    config.secret_keys[DEFAULT_SIGNER] = private
    if keys_dir is not None:
        config.created_keys.append(
            write_key_file(keys_dir, DEFAULT_CHAIN_ID, DEFAULT_SIGNER, public, private))
    return config
