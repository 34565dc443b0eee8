"""One chain, one thread: every request's chain work runs on a single worker thread.

`ContractSimulator` is not thread-safe and its SQLite connection belongs to the thread that
opened it, so the node opens the simulator on its own worker thread and queues work there.
Requests stay concurrent at the HTTP layer; chain work is serial, which is also what makes a
run of concurrent transactions equal to a serial replay of them. The thread gets a known
native stack (`outlayer.host.stack`): contracts run on it, with their wasm stack.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from outlayer.chain.simulator import ContractSimulator
from outlayer.host.stack import guest_thread_stack

T = TypeVar("T")


class Node:
    """Owns the simulator; `run`/`call` execute `fn(sim, *args)` on the chain thread."""

    def __init__(self, factory: Callable[[], ContractSimulator]) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="outlayer-chain")
        self._sim: ContractSimulator | None = None
        self._closed = threading.Event()
        with guest_thread_stack():  # the pool starts its one thread on this first submit
            self._sim = self._pool.submit(factory).result()

    @property
    def sim(self) -> ContractSimulator:
        """The simulator; touch it only from inside `run`/`call` callbacks."""
        assert self._sim is not None
        return self._sim

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(sim, *args)` on the chain thread and wait (for sync code and tests)."""
        if self._closed.is_set():
            raise RuntimeError("the node is closed")
        return self._pool.submit(fn, self.sim, *args).result()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(sim, *args)` on the chain thread without blocking the event loop."""
        if self._closed.is_set():
            raise RuntimeError("the node is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, fn, self.sim, *args)

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        if self._sim is not None:
            self._pool.submit(self._sim.close).result()
        self._pool.shutdown(wait=True)
