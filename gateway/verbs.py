"""The ``python -m PACKAGE VERB ...`` dispatcher shared by ``gateway`` and ``trading``.

Each verb lives in its own module, imported only when used, so that a broken or heavy module never
slows down or breaks the others; a module's ``main(argv) -> int`` parses its own arguments, and
every parser of the process reports a usage error as one line with exit status 2
(``gateway.cli_errors``).
"""
from __future__ import annotations

import importlib
import sys
from typing import Mapping

from gateway.cli_errors import install as install_one_line_errors

# verb -> (module, one-line description)
Verbs = Mapping[str, tuple[str, str]]


def usage(prog: str, verbs: Verbs) -> str:
    """The verb list that ``--help`` prints."""
    lines = [f"usage: python -m {prog} VERB [options]", "", "verbs:"]
    width = max((len(v) for v in verbs), default=0)
    lines += [f"  {verb:<{width}}  {desc}" for verb, (_, desc) in sorted(verbs.items())]
    lines.append("")
    lines.append(f"Run 'python -m {prog} VERB --help' for a verb's options.")
    return "\n".join(lines)


def dispatch(prog: str, verbs: Verbs, argv: list[str] | None = None) -> int:
    """Runs the verb named by argv[0] (sys.argv[1:] when argv is None) and returns its exit status:
    0 for --help, 2 with one line on stderr for no verb or an unknown one."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(usage(prog, verbs))
        return 0 if args else 2
    verb, rest = args[0], args[1:]
    if verb not in verbs:
        print(f"{prog}: unknown verb {verb!r} (one of: {', '.join(sorted(verbs))}; "
              f"python -m {prog} --help)", file=sys.stderr)
        return 2
    install_one_line_errors()
    module = importlib.import_module(verbs[verb][0])
    return int(module.main(rest) or 0)
