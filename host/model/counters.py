"""The pipeline's status counters, declared once.

The model counts with these names, the gateware generates one 32-bit port per counter from
this list, and the control link's register map reads them by the same names.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Counter:
    name: str
    stage: str
    doc: str


PARSER_COUNTERS = (
    Counter("packets", "parser", "Payloads forwarded by the header filter."),
    Counter("messages", "parser", "Complete messages of a known template and the right "
                                  "length, heartbeats included, with valid field values."),
    Counter("ticks", "parser", "Market messages passed to the book stage."),
    Counter("truncated", "parser", "Payloads that ended before their header, a message or "
                                   "their msg_count messages were complete."),
    Counter("schema", "parser", "Packets with a schema version this parser does not speak; "
                                "the rest of the packet is skipped."),
    Counter("stale_packets", "parser", "Packets whose sequence is below the next expected one "
                                       "(duplicates, late reorders); skipped whole."),
    Counter("packet_gaps", "parser", "Packets whose sequence is above the next expected one."),
    Counter("unknown_template", "parser", "Messages with a template id the parser does not "
                                          "know; the rest of the packet is skipped."),
    Counter("bad_length", "parser", "Messages whose length is not their template's size, and "
                                    "packets with bytes after their last message; the rest "
                                    "is skipped."),
    Counter("bad_value", "parser", "Complete messages with an enum out of range, a market id "
                                   "of 256 or more, or a price or quantity outside the "
                                   "gateware's range; that message alone is skipped."),
)

BOOK_COUNTERS = (
    Counter("market_gaps", "book", "Market messages whose rpt_seq is not the market's next; "
                                   "the market goes stale until a BestBidOffer."),
    Counter("stale_drops", "book", "Book and trade messages ignored while their market is "
                                   "stale."),
    Counter("beyond_depth", "book", "Book-level messages at a level past the tracked depth."),
    Counter("depth_exhausted", "book", "Deletes on a side whose tracked levels were all "
                                       "filled, so the bottom level becomes unknown."),
)

TRIGGER_COUNTERS = (
    Counter("evaluations", "trigger", "Rule evaluations (one per applied book message of a "
                                      "market with a rule)."),
    Counter("intents", "trigger", "Order intents emitted."),
)

PIPELINE_COUNTERS = PARSER_COUNTERS + BOOK_COUNTERS + TRIGGER_COUNTERS
COUNTER_NAMES = tuple(c.name for c in PIPELINE_COUNTERS)


def zeroed(counters: tuple[Counter, ...]) -> dict[str, int]:
    return dict.fromkeys((c.name for c in counters), 0)
