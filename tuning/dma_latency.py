"""[cpu_dma_latency]: the C-state exit latency limit (PM QoS) through /dev/cpu_dma_latency. The
kernel keeps a request only while its file descriptor stays open (kernel/power/qos.c,
cpu_latency_qos_release drops it on close), so the limit needs a holder process for as long as
the venue runs: ``python -m tuning hold-dma-latency``. apply starts one, rollback stops that one,
audit finds holders by scanning /proc/*/fd and reads the effective limit back from the device."""
from __future__ import annotations

import os
import select
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Mapping

from tuning.errors import CannotRead, NotApplicableHere, ProfileError
from tuning.hostroot import HostRoot
from tuning.setting import Setting, Subsystem, shell_quote

DEVICE = "/dev/cpu_dma_latency"
# PM_QOS_CPU_LATENCY_DEFAULT_VALUE (include/linux/pm_qos.h): what the device reads when nobody
# holds a request, i.e. "no limit".
NO_LIMIT_US = 2_000_000_000
_HOLDER_START_TIMEOUT_S = 10.0
_HOLDER_STOP_TIMEOUT_S = 10.0
_VALUE = struct.Struct("=i")  # the kernel takes exactly one native s32 (cpu_latency_qos_write)


def struct_value(value_us: int) -> bytes:
    """The 4 bytes the device takes for ``value_us``."""
    return _VALUE.pack(value_us)


def choose_value_us(host: HostRoot) -> tuple[int, str]:
    """The limit "auto" means on this platform, and why."""
    cpuinfo = ""
    try:
        cpuinfo = host.read("/proc/cpuinfo")
    except (NotApplicableHere, CannotRead):
        pass
    try:
        driver = host.read("/sys/devices/system/cpu/cpuidle/current_driver")
    except (NotApplicableHere, CannotRead):
        driver = "none"
    if driver == "haltpoll" or " hypervisor" in cpuinfo:
        return 0, (f"virtual machine (cpuidle driver {driver}): any limit above 0 still lets the "
                   "vCPU halt, an exit to the hypervisor; only 0 keeps it polling")
    if driver in ("none", ""):
        return 0, "no cpuidle driver: 0 is the only limit with a defined effect"
    states = host.glob("/sys/devices/system/cpu/cpu0/cpuidle/state*")
    for state in states:
        try:
            name = host.read(f"{state}/name")
            latency_us = int(host.read(f"{state}/latency"))
        except (NotApplicableHere, CannotRead, ValueError):
            continue
        if name != "POLL":
            # tuned's latency-performance asks for the exit latency of the first real C-state
            # (force_latency=cstate.id_no_zero:1): that state stays allowed, deeper ones do not.
            return latency_us, (f"allows {name} (exit latency {latency_us} us), forbids deeper "
                                f"C-states (cpuidle driver {driver})")
    return 0, f"cpuidle driver {driver} lists no C-state besides polling"


def holders(host: HostRoot) -> tuple[list[int], int]:
    """Pids with the device open, and how many processes' fd tables could not be read."""
    targets = {DEVICE, str(host.path(DEVICE))}
    found: list[int] = []
    unreadable = 0
    proc = host.path("/proc")
    try:
        entries = [e for e in os.listdir(proc) if e.isdigit()]
    except OSError:
        return [], 0
    for pid in entries:
        fd_dir = proc / pid / "fd"
        try:
            fds = os.listdir(fd_dir)
        except PermissionError:
            unreadable += 1
            continue
        except OSError:
            continue  # the process exited while we looked
        for fd in fds:
            try:
                if os.readlink(fd_dir / fd) in targets:
                    found.append(int(pid))
                    break
            except OSError:
                continue
    return sorted(found), unreadable


def read_limit_us(host: HostRoot) -> int:
    """The effective limit: reading the device returns the aggregate of all requests
    (cpu_latency_qos_read). Opening it adds a default request, which changes nothing."""
    try:
        with open(host.path(DEVICE), "rb") as dev:
            raw = dev.read(_VALUE.size)
    except FileNotFoundError:
        raise NotApplicableHere(f"{DEVICE} does not exist (kernel without CONFIG_CPU_IDLE PM QoS?)") from None
    except PermissionError:
        raise CannotRead(f"{DEVICE} is readable by root only") from None
    except OSError as exc:
        raise CannotRead(f"reading {DEVICE}: {exc.strerror}") from None
    if len(raw) != _VALUE.size:
        raise CannotRead(f"{DEVICE} returned {len(raw)} bytes, expected {_VALUE.size}")
    return int(_VALUE.unpack(raw)[0])


def hold(host: HostRoot, value_us: int, announce: bool = True) -> int:
    """Body of ``python -m tuning hold-dma-latency``: holds ``value_us`` until SIGTERM or SIGINT.
    Prints one "ready" line on stdout once the request is in force, then detaches stdout so the
    process that started it may go away. Returns the exit status."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    fd = os.open(host.path(DEVICE), os.O_WRONLY)
    try:
        os.write(fd, struct_value(value_us))
        if announce:
            sys.stdout.write(f"ready: holding {DEVICE} at {value_us} us, pid {os.getpid()}\n")
            sys.stdout.flush()
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.close(null)
        signal.sigwait({signal.SIGTERM, signal.SIGINT})
    finally:
        os.close(fd)
    return 0


def start_holder(host: HostRoot, value_us: int) -> int:
    """Starts a detached holder and waits until it reports the request in force. Returns its pid.
    Raises OSError when it does not start within the deadline."""
    cmd = [sys.executable, "-m", "tuning", "hold-dma-latency", "--value-us", str(value_us),
           "--root", str(host.root)]
    env = dict(os.environ)
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = package_parent + os.pathsep + env.get("PYTHONPATH", "")
    child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True, env=env)
    assert child.stdout is not None and child.stderr is not None
    ready, _, _ = select.select([child.stdout], [], [], _HOLDER_START_TIMEOUT_S)
    line = child.stdout.readline().decode() if ready else ""
    if not line.startswith("ready"):
        if child.poll() is None:
            child.kill()
        err = child.stderr.read().decode().strip().splitlines() if child.wait() is not None else []
        raise OSError(f"the cpu_dma_latency holder did not start: {err[-1] if err else 'no output'}")
    child.stdout.close()
    child.stderr.close()
    return child.pid


def stop_holder(pid: int) -> None:
    """Stops a holder this package started (checked by its command line) and waits for it."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return  # already gone
    if "hold-dma-latency" not in cmdline:
        return  # the pid was reused by an unrelated process: not ours to stop
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + _HOLDER_STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                return
        except ChildProcessError:
            if not os.path.exists(f"/proc/{pid}/fd") or not os.listdir(f"/proc/{pid}/fd"):
                return
        time.sleep(0.01)
    raise OSError(f"cpu_dma_latency holder pid {pid} did not exit within {_HOLDER_STOP_TIMEOUT_S} s")


class DmaLatencySetting(Setting):
    def __init__(self, host: HostRoot, value_us: int, why: str) -> None:
        super().__init__("cpu_dma_latency", f"{value_us} us, held")
        self.host = host
        self.value_us = value_us
        self.why = why

    def read(self) -> str:
        if not self.host.exists(DEVICE):
            raise NotApplicableHere(f"{DEVICE} does not exist on this host")
        pids, unreadable = holders(self.host)
        if not pids:
            if unreadable:
                raise CannotRead(f"{unreadable} processes' open files are hidden without root, so "
                                 "whether one holds cpu_dma_latency is unknown")
            return "not held"
        limit_us = read_limit_us(self.host)
        return f"{limit_us} us, held by pid {','.join(map(str, pids))}"

    def satisfied(self, current: str) -> bool:
        if "held by" not in current:
            return False
        return int(current.split(" ", 1)[0]) <= self.value_us

    def problem(self, current: str) -> str:
        if "held by" not in current:
            return "cpu_dma_latency not held"
        return f"cpu_dma_latency held at {current.split(' us', 1)[0]} us, wanted {self.value_us} us"

    def write(self, value: str) -> str | None:
        return str(start_holder(self.host, self.value_us))

    def restore(self, original: str, token: str | None) -> None:
        if token is not None:
            stop_holder(int(token))


class DmaLatencySubsystem(Subsystem):
    section = "cpu_dma_latency"
    known_keys = {"value_us": "C-state exit latency limit in microseconds, or \"auto\""}

    def validate(self, values: Mapping[str, object]) -> None:
        super().validate(values)
        value = values.get("value_us", "auto")
        if value != "auto" and (isinstance(value, bool) or not isinstance(value, int)
                                or not 0 <= value < NO_LIMIT_US):
            raise ProfileError(f"[cpu_dma_latency] value_us = {value!r}: expected \"auto\" or "
                               f"0..{NO_LIMIT_US - 1}")

    def settings(self, values: Mapping[str, str], host: HostRoot) -> list[Setting]:
        value = values.get("value_us", "auto")
        if value == "auto":
            value_us, why = choose_value_us(host)
        else:
            value_us, why = int(value), "set in the profile"
        return [DmaLatencySetting(host, value_us, why)]

    def shell(self, values: Mapping[str, str]) -> list[str]:
        value = values.get("value_us", "auto")
        return [f"tune_dma_latency {shell_quote(str(value))}"]
