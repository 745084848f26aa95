"""The cut-through feed parser: every way a payload can go wrong, and what survives it."""

import pytest

from host import wire
from host.model.events import PacketGap, TickKind
from host.model.feed_parser import FeedParser
from host.wire import BookAction, Side


def _level(seq, market=0, qty=5, side=Side.BID):
    return wire.BookLevel(flags=0, market_id=market, side=side, action=BookAction.NEW,
                          rpt_seq=seq, level=0, order_count=1, price=100, qty=qty)


def _packet(messages, sequence=1, session=1):
    return wire.encode_packet(messages, session=session, sequence=sequence, send_time=0)


def test_sequence_gaps_and_stale_packets():
    p = FeedParser()
    assert len(p.payload(_packet([_level(1), _level(2)], sequence=10))) == 2
    events = p.payload(_packet([_level(3)], sequence=15))
    assert events[0] == PacketGap(12, 15) and events[1].kind == TickKind.BOOK
    assert p.payload(_packet([_level(4)], sequence=12)) == []          # late: skipped whole
    assert p.counters["stale_packets"] == 1 and p.counters["packet_gaps"] == 1
    assert len(p.payload(_packet([_level(4)], sequence=3, session=2))) == 1  # new session


@pytest.mark.parametrize("cut", range(0, 24 + 32 + 16, 3))
def test_truncation_keeps_complete_messages_only(cut):
    payload = _packet([_level(1), wire.MarketStatus(flags=0, market_id=3, status=2, reason=0,
                                                    rpt_seq=1)])
    p = FeedParser()
    ticks = p.payload(payload[:cut])
    assert len(ticks) == (cut >= 24 + 32) + 0
    assert p.counters["truncated"] == 1


def test_framing_faults_skip_the_rest_and_value_faults_skip_one():
    good = _packet([_level(1), _level(2), _level(3)])
    lying = bytearray(good)
    lying[24 + 32:24 + 34] = (40).to_bytes(2, "little")
    unknown = bytearray(good)
    unknown[24 + 32 + 2] = 99
    bad_value = _packet([_level(1), _level(2, qty=1 << 31), _level(3)])
    cases = [(bytes(lying), "bad_length", 1), (bytes(unknown), "unknown_template", 1),
             (bad_value, "bad_value", 2), (good + bytes(8), "bad_length", 3)]
    for payload, counter, survivors in cases:
        p = FeedParser()
        assert len(p.payload(payload)) == survivors, counter
        assert p.counters[counter] == 1, counter


def test_schema_and_market_range():
    p = FeedParser()
    other = bytearray(_packet([_level(1)]))
    other[6] = 2
    assert p.payload(bytes(other)) == [] and p.counters["schema"] == 1
    assert p.payload(_packet([_level(1, market=256)])) == []
    assert p.counters["bad_value"] == 1
