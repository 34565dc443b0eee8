"""The roadmap's DeFi flow end to end: an AMM pool and a strategy that queries it, computes
the optimal swap, swaps and adds liquidity; once with callbacks, once with await."""

from __future__ import annotations

from math import isqrt

import pytest

from outlayer.chain.simulator import ContractSimulator

from .conftest import balance, example, methods, ok

FEE_BPS = 30
RESERVE_A, RESERVE_B = 1_000_000_000, 2_000_000_000
ZAP = 10_000_000
STRATEGIES = {"callback": "strategy_callback.js", "await": "strategy_await.js"}


def amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee: int) -> int:
    with_fee = amount_in * (10_000 - fee)
    return with_fee * reserve_out // (reserve_in * 10_000 + with_fee)


def optimal_swap(amount: int, reserve_in: int, fee: int) -> int:
    b = reserve_in * (20_000 - fee)
    return (isqrt(b * b + 4 * (10_000 - fee) * 10_000 * amount * reserve_in) - b) // (
        2 * (10_000 - fee))


def expected_zap() -> dict[str, int]:
    swapped = optimal_swap(ZAP, RESERVE_A, FEE_BPS)
    received = amount_out(swapped, RESERVE_A, RESERVE_B, FEE_BPS)
    reserve_a, reserve_b = RESERVE_A + swapped, RESERVE_B - received
    total = isqrt(RESERVE_A * RESERVE_B)
    rest = ZAP - swapped
    shares = min(rest * total // reserve_a, received * total // reserve_b)
    return {"swapped": swapped, "received": received, "shares": shares,
            "reserve_a": reserve_a + rest, "reserve_b": reserve_b + received,
            "total_shares": total + shares}


def setup_pool(sim: ContractSimulator, pool: str = "pool.test") -> None:
    sim.deploy(pool, example("amm_pool.js"))
    ok(sim.call(pool, "new", {"fee_bps": FEE_BPS}))
    ok(sim.call(pool, "deposit", {"token": "A", "amount": str(RESERVE_A)}, signer_id="lp.test"))
    ok(sim.call(pool, "deposit", {"token": "B", "amount": str(RESERVE_B)}, signer_id="lp.test"))
    ok(sim.call(pool, "add_liquidity", {"amount_a": str(RESERVE_A),
                                        "amount_b": str(RESERVE_B)}, signer_id="lp.test"))


@pytest.fixture
def defi(sim: ContractSimulator) -> ContractSimulator:
    setup_pool(sim)
    for style, file in STRATEGIES.items():
        sim.deploy(f"{style}.test", example(file))
    return sim


def test_the_optimal_swap_leaves_nothing_over(defi: ContractSimulator) -> None:
    """The zap's B all goes back into the pool: reserve B ends where it started."""
    want = expected_zap()
    assert want["reserve_b"] == RESERVE_B
    assert want["swapped"] == 4_995_054 and want["received"] == 9_910_781


@pytest.mark.parametrize("style", ["callback", "await"])
def test_zap(defi: ContractSimulator, style: str) -> None:
    strategy = f"{style}.test"
    ok(defi.call("pool.test", "deposit", {"token": "A", "amount": str(ZAP)},
                 signer_id=strategy))
    near_before = balance(defi, strategy)
    start = defi.height

    result = defi.call(strategy, "zap", {"pool": "pool.test", "amount": str(ZAP)})

    want = expected_zap()
    assert ok(result) == {"swapped": str(want["swapped"]), "received": str(want["received"]),
                          "shares": str(want["shares"])}
    assert ok(defi.view(strategy, "last_zap")) == {
        "pool": "pool.test", "swapped": str(want["swapped"]),
        "received": str(want["received"]), "shares": str(want["shares"])}
    assert ok(defi.view("pool.test", "get_pool_info")) == {
        "token_a": "A", "token_b": "B", "reserve_a": str(want["reserve_a"]),
        "reserve_b": str(want["reserve_b"]), "total_shares": str(want["total_shares"]),
        "fee_bps": FEE_BPS}
    # the strategy's ledger: all of its A went in, the B came back out
    for token in "AB":
        assert ok(defi.view("pool.test", "balance_of",
                            {"account_id": strategy, "token": token})) == "0"
    assert ok(defi.view("pool.test", "shares_of", {"account_id": strategy})) == \
        str(want["shares"])
    assert balance(defi, strategy) == near_before  # gas price 0, no deposits
    assert result.logs == [
        f"zap: swapping {want['swapped']} of {ZAP} A (expecting {want['received']} B)",
        f"{strategy} swapped {want['swapped']} A for {want['received']} B",
        f"{strategy} added {ZAP - want['swapped']} A + {want['received']} B for "
        f"{want['shares']} shares",
    ]
    # query, swap, add: a pool call per block, the strategy in between
    callbacks = {"callback": ["zap", "on_pool_info", "on_swapped", "on_added"],
                 "await": ["zap", "__ol_resume", "__ol_resume", "__ol_resume"]}[style]
    assert methods(result) == [
        (start + 1, strategy, callbacks[0], "SuccessReceiptId"),
        (start + 2, "pool.test", "get_pool_info", "SuccessValue"),
        (start + 3, strategy, callbacks[1], "SuccessReceiptId"),
        (start + 4, "pool.test", "swap", "SuccessValue"),
        (start + 5, strategy, callbacks[2], "SuccessReceiptId"),
        (start + 6, "pool.test", "add_liquidity", "SuccessValue"),
        (start + 7, strategy, callbacks[3], "SuccessValue"),
    ]
    assert result.receipt_failures == []


def test_both_styles_agree(sim: ContractSimulator) -> None:
    """On identical pools the two strategies make identical trades and leave identical
    pools."""
    results = {}
    for style, file in STRATEGIES.items():
        pool = f"pool-{style}.test"
        setup_pool(sim, pool)
        sim.deploy(f"{style}.test", example(file))
        ok(sim.call(pool, "deposit", {"token": "A", "amount": str(ZAP)},
                    signer_id=f"{style}.test"))
        results[style] = (ok(sim.call(f"{style}.test", "zap", {"pool": pool,
                                                               "amount": str(ZAP)})),
                          ok(sim.view(pool, "get_pool_info")))
    assert results["callback"] == results["await"]


@pytest.mark.parametrize("style", ["callback", "await"])
def test_a_failed_swap_changes_nothing_in_the_pool(defi: ContractSimulator,
                                                   style: str) -> None:
    """The strategy never deposited: the swap fails (its ledger is empty), the pool is
    untouched, the zap fails with the pool's reason behind it."""
    strategy = f"{style}.test"
    before = defi.state("pool.test")
    result = defi.call(strategy, "zap", {"pool": "pool.test", "amount": str(ZAP)})
    assert result.status == "failure"
    assert defi.state("pool.test") == before
    failures = [f for f in result.receipt_failures]
    assert len(failures) == 2  # the swap, and the strategy step that needed it
    assert "has 0 A in the pool's ledger" in str(failures[0])
    if style == "await":
        assert "'swap' on pool.test failed" in str(failures[1])
    else:
        assert "the swap on pool.test failed" in str(failures[1])
