"""The daemon's configuration: one TOML file, frozen dataclasses, errors that name the key.

[venue] and [daemon] are read here; [risk] and every [[strategy]] are handed to their owners'
parsers (host/risk/config.py, host/strategy/config.py), so each rule is validated once, next
to the code that enforces it. tickwire.example.toml documents every key.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace


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
class FpgaSection:
    """[fpga]: the colo feed, where order intents arrive, and the link to the gateware.
    Times are wall-clock milliseconds; the daemon converts them to the backend's cycles."""

    feed_host: str = "127.0.0.1"         # unicast address to bind, or the group's interface
    feed_port: int = 0                   # 0: no colo feed (strategies stay on WebSocket books)
    feed_group: str = ""                 # multicast group on `feed_host`, joined when given
    intents_host: str = "127.0.0.1"      # order intents from the FPGA arrive here (UDP)
    intents_port: int = 0                # 0: any free port (the sim is told which)
    serial_port: str = "/dev/ttyUSB0"
    baudrate: int = 115200
    link_timeout_ms: float = 250.0       # per register access over the serial link
    clock_hz: float = 125e6              # the board design's clock
    heartbeat_ms: float = 50.0
    heartbeat_timeout_ms: float = 500.0  # the gateware's watchdog
    mirror_ms: float = 200.0             # compare one market's top with the gateware's
    sim_dir: str = "fpga-sim"            # the simulated FPGA's work folder


@dataclass(frozen=True)
class DaemonConfig:
    venue: VenueSection = field(default_factory=VenueSection)
    daemon: DaemonSection = field(default_factory=DaemonSection)
    risk: object = None                  # host.risk.config.RiskConfig
    strategies: tuple = ()               # host.strategy.config strategy configs
    path: str | None = None
    fpga: FpgaSection = field(default_factory=FpgaSection)

    def with_paths_under(self, directory: str) -> DaemonConfig:
        """Relative journal and socket paths resolve against the config file's folder."""
        d = self.daemon
        fix = {name: getattr(d, name) for name in ("journal", "control_socket")}
        fix = {k: v if os.path.isabs(v) else os.path.join(directory, v) for k, v in fix.items()}
        sim_dir = self.fpga.sim_dir
        if not os.path.isabs(sim_dir):
            sim_dir = os.path.join(directory, sim_dir)
        return DaemonConfig(self.venue, DaemonSection(**{**d.__dict__, **fix}), self.risk,
                            self.strategies, self.path, replace(self.fpga, sim_dir=sim_dir))


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
        if key not in ("venue", "daemon", "risk", "strategy", "fpga"):
            raise DaemonConfigError(key, "is not a known section", path=path)
    venue = _section(VenueSection, doc.get("venue", {}), "venue", path)
    daemon = _section(DaemonSection, doc.get("daemon", {}), "daemon", path)
    if daemon.fpga not in ("none", "sim", "serial", "auto"):
        raise DaemonConfigError("daemon.fpga", "must be none, sim, serial or auto", path=path)
    if not 0 <= daemon.metrics_port <= 65535:
        raise DaemonConfigError("daemon.metrics_port", "must be 0..65535", path=path)
    if not 1 <= venue.book_depth <= 100:
        raise DaemonConfigError("venue.book_depth", "must be 1..100", path=path)
    fpga = _section(FpgaSection, doc.get("fpga", {}), "fpga", path)
    for key in ("feed_port", "intents_port"):
        if not 0 <= getattr(fpga, key) <= 65535:
            raise DaemonConfigError(f"fpga.{key}", "must be 0..65535", path=path)
    for key in ("clock_hz", "heartbeat_ms", "heartbeat_timeout_ms", "mirror_ms", "baudrate",
                "link_timeout_ms"):
        if getattr(fpga, key) <= 0:
            raise DaemonConfigError(f"fpga.{key}", "must be positive", path=path)
    if fpga.heartbeat_timeout_ms < 2 * fpga.heartbeat_ms:
        raise DaemonConfigError("fpga.heartbeat_timeout_ms", "must be at least twice "
                                "fpga.heartbeat_ms, or every late beat trips the switch",
                                path=path)
    risk = parse_risk(doc.get("risk", {}))
    strategies = tuple(parse_strategies(doc.get("strategy", [])))
    return DaemonConfig(venue, daemon, risk, strategies, path, fpga)


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
