// The playground page: a CodeMirror editor for the contract, a JSON editor for the
// arguments, and the buttons that drive the node through the playground API.
import { basicSetup, EditorView } from "codemirror";
import { javascript } from "@codemirror/lang-javascript";
import { json } from "@codemirror/lang-json";
import { Prec } from "@codemirror/state";
import { keymap } from "@codemirror/view";

import { api } from "./api.js";
import {
  el, renderDemoOutcome, renderDeterminism, renderMetrics, renderState, renderTree, pretty,
} from "./render.js";

const $ = (id) => document.getElementById(id);

function showError(err) {
  $("error-kind").textContent = err.kind || "Error";
  $("error-message").textContent = err.message;
  $("error").hidden = false;
  $("error").scrollIntoView({ block: "nearest" });
}

function clearError() {
  $("error").hidden = true;
}

// Ctrl+Enter calls, Ctrl+Shift+Enter views: in the editors and anywhere on the page.
const shortcuts = Prec.highest(keymap.of([
  { key: "Mod-Enter", run: () => { run("call"); return true; } },
  { key: "Mod-Shift-Enter", run: () => { run("view"); return true; } },
]));

const editor = new EditorView({
  parent: $("editor"),
  extensions: [basicSetup, javascript(), shortcuts],
});
const argsEditor = new EditorView({
  parent: $("args"),
  doc: "{}",
  extensions: [basicSetup, json(), shortcuts],
});

function setText(view, text) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

let busy = false;

async function busyWhile(work) {
  if (busy) return undefined;
  busy = true;
  clearError();
  $("busy").hidden = false;
  document.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  try {
    return await work();
  } catch (err) {
    showError(err);
    return undefined;
  } finally {
    busy = false;
    $("busy").hidden = true;
    document.querySelectorAll("button").forEach((b) => { b.disabled = false; });
  }
}

// The method to select when the list changes: the one selected before if the contract still
// has it, else `increment`, else the first that does not look like a view or a class export
// (the engine lists exports alphabetically, so `decrement` would come first otherwise).
function defaultMethod(methods, previous) {
  if (methods.includes(previous)) return previous;
  if (methods.includes("increment")) return "increment";
  const callable = methods.find((m) => /^[a-z_]/.test(m) && !/^(get|view|is|has)(_|[A-Z])/.test(m));
  return callable ?? methods[0] ?? "";
}

function showContract(contract) {
  $("state-account").textContent = contract.account_id;
  renderState($("state-rows"), contract.state);
  $("height").textContent = String(contract.block_height);
  const select = $("method");
  const previous = select.value;
  select.replaceChildren(...contract.methods.map((m) => el("option", { value: m, text: m })));
  select.value = defaultMethod(contract.methods, previous);
}

// Bumped by every action that shows a contract: a lookup that answers after a newer action
// started (e.g. the account field's change event racing the Deploy click) is dropped.
let shownGeneration = 0;

async function loadContract() {
  const mine = ++shownGeneration;
  const account = $("account").value.trim();
  $("outcome").hidden = true;
  $("determinism-report").hidden = true;
  try {
    const contract = await api(`contract/${encodeURIComponent(account)}`);
    if (mine !== shownGeneration) return;
    showContract(contract);
    $("deploy-info").textContent = `${account}: deployed, code ${contract.code_hash}`;
  } catch (err) {
    if (mine !== shownGeneration) return;
    $("method").replaceChildren();
    renderState($("state-rows"), []);
    $("state-account").textContent = account;
    $("deploy-info").textContent = err.kind === "AccountNotFound"
      ? `${account} does not exist yet: Deploy creates it.` : err.message;
  }
}

async function deploy() {
  await busyWhile(async () => {
    shownGeneration += 1;
    let doc;
    try {
      doc = await api("deploy", {
        account_id: $("account").value.trim(),
        source: editor.state.doc.toString(),
        realm: {
          allow_date_now: $("allow-date-now").checked,
          allow_math_random: $("allow-math-random").checked,
        },
      });
    } catch (err) {
      await loadContract(); // show the target account as it really is after the refusal
      throw err;
    }
    showContract(doc.contract);
    const built = doc.built_with ? ` (built with ${doc.built_with})` : "";
    // warnings (names nothing declares) each on a line of their own
    const warnings = (doc.warnings || []).map((w) => `\nwarning: ${w}`).join("");
    $("deploy-info").textContent = `${doc.account_id}: deployed ${doc.code_size} bytes${built}, `
      + `code ${doc.code_hash}${doc.created ? " (account created)" : ""}; methods: `
      + `${doc.methods.join(", ")}${warnings}`;
  });
}

function callBody() {
  return {
    account_id: $("account").value.trim(),
    method: $("method").value,
    args: argsEditor.state.doc.toString(),
    signer_id: $("signer").value.trim(),
    deposit: $("deposit").value.trim(),
    gas: $("gas").value.trim(),
  };
}

function showOutcome(doc) {
  const ok = doc.status === "success";
  const status = $("status");
  status.className = `badge ${ok ? "ok" : doc.status === "pending" ? "pending" : "bad"}`;
  status.textContent = doc.status;
  $("outcome-kind").textContent = `${doc.kind} ${callBody().method}`;
  const result = $("result");
  result.className = `value ${ok ? "" : "failure"}`;
  result.textContent = doc.error ? `${doc.error.kind}: ${doc.error.message}`
    : doc.result === null ? "null" : pretty(doc.result);
  $("logs").replaceChildren(...doc.logs.map((line) => el("li", { text: line })));
  renderMetrics($("metrics"), doc);
  renderTree($("receipts"), doc.receipts);
  showContract(doc.contract);
  $("outcome").hidden = false;
}

async function run(kind) {
  await busyWhile(async () => {
    const body = callBody();
    if (!body.method) throw Object.assign(new Error("deploy a contract first: no method to call"), { kind: "NoMethod" });
    if (kind === "view") {
      showOutcome(await api("view", { account_id: body.account_id, method: body.method, args: body.args }));
    } else {
      showOutcome(await api("call", body));
    }
  });
}

async function determinism() {
  await busyWhile(async () => {
    const body = callBody();
    if (!body.method) throw Object.assign(new Error("deploy a contract first: no method to check"), { kind: "NoMethod" });
    renderDeterminism($("determinism-report"), await api("determinism", { ...body, runs: 100 }));
  });
}

function demoCard(demo) {
  const out = el("div", { class: "out", "data-testid": "demo-out" });
  const button = el("button", { class: "primary", text: "Run", "data-demo": demo.id });
  button.addEventListener("click", () => busyWhile(async () => {
    out.replaceChildren(el("span", { class: "muted", text: "running…" }));
    const doc = await api(`demos/${demo.id}`, {});
    renderDemoOutcome(out, doc);
    $("height").textContent = String(doc.call.contract.block_height);
  }));
  return el("article", { class: "demo", "data-testid": `demo-${demo.id}` },
    el("header", {}, el("h4", { text: demo.title }), button),
    el("p", { text: demo.what }),
    el("details", {}, el("summary", { text: `contract (${demo.account_id}, ${demo.method})` }),
      el("pre", { text: demo.source })),
    out);
}

async function start() {
  let info;
  try {
    info = await api("info");
  } catch (err) {
    showError(err);
    return;
  }
  $("height").textContent = String(info.block_height);
  $("signer").value = info.defaults.signer_id;
  const select = $("example");
  select.replaceChildren(...info.examples.map((ex) => el("option", { value: ex.name, text: ex.name })));
  const pick = (name) => {
    const example = info.examples.find((ex) => ex.name === name);
    if (!example) return;
    setText(editor, example.source);
    $("account").value = example.account_id;
    loadContract();
  };
  select.addEventListener("change", () => pick(select.value));
  if (info.examples.some((ex) => ex.name === "counter.js")) {
    select.value = "counter.js";
    pick("counter.js");
  } else {
    setText(editor, "export function hello() {\n  near.log('hello');\n  return 'hi';\n}\n");
    loadContract();
  }
  $("demos").replaceChildren(...info.demos.map(demoCard));
}

$("deploy").addEventListener("click", deploy);
$("call").addEventListener("click", () => run("call"));
$("view").addEventListener("click", () => run("view"));
$("determinism").addEventListener("click", determinism);
$("error-close").addEventListener("click", clearError);
$("account").addEventListener("change", loadContract);
document.addEventListener("keydown", (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && !event.defaultPrevented) {
    event.preventDefault();
    run(event.shiftKey ? "view" : "call");
  }
});

// for the browser tests and the curious: the two editors
window.playground = {
  source: () => editor.state.doc.toString(),
  args: () => argsEditor.state.doc.toString(),
};

start();
