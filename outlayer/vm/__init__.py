"""NEAR host semantics (VMLogic) for OutLayer.

- `params`: the one table of NEAR runtime parameters (gas, fees, limits).
- `gas`: the gas counter, its limit rules and the wasm fuel protocol.
- `registers`, `overlay`, `crypto`, `account_id`: the pieces VMLogic is made of.
- `logic`: `VMLogic`, one method per syscall of `outlayer.syscalls`.
- `outcome`: `VMOutcome`, what one call produced.
- `context`, `interfaces`: what the host hands in (VMContext, memory, storage, fuel).
"""
