"""The real host driver (host.fpga, serial backend, pyserial) against the Verilated
control_top through a pseudo-terminal bridged to the design's UART pins: identity, limits,
arming, a manual kill, a limit trip, a wrong nonce, re-arming, host events; then the CLI on
the same pty.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from host.fpga.errors import ArmRefused, BadAddress, ReadOnly
from host.fpga.interface import EventKind, Limits, open_fpga
from host.fpga.registers import MAGIC
from sim import control_design
from sim.pty_session import simulated_board

# The bench's stand-in feed quotes market 1 at bid 10100 / ask 10110.
MARKET, ASK = 1, 10_110
LIMITS = Limits(heartbeat_timeout=0, rate_tokens=100, rate_window=1_000_000, max_qty=50,
                max_notional=10**9, collar_bp=500, max_rejects=3, max_position=1000)


def send(fpga, qty: int, client_id: int) -> None:
    fpga.send_order(market=MARKET, side=1, price=ASK, qty=qty, client_id=client_id)


def test_host_driver_over_a_pty(tmp_path):
    with simulated_board(tmp_path) as path:
        with open_fpga("serial", port=path, timeout=2.0, retries=2) as fpga:
            trips = []
            fpga.on_trip(trips.append)
            assert fpga.has_fpga
            assert fpga.read("id_magic") == MAGIC
            assert fpga.read("id_build") == control_design.BUILD_ID
            with pytest.raises(ReadOnly):
                fpga.write("id_magic", 1)
            with pytest.raises(BadAddress):
                fpga.backend.read_words([0xFFFF])

            status = fpga.status()
            assert not status.armed and status.reasons == {"reset"}  # as it comes out of reset
            fpga.write("tob_index", MARKET)
            assert fpga.read_many(["tob_valid", "tob_bid_price", "tob_ask_price"]) == {
                "tob_valid": 3, "tob_bid_price": ASK - 10, "tob_ask_price": ASK}
            fpga.configure(LIMITS)
            assert fpga.limits() == LIMITS
            assert fpga.arm().armed

            send(fpga, qty=10, client_id=1)
            status = fpga.status()
            assert status.armed and status.passed == 1

            # A manual kill: tripped, reported once, host orders dropped.
            fpga.kill()
            status, event = fpga.poll()
            assert not status.armed and status.reasons == {"manual"}
            assert event is not None and event.trip_time == status.trip_time > 0
            send(fpga, qty=10, client_id=2)
            assert fpga.status().dropped_host == 1

            # A wrong complement does not arm, and is counted.
            fpga.clear()
            with pytest.raises(ArmRefused) as refused:
                fpga.arm_steps(0x1234_5678, 0x1234_5678)
            assert refused.value.why == "not_armed"
            status = fpga.status()
            assert not status.armed and status.arm_failures == 1 and not status.reasons
            assert fpga.arm().armed

            # A limit trip: a quantity over max_qty is dropped and trips QTY.
            send(fpga, qty=LIMITS.max_qty + 1, client_id=3)
            status, event = fpga.poll()
            assert not status.armed and status.reasons == {"qty"}
            assert status.dropped_host == 2 and status.passed == 1
            assert [t.reasons for t in trips] == [{"manual"}, {"qty"}]

            # Re-armed, it passes orders again.
            assert fpga.arm().armed
            send(fpga, qty=LIMITS.max_qty, client_id=4)
            assert fpga.status().passed == 2
            assert fpga.read("order_sent") == 4

            # Host events reach the switch through `ks_event`'s fields.
            for _ in range(LIMITS.max_rejects):
                fpga.report_event(EventKind.REJECT)
            assert fpga.status().reasons == {"rejects"}
            fpga.report_event(EventKind.FILL, market=2, side=1, qty=LIMITS.max_position + 1)
            assert fpga.status().reasons == {"rejects", "position"}
            with pytest.raises(ArmRefused) as refused:
                fpga.arm()  # POSITION cannot clear while market 2 is over its limit
            assert refused.value.why == "reasons_present"
            fpga.report_event(EventKind.FILL, market=2, side=2, qty=LIMITS.max_position + 1)
            assert fpga.arm().armed

        cli = subprocess.run([sys.executable, "-m", "host.cli", "fpga", "status", "--port", path,
                              "--timeout", "2"], capture_output=True, text=True, timeout=120)
        assert cli.returncode == 0, cli.stderr
        assert "kill switch ARMED" in cli.stdout and "orders passed 2" in cli.stdout
