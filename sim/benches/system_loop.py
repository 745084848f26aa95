"""Bench: the full design as a simulated FPGA, bridged to the real world (sim/fpga_loop.py
launches it; docs/fpga-in-the-loop.md explains it).

- The control link: the UART pins <-> a pty (sim/pty_bridge.py), which the host opens with
  pyserial as it would a board's port. The pause file cuts it both ways; the design runs on.
- Market data: each datagram of the colo feed received on the feed address becomes an
  Ethernet II/IPv4/UDP frame driven into `i`, one byte a beat.
- Order intents: every beat leaving `o` goes out as one UDP datagram to the intents address.
- Time: simulated cycles never run ahead of wall time x the clock rate (sim/loop_shared.Pacer).

Python wakes per cycle only while a frame is being driven or an intent leaves; otherwise the
simulator runs CHUNK_S of wall time's cycles between looks at the sockets, and sleeps in
select() when it is ahead of the wall clock. It ends on the stop file, the wall limit, or the
death of the process that owns it, and writes its counters to the report file.
"""

from __future__ import annotations

import json
import os
import select
import socket
import time
from collections import deque
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, Event, FallingEdge, ReadOnly, RisingEdge, Timer

from hdl.beat import beat_layout
from host.wire import ORDER_INTENT, WireError, decode_order_intent, encode_order_intent
from sim.benches.streams import pack
from sim.loop_shared import (
    CLOCK_HZ_ENV,
    DIR_ENV,
    FEED_ENV,
    INTENTS_ENV,
    MAX_DATAGRAM,
    OWNER_ENV,
    PAUSE_FILE,
    PAUSED_FILE,
    READY_FILE,
    REPORT_FILE,
    STOP_FILE,
    WALL_LIMIT_ENV,
    FeedAddress,
    Pacer,
    datagram_frame,
    parse_host_port,
)
from sim.pty_bridge import PtyBridge
from sim.system_build import BIT_NS, CLOCK_NS

CHUNK_S = 0.0005      # wall time's worth of cycles simulated between looks at the sockets,
MAX_CHUNK = 200       # ... but no more cycles than this (a few ms of this design's Verilator)
CHECK_S = 0.02        # how often the stop, pause and owner conditions are looked at
MAX_QUEUED = 10_000   # frames waiting for the wire; more are dropped, as a full FIFO would


def cycle() -> int:
    return int(get_sim_time("ns")) // CLOCK_NS


def process_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def write_atomically(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)  # readers see all of it or nothing


class Ingress:
    """Drives queued frames into `i`, byte by byte, honouring `ready`; idle, it waits on an
    event, not on the clock."""

    def __init__(self, dut):
        self.dut = dut
        self.queue: deque[bytes] = deque()
        self._wake = Event()
        layout = beat_layout(1)
        self._beats = [[pack(layout, data=b, keep=1, last=last) for b in range(256)]
                       for last in (0, 1)]
        self.frames = 0
        self.overruns = 0
        cocotb.start_soon(self._run())

    def put(self, frame: bytes) -> None:
        if len(self.queue) >= MAX_QUEUED:
            self.overruns += 1
            return
        self.queue.append(frame)
        self._wake.set()

    async def _run(self) -> None:
        clk, valid = self.dut.clk, self.dut.i__valid
        payload, ready = self.dut.i__payload, self.dut.i__ready
        while True:
            if not self.queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            frame = self.queue.popleft()
            end = len(frame) - 1
            beats = self._beats
            for k, byte in enumerate(frame):
                await FallingEdge(clk)
                payload.value = beats[k == end][byte]
                valid.value = 1
                await ReadOnly()
                while not ready.value:
                    await FallingEdge(clk)
                    await ReadOnly()
            self.frames += 1
            if not self.queue:
                await FallingEdge(clk)
                valid.value = 0


class Egress:
    """Sends each order intent leaving `o` (always ready) as one UDP datagram; it wakes on
    `o.valid` rising, and per cycle only while it stays high."""

    def __init__(self, dut, sock: socket.socket, to: tuple[str, int]):
        self.dut, self.sock, self.to = dut, sock, to
        self.intents = 0
        self.send_errors = 0
        self.malformed = 0
        cocotb.start_soon(self._run())

    async def _run(self) -> None:
        clk, valid, payload = self.dut.clk, self.dut.o__valid, self.dut.o__payload
        while True:
            await RisingEdge(valid)
            while True:
                await FallingEdge(clk)
                if not valid.value:
                    break
                self._send(payload.value.to_unsigned().to_bytes(ORDER_INTENT.size, "little"))

    def _send(self, raw: bytes) -> None:
        try:
            datagram = encode_order_intent(decode_order_intent(raw))
        except WireError:
            self.malformed += 1  # the gateware's framing fields are wrong: never on the wire
            return
        try:
            self.sock.sendto(datagram, self.to)
            self.intents += 1
        except OSError:
            self.send_errors += 1


def open_feed(feed: FeedAddress) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    if feed.group:
        # Others (the daemon's software path) may listen to the same group.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((feed.group, feed.port))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                        socket.inet_aton(feed.group) + socket.inet_aton(feed.host))
    else:
        sock.bind((feed.host, feed.port))
    sock.setblocking(False)
    return sock


class Watch:
    """The reasons to end, and the pause file."""

    def __init__(self, work_dir: Path, wall_limit_s: float, owner: int | None):
        self.work_dir = work_dir
        self.deadline = time.monotonic() + wall_limit_s
        self.owner = owner
        self.parent = os.getppid()  # the launcher: if it dies, this process is an orphan

    def stop_reason(self, now: float) -> str | None:
        if (self.work_dir / STOP_FILE).exists():
            return "stop_file"
        if now > self.deadline:
            return "wall_limit"
        if os.getppid() != self.parent:
            return "launcher_gone"
        if self.owner is not None and not process_alive(self.owner):
            return "owner_gone"
        return None

    def paused(self) -> bool:
        return (self.work_dir / PAUSE_FILE).exists()


async def reset(dut) -> None:
    Clock(dut.clk, CLOCK_NS, unit="ns", impl="gpi").start()
    dut.rx.value = 1
    dut.kill_pin.value = 0
    dut.i__valid.value = 0
    dut.o__ready.value = 1  # a NIC always takes what the order framer sends
    dut.rst.value = 1
    await ClockCycles(dut.clk, 3)
    dut.rst.value = 0
    await ClockCycles(dut.clk, 3)


@cocotb.test()
async def simulated_fpga(dut):
    work_dir = Path(os.environ[DIR_ENV])
    feed = FeedAddress.parse(os.environ[FEED_ENV])
    intents_to = parse_host_port(os.environ[INTENTS_ENV])
    clock_hz = float(os.environ[CLOCK_HZ_ENV])
    owner = int(os.environ[OWNER_ENV]) if os.environ.get(OWNER_ENV) else None
    watch = Watch(work_dir, float(os.environ.get(WALL_LIMIT_ENV, "3600")), owner)

    await reset(dut)
    bridge = PtyBridge(dut.rx, dut.tx, BIT_NS)
    feed_sock = open_feed(feed)
    feed_port = feed_sock.getsockname()[1]
    feed_dst = (feed.dst_ip, feed_port)
    out_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out_sock.setblocking(False)
    ingress, egress = Ingress(dut), Egress(dut, out_sock, intents_to)
    counters = {"datagrams": 0, "feed_bytes": 0, "oversize": 0}

    def take_feed() -> None:
        while True:
            try:
                data, src = feed_sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            counters["datagrams"] += 1
            counters["feed_bytes"] += len(data)
            if len(data) > MAX_DATAGRAM:
                counters["oversize"] += 1
                continue
            ingress.put(datagram_frame(data, src=src, dst=feed_dst))

    write_atomically(work_dir / READY_FILE, {
        "pty": bridge.path, "clock_hz": clock_hz, "feed_port": feed_port, "pid": os.getpid()})
    start_wall, start_cycle = time.monotonic(), cycle()
    pacer = Pacer(clock_hz, cycle=start_cycle, now=start_wall)
    chunk_ns = max(1, min(MAX_CHUNK, round(clock_hz * CHUNK_S))) * CLOCK_NS
    fds = [bridge.master, feed_sock.fileno()]
    next_check, reason = 0.0, None
    try:
        while True:
            await Timer(chunk_ns, unit="ns")
            now = time.monotonic()
            if now >= next_check:
                next_check = now + CHECK_S
                reason = watch.stop_reason(now)
                if reason:
                    break
                paused = watch.paused()
                if paused != bridge.paused:
                    bridge.paused = paused
                    if paused:
                        (work_dir / PAUSED_FILE).touch()
                    else:
                        (work_dir / PAUSED_FILE).unlink(missing_ok=True)
            at = cycle()
            while True:  # sleep until the wall clock allows `at`, handling input meanwhile
                wait = pacer.wait_s(at, time.monotonic())
                readable = select.select(fds, [], [], wait)[0]
                if bridge.master in readable:
                    bridge.pump()
                if feed_sock.fileno() in readable:
                    take_feed()
                if not readable or wait <= 0:
                    break
    finally:
        wall = time.monotonic() - start_wall
        cycles = cycle() - start_cycle
        report = {"stop_reason": reason, "clock_hz": clock_hz, "wall_s": wall,
                  "cycles": cycles, "cycles_per_s": cycles / wall if wall else 0.0,
                  "behind_s": pacer.behind_s, **counters, "frames_in": ingress.frames,
                  "feed_overruns": ingress.overruns, "intents_out": egress.intents,
                  "intent_send_errors": egress.send_errors,
                  "malformed_intents": egress.malformed, "pty_to_design": bridge.to_design,
                  "pty_to_host": bridge.to_host, "pty_dropped": bridge.dropped}
        write_atomically(work_dir / REPORT_FILE, report)
        feed_sock.close()
        out_sock.close()
        bridge.close()
    dut._log.info("simulated FPGA ended (%s): %s", reason, report)
