"""A fake /proc and /sys tree for the tuning tests: small, with the shapes the kernel prints
(menus with [brackets], hex masks, CPU lists), so apply, verify and rollback run for real against
files in a temporary directory (the package takes the root as a parameter)."""
from __future__ import annotations

import struct
from pathlib import Path

NO_LIMIT_US = 2_000_000_000

TREE = {
    "proc/sys/vm/swappiness": "60",
    "proc/sys/vm/dirty_ratio": "20",
    "proc/sys/kernel/hostname": "testhost",
    "proc/sys/kernel/random/boot_id": "11111111-2222-3333-4444-555555555555",
    "proc/sys/kernel/numa_balancing": "1",
    "proc/sys/kernel/watchdog_cpumask": "0-3",
    "proc/sys/net/core/busy_poll": "0",
    "proc/sys/net/ipv4/tcp_rmem": "4096\t131072\t6291456",
    "proc/cmdline": "BOOT_IMAGE=/vmlinuz root=/dev/sda1 quiet",
    "proc/irq/default_smp_affinity": "f",
    "proc/irq/10/smp_affinity_list": "0-3",
    "proc/irq/11/smp_affinity_list": "0-3",
    "proc/irq/12/smp_affinity_list": "0",
    "sys/devices/system/cpu/online": "0-3",
    "sys/devices/system/cpu/isolated": "",
    "sys/devices/system/cpu/cpufreq/policy0/scaling_driver": "acpi-cpufreq",
    "sys/devices/system/cpu/cpufreq/boost": "1",
    "sys/devices/system/cpu/cpuidle/current_driver": "intel_idle",
    "sys/devices/system/cpu/cpu0/cpuidle/state0/name": "POLL",
    "sys/devices/system/cpu/cpu0/cpuidle/state0/latency": "0",
    "sys/devices/system/cpu/cpu0/cpuidle/state1/name": "C1",
    "sys/devices/system/cpu/cpu0/cpuidle/state1/latency": "2",
    "sys/kernel/mm/transparent_hugepage/enabled": "always [madvise] never",
    "sys/kernel/mm/transparent_hugepage/defrag": "always defer defer+madvise [madvise] never",
    "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages": "0",
    "sys/devices/virtual/workqueue/cpumask": "f",
    "etc/machine-id": "0123456789abcdef0123456789abcdef",
    "etc/default/irqbalance": "# irqbalance options\nOPTIONS=\"\"\n",
}
for _cpu in range(4):
    TREE[f"sys/devices/system/cpu/cpu{_cpu}/cpufreq/scaling_governor"] = "powersave"

# Everything the fake tree can apply; the isolated cores are 2-3, housekeeping 0-1.
TEST_PROFILE = """
[main]
summary = "test profile over the fake tree"

[variables]
isolated_cores = "2-3"

[assert]
isolated_cores = ["nonempty", "online", "leaves_housekeeping"]

[sysctl]
"vm.swappiness" = 10
"vm.dirty_ratio" = 10
"kernel.numa_balancing" = 0
"kernel.watchdog_cpumask" = "${housekeeping_cores}"
"net.ipv4.tcp_rmem" = "4096 131072 16777216"

[thp]
enabled = "never"
defrag = "never"

[hugepages]
nr_2048kB = 64

[cpu]
governor = "performance"
boost = false

[workqueue]
unbound_cpus = "${housekeeping_cores}"

[irq]
affinity = "${housekeeping_cores}"
default_affinity = "${housekeeping_cores}"
irqbalance_banned_cpus = "${isolated_cores}"
"""


def build_tree(root: Path, overrides: dict[str, str] | None = None) -> Path:
    for rel, text in {**TREE, **(overrides or {})}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + ("\n" if text and not text.endswith("\n") else ""))
    (root / "dev").mkdir(exist_ok=True)
    (root / "dev/cpu_dma_latency").write_bytes(struct.pack("=i", NO_LIMIT_US))
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    """File contents under root, whitespace runs folded: the kernel prints vectors with tabs
    whatever separator was written, and a trailing newline is not part of a value."""
    return {str(p.relative_to(root)): b" ".join(p.read_bytes().split()) for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_symlink() and "var/lib" not in str(p)}
