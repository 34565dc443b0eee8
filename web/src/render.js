// Turns the API's answers into DOM: result, logs, metrics, receipts tree, state table,
// determinism report and demo outcomes. Text goes in with textContent only (no HTML
// injection from contract output).

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

const gasFormat = new Intl.NumberFormat("en-US");

export function gas(value) {
  const n = Number(value);
  return `${gasFormat.format(n)} (${(n / 1e12).toFixed(3)} Tgas)`;
}

/** A yoctoNEAR amount (decimal string) as NEAR, exactly (BigInt: no float rounding). */
export function near(yocto) {
  const n = BigInt(yocto);
  const whole = n / 10n ** 24n;
  const frac = (n % 10n ** 24n).toString().padStart(24, "0").replace(/0+$/, "");
  return `${whole}${frac ? `.${frac}` : ""} NEAR`;
}

export function pretty(value) {
  return value === undefined ? "" : JSON.stringify(value, null, 2);
}

export function short(text, keep = 10) {
  return text && text.length > keep * 2 + 1 ? `${text.slice(0, keep)}…${text.slice(-4)}` : text;
}

function decodeBase64(b64) {
  try {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return `base64:${b64}`;
  }
}

function statusText(status) {
  if (typeof status === "string") return status;
  if ("SuccessValue" in status) {
    const text = decodeBase64(status.SuccessValue);
    return text === "" ? "✓ returned nothing" : `✓ ${text}`;
  }
  if ("SuccessReceiptId" in status) return `→ result of receipt ${short(status.SuccessReceiptId)}`;
  if ("Failure" in status) return `✗ ${JSON.stringify(status.Failure)}`;
  return JSON.stringify(status);
}

function actionsText(actions) {
  return actions.map((a) => {
    const [name, body] = Object.entries(a)[0];
    if (name === "FunctionCall") return `FunctionCall ${body.method_name}(${body.args_size} bytes)`;
    if (name === "Transfer") return `Transfer ${near(body.deposit)}`;
    return name;
  }).join(", ");
}

function treeNode(node) {
  const kind = node.receipt_kind;
  const summary = el("summary", {},
    el("span", { class: `tag ${kind}`, text: kind }),
    `${node.executor_id} ← ${node.predecessor_id}  `,
    el("b", { text: node.error ? `✗ ${node.error.kind}` : statusText(node.status) }));
  const body = el("div", { class: "node-body" });
  const lines = [
    `id ${node.id} · block ${node.block_height}`,
    `actions: ${actionsText(node.actions) || "(none)"}`,
    `gas burnt ${gas(node.gas_burnt)} · tokens burnt ${near(node.tokens_burnt)}`,
  ];
  if (node.logs.length) lines.push(`logs: ${node.logs.join(" | ")}`);
  if (node.error) lines.push(`error: ${node.error.message}`);
  for (const line of lines) body.append(el("div", { text: line }));
  const item = el("li", { "data-testid": "receipt" },
    el("details", { open: true }, summary, body));
  if (node.children.length) item.append(el("ul", {}, ...node.children.map(treeNode)));
  return item;
}

export function renderTree(container, root) {
  container.replaceChildren(root
    ? el("ul", {}, treeNode(root))
    : el("span", { class: "muted", text: "(a view runs no transaction: no receipts)" }));
}

export function renderMetrics(container, doc) {
  const rows = [
    ["gas burnt (method)", gas(doc.gas_burnt)],
    ["gas used (method)", gas(doc.gas_used)],
  ];
  if (doc.kind === "call") {
    rows.push(["gas burnt (transaction)", gas(doc.total_gas_burnt)],
      ["tokens burnt", near(doc.tokens_burnt)]);
  }
  rows.push(["execution time", `${doc.execution_time_ms} ms (engine)`],
    ["wall time", `${doc.wall_time_ms} ms (whole ${doc.kind})`],
    ["block", String(doc.block_height)]);
  if (doc.tx_hash) rows.push(["transaction", doc.tx_hash]);
  if (doc.digest) rows.push(["call digest", doc.digest]);
  container.replaceChildren(...rows.flatMap(([k, v]) =>
    [el("dt", { text: k }), el("dd", { text: v, "data-testid": `metric-${k.split(" ")[0]}` })]));
}

function valueCell(value) {
  try {
    const parsed = JSON.parse(value);
    if (parsed !== null && typeof parsed === "object") return el("pre", { text: pretty(parsed) });
  } catch { /* plain text */ }
  return value;
}

export function renderState(tbody, rows) {
  tbody.replaceChildren(...rows.map((row) => el("tr", { "data-testid": "state-row" },
    el("td", { text: row.key }), el("td", {}, valueCell(row.value)),
    el("td", { text: String(row.size) }))));
}

export function renderDeterminism(container, doc) {
  container.className = `report ${doc.identical ? "ok" : "bad"}`;
  const headline = doc.identical
    ? `✓ identical: ${doc.runs} of ${doc.runs} runs bit-identical`
    : `✗ NOT identical: ${doc.distinct_runs} different outcomes in ${doc.runs} runs`;
  const table = el("table", {},
    el("tr", {}, el("th", { text: "compared" }), el("th", { text: "distinct" }),
      el("th", { text: "digest (sha256)" })),
    ...Object.entries(doc.fields).map(([name, f]) => el("tr", {},
      el("td", { text: name }), el("td", { text: String(f.distinct) }),
      el("td", { text: f.identical ? short(f.digest, 16) : `differs first at run ${f.first_difference}` }))));
  const result = doc.error ? `${doc.error.kind}: ${doc.error.message}` : pretty(doc.result);
  container.replaceChildren(
    el("h3", { text: `Determinism check · ${doc.kind}` }),
    el("div", { class: "headline", text: headline, "data-testid": "determinism-headline" }),
    el("div", { text: `every run: ${result} · ${doc.logs.length} log(s) · ${gas(doc.gas_burnt)}` }),
    el("div", { class: "muted", text: `digest of all fields ${doc.digest}`, "data-testid": "determinism-digest" }),
    table,
    el("div", { class: "muted", "data-testid": "determinism-chain",
      text: doc.chain_unchanged
        ? `real chain unchanged: block ${doc.chain_after.height}, state root ${short(doc.chain_after.state_root, 12)}`
        : "the real chain CHANGED during the check" }),
    el("div", { class: "muted", text: `${doc.total_ms} ms in all, ${doc.per_run_ms} ms per run` }));
  container.hidden = false;
}

export function renderDemoOutcome(container, doc) {
  const call = doc.call;
  container.replaceChildren(
    el("span", { class: `badge ${doc.blocked ? "ok" : "bad"}`, "data-testid": "demo-verdict",
      text: doc.blocked ? "BLOCKED" : "NOT BLOCKED" }),
    el("div", { class: "verdict", text: doc.verdict, "data-testid": "demo-detail" }),
    el("div", { text: `gas burnt ${gas(call.gas_burnt)} · ${call.wall_time_ms} ms` }),
    el("div", { "data-testid": "demo-state",
      text: doc.state_unchanged
        ? `state unchanged: victim = ${JSON.stringify(doc.victim_after)}`
        : `STATE CHANGED: victim = ${JSON.stringify(doc.victim_after)}` }),
    el("details", {}, el("summary", { text: "raw outcome" }),
      el("pre", { text: pretty({ status: call.status, result: call.result, error: call.error,
        attempted_changes: call.attempted_changes, logs: call.logs }) })));
}
