"""Profiles: TOML files in tuning/profiles/ (or a path), stacked with ``include`` like tuned's
(latency-performance <- network-latency <- cpu-partitioning <- venue). A child's keys override its
parent's, section by section. ``[variables]`` may reference each other as ${name}; the host adds
online_cpus and housekeeping_cores (online CPUs minus isolated_cores). ``[assert]`` lists checks
a variable must pass before anything is read or changed, e.g. that isolated_cores names only
online CPUs. Every problem is a ProfileError that names the file and the key."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tuning.cpulist import format_cpulist, parse_cpulist
from tuning.errors import CannotRead, NotApplicableHere, ProfileError
from tuning.hostroot import HostRoot
from tuning.setting import text_value
from tuning.subsystems import SUBSYSTEMS

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the venue runs on 3.11, tomllib is in its stdlib
    tomllib = None  # type: ignore[assignment]

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"
DEFAULT_PROFILE = "venue"
_MAX_INCLUDE_DEPTH = 8
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ASSERTIONS = {
    "nonempty": "must name at least one CPU",
    "online": "must name only online CPUs",
    "leaves_housekeeping": "must leave at least one online CPU for the kernel and housekeeping",
}


@dataclass
class Profile:
    name: str
    summary: str
    chain: list[str]  # include chain, base first
    variables: dict[str, str] = field(default_factory=dict)
    assertions: dict[str, list[str]] = field(default_factory=dict)
    sections: dict[str, dict[str, object]] = field(default_factory=dict)


def available_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.toml"))


def _locate(name: str) -> Path:
    if name.endswith(".toml") or "/" in name:
        path = Path(name)
        if not path.is_file():
            raise ProfileError(f"profile file {name} "
                               f"{'is not a regular file' if path.exists() else 'does not exist'}")
        return path
    path = PROFILE_DIR / f"{name}.toml"
    if not path.is_file():
        raise ProfileError(f"unknown profile {name!r} (available: {', '.join(available_profiles())})")
    return path


def _read_toml(path: Path) -> dict[str, object]:
    if tomllib is None:
        raise ProfileError("reading profiles needs Python 3.11 or newer (tomllib)")
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: malformed TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ProfileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror}") from None


def load_profile(name: str, overrides: dict[str, str] | None = None, _depth: int = 0) -> Profile:
    """Reads ``name`` and everything it includes; ``overrides`` replace variables (``--var``)."""
    if _depth > _MAX_INCLUDE_DEPTH:
        raise ProfileError(f"profile {name!r}: include chain deeper than {_MAX_INCLUDE_DEPTH} (a cycle?)")
    path = _locate(name)
    data = _read_toml(path)
    main = data.pop("main", {})
    if not isinstance(main, dict):
        raise ProfileError(f"{path}: [main] must be a table")
    unknown_main = set(main) - {"summary", "include"}
    if unknown_main:
        raise ProfileError(f"{path}: [main] unknown key {sorted(unknown_main)[0]!r} (known: include, summary)")
    include = main.get("include")
    if include is not None and not isinstance(include, str):
        raise ProfileError(f"{path}: [main] include must be a profile name")
    profile = (load_profile(include, None, _depth + 1) if include
               else Profile(name=path.stem, summary="", chain=[]))
    profile.name = path.stem
    profile.summary = str(main.get("summary", profile.summary))
    profile.chain = profile.chain + [path.stem]

    for section, table in data.items():
        if not isinstance(table, dict):
            raise ProfileError(f"{path}: {section!r} must be a [table], got a {type(table).__name__}")
        if section == "variables":
            for key, value in table.items():
                if not isinstance(value, (str, int)) or isinstance(value, bool):
                    raise ProfileError(f"{path}: [variables] {key}: expected a string or number")
                profile.variables[key] = str(value)
        elif section == "assert":
            for key, checks in table.items():
                if not isinstance(checks, list) or not all(c in _ASSERTIONS for c in checks):
                    raise ProfileError(f"{path}: [assert] {key}: expected a list of "
                                       f"{', '.join(sorted(_ASSERTIONS))}")
                profile.assertions[key] = list(checks)
        elif section in SUBSYSTEMS:
            try:
                SUBSYSTEMS[section].validate(table)
            except ProfileError as exc:
                raise ProfileError(f"{path}: {exc}") from None
            profile.sections.setdefault(section, {}).update(table)
        else:
            raise ProfileError(f"{path}: unknown section [{section}] (known: main, variables, assert, "
                               f"{', '.join(SUBSYSTEMS)})")
    for key, value in (overrides or {}).items():
        profile.variables[key] = value
    return profile


def _expand(text: str, variables: dict[str, str], where: str) -> str:
    for _ in range(_MAX_INCLUDE_DEPTH):
        missing = [v for v in _VAR.findall(text) if v not in variables]
        if missing:
            raise ProfileError(f"{where}: undefined variable ${{{missing[0]}}}")
        expanded = _VAR.sub(lambda m: variables[m.group(1)], text)
        if expanded == text:
            return expanded
        text = expanded
    raise ProfileError(f"{where}: variables refer to each other in a cycle")


def host_variables(profile: Profile, host: HostRoot) -> dict[str, str]:
    """The profile's variables expanded, plus online_cpus and housekeeping_cores from the host,
    after every [assert] check has passed."""
    from tuning.cpu import online_cpus  # cpu imports setting only; kept local to show the direction

    try:
        online: frozenset[int] | None = online_cpus(host)
    except (NotApplicableHere, CannotRead):
        online = None
    variables = dict(profile.variables)
    if online is not None:
        variables.setdefault("online_cpus", format_cpulist(online))
    expanded = {k: _expand(v, variables, f"[variables] {k}") for k, v in variables.items()}
    if "isolated_cores" in expanded and online is not None:
        try:
            isolated = parse_cpulist(expanded["isolated_cores"])
        except ValueError as exc:
            raise ProfileError(f"[variables] isolated_cores: {exc}") from None
        expanded.setdefault("housekeeping_cores", format_cpulist(online - isolated))
    for key, checks in profile.assertions.items():
        _check(key, expanded.get(key), checks, online)
    return expanded


def _check(key: str, value: str | None, checks: list[str], online: frozenset[int] | None) -> None:
    if value is None:
        raise ProfileError(f"variable {key} is not set (pass --var {key}=CPULIST)")
    try:
        cpus = parse_cpulist(value)
    except ValueError as exc:
        raise ProfileError(f"variable {key}: {exc}") from None
    for check in checks:
        if check == "nonempty" and not cpus:
            raise ProfileError(f"variable {key} {_ASSERTIONS[check]} (pass --var {key}=CPULIST)")
        if check in ("online", "leaves_housekeeping") and online is None:
            raise ProfileError(f"variable {key}: cannot check that it {_ASSERTIONS[check]}: "
                               "/sys/devices/system/cpu/online is unreadable")
        if check == "online" and online is not None and not cpus <= online:
            raise ProfileError(f"variable {key} = {value} names CPU(s) "
                               f"{format_cpulist(cpus - online)} that are not online "
                               f"(online: {format_cpulist(online)})")
        if check == "leaves_housekeeping" and online is not None and not online - cpus:
            raise ProfileError(f"variable {key} = {value} {_ASSERTIONS[check]} "
                               f"(online: {format_cpulist(online)})")


def resolve_sections(profile: Profile, host: HostRoot) -> dict[str, dict[str, str]]:
    """Every section's values as strings with variables expanded, in apply order."""
    variables = host_variables(profile, host)
    out: dict[str, dict[str, str]] = {}
    for section in SUBSYSTEMS:
        if section in profile.sections:
            out[section] = {k: _expand(text_value(v), variables, f"[{section}] {k}")
                            for k, v in profile.sections[section].items()}
    return out
