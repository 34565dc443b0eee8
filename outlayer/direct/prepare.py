"""Deploy-time checks and rewriting of a NEAR wasm contract, as nearcore's ``prepare`` does.

1. the code is a valid wasm module (wasmtime's validator, with OutLayer's engine features);
2. every import is a function from `env` that NEAR provides (``outlayer.syscalls.ENV``),
   with NEAR's signature: anything else (another module, a memory, table or global, an
   unknown name, a wrong signature) is refused here rather than failing at the first call;
3. NEAR's limits: contract size, functions (imported + defined), locals, tables, one memory;
4. the contract's own memory definition is dropped and ``env.memory`` is imported instead,
   with NEAR's initial/maximum pages: the host owns the memory, and an export of memory 0
   (Rust contracts export ``memory``) now names the imported one.

Every refusal is a `CompileError` whose message names the problem.
"""

from __future__ import annotations

from outlayer.errors import CompileError
from outlayer.host import wasm_binary as wb
from outlayer.syscalls import ENV
from outlayer.vm.params import DEFAULT_PARAMS, Params

#: nearcore's limit config values that OutLayer's Params do not carry (they only matter here)
MAX_LOCALS_PER_CONTRACT = 1_000_000
MAX_TABLES_PER_CONTRACT = 1
#: the module and name of the memory the host provides
MEMORY_IMPORT = ("env", "memory")
WASM_MAGIC = wb.MAGIC
_KIND_NAMES = {wb.FUNC_KIND: "function", wb.TABLE_KIND: "table", wb.MEMORY_KIND: "memory",
               wb.GLOBAL_KIND: "global", wb.TAG_KIND: "tag"}


def is_wasm(code: bytes) -> bool:
    """Whether `code` is meant as a wasm module (its magic bytes), valid or not."""
    return code[:4] == WASM_MAGIC


def validate(code: bytes) -> None:
    """Refuse bytes that are not a valid wasm module, with wasmtime's reason."""
    import wasmtime

    from outlayer.host.engine import engine

    try:
        wasmtime.Module.validate(engine(), code)
    except wasmtime.WasmtimeError as exc:
        reason = " ".join(str(exc).split())
        raise CompileError(f"invalid wasm module: {reason}") from None


def prepare(code: bytes, params: Params = DEFAULT_PARAMS) -> bytes:
    """The module OutLayer instantiates for `code`; raises CompileError naming the problem."""
    if len(code) > params.max_contract_size:
        raise CompileError(f"contract is {len(code)} bytes, over NEAR's max_contract_size "
                           f"of {params.max_contract_size}")
    if not is_wasm(code):
        raise CompileError("not a wasm module (no \\0asm magic bytes)")
    validate(code)
    try:
        return _rewrite(code, params)
    except wb.WasmFormatError as exc:
        raise CompileError(f"invalid wasm module: {exc}") from None


def _rewrite(code: bytes, params: Params) -> bytes:
    mod = wb.parse(code)
    types = wb.func_types(mod)
    imports = wb.imports(mod)
    for imp in imports:
        _check_import(imp, types)
    functions = len(imports) + wb.section_count(mod, wb.FUNCTION)
    if functions > params.max_functions_number_per_contract:
        raise CompileError(f"the contract has {functions} functions, over NEAR's limit of "
                           f"{params.max_functions_number_per_contract}")
    local_total = sum(wb.local_counts(mod))
    if local_total > MAX_LOCALS_PER_CONTRACT:
        raise CompileError(f"the contract declares {local_total} locals, over NEAR's limit "
                           f"of {MAX_LOCALS_PER_CONTRACT}")
    tables = wb.section_count(mod, wb.TABLE)
    if tables > MAX_TABLES_PER_CONTRACT:
        raise CompileError(f"the contract defines {tables} tables, over NEAR's limit of "
                           f"{MAX_TABLES_PER_CONTRACT}")
    memories = wb.memories(mod)
    if len(memories) > 1:
        raise CompileError(f"the contract defines {len(memories)} memories; NEAR allows one")
    memory = wb.Limits(0x01, params.initial_memory_pages, params.max_memory_pages)
    entries = [wb.encode_import(imp) for imp in imports]
    entries.append(wb.name(MEMORY_IMPORT[0]) + wb.name(MEMORY_IMPORT[1])
                   + bytes([wb.MEMORY_KIND]) + memory.encode())
    mod.replace(wb.IMPORT, wb.vec(entries))
    mod.replace(wb.MEMORY, None)
    return mod.encode()


def _check_import(imp: wb.Import, types: list[wb.FuncType]) -> None:
    where = f"import {imp.module}.{imp.field}"
    if imp.module != "env":
        raise CompileError(f"{where}: a NEAR contract may import only from module 'env'")
    if imp.kind != wb.FUNC_KIND:
        kind = _KIND_NAMES.get(imp.kind, f"kind {imp.kind}")
        raise CompileError(f"{where}: imports a {kind}; a NEAR contract may import only "
                           "functions (the host provides the memory)")
    syscall = ENV.get(imp.field)
    if syscall is None:
        raise CompileError(f"{where}: NEAR has no host function named {imp.field!r}")
    index = wb.read_u(imp.raw_desc, 0)[0]
    if index >= len(types):
        raise CompileError(f"{where}: type index {index} out of range")
    got = types[index]
    want = syscall.wasm_type()
    if (got.params, got.results) != want:
        raise CompileError(f"{where}: signature {_sig(got.params, got.results)} does not "
                           f"match NEAR's {_sig(*want)}")


def _sig(params: tuple[str, ...], results: tuple[str, ...]) -> str:
    return f"({', '.join(params)}) -> ({', '.join(results)})"


def describe(code: bytes, params: Params = DEFAULT_PARAMS) -> str:
    """How OutLayer runs `code` (a wasm contract that `prepare` accepted), for people: the
    engine, the host-provided memory and the `env` functions it imports."""
    count = len(wb.imports(wb.parse(code)))
    low, high = params.initial_memory_pages, params.max_memory_pages
    return (f"direct wasm; memory: env.memory, {low:,}..{high:,} pages "
            f"({low * 64 // 1024} MiB..{high * 64 // 1024} MiB, from the host); "
            f"{count} env import{'s' if count != 1 else ''}")
