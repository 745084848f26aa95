"""Restart and reconcile against the real local venue over loopback.

Boot 1 trades through the OMS and the journal, placing its orders over REST, then "crashes"
(the journal is closed with events it never saw). Meanwhile the venue fills one order,
cancels another, part-fills a third, and our key trades in a market we have no orders in.
Boot 2 recovers from the journal, reads the venue's open orders and positions over REST,
reconciles, cancels what is not ours, and must then agree with the venue exactly.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import aiohttp

from host.journal import Journal
from host.oms import ClientIds, Oms, OrderState
from host.oms.reconcile import apply, reconcile
from host.strategy.actions import PlaceOrder
from host.venue_client.events import OrderAck, OrderType, Side, VenueOrder, VenuePosition
from host.venue_client.markets import MarketTable
from sim.venue import TEST_ACCOUNT, TEST_API_KEY, AccountSpec, Venue, VenueConfig

OTHER_KEY = "pf_test_reconcile_counterparty"
BUY, SELL = Side.BUY, Side.SELL


class Rest:
    """Just enough REST for the test (the daemon uses host/venue_client/rest.py)."""

    def __init__(self, http: aiohttp.ClientSession, base: str, markets: MarketTable | None):
        self.http, self.base, self.markets = http, base, markets

    async def call(self, method: str, path: str, key: str = TEST_API_KEY, body=None) -> dict:
        async with self.http.request(method, self.base + path, json=body,
                                     headers={"X-API-Key": key}) as r:
            data = await r.json()
            assert r.status == 200, data
            return data

    async def place(self, order_id, market, side, qty, price, otype="limit", key=TEST_API_KEY):
        spec = self.markets[market]
        return await self.call("POST", "/api/v1/orders", key, {
            "client_id": order_id, "market": market, "side": side.value, "type": otype,
            "qty": str(spec.qty(qty)), "price": str(spec.price(price))})

    async def open_orders(self) -> list[VenueOrder]:
        out = []
        for o in (await self.call("GET", "/api/v1/orders"))["orders"]:
            spec = self.markets[o["market"]]
            out.append(VenueOrder(o["order_id"], o["market"], Side(o["side"]),
                                  OrderType(o["type"]), spec.to_ticks(o["price"]),
                                  spec.to_lots(o["qty"]), spec.to_lots(o["filled_qty"]),
                                  spec.to_lots(o["remaining_qty"])))
        return out

    async def positions(self) -> list[VenuePosition]:
        out = []
        for p in (await self.call("GET", "/api/v1/positions"))["positions"]:
            lots = self.markets[p["market"]].to_lots(p["qty"])
            out.append(VenuePosition(p["market"], -lots if p["side"] == "short" else lots,
                                     Decimal(str(p["entry_price"])),
                                     Decimal(str(p["realized_pnl"])),
                                     Decimal(str(p["unrealized_pnl"]))))
        return out


async def _place(rest: Rest, journal: Journal, oms: Oms, market, side, qty, price,
                 *, send=True, see_ack=True):
    """What the daemon does: the OMS makes the order, the journal records it, then it goes."""
    order = oms.submit(PlaceOrder(market, side, qty, price), 1000)
    journal.order_submitted(order)
    if send:
        answer = await rest.place(order.order_id, market, side, qty, price)
        assert answer["status"] == "open"
        if see_ack:
            ev = OrderAck(order.order_id, market, side, OrderType.LIMIT, price, qty, 0)
            journal.oms_events(oms.on_event(ev, 2000))
    return order


async def _scenario(tmp_path):
    path = tmp_path / "journal.db"
    cfg = VenueConfig(accounts=(TEST_ACCOUNT, AccountSpec(OTHER_KEY, "counterparty")))
    async with Venue(cfg) as venue, aiohttp.ClientSession() as http:
        rest = Rest(http, venue.rest_url, None)
        rest.markets = MarketTable.from_json((await rest.call("GET", "/api/v1/markets"))
                                             ["markets"])
        t = rest.markets
        btc, eth = t["BTC-PERP"].to_ticks, t["ETH-PERP"].to_ticks

        # -- boot 1 -------------------------------------------------------------------------
        journal = Journal(path)
        oms = Oms(rest.markets, ClientIds(journal.start()))
        a = await _place(rest, journal, oms, "BTC-PERP", BUY, 10, btc("49000"))
        b = await _place(rest, journal, oms, "BTC-PERP", SELL, 5, btc("51000"))
        c = await _place(rest, journal, oms, "BTC-PERP", BUY, 3, btc("48000"))
        e = await _place(rest, journal, oms, "ETH-PERP", SELL, 10, eth("3000"))
        never_sent = await _place(rest, journal, oms, "SOL-PERP", BUY, 20, 100_000,
                                  send=False)
        ack_lost = await _place(rest, journal, oms, "SOL-PERP", BUY, 20, 99_000,
                                see_ack=False)
        await rest.place("tw1-99", "BTC-PERP", BUY, 1, btc("47000"))     # ours, not journaled
        await rest.place("manual-1", "ETH-PERP", BUY, 2, eth("2000"))    # not ours
        journal.close()   # the crash: nothing below reaches the OMS or the journal

        # -- while away ---------------------------------------------------------------------
        await rest.place("cp-1", "BTC-PERP", BUY, 5, btc("51000"), "ioc", OTHER_KEY)  # fills b
        await rest.call("DELETE", f"/api/v1/orders/{c.order_id}")                    # c gone
        await rest.place("cp-2", "ETH-PERP", BUY, 4, eth("3000"), "ioc", OTHER_KEY)  # 4 of e
        spot = t["BTC-SPOT"]
        await rest.place("cp-3", "BTC-SPOT", SELL, 1000, spot.to_ticks("50000"), "limit",
                         OTHER_KEY)
        await rest.place("manual-2", "BTC-SPOT", BUY, 1000, spot.to_ticks("50000"), "ioc")

        # -- boot 2: recover, then reconcile ------------------------------------------------
        journal = Journal(path)
        oms = Oms(rest.markets, ClientIds(journal.start()))
        oms.restore(journal.recover(rest.markets))
        assert {o.order_id for o in oms.open_orders()} == {
            a.order_id, b.order_id, c.order_id, e.order_id, never_sent.order_id,
            ack_lost.order_id}
        rec = reconcile(oms, await rest.open_orders(), await rest.positions())

        assert {(g.order.order_id, g.filled, g.why) for g in rec.gone} == {
            (b.order_id, True, "reconcile:filled"),
            (c.order_id, False, "reconcile:cancelled"),
            (never_sent.order_id, False, "reconcile:cancelled")}
        assert {(x.order.order_id, x.missed_ack, x.missed_fill) for x in rec.behind} == {
            (e.order_id, False, 4), (ack_lost.order_id, True, 0)}
        assert [v.order_id for v in rec.adopt] == ["tw1-99"]
        assert [v.order_id for v in rec.to_cancel] == ["manual-1"]
        assert [(d.market, d.ours.qty, d.venue_qty) for d in rec.positions] == [
            ("BTC-SPOT", 0, 1000)]
        assert rec.conflicts == () and rec.unknown_markets == ()

        journal.oms_events(apply(oms, rec, 5000))
        for vo in rec.to_cancel:
            await rest.call("DELETE", f"/api/v1/orders/{vo.order_id}")
        assert oms.order(b.order_id).state is OrderState.FILLED
        assert oms.order(c.order_id).state is OrderState.CANCELLED
        assert oms.order(e.order_id).filled == 4
        assert oms.order(ack_lost.order_id).state is OrderState.OPEN
        assert {p.market: p.qty for p in oms.positions().values() if p.qty} == {
            "BTC-PERP": -5, "ETH-PERP": -4, "BTC-SPOT": 1000}

        again = reconcile(oms, await rest.open_orders(), await rest.positions())
        assert again.clean, again
        journal.close()

        # -- boot 3: the journal alone now gives the reconciled state -----------------------
        with Journal(path) as journal:
            journal.start()
            rec3 = journal.recover(rest.markets)
            assert list(rec3.open_orders) == oms.open_orders()
            assert rec3.positions == oms.positions()
            fresh = Oms(rest.markets, ClientIds(3))
            fresh.restore(rec3)
            assert reconcile(fresh, await rest.open_orders(), await rest.positions()).clean


def test_restart_reconciles_with_the_real_venue(tmp_path):
    asyncio.run(asyncio.wait_for(_scenario(tmp_path), timeout=60))
