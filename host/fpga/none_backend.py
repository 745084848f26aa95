"""The `none` backend: no board. The software path's kill switch behind the same registers.

The register map is kept in Python (a BankModel, the gateware bank's reference), and its
kill-switch registers drive host/model's KillSwitch exactly as the gateware's bank drives
hdl/kill_switch.py: limits on write, strobes for heartbeat, kill, arm and events, a clear on
`ks_reasons`, host orders through the switch. The daemon's code is the same for both
backends; `has_fpga` tells them apart.

Time is `clock()` (monotonic nanoseconds by default), so on this backend the `ks_` limits in
cycles (`ks_heartbeat_timeout`, `ks_rate_window`) are in nanoseconds, and `ks_cycle` and
`ks_trip_time` read that clock.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from types import SimpleNamespace

from host.fpga.bank_model import BankModel
from host.fpga.errors import BadAddress, ReadOnly
from host.fpga.registers import MAGIC, REGISTERS, VERSION_WORD
from host.model.kill_switch import (
    InvalidEvent,
    KillSwitch,
    Limits,
    OrderSource,
)

_LIMIT_REGISTERS = {f"ks_{name}": name for name in Limits.__dataclass_fields__}


class NoneBackend:
    name = "none"
    has_fpga = False
    clock_hz = 1e9  # the ks_ limits count nanoseconds of clock()

    def __init__(self, *, kill_switch: KillSwitch | None = None,
                 clock: Callable[[], int] = time.monotonic_ns,
                 on_order: Callable[[SimpleNamespace], None] | None = None):
        """`kill_switch`: the software path's switch, shared with its order path (made here if
        not given). `on_order` receives each host order the switch lets through."""
        self.clock = clock
        self.kill_switch = kill_switch if kill_switch is not None else KillSwitch(now=clock())
        self.on_order = on_order
        self.orders_sent = 0
        status = self._status
        sources = {
            "id_magic": lambda: MAGIC,
            "id_version": lambda: VERSION_WORD,
            "id_map_hash": lambda: REGISTERS.digest,
            "id_build": lambda: 0,
            "ks_state": lambda: int(status().armed) | int(status().arm_pending) << 2,
            "ks_reasons": lambda: int(status().reasons),
            "ks_trip_time": lambda: status().trip_time,
            "ks_cycle": self.clock,
            "ks_passed": lambda: status().passed,
            "ks_dropped_pipeline": lambda: status().dropped_pipeline,
            "ks_dropped_host": lambda: status().dropped_host,
            "ks_arm_failures": lambda: status().arm_failures,
            "order_sent": lambda: self.orders_sent,
        }
        self.bank = BankModel(REGISTERS, sources=sources, on_pulse=self._pulse,
                              on_clear=self._clear, on_write=self._write)
        # The bank starts from the switch's limits (a shared switch may have some already).
        limits = self.kill_switch.limits
        for register, name in _LIMIT_REGISTERS.items():
            for part, word in enumerate(REGISTERS.words_of(register)):
                self.bank.write(word.address, getattr(limits, name) >> (32 * part))

    def _status(self):
        return self.kill_switch.snapshot(self.clock())

    # -- the backend interface ---------------------------------------------------------------

    def read_words(self, addresses: Sequence[int]) -> list[int]:
        for address in addresses:
            if not self.bank.known(address):
                raise BadAddress(f"no register at {address:#06x}", status=4, detail=address)
        return [self.bank.read(a) or 0 for a in addresses]

    def write_word(self, address: int, value: int) -> None:
        if not self.bank.known(address):
            raise BadAddress(f"no register at {address:#06x}", status=4, detail=address)
        if not self.bank.writable(address):
            raise ReadOnly(f"{REGISTERS.at[address].name} is read-only", status=5,
                           detail=address)
        self.bank.write(address, value)

    def close(self) -> None:
        pass

    # -- what the bank drives ----------------------------------------------------------------

    def _write(self, name: str, value: int) -> None:
        if name in _LIMIT_REGISTERS:
            held = {field: self.bank.get(register)
                    for register, field in _LIMIT_REGISTERS.items()}
            self.kill_switch.configure(Limits(**held), self.clock())

    def _clear(self, name: str, mask: int) -> None:
        if name == "ks_reasons":
            self.kill_switch.clear(mask, self.clock())

    def _pulse(self, name: str, value: int) -> None:
        now = self.clock()
        ks = self.kill_switch
        if name == "ks_heartbeat":
            ks.heartbeat(now)
        elif name == "ks_kill":
            ks.kill(now)
        elif name == "ks_arm":
            ks.arm(value, now)
        elif name == "ks_event":
            fields = {f.name: (value >> f.lsb) & ((1 << f.width) - 1)
                      for f in REGISTERS.value["ks_event"].fields}
            # The gateware ignores an event it cannot take, and so does its model.
            with contextlib.suppress(InvalidEvent):
                ks.event(fields["kind"], fields["market"], fields["side"],
                         self.bank.get("ks_event_qty"), now)
        elif name == "order_send":
            self._send_order(now)

    def _send_order(self, now: int) -> None:
        get = self.bank.get
        order = SimpleNamespace(market_id=get("order_market"), side=get("order_side"),
                                price=get("order_price"), qty=get("order_qty"),
                                client_order_id=get("order_client_id"))
        self.orders_sent += 1
        verdict = self.kill_switch.order(order, OrderSource.HOST, now)
        if verdict.passed and self.on_order is not None:
            self.on_order(order)
