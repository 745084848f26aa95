"""The seed article's own client code, run unchanged against the local venue.

The code is read from shared/seed/ at test time (it is not copied into this repository), and
only two things are changed: the websockets keyword of its era (`extra_headers`, now
`additional_headers`) and the endpoint constants, pointed at the local venue. Skipped, with a
message, when the seed article is not there.
"""

from __future__ import annotations

import asyncio
import sys
import time
import types
from pathlib import Path

import pytest

from sim.venue import TEST_ACCOUNT, TEST_API_KEY, AccountSpec, GeneratorConfig, VenueConfig
from sim.venue.testing import WsClient
from sim.venue.threaded import VenueThread

REPO = Path(__file__).resolve().parents[1]
SEED_DIRS = [REPO.parent / "shared" / "seed", REPO / ".." / ".." / "shared" / "seed",
             Path("/work/shared/seed")]
MAKER_KEY = "pf_test_seed_maker"


def _seed_text() -> str:
    for folder in SEED_DIRS:
        files = sorted(folder.glob("*.txt")) if folder.is_dir() else []
        if files:
            return files[0].read_text(encoding="utf-8")
    pytest.skip("the seed article is not in shared/seed/ (looked in "
                + ", ".join(str(d) for d in SEED_DIRS) + ")")


def _code_block(text: str, title_ends: str, next_section: str) -> str:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.rstrip().endswith(title_ends)) + 1
    end = next(i for i in range(start, len(lines)) if lines[i].strip() == next_section)
    return "\n".join(lines[start:end]).replace("extra_headers=", "additional_headers=")


def _load(title_ends: str, next_section: str, **constants) -> dict:
    """The code block as a module (dataclasses look their module up in sys.modules)."""
    source = _code_block(_seed_text(), title_ends, next_section)
    module = types.ModuleType(f"seed_article_{len(sys.modules)}")
    sys.modules[module.__name__] = module
    exec(compile(source, f"<seed article: {title_ends}>", "exec"), module.__dict__)
    module.__dict__.update(constants)
    return module.__dict__


async def _until(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_the_seed_order_manager():
    config = VenueConfig(accounts=(TEST_ACCOUNT, AccountSpec(MAKER_KEY, "seed-maker")))
    with VenueThread(config) as venue:
        seed = _load("Async Event Loop Python", "Market Microstructure Exploitation")

        async def go():
            maker = await WsClient.connect(venue.ws_url, MAKER_KEY)
            await maker.send(type="order", order_id="ask", market="BTC-PERP", side="sell",
                             price=60000.0, qty=0.005)
            await maker.next("order_ack")
            manager = seed["HFTOrderManager"](TEST_API_KEY, venue.ws_url)
            await manager.connect()
            await manager.subscribe_book("BTC-PERP")
            runner = asyncio.ensure_future(manager.run())
            side = seed["OrderSide"]
            status = seed["OrderStatus"]
            taken = await manager.submit_order("BTC-PERP", side.BUY, 60000.0, 0.002)
            await _until(lambda: taken.status is status.FILLED)
            assert taken.filled_qty == pytest.approx(0.002) and taken.latency_us > 0
            resting = await manager.submit_order("BTC-PERP", side.BUY, 59000.0, 0.001)
            await _until(lambda: resting.status is status.OPEN)
            await _until(lambda: manager.books["BTC-PERP"].best_bid is not None)
            assert manager.books["BTC-PERP"].best_bid.price == 59000.0
            assert manager.books["BTC-PERP"].best_ask.qty == pytest.approx(0.003)
            await manager.cancel_order(resting.order_id)
            await _until(lambda: manager.books["BTC-PERP"].best_bid is None)
            for _ in range(5):  # five rejects in a row trip the seed's kill switch
                await manager.submit_order("NOPE-PERP", side.BUY, 1.0, 1.0)
            await _until(lambda: manager._kill_switch)
            with pytest.raises(RuntimeError):
                await manager.submit_order("BTC-PERP", side.BUY, 59000.0, 0.001)
            runner.cancel()
            await manager._ws.close()
            await maker.close()
        asyncio.run(asyncio.wait_for(go(), 60))


def test_the_seed_latency_arbitrage_agent_finds_and_takes_the_lag():
    pytest.importorskip("aiohttp")
    config = VenueConfig(source=GeneratorConfig(seed=11, jump_prob=0.05))
    with VenueThread(config) as venue:
        seed = _load("Latency Arbitrage with uvloop Python",
                     "Risk: Latency Spikes, Runaway Algorithms, and Kill Switches",
                     PF_WS_URL=venue.ws_url, PF_REST_URL=venue.rest_url)
        agent = seed["LatencyArbitrageAgent"](api_key=TEST_API_KEY,
                                              primary_market="BTC-SPOT",
                                              secondary_market="BTC-PERP")

        async def go():
            task = asyncio.ensure_future(agent.run())
            await _until(lambda: agent._arb_count >= 2, timeout=30)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        asyncio.run(asyncio.wait_for(go(), 60))
        account = venue.call(lambda: venue.venue.core.by_key[TEST_API_KEY])
        assert venue.call(lambda: account.fees_paid) > 0
