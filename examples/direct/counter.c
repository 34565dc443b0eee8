/* The counter of examples/counter.js as a direct NEAR wasm contract in C.
 *
 * Same storage ("count" holds the number as decimal text), same logs, same JSON results,
 * so the benchmark compares engines, not contracts. Build:
 *     .venv/bin/python -m outlayer.direct.build examples/direct/counter.c
 * then `outlayer deploy counter.test examples/direct/counter.wasm`.
 */
#include "near_env.h"

static const char KEY[] = "count";
#define KEY_LEN (sizeof(KEY) - 1)

/* decimal text of v into buf (at least 21 bytes); returns the length */
static uint64_t format_i64(int64_t v, char *buf) {
    char tmp[20];
    uint64_t n = 0, len = 0;
    uint64_t mag = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
    do { tmp[n++] = (char)('0' + mag % 10); mag /= 10; } while (mag);
    if (v < 0) buf[len++] = '-';
    while (n) buf[len++] = tmp[--n];
    return len;
}

/* the stored count, parsed as JS parseInt does for the values this contract writes */
static int64_t read_count(void) {
    char buf[24];
    if (storage_read(KEY_LEN, NEAR_PTR(KEY), 0) == 0) return 0;
    uint64_t len = register_len(0);
    if (len > sizeof(buf)) panic_utf8(13, NEAR_PTR("count too big"));
    read_register(0, NEAR_PTR(buf));
    int64_t sign = 1, value = 0;
    uint64_t i = 0;
    if (len && buf[0] == '-') { sign = -1; i = 1; }
    for (; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) value = value * 10 + (buf[i] - '0');
    return sign * value;
}

static void store_and_log(int64_t count, const char *verb, uint64_t verb_len) {
    char num[24], msg[64];
    uint64_t n = format_i64(count, num), m = 0;
    storage_write(KEY_LEN, NEAR_PTR(KEY), n, NEAR_PTR(num), 0);
    static const char prefix[] = "Counter ";
    for (uint64_t i = 0; i < sizeof(prefix) - 1; i++) msg[m++] = prefix[i];
    for (uint64_t i = 0; i < verb_len; i++) msg[m++] = verb[i];
    for (uint64_t i = 0; i < n; i++) msg[m++] = num[i];
    log_utf8(m, NEAR_PTR(msg));
    value_return(n, NEAR_PTR(num));
}

NEAR_METHOD(increment) { store_and_log(read_count() + 1, "incremented to ", 15); }

NEAR_METHOD(decrement) { store_and_log(read_count() - 1, "decremented to ", 15); }

NEAR_METHOD(get_count) {
    char num[24];
    value_return(format_i64(read_count(), num), NEAR_PTR(num));
}

NEAR_METHOD(reset) { store_and_log(0, "reset to ", 9); }
