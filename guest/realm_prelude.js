/*
 * OutLayer's realm prelude: SES lockdown and the contract's compartment.
 *
 * Compiled into the guest wasm (outlayer/host/guest_build.py turns this file into a C
 * array) and evaluated by `ol_lockdown` as a script in the start compartment, right after
 * the SES source has defined `lockdown`. Its completion value is `loadContract`, which the
 * bridge keeps in a C global: nothing here is reachable from a contract except the
 * hardened endowments (`near`, `console`, `Date`, `Math`, `harden`, `queueMicrotask`, the
 * float arrays; for near-sdk-js bundles also `env` and `self`), whose behaviour a contract
 * can use but never change.
 *
 * Everything runs once per guest: at boot-snapshot time (lockdown and the contract
 * compartments) and at deploy-snapshot time (loadContract, which only evaluates the
 * contract); a call starts from the snapshot and never re-runs this file.
 */
(() => {
  'use strict';

  // lockdown() in two steps (SES's own split): repairIntrinsics, then the realm's own
  // repairs (below), then hardenIntrinsics.
  const { repairIntrinsics } = globalThis;
  if (typeof repairIntrinsics !== 'function') {
    throw TypeError('the SES source did not define repairIntrinsics');
  }
  // The original Error constructor (SES replaces the global one): only it can set how
  // QuickJS formats stack traces.
  const FeralError = globalThis.Error;

  /*
   * lockdown options (SES 2.x names; the deprecated dateTaming and mathTaming do nothing
   * and are left out):
   * - errorTaming 'unsafe': keep stack traces. QuickJS-ng has Error.captureStackTrace, so
   *   SES tames it as V8 and, under 'safe', every error's `stack` would be ''. Stacks are
   *   deterministic here (fixed file names, no host paths) and a contract has no secrets
   *   to hide from its own errors; the text comes from formatStack below, not from SES.
   *   Compartments still get SES's powerless Error: a contract cannot set
   *   Error.prepareStackTrace / stackTraceLimit or capture stacks.
   * - stackFiltering 'verbose': SES filters only its causal console and V8 call-site
   *   strings, neither of which is used; formatStack does the filtering.
   * - consoleTaming 'unsafe': keep the bridge's console (every method -> near.log with
   *   String() of each argument). SES's causal console would print its own annotations.
   * - errorTrapping / unhandledRejectionTrapping 'none': there is no host process to
   *   report to; the bridge reports uncaught errors itself.
   * - reporting 'none': lockdown must print nothing (the boot snapshot refuses output, and
   *   a call's logs are the contract's alone).
   * - overrideTaming 'moderate': assigning e.g. `obj.toString = f` or
   *   `MyError.prototype.name = 'X'` on objects inheriting from frozen intrinsics keeps
   *   working (the "override mistake"); 'min' breaks common code, 'severe' costs more.
   * - evalTaming 'safe-eval': compartments evaluate code (the contract itself, and eval /
   *   Function inside it) with their own scope. The start compartment's eval and Function
   *   become SES's safe ones too; the bridge compiles with JS_Eval, which stays native
   *   (native modules, the compile check of a contract script).
   * - localeTaming 'safe': toLocaleString & co. behave as their non-locale versions; a
   *   locale is host state. SES makes Object.prototype.toLocaleString toString itself,
   *   though: see the repair below.
   * - regExpTaming 'safe': no RegExp.prototype.compile, no legacy RegExp.$1 statics
   *   (shared mutable state across compartments).
   * - domainTaming 'safe': checks Node's domain module is absent (it is); costs nothing.
   * - legacyRegeneratorRuntimeTaming 'safe' and __hardenTaming__ 'safe': SES's defaults.
   */
  repairIntrinsics({
    errorTaming: 'unsafe',
    stackFiltering: 'verbose',
    consoleTaming: 'unsafe',
    errorTrapping: 'none',
    unhandledRejectionTrapping: 'none',
    reporting: 'none',
    overrideTaming: 'moderate',
    evalTaming: 'safe-eval',
    localeTaming: 'safe',
    regExpTaming: 'safe',
    domainTaming: 'safe',
  });

  const { apply, construct, ownKeys } = Reflect;
  // Object's, not Reflect's: a definition that fails must throw, never return false.
  const {
    create, defineProperty, freeze, getOwnPropertyDescriptor, getOwnPropertyDescriptors,
    getPrototypeOf,
  } = Object;

  /*
   * Repairs between repairIntrinsics and hardenIntrinsics (the intrinsics are still
   * writable): toLocaleString where SES's locale taming gets it wrong. SES replaces
   * Object.prototype.toLocaleString with Object.prototype.toString, so `true`, 'abc' or an
   * object with its own toString gave '[object Boolean]'...; per ECMA-262 (20.1.3.5) it
   * calls this.toString(). QuickJS-ng has no BigInt.prototype.toLocaleString (BigInts then
   * got Object's): BigInt.prototype.toString without a radix. Number, Array, Date and the
   * typed arrays keep SES's (their toString). Concise methods: no prototype, no construct.
   */
  const bigintToString = BigInt.prototype.toString;
  defineProperty(Object.prototype, 'toLocaleString', {
    value: {
      toLocaleString() {
        return this.toString();
      },
    }.toLocaleString,
  });
  defineProperty(BigInt.prototype, 'toLocaleString', {
    value: {
      toLocaleString() {
        return apply(bigintToString, this, []);
      },
    }.toLocaleString,
    writable: true, enumerable: false, configurable: true,
  });
  globalThis.hardenIntrinsics();
  // leftovers of the two-step lockdown on the start compartment's global (compartments
  // never get them)
  delete globalThis.repairIntrinsics;
  delete globalThis.hardenIntrinsics;

  // Both read after lockdown: harden is defined by it, and a Compartment constructor
  // taken before it would build compartments from the untamed intrinsics (the original
  // Math.random, Error.prepareStackTrace...).
  const { harden, Compartment } = globalThis;
  const near = harden(globalThis.near);
  // near-sdk-js's host functions (guest/near_api.c), for near-sdk-js bundles only
  const env = harden(globalThis.env);
  const console = harden(globalThis.console);
  const { randomSeed, blockTimestamp } = near;

  /* ------------------------------------------------------------------ stack traces */

  // Frames of these files are infrastructure, never shown.
  const HIDDEN_FILES = freeze(['outlayer-realm.js', 'ses.js']);
  const CONTRACT_FILE = 'contract.js';

  // The call-site methods, captured once through a throwaway error (the prototype is not
  // an intrinsic SES knows, and no contract ever sees a call site).
  let callSiteProto;
  FeralError.prepareStackTrace = (_error, sites) => {
    callSiteProto = getPrototypeOf(sites[0]);
    return '';
  };
  // eslint-disable-next-line no-new
  new FeralError('probe');
  if (!callSiteProto) {
    throw TypeError('QuickJS gave no call sites to Error.prepareStackTrace');
  }
  const { getFileName, getFunction, getFunctionName, getLineNumber, getColumnNumber,
    isNative } = callSiteProto;

  /*
   * QuickJS's own stack format ("    at name (file:line:col)\n" per frame, as without
   * lockdown), minus the frames of SES and of this file, and ending at the contract's top
   * level (below it are only SES's evaluator and loadContract). Runs while QuickJS builds
   * an error, so it reads nothing a contract can reach.
   */
  const formatStack = (_error, sites) => {
    let out = '';
    for (let i = 0; i < sites.length; i += 1) {
      const site = sites[i];
      const file = apply(getFileName, site, []);
      if (file === HIDDEN_FILES[0] || file === HIDDEN_FILES[1]) continue;
      const fn = apply(getFunction, site, []);
      if (fn === null || fn === undefined) { // where a parse error happened
        out += `    at ${file}:${apply(getLineNumber, site, [])}:${apply(getColumnNumber, site, [])}\n`;
        continue;
      }
      const name = apply(getFunctionName, site, []) || '<anonymous>';
      if (apply(isNative, site, [])) {
        out += `    at ${name} (native)\n`;
        continue;
      }
      // the script's own frame (the call of its wrapper function, past the contract's
      // last line): the contract's top level is the frame above it
      if (file === CONTRACT_FILE && name === '<eval>') break;
      out += `    at ${name} (${file}:${apply(getLineNumber, site, [])}:${apply(getColumnNumber, site, [])})\n`;
    }
    return out;
  };
  FeralError.prepareStackTrace = formatStack;

  /* -------------------------------------------------------------------------- Date */

  const SharedDate = globalThis.Date.prototype.constructor; // SES's %SharedDate%
  const DatePrototype = SharedDate.prototype;
  const dateToString = DatePrototype.toString;
  const OPTION_HINT = 'deploy with the allow_date_now realm option';
  const MS_HINT = 'new Date(Number(near.blockTimestamp() / 1000000n))';

  // The block timestamp in milliseconds (near.blockTimestamp() is in nanoseconds).
  const blockMs = () => Number(apply(blockTimestamp, near, []) / 1000000n);

  const makeDate = (allowNow) => {
    // Concise methods: named functions without a prototype or a constructor.
    const statics = allowNow ? {
      now() {
        return blockMs();
      },
    } : {
      now() {
        throw TypeError('Date.now() is not available in OutLayer contracts: use ' +
          `near.blockTimestamp() (nanoseconds, a BigInt), or ${OPTION_HINT}`);
      },
    };
    // `new Date(x)`, `new Date(y, m, ...)`, subclasses: SES's Date. Without arguments:
    // the block time, or an error that says what to use instead.
    function Date(...args) {
      if (new.target === undefined) {
        if (!allowNow) {
          throw TypeError('Date() is not available in OutLayer contracts: use ' +
            `${MS_HINT}.toString(), or ${OPTION_HINT}`);
        }
        return apply(dateToString, construct(SharedDate, [blockMs()]), []);
      }
      if (args.length === 0) {
        if (!allowNow) {
          throw TypeError('new Date() without arguments is not available in OutLayer ' +
            `contracts: use ${MS_HINT}, or ${OPTION_HINT}`);
        }
        return construct(SharedDate, [blockMs()], new.target);
      }
      return construct(SharedDate, args, new.target);
    }
    defineProperty(Date, 'length', { value: 7 });
    defineProperty(Date, 'prototype', {
      value: DatePrototype, writable: false, enumerable: false, configurable: false,
    });
    for (const name of ['parse', 'UTC']) {
      defineProperty(Date, name, getOwnPropertyDescriptor(SharedDate, name));
    }
    defineProperty(Date, 'now', {
      value: statics.now, writable: true, enumerable: false, configurable: true,
    });
    return harden(Date);
  };

  /* -------------------------------------------------------------------------- Math */

  /*
   * With allow_math_random: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator:
   * three 32-bit words of state plus a 32-bit counter), seeded on the first Math.random()
   * of each call from near.randomSeed(): its bytes, as little-endian 32-bit words, are
   * absorbed three at a time (XORed into a, b, c, then 4 rounds), then 12 outputs are
   * discarded. Every call starts from a snapshot taken before any call ran, so each call
   * seeds afresh: the same seed gives the same sequence, another seed another one.
   * 53-bit results from two outputs, as V8 and SpiderMonkey give.
   */
  const makeRandom = () => {
    let seeded = false;
    let a = 0;
    let b = 0;
    let c = 0;
    let d = 1;
    const next = () => {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (((c << 21) | (c >>> 11)) + t) | 0;
      return t >>> 0;
    };
    const seed = () => {
      const bytes = apply(randomSeed, near, []);
      const word = (i) => (i < bytes.length ? bytes[i] : 0) |
        ((i + 1 < bytes.length ? bytes[i + 1] : 0) << 8) |
        ((i + 2 < bytes.length ? bytes[i + 2] : 0) << 16) |
        ((i + 3 < bytes.length ? bytes[i + 3] : 0) << 24);
      for (let i = 0; i < bytes.length; i += 12) {
        a ^= word(i);
        b ^= word(i + 4);
        c ^= word(i + 8);
        for (let j = 0; j < 4; j += 1) next();
      }
      for (let i = 0; i < 12; i += 1) next();
      seeded = true;
    };
    return {
      random() {
        if (!seeded) seed();
        const hi = next() >>> 5; // 27 bits
        const lo = next() >>> 6; // 26 bits
        return (hi * 67108864 + lo) / 9007199254740992;
      },
    }.random;
  };

  const refuseRandom = {
    random() {
      throw TypeError('Math.random() is not available in OutLayer contracts: derive ' +
        'randomness from near.randomSeed(), or deploy with the allow_math_random realm ' +
        'option');
    },
  }.random;

  // A copy of Math (its frozen functions) with our own random.
  const makeMath = (allowRandom) => {
    const { random: _, ...descriptors } = getOwnPropertyDescriptors(Math);
    descriptors.random = {
      value: allowRandom ? makeRandom() : refuseRandom,
      writable: true, enumerable: false, configurable: true,
    };
    return harden(create(getPrototypeOf(Math), descriptors));
  };

  /* ------------------------------------------------------------------- compartment */

  // SES gives compartments these, which a contract has no use for: lockdown (it would
  // only throw) and Compartment (nested sandboxes; SES's own machinery).
  const REMOVED_GLOBALS = freeze(['lockdown', 'Compartment']);
  // Powerless intrinsics SES leaves out of compartments only for the NaN side channel;
  // under wasm with canonical NaNs every bit pattern is deterministic.
  const FLOAT_ARRAYS = freeze(['Float16Array', 'Float32Array', 'Float64Array']);
  // QuickJS's queueMicrotask (SES has no opinion: it is a host function): a job on the
  // same queue as promise reactions, which the bridge drains before a call returns, so
  // it is as deterministic as Promise.resolve().then(f) and no more powerful; unlike
  // that, an exception in it fails the call instead of vanishing as an unhandled
  // rejection. Hardened like every endowment.
  const queueMicrotask = typeof globalThis.queueMicrotask === 'function'
    ? harden(globalThis.queueMicrotask) : undefined;

  /*
   * One compartment per realm-flag combination, made here, at boot-snapshot time: SES's
   * safe globals plus the endowments, every global binding read-only (a contract cannot
   * rebind `near`, `JSON` or `Date` even for itself, and SES's evaluator turns read-only
   * globals into constants: fast lookups). Each one evaluates an empty script once, so
   * SES builds its evaluator (scope proxies, the `with` factory with those constants) now
   * and not for every contract. A contract at deploy then only evaluates its own script.
   *
   * Every call still gets a compartment that no other contract ever used: a call starts
   * from a snapshot in which its compartment has run nothing but its own contract's top
   * level (the boot snapshot's compartments have run no contract at all). The other
   * seven are unreachable from the contract (only this closure holds them).
   */
  const makeCompartment = (allowMathRandom, allowDateNow, sdkjs) => {
    const globals = {
      near,
      console,
      harden,
      Date: makeDate(allowDateNow),
      Math: makeMath(allowMathRandom),
    };
    if (sdkjs) globals.env = env;
    if (queueMicrotask) globals.queueMicrotask = queueMicrotask;
    for (const name of FLOAT_ARRAYS) {
      if (typeof globalThis[name] === 'function') globals[name] = globalThis[name];
    }
    const compartment = new Compartment({ __options__: true, globals, name: CONTRACT_FILE });
    const contractGlobal = compartment.globalThis;
    for (const name of REMOVED_GLOBALS) delete contractGlobal[name];
    // near-sdk-js bundles lodash-es, which finds the global object through `self` when
    // `Function('return this')()` gives undefined (as SES's strict Function does)
    if (sdkjs) {
      defineProperty(contractGlobal, 'self', {
        value: contractGlobal, writable: false, enumerable: false, configurable: false,
      });
    }
    for (const name of ownKeys(contractGlobal)) {
      const desc = getOwnPropertyDescriptor(contractGlobal, name);
      if (desc.configurable && 'value' in desc) {
        defineProperty(contractGlobal, name, { writable: false, configurable: false });
      }
    }
    compartment.evaluate('');
    return compartment;
  };
  // index: allowMathRandom + 2 * allowDateNow (+ 4 for near-sdk-js bundles)
  const compartments = freeze([
    makeCompartment(false, false, false),
    makeCompartment(true, false, false),
    makeCompartment(false, true, false),
    makeCompartment(true, true, false),
    makeCompartment(false, false, true),
    makeCompartment(true, false, true),
    makeCompartment(false, true, true),
    makeCompartment(true, true, true),
  ]);

  /* ---------------------------------------------------------------- near-sdk-js */

  /*
   * A near-sdk-js bundle (docs/NEAR_SDK_JS.md) is marked by the deploy-time transform:
   * its compartment script starts with SDKJS_TAG, which no other script can (every other
   * one starts with the transform's own wrapper). It runs in a compartment that also has
   * `env`, and each exported function is called as near-sdk-js's wasm builder calls it:
   * with no arguments (it reads `env.input` itself), its result ignored (it calls
   * `env.value_return` itself), and an exception it throws becomes
   * panic_utf8(message + "\n" + stack). Nothing here is reachable from the contract.
   */
  const SDKJS_TAG = '/*near-sdk-js*/';
  const { panic: envPanic } = env;
  const { startsWith } = String.prototype;
  const sdkjsMethod = (fn) => ({
    method() {
      try {
        fn(); // `this` is undefined (builder.c passes the namespace; the exporter's
        // functions never read it): no `apply` frame in the contract's stack traces
      } catch (error) {
        // builder.c reads `message` and `stack` of whatever was thrown; String() of each
        const message = error === null || error === undefined ? undefined : error.message;
        const stack = error === null || error === undefined ? undefined : error.stack;
        apply(envPanic, env, [`${String(message)}\n${String(stack)}`]);
      }
    },
  }).method;
  const sdkjsNamespace = (ns) => {
    const methods = create(null);
    for (const name of ownKeys(ns)) {
      const value = ns[name];
      if (typeof value === 'function') methods[name] = sdkjsMethod(value);
    }
    return freeze(methods);
  };

  /*
   * Evaluates the contract in the compartment of its realm options. `source` is a
   * compartment script whose completion value is the frozen export namespace, ending
   * with the line `//# sourceURL=contract.js` (CONTRACT_FILE; the host appends it,
   * outlayer/js/runner.py SOURCE_URL): evaluated as it is, as a copy of the source would
   * be dead pages in the contract's snapshot. Returns that namespace. The bridge calls
   * this at most once per instance (ol_load never runs twice, not even after a failure),
   * so each compartment serves one contract; nothing here records that, as a write would
   * be one more page in every contract's snapshot.
   */
  const loadContract = (source, allowMathRandom, allowDateNow) => {
    const sdkjs = apply(startsWith, source, [SDKJS_TAG]);
    const compartment = compartments[(allowMathRandom ? 1 : 0) + (allowDateNow ? 2 : 0) +
      (sdkjs ? 4 : 0)];
    const ns = compartment.evaluate(source);
    return sdkjs ? sdkjsNamespace(ns) : ns;
  };

  return loadContract;
})();
