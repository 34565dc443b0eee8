// A cross-contract call with a callback, written with near-sdk-js 2.0.0: `relay_status`
// calls set_status on a status-message contract (examples/sdkjs/status_message.ts), then
// this contract's private `on_status_set`, which reads the promise result and records the
// outcome in a Vector. `query_status` does the same with get_status and returns the
// remote answer through the callback. The callbacks are @call({privateFunction: true}):
// only this contract itself may call them.
import { NearBindgen, call, view, initialize, near, NearPromise, Vector, LookupMap } from "near-sdk-js";

const CALL_GAS = 20_000_000_000_000n;
const CALLBACK_GAS = 20_000_000_000_000n;

@NearBindgen({ requireInit: true })
export class StatusRelay {
  status_contract = "";
  outcomes: Vector<string> = new Vector<string>("o");
  last_seen: LookupMap<string> = new LookupMap<string>("s");

  @initialize({})
  init({ status_contract }: { status_contract: string }): void {
    this.status_contract = status_contract;
  }

  @call({})
  relay_status({ message }: { message: string }): NearPromise {
    return NearPromise.new(this.status_contract)
      .functionCall("set_status", JSON.stringify({ message }), 0n, CALL_GAS)
      .then(NearPromise.new(near.currentAccountId())
        .functionCall("on_status_set", JSON.stringify({ message }), 0n, CALLBACK_GAS));
  }

  @call({ privateFunction: true })
  on_status_set({ message }: { message: string }): boolean {
    let ok = true;
    try {
      near.promiseResult(0);
    } catch (e) {
      ok = false;
    }
    this.outcomes.push(`${ok ? "set" : "failed"}:${message}`);
    near.log(ok ? `relayed: ${message}` : `the status contract refused: ${message}`);
    return ok;
  }

  @call({})
  query_status({ account_id }: { account_id: string }): NearPromise {
    return NearPromise.new(this.status_contract)
      .functionCall("get_status", JSON.stringify({ account_id }), 0n, CALL_GAS)
      .then(NearPromise.new(near.currentAccountId())
        .functionCall("on_status", JSON.stringify({ account_id }), 0n, CALLBACK_GAS));
  }

  @call({ privateFunction: true })
  on_status({ account_id }: { account_id: string }): string | null {
    const status: string | null = JSON.parse(near.promiseResult(0));
    if (status !== null) this.last_seen.set(account_id, status);
    return status;
  }

  @view({})
  get_outcomes(): string[] {
    return this.outcomes.toArray();
  }

  @view({})
  get_last_seen({ account_id }: { account_id: string }): string | null {
    return this.last_seen.get(account_id);
  }
}
