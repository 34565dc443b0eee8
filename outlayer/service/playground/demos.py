"""Security demos: small hostile contracts, each run for real on the node's chain.

Every demo contract first overwrites a `victim` key, then misbehaves. The page shows what
the runtime actually did: the call's error (or, for the escape probe, what each route
reached), the gas it burnt, and whether the victim key and the rest of the state are as
they were. `blocked` is judged from that real outcome, never assumed: a runtime that let an
attack through would show it here as not blocked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from outlayer.chain.simulator import ContractSimulator
from outlayer.chain.store import code_hash
from outlayer.chain.units import TGAS
from outlayer.errors import UserError
from outlayer.service.playground import ops

ATTACKER = "attacker.test"

#: shared by every demo contract: the key an attack would clobber and a way to read it
PRELUDE = """\
// Every demo writes the victim key first, then misbehaves: a blocked attack leaves it as it was.
export function seed() { near.storageWrite('victim', 'original'); return 'seeded'; }
export function victim() { return near.storageRead('victim'); }
const clobber = () => near.storageWrite('victim', 'overwritten by the attack');
"""

Judge = Callable[[dict[str, Any]], tuple[bool, str]]


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else text


def _error(kinds: tuple[str, ...], needle: str = "") -> Judge:
    """Blocked when the call failed with one of `kinds` and the message says `needle`."""
    def judge(doc: dict[str, Any]) -> tuple[bool, str]:
        error = doc["error"]
        if error is None:
            return False, f"the call succeeded and returned {doc['result']!r}"
        said = f"{error['kind']}: {_first_line(error['message'])}"
        return error["kind"] in kinds and needle in error["message"], said
    return judge


def _gas(doc: dict[str, Any]) -> tuple[bool, str]:
    error = doc["error"]
    if error is None:
        return False, f"the call finished and returned {doc['result']!r}"
    stopped = error["kind"] in ("GasExceeded", "GasLimitExceeded")
    return stopped, (f"{error['kind']}: {error['message']} (burnt {doc['gas_burnt']:,} gas, "
                     f"{doc['gas_burnt'] / TGAS:g} Tgas)")


def _escape(doc: dict[str, Any]) -> tuple[bool, str]:
    routes = doc["result"]
    if doc["error"] is not None or not isinstance(routes, dict):
        return False, f"the probe did not report: {doc['error']!r}"
    leaked = {route: seen["reached"] for route, seen in routes.items() if seen["reached"]}
    if leaked:
        return False, f"host globals reached: {leaked!r}"
    return True, (f"{len(routes)} routes tried; none reached a host global "
                  "(each threw, or got the contract's own globalThis or undefined)")


@dataclass(frozen=True)
class Demo:
    id: str
    title: str
    what: str
    body: str  # the demo's own code, after PRELUDE
    method: str
    judge: Judge
    gas: int = 300 * TGAS

    @property
    def source(self) -> str:
        return PRELUDE + "\n" + self.body

    @property
    def account_id(self) -> str:
        return f"{self.id.replace('_', '-')}.demo.test"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "what": self.what, "source": self.source,
                "method": self.method, "gas": str(self.gas), "account_id": self.account_id}


ESCAPE = """\
const HOST = ['process', 'require', 'fetch', 'setTimeout', 'lockdown', 'Compartment',
              'std', 'os', 'print', 'WebAssembly', 'SharedArrayBuffer', 'performance'];
const attempt = (climb) => {
  try {
    const g = climb();
    const what = g === globalThis ? "the contract's own globalThis" : typeof g;
    return { got: what, reached: HOST.filter((n) => g != null && typeof g[n] !== 'undefined') };
  } catch (e) {
    return { got: 'threw ' + String(e), reached: [] };
  }
};
export function escape() {
  const indirect = globalThis.eval;
  return {
    "Function('return this')()": attempt(() => Function('return this')()),
    "Function('return globalThis')()": attempt(() => Function('return globalThis')()),
    "indirect eval of 'this'": attempt(() => indirect('this')),
    "({}).constructor.constructor('return this')()":
      attempt(() => ({}).constructor.constructor('return this')()),
    "near.log.constructor('return globalThis')()":
      attempt(() => near.log.constructor('return globalThis')()),
    "(async () => {}).constructor('return this')":
      attempt(() => (async () => {}).constructor('return this')),
    "globalThis (host APIs on it?)": attempt(() => globalThis),
  };
}
"""

DEMOS: list[Demo] = [
    Demo("date_now", "Date.now()", "Read the host clock: a different answer on every node.",
         "export function now() { clobber(); return Date.now(); }\n", "now",
         _error(("JSException",), "Date.now() is not available")),
    Demo("math_random", "Math.random()", "Host entropy: no two replays would agree.",
         "export function roll() { clobber(); return Math.random(); }\n", "roll",
         _error(("JSException",), "Math.random() is not available")),
    Demo("prototype_pollution", "Prototype pollution",
         "Add a property to Object.prototype so every object in the contract 'is admin'.",
         "export function pollute() {\n  clobber();\n  Object.prototype.isAdmin = true;\n"
         "  return ({}).isAdmin;\n}\n", "pollute",
         _error(("JSException",), "TypeError")),
    Demo("json_hijack", "Replace JSON.stringify",
         "Swap a built-in so results and logs are forged.",
         "export function hijack() {\n  clobber();\n  JSON.stringify = () => '\"forged\"';\n"
         "  return { amount: 1 };\n}\n", "hijack",
         _error(("JSException",), "read-only")),
    Demo("rebind_near", "Rebind the near API",
         "Replace the global `near` with a fake one that ignores storage limits.",
         "export function rebind() {\n  clobber();\n  near = { log() {} };\n"
         "  return 'rebound';\n}\n",
         "rebind", _error(("JSException",), "read-only")),
    Demo("eval_escape", "eval / Function escape",
         "Climb out of the compartment through Function, indirect eval and constructor chains.",
         ESCAPE, "escape", _escape),
    Demo("infinite_loop", "Infinite loop", "Spin forever; 10 Tgas of prepaid gas ends it.",
         "export function spin() { clobber(); for (;;) {} }\n", "spin", _gas, gas=10 * TGAS),
    Demo("memory_bomb", "Memory bomb", "Allocate 8 MiB buffers until the host runs out.",
         "export function bomb() {\n  clobber();\n  const keep = [];\n"
         "  for (;;) keep.push(new ArrayBuffer(8 << 20));\n}\n", "bomb",
         _error(("MemoryLimitExceeded",))),
    Demo("deep_recursion", "Unbounded recursion", "Recurse until the native stack overflows.",
         "const down = (n) => down(n + 1) + 1;\n"
         "export function recurse() { clobber(); return down(0); }\n", "recurse",
         _error(("JSException",), "RangeError")),
]
BY_ID = {d.id: d for d in DEMOS}


def _ready(sim: ContractSimulator, demo: Demo) -> None:
    """Deploy the demo contract (again only if its code changed) and seed the victim key."""
    try:
        current = sim.account(demo.account_id)["code_hash"]
    except UserError:
        current = None
    if current != code_hash(demo.source.encode()):
        sim.deploy(demo.account_id, demo.source)
    if "victim" not in sim.state(demo.account_id):
        seeded = sim.call(demo.account_id, "seed")
        if not seeded.ok:
            raise UserError(f"demo {demo.id}: seeding failed: {seeded.error}")


def run(sim: ContractSimulator, demo_id: str) -> dict[str, Any]:
    """Run one demo for real and judge it from what happened."""
    demo = BY_ID.get(demo_id)
    if demo is None:
        raise UserError(f"no security demo {demo_id!r}; demos: {', '.join(BY_ID)}")
    _ready(sim, demo)
    before = ops.state_table(sim, demo.account_id)
    doc = ops.call(sim, ops.CallSpec(demo.account_id, demo.method, signer_id=ATTACKER,
                                     gas=str(demo.gas)))
    after = doc["contract"]["state"]
    victim = sim.view(demo.account_id, "victim")
    blocked, verdict = demo.judge(doc)
    unchanged = before == after
    return {"demo": demo.to_json(), "call": doc, "blocked": blocked and unchanged,
            "verdict": verdict, "state_before": before, "state_after": after,
            "state_unchanged": unchanged, "victim_after": victim.result,
            "host_alive": victim.ok}
