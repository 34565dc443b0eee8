// A NEP-141 fungible token (with NEP-145 storage deposits) written with near-sdk-js 2.0.0.
// Balances are u128 (BigInt) in a LookupMap; amounts cross the JSON boundary as strings.
// ft_transfer_call calls the receiver's ft_on_transfer, then our own private
// ft_resolve_transfer, which refunds what the receiver did not use (or everything, if the
// receiver failed). See examples/sdkjs/ft_receiver.ts for a receiver.
import {
  NearBindgen, call, view, initialize, near, LookupMap, NearPromise, assert,
} from "near-sdk-js";

// NEP-145: what registering one account costs (its balance entry: key + value + 40 bytes
// of record overhead, at 10^19 yoctoNEAR per byte), rounded up.
const STORAGE_BALANCE = 1_250_000_000_000_000_000_000n; // 0.00125 NEAR
const GAS_FOR_FT_ON_TRANSFER = 35_000_000_000_000n;
const GAS_FOR_RESOLVE_TRANSFER = 15_000_000_000_000n;

type Metadata = { spec: string; name: string; symbol: string; decimals: number; icon: string | null };

function assertOneYocto(): void {
  assert(near.attachedDeposit() === 1n, "Requires attached deposit of exactly 1 yoctoNEAR");
}

function event(name: string, data: object[]): void {
  near.log(`EVENT_JSON:${JSON.stringify({ standard: "nep141", version: "1.0.0", event: name, data })}`);
}

@NearBindgen({ requireInit: true })
export class FungibleToken {
  owner_id = "";
  total_supply = 0n;
  accounts: LookupMap<bigint> = new LookupMap<bigint>("a");
  metadata: Metadata = { spec: "ft-1.0.0", name: "", symbol: "", decimals: 24, icon: null };

  @initialize({})
  init({ owner_id, total_supply, name = "Example Token", symbol = "EXT", decimals = 24 }:
    { owner_id: string; total_supply: string; name?: string; symbol?: string; decimals?: number }): void {
    this.owner_id = owner_id;
    this.total_supply = BigInt(total_supply);
    this.metadata = { spec: "ft-1.0.0", name, symbol, decimals, icon: null };
    this.accounts.set(owner_id, this.total_supply);
    event("ft_mint", [{ owner_id, amount: total_supply, memo: "new tokens are minted" }]);
  }

  // ------------------------------------------------------------------ NEP-145 storage

  @call({ payableFunction: true })
  storage_deposit({ account_id }: { account_id?: string; registration_only?: boolean }): object {
    const payer = near.predecessorAccountId();
    const account = account_id ?? payer;
    const deposit = near.attachedDeposit();
    let refund = deposit;
    if (!this.accounts.containsKey(account)) {
      assert(deposit >= STORAGE_BALANCE,
        `The attached deposit is less than the minimum storage balance (${STORAGE_BALANCE})`);
      this.accounts.set(account, 0n);
      refund = deposit - STORAGE_BALANCE;
    } else {
      near.log("The account is already registered, refunding the deposit");
    }
    if (refund > 0n) {
      near.promiseBatchActionTransfer(near.promiseBatchCreate(payer), refund);
    }
    return this.storage_balance_of({ account_id: account });
  }

  @view({})
  storage_balance_of({ account_id }: { account_id: string }): object | null {
    return this.accounts.containsKey(account_id)
      ? { total: STORAGE_BALANCE.toString(), available: "0" } : null;
  }

  @view({})
  storage_balance_bounds(): object {
    return { min: STORAGE_BALANCE.toString(), max: STORAGE_BALANCE.toString() };
  }

  // ---------------------------------------------------------------------- NEP-141

  internalTransfer(sender_id: string, receiver_id: string, amount: bigint, memo?: string): void {
    assert(sender_id !== receiver_id, "Sender and receiver should be different");
    assert(amount > 0n, "The amount should be a positive number");
    const sender = this.accounts.get(sender_id);
    assert(sender !== null, `The account ${sender_id} is not registered`);
    const receiver = this.accounts.get(receiver_id);
    assert(receiver !== null, `The account ${receiver_id} is not registered`);
    assert(sender >= amount, "The account doesn't have enough balance");
    this.accounts.set(sender_id, sender - amount);
    this.accounts.set(receiver_id, receiver + amount);
    event("ft_transfer", [{ old_owner_id: sender_id, new_owner_id: receiver_id,
      amount: amount.toString(), ...(memo ? { memo } : {}) }]);
  }

  @call({ payableFunction: true })
  ft_transfer({ receiver_id, amount, memo }: { receiver_id: string; amount: string; memo?: string }): void {
    assertOneYocto();
    this.internalTransfer(near.predecessorAccountId(), receiver_id, BigInt(amount), memo);
  }

  @call({ payableFunction: true })
  ft_transfer_call({ receiver_id, amount, memo, msg }:
    { receiver_id: string; amount: string; memo?: string; msg: string }): NearPromise {
    assertOneYocto();
    const sender_id = near.predecessorAccountId();
    this.internalTransfer(sender_id, receiver_id, BigInt(amount), memo);
    return NearPromise.new(receiver_id)
      .functionCall("ft_on_transfer", JSON.stringify({ sender_id, amount, msg }), 0n,
        GAS_FOR_FT_ON_TRANSFER)
      .then(NearPromise.new(near.currentAccountId())
        .functionCall("ft_resolve_transfer", JSON.stringify({ sender_id, receiver_id, amount }),
          0n, GAS_FOR_RESOLVE_TRANSFER));
  }

  // the receiver's answer is the amount it did not use; a failed receiver used nothing
  @call({ privateFunction: true })
  ft_resolve_transfer({ sender_id, receiver_id, amount }:
    { sender_id: string; receiver_id: string; amount: string }): string {
    const sent = BigInt(amount);
    let unused = sent;
    try {
      const answer = JSON.parse(near.promiseResult(0));
      unused = BigInt(answer);
      if (unused > sent) unused = sent;
    } catch (e) {
      near.log(`ft_on_transfer failed or answered no amount: refunding ${sent}`);
    }
    if (unused > 0n) {
      const receiver = this.accounts.get(receiver_id) ?? 0n;
      const refund = receiver < unused ? receiver : unused;
      if (refund > 0n) {
        this.accounts.set(receiver_id, receiver - refund);
        const sender = this.accounts.get(sender_id);
        if (sender !== null) {
          this.accounts.set(sender_id, sender + refund);
          event("ft_transfer", [{ old_owner_id: receiver_id, new_owner_id: sender_id,
            amount: refund.toString(), memo: "refund" }]);
        } else {
          this.total_supply -= refund;
          event("ft_burn", [{ owner_id: receiver_id, amount: refund.toString() }]);
        }
        return (sent - refund).toString();
      }
    }
    return (sent - unused).toString();
  }

  @view({})
  ft_balance_of({ account_id }: { account_id: string }): string {
    return (this.accounts.get(account_id) ?? 0n).toString();
  }

  @view({})
  ft_total_supply(): string {
    return this.total_supply.toString();
  }

  @view({})
  ft_metadata(): Metadata {
    return this.metadata;
  }
}
