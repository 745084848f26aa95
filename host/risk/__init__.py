"""The software risk engine: sans-I/O checks on every order, trips, states (docs/risk.md)."""
