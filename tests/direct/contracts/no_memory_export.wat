;; A hand-written contract that defines its memory without exporting it: after the
;; deploy-time rewrite the host's memory replaces it all the same.
(module
  (import "env" "input" (func $input (param i64)))
  (import "env" "read_register" (func $read_register (param i64 i64)))
  (import "env" "register_len" (func $register_len (param i64) (result i64)))
  (import "env" "value_return" (func $value_return (param i64 i64)))
  (memory 1 1)
  (func (export "echo")
    (call $input (i64.const 0))
    (call $read_register (i64.const 0) (i64.const 64))
    (call $value_return (call $register_len (i64.const 0)) (i64.const 64))))
