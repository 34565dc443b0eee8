;; The shape rustc + near-sdk-rs give a contract: `memory` exported, a stack pointer
;; global, exported __data_end / __heap_base, a function table reached by call_indirect,
;; and a data segment. Method `greet` returns "hello " + input through an indirect call.
(module
  (type $v (func))
  (type $ret (func (param i64 i64)))
  (import "env" "input" (func $input (param i64)))
  (import "env" "register_len" (func $register_len (param i64) (result i64)))
  (import "env" "read_register" (func $read_register (param i64 i64)))
  (import "env" "value_return" (func $value_return (type $ret)))
  (table 2 2 funcref)
  (memory $mem 17)
  (global $__stack_pointer (mut i32) (i32.const 1048576))
  (global $__data_end i32 (i32.const 1048582))
  (global $__heap_base i32 (i32.const 1048592))
  (export "memory" (memory $mem))
  (export "__data_end" (global $__data_end))
  (export "__heap_base" (global $__heap_base))
  (export "greet" (func $greet))
  (elem (i32.const 1) $reply)
  (data (i32.const 1048576) "hello ")
  (func $reply
    (call $value_return
      (i64.add (i64.const 6) (call $register_len (i64.const 0)))
      (i64.const 1048576)))
  (func $greet (type $v)
    (call $input (i64.const 0))
    (call $read_register (i64.const 0) (i64.const 1048582))
    (call_indirect (type $v) (i32.const 1))))
