"""The control-link register map: the one declaration of every register.

The gateware bank (hdl/register_bank.py) gets one port per value from it, the host driver
looks registers up in it by name, and `tickwire docs` writes docs/register-map.md from it.
To add a register, append a value to the end of its group; to add a group, give it a base
that leaves room. Addresses are word addresses (one per 32-bit register).
"""

from __future__ import annotations

from host.fpga.protocol import PROTOCOL_VERSION
from host.fpga.regmap import BitField, Group, RegisterMap, counters, ro, rw, w1c, w1p
from host.model import counters as model_counters
from host.model.kill_switch import ALL_REASONS as ALL_TRIP_REASONS
from host.model.kill_switch import LIMIT_DOCS, REASON_BITS, TripReason

MAGIC = 0x4C43_5754  # "TWCL" read as little-endian bytes: a tickwire control link
VERSION_MAJOR = 1
VERSION_MINOR = 0
VERSION_WORD = VERSION_MINOR | VERSION_MAJOR << 8 | PROTOCOL_VERSION << 16

# Trip reasons: the bits of `ks_reasons`, as host/model/kill_switch.py declares them.
TRIP_REASONS: tuple[tuple[str, str], ...] = tuple(
    (reason.name.lower(), reason.doc) for reason in TripReason)
REASON_FIELDS = tuple(BitField(name, reason.bit_length() - 1, 1, doc)
                      for (name, doc), reason in zip(TRIP_REASONS, TripReason, strict=True))
ALL_REASONS = int(ALL_TRIP_REASONS)
_LIMIT_UNITS = {"heartbeat_timeout": "cycles", "rate_window": "cycles", "max_qty": "lots",
                "max_notional": "ticks x lots", "collar_bp": "bp", "max_position": "lots"}

ID = Group("id", 0x000, "Identity: what design and map the board carries, and a scratch "
           "register for link tests.", (
    ro("id_magic", 32, f"Always {MAGIC:#010x} (`TWCL` as bytes): a tickwire control link."),
    ro("id_version", 32, "Versions of the link protocol and of the register map.", fields=(
        BitField("minor", 0, 8, "Map minor version: registers added."),
        BitField("major", 8, 8, "Map major version: registers moved or changed."),
        BitField("protocol", 16, 8, "Request/response protocol version."))),
    ro("id_map_hash", 32, "Hash of this register map (addresses, names, access, widths): the "
       "host refuses a board whose map differs from its own."),
    ro("id_build", 32, "Build id the design was constructed with (by default a hash of the "
       "gateware sources)."),
    rw("scratch", 32, "Free for link tests: reads back what was written."),
))

LINK = Group("link", 0x010, "Control-link statistics.", counters("link", (
    ("requests", "Requests executed (replays of a duplicate sequence number not included)."),
    ("errors", "Error responses sent (bad frame, CRC, length, op, address, read-only)."),
    ("dropped", "Frames dropped because they arrived while a response was still going out."),
    ("uart_errors", "UART bytes with a bad stop bit (the frame they were in is refused)."),
    ("replays", "Duplicate sequence numbers answered from the saved response."),
)))

KS_CONFIG = Group("ks_config", 0x020, "Kill-switch limits (docs/risk-rules.md). All zero, "
                  "the reset state, lets no order through.", tuple(
    rw(f"ks_{name}", bits, doc, unit=_LIMIT_UNITS.get(name, ""))
    for name, (bits, doc) in LIMIT_DOCS.items()))

KS_CONTROL = Group("ks_control", 0x030, "Kill-switch commands and host events.", (
    w1p("ks_heartbeat", 0, "The host is alive: restarts the heartbeat watchdog."),
    w1p("ks_kill", 0, "Trip the switch now (reason `manual`)."),
    w1p("ks_arm", 32, "Arm sequence: write a nonce, then its bitwise complement, with every "
        "trip reason cleared first. Anything else counts an arm failure."),
    rw("ks_event_qty", 32, "Quantity of the next `ks_event` (a fill's size).", unit="lots"),
    w1p("ks_event", 32, "Report an order event from the venue.", fields=(
        BitField("kind", 0, 8, "1 ack, 2 reject, 3 fill (EventKind)."),
        BitField("side", 8, 8, "Fill side: 1 buy, 2 sell (OrderSide)."),
        BitField("market", 16, 8, "Market index."))),
))

KS_STATUS = Group("ks_status", 0x040, "Kill-switch state and gate counters.", (
    ro("ks_state", 32, "Switch state.", fields=(
        BitField("armed", 0, 1, "1 while orders may pass."),
        BitField("kill_pin", 1, 1, "The kill input pin, as the board's top sees it."),
        BitField("arm_pending", 2, 1, "A nonce waits for its complement: one more `ks_arm` "
                 "write, of any value, ends that sequence (as a failure)."))),
    w1c("ks_reasons", REASON_BITS, "Trip reasons latched since the last clear; write ones to "
        "clear those whose condition has gone.", fields=REASON_FIELDS),
    ro("ks_trip_time", 64, "Cycle of the first trip since the last arm.", unit="cycles"),
    ro("ks_cycle", 64, "Free-running cycle counter (the switch's timestamp).", unit="cycles"),
    *counters("ks", (
        ("passed", "Orders that passed the gate."),
        ("dropped_pipeline", "Pipeline orders dropped while tripped."),
        ("dropped_host", "Host orders dropped while tripped."),
        ("arm_failures", "Arm attempts refused (wrong complement or reasons present)."),
    )),
))

HOST_ORDER = Group("host_order", 0x060, "An order the host sends out through the FPGA: write "
                   "the fields, then `order_send`. It goes through the egress gate.", (
    rw("order_market", 16, "Market id."),
    rw("order_side", 8, "1 buy, 2 sell (OrderSide)."),
    rw("order_price", 64, "Limit price.", signed=True, unit="ticks"),
    rw("order_qty", 64, "Quantity.", signed=True, unit="lots"),
    rw("order_client_id", 64, "Client order id."),
    w1p("order_send", 0, "Send the order held in the fields above."),
    ro("order_sent", 32, "Host orders handed to the gate."),
    ro("order_overruns", 32, "`order_send` writes refused because the previous order had "
       "not left yet."),
))

TOB = Group("tob", 0x080, "Top of book of one market: write `tob_index`, then read.", (
    rw("tob_index", 8, "Market to read."),
    ro("tob_valid", 32, "Which sides are present.", fields=(
        BitField("bid", 0, 1, "Bid side present."), BitField("ask", 1, 1, "Ask side present."))),
    ro("tob_bid_price", 32, "Best bid price.", signed=True, unit="ticks"),
    ro("tob_bid_qty", 32, "Best bid quantity.", unit="lots"),
    ro("tob_ask_price", 32, "Best ask price.", signed=True, unit="ticks"),
    ro("tob_ask_qty", 32, "Best ask quantity.", unit="lots"),
))

FILTER_COUNTERS = Group("filter", 0x100, "Header filter counters (frames in, and why "
                        "frames were dropped).", tuple(counters("filter", (
    ("frames", "Frames in."), ("accepted", "Frames passed to the parser."),
    ("runt", "Frames too short."), ("not_ipv4", "Not IPv4 (or a bad version/IHL)."),
    ("bad_checksum", "IPv4 header checksum wrong."),
    ("bad_length", "IPv4 or UDP length disagrees with the frame."),
    ("fragmented", "IPv4 fragments."), ("not_udp", "Not UDP."),
    ("not_for_us", "Destination address or port not ours."),
))))

def from_model_counters(declared) -> list:
    return [ro(f"{c.stage}_{c.name}", 32, c.doc) for c in declared]


# The pipeline's counters are declared once, in host/model/counters.py: one RO register each,
# named <stage>_<counter>.
PARSER_COUNTERS = Group("parser", 0x120, "Feed parser counters.",
                        tuple(from_model_counters(model_counters.PARSER_COUNTERS)))
BOOK_COUNTERS = Group("book", 0x140, "Top-of-book stage counters.",
                      tuple(from_model_counters(model_counters.BOOK_COUNTERS)))
TRIGGER_COUNTERS = Group("trigger", 0x150, "Trigger stage counters.",
                         tuple(from_model_counters(model_counters.TRIGGER_COUNTERS)))

TRIGGER_RULES = Group("trigger_rules", 0x160, "Trigger rule programming (host/model/trigger.py "
                      "gives the rules' meaning): write the staging fields, then `rule_commit` "
                      "copies them into the slot of market `rule_index`.", (
    rw("rule_index", 8, "Rule slot: the market whose book updates evaluate the rule."),
    rw("rule_kind", 2, "0 none (the slot is off), 1 arbitrage, 2 limit (RuleKind)."),
    rw("rule_target", 8, "Arbitrage: the secondary market."),
    rw("rule_threshold_bp", 16, "Arbitrage: mid difference that fires the rule.", unit="bp"),
    rw("rule_buy_below", 32, "Limit: buy at the ask when the ask is at or below this.",
       signed=True, unit="ticks"),
    rw("rule_sell_above", 32, "Limit: sell at the bid when the bid is at or above this.",
       signed=True, unit="ticks"),
    rw("rule_qty", 32, "Quantity of each intent the rule emits.", unit="lots"),
    w1p("rule_commit", 0, "Copy the staging fields into slot `rule_index`."),
    rw("trigger_client_order_id_base", 64, "Client order id of the first intent; each intent "
       "takes the next one."),
))

FILTER_CONFIG = Group("filter_config", 0x180, "Which datagrams the header filter accepts.", (
    rw("filter_dst_ip", 32, "Destination IPv4 address (as the 32-bit big-endian number)."),
    rw("filter_dst_port", 16, "Destination UDP port."),
))

REGISTERS = RegisterMap((ID, LINK, KS_CONFIG, KS_CONTROL, KS_STATUS, HOST_ORDER, TOB,
                         FILTER_COUNTERS, PARSER_COUNTERS, BOOK_COUNTERS, TRIGGER_COUNTERS,
                         TRIGGER_RULES, FILTER_CONFIG))
MAP_HASH = REGISTERS.digest
