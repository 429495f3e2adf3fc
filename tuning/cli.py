"""``python -m tuning {audit,plan,apply,verify,rollback,measure,hold-dma-latency,profiles}``.
This is the boundary for operators: every argument is validated here, every TuningError becomes
one line on stderr and exit status 2 (1 for verify finding problems), never a traceback."""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence

from gateway.cli_errors import install as install_one_line_errors
from tuning.errors import TuningError
from tuning.hostroot import HostRoot
from tuning.profile import DEFAULT_PROFILE, available_profiles, load_profile
from tuning.runner import Tuner
from tuning.setting import Finding, Status

EXIT_PROBLEMS = 1
EXIT_ERROR = 2


def _variable(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def _cpu_pair(text: str) -> tuple[int, int]:
    parts = text.split(",")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"expected two CPU numbers like 0,1, got {text!r}")
    return int(parts[0]), int(parts[1])


MAX_SAMPLES = 10_000_000     # 80 MB of round trips per probe, minutes of loopback ping-pong (the C
                             # probes count in uint32: 2^32 was an OverflowError traceback)
MAX_ROUNDS = 100


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def _at_most(limit: int) -> Callable[[str], int]:
    """A positive integer up to ``limit``, for argparse's type=."""
    def parse(text: str) -> int:
        value = _positive(text)
        if value > limit:
            raise argparse.ArgumentTypeError(f"expected a positive integer up to {limit:,}, got {text!r}")
        return value
    return parse


def _non_negative(text: str) -> int:
    """A /dev/cpu_dma_latency value in microseconds: the kernel takes a signed 32-bit integer (a
    larger one was a struct.error traceback after the device was opened)."""
    if not text.isdigit() or int(text) > 2**31 - 1:
        raise argparse.ArgumentTypeError(f"expected an integer 0..{2**31 - 1}, got {text!r}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tuning", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", default="/", help="host tree to act on (default: /)")
    common.add_argument("--json", action="store_true", help="print JSON instead of a table")
    profiled = argparse.ArgumentParser(add_help=False, parents=[common])
    profiled.add_argument("--profile", default=DEFAULT_PROFILE,
                          help=f"profile name or .toml path (default: {DEFAULT_PROFILE})")
    profiled.add_argument("--var", action="append", type=_variable, default=[], metavar="NAME=VALUE",
                          help="override a profile variable, e.g. isolated_cores=2-3")
    profiled.add_argument("--only", action="append", default=None, metavar="SETTING",
                          help="limit to one setting or section (repeatable)")
    profiled.add_argument("--state-file", default=None,
                          help="state file (default: /var/lib/venue-tuning/state.json under --root)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("audit", parents=[profiled], help="report every setting; needs no root")
    sub.add_parser("plan", parents=[profiled], help="print exactly what apply would change")
    sub.add_parser("apply", parents=[profiled], help="change the host (root), saving originals")
    sub.add_parser("verify", parents=[profiled], help="compare live values with the profile")
    rollback = sub.add_parser("rollback", parents=[common], help="restore the saved originals")
    rollback.add_argument("--state-file", default=None)
    sub.add_parser("profiles", parents=[common], help="list the profiles and their include chains")
    measure = sub.add_parser("measure", parents=[common], help="run the latency probes")
    measure.add_argument("--samples", type=_at_most(MAX_SAMPLES), default=20000)
    measure.add_argument("--cpus", type=_cpu_pair, default=None, metavar="A,B",
                         help="pin the two ends of each probe to these CPUs")
    measure.add_argument("--dma-latency-us", type=_non_negative, default=None,
                         help="also compare TCP round trips without and with this limit held")
    measure.add_argument("--rounds", type=_at_most(MAX_ROUNDS), default=3,
                         help="interleaved rounds for --dma-latency-us")
    hold = sub.add_parser("hold-dma-latency", parents=[common],
                          help="hold /dev/cpu_dma_latency at a value until SIGTERM")
    hold.add_argument("--value-us", type=_non_negative, required=True)
    return parser


def _print_findings(findings: list[Finding], as_json: bool) -> None:
    if as_json:
        print(json.dumps([f.as_dict() for f in findings], indent=1))
        return
    width = max((len(f.name) for f in findings), default=10)
    for f in findings:
        reason = f"  ({f.reason})" if f.reason else ""
        print(f"{f.name:<{width}}  {f.status.value:<19}  current {f.current!s:<24} "
              f"wanted {f.wanted}{reason}")
    counts = {s: sum(1 for f in findings if f.status == s) for s in Status}
    print("; ".join(f"{n} {s.value}" for s, n in counts.items()))


def _run(args: argparse.Namespace) -> int:
    if args.command == "profiles":
        for name in available_profiles():
            profile = load_profile(name)
            print(f"{name:<20} {' <- '.join(profile.chain):<62} {profile.summary}")
        return 0
    if args.command == "hold-dma-latency":
        from tuning.dma_latency import hold
        return hold(HostRoot(args.root), args.value_us)
    if args.command == "measure":
        return _measure(args)
    if args.command == "rollback":
        tuner = Tuner.for_rollback(args.root, args.state_file)
        restored = tuner.rollback()
        for line in restored:
            print(f"restored {line}")
        print(f"rollback: {len(restored)} setting(s) restored, state file removed")
        return 0
    tuner = Tuner(args.profile, args.root, args.state_file, dict(args.var), args.only)
    if args.command in ("audit", "verify"):
        findings = tuner.audit()
        _print_findings(findings, args.json)
        if args.command == "verify":
            bad = [f for f in findings if f.status in (Status.DIFFERS, Status.CANNOT_READ)]
            if not args.json:
                print("verify: " + ("passed" if not bad else f"failed, {len(bad)} setting(s) off"))
            return EXIT_PROBLEMS if bad else 0
        return 0
    if args.command == "plan":
        changes = tuner.plan()
        if args.json:
            print(json.dumps([vars(c) for c in changes], indent=1))
            return 0
        for c in changes:
            verb = "advise" if c.advice else "change"
            print(f"{verb}  {c.name}: {c.current} -> {c.wanted}")
        for advice in dict.fromkeys(c.advice for c in changes if c.advice):
            print(f"advice (apply never runs this: boot-time parameters, process limits): {advice}")
        print(f"plan: {sum(1 for c in changes if not c.advice)} change(s), "
              f"{sum(1 for c in changes if c.advice)} advice item(s)")
        return 0
    report = tuner.apply()
    if args.json:
        print(json.dumps({"changed": [vars(c) for c in report.changed], "refused": report.refused,
                          "advice": report.advice}, indent=1))
        return 0
    for c in report.changed:
        print(f"changed {c.name}: {c.current} -> {c.wanted}")
    for name, why in report.refused.items():
        print(f"refused {name}: {why}")
    for advice in report.advice:
        print(f"advice  {advice}")
    print(f"apply: {len(report.changed)} change(s), originals in {tuner.state_path}")
    return 0


def _measure(args: argparse.Namespace) -> int:
    from tuning.measure import dma_latency_effect, run_probes

    if args.cpus is not None:
        allowed = os.sched_getaffinity(0)
        bad = [c for c in args.cpus if c not in allowed]
        if bad:
            raise TuningError(f"--cpus: CPU {bad[0]} is not available to this process "
                              f"(allowed: {sorted(allowed)})")
    results = run_probes(args.samples, args.cpus)
    if args.dma_latency_us is not None:
        results.extend(dma_latency_effect(HostRoot(args.root), args.dma_latency_us,
                                          args.samples, args.rounds, args.cpus))
    if args.json:
        print(json.dumps([vars(r) for r in results], indent=1))
    else:
        for r in results:
            print(r.line())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    install_one_line_errors()       # a usage error is one line, as for python -m gateway/trading
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except TuningError as exc:
        print(f"tuning {args.command}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except PermissionError as exc:
        print(f"tuning {args.command}: permission denied: {exc.filename or exc} (needs root?)",
              file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader went away (`| head`): not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"tuning {args.command}: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
