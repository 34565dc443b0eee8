"""Probe contracts: each exercises one source of non-determinism a JS engine has.

`PROBES` maps a probe name to the body of a function that returns a JSON value. The
contract of a probe is ``export function probe() { <body> }`` (`probe_source`); the
kitchen-sink contract (`KITCHEN_SINK`) exports every probe under its own name, so one
contract can be run in several processes. What each probe must return is pinned in
`test_probes.py`.

The bodies never contain the text of a direct eval (SES refuses it at deploy, even in a
string) and use only the default realm (no Math.random / Date.now), unless the probe is
about refusing them.
"""

from __future__ import annotations

#: a helper every probe body may use: `grab(f)` is f()'s value or [error name, message].
_PRELUDE = """
const grab = (f) => {
  try { return f(); } catch (e) { return ['throws', String(e && e.name), String(e && e.message)]; }
};
const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');
"""

PROBES: dict[str, str] = {
    # Date.now() / new Date() / Date() / Math.random() are refused with a message that says
    # what to use instead; new Date(x) and the static helpers keep working.
    "blocked_time_and_random": """
      return [
        grab(() => Date.now()),
        grab(() => new Date()),
        grab(() => Date()),
        grab(() => Math.random()),
        grab(() => new Date(0).toISOString()),
        grab(() => new Date(2024, 1, 29, 12, 30).toISOString()),
        grab(() => Date.UTC(2024, 0, 2, 3, 4, 5, 6)),
        grab(() => Date.parse('2024-01-01T00:00:00')),
        grab(() => Date.parse('2024-01-01')),
        grab(() => new Date(8.64e15 + 1).getTime()),
        typeof Date.now, typeof Math.random, Date.length, Date.name,
        new Date(0) instanceof Date,
      ];
    """,
    # Array.prototype.sort with comparators that are not consistent: the result is
    # implementation-defined, so it must at least be the same everywhere.
    "sort_inconsistent": """
      const base = [];
      for (let i = 0; i < 40; i++) base.push((i * 37) % 41);
      let k = 0;
      const stable = base.map((v, i) => ({ v: v % 4, i }))
        .sort((a, b) => a.v - b.v).map((o) => o.i);
      return [
        base.slice().sort(() => 1).join(','),
        base.slice().sort(() => -1).join(','),
        base.slice().sort(() => ((k++ * 7) % 3) - 1).join(','),
        base.slice().sort((x, y) => (x % 5) - (y % 5)).join(','),
        base.slice().sort((x, y) => (x > y ? 1 : 0)).join(','),
        base.slice().sort((x, y) => (x < 20 ? -1 : 1)).join(','),
        stable.join(','),
        [10, 9, 1, 100, 25].sort().join(','),
        ['b', undefined, 'a', , 'c'].sort().length,
      ];
    """,
    # Own-property order: integer keys ascending, then strings, then symbols, each in
    # insertion order, in every API that enumerates.
    "property_order": """
      const o = { b: 1, 2: 1, a: 1, 1: 1, '-1': 1, '01': 1, 4294967294: 1, 4294967295: 1,
                  1.5: 1, [Symbol('s')]: 1, z: 1, 0: 1 };
      o[Symbol.for('g')] = 2;
      const forIn = [];
      for (const key in o) forIn.push(key);
      const arr = ['x', 'y'];
      arr.extra = 1;
      arr[5] = 'z';
      return [Object.keys(o), Reflect.ownKeys(o).map(String), JSON.stringify(o), forIn,
              Object.entries({ b: 1, a: 2 }).flat(), Object.keys(arr),
              Object.getOwnPropertyNames('ab'), Object.keys(Object.assign({}, { y: 1 }, { x: 2, y: 3 }))];
    """,
    # Object.keys order after deletes and re-adds; Map and Set keep insertion order.
    "order_after_deletes": """
      const o = {};
      for (let i = 0; i < 10; i++) o['k' + i] = i;
      o[5] = 1; o[3] = 1;
      delete o.k3; delete o.k7; delete o[5];
      o.k3 = 1; o.new = 1; o[4] = 1;
      const m = new Map([['x', 1], ['y', 2], ['z', 3]]);
      m.delete('y'); m.set('y', 4); m.set('x', 5);
      const s = new Set([3, 1, 2]);
      s.delete(1); s.add(1); s.add(3);
      return [Object.keys(o), Array.from(m), Array.from(s)];
    """,
    # Number to text: shortest round-trip, fixed/precision/exponential rounding, -0.
    "number_formatting": """
      return [
        String(0.1 + 0.2), (0.1 + 0.2).toFixed(20), (1.005).toFixed(2), (1.45).toFixed(1),
        (123.456).toPrecision(4), (25).toPrecision(1), (0.000123).toPrecision(2),
        (1e21).toString(), (1e-7).toString(), (0.000001).toString(), (123456789).toExponential(3),
        (123.456).toExponential(), (0).toExponential(2), (1e100).toFixed(2),
        String(-0), JSON.stringify(-0), (-0).toFixed(2), Object.is(-0, 0), 1 / -0,
        (255).toString(16), (0.5).toString(2), (1 / 3).toString(3), (-255).toString(36),
        Number.MAX_VALUE.toString(), Number.MIN_VALUE.toString(), (2 ** 53 + 1).toString(),
        Number.EPSILON.toString(), (2 ** 31).toString(2).length,
        parseFloat('1e400'), parseFloat('.5e-3x'), Number('0x1f'), Number(' 12 '),
        Number('1_000'), Number(''), parseInt('08'), parseInt('0x10'), (1e21).toFixed(2),
        (123.456).toFixed(10), (-1.5).toFixed(0), (2.5).toFixed(0), (1.25).toFixed(1),
      ];
    """,
    # Transcendental functions come from the guest's libm: pinned, not the host's.
    "math_functions": """
      return [Math.exp(1), Math.exp(1) === Math.E, Math.sin(1e10), Math.cos(Math.PI),
              Math.tan(-1e300), Math.atan2(1, 3), Math.log1p(1e-10), Math.expm1(1e-10),
              Math.sinh(1), Math.cbrt(27), Math.hypot(3, 4, 12), 2 ** 0.5, Math.pow(10, -2),
              Math.fround(5.05), Math.clz32(1), Math.imul(0x7fffffff, 3), Math.log10(1000),
              Math.log2(8), Math.sign(-0), Math.round(-0.5), Math.round(2.5), Math.max(),
              Math.asinh(1), Math.acosh(2), Math.atanh(0.5), 0.1 * 3, 1e308 * 10,
              Math.trunc(-0.9), Math.sqrt(2)];
    """,
    # JSON: escaping, lone surrogates, -0, huge numbers, __proto__ keys, errors.
    "json_edge_cases": """
      return [
        JSON.stringify({ a: undefined, b: () => 1, c: NaN, d: Infinity, e: -0, f: [undefined],
                         g: new Date(0), h: '\\u00e9\\u2028\\ud800\\u007f\\u0000' }),
        grab(() => JSON.parse('{"__proto__": 1, "a": 1, "a": 2}')),
        Object.keys(JSON.parse('{"b":1,"a":2,"1":3}')),
        JSON.stringify(JSON.parse('1e400')), JSON.stringify(JSON.parse('-0')),
        JSON.stringify(JSON.parse('12345678901234567890')),
        JSON.stringify({ k: [1, { a: 3 }] }, null, '\\t'),
        JSON.stringify([1, [2]], null, 20),
        grab(() => JSON.parse('[1,]')), grab(() => JSON.parse("{'a':1}")),
        grab(() => JSON.parse('"\\\\x41"')), grab(() => JSON.parse('01')),
        JSON.stringify({ b: 2, a: 1 }, ['a']),
        JSON.stringify(Object.create({ inherited: 1 })),
        JSON.stringify({ k: 1 }, (key, v) => (key === 'k' ? v + 1 : v)),
        grab(() => JSON.stringify(1n)),
        grab(() => { const c = {}; c.c = c; return JSON.stringify(c); }),
        JSON.stringify('\\ud83d\\ude00'), JSON.stringify(new Map([[1, 2]])),
        JSON.stringify(new Uint8Array([1, 2])), JSON.stringify(Object(1n) instanceof BigInt),
      ];
    """,
    # String.prototype.normalize: every form, as code points.
    "string_normalize": """
      const s = '\\u00c5\\u212b\\u1e9b\\u0323\\ufb01\\u2460\\u0041\\u030a\\uac00\\u1100\\u1161';
      const cps = (x) => Array.from(x, (c) => c.codePointAt(0).toString(16)).join(' ');
      return ['NFC', 'NFD', 'NFKC', 'NFKD'].map((f) => cps(s.normalize(f)))
        .concat([cps(s.normalize()), grab(() => s.normalize('nfc')),
                 '\\u0041\\u030a'.normalize() === '\\u00c5']);
    """,
    # toLocale* methods: no locale, no time zone: the same text as the non-locale methods.
    "locale_methods": """
      const d = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
      return [
        (1234567.891).toLocaleString(), (1234567.891).toLocaleString('de-DE'),
        (12).toLocaleString('ar-EG'), (1.5).toLocaleString('en-US', { style: 'currency', currency: 'EUR' }),
        d.toLocaleString(), d.toLocaleDateString(), d.toLocaleTimeString(),
        d.toLocaleString('en-US', { timeZone: 'America/New_York' }),
        d.toLocaleDateString('ja-JP'),
        'I'.toLocaleLowerCase('tr'), 'i'.toLocaleUpperCase('tr'), '\\u00df'.toLocaleUpperCase(),
        'a'.localeCompare('B'), '\\u00e4'.localeCompare('z', 'sv'), 'a'.localeCompare('a'),
        ['b', 'a', 'C', '\\u00e4'].sort((x, y) => x.localeCompare(y)).join(''),
        [1234.5, 'x'].toLocaleString(), new Uint8Array([1, 2]).toLocaleString(),
        d.toString(), d.toDateString(), d.toTimeString(), d.toUTCString(), d.getTimezoneOffset(),
        d.getHours(), new Date(2024, 0, 1).getTime(), typeof Intl,
      ];
    """,
    # NaN payloads through DataView and typed arrays (the wasm engine canonicalizes NaNs
    # produced by float operations; raw byte copies keep the bits).
    "nan_bit_patterns": """
      const dv = new DataView(new ArrayBuffer(16));
      dv.setUint32(0, 0x7ff00000); dv.setUint32(4, 1);           // signalling NaN, payload 1
      const snan = dv.getFloat64(0);
      dv.setFloat64(8, snan);
      const f64 = new Float64Array(1); f64[0] = snan;
      const f32 = new Float32Array(1); const u32 = new Uint32Array(f32.buffer);
      u32[0] = 0x7f800001; const snan32 = f32[0]; f32[0] = snan32;
      const f32b = new Float32Array(1); f32b[0] = snan;
      const f64b = new Float64Array(1); f64b[0] = snan32;
      const dv2 = new DataView(new ArrayBuffer(12));
      dv2.setFloat32(0, NaN); dv2.setFloat64(4, 0 / 0, true);
      const made = new Float64Array([-NaN, NaN, Math.sqrt(-1), Infinity - Infinity, 0 * Infinity,
                                     Number('x'), Math.max(NaN, 1)]);
      const raw = new Uint32Array([1, 0x7ff81234, 5, 0xfff00000]);
      const fa = new Float64Array(raw.buffer);
      const copied = new Float64Array(2); copied.set(fa);
      const assigned = new Float64Array(2); for (let i = 0; i < 2; i++) assigned[i] = fa[i];
      const sliced = fa.slice();
      const dvq = new DataView(raw.buffer);
      return [hex(new Uint8Array(dv.buffer)), hex(new Uint8Array(f64.buffer)), u32[0].toString(16),
              new Uint32Array(f32b.buffer)[0].toString(16), hex(new Uint8Array(f64b.buffer)),
              hex(new Uint8Array(dv2.buffer)), hex(new Uint8Array(made.buffer)),
              hex(new Uint8Array(copied.buffer)), hex(new Uint8Array(assigned.buffer)),
              hex(new Uint8Array(sliced.buffer)), dvq.getUint32(4, true).toString(16),
              Object.is(snan, NaN), [NaN].includes(snan), [snan].indexOf(NaN)];
    """,
    # TypedArray sort: numeric, -0 before +0, NaN last; BigInt arrays; comparator.
    "typed_array_sort": """
      const f = new Float64Array([3, -0, 0, NaN, -Infinity, 1e-300, -1, NaN, 0, Infinity]);
      f.sort();
      const i = new Int32Array([5, -3, 2147483647, -2147483648, 0]); i.sort();
      const b = new BigInt64Array([5n, -3n, 0n, -(2n ** 63n)]); b.sort();
      const u = new Uint8Array([200, 3, 100, 3]); u.sort((x, y) => y - x);
      const f32 = new Float32Array([0.1, -0.1, 1e-45, -0]); f32.sort();
      return [Array.from(f, (v) => (Object.is(v, -0) ? '-0' : String(v))), Array.from(i),
              Array.from(b, String), Array.from(u), Array.from(f32, String),
              Array.from(new Float64Array([2, 1]).toSorted())];
    """,
    # WeakMap / WeakSet exist but are not enumerable; WeakRef and FinalizationRegistry
    # (GC-dependent) do not exist.
    "weak_collections": """
      const w = new WeakMap(); const k = {}; w.set(k, 1);
      const ws = new WeakSet([k]);
      return [Object.keys(w), Reflect.ownKeys(w).length, typeof w[Symbol.iterator],
              grab(() => Array.from(w)), w.get(k), w.has({}), ws.has(k),
              Object.prototype.toString.call(w), typeof WeakRef, typeof FinalizationRegistry,
              Object.getOwnPropertyNames(WeakMap.prototype).sort()];
    """,
    # Symbols: descriptions and registry; well-known symbols.
    "symbols": """
      return [Symbol('x').description, Symbol().description, Symbol('').description,
              String(Symbol('y')), Symbol.iterator.description, Symbol.for('reg').description,
              Symbol.keyFor(Symbol.for('reg')), Symbol.keyFor(Symbol('u')),
              grab(() => Symbol() + ''), Symbol.asyncIterator.toString(),
              Object.getOwnPropertyNames(Symbol).sort().join(','),
              Symbol('a') === Symbol('a'), Symbol.for('a') === Symbol.for('a')];
    """,
    # RegExp: unicode property escapes, named groups, case folding, the v flag.
    "regexp_unicode": """
      return [/\\p{L}+/u.exec('123h\\u00e9llo\\u4e16\\u754c!')[0], /\\p{Script=Greek}/u.test('\\u03b1'),
              /\\p{Emoji_Presentation}/u.test('\\ud83d\\ude00'), /\\p{Lu}/u.test('a'),
              /(?<y>\\d{4})-(?<m>\\d\\d)/.exec('2024-05').groups.m,
              '\\ud835\\udcb3'.match(/./gu).length, '\\ud835\\udcb3'.match(/./g).length,
              /[\\p{Lu}--[A-Z]]/v.test('A'), /[\\p{Lu}--[A-Z]]/v.test('\\u00c9'),
              grab(() => new RegExp('(?<a>x)(?<a>y)')), grab(() => new RegExp('\\\\p{Nope}', 'u')),
              /\\p{Lowercase_Letter}/u.test('\\u00df'), /\\b\\u00e9/u.test('\\u00e9'),
              /k/iu.test('\\u212a'), /k/i.test('\\u212a'), 'aBc'.replace(/b/i, '[$&]'),
              'x-y_z'.split(/[-_]/), [...'a1b22'.matchAll(/\\d+/g)].map((m) => m.index),
              /^.$/su.test('\\n'), /(?i:a)b/.test('Ab') ];
    """,
    # BigInt arithmetic: exact, sign rules, conversions, errors.
    "bigint_math": """
      const m = 2n ** 521n - 1n;
      return [String(m % 1000000007n), String(-7n / 2n), String(-7n % 2n), String(-1n >> 100n),
              String(BigInt.asIntN(8, 255n)), String(BigInt.asUintN(64, -1n)), (255n).toString(16),
              String(BigInt('0x' + 'f'.repeat(40))), grab(() => 1n / 0n), grab(() => 1n + 1),
              String(10n ** 30n / 3n), String(3n ** 100n), typeof 1n, grab(() => BigInt(1.5)),
              String(BigInt(Number.MAX_SAFE_INTEGER) * 2n), 2n ** 64n > Number.MAX_VALUE,
              String(BigInt.asIntN(64, 2n ** 63n)), (-(2n ** 70n)).toString(36), 1n == 1,
              Number(2n ** 64n), String(-0n)];
    """,
    # Set / Map / object iteration of many strings: insertion order, so nothing a hash
    # seed could change is observable. The contract hashes the orders it sees; the test
    # computes the same from the insertion order.
    "iteration_order": """
      const words = [];
      for (let i = 0; i < 600; i++) words.push('w' + ((i * 7919) % 1009).toString(36) + ':' + i);
      const set = new Set(words);
      const map = new Map(words.map((w, i) => [w, i]));
      const obj = {};
      for (const w of words) obj[w] = 1;
      const seen = [];
      for (const w of set) seen.push(w);
      for (const [w] of map) seen.push(w);
      for (const w in obj) seen.push(w);
      const ws = new Set(); for (let i = 0; i < 300; i++) ws.add(Symbol('s' + i));
      for (const s of ws) seen.push(s.description);
      return hex(near.sha256(seen.join('|')));
    """,
    # Job order: promise reactions, await, queueMicrotask, thenables, combinators (the
    # spec fixes it; V8 gives the same). The probe returns a promise: the bridge awaits it.
    "promise_order": """
      const log = [];
      const p = Promise.resolve();
      queueMicrotask(() => log.push('microtask'));
      p.then(() => log.push('then1')).then(() => log.push('then2'));
      (async () => {
        log.push('async start');
        await null;
        log.push('after await 1');
        await p;
        log.push('after await 2');
      })();
      Promise.reject(new Error('x')).catch(() => log.push('catch'));
      Promise.all([1, Promise.resolve(2)]).then((v) => log.push('all ' + v));
      Promise.race([new Promise((r) => r('slow')), 'fast']).then((v) => log.push('race ' + v));
      Promise.allSettled([Promise.reject(1), 2]).then((v) => log.push('settled ' + v.map((x) => x.status)));
      Promise.any([Promise.reject(1), Promise.resolve(3)]).then((v) => log.push('any ' + v));
      Promise.resolve({ then(r) { log.push('thenable then'); r('t'); } }).then((v) => log.push('thenable ' + v));
      new Promise((r) => { log.push('executor'); r(); }).finally(() => log.push('finally'));
      log.push('sync end');
      return (async () => { for (let i = 0; i < 10; i++) await null; return log; })();
    """,
    # Function source text and native function text.
    "function_text": """
      function f(a, /* c */ b) { return a + b; }
      return [f.toString(), (() => 1).toString(), near.log.toString(), Math.max.toString(),
              (class A { m() {} }).toString(), f.length, f.name, near.log.name, near.log.length,
              Object.prototype.toString.call(near), Object.isFrozen(near)];
    """,
}


def probe_source(name: str) -> str:
    """The contract of one probe: `probe()` returns the probe's value."""
    return f"{_PRELUDE}\nexport function probe() {{{PROBES[name]}}}\n"


#: every probe in one contract, each exported under its own name.
KITCHEN_SINK = _PRELUDE + "".join(
    f"\nexport function {name}() {{{body}}}\n" for name, body in PROBES.items())

#: A contract with errors at known places. Line 1 carries the compartment wrapper's prefix
#: in the guest: the stack there must still name the column of the source.
STACKS = """export function line1() { throw new Error('one'); }
function inner(kind) {
  if (kind === 'type') {
    null.x;
  }
  throw new RangeError('deep ' + kind);
}
const outer = (kind) => [kind].map((k) => inner(k));
export function nested() {
  try { outer('range'); } catch (e) { return [String(e), e.stack]; }
}
export function native_frames() {
  try { outer('type'); } catch (e) { return [String(e), e.stack]; }
}
export function uncaught() {
  outer('range');
}
export function from_function_ctor() {
  try { Function('throw new SyntaxError("made")')(); } catch (e) { return [String(e), e.stack]; }
}
export function from_json() {
  try { JSON.parse('{'); } catch (e) { return [String(e), e.stack]; }
}
export function from_near() {
  try { near.storageWrite(1, 2); } catch (e) { return [String(e), e.stack]; }
}
export function from_ses() {
  try { (() => {}).constructor('return 1'); } catch (e) { return [String(e), e.stack]; }
}
export function from_blocked() {
  try { Date.now(); } catch (e) { return [String(e), e.stack]; }
}
export async function from_async() {
  await null;
  try { await Promise.reject(new Error('async')); } catch (e) { return [String(e), e.stack]; }
}
export function poisoned_prepare() {
  try { Error.prepareStackTrace = () => 'HACKED'; } catch (e) { /* refused or ignored */ }
  try { Error.stackTraceLimit = 0; } catch (e) { /* refused or ignored */ }
  const e = new Error('still');
  return [e.stack, typeof Error.captureStackTrace];
}
"""
