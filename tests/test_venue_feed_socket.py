"""The colo feed over real UDP sockets on loopback: unicast and multicast, the same events
as the engine, heartbeats when idle, and injected loss seen as gaps."""

from __future__ import annotations

import time

from host import wire
from sim.venue import FaultConfig, FeedConfig, GeneratorConfig, VenueConfig
from sim.venue.level_updates import FEED_DEPTH
from sim.venue.testing import FeedBook, FeedSocket
from sim.venue.threaded import VenueThread


def _checkpoint(venue: VenueThread):
    """Flush the feed and take every book and the next sequence, in one venue-loop step."""
    def take():
        v = venue.venue
        v._flush_feed()
        books = {i: (b.bids.top(FEED_DEPTH), b.asks.top(FEED_DEPTH), b.bbo())
                 for i, b in v.core.engine.books.items()}
        return v.core.encoder.next_sequence, books
    return venue.call(take)


def _read_until(feed: FeedSocket, reader: FeedBook, sequence: int) -> None:
    def caught_up(payloads=()):
        while payloads:
            reader.on_payload(payloads.pop(0))
        return reader.next_sequence is not None and reader.next_sequence >= sequence
    if not caught_up():
        feed.drain(10.0, until=caught_up)


def test_unicast_feed_from_the_generator_matches_the_engine():
    feed = FeedSocket(("127.0.0.1", 0))  # listening before the venue sends its first packet
    config = VenueConfig(source=GeneratorConfig(seed=3, step_ms=5),
                         feed=FeedConfig(port=feed.sock.getsockname()[1]))
    with VenueThread(config) as venue:
        reader = FeedBook()
        for _ in range(3):
            time.sleep(0.05)
            sequence, books = _checkpoint(venue)
            _read_until(feed, reader, sequence)
            assert reader.next_sequence == sequence
            for market_id, (bids, asks, bbo) in books.items():
                view = reader.markets[market_id]
                assert (view.bids, view.asks, view.bbo) == (bids, asks, bbo)
        feed.close()
    assert reader.packet_gaps == 0 and reader.late_packets == 0 and not reader.market_gaps
    assert reader.messages["BookLevel"] > 100 and reader.messages["Trade"] > 0
    assert reader.max_payload <= 1400


def test_multicast_feed_on_loopback():
    group = FeedConfig(group="239.255.77.1")
    with VenueThread(VenueConfig(feed=group, source=GeneratorConfig(step_ms=5))) as venue:
        assert venue.feed_addr[0] == "239.255.77.1"
        feed = FeedSocket(venue.feed_addr, group=True)
        payloads = feed.drain(5.0, until=lambda p: len(p) >= 20)
        feed.close()
    headers = [wire.decode_packet(p).header for p in payloads]
    assert len(headers) >= 20
    for a, b in zip(headers, headers[1:], strict=False):
        assert b.sequence == a.sequence + a.msg_count


def test_heartbeats_when_idle():
    with VenueThread(VenueConfig(feed=FeedConfig(heartbeat_s=0.05, session=77))) as venue:
        feed = FeedSocket(venue.feed_addr)
        payloads = feed.drain(5.0, until=lambda p: len(p) >= 3)
        feed.close()
    packets = [wire.decode_packet(p) for p in payloads[:3]]
    assert [p.header.session for p in packets] == [77] * 3
    assert [p.header.sequence for p in packets] == [1, 2, 3]
    assert all(type(m).__name__ == "Heartbeat" for p in packets for m in p.messages)


def test_feed_loss_over_sockets_shows_as_gaps():
    config = VenueConfig(source=GeneratorConfig(step_ms=5),
                         faults=FaultConfig(feed_loss=0.2, feed_reorder=0.1, seed=5))
    with VenueThread(config) as venue:
        feed = FeedSocket(venue.feed_addr)
        reader = FeedBook()

        def enough(payloads):
            while payloads:
                reader.on_payload(payloads.pop(0))
            return reader.packet_gaps >= 5 and reader.late_packets >= 2
        feed.drain(10.0, until=enough)
        feed.close()
        stats = venue.call(venue.venue.core.stats)
    assert reader.packet_gaps >= 5 and reader.late_packets >= 2
    assert stats["feed_dropped"] > 0 and stats["feed_reordered"] > 0
