"""The registry of profile sections, in the order apply walks them: cheap reversible files first,
the kernel command line (advice only) late, and the cpu_dma_latency holder, the one step that
starts a process, last. A section not listed here is an error in the profile."""
from __future__ import annotations

from tuning.bootcmdline import BootCmdlineSubsystem
from tuning.cpu import CpuSubsystem
from tuning.dma_latency import DmaLatencySubsystem
from tuning.hugepages import HugepagesSubsystem
from tuning.irq import IrqSubsystem
from tuning.memlock import MemlockSubsystem
from tuning.netdev import NetdevSubsystem
from tuning.nic import NicSubsystem
from tuning.setting import Subsystem
from tuning.sysctl import SysctlSubsystem
from tuning.thp import ThpSubsystem
from tuning.workqueue import WorkqueueSubsystem

SUBSYSTEMS: dict[str, Subsystem] = {s.section: s for s in (
    SysctlSubsystem(), ThpSubsystem(), HugepagesSubsystem(), CpuSubsystem(), WorkqueueSubsystem(),
    IrqSubsystem(), NicSubsystem(), NetdevSubsystem(), MemlockSubsystem(), BootCmdlineSubsystem(),
    DmaLatencySubsystem())}
