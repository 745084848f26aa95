"""The host daemon: `tickwire run --config tickwire.toml`.

- `config.py`: the daemon's own TOML sections ([venue], [daemon]); [risk] and [[strategy]]
  are parsed by host/risk and host/strategy.
- `trader.py`: the sans-I/O core that joins books, strategies, risk, the OMS and the journal.
- `runner.py`: the adapter that owns the loop, the venue connection, timers and servers.
- `control.py`: the Unix socket `tickwire kill` and `tickwire status` speak to.
"""
