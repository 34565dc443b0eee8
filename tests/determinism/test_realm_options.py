"""allow_math_random / allow_date_now: deterministic per block, different across blocks.

Math.random is checked against an independent Python implementation of the generator the
realm documents (sfc32 seeded from near.randomSeed(), guest/realm_prelude.js), so the
values are not merely stable but the specified ones.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from outlayer.chain import blocks
from outlayer.chain.simulator import ContractSimulator
from outlayer.js.executor import QuickJSExecutor

M32 = 0xFFFFFFFF


def sfc32_randoms(seed: bytes, count: int) -> list[float]:
    """Math.random() values of a call whose near.randomSeed() is `seed`."""
    a, b, c, d = 0, 0, 0, 1

    def step() -> int:
        nonlocal a, b, c, d
        t = (a + b + d) & M32
        d = (d + 1) & M32
        a = b ^ (b >> 9)
        b = (c + (c << 3)) & M32
        c = ((((c << 21) | (c >> 11)) & M32) + t) & M32
        return t

    def word(i: int) -> int:
        return int.from_bytes(seed[i:i + 4].ljust(4, b"\0"), "little")

    for i in range(0, len(seed), 12):
        a ^= word(i)
        b ^= word(i + 4)
        c ^= word(i + 8)
        for _ in range(4):
            step()
    for _ in range(12):
        step()
    out = []
    for _ in range(count):
        hi = step() >> 5
        lo = step() >> 6
        out.append((hi * 67108864 + lo) / 9007199254740992)
    return out


RANDOM = """
export function draw({ n }) {
  const seed = Array.from(near.randomSeed(), (b) => b.toString(16).padStart(2, '0')).join('');
  const values = [];
  for (let i = 0; i < n; i++) values.push(Math.random());
  return { seed, height: String(near.blockHeight()), values };
}
export function many() {
  const seen = new Set();
  let min = 1, max = 0;
  for (let i = 0; i < 2000; i++) {
    const x = Math.random();
    seen.add(x); min = Math.min(min, x); max = Math.max(max, x);
  }
  return [seen.size, min >= 0, max < 1];
}
export function clock() {
  const a = Date.now();
  let spin = 0;
  for (let i = 0; i < 20000; i++) spin += i;
  return { now: [a, Date.now()], made: new Date().getTime(), text: Date(),
           expected_text: new Date(a).toString(), ts: String(near.blockTimestamp()), spin };
}
"""


@pytest.fixture(scope="module")
def sim() -> Iterator[ContractSimulator]:
    # gas_price=0 keeps block heights as the test computes them (no refund blocks).
    with ContractSimulator(db_path=":memory:", gas_price=0) as s:
        s.deploy("open.test", RANDOM, realm={"allow_math_random": True, "allow_date_now": True})
        s.deploy("closed.test", RANDOM)
        yield s


def test_python_model_is_not_trivial() -> None:
    one = sfc32_randoms(b"\x01" * 32, 3)
    assert one != sfc32_randoms(b"\x02" * 32, 3)
    assert len(set(one)) == 3 and all(0 <= x < 1 for x in one)


def test_math_random_is_sfc32_of_the_block_seed(sim: ContractSimulator) -> None:
    first = sim.call("open.test", "draw", {"n": 5})
    second = sim.call("open.test", "draw", {"n": 5})
    assert first.ok and second.ok, (first.error, second.error)
    for res in (first, second):
        height = int(res.result["height"])
        seed = blocks.block_seed(sim.chain_seed, height)
        assert res.result["seed"] == seed.hex()
        assert res.result["values"] == sfc32_randoms(seed, 5)
    assert first.result["height"] != second.result["height"]
    assert first.result["values"] != second.result["values"]


def test_math_random_is_the_same_within_a_block(sim: ContractSimulator) -> None:
    """A view runs at the latest block: it draws what the call of that block drew."""
    call = sim.call("open.test", "draw", {"n": 4})
    view = sim.view("open.test", "draw", {"n": 4})
    assert call.ok and view.ok
    assert view.result == call.result


def test_math_random_is_the_same_in_every_run_of_a_block() -> None:
    ex = QuickJSExecutor(realm={"allow_math_random": True})
    runs = [ex.execute_contract(RANDOM, "draw", {"n": 3}) for _ in range(3)]
    assert all(r.ok for r in runs)
    assert runs[0].result == runs[1].result == runs[2].result
    assert runs[0].result["values"] == sfc32_randoms(blocks.block_seed(blocks.CHAIN_SEED, 1), 3)


def test_math_random_values_look_random(sim: ContractSimulator) -> None:
    res = sim.call("open.test", "many")
    assert res.result == [2000, True, True]


def test_date_now_is_the_block_time(sim: ContractSimulator) -> None:
    first = sim.call("open.test", "clock")
    second = sim.call("open.test", "clock")
    for res in (first, second):
        assert res.ok, res.error
        ms = int(res.result["ts"]) // 1_000_000
        assert res.result["now"] == [ms, ms]  # constant during the call
        assert res.result["made"] == ms
        assert res.result["text"] == res.result["expected_text"]
        assert res.result["text"].endswith("GMT+0000")
    assert second.result["now"][0] - first.result["now"][0] == blocks.BLOCK_TIME_NS // 1_000_000


def test_options_belong_to_one_contract(sim: ContractSimulator) -> None:
    """The same code deployed without the options still refuses (same snapshot cache)."""
    res = sim.call("closed.test", "draw", {"n": 1})
    assert res.error is not None and res.error["kind"] == "JSException"
    assert "Math.random() is not available in OutLayer contracts" in res.error["message"]
    res = sim.call("closed.test", "clock")
    assert res.error is not None
    assert "Date.now() is not available in OutLayer contracts" in res.error["message"]
    again = sim.call("open.test", "draw", {"n": 1})
    assert again.ok, again.error


def test_allow_fetch_is_refused() -> None:
    from outlayer.errors import UserError

    with pytest.raises(UserError, match="allow_fetch is refused"):
        QuickJSExecutor(realm={"allow_fetch": True})
