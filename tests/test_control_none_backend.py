"""The `none` backend: the software path's kill switch behind the same FPGA interface."""

from __future__ import annotations

import pytest

from host.fpga.errors import ArmRefused, BadAddress, ReadOnly
from host.fpga.interface import EventKind, Limits, open_fpga
from host.fpga.registers import MAGIC

LIMITS = Limits(heartbeat_timeout=1_000_000, rate_tokens=10, rate_window=100_000,
                max_qty=50, max_notional=10**9, collar_bp=500, max_rejects=2,
                max_position=100)


class FakeClock:
    def __init__(self):
        self.now = 1_000

    def __call__(self) -> int:
        self.now += 10  # every look at the clock is a little later, as on a real one
        return self.now


def open_none():
    clock = FakeClock()
    passed = []
    fpga = open_fpga("none", clock=clock, on_order=passed.append)
    fpga.configure(LIMITS)
    clock.now += LIMITS.rate_window  # the token bucket starts empty and fills in one window
    fpga.backend.kill_switch.book_top(1, 10_100, 10_110, clock())
    return fpga, clock, passed


def test_the_same_interface_drives_the_software_switch():
    fpga, clock, passed = open_none()
    assert not fpga.has_fpga and fpga.name == "none"
    assert fpga.read("id_magic") == MAGIC
    assert fpga.limits() == LIMITS == fpga.backend.kill_switch.limits
    assert fpga.status().reasons == {"reset"}
    assert fpga.arm().armed
    fpga.send_order(market=1, side=1, price=10_110, qty=5, client_id=9)
    assert [o.client_order_id for o in passed] == [9]
    fpga.kill()
    status, event = fpga.poll()
    assert status.reasons == {"manual"} and event.trip_time == status.trip_time
    fpga.send_order(market=1, side=1, price=10_110, qty=5, client_id=10)
    assert len(passed) == 1 and fpga.status().dropped_host == 1
    with pytest.raises(ReadOnly):
        fpga.write("ks_passed", 0)
    with pytest.raises(BadAddress):
        fpga.backend.read_words([0xFFFF])


def test_rejects_and_fills_reach_the_switch():
    fpga, clock, _ = open_none()
    fpga.arm()
    fpga.report_event(EventKind.FILL, market=1, side=1, qty=LIMITS.max_position + 1)
    assert fpga.status().reasons == {"position"}
    fpga.report_event(EventKind.FILL, market=1, side=2, qty=LIMITS.max_position + 1)
    fpga.arm()
    fpga.report_event(EventKind.REJECT)
    fpga.report_event(EventKind.REJECT)
    assert fpga.status().reasons == {"rejects"}


def test_a_half_done_arm_sequence_is_ended_before_arming():
    fpga, clock, _ = open_none()
    fpga.write("ks_arm", 0xABCD)  # an earlier host wrote a nonce and went away
    assert fpga.status().arm_pending
    status = fpga.arm()
    assert status.armed and status.arm_failures == 1


def test_arming_refuses_while_a_reason_holds():
    fpga, clock, _ = open_none()
    fpga.arm()
    fpga.report_event(EventKind.FILL, market=1, side=1, qty=LIMITS.max_position + 1)
    with pytest.raises(ArmRefused) as refused:
        fpga.arm()
    assert refused.value.why == "reasons_present"


def test_the_watchdog_runs_on_the_clock():
    fpga, clock, _ = open_none()
    fpga.arm()
    clock.now += LIMITS.heartbeat_timeout // 2
    fpga.heartbeat()
    clock.now += LIMITS.heartbeat_timeout // 2
    assert fpga.status().armed
    clock.now += LIMITS.heartbeat_timeout
    assert fpga.status().reasons == {"watchdog"}


def test_cli_without_a_port_uses_the_none_backend(capsys):
    from host.cli import main

    assert main(["fpga", "regs", "scratch", "--write", "scratch=0x55"]) == 0
    assert "scratch" in capsys.readouterr().out
    assert main(["fpga", "status"]) == 0
    assert "kill switch TRIPPED  reasons: reset" in capsys.readouterr().out
    assert main(["fpga", "regs", "--write", "bogus=1"]) == 1
    assert "unknown_register" in capsys.readouterr().err
    assert main(["fpga", "status", "--backend", "serial"]) == 2
