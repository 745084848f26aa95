# amaranth: UnusedElaboratable=no
"""The 1 GbE RGMII MAC: its reference model on its own, the CRC network against zlib, the DDR
layer's two implementations, then the gateware at its pins under cocotb and Verilator.

(The linter comment above: some tests build a component only to elaborate it by hand.)"""

from __future__ import annotations

import json
import random
import zlib

import pytest
from amaranth.hdl import Fragment, Instance, Module, Signal
from amaranth.sim import Simulator

from hdl.mac.crc32 import INIT, RESIDUE, crc32_next, crc32_reference
from hdl.mac.rgmii_io import RgmiiIo
from hdl.mac.rgmii_mac import RgmiiMac
from host.model import ethernet_mac as mac
from host.model.ethernet_mac import MacRx, RxError
from sim.benches.rgmii_mac import REPORT_ENV
from sim.cocotb_runner import run_bench

FRAME = bytes(range(64))


# --- the model -----------------------------------------------------------------------------

def receive(symbols):
    model = MacRx()
    return model.feed([*symbols, mac.IDLE]), model.counters


def test_good_frame_comes_back_without_its_fcs():
    (frame,), counts = receive(mac.tx_symbols(FRAME))
    assert frame.data == FRAME and frame.error is None
    assert counts["rx_frames"] == counts["rx_ok"] == 1


def test_short_frame_is_padded_on_transmit_and_flagged_unpadded_on_receive():
    (padded,), _ = receive(mac.tx_symbols(b"abc"))
    assert padded.data == b"abc" + bytes(57) and padded.error is None
    (runt,), counts = receive(mac.tx_symbols(b"abc", pad=False))
    assert runt.data == b"abc" and runt.error is RxError.LENGTH
    assert counts["rx_length_errors"] == 1


def test_lengths_at_the_limits():
    for size, error in [(59, RxError.LENGTH), (60, None), (mac.MAX_DATA, None),
                        (mac.MAX_DATA + 1, RxError.LENGTH)]:
        (frame,), _ = receive(mac.tx_symbols(bytes(size), pad=False))
        assert frame.error is error, size


def test_errors_are_ranked():
    (frame,), counts = receive(mac.tx_symbols(b"x", pad=False, corrupt_fcs=True, error_at=0))
    assert frame.error is RxError.RX_ER
    assert counts["rx_phy_errors"] == 1 and counts["rx_length_errors"] == 0
    (frame,), _ = receive(mac.tx_symbols(FRAME, corrupt_fcs=True))
    assert frame.error is RxError.FCS


@pytest.mark.parametrize("preamble", [0, 1, 7, 12])
def test_any_preamble_length_is_taken(preamble):
    (frame,), _ = receive(mac.tx_symbols(FRAME, preamble=preamble))
    assert frame.data == FRAME and frame.error is None


def test_bursts_that_are_not_frames_are_counted_apart():
    bursts = [[(mac.PREAMBLE, 1, 0)] * 5, [(0x12, 1, 0), (mac.SFD, 1, 0)],
              [(mac.PREAMBLE, 1, 0), (mac.SFD, 1, 1), (1, 1, 0)]]
    frames, counts = receive([s for b in bursts for s in (*b, mac.IDLE)])
    assert frames == [] and counts["rx_preamble_errors"] == 3 and counts["rx_frames"] == 0


def test_frame_without_data_bytes_has_no_beats():
    (frame,), counts = receive([(mac.SFD, 1, 0), (1, 1, 0), (2, 1, 0)])
    assert not frame.beats and frame.error is RxError.LENGTH and counts["rx_frames"] == 1


def test_rgmii_round_trip_and_pin_order():
    symbols = [(random.Random(n).randrange(256), n % 2, n % 3 == 0) for n in range(50)]
    symbols = [(b, dv, int(er)) for b, dv, er in symbols]
    assert mac.from_rgmii(mac.to_rgmii(symbols)) == symbols
    # Low nibble and DV on the rising edge; high nibble and DV ^ ER on the falling edge.
    assert mac.to_rgmii([(0xD5, 1, 0)]) == [(0x15, 0x1D)]
    assert mac.to_rgmii([(0x0E, 0, 1)]) == [(0x0E, 0x10)]


def test_transmit_decoder_rejects_what_a_receiver_would():
    good = mac.tx_symbols(FRAME)
    assert mac.tx_frames(good) == [(FRAME + mac.fcs(FRAME), True)]
    short_preamble = mac.tx_symbols(FRAME, preamble=6)
    assert mac.tx_frames(short_preamble)[0][1] is False
    assert mac.tx_frames(mac.tx_symbols(FRAME, error_at=3))[0][1] is False
    assert mac.tx_frames(mac.tx_symbols(FRAME, corrupt_fcs=True))[0][1] is False


# --- the CRC network -----------------------------------------------------------------------

def test_crc_reference_is_zlib_and_leaves_the_residue():
    data = random.Random(1).randbytes(300)
    crc = INIT
    for byte in data:
        crc = crc32_reference(crc, byte)
    assert crc ^ 0xFFFFFFFF == zlib.crc32(data)
    for byte in mac.fcs(data):
        crc = crc32_reference(crc, byte)
    assert crc == RESIDUE


def test_crc_network_matches_the_reference():
    rng = random.Random(2)
    cases = [(rng.getrandbits(32), rng.randrange(256)) for _ in range(64)]
    crc, byte = Signal(32), Signal(8)
    m = Module()
    out = Signal(32)
    m.d.comb += out.eq(crc32_next(crc, byte))
    got = []

    async def bench(ctx):
        for value, data in cases:
            ctx.set(crc, value)
            ctx.set(byte, data)
            got.append(ctx.get(out))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert got == [crc32_reference(crc, byte) for crc, byte in cases]


# --- the DDR layer -------------------------------------------------------------------------

class _Ecp5:
    family = "ecp5"


def _instances(fragment) -> list[str]:
    found = []
    for sub, _name, _src in fragment.subfragments:
        if isinstance(sub, Instance):
            found.append(sub.type)
        else:
            found += _instances(sub)
    return found


def test_ddr_layer_uses_the_io_cells_on_ecp5():
    cells = _instances(Fragment.get(RgmiiIo(), _Ecp5()))
    assert cells.count("IDDRX1F") == 5  # rxd and rx_ctl
    assert cells.count("ODDRX1F") == 6  # txd, tx_ctl and txc


def test_ddr_layer_refuses_a_platform_it_does_not_know():
    class Other:
        family = "ice40"
    with pytest.raises(NotImplementedError, match="no DDR cells"):
        Fragment.get(RgmiiIo(), Other())


# --- the gateware --------------------------------------------------------------------------

def test_mac_at_the_pins_matches_the_model(tmp_path, monkeypatch):
    report = tmp_path / "report.json"
    monkeypatch.setenv(REPORT_ENV, str(report))
    run_bench(RgmiiMac, name="rgmii_mac", bench_module="sim.benches.rgmii_mac",
              extra_env={REPORT_ENV: str(report)})
    figures = json.loads(report.read_text())
    assert figures["rx_latency_cycles"] > mac.FCS_BYTES
