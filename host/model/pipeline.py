"""The whole model: feed parser, top of book and trigger, wired as the gateware wires them."""

from __future__ import annotations

from dataclasses import dataclass, field

from host.model.events import BookTop, Tick, TickKind
from host.model.feed_parser import FeedParser
from host.model.top_of_book import TopOfBook
from host.model.trigger import Rule, Trigger
from host.wire import OrderIntent


@dataclass(frozen=True)
class PipelineConfig:
    depth: int = 4
    client_order_id_base: int = 0
    rules: tuple[tuple[int, Rule], ...] = field(default=())


class Pipeline:
    """Sans-I/O: `payload()` takes one UDP payload and returns every event it caused, in order:
    PacketGap, MarketGap, BookTop and OrderIntent records."""

    def __init__(self, config: PipelineConfig = PipelineConfig()) -> None:
        self.config = config
        self.parser = FeedParser()
        self.book = TopOfBook(config.depth)
        self.trigger = Trigger(client_order_id_base=config.client_order_id_base)
        for market, rule in config.rules:
            self.trigger.write_rule(market, rule)

    def payload(self, buf: bytes) -> list:
        out: list = []
        book, trigger = self.book, self.trigger
        for event in self.parser.payload(buf):
            if isinstance(event, Tick):
                out.extend(book.tick(event))
                if book.applied and event.kind in (TickKind.BOOK, TickKind.BBO):
                    intent = trigger.evaluate(event.market, event.rpt_seq, book.books)
                    if intent is not None:
                        out.append(intent)
            else:
                out.append(event)
        return out

    @property
    def counters(self) -> dict[str, int]:
        return {**self.parser.counters, **self.book.counters, **self.trigger.counters}


def tops(events: list) -> list[BookTop]:
    return [e for e in events if isinstance(e, BookTop)]


def intents(events: list) -> list[OrderIntent]:
    return [e for e in events if isinstance(e, OrderIntent)]
