"""The Purple Flea client: what the daemon speaks to the venue.

- `markets.py`: market specs from `GET /api/v1/markets`; decimals become integer ticks and
  lots here, once, on the way in (DESIGN decision 3).
- `events.py`: the typed events every venue message decodes to, and the enums they share.
  The OMS, risk, strategies and the daemon see only these, never JSON.
"""
