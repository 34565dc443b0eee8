// OutLayer's deploy-time transform: an ES-module contract -> a script for SES's
// `compartment.evaluate`, whose completion value is the frozen export namespace.
//
// Runs inside OutLayer's own QuickJS guest as a native module. outlayer/realm/transform.py
// appends this file to acorn's dist/acorn.mjs, whose final `export { ... }` it turns into
// `const olAcorn = Object.freeze({...})`: so this file imports nothing, reads acorn only
// through `olAcorn`, and names its own top-level bindings `ol*` (acorn's share the scope).
//
// Every line of the contract keeps its line number, and every column stays where it was
// except on line 1, which the wrapper's prefix shifts by `line1_offset`. `export` keywords
// become spaces; `export { a as b }` becomes `;` and spaces (line breaks kept); an
// anonymous or expression default export becomes `const __ol_d = ...`, same width.

const OL_PREFIX = '(function (__ol_freeze) {"use strict";';
const OL_DEFAULT_LOCAL = "__ol_d";
// A module that starts with this comment is a near-sdk-js bundle (`outlayer build` writes
// it): its script starts with it too, which tells the realm prelude to run it as
// near-sdk-js runs contracts (guest/realm_prelude.js, docs/NEAR_SDK_JS.md).
const OL_SDKJS_TAG = "/*near-sdk-js*/";
const OL_RESERVED = /^__ol/;
const OL_LINE_BREAK = /[\n\r\u2028\u2029]/;

// SES 2.3.0 (src/transforms.js) refuses, before parsing, any source text matching these,
// even inside strings and comments: `compartment.evaluate` applies the direct-eval rule
// (on by default: __rejectSomeDirectEvalExpressions__) and then the two mandatory ones.
// Same pattern sources, so the same regexp engine as the guest's SES gives the same
// verdicts; tests/realm check them against the pinned SES dist. The HTML-comment pattern
// is built from pieces, as SES does, so it never appears literally in a source.
const OL_SES_RULES = [
  {
    code: "SES_HTML_COMMENT_REJECTED",
    pattern: new RegExp(`(?:${"<"}!--|--${">"})`, "g"),
    message: "SES refuses an HTML-like comment token ('<' + '!--' or '--' + '>') anywhere in a contract, even in a string or comment",
  },
  {
    code: "SES_IMPORT_REJECTED",
    pattern: new RegExp("(^|[^.]|\\.\\.\\.)\\bimport(\\s*(?:\\(|/[/*]))", "g"),
    message: "SES refuses text that looks like an import expression ('import' followed by '(' or a comment) anywhere in a contract, even in a string or comment",
  },
  {
    code: "SES_EVAL_REJECTED",
    pattern: new RegExp("(^|[^.])\\beval(\\s*\\()", "g"),
    message: "SES refuses text that looks like a direct eval ('eval' followed by '(') anywhere in a contract, even in a string or comment",
  },
];

class OlError extends Error {
  constructor(message, pos) {
    super(message);
    this.pos = pos;
  }
}

function olIsFunctionBoundary(node) {
  return node.type === "FunctionDeclaration" || node.type === "FunctionExpression" ||
    node.type === "ArrowFunctionExpression" || node.type === "StaticBlock";
}

// Positions of identifiers that are names, not bindings or references.
function olSkippedChild(node, key) {
  switch (node.type) {
    case "MemberExpression":
      return key === "property" && !node.computed;
    case "Property":
    case "MethodDefinition":
    case "PropertyDefinition":
      return key === "key" && !node.computed;
    case "ExportSpecifier":
      return key === "exported";
    case "MetaProperty":
      return true;
    default:
      return false;
  }
}

// Everything a compartment script cannot be, or that would make it differ from the module.
// Iterative: the AST of a long operator chain is deeper than QuickJS's stack allows for
// recursion, even where acorn itself got through.
function olCheck(ast) {
  const problems = [];
  const flag = (node, message) => problems.push(new OlError(message, node.start));
  // fnDepth: inside any function (top-level await); plainDepth: inside a function that
  // has its own `arguments` (arrows do not); class field initializers count as both.
  const todo = [[ast, 0, 0]];
  while (todo.length) {
    const [node, fnDepth, plainDepth] = todo.pop();
    switch (node.type) {
      case "ImportDeclaration":
        if (/^near-sdk-js(\/|$)/.test(node.source.value))
          flag(node, "this is a near-sdk-js source: build it first with `outlayer build FILE` (`outlayer deploy ACCOUNT FILE` builds it for you); see docs/NEAR_SDK_JS.md");
        else
          flag(node, "`import` declarations are not supported: a contract is one module, with no module loader; bundle its dependencies into it");
        continue;
      case "ImportExpression":
        flag(node, "`import(...)` is not supported: contracts have no module loader");
        continue;
      case "MetaProperty":
        if (node.meta.name === "import") flag(node, "`import.meta` is not available to contracts");
        continue;
      case "ExportAllDeclaration":
        flag(node, "`export * from` re-exports another module: not supported, contracts have no module loader");
        continue;
      case "ExportNamedDeclaration":
        if (node.source) {
          flag(node, "`export ... from` re-exports another module: not supported, contracts have no module loader");
          continue;
        }
        break;
      case "AwaitExpression":
        if (fnDepth === 0) flag(node, "top-level `await` is not supported: a contract's top level runs once at deploy; await inside an (async) exported function");
        break;
      case "ForOfStatement":
        if (node.await && fnDepth === 0) flag(node, "top-level `for await` is not supported: a contract's top level runs once at deploy; await inside an (async) exported function");
        break;
      case "VariableDeclaration":
        if (node.kind === "await using" && fnDepth === 0) flag(node, "top-level `await using` is not supported");
        break;
      case "Identifier":
        if (OL_RESERVED.test(node.name)) flag(node, `the identifier '${node.name}' is reserved: names starting with __ol belong to OutLayer`);
        else if (node.name === "arguments" && plainDepth === 0) flag(node, "`arguments` outside a function is not defined in a module");
        continue;
      default:
        break;
    }
    let fd = fnDepth;
    let pd = plainDepth;
    if (olIsFunctionBoundary(node)) {
      fd += 1;
      if (node.type !== "ArrowFunctionExpression") pd += 1;
    }
    for (const key of Object.keys(node)) {
      const value = node[key];
      if (!value || typeof value !== "object" || olSkippedChild(node, key)) continue;
      const boundary = node.type === "PropertyDefinition" && key === "value" ? 1 : 0;
      if (Array.isArray(value)) {
        for (const child of value) {
          if (child && typeof child.type === "string") todo.push([child, fd + boundary, pd + boundary]);
        }
      } else if (typeof value.type === "string") {
        todo.push([value, fd + boundary, pd + boundary]);
      }
    }
  }
  if (problems.length) {
    problems.sort((a, b) => a.pos - b.pos);
    throw problems[0];
  }
}

function olBindingNames(pattern, out) {
  switch (pattern.type) {
    case "Identifier":
      out.push(pattern);
      break;
    case "ObjectPattern":
      for (const p of pattern.properties) olBindingNames(p.type === "RestElement" ? p.argument : p.value, out);
      break;
    case "ArrayPattern":
      for (const e of pattern.elements) if (e) olBindingNames(e, out);
      break;
    case "RestElement":
      olBindingNames(pattern.argument, out);
      break;
    case "AssignmentPattern":
      olBindingNames(pattern.left, out);
      break;
    default:
      throw new OlError(`unexpected ${pattern.type} in an exported declaration`, pattern.start);
  }
  return out;
}

function olBlank(text) {
  let out = "";
  for (const ch of text) out += OL_LINE_BREAK.test(ch) ? ch : " ".repeat(ch.length);
  return out;
}

// The `default` keyword after `export` (whitespace and comments may sit between).
function olDefaultToken(source, from) {
  const skip = /(?:\s|\/\/[^\n\r\u2028\u2029]*|\/\*[\s\S]*?\*\/)*default\b/y;
  skip.lastIndex = from;
  if (!skip.exec(source)) throw new OlError("cannot find `default` after `export`", from);
  return skip.lastIndex - "default".length;
}

function olExportName(node) {
  return node.type === "Literal" ? String(node.value) : node.name;
}

// An export name as a string literal whose text SES's rules can never match.
function olKey(name) {
  let out = '"';
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    out += /[A-Za-z0-9_$ ]/.test(ch) ? ch : "\\u" + name.charCodeAt(i).toString(16).padStart(4, "0");
  }
  return out + '"';
}

// The edits that turn the module into the function body, and its exports.
function olRewrite(ast, source) {
  const edits = [];
  const exports = [];
  const seen = new Set();
  const add = (node, exported, local) => {
    if (OL_RESERVED.test(exported)) throw new OlError(`the export name '${exported}' is reserved: names starting with __ol belong to OutLayer`, node.start);
    if (seen.has(exported)) throw new OlError(`duplicate export '${exported}'`, node.start);
    seen.add(exported);
    exports.push({ name: exported, local });
  };
  for (const stmt of ast.body) {
    if (stmt.type === "ExportNamedDeclaration") {
      const decl = stmt.declaration;
      if (decl) {
        edits.push({ start: stmt.start, end: stmt.start + 6, text: "      " });
        if (decl.type === "VariableDeclaration") {
          for (const d of decl.declarations) for (const id of olBindingNames(d.id, [])) add(id, id.name, id.name);
        } else {
          add(decl.id, decl.id.name, decl.id.name);
        }
      } else {
        // blank, but for a `;` where `export` began: the statement before it may have
        // ended by ASI only because `export` could not continue it
        edits.push({ start: stmt.start, end: stmt.end, text: ";" + olBlank(source.slice(stmt.start + 1, stmt.end)) });
        for (const spec of stmt.specifiers) add(spec.exported, olExportName(spec.exported), spec.local.name);
      }
    } else if (stmt.type === "ExportDefaultDeclaration") {
      const decl = stmt.declaration;
      const at = olDefaultToken(source, stmt.start + 6);
      const isDecl = decl.type === "FunctionDeclaration" || decl.type === "ClassDeclaration";
      if (isDecl && decl.id) {
        edits.push({ start: stmt.start, end: stmt.start + 6, text: "      " });
        edits.push({ start: at, end: at + 7, text: "       " });
        add(stmt, "default", decl.id.name);
        continue;
      }
      const binding = `const ${OL_DEFAULT_LOCAL} =`; // 14 characters, as `export default`
      if (at === stmt.start + 7 && source[stmt.start + 6] === " ") {
        edits.push({ start: stmt.start, end: at + 7, text: binding });
      } else {
        edits.push({ start: stmt.start, end: stmt.start + 6, text: binding });
        edits.push({ start: at, end: at + 7, text: "       " });
      }
      if (isDecl) {
        // an anonymous declaration ended its statement; the expression it becomes does
        // not, so end it: on the next space or tab when there is one (no column moves)
        const next = source[decl.end];
        if (next === " " || next === "\t") edits.push({ start: decl.end, end: decl.end + 1, text: ";" });
        else if (next !== ";") edits.push({ start: decl.end, end: decl.end, text: ";" });
      }
      add(stmt, "default", OL_DEFAULT_LOCAL);
    }
  }
  if (source.startsWith("#!")) edits.push({ start: 0, end: 2, text: "//" });
  edits.sort((a, b) => a.start - b.start);
  const parts = [];
  let pos = 0;
  for (const e of edits) {
    parts.push(source.slice(pos, e.start), e.text);
    pos = e.end;
  }
  parts.push(source.slice(pos));
  const body = parts.join("");
  exports.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { body, exports };
}

// Names the contract reads or writes that nothing declares and the compartment does not
// provide: in a plain JS engine (NEAR's own QuickJS) such a read is a ReferenceError, but
// SES's scope terminator answers every unknown name with `undefined`, so a typo like
// `requier(x)` would fail later and less clearly. The wrapper declares these names with
// `let` after its `return`: never initialized, so every access throws ReferenceError
// where it happens. Left alone, as SES has them: names the compartment's global object
// has (or may get: a name that also appears as a property name, or as a word inside a
// string, e.g. code compiled at run time), and names the contract tests with `typeof`
// (which must still answer "undefined"). A contract that uses the global object other
// than by `globalThis.name` (computed keys, aliases, passing it to defineProperty...) can
// create any global at run time: it gets no trap at all.
// Iterative, as olCheck is, and over scopes: var and function hoisting, let/const/class
// per block, parameters, catch clauses, named function and class expressions, `arguments`.
function olScope(parent, isFunction) {
  return { parent, isFunction, names: new Set() };
}

function olFunctionScope(scope) {
  let s = scope;
  while (!s.isFunction) s = s.parent;
  return s;
}

const OL_IDENTIFIER_NAME = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*$/u;
const OL_WORDS = /[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*/gu;
// names of the global object itself
const OL_GLOBAL_ALIASES = new Set(["globalThis", "self", "window", "global"]);

function olUndeclared(ast, known) {
  const refs = [];
  const guarded = new Set(); // typeof operands
  const mentioned = new Set(); // property names, and the words of strings
  const plainGlobalUses = new Set(); // `globalThis` in `globalThis.name`, `typeof globalThis`
  const module = olScope(null, true);
  const mentionText = (text) => {
    for (const word of text.match(OL_WORDS) || []) mentioned.add(word);
  };
  const mention = (key) => {
    if (key.type === "Identifier") mentioned.add(key.name);
    else if (key.type === "Literal" && typeof key.value === "string") mentionText(key.value);
  };
  // [node, scope, mode, declScope]: mode "expr" (references), "target" (assignment
  // targets: identifiers are references) or "decl" (binding names, into declScope)
  const todo = [[ast, module, "expr", null]];
  const push = (node, scope, mode = "expr", declScope = null) => {
    if (node) todo.push([node, scope, mode, declScope]);
  };
  const pushAll = (nodes, scope) => {
    for (const n of nodes) push(n, scope);
  };
  const fn = (node, scope) => { // function-like: own scope, parameters, body
    let outer = scope;
    if (node.type === "FunctionExpression" && node.id) {
      outer = olScope(scope, false);
      outer.names.add(node.id.name);
    }
    const inner = olScope(outer, true);
    if (node.type !== "ArrowFunctionExpression") inner.names.add("arguments");
    for (const p of node.params) push(p, inner, "decl", inner);
    if (node.body.type === "BlockStatement") pushAll(node.body.body, inner);
    else push(node.body, inner);
  };
  const declare = (decl, scope) => { // a VariableDeclaration
    const into = decl.kind === "var" ? olFunctionScope(scope) : scope;
    for (const d of decl.declarations) {
      push(d.id, scope, "decl", into);
      push(d.init, scope);
    }
  };
  while (todo.length) {
    const [node, scope, mode, declScope] = todo.pop();
    if (mode !== "expr") {
      switch (node.type) {
        case "Identifier":
          if (mode === "decl") declScope.names.add(node.name);
          else refs.push([node, scope]);
          continue;
        case "ObjectPattern":
          for (const p of node.properties) {
            if (p.type === "RestElement") { push(p.argument, scope, mode, declScope); continue; }
            if (p.computed) push(p.key, scope);
            else if (!p.shorthand) mention(p.key);
            push(p.value, scope, mode, declScope);
          }
          continue;
        case "ArrayPattern":
          for (const e of node.elements) push(e, scope, mode, declScope);
          continue;
        case "RestElement":
          push(node.argument, scope, mode, declScope);
          continue;
        case "AssignmentPattern":
          push(node.left, scope, mode, declScope);
          push(node.right, scope);
          continue;
        default: // a member expression as an assignment target
          break;
      }
    }
    switch (node.type) {
      case "Identifier":
        refs.push([node, scope]);
        continue;
      case "Literal":
        if (typeof node.value === "string") mentionText(node.value);
        continue;
      case "TemplateElement":
        if (typeof node.value.cooked === "string") mentionText(node.value.cooked);
        continue;
      case "Program":
        pushAll(node.body, module);
        continue;
      case "FunctionDeclaration":
        if (node.id) scope.names.add(node.id.name);
        fn(node, scope);
        continue;
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        fn(node, scope);
        continue;
      case "ClassDeclaration":
      case "ClassExpression": {
        const inner = olScope(scope, false);
        if (node.id) {
          inner.names.add(node.id.name);
          if (node.type === "ClassDeclaration") scope.names.add(node.id.name);
        }
        push(node.superClass, inner);
        for (const member of node.body.body) {
          if (member.type === "StaticBlock") {
            pushAll(member.body, olScope(inner, true));
            continue;
          }
          if (member.computed) push(member.key, inner);
          else mention(member.key);
          push(member.value, member.type === "PropertyDefinition" ? olScope(inner, true) : inner);
        }
        continue;
      }
      case "BlockStatement": {
        pushAll(node.body, olScope(scope, false));
        continue;
      }
      case "StaticBlock":
        pushAll(node.body, olScope(scope, true));
        continue;
      case "ForStatement": {
        const inner = olScope(scope, false);
        push(node.init, inner);
        push(node.test, inner);
        push(node.update, inner);
        push(node.body, inner);
        continue;
      }
      case "ForInStatement":
      case "ForOfStatement": {
        const inner = olScope(scope, false);
        if (node.left.type === "VariableDeclaration") declare(node.left, inner);
        else push(node.left, inner, "target");
        push(node.right, inner);
        push(node.body, inner);
        continue;
      }
      case "SwitchStatement": {
        push(node.discriminant, scope);
        const inner = olScope(scope, false);
        for (const c of node.cases) {
          push(c.test, inner);
          pushAll(c.consequent, inner);
        }
        continue;
      }
      case "CatchClause": {
        const inner = olScope(scope, false);
        push(node.param, inner, "decl", inner);
        pushAll(node.body.body, inner);
        continue;
      }
      case "VariableDeclaration":
        declare(node, scope);
        continue;
      case "ImportDeclaration": // refused by olCheck; its bindings are declarations
        for (const spec of node.specifiers) module.names.add(spec.local.name);
        continue;
      case "MemberExpression":
        if (!node.computed && node.object.type === "Identifier" &&
            OL_GLOBAL_ALIASES.has(node.object.name)) plainGlobalUses.add(node.object);
        push(node.object, scope);
        if (node.computed) push(node.property, scope);
        else mention(node.property);
        continue;
      case "Property": // a shorthand's key is its value, a reference
        if (node.computed) push(node.key, scope);
        else if (!node.shorthand) mention(node.key);
        push(node.value, scope);
        continue;
      case "AssignmentExpression":
        push(node.left, scope, "target");
        push(node.right, scope);
        continue;
      case "UnaryExpression":
        if (node.operator === "typeof" && node.argument.type === "Identifier") {
          guarded.add(node.argument.name);
          plainGlobalUses.add(node.argument); // `typeof globalThis` writes nothing
        }
        push(node.argument, scope);
        continue;
      case "LabeledStatement":
        push(node.body, scope);
        continue;
      case "BreakStatement":
      case "ContinueStatement":
      case "MetaProperty":
      case "PrivateIdentifier":
      case "ThisExpression":
      case "Super":
        continue;
      case "ExportSpecifier":
        push(node.local, scope);
        continue;
      case "ExportNamedDeclaration": // `export {a} from "m"` names another module's bindings
        if (node.source) continue;
        break;
      case "ExportAllDeclaration":
        continue;
      default:
        break;
    }
    for (const key of Object.keys(node)) {
      const value = node[key];
      if (!value || typeof value !== "object") continue;
      if (Array.isArray(value)) {
        for (const child of value) if (child && typeof child.type === "string") push(child, scope);
      } else if (typeof value.type === "string") {
        push(value, scope);
      }
    }
  }
  const free = (name, scope) => {
    let s = scope;
    while (s && !s.names.has(name)) s = s.parent;
    return !s;
  };
  // the global object itself used as a value: any global may exist at run time
  const open = refs.some(([node, scope]) => OL_GLOBAL_ALIASES.has(node.name) &&
                         !plainGlobalUses.has(node) && free(node.name, scope));
  const first = new Map(); // name -> offset of its first use
  for (const [node, scope] of refs) {
    const name = node.name;
    if (known.has(name) || guarded.has(name) || mentioned.has(name)) continue;
    if (!OL_IDENTIFIER_NAME.test(name) || OL_RESERVED.test(name)) continue;
    if (first.has(name) && first.get(name) <= node.start) continue;
    if (free(name, scope)) first.set(name, node.start);
  }
  return { first, open };
}

// Every name the global object of a contract's compartment can have: the start realm's
// global object (a superset: SES gives compartments its safe intrinsics, and the realm
// prelude's endowments are read from here), down its prototype chain, and `self`, which
// the prelude defines on near-sdk-js compartments only.
function olKnownGlobals() {
  const known = new Set(["self"]);
  for (let o = globalThis; o; o = Object.getPrototypeOf(o)) {
    for (const key of Reflect.ownKeys(o)) if (typeof key === "string") known.add(key);
  }
  return known;
}

// 1-based line and column of an index into the contract.
function olSourcePosition(source, index) {
  const info = olAcorn.getLineInfo(source, index);
  return { line: info.line, column: info.column + 1 };
}

// Where a position of the script is in the contract (1-based); the wrapper ends `bodyEnd`
// and its prefix on line 1 is `prefixLength` long.
function olLocate(script, index, bodyEnd, prefixLength) {
  if (index >= bodyEnd) return null;
  const info = olAcorn.getLineInfo(script, index);
  const column = info.line === 1 ? info.column - prefixLength : info.column;
  return { line: info.line, column: column + 1 };
}

function olSesCheck(script, bodyEnd, prefixLength) {
  let first = null;
  for (const rule of OL_SES_RULES) {
    rule.pattern.lastIndex = 0;
    const m = rule.pattern.exec(script);
    if (!m) continue;
    const index = m.index + (m.length > 2 ? m[1].length : 0);
    if (!first || index < first.index) first = { index, rule };
  }
  if (!first) return;
  const where = olLocate(script, first.index, bodyEnd, prefixLength);
  if (!where) throw new Error(`internal: the wrapper itself matches ${first.rule.code}`);
  throw Object.assign(new OlError(`${first.rule.message} (${first.rule.code})`, -1), { where });
}

function olTransform(source) {
  // no `locations`: line and column are computed from offsets, only for an error
  // (same numbers, and parsing a large contract is ~25% faster)
  const ast = olAcorn.parse(source, {
    ecmaVersion: "latest",
    sourceType: "module",
    allowHashBang: true,
  });
  olCheck(ast);
  const { body, exports } = olRewrite(ast, source);
  const entries = exports.map((e) => `, [${olKey(e.name)}]: ${e.local}`).join("");
  const prefix = (source.startsWith(OL_SDKJS_TAG) ? OL_SDKJS_TAG : "") + OL_PREFIX;
  const { first, open } = olUndeclared(ast, olKnownGlobals());
  const unresolved = [...first.keys()].sort();
  const uses = open ? new Map() : first; // an open global object: no trap at all
  const undeclared = [...uses.keys()].sort();
  const traps = undeclared.length ? ` let ${undeclared.join(", ")};` : "";
  // where each is first used, in source order (for a deploy-time warning)
  const undeclared_at = [...uses].sort((a, b) => a[1] - b[1])
    .map(([name, pos]) => ({ name, ...olSourcePosition(source, pos) }));
  const script = `${prefix}${body}\nreturn __ol_freeze({__proto__: null${entries}});${traps}\n})(Object.freeze)\n`;
  olSesCheck(script, prefix.length + body.length, prefix.length);
  return { script, exports: exports.map((e) => e.name), line1_offset: prefix.length,
           sdkjs: prefix !== OL_PREFIX, undeclared, undeclared_at, unresolved,
           open_global_object: open };
}

// {source} -> {script, exports, line1_offset, sdkjs, undeclared (the names trapped),
// undeclared_at, unresolved (every name no scope or global resolves, before the open-global
// rule), open_global_object} | {error: {message, line, column}}
// (line and column 1-based; null when the error has no place in the source).
export function transform(args) {
  const source = args && args.source;
  if (typeof source !== "string") return { error: { message: "no source given", line: null, column: null } };
  try {
    return olTransform(source);
  } catch (e) {
    if (e instanceof OlError) {
      const where = e.where || olSourcePosition(source, e.pos);
      return { error: { message: e.message, line: where.line, column: where.column } };
    }
    if (e instanceof SyntaxError && e.loc) {
      let message = e.message.replace(/ \(\d+:\d+\)$/, "");
      if (message === "Not enough stack space to parse input") message += ": the code nests too deeply here for the deploy-time parser";
      return { error: { message, line: e.loc.line, column: e.loc.column + 1 } };
    }
    if (e instanceof RangeError || (e && e.name === "InternalError")) {
      return { error: { message: `the source is nested too deeply to transform (${e.message})`, line: null, column: null } };
    }
    throw e;
  }
}
