"""What the daemon says when it stops, and what `tickwire status` prints.

Both are plain data first (a dict a test can check, JSON over the control socket) and text
second. Latencies are percentiles from the metrics histograms, never averages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LATENCIES = (("tick_to_order_seconds", "tick to order"),
             ("event_to_order_seconds", "requote to order"),
             ("ack_seconds", "order to ack"),
             ("first_fill_seconds", "order to first fill"))


def latency_table(metrics) -> dict[str, dict]:
    out = {}
    for name, label in LATENCIES:
        for hist in metrics.values(name).values():
            out[label] = {"count": hist.count,
                          **{f"p{q:g}": hist.percentile(q) for q in (50, 90, 99)}}
    return out


@dataclass
class Summary:
    stop_reason: str
    seconds: float
    orders: dict[str, int]
    fills: int
    positions: dict[str, dict]
    pnl_usd: dict[str, float]
    latency: dict[str, dict]
    risk_state: str
    risk_events: list[dict]
    notes: list[str] = field(default_factory=list)
    exit_code: int = 0
    strategies: dict[str, dict] = field(default_factory=dict)
    trigger: dict | None = None

    def render(self) -> str:
        lines = [f"tickwire: stopped after {self.seconds:.1f} s ({self.stop_reason})",
                 "  orders   " + ", ".join(f"{k} {v}" for k, v in self.orders.items()),
                 f"  fills    {self.fills}"]
        for market, pos in sorted(self.positions.items()):
            lines.append(f"  position {market:<9} {pos['qty']:+} lots  realised "
                         f"{pos['realized_usd']:+.4f}  unrealised {pos['unrealized_usd']:+.4f}"
                         f"  fees {pos['fees_usd']:.4f} USDC")
        lines.append("  PnL      " + "  ".join(f"{k} {v:+.4f}" for k, v in self.pnl_usd.items())
                     + " USDC")
        lines.append("  latency  (µs)        count      p50      p90      p99")
        for label, row in self.latency.items():
            cells = "".join(f"{(row[p] or 0) / 1000:>9.1f}" for p in ("p50", "p90", "p99"))
            lines.append(f"    {label:<19}{row['count']:>6}{cells}")
        lines.append(f"  risk     state {self.risk_state}, {len(self.risk_events)} events")
        for ev in self.risk_events[-12:]:
            lines.append(f"    {ev['kind']:<10} {ev['reason']:<22} {ev.get('detail', '')}")
        for name, status in self.strategies.items():
            lines.append(f"  strategy {name}: " + ", ".join(
                f"{k} {v}" for k, v in status.items() if not isinstance(v, dict | list)))
        lines += _trigger_lines(self.trigger)
        for note in self.notes[-8:]:
            lines.append(f"  note     {note}")
        return "\n".join(lines)


def render_status(answer: dict) -> str:
    if not answer.get("ok"):
        return f"tickwire status: {answer.get('error')}: {answer.get('message')}"
    lines = [f"tickwire daemon: up {answer['uptime_s']:.1f} s, venue link "
             f"{'up' if answer['link_up'] else 'DOWN'}, risk {answer['risk']['state']}, "
             f"fpga {answer.get('fpga', 'none')}"]
    lines.append(f"  open orders {answer['open_orders']}, orders sent {answer['orders_sent']}, "
                 f"fills {answer['fills']}")
    for market, pos in sorted(answer.get("positions", {}).items()):
        lines.append(f"  {market:<9} {pos['qty']:+} lots  realised {pos['realized_usd']:+.4f} "
                     f"USDC")
    for trip in answer["risk"].get("trips", []):
        lines.append(f"  trip     {trip}")
    lines += _trigger_lines(answer.get("trigger"))
    for label, row in answer.get("latency", {}).items():
        lines.append(f"  {label:<19} p50 {(row['p50'] or 0) / 1000:.1f} µs, "
                     f"p99 {(row['p99'] or 0) / 1000:.1f} µs ({row['count']})")
    return "\n".join(lines)


def summarise(daemon) -> Summary:
    """The daemon's summary after it stopped (the session is shut down; its data remain)."""
    s = daemon.session
    seconds = (daemon.stopped_ns - daemon.started_ns) / 1e9
    if s is None or s.trader is None:
        return Summary(daemon.stop_reason, seconds, {}, 0, {}, {}, {}, "not started", [],
                       exit_code=1)
    journal = s.final_journal_summary
    by_state = dict(journal.orders_by_state) if journal is not None else {}
    orders = {"sent": daemon.metrics.counter("orders_total").value, **by_state}
    positions = s.positions()
    pnl = {"realised": sum(p["realized_usd"] for p in positions.values()),
           "unrealised": sum(p["unrealized_usd"] for p in positions.values()),
           "fees": -sum(p["fees_usd"] for p in positions.values())}
    pnl["net"] = sum(pnl.values())
    risk = s.trader.risk.status()
    return Summary(daemon.stop_reason, seconds, orders,
                   daemon.metrics.counter("fills_total").value, positions, pnl,
                   latency_table(daemon.metrics), str(risk.state), list(s.trader.risk_log),
                   list(s.notes), exit_code=daemon.exit_code,
                   strategies={n: st.status() for n, st in s.trader.strategies.items()},
                   trigger=daemon.final_trigger_status)


def _trigger_lines(trigger: dict | None) -> list[str]:
    """Where intents come from, the mirror's score and any failover (fpga-modes.md)."""
    if not trigger:
        return []
    lines = [f"  trigger  {trigger['path']} path, backend {trigger['backend']}"
             + (f" (auto picked {trigger['picked']})" if trigger.get("picked") else "")]
    link = trigger.get("link")
    if link:
        m = link["mirror"]
        switch = link.get("switch") or {}
        state = ("armed" if switch.get("armed") else "not armed "
                 + ",".join(switch.get("reasons", [])))
        if link["state"] == "lost":
            state = f"unknown (last seen {state.strip()})"
        lines.append(f"  fpga     link {link['state']}, switch {state.strip()}, mirror "
                     f"{m['agreed']}/{m['compared']} agree, {m['disagreed']} disagree")
    if trigger.get("failover"):
        f = trigger["failover"]
        lines.append(f"  failover from {f['from']} at {f['uptime_s']:.1f} s: {f['reason']}; "
                     f"{len(f['cancelled'])} open orders cancelled")
    for line in trigger.get("plan", []):
        lines.append(f"  plan     {line}")
    return lines
