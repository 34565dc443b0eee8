"""Direct mode: NEAR wasm contracts on wasmtime against NEAR's `env` host functions."""
