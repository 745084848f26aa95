"""The daemon's configuration: one TOML file, frozen dataclasses, errors that name the key.

[venue] and [daemon] are read here; [risk] and every [[strategy]] are handed to their owners'
parsers (host/risk/config.py, host/strategy/config.py), so each rule is validated once, next
to the code that enforces it. tickwire.example.toml documents every key.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field


class DaemonConfigError(ValueError):
    """The configuration is unusable; `key` is the dotted key at fault."""

    reason = "bad_config"

    def __init__(self, key: str, message: str, *, path: str | None = None):
        where = f"{path}: " if path else ""
        super().__init__(f"{where}[{key}] {message}")
        self.key = key
        self.path = path


@dataclass(frozen=True)
class VenueSection:
    ws_url: str = "ws://127.0.0.1:9000/trading"
    rest_url: str = "http://127.0.0.1:9001"
    api_key_env: str = "TICKWIRE_API_KEY"
    api_key_file: str | None = None
    book_depth: int = 10


@dataclass(frozen=True)
class DaemonSection:
    journal: str = "tickwire.sqlite"
    control_socket: str = "tickwire.sock"
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9464             # 0: no endpoint
    uvloop: bool = True
    gc_freeze: bool = True
    cpu: int = -1                        # pin the process to this CPU; -1: unpinned
    progress_s: float = 1.0              # progress line period; 0 turns it off
    fpga: str = "none"


@dataclass(frozen=True)
class DaemonConfig:
    venue: VenueSection = field(default_factory=VenueSection)
    daemon: DaemonSection = field(default_factory=DaemonSection)
    risk: object = None                  # host.risk.config.RiskConfig
    strategies: tuple = ()               # host.strategy.config strategy configs
    path: str | None = None

    def with_paths_under(self, directory: str) -> DaemonConfig:
        """Relative journal and socket paths resolve against the config file's folder."""
        d = self.daemon
        fix = {name: getattr(d, name) for name in ("journal", "control_socket")}
        fix = {k: v if os.path.isabs(v) else os.path.join(directory, v) for k, v in fix.items()}
        return DaemonConfig(self.venue, DaemonSection(**{**d.__dict__, **fix}), self.risk,
                            self.strategies, self.path)


def _section(cls, table: dict, name: str, path: str | None):
    if not isinstance(table, dict):
        raise DaemonConfigError(name, "must be a table", path=path)
    known = cls.__dataclass_fields__
    for key in table:
        if key not in known:
            raise DaemonConfigError(f"{name}.{key}", f"is not a known key (known: "
                                    f"{', '.join(sorted(known))})", path=path)
    values = {}
    for key, value in table.items():
        default = known[key].default
        expect = type(default) if default is not None else None
        if expect is bool and not isinstance(value, bool):
            raise DaemonConfigError(f"{name}.{key}", "must be true or false", path=path)
        if expect in (int, float) and (isinstance(value, bool)
                                       or not isinstance(value, int | float)):
            raise DaemonConfigError(f"{name}.{key}", "must be a number", path=path)
        if expect is str and not isinstance(value, str):
            raise DaemonConfigError(f"{name}.{key}", "must be a string", path=path)
        values[key] = value
    return cls(**values)


def parse_config(doc: dict, path: str | None = None) -> DaemonConfig:
    from host.risk.config import parse_risk
    from host.strategy.config import parse_strategies

    for key in doc:
        if key not in ("venue", "daemon", "risk", "strategy"):
            raise DaemonConfigError(key, "is not a known section", path=path)
    venue = _section(VenueSection, doc.get("venue", {}), "venue", path)
    daemon = _section(DaemonSection, doc.get("daemon", {}), "daemon", path)
    if daemon.fpga not in ("none", "sim", "serial", "auto"):
        raise DaemonConfigError("daemon.fpga", "must be none, sim, serial or auto", path=path)
    if not 0 <= daemon.metrics_port <= 65535:
        raise DaemonConfigError("daemon.metrics_port", "must be 0..65535", path=path)
    if not 1 <= venue.book_depth <= 100:
        raise DaemonConfigError("venue.book_depth", "must be 1..100", path=path)
    risk = parse_risk(doc.get("risk", {}))
    strategies = tuple(parse_strategies(doc.get("strategy", [])))
    return DaemonConfig(venue, daemon, risk, strategies, path)


def load_config(path: str) -> DaemonConfig:
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise DaemonConfigError("file", "does not exist", path=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise DaemonConfigError("file", f"is not valid TOML: {exc}", path=path) from None
    config = parse_config(doc, path)
    return config.with_paths_under(os.path.dirname(os.path.abspath(path)))
