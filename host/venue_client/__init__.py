"""The Purple Flea client: what the daemon speaks to the venue.

- `markets.py`: market specs from `GET /api/v1/markets`; decimals become integer ticks and
  lots here, once, on the way in (DESIGN decision 3).
- `events.py`: the typed events every venue message decodes to, and the enums they share.
  The OMS, risk, strategies and the daemon see only these, never JSON.
- `codec.py`: JSON frames <-> typed events (orjson, integer ticks and lots, ProtocolError).
- `book.py`: the L2 book from snapshot + numbered updates; SequenceGap; TopOfBook.
- `session.py`: the sans-I/O session state machine (auth, subscribe, ping, backoff, resync).
- `ws_adapter.py`: VenueConnection, the async adapter owning the WebSocket.
- `rest.py`: RestClient for account work; `credentials.py`: the API key, never printed.
See docs/venue-client.md.
"""
