"""Figures of the simulated FPGA (sim/fpga_loop.py), measured through its real channels.

    python -m sim.fpga_loop_figures [--clock-hz HZ] [--seconds S] [--feed-rate N]

1. Sustained rate: with pacing out of reach (`--clock-hz 1e9`), the simulated cycles per
   wall second the bench keeps while a host heartbeats and polls over the pty and the feed
   sends N datagrams a second; idle too. This is what the pacing rate must stay below.
2. Intent latency: at the pacing rate, datagrams sent one at a time; for each that makes an
   intent (host.model says which), the wall time from sendto() to the intent's arrival.
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

from host.fpga.interface import FpgaInterface, Limits
from host.fpga.pipeline_registers import set_filter, write_rule
from host.fpga.serial_backend import SerialBackend
from host.model.trigger import Rule, RuleKind
from sim.book_stream import BookStream
from sim.fpga_loop import CLOCK_HZ, FeedAddress, SimulatedFpga
from sim.loop_shared import datagram_frame, ip_int
from sim.system_scenario import SystemModel

HOST = "127.0.0.1"
RULES = [(0, Rule(RuleKind.ARBITRAGE, target=1, threshold_bp=0, qty=1)),
         (1, Rule(RuleKind.LIMIT, buy_below=100_004, sell_above=99_996, qty=1))]
LIMITS = Limits(heartbeat_timeout=0, rate_tokens=0, rate_window=0, max_qty=50,
                max_notional=10**12, collar_bp=500, max_rejects=0, max_position=10**9)


def _open(work_dir: Path, clock_hz: float, intents: socket.socket):
    sim = SimulatedFpga(work_dir, FeedAddress(HOST, 0), intents.getsockname(),
                        wall_limit_s=900, clock_hz=clock_hz).start()
    fpga = FpgaInterface(SerialBackend(sim.pty_path, timeout=2, retries=2,
                                       clock_hz=sim.clock_hz))
    return sim, fpga


def sustained(work_dir: Path, seconds: float, feed_rate: float) -> tuple[dict, dict]:
    """Reports of an idle run and of a busy one, both unpaced."""
    reports = []
    for busy in (False, True):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as intents:
            intents.bind((HOST, 0))
            sim, fpga = _open(work_dir / ("busy" if busy else "idle"), 1e9, intents)
            try:
                if busy:
                    stop = threading.Event()
                    beats = threading.Thread(target=_heartbeat, args=(fpga, stop))
                    beats.start()
                    stream = BookStream(markets=4, seed=1, paired=True)
                    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as feed:
                        end = time.monotonic() + seconds
                        while time.monotonic() < end:
                            feed.sendto(stream.packet(max_messages=4), (HOST, sim.feed.port))
                            time.sleep(1 / feed_rate)
                    stop.set()
                    beats.join()
                else:
                    time.sleep(seconds)
            finally:
                fpga.close()
                sim.stop()
            reports.append(sim.report())
    return reports[0], reports[1]


def _heartbeat(fpga: FpgaInterface, stop: threading.Event) -> None:
    while not stop.wait(0.05):
        fpga.heartbeat()
        fpga.poll()


def latency(work_dir: Path, clock_hz: float, count: int) -> list[float]:
    """Wall seconds from a datagram's sendto() to the arrival of the intent it caused."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as intents, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as feed:
        intents.bind((HOST, 0))
        feed.bind((HOST, 0))
        sim, fpga = _open(work_dir / "latency", clock_hz, intents)
        try:
            dst = (sim.feed.dst_ip, sim.feed.port)
            model = SystemModel(dst_ip=ip_int(HOST), dst_port=dst[1], client_order_id_base=1)
            set_filter(fpga, ip_int(HOST), dst[1])
            fpga.write("trigger_client_order_id_base", 1)
            for market, rule in RULES:
                write_rule(fpga, market, rule)
                model.write_rule(market, rule)
            fpga.configure(LIMITS)
            model.configure(LIMITS)
            nonce = random.getrandbits(32)
            fpga.arm(nonce)
            model.arm(nonce)
            stream = BookStream(markets=2, seed=2, paired=True)
            out: list[float] = []
            while len(out) < count:
                payload = stream.packet(max_messages=2)
                expect = len(model.frames([datagram_frame(payload, src=feed.getsockname(),
                                                          dst=dst)]))
                sent = time.monotonic()
                feed.sendto(payload, dst)
                intents.settimeout(10)
                for n in range(expect):
                    intents.recv(256)
                    if n == 0:  # the datagram's first intent gives its latency
                        out.append(time.monotonic() - sent)
                time.sleep(0.02)
            return out
        finally:
            fpga.close()
            sim.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.fpga_loop_figures")
    parser.add_argument("--clock-hz", type=float, default=CLOCK_HZ)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--feed-rate", type=float, default=50, help="datagrams per second")
    parser.add_argument("--intents", type=int, default=40)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        idle, busy = sustained(work, args.seconds, args.feed_rate)
        print(f"unpaced, idle: {idle['cycles_per_s']:.0f} cycles/s over {idle['wall_s']:.1f} s")
        print(f"unpaced, heartbeat+poll every 50 ms and {args.feed_rate:g} datagrams/s: "
              f"{busy['cycles_per_s']:.0f} cycles/s over {busy['wall_s']:.1f} s "
              f"({busy['frames_in']} frames, {busy['pty_to_design']} bytes to the design, "
              f"{busy['pty_to_host']} back)")
        lat = sorted(latency(work, args.clock_hz, args.intents))
        ms = [x * 1e3 for x in lat]
        print(f"paced at {args.clock_hz:g} Hz: datagram sent to intent received, over "
              f"{len(ms)} intents: min {ms[0]:.1f} median {statistics.median(ms):.1f} "
              f"p90 {ms[int(0.9 * (len(ms) - 1))]:.1f} max {ms[-1]:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
