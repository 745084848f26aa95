"""The real host driver (host.fpga, serial backend, pyserial) against the Verilated
control_top through a pseudo-terminal bridged to the design's UART pins."""

from __future__ import annotations

import pytest

from host.fpga.errors import BadAddress, ReadOnly
from host.fpga.interface import KillSwitchLimits, open_fpga
from host.fpga.registers import MAGIC
from sim import control_design
from sim.pty_session import simulated_board


def test_host_driver_over_a_pty(tmp_path):
    limits = KillSwitchLimits(heartbeat_timeout=0, rate_tokens=100, rate_window=1_000_000,
                              max_qty=50, max_notional=10**12, collar_bp=500, max_rejects=3,
                              max_position=1000)
    with simulated_board(tmp_path) as path, \
            open_fpga("serial", port=path, timeout=2.0, retries=2) as fpga:
        assert fpga.has_fpga
        assert fpga.read("id_magic") == MAGIC
        assert fpga.read("id_build") == control_design.BUILD_ID
        fpga.write("scratch", 0xC0FFEE)
        assert fpga.read("scratch") == 0xC0FFEE
        fpga.configure(limits)
        assert fpga.limits() == limits
        with pytest.raises(ReadOnly):
            fpga.write("id_magic", 1)
        with pytest.raises(BadAddress):
            fpga.backend.read_words([0xFFFF])
