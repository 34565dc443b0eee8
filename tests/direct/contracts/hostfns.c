/* A direct-wasm test contract that reaches every NEAR host function.
 *
 * Input: the JSON object {"h":"<hex>"} (arguments as hex, so binary data travels in a
 * transaction); `arg()` decodes it. Results are raw bytes through value_return, which the
 * tests read as CallResult.return_data.
 */
#include "near_env.h"

static uint8_t in[200000];
static uint8_t out[4096];
static uint64_t in_len, out_len;

static int hexval(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    panic_utf8(11, NEAR_PTR("bad hex arg"));
}

/* the decoded {"h":"..."} argument into `in` */
static void arg(void) {
    static uint8_t raw[sizeof(in) * 2 + 16];
    input(0);
    uint64_t n = register_len(0);
    if (n > sizeof(raw)) panic_utf8(13, NEAR_PTR("input too long"));
    read_register(0, NEAR_PTR(raw));
    in_len = 0;
    if (n < 8) return;
    for (uint64_t i = 6; i + 1 < n && raw[i] != '"'; i += 2)
        in[in_len++] = (uint8_t)(hexval(raw[i]) << 4 | hexval(raw[i + 1]));
}

static void put(const void *p, uint64_t n) {
    const uint8_t *s = p;
    for (uint64_t i = 0; i < n; i++) out[out_len++] = s[i];
}
static void put_u64(uint64_t v) { put(&v, 8); }  /* wasm is little-endian */
static void put_reg(uint64_t id) {
    uint64_t n = register_len(id);
    put_u64(n);
    if (n != UINT64_MAX) { read_register(id, NEAR_PTR(out + out_len)); out_len += n; }
}
static void put_u128(void (*f)(uint64_t)) { uint8_t b[16]; f(NEAR_PTR(b)); put(b, 16); }
static void ret(void) { value_return(out_len, NEAR_PTR(out)); }

/* ---------------------------------------------------------------- registers */

NEAR_METHOD(registers) {            /* write, length, read back; register 9 unset */
    arg();
    write_register(1, in_len, NEAR_PTR(in));
    put_reg(1);
    put_u64(register_len(9));
    ret();
}
NEAR_METHOD(read_unset_register) { read_register(42, NEAR_PTR(out)); }
NEAR_METHOD(register_as_input) {   /* a (u64::MAX, register) byte input to sha256 */
    arg();
    write_register(3, in_len, NEAR_PTR(in));
    sha256(NEAR_REGISTER, 3, 4);
    put_reg(4);
    ret();
}

/* ---------------------------------------------------------------- storage */
/* in = [key length u8][key][value] */

NEAR_METHOD(storage_put) {
    arg();
    uint64_t k = in[0];
    put_u64(storage_write(k, NEAR_PTR(in + 1), in_len - 1 - k, NEAR_PTR(in + 1 + k), 5));
    put_reg(5);
    put_u64(storage_usage());
    ret();
}
NEAR_METHOD(storage_get) {
    arg();
    put_u64(storage_read(in[0], NEAR_PTR(in + 1), 6));
    put_reg(6);
    put_u64(storage_has_key(in[0], NEAR_PTR(in + 1)));
    ret();
}
NEAR_METHOD(storage_del) {
    arg();
    put_u64(storage_remove(in[0], NEAR_PTR(in + 1), 7));
    put_reg(7);
    put_u64(storage_usage());
    ret();
}
NEAR_METHOD(storage_iter) {         /* in = [which]: all three are deprecated */
    arg();
    if (in[0] == 0) storage_iter_prefix(1, NEAR_PTR("a"));
    else if (in[0] == 1) storage_iter_range(1, NEAR_PTR("a"), 1, NEAR_PTR("b"));
    else storage_iter_next(0, 1, 2);
}

/* ---------------------------------------------------------------- context, economics */

NEAR_METHOD(context) {
    current_account_id(0); put_reg(0);
    signer_account_id(0); put_reg(0);
    signer_account_pk(0); put_reg(0);
    predecessor_account_id(0); put_reg(0);
    input(0); put_reg(0);
    put_u64(block_index());
    put_u64(block_timestamp());
    put_u64(epoch_height());
    put_u64(storage_usage());
    put_u128(account_balance);
    put_u128(account_locked_balance);
    put_u128(attached_deposit);
    put_u64(prepaid_gas());
    put_u64(used_gas());
    random_seed(0); put_reg(0);
    uint8_t stake[16];
    validator_stake(8, NEAR_PTR("nobody.x"), NEAR_PTR(stake)); put(stake, 16);
    validator_total_stake(NEAR_PTR(stake)); put(stake, 16);
    ret();
}
NEAR_METHOD(view_context) {        /* what a view may read */
    current_account_id(0); put_reg(0);
    put_u64(block_index());
    put_u64(storage_usage());
    put_u128(account_balance);
    random_seed(0); put_reg(0);
    ret();
}
/* a view-prohibited function chosen by the argument (0-5) */
NEAR_METHOD(prohibited) {
    arg();
    uint8_t b[16];
    switch (in[0]) {
    case 0: signer_account_id(0); break;
    case 1: predecessor_account_id(0); break;
    case 2: attached_deposit(NEAR_PTR(b)); break;
    case 3: prepaid_gas(); break;
    case 4: storage_write(1, NEAR_PTR("k"), 1, NEAR_PTR("v"), 0); break;
    default: promise_batch_create(6, NEAR_PTR("a.test")); break;
    }
}

/* ---------------------------------------------------------------- hashes, signatures */

NEAR_METHOD(hash) {                 /* in = [algorithm][data] */
    arg();
    uint64_t n = in_len - 1, p = NEAR_PTR(in + 1);
    switch (in[0]) {
    case 0: sha256(n, p, 0); break;
    case 1: keccak256(n, p, 0); break;
    case 2: keccak512(n, p, 0); break;
    default: ripemd160(n, p, 0); break;
    }
    put_reg(0);
    ret();
}
NEAR_METHOD(ecrecover_) {           /* in = hash(32) sig(64) v flag */
    arg();
    put_u64(ecrecover(32, NEAR_PTR(in), 64, NEAR_PTR(in + 32), in[96], in[97], 0));
    put_reg(0);
    ret();
}
NEAR_METHOD(ed25519) {              /* in = sig(64) pk(32) message */
    arg();
    put_u64(ed25519_verify(64, NEAR_PTR(in), in_len - 96, NEAR_PTR(in + 96), 32,
                           NEAR_PTR(in + 64)));
    ret();
}
NEAR_METHOD(bn_multiexp) { arg(); alt_bn128_g1_multiexp(in_len, NEAR_PTR(in), 0); put_reg(0); ret(); }
NEAR_METHOD(bn_sum) { arg(); alt_bn128_g1_sum(in_len, NEAR_PTR(in), 0); put_reg(0); ret(); }
NEAR_METHOD(bn_pairing) { arg(); put_u64(alt_bn128_pairing_check(in_len, NEAR_PTR(in))); ret(); }
/* in = [n]: the n-th bls12381 function (none is available: UnsupportedHostFunction) */
NEAR_METHOD(bls) {
    arg();
    uint64_t p = NEAR_PTR(in + 1), n = in_len - 1;
    switch (in[0]) {
    case 0: bls12381_g1_sum(n, p, 0); break;
    case 1: bls12381_g2_sum(n, p, 0); break;
    case 2: bls12381_g1_multiexp(n, p, 0); break;
    case 3: bls12381_g2_multiexp(n, p, 0); break;
    case 4: bls12381_map_fp_to_g1(n, p, 0); break;
    case 5: bls12381_map_fp2_to_g2(n, p, 0); break;
    case 6: bls12381_pairing_check(n, p); break;
    case 7: bls12381_g1_decompress(n, p, 0); break;
    default: bls12381_g2_decompress(n, p, 0); break;
    }
}

/* ---------------------------------------------------------------- logs, panics, returns */

NEAR_METHOD(log) { arg(); log_utf8(in_len, NEAR_PTR(in)); }
NEAR_METHOD(log16) { arg(); log_utf16(in_len, NEAR_PTR(in)); }
NEAR_METHOD(log_nul) { log_utf8(UINT64_MAX, NEAR_PTR("nul-terminated")); }
NEAR_METHOD(log_many) {             /* in = [count] */
    arg();
    for (int i = 0; i < in[0]; i++) log_utf8(1, NEAR_PTR("x"));
}
NEAR_METHOD(panic_) { panic(); }
NEAR_METHOD(panic_msg) { arg(); panic_utf8(in_len, NEAR_PTR(in)); }
NEAR_METHOD(abort_) {               /* AssemblyScript strings: u32 byte length, UTF-16LE */
    static uint32_t msg[3] = {6, 0x00690068, 0x00000021};       /* "hi!" */
    static uint32_t file[3] = {8, 0x002e0061, 0x00730074};      /* "a.ts" */
    abort(NEAR_PTR(&msg[1]), NEAR_PTR(&file[1]), 7, 3);
}
NEAR_METHOD(return_twice) {         /* the last value_return wins */
    value_return(5, NEAR_PTR("first"));
    value_return(6, NEAR_PTR("second"));
}
NEAR_METHOD(return_register) {
    arg();
    write_register(2, in_len, NEAR_PTR(in));
    value_return(NEAR_REGISTER, 2);
}

/* ---------------------------------------------------------------- faults and limits */

NEAR_METHOD(out_of_bounds) { log_utf8(16, 0xFFFFFFF0ull + 100); }
NEAR_METHOD(bad_utf8) { log_utf8(2, NEAR_PTR("\xff\xfe")); }
NEAR_METHOD(bad_account) { promise_batch_create(4, NEAR_PTR("BAD!")); }
NEAR_METHOD(trap) { __builtin_trap(); }
NEAR_METHOD(burn) { for (volatile uint64_t i = 0;; i++) {} }
NEAR_METHOD(big_key) {
    static uint8_t key[2049];
    storage_write(sizeof(key), NEAR_PTR(key), 1, NEAR_PTR("v"), 0);
}
NEAR_METHOD(mem_pages) {               /* pages now; grow past NEAR's maximum; grow by one */
    put_u64(__builtin_wasm_memory_size(0));
    put_u64((uint64_t)(int64_t)__builtin_wasm_memory_grow(0, 2048));
    put_u64((uint64_t)(int64_t)__builtin_wasm_memory_grow(0, 1));
    ret();
}
NEAR_METHOD(write_then_panic) {
    storage_write(1, NEAR_PTR("w"), 1, NEAR_PTR("1"), 0);
    log_utf8(6, NEAR_PTR("before"));
    panic();
}

/* ---------------------------------------------------------------- promises */
/* in = [account length][account][method]: call it (arguments "{}"), then our `on_result` */

static uint64_t call_and_then(uint64_t gas) {
    uint64_t a = in[0];
    uint8_t zero[16] = {0};
    uint64_t p = promise_create(a, NEAR_PTR(in + 1), in_len - 1 - a, NEAR_PTR(in + 1 + a),
                                2, NEAR_PTR("{}"), NEAR_PTR(zero), gas);
    current_account_id(0);
    uint8_t me[64];
    uint64_t me_len = register_len(0);
    read_register(0, NEAR_PTR(me));
    return promise_then(p, me_len, NEAR_PTR(me), 9, NEAR_PTR("on_result"), 0, 0,
                        NEAR_PTR(zero), 30000000000000ull);
}
NEAR_METHOD(call_other) { arg(); promise_return(call_and_then(30000000000000ull)); }
NEAR_METHOD(on_result) {            /* count, then per result: status, data */
    uint64_t n = promise_results_count();
    put_u64(n);
    for (uint64_t i = 0; i < n; i++) {
        put_u64(promise_result(i, 0));
        put_reg(0);
    }
    predecessor_account_id(0); put_reg(0);
    ret();
}
NEAR_METHOD(whoami) {               /* the predecessor, as a JSON string */
    predecessor_account_id(0);
    uint64_t n = register_len(0);
    out[0] = '"';
    read_register(0, NEAR_PTR(out + 1));
    out[n + 1] = '"';
    value_return(n + 2, NEAR_PTR(out));
}
NEAR_METHOD(fail) { panic_utf8(9, NEAR_PTR("I failed.")); }
/* in = [a length][a][b length][b]: whoami on both, joined, then on_result */
NEAR_METHOD(call_both) {
    arg();
    uint64_t a = in[0], b = in[1 + a];
    uint8_t zero[16] = {0};
    uint64_t ids[2];
    ids[0] = promise_create(a, NEAR_PTR(in + 1), 6, NEAR_PTR("whoami"), 0, 0, NEAR_PTR(zero),
                            20000000000000ull);
    ids[1] = promise_create(b, NEAR_PTR(in + 2 + a), 4, NEAR_PTR("fail"), 0, 0, NEAR_PTR(zero),
                            20000000000000ull);
    uint64_t joint = promise_and(NEAR_PTR(ids), 2);
    current_account_id(0);
    uint8_t me[64];
    uint64_t me_len = register_len(0);
    read_register(0, NEAR_PTR(me));
    promise_return(promise_then(joint, me_len, NEAR_PTR(me), 9, NEAR_PTR("on_result"), 0, 0,
                                NEAR_PTR(zero), 20000000000000ull));
}
/* in = [amount u128][key A 33][key B 33][wasm]: make sub.<me> with money, key A (full
 * access, then deleted) and key B (function call), deploy the wasm, call its increment,
 * then its get_count (a gas-weight call) */
NEAR_METHOD(make_sub) {
    arg();
    current_account_id(0);
    uint8_t name[80] = "sub.";
    uint64_t n = register_len(0);
    read_register(0, NEAR_PTR(name + 4));
    uint64_t p = promise_batch_create(n + 4, NEAR_PTR(name));
    promise_batch_action_create_account(p);
    promise_batch_action_transfer(p, NEAR_PTR(in));
    promise_batch_action_add_key_with_full_access(p, 33, NEAR_PTR(in + 16), 0);
    promise_batch_action_add_key_with_function_call(p, 33, NEAR_PTR(in + 49), 1,
                                                     NEAR_PTR(in), n, NEAR_PTR(name + 4),
                                                     9, NEAR_PTR("get_count"));
    promise_batch_action_delete_key(p, 33, NEAR_PTR(in + 16));
    promise_batch_action_deploy_contract(p, in_len - 82, NEAR_PTR(in + 82));
    promise_batch_action_function_call(p, 9, NEAR_PTR("increment"), 2, NEAR_PTR("{}"),
                                       NEAR_PTR(out + 1024), 10000000000000ull);
    uint64_t q = promise_batch_then(p, n + 4, NEAR_PTR(name));
    promise_batch_action_function_call_weight(q, 9, NEAR_PTR("get_count"), 2, NEAR_PTR("{}"),
                                              NEAR_PTR(out + 1024), 0, 1);
    promise_return(q);
}
/* in = [beneficiary]: delete this account */
NEAR_METHOD(delete_me) {
    arg();
    current_account_id(0);
    uint8_t me[64];
    uint64_t n = register_len(0);
    read_register(0, NEAR_PTR(me));
    uint64_t p = promise_batch_create(n, NEAR_PTR(me));
    promise_batch_action_delete_account(p, in_len, NEAR_PTR(in));
}
NEAR_METHOD(stake) {                /* in = [amount u128][public key 33] */
    arg();
    current_account_id(0);
    uint8_t me[64];
    uint64_t n = register_len(0);
    read_register(0, NEAR_PTR(me));
    uint64_t p = promise_batch_create(n, NEAR_PTR(me));
    promise_batch_action_stake(p, NEAR_PTR(in), 33, NEAR_PTR(in + 16));
}
NEAR_METHOD(bad_promise_index) { promise_batch_action_create_account(7); }
NEAR_METHOD(result_outside_callback) { promise_result(0, 0); }

/* yield / resume: `yield` waits for `resume` (same account) to hand it a payload */
NEAR_METHOD(yield_) {
    uint64_t p = promise_yield_create(9, NEAR_PTR("on_result"), 0, 0, 20000000000000ull, 0, 1);
    uint8_t id[32];
    read_register(1, NEAR_PTR(id));
    storage_write(8, NEAR_PTR("yield_id"), 32, NEAR_PTR(id), 0);
    promise_return(p);
}
NEAR_METHOD(resume) {
    arg();
    storage_read(8, NEAR_PTR("yield_id"), 0);
    uint8_t id[32];
    read_register(0, NEAR_PTR(id));
    put_u64(promise_yield_resume(32, NEAR_PTR(id), in_len, NEAR_PTR(in)));
    ret();
}
