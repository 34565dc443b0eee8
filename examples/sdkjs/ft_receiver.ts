// A NEP-141 receiver for examples/sdkjs/fungible_token.ts's ft_transfer_call, written with
// near-sdk-js 2.0.0. `msg` says what to do: "keep" uses every token, "return" none,
// "half" half of them, "fail" panics (the token then refunds everything).
import { NearBindgen, call, view, near, Vector } from "near-sdk-js";

@NearBindgen({})
export class FtReceiver {
  received: Vector<string> = new Vector<string>("v");

  @call({})
  ft_on_transfer({ sender_id, amount, msg }: { sender_id: string; amount: string; msg: string }): string {
    near.log(`${near.predecessorAccountId()} sent ${amount} for ${sender_id}: ${msg}`);
    if (msg === "fail") throw new Error("the receiver refuses these tokens");
    this.received.push(`${sender_id}:${amount}:${msg}`);
    if (msg === "keep") return "0";
    if (msg === "return") return amount;
    return (BigInt(amount) / 2n).toString();
  }

  @view({})
  get_received(): string[] {
    return this.received.toArray();
  }
}
