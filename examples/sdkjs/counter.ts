// A counter written with near-sdk-js 2.0.0, unmodified: `outlayer build counter.ts`, or
// `outlayer deploy counter.test counter.ts` (it builds automatically). See
// docs/NEAR_SDK_JS.md.
import { NearBindgen, call, view, near, initialize, migrate } from "near-sdk-js";

@NearBindgen({})
export class Counter {
  count: number = 0;
  owner: string = "";

  // optional: the state starts as the field defaults when no one calls it
  @initialize({})
  init({ start = 0 }: { start?: number }): void {
    this.count = start;
    this.owner = near.predecessorAccountId();
  }

  @call({})
  increment({ by = 1 }: { by?: number }): number {
    this.count += by;
    near.log(`count is now ${this.count}`);
    return this.count;
  }

  @call({})
  decrement(): number {
    if (this.count <= 0) {
      throw new Error("the count is already 0");
    }
    this.count -= 1;
    return this.count;
  }

  @call({ privateFunction: true })
  reset(): void {
    this.count = 0;
  }

  @view({})
  get_count(): number {
    return this.count;
  }

  // rewrites the stored state as it is (a real migration would reshape it)
  @migrate({})
  migrate_state(): void {
    const raw = near.storageRead("STATE");
    if (raw !== null) {
      const old = JSON.parse(raw);
      this.count = old.count;
      this.owner = old.owner;
    }
  }
}
