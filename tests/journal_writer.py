"""A child process for the SIGKILL test: trades against a made-up venue and journals it all.

`python -m tests.journal_writer PATH SEED` places orders, acks, fills and cancels them through
a real Oms and Journal, and after each commit prints one line to stdout:
`order <id>`, `event <seq> <order_id> <state>` or `fill <seq> <order_id> <trade_id> <pos_qty>`.
It runs until it is killed; started again on the same file, it carries on from what the
journal recovered.
"""

from __future__ import annotations

import random
import sys

from host.journal import Journal
from host.oms import ClientIds, Oms
from host.strategy.actions import PlaceOrder
from host.venue_client.events import Side
from tests.oms_helpers import MARKETS, ack, cancelled, fill


def main(path: str, seed: int) -> None:
    rng = random.Random(seed)
    journal = Journal(path)
    oms = Oms(MARKETS, ClientIds(journal.start()))
    oms.restore(journal.recover(MARKETS))  # as the daemon does after a crash
    out = sys.stdout
    now = 0
    trade = seed * 1_000_000  # trade ids stay unique across runs
    while True:
        now += 1000
        live = oms.open_orders()
        if len(live) < 5 or rng.random() < 0.3:
            req = PlaceOrder(rng.choice(["BTC-PERP", "ETH-PERP"]), rng.choice(list(Side)),
                             rng.randint(1, 9), rng.randint(900, 1100))
            order = oms.submit(req, now)
            journal.order_submitted(order)
            out.write(f"order {order.order_id}\n")
        else:
            o = rng.choice(live)
            if o.state.value == "pending":
                ev = ack(o)
            elif rng.random() < 0.15:
                ev = cancelled(o)
            else:
                trade += 1
                ev = fill(o, rng.randint(1, o.remaining), price=rng.randint(900, 1100),
                          trade_id=trade)
            events = oms.on_event(ev, now)
            seq = journal.oms_events(events)
            if type(events[0]).__name__ == "OrderFilled":
                out.write(f"fill {seq} {o.order_id} {trade} {events[0].position.qty}\n")
            else:
                out.write(f"event {seq} {o.order_id} {events[-1].order.state.value}\n")
        out.flush()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
