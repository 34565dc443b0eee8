"""The wasmtime engine OutLayer runs every guest on, and its on-disk compiled-module cache.

One engine per process: its configuration is part of determinism (fuel, NaN
canonicalization, no threads, no relaxed SIMD, a fixed wasm stack), so it is fixed here
and hashed into the compiled-module cache key.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import resource
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import wasmtime
from wasmtime import _ffi as ffi

#: native wasm stack of every instance: fixed, so overflows happen at the same depth. 2 MiB
#: is the most wasmtime-py allows without raising async_stack_size, and ~1.5x what QuickJS
#: needs before its own limit trips (see outlayer.host.guest_build.JS_STACK_SIZE).
MAX_WASM_STACK = 2 * 1024 * 1024
#: how often the wall-clock ticker advances the engine epoch.
EPOCH_TICK_SECONDS = 0.01
WASMTIME_VERSION = importlib.metadata.version("wasmtime")


@dataclass(frozen=True)
class Limits:
    """Per-instance resource caps. Gas is the deterministic limit; these are safety nets."""

    memory_bytes: int = 64 * 1024 * 1024
    wall_clock_seconds: float = 10.0

    def epoch_ticks(self) -> int:
        return max(1, int(self.wall_clock_seconds / EPOCH_TICK_SECONDS))


def cache_root() -> Path:
    return Path(os.environ.get("OUTLAYER_CACHE") or Path.home() / ".cache" / "outlayer")


_CONFIG_FLAGS = {
    "consume_fuel": True,
    "epoch_interruption": True,
    "cranelift_nan_canonicalization": True,
    "wasm_threads": False,
    "wasm_relaxed_simd": False,
    "max_wasm_stack": MAX_WASM_STACK,
}


#: wasm table elements a pooled instance may have: far above NEAR's 10,000 per contract
#: table (the pool's default, 20,000, is a cap a direct contract could otherwise meet)
POOL_TABLE_ELEMENTS = 1 << 20
#: freed instances whose memory is reset together, in one batch: ~25 µs less per call than
#: one by one; bounds the dead memory waiting to be reset to this many instances
POOL_DECOMMIT_BATCH = 16


def _pooling(cfg: wasmtime.Config) -> None:
    """Instances come from a pool of reserved slots instead of fresh mappings: a call's
    instantiate and Store free cost ~35 µs less (the slot's memory is reset in place).
    Pooling changes no compiled code (the cached artifacts are byte-identical) and no wasm
    semantics (a slot is reset to the module's image before reuse); its caps are wasmtime's
    defaults (1,000 live instances and memories, 4 GiB per memory), except the table size,
    raised above NEAR's."""
    pool = ffi.wasmtime_pooling_allocation_config_new()
    try:
        ffi.wasmtime_pooling_allocation_config_table_elements_set(pool, POOL_TABLE_ELEMENTS)
        ffi.wasmtime_pooling_allocation_config_decommit_batch_size_set(pool, POOL_DECOMMIT_BATCH)
        ffi.wasmtime_pooling_allocation_strategy_set(cfg.ptr(), pool)
    finally:
        ffi.wasmtime_pooling_allocation_config_delete(pool)


def _pool_fits() -> bool:
    """Whether the pool's address space (~4.3 TB reserved, none of it committed) can be
    had: not under an address-space limit (ulimit -v), where wasmtime would abort the
    process instead of failing; instances are then allocated on demand, as before."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    return soft == resource.RLIM_INFINITY


def _make_config(pooled: bool = True) -> wasmtime.Config:
    cfg = wasmtime.Config()
    if pooled:
        _pooling(cfg)
    cfg.consume_fuel = True
    cfg.epoch_interruption = True
    cfg.cranelift_nan_canonicalization = True
    cfg.wasm_threads = False
    cfg.shared_memory = False
    cfg.wasm_relaxed_simd = False
    cfg.max_wasm_stack = MAX_WASM_STACK
    cfg.cranelift_opt_level = "speed"
    return cfg


def config_digest() -> str:
    text = repr(sorted(_CONFIG_FLAGS.items())) + WASMTIME_VERSION
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class _EpochTicker:
    """A daemon thread that advances the engine epoch: the wall-clock safety net only."""

    def __init__(self, engine: wasmtime.Engine) -> None:
        self._engine = engine
        self._thread = threading.Thread(target=self._run, name="outlayer-epoch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(EPOCH_TICK_SECONDS)
            self._engine.increment_epoch()


_lock = threading.Lock()
_engine: wasmtime.Engine | None = None
_modules: dict[str, wasmtime.Module] = {}


def engine() -> wasmtime.Engine:
    """The process-wide engine (created on first use, with its epoch ticker)."""
    global _engine
    with _lock:
        if _engine is None:
            _engine = wasmtime.Engine(_make_config(pooled=_pool_fits()))
            _EpochTicker(_engine)
        return _engine


def load_module(wasm: bytes | Path) -> wasmtime.Module:
    """Compile `wasm` once; reuse the compiled form from memory, then from disk.

    The disk key is the module's sha256 + wasmtime version + engine config, so a new
    wasmtime or config never loads a stale artifact.
    """
    data = wasm.read_bytes() if isinstance(wasm, Path) else wasm
    digest = hashlib.sha256(data).hexdigest()
    key = f"{digest}-{WASMTIME_VERSION}-{config_digest()}"
    with _lock:
        cached = _modules.get(key)
    if cached is not None:
        return cached
    eng = engine()
    path = cache_root() / "compiled" / f"{key}.cwasm"
    module: wasmtime.Module | None = None
    if path.exists():
        try:
            module = wasmtime.Module.deserialize_file(eng, str(path))
        except wasmtime.WasmtimeError:
            module = None  # corrupt or incompatible artifact: recompile below
    if module is None:
        module = wasmtime.Module(eng, data)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(module.serialize())
        os.replace(tmp, path)
    with _lock:
        _modules[key] = module
    return module
