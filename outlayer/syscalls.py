"""The one table of OutLayer's NEAR syscalls (numbers 400-499).

Every consumer derives from this table: the C header the guest bridge is built
with (`outlayer.host.guest_build` generates it), the Python dispatcher
(`outlayer.guest_os.dispatch`), the direct-wasm `env` imports, and the docs.
Signatures are NEAR's own host-function signatures (every parameter u64, in
NEAR's order), so one handler serves both the `outlayer_near` namespace (import
name = the number) and NEAR's `env` namespace (import name = NEAR's name).
Numbers live in OutLayer's own import module, not in Linux's syscall space.

Two views of the table: `GUEST` (the numbered calls the QuickJS guest is built with) and
`ENV` (NEAR's `env` imports for direct wasm contracts, nearcore's ``imports.rs`` list). Some
NEAR functions exist only in `env` (``abort`` of AssemblyScript, the deprecated storage
iterators, bls12381) and are left out of the guest, so its header does not change.
"""

from __future__ import annotations

from dataclasses import dataclass

#: wasm import module of the numbered syscalls used by the QuickJS guest.
SYSCALL_MODULE = "outlayer_near"


@dataclass(frozen=True)
class Syscall:
    nr: int
    name: str
    params: tuple[str, ...]
    result: str | None  # "u64", "u32" or None
    view_prohibited: bool = False
    hot: bool = False  # on the per-call fast path (storage, registers)
    env: bool = True  # a NEAR host function: importable from `env` by direct wasm contracts
    guest: bool = True  # in the QuickJS guest's header and numbered namespace
    param_type: str = "u64"  # every parameter's type: u64, or u32 for NEAR's `abort`

    def wasm_type(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(params, results) as wasm value types: the signature a contract must import."""
        wasm = {"u64": "i64", "u32": "i32"}
        return (tuple(wasm[self.param_type] for _ in self.params),
                () if self.result is None else (wasm[self.result],))


def _s(nr: int, name: str, params: str, result: str | None = None, *, view: bool = False,
       hot: bool = False, env: bool = True, guest: bool = True, param_type: str = "u64"
       ) -> Syscall:
    return Syscall(nr, name, tuple(params.split()), result, view_prohibited=view, hot=hot,
                   env=env, guest=guest, param_type=param_type)


SYSCALLS: tuple[Syscall, ...] = (
    # storage (400-409); numbers 400, 401, 402, 404 are fixed by the roadmap
    _s(400, "storage_read", "key_len key_ptr register_id", "u64", hot=True),
    _s(401, "storage_write", "key_len key_ptr value_len value_ptr register_id", "u64",
       view=True, hot=True),
    _s(402, "storage_remove", "key_len key_ptr register_id", "u64", view=True, hot=True),
    _s(403, "storage_has_key", "key_len key_ptr", "u64", hot=True),
    _s(404, "log_utf8", "len ptr", hot=True),
    _s(405, "log_utf16", "len ptr"),
    _s(406, "storage_usage", "", "u64"),
    # NEAR keeps these imports but they fail with Deprecated (direct wasm only)
    _s(407, "storage_iter_prefix", "prefix_len prefix_ptr", "u64", guest=False),
    _s(408, "storage_iter_range", "start_len start_ptr end_len end_ptr", "u64", guest=False),
    _s(409, "storage_iter_next", "iterator_id key_register_id value_register_id", "u64",
       guest=False),
    # context (410-429); 410 is fixed by the roadmap
    _s(410, "current_account_id", "register_id"),
    _s(411, "signer_account_id", "register_id", view=True),
    _s(412, "signer_account_pk", "register_id", view=True),
    _s(413, "predecessor_account_id", "register_id", view=True),
    _s(414, "input", "register_id"),
    _s(415, "block_index", "", "u64"),
    _s(416, "block_timestamp", "", "u64"),
    _s(417, "epoch_height", "", "u64"),
    _s(418, "account_balance", "balance_ptr"),
    _s(419, "account_locked_balance", "balance_ptr"),
    _s(420, "attached_deposit", "balance_ptr", view=True),
    _s(421, "prepaid_gas", "", "u64", view=True),
    _s(422, "used_gas", "", "u64", view=True),
    _s(423, "random_seed", "register_id"),
    _s(424, "validator_stake", "account_id_len account_id_ptr stake_ptr"),
    _s(425, "validator_total_stake", "stake_ptr"),
    # registers (430-439)
    _s(430, "read_register", "register_id ptr", hot=True),
    _s(431, "register_len", "register_id", "u64", hot=True),
    _s(432, "write_register", "register_id data_len data_ptr", hot=True),
    # results and failure (440-449)
    _s(440, "value_return", "value_len value_ptr"),
    _s(441, "panic", ""),
    _s(442, "panic_utf8", "len ptr"),
    # AssemblyScript's abort: u32 parameters, UTF-16 strings with their length before them
    _s(443, "abort", "msg_ptr filename_ptr line col", guest=False, param_type="u32"),
    # hashing and signatures (450-459)
    _s(450, "sha256", "value_len value_ptr register_id"),
    _s(451, "keccak256", "value_len value_ptr register_id"),
    _s(452, "keccak512", "value_len value_ptr register_id"),
    _s(453, "ripemd160", "value_len value_ptr register_id"),
    _s(454, "ecrecover", "hash_len hash_ptr sig_len sig_ptr v malleability_flag register_id",
       "u64"),
    _s(455, "ed25519_verify",
       "signature_len signature_ptr message_len message_ptr public_key_len public_key_ptr",
       "u64"),
    _s(456, "alt_bn128_g1_multiexp", "value_len value_ptr register_id"),
    _s(457, "alt_bn128_g1_sum", "value_len value_ptr register_id"),
    _s(458, "alt_bn128_pairing_check", "value_len value_ptr", "u64"),
    # promises (460-479)
    _s(460, "promise_create",
       "account_id_len account_id_ptr function_name_len function_name_ptr arguments_len "
       "arguments_ptr amount_ptr gas", "u64", view=True),
    _s(461, "promise_then",
       "promise_index account_id_len account_id_ptr function_name_len function_name_ptr "
       "arguments_len arguments_ptr amount_ptr gas", "u64", view=True),
    _s(462, "promise_and", "promise_idx_ptr promise_idx_count", "u64", view=True),
    _s(463, "promise_batch_create", "account_id_len account_id_ptr", "u64", view=True),
    _s(464, "promise_batch_then", "promise_index account_id_len account_id_ptr", "u64",
       view=True),
    _s(465, "promise_batch_action_create_account", "promise_index", view=True),
    _s(466, "promise_batch_action_deploy_contract", "promise_index code_len code_ptr",
       view=True),
    _s(467, "promise_batch_action_function_call",
       "promise_index function_name_len function_name_ptr arguments_len arguments_ptr "
       "amount_ptr gas", view=True),
    _s(468, "promise_batch_action_function_call_weight",
       "promise_index function_name_len function_name_ptr arguments_len arguments_ptr "
       "amount_ptr gas gas_weight", view=True),
    _s(469, "promise_batch_action_transfer", "promise_index amount_ptr", view=True),
    _s(470, "promise_batch_action_stake",
       "promise_index amount_ptr public_key_len public_key_ptr", view=True),
    _s(471, "promise_batch_action_add_key_with_full_access",
       "promise_index public_key_len public_key_ptr nonce", view=True),
    _s(472, "promise_batch_action_add_key_with_function_call",
       "promise_index public_key_len public_key_ptr nonce allowance_ptr receiver_id_len "
       "receiver_id_ptr method_names_len method_names_ptr", view=True),
    _s(473, "promise_batch_action_delete_key", "promise_index public_key_len public_key_ptr",
       view=True),
    _s(474, "promise_batch_action_delete_account",
       "promise_index beneficiary_id_len beneficiary_id_ptr", view=True),
    _s(475, "promise_results_count", "", "u64", view=True),
    _s(476, "promise_result", "result_idx register_id", "u64", view=True),
    _s(477, "promise_return", "promise_idx", view=True),
    _s(478, "promise_yield_create",
       "function_name_len function_name_ptr arguments_len arguments_ptr gas gas_weight "
       "register_id", "u64", view=True),
    _s(479, "promise_yield_resume", "data_id_len data_id_ptr payload_len payload_ptr", "u32",
       view=True),
    # bls12381 (direct wasm only; they fail with UnsupportedHostFunction, see
    # docs/DIRECT_WASM.md): importable, so contracts that link them but do not call them run
    _s(480, "bls12381_g1_sum", "value_len value_ptr register_id", "u64", guest=False),
    _s(481, "bls12381_g2_sum", "value_len value_ptr register_id", "u64", guest=False),
    _s(482, "bls12381_g1_multiexp", "value_len value_ptr register_id", "u64", guest=False),
    _s(483, "bls12381_g2_multiexp", "value_len value_ptr register_id", "u64", guest=False),
    _s(484, "bls12381_map_fp_to_g1", "value_len value_ptr register_id", "u64", guest=False),
    _s(485, "bls12381_map_fp2_to_g2", "value_len value_ptr register_id", "u64", guest=False),
    _s(486, "bls12381_pairing_check", "value_len value_ptr", "u64", guest=False),
    _s(487, "bls12381_g1_decompress", "value_len value_ptr register_id", "u64", guest=False),
    _s(488, "bls12381_g2_decompress", "value_len value_ptr register_id", "u64", guest=False),
    # 490-499: OutLayer guest-bridge calls (never in `env`)
    _s(490, "outlayer_guest_error", "kind msg_len msg_ptr", env=False),
    # storage_read + register_len + read_register in one host call, priced exactly as those
    # three: returns u64::MAX on a miss, else the value length; copies the value to buf_ptr
    # when it fits in buf_len (else it stays in the register for read_register).
    _s(491, "outlayer_storage_read_into", "key_len key_ptr register_id buf_len buf_ptr", "u64",
       hot=True, env=False),
)

BY_NR: dict[int, Syscall] = {s.nr: s for s in SYSCALLS}
BY_NAME: dict[str, Syscall] = {s.name: s for s in SYSCALLS}
#: the numbered calls of the QuickJS guest (its C header)
GUEST: tuple[Syscall, ...] = tuple(s for s in SYSCALLS if s.guest)
#: NEAR's `env` imports by name: what a direct wasm contract may import
ENV: dict[str, Syscall] = {s.name: s for s in SYSCALLS if s.env}

#: kinds reported by the guest bridge through syscall 490 (`outlayer_guest_error`).
GUEST_ERROR_KINDS: dict[int, str] = {
    1: "CompileError",  # syntax error in the contract module (message has line:column)
    2: "MethodNotFound",  # message: JSON list of exported function names
    3: "JSException",  # uncaught exception: message + JS stack
    4: "ResultNotSerializable",  # the method's return value has no JSON form
    5: "PromiseNotSettled",  # async method whose promise never settled
    6: "MemoryLimitExceeded",  # the guest's allocator hit the instance memory cap
    7: "InvalidArguments",  # args could not be parsed as a JSON object
    8: "InternalError",  # bridge failure, never a contract's fault
}


def check_table() -> None:
    """Raise if the table breaks its own rules (range, uniqueness, roadmap numbers)."""
    nrs = [s.nr for s in SYSCALLS]
    if len(set(nrs)) != len(nrs):
        raise ValueError("duplicate syscall number")
    if len(BY_NAME) != len(SYSCALLS):
        raise ValueError("duplicate syscall name")
    for s in SYSCALLS:
        if not 400 <= s.nr <= 499:
            raise ValueError(f"syscall {s.name} number {s.nr} outside 400-499")
        if s.param_type not in ("u64", "u32") or not (s.env or s.guest):
            raise ValueError(f"syscall {s.name}: bad parameter type or in no namespace")
    fixed = {400: "storage_read", 401: "storage_write", 402: "storage_remove", 404: "log_utf8",
             410: "current_account_id"}
    for nr, name in fixed.items():
        if BY_NR[nr].name != name:
            raise ValueError(f"syscall {nr} must be {name}")


def c_header() -> str:
    """The C header of the guest bridge: one prototype per syscall, import name = number."""
    lines = [
        "/* Generated from outlayer/syscalls.py by outlayer.host.guest_build. Do not edit. */",
        "#ifndef OUTLAYER_SYSCALLS_H",
        "#define OUTLAYER_SYSCALLS_H",
        "#include <stdint.h>",
        "",
    ]
    for s in GUEST:
        ret = {"u64": "uint64_t", "u32": "uint32_t", None: "void"}[s.result]
        params = ", ".join(f"uint64_t {p}" for p in s.params) or "void"
        lines.append(f"#define OL_SYS_{s.name.upper()} {s.nr}")
        lines.append(
            f'__attribute__((import_module("{SYSCALL_MODULE}"), import_name("{s.nr}")))'
        )
        lines.append(f"{ret} ol_{s.name}({params});")
    lines.append("")
    for kind, name in GUEST_ERROR_KINDS.items():
        lines.append(f"#define OL_ERR_{_snake(name).upper()} {kind}")
    lines += ["", "#endif", ""]
    return "\n".join(lines)


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch)
    return "".join(out)
