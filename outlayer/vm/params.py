"""The one table of NEAR runtime parameters OutLayer charges and checks against.

Every gas number, fee and limit VMLogic uses comes from a `Params` instance, so moving to
another NEAR protocol version means building another table (``dataclasses.replace`` on
`DEFAULT_PARAMS`, or a new instance), never editing code.

`DEFAULT_PARAMS` follows nearcore's mainnet runtime config as listed in
``shared/NEAR_HOST_ABI.md`` section 2:

- ext (host-function) costs and contract limits as in protocol versions 73-80, the last
  ones before ``81.yaml`` lowered ``wasm_touching_trie_node`` from 16,101,955,926 to
  2,280,000,000. We keep the higher figure on purpose: most published NEAR gas figures
  were measured with it, and our storage model
  charges at most one trie node per access (see `outlayer.vm.overlay`) where nearcore
  charges one per node on the key's trie path, so the larger per-node price keeps storage
  from looking much cheaper than on chain;
- max_gas_burnt / max_total_prepaid_gas 300 Tgas (before the 1 PGas raise);
- action fees as in nearcore's base ``parameters.yaml`` (function_call 2.3 Tgas,
  create_account 99.6 Ggas). Later mainnet versions repriced function_call (200 Ggas send /
  780 Ggas exec) and create_account; swap the fees with the rest when pinning a newer
  version (promise gas changes with them).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

#: Largest u64; also NEAR's "read a register instead" length marker.
U64_MAX = (1 << 64) - 1
#: One Tgas.
TGAS = 10**12


@dataclass(frozen=True, slots=True)
class Fee:
    """A NEAR action fee: burnt when sent (to self / to another shard) and when executed."""

    send_sir: int
    send_not_sir: int
    execution: int

    def send_fee(self, sir: bool) -> int:
        return self.send_sir if sir else self.send_not_sir


def _same(gas: int) -> Fee:
    return Fee(gas, gas, gas)


#: Names of the ext (host-function) costs, in NEAR's ExtCosts order; each is a `Params` field.
EXT_COST_NAMES: tuple[str, ...] = (
    "base",
    "contract_loading_base",
    "contract_loading_bytes",
    "read_memory_base",
    "read_memory_byte",
    "write_memory_base",
    "write_memory_byte",
    "read_register_base",
    "read_register_byte",
    "write_register_base",
    "write_register_byte",
    "utf8_decoding_base",
    "utf8_decoding_byte",
    "utf16_decoding_base",
    "utf16_decoding_byte",
    "sha256_base",
    "sha256_byte",
    "keccak256_base",
    "keccak256_byte",
    "keccak512_base",
    "keccak512_byte",
    "ripemd160_base",
    "ripemd160_block",
    "ecrecover_base",
    "ed25519_verify_base",
    "ed25519_verify_byte",
    "log_base",
    "log_byte",
    "storage_write_base",
    "storage_write_key_byte",
    "storage_write_value_byte",
    "storage_write_evicted_byte",
    "storage_read_base",
    "storage_read_key_byte",
    "storage_read_value_byte",
    "storage_remove_base",
    "storage_remove_key_byte",
    "storage_remove_ret_value_byte",
    "storage_has_key_base",
    "storage_has_key_byte",
    "touching_trie_node",
    "read_cached_trie_node",
    "promise_and_base",
    "promise_and_per_promise",
    "promise_return",
    "validator_stake_base",
    "validator_total_stake_base",
    "alt_bn128_g1_multiexp_base",
    "alt_bn128_g1_multiexp_element",
    "alt_bn128_g1_sum_base",
    "alt_bn128_g1_sum_element",
    "alt_bn128_pairing_check_base",
    "alt_bn128_pairing_check_element",
    "yield_create_base",
    "yield_create_byte",
    "yield_resume_base",
    "yield_resume_byte",
)


@dataclass(frozen=True, slots=True)
class Params:
    """NEAR runtime parameters: ext costs, wasm op cost, action fees, storage economics, limits.

    Field names are nearcore's (``wasm_`` prefix dropped for ext costs, as in ExtCosts).
    """

    # Which NEAR config this table follows (shown in outcomes and docs).
    name: str = "nearcore mainnet pv80 ext costs + limits (300 Tgas), base action fees"
    protocol_version: int = 80

    # --- ext costs (gas) -----------------------------------------------------------------
    base: int = 264_768_111
    contract_loading_base: int = 35_445_963
    contract_loading_bytes: int = 1_089_295
    read_memory_base: int = 2_609_863_200
    read_memory_byte: int = 3_801_333
    write_memory_base: int = 2_803_794_861
    write_memory_byte: int = 2_723_772
    read_register_base: int = 2_517_165_186
    read_register_byte: int = 98_562
    write_register_base: int = 2_865_522_486
    write_register_byte: int = 3_801_564
    utf8_decoding_base: int = 3_111_779_061
    utf8_decoding_byte: int = 291_580_479
    utf16_decoding_base: int = 3_543_313_050
    utf16_decoding_byte: int = 163_577_493
    sha256_base: int = 4_540_970_250
    sha256_byte: int = 24_117_351
    keccak256_base: int = 5_879_491_275
    keccak256_byte: int = 21_471_105
    keccak512_base: int = 5_811_388_236
    keccak512_byte: int = 36_649_701
    ripemd160_base: int = 853_675_086
    ripemd160_block: int = 680_107_584
    ecrecover_base: int = 278_821_988_457
    ed25519_verify_base: int = 210_000_000_000
    ed25519_verify_byte: int = 9_000_000
    log_base: int = 3_543_313_050
    log_byte: int = 13_198_791
    storage_write_base: int = 64_196_736_000
    storage_write_key_byte: int = 70_482_867
    storage_write_value_byte: int = 31_018_539
    storage_write_evicted_byte: int = 32_117_307
    storage_read_base: int = 56_356_845_750
    storage_read_key_byte: int = 30_952_533
    storage_read_value_byte: int = 5_611_005
    storage_remove_base: int = 53_473_030_500
    storage_remove_key_byte: int = 38_220_384
    storage_remove_ret_value_byte: int = 11_531_556
    storage_has_key_base: int = 54_039_896_625
    storage_has_key_byte: int = 30_790_845
    # Pre-81 price; newer configs charge 2,280,000,000 (see module doc).
    touching_trie_node: int = 16_101_955_926
    read_cached_trie_node: int = 2_280_000_000
    promise_and_base: int = 1_465_013_400
    promise_and_per_promise: int = 5_452_176
    promise_return: int = 560_152_386
    validator_stake_base: int = 911_834_726_400
    validator_total_stake_base: int = 911_834_726_400
    alt_bn128_g1_multiexp_base: int = 713_000_000_000
    alt_bn128_g1_multiexp_element: int = 320_000_000_000
    alt_bn128_g1_sum_base: int = 3_000_000_000
    alt_bn128_g1_sum_element: int = 5_000_000_000
    alt_bn128_pairing_check_base: int = 9_686_000_000_000
    alt_bn128_pairing_check_element: int = 5_102_000_000_000
    yield_create_base: int = 153_411_779_276
    yield_create_byte: int = 15_643_988
    yield_resume_base: int = 1_195_627_285_210
    yield_resume_byte: int = 47_683_715  # value since protocol 73 (fixed from a typo)

    #: Gas per wasm instruction; one wasmtime fuel unit is one instruction.
    wasm_regular_op_cost: int = 822_756

    # --- action fees ---------------------------------------------------------------------
    action_receipt_creation: Fee = field(default_factory=lambda: _same(108_059_500_000))
    data_receipt_creation_base: Fee = field(default_factory=lambda: _same(36_486_732_312))
    data_receipt_creation_per_byte: Fee = field(default_factory=lambda: _same(17_212_011))
    action_create_account: Fee = field(default_factory=lambda: _same(99_607_375_000))
    action_delete_account: Fee = field(default_factory=lambda: _same(147_489_000_000))
    action_deploy_contract: Fee = field(default_factory=lambda: _same(184_765_750_000))
    action_deploy_contract_per_byte: Fee = field(
        default_factory=lambda: Fee(6_812_999, 6_812_999, 64_572_944)
    )
    action_function_call: Fee = field(default_factory=lambda: _same(2_319_861_500_000))
    action_function_call_per_byte: Fee = field(default_factory=lambda: _same(2_235_934))
    action_transfer: Fee = field(default_factory=lambda: _same(115_123_062_500))
    action_stake: Fee = field(
        default_factory=lambda: Fee(141_715_687_500, 141_715_687_500, 102_217_625_000)
    )
    action_add_full_access_key: Fee = field(default_factory=lambda: _same(101_765_125_000))
    action_add_function_call_key: Fee = field(default_factory=lambda: _same(102_217_625_000))
    action_add_function_call_key_per_byte: Fee = field(default_factory=lambda: _same(1_925_331))
    action_delete_key: Fee = field(default_factory=lambda: _same(94_946_625_000))
    #: a delegate action (NEP-366) itself; its inner actions pay their own fees on top
    action_delegate: Fee = field(default_factory=lambda: _same(200_000_000_000))
    #: global contracts (NEP-591, nearcore 77.yaml): a deploy per code byte, a use per byte
    #: of its identifier (32 for a code hash, else the account id's length)
    action_deploy_global_contract: Fee = field(default_factory=lambda: _same(184_765_750_000))
    action_deploy_global_contract_per_byte: Fee = field(
        default_factory=lambda: Fee(6_812_999, 47_683_715, 70_000_000)
    )
    action_use_global_contract: Fee = field(default_factory=lambda: _same(184_765_750_000))
    action_use_global_contract_per_identifier_byte: Fee = field(
        default_factory=lambda: Fee(6_812_999, 47_683_715, 64_572_944)
    )

    # --- storage economics ---------------------------------------------------------------
    storage_amount_per_byte: int = 10**19  # yoctoNEAR per byte (1 NEAR per 100 kB)
    storage_num_bytes_account: int = 100
    storage_num_extra_bytes_record: int = 40
    #: what a global contract deploy burns per code byte (nearcore 77.yaml: 0.0001 NEAR,
    #: ten times the staking price of local code, paid once instead of by every user)
    global_contract_storage_amount_per_byte: int = 10**20

    # --- limits --------------------------------------------------------------------------
    max_gas_burnt: int = 300 * TGAS
    max_gas_burnt_view: int = 300 * TGAS
    max_total_prepaid_gas: int = 300 * TGAS
    max_stack_height: int = 262_144
    initial_memory_pages: int = 1_024
    max_memory_pages: int = 2_048
    registers_memory_limit: int = 1 << 30
    max_register_size: int = 104_857_600
    max_number_registers: int = 100
    max_number_logs: int = 100
    max_total_log_length: int = 16_384
    max_actions_per_receipt: int = 100
    max_number_bytes_method_names: int = 2_000
    max_length_method_name: int = 256
    max_arguments_length: int = 4_194_304
    max_length_returned_data: int = 4_194_304
    max_contract_size: int = 4_194_304
    max_transaction_size: int = 4_194_304
    max_length_storage_key: int = 2_048
    max_length_storage_value: int = 4_194_304
    max_promises_per_function_call_action: int = 1_024
    max_number_input_data_dependencies: int = 128
    max_functions_number_per_contract: int = 10_000
    yield_timeout_length_in_blocks: int = 200
    max_yield_payload_size: int = 1_024

    # --- protocol features ---------------------------------------------------------------
    #: a Transfer to a NEAR-implicit (64 hex) account creates it: the transfer also pays the
    #: create_account and add_full_access_key fees
    implicit_account_creation: bool = True
    #: the same for ETH-implicit (0x + 40 hex) accounts, which pay create_account only
    eth_implicit_accounts: bool = True

    def transfer_fees(self, receiver_id: str) -> tuple[Fee, ...]:
        """The fees of a Transfer to `receiver_id` (nearcore transfer_send_fee /
        transfer_exec_fee): one to an implicit account id also pays for creating it, whether
        or not the account exists yet."""
        from outlayer.vm.account_id import is_eth_implicit, is_near_implicit

        if self.implicit_account_creation:
            if is_near_implicit(receiver_id):
                return (self.action_transfer, self.action_create_account,
                        self.action_add_full_access_key)
            if self.eth_implicit_accounts and is_eth_implicit(receiver_id):
                return (self.action_transfer, self.action_create_account)
        return (self.action_transfer,)

    def ext_cost(self, name: str) -> int:
        """Gas of the ext cost `name` (one of `EXT_COST_NAMES`)."""
        if name not in _EXT_COST_SET:
            raise KeyError(f"unknown ext cost {name!r}")
        return int(getattr(self, name))

    def ext_costs(self) -> dict[str, int]:
        """All ext costs by name, in `EXT_COST_NAMES` order."""
        return {name: int(getattr(self, name)) for name in EXT_COST_NAMES}


_EXT_COST_SET = frozenset(EXT_COST_NAMES)


def _check_names() -> None:
    names = {f.name for f in fields(Params)}
    missing = _EXT_COST_SET - names
    if missing:
        raise RuntimeError(f"EXT_COST_NAMES not in Params: {sorted(missing)}")


_check_names()

#: The table OutLayer uses unless a caller passes another one.
DEFAULT_PARAMS = Params()
