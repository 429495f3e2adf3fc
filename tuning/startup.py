"""What the engine calls at start-up: the venue profile's audit for its own cores, boiled down to
one line per problem ("core 1 is not isolated", "cpu_dma_latency not held"). It reads only; an
unreadable file becomes a line saying so, a profile that cannot fit this host becomes one line,
and it never raises for either."""
from __future__ import annotations

from collections.abc import Sequence

from tuning.cpulist import format_cpulist, parse_cpulist
from tuning.errors import TuningError
from tuning.profile import DEFAULT_PROFILE
from tuning.runner import Tuner
from tuning.setting import Status


def startup_warnings(engine_cores: Sequence[int], root: str = "/",
                     profile: str = DEFAULT_PROFILE) -> list[str]:
    """One line per way this host falls short of ``profile`` for an engine pinned to
    ``engine_cores``; an empty list when it is tuned."""
    cores = format_cpulist(engine_cores)
    try:
        tuner = Tuner(profile, root, variables={"isolated_cores": cores})
    except TuningError as exc:
        return [f"tuning profile {profile} does not fit engine cores {cores}: {exc}"]
    lines: list[str] = []
    stray_irqs: list[str] = []
    for finding in tuner.audit():
        if finding.status not in (Status.DIFFERS, Status.CANNOT_READ):
            continue
        if finding.status == Status.DIFFERS and finding.name.startswith("irq ") and \
                finding.name.endswith(" affinity") and finding.name != "irq default affinity":
            # An IRQ confined to some other housekeeping subset is no problem for the engine.
            if parse_cpulist(finding.current) & set(engine_cores):
                stray_irqs.append(finding.name.split()[1])
            continue
        lines.append(finding.problem)
    if stray_irqs:
        lines.append(f"{len(stray_irqs)} IRQ(s) not confined to housekeeping cores "
                     f"(may interrupt engine core(s) {cores}): {', '.join(stray_irqs)}")
    return lines
