// A status-message board written with near-sdk-js 2.0.0: each account's latest message in
// an UnorderedMap, every distinct message ever set in an UnorderedSet. Build and deploy
// with `outlayer deploy status.test examples/sdkjs/status_message.ts`.
import { NearBindgen, call, view, near, UnorderedMap, UnorderedSet, assert } from "near-sdk-js";

const MAX_LENGTH = 280;

@NearBindgen({})
export class StatusMessage {
  records: UnorderedMap<string> = new UnorderedMap<string>("r");
  messages: UnorderedSet<string> = new UnorderedSet<string>("u");

  @call({})
  set_status({ message }: { message: string }): void {
    assert(typeof message === "string" && message.length > 0, "message must be a non-empty string");
    assert(message.length <= MAX_LENGTH, `message is longer than ${MAX_LENGTH} characters`);
    const account_id = near.signerAccountId();
    near.log(`${account_id} set_status with message ${message}`);
    this.records.set(account_id, message);
    this.messages.set(message);
  }

  @call({})
  clear_status(): string | null {
    return this.records.remove(near.signerAccountId());
  }

  @view({})
  get_status({ account_id }: { account_id: string }): string | null {
    return this.records.get(account_id);
  }

  @view({})
  get_statuses(): [string, string][] {
    return this.records.toArray();
  }

  @view({})
  get_messages(): string[] {
    return this.messages.toArray();
  }

  @view({})
  has_message({ message }: { message: string }): boolean {
    return this.messages.contains(message);
  }
}
