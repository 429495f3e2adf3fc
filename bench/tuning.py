"""Question: what does holding /dev/cpu_dma_latency buy the TCP loopback round trip on this host?
Runs the native TCP ping-pong probe without a latency limit (the baseline) and with the limit
held, interleaved round by round so drift on a shared machine lands on both sides. Needs root
for the device; prints a table, then one JSON line.

    python bench/tuning.py [--quick] [--value-us 0] [--cpus 0,1]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tuning.dma_latency import DEVICE, holders  # noqa: E402
from tuning.hostroot import HostRoot  # noqa: E402
from tuning.measure import dma_latency_effect  # noqa: E402
from gateway.cli_numbers import cpu_pair, dma_latency_us  # noqa: E402
from gateway.cli_errors import install as one_line_usage_errors  # noqa: E402


def main() -> int:
    one_line_usage_errors()        # a bad argument: one line (see --help), not argparse's usage block
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer round trips (well under 60 s)")
    parser.add_argument("--value-us", type=dma_latency_us, default=0)
    parser.add_argument("--cpus", type=cpu_pair, default=None, help="pin client,echo to two CPUs, e.g. 0,1")
    args = parser.parse_args()
    if os.geteuid() != 0 or not os.path.exists(DEVICE):
        print(f"bench/tuning.py needs root and {DEVICE}", file=sys.stderr)
        return 2
    cpus = args.cpus
    samples, rounds = (5000, 4) if args.quick else (20000, 6)
    host = HostRoot("/")
    others, _ = holders(host)
    without, held = dma_latency_effect(host, args.value_us, samples, rounds, cpus)  # type: ignore[arg-type]
    print(without.line())
    print(held.line())
    metrics = {"rtt_p50_ns_held": held.p50_ns, "rtt_p99_ns_held": held.p99_ns,
               "rtt_p999_ns_held": held.p999_ns}
    baselines = {"rtt_p50_ns_no_limit": without.p50_ns, "rtt_p99_ns_no_limit": without.p99_ns,
                 "rtt_p999_ns_no_limit": without.p999_ns}
    ratios = {f"{k}_held_over_no_limit": metrics[f"rtt_{k}_ns_held"] / baselines[f"rtt_{k}_ns_no_limit"]
              for k in ("p50", "p99", "p999")}
    machine = {"cores": os.cpu_count(), "pinning": ",".join(map(str, cpus)) if cpus else "none", "spin_or_block": "block",
               "tuning_state": f"cpu_dma_latency {args.value_us} us held vs none; other holders: "
                               f"{others or 'none'}", "round_trips_per_side": samples * rounds}
    print(json.dumps({"bench": "tuning", "machine": machine, "metrics": metrics,
                      "baselines": baselines, "ratios": ratios}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
