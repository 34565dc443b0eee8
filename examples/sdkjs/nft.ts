// A NEP-171 non-fungible token written with near-sdk-js 2.0.0: owners in a LookupMap, token
// metadata in an UnorderedMap (so tokens can be listed), each owner's token ids in a
// LookupMap of arrays, and the accounts allowed to mint in a LookupSet.
import {
  NearBindgen, call, view, initialize, near, LookupMap, LookupSet, UnorderedMap, assert,
} from "near-sdk-js";

type TokenMetadata = { title?: string; description?: string; media?: string };
type Token = { token_id: string; owner_id: string; metadata: TokenMetadata };

function event(name: string, data: object[]): void {
  near.log(`EVENT_JSON:${JSON.stringify({ standard: "nep171", version: "1.0.0", event: name, data })}`);
}

@NearBindgen({ requireInit: true })
export class NonFungibleToken {
  owner_id = "";
  owner_by_id: LookupMap<string> = new LookupMap<string>("o");
  token_metadata: UnorderedMap<TokenMetadata> = new UnorderedMap<TokenMetadata>("m");
  tokens_per_owner: LookupMap<string[]> = new LookupMap<string[]>("t");
  minters: LookupSet<string> = new LookupSet<string>("w");

  @initialize({})
  init({ owner_id }: { owner_id: string }): void {
    this.owner_id = owner_id;
    this.minters.set(owner_id);
  }

  @call({})
  add_minter({ account_id }: { account_id: string }): void {
    assert(near.predecessorAccountId() === this.owner_id, "only the owner adds minters");
    this.minters.set(account_id);
  }

  @view({})
  is_minter({ account_id }: { account_id: string }): boolean {
    return this.minters.contains(account_id);
  }

  internalAdd(owner_id: string, token_id: string): void {
    const tokens = this.tokens_per_owner.get(owner_id) ?? [];
    tokens.push(token_id);
    this.tokens_per_owner.set(owner_id, tokens);
  }

  internalRemove(owner_id: string, token_id: string): void {
    const tokens = (this.tokens_per_owner.get(owner_id) ?? []).filter((id) => id !== token_id);
    if (tokens.length) this.tokens_per_owner.set(owner_id, tokens);
    else this.tokens_per_owner.remove(owner_id);
  }

  @call({ payableFunction: true })
  nft_mint({ token_id, receiver_id, token_metadata = {} }:
    { token_id: string; receiver_id: string; token_metadata?: TokenMetadata }): Token {
    assert(this.minters.contains(near.predecessorAccountId()),
      `${near.predecessorAccountId()} may not mint`);
    assert(!this.owner_by_id.containsKey(token_id), `token ${token_id} already exists`);
    this.owner_by_id.set(token_id, receiver_id);
    this.token_metadata.set(token_id, token_metadata);
    this.internalAdd(receiver_id, token_id);
    event("nft_mint", [{ owner_id: receiver_id, token_ids: [token_id] }]);
    return { token_id, owner_id: receiver_id, metadata: token_metadata };
  }

  @call({ payableFunction: true })
  nft_transfer({ receiver_id, token_id, memo }:
    { receiver_id: string; token_id: string; approval_id?: number; memo?: string }): void {
    assert(near.attachedDeposit() === 1n, "Requires attached deposit of exactly 1 yoctoNEAR");
    const owner_id = this.owner_by_id.get(token_id);
    assert(owner_id !== null, `token ${token_id} not found`);
    const sender_id = near.predecessorAccountId();
    assert(sender_id === owner_id, `${sender_id} does not own token ${token_id}`);
    assert(receiver_id !== owner_id, "the token owner and the receiver should be different");
    this.owner_by_id.set(token_id, receiver_id);
    this.internalRemove(owner_id, token_id);
    this.internalAdd(receiver_id, token_id);
    event("nft_transfer", [{ old_owner_id: owner_id, new_owner_id: receiver_id,
      token_ids: [token_id], ...(memo ? { memo } : {}) }]);
  }

  @view({})
  nft_token({ token_id }: { token_id: string }): Token | null {
    const owner_id = this.owner_by_id.get(token_id);
    if (owner_id === null) return null;
    return { token_id, owner_id, metadata: this.token_metadata.get(token_id) ?? {} };
  }

  @view({})
  nft_tokens_for_owner({ account_id, from_index = "0", limit = 50 }:
    { account_id: string; from_index?: string; limit?: number }): Token[] {
    const ids = this.tokens_per_owner.get(account_id) ?? [];
    const start = Number(from_index);
    return ids.slice(start, start + limit).map((token_id) => ({
      token_id, owner_id: account_id, metadata: this.token_metadata.get(token_id) ?? {},
    }));
  }

  @view({})
  nft_total_supply(): string {
    return this.token_metadata.length.toString();
  }

  @view({})
  nft_tokens({ from_index = "0", limit = 50 }: { from_index?: string; limit?: number }): Token[] {
    const start = Number(from_index);
    return this.token_metadata.toArray().slice(start, start + limit).map(([token_id, metadata]) => ({
      token_id, owner_id: this.owner_by_id.get(token_id) ?? "", metadata,
    }));
  }
}
