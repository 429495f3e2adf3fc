"""``python -m gateway shell``: the operators' shell of the control plane.

Interactive (a terminal, no -c/-f): a prompt with history, Tab completion of commands, instrument
symbols, accounts, sessions, phases and limit names, and replies as tables. Non-interactive, for
automation: ``-c "status; halt ACME"`` (repeatable), ``-f FILE`` (a script, '#' comments; '-' or a
piped stdin read the script from stdin), optionally ``--json`` (one JSON object per statement).

Every statement is parsed and validated (gateway/control/shell_commands.py) before anything is sent:
in a script, a typo anywhere means nothing runs. Exit codes:
    0  every command succeeded
    1  the venue refused or failed a command (forbidden, rejected by the engine, ...)
    2  usage: bad option, unknown command, bad argument, unreadable script or token file
    3  cannot reach the control plane, or it does not accept the user/token
Non-interactive runs stop at the first refused command unless --keep-going. Interactively, a
refused command or a lost connection prints one line and the prompt stays (the ZeroMQ connection
re-establishes itself when the service is back); only the start (whoami) decides exit 3.

The token never appears on the command line (it would be visible to every user in ps and
/proc/PID/cmdline, and in shell history): it comes from --token-file or $VENUE_CONTROL_TOKEN.
"""
from __future__ import annotations

import argparse
import os
import re
import select
import shutil
import stat
import sys
import termios
import time
import tty
from pathlib import Path
from typing import Any, Callable, Iterable, TextIO

import zmq
from rich.console import Console, Group
from rich.text import Text

from gateway.control import protocol
from gateway.control.client import ControlClient, ControlError
from gateway.control.shell_commands import (Catalog, Command, UsageError, catalog_from, complete,
                                            current_word, help_text, parse, parse_script,
                                            split_statements)
from gateway.control.shell_render import Formats, book_view, error_line, json_line, render
from gateway.small_files import SECRET_LIMIT, NotASmallFile, read_small_text

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
DEFAULT_USER = "ops"                     # the operator of gateway/control/default_venue.toml
TOKEN_ENV = "VENUE_CONTROL_TOKEN"
ENDPOINT_ENV = "VENUE_CONTROL_ENDPOINT"
USER_ENV = "VENUE_CONTROL_USER"
HISTORY_ENV = "VENUE_SHELL_HISTORY"
DEFAULT_HISTORY = "~/.venue_shell_history"
DEFAULT_WAIT_S = 10.0                    # a venue started a moment ago answers within this
ENDPOINT_RE = re.compile(r"^(tcp://[^:/\s]+:\d{1,5}|ipc://\S+)$")
# Codes after which talking on is pointless: the service is gone or does not accept us.
_FATAL_CODES = ("timeout", protocol.CODE_UNAUTHENTICATED)


class _Fatal(Exception):
    """The control plane cannot be reached or does not accept the credentials (exit 3)."""


class _Source(argparse.Action):
    """-c and -f append to one ordered list, so statements run in the order given."""

    def __call__(self, parser: argparse.ArgumentParser, ns: argparse.Namespace, value: Any,
                 option: str | None = None) -> None:
        ns.sources = [*(ns.sources or []), ("c" if option in ("-c", "--command") else "f", value)]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m gateway shell",
        description="Operators' shell of the venue's control plane: interactive with no -c/-f, "
                    "otherwise runs the given statements and exits with 0 (all ok), 1 (the venue "
                    "refused a command), 2 (usage error) or 3 (control plane unreachable or "
                    "credentials refused).",
        epilog=f"The token is read from --token-file or ${TOKEN_ENV}, never from the command line. "
               "Statements are separated by ';' or newlines; '#' starts a comment. "
               "Type 'help' in the shell for its commands.")
    p.add_argument("--endpoint", default=os.environ.get(ENDPOINT_ENV, protocol.DEFAULT_COMMAND_ENDPOINT),
                   help=f"control-plane command endpoint (default: ${ENDPOINT_ENV} or "
                        f"{protocol.DEFAULT_COMMAND_ENDPOINT})")
    p.add_argument("--user", default=os.environ.get(USER_ENV, DEFAULT_USER),
                   help=f"user name (default: ${USER_ENV} or {DEFAULT_USER!r})")
    p.add_argument("--token-file", metavar="FILE",
                   help=f"file holding the user's token (default: ${TOKEN_ENV})")
    p.add_argument("-c", "--command", dest="sources", action=_Source, metavar="STATEMENTS",
                   help="run these ';'-separated statements and exit (repeatable)")
    p.add_argument("-f", "--script", dest="sources", action=_Source, metavar="FILE",
                   help="run the statements of FILE ('-' = stdin) and exit (repeatable)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per statement on stdout (raw engine units), for automation")
    p.add_argument("--keep-going", action="store_true",
                   help="non-interactive: run the remaining statements after a refused one")
    p.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                   help="how long to wait for each reply (default 5)")
    p.add_argument("--history", default=os.environ.get(HISTORY_ENV, DEFAULT_HISTORY), metavar="FILE",
                   help=f"interactive history file (default: ${HISTORY_ENV} or {DEFAULT_HISTORY}); "
                        "'' keeps no history")
    p.add_argument("--wait", type=float, default=DEFAULT_WAIT_S, metavar="SECONDS",
                   help="at start, wait this long for the control plane to answer (a venue that "
                        f"is still starting), saying so (default {DEFAULT_WAIT_S:g}; 0: no wait)")
    p.add_argument("--refresh", type=float, default=0.5, metavar="SECONDS",
                   help="refresh interval of the live depth view (default 0.5)")
    p.set_defaults(sources=[])
    return p


def read_token(token_file: str | None, environ: dict[str, str] | os._Environ[str] = os.environ,
               warn: Callable[[str], None] = lambda _: None) -> str:
    """The token from the file (first line, whitespace stripped) or the environment.
    Raises UsageError naming the problem."""
    if token_file:
        path = Path(token_file)
        try:
            mode = path.stat().st_mode
            text = read_small_text(path, SECRET_LIMIT)
        except NotASmallFile as e:
            raise UsageError(f"--token-file {token_file}: {e}") from None
        except OSError as e:
            raise UsageError(f"--token-file {token_file}: {e.strerror or e}") from None
        except UnicodeDecodeError:
            raise UsageError(f"--token-file {token_file}: not UTF-8 text (a token is one line of text)") from None
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            warn(f"warning: token file {token_file} is readable by other users (chmod 600 it)")
        lines = text.strip().splitlines()
        if not lines or not lines[0].strip():
            raise UsageError(f"--token-file {token_file}: the file is empty")
        return lines[0].strip()
    token = environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise UsageError(f"no token: give --token-file FILE or set ${TOKEN_ENV}")
    return token


class Shell:
    """One authenticated connection and what the shell knows about the venue."""

    def __init__(self, client: ControlClient, out: Console, err: Console, as_json: bool,
                 refresh_s: float = 0.5) -> None:
        self.client = client
        self.out = out
        self.err = err
        self.as_json = as_json
        self.refresh_s = refresh_s
        self.catalog = Catalog()
        self.formats = Formats()
        self.user = client.user
        self.role = "?"

    # -- talking to the venue ----------------------------------------------------------------
    def call(self, command: str, **args: Any) -> Any:
        try:
            return self.client.call(command, **args)
        except ControlError as e:
            if e.code == "timeout":
                raise _Fatal(f"cannot reach the control plane at {self.client.endpoint}: "
                             f"no reply within {self.client.timeout_s:g} s") from None
            if e.code == protocol.CODE_UNAUTHENTICATED:
                raise _Fatal(f"the control plane at {self.client.endpoint} refused user "
                             f"{self.client.user!r}: {e.message or 'bad user or token'}") from None
            raise

    def connect(self, wait_s: float = 0.0) -> None:
        """whoami (retried for up to wait_s while the control plane does not answer: a venue
        still starting), then the catalog, then a note on instruments that do not trade yet.
        Raises _Fatal saying why the venue is not usable."""
        end = time.monotonic() + wait_s
        said = False
        while True:
            try:
                who = self.call("whoami")
                break
            except _Fatal as e:
                if "no reply within" not in str(e) or time.monotonic() >= end:
                    if said:
                        raise _Fatal(f"{e} (waited {wait_s:g} s: is the venue running? start "
                                     "it with `python -m gateway up`)") from None
                    raise
                if not said:
                    self.err.print(f"waiting up to {wait_s:g} s for the control plane at "
                                   f"{self.client.endpoint} (the venue may still be starting)")
                    said = True
            except ControlError as e:
                raise _Fatal(f"cannot use the control plane at {self.client.endpoint}: {e}") from None
        if isinstance(who, dict):
            self.user, self.role = str(who.get("user", self.user)), str(who.get("role", "?"))
        self.refresh_catalog()
        self.say_not_trading()

    def say_not_trading(self) -> None:
        """A note (stderr, once at start) on instruments not in continuous trading, so that a
        refused order or an empty book is not a surprise."""
        try:
            status = self.call("status")
        except (ControlError, _Fatal):
            return
        if not isinstance(status, dict):
            return
        waiting = [f"{i.get('symbol')} {i.get('phase')}" for i in status.get("instruments", ())
                   if isinstance(i, dict) and str(i.get("phase", "")).upper() not in
                   ("CONTINUOUS", "")]
        if waiting and not self.as_json:
            self.err.print(f"note: not in continuous trading yet: {', '.join(waiting)} "
                           "(the schedule or an operator opens them; `status` shows the phases)")

    def refresh_catalog(self, status: Any = None, sessions: Any = None) -> None:
        try:
            status = status if status is not None else self.call("status")
        except ControlError:
            status = None          # keep what we had: the venue will judge the arguments
        if sessions is None:
            try:
                sessions = self.call("sessions.list")
            except ControlError:
                sessions = None
        extra = None
        if isinstance(status, dict) and "accounts" not in status and "firms" not in status:
            # status does not list the accounts; risk.show covers every configured one
            try:
                risk = self.call("risk.show")
                extra = {"accounts": [a for a in risk.get("accounts", ()) if isinstance(a, dict)]}
            except (ControlError, AttributeError):
                extra = None
        if isinstance(status, dict):
            self.formats = Formats.from_status(status)
            self.catalog = catalog_from(status, sessions if isinstance(sessions, list) else None, extra)

    # -- running statements -------------------------------------------------------------------
    def run(self, cmd: Command) -> tuple[bool, bool]:
        """Runs one parsed command. Returns (ok, quit). Raises _Fatal."""
        if cmd.wire is None:
            return self._local(cmd)
        if cmd.live:
            return self.live_book(cmd), False
        try:
            data = self.call(cmd.wire, **cmd.args)
        except ControlError as e:
            if self.as_json:
                print(json_line(cmd.text, False, e.code, e.message, command=cmd.wire), file=self.out.file)
            self.err.print(Text(error_line(cmd.name, e.code, e.message), style="red"))
            return False, False
        if self.as_json:
            print(json_line(cmd.text, True, protocol.CODE_OK, data=data, command=cmd.wire), file=self.out.file)
        else:
            self.out.print(render(cmd, data, self.catalog, self.formats))
        if cmd.wire == "status" and isinstance(data, dict):
            self.refresh_catalog(status=data)
        elif cmd.wire == "sessions.list" and isinstance(data, list):
            self.catalog = self.catalog.with_sessions(data)
        elif cmd.write:
            self.refresh_catalog()
        return True, False

    def _local(self, cmd: Command) -> tuple[bool, bool]:
        if cmd.path[0] in ("quit", "exit"):
            return True, True
        text = help_text(cmd.args.get("topic"))
        if self.as_json:
            print(json_line(cmd.text, True, protocol.CODE_OK, data=text, command="help"), file=self.out.file)
        else:
            self.out.print(text, highlight=False, markup=False)
        return True, False

    def live_book(self, cmd: Command) -> bool:
        """The depth view: the book redrawn every refresh_s until a key or Ctrl-C."""
        from rich.live import Live
        hint = Text(f"live, every {self.refresh_s:g} s; any key or Ctrl-C stops", style="dim")

        def view() -> Any:
            return Group(book_view(self.call("book", **cmd.args), self.catalog, self.formats), hint)

        try:
            first = view()
        except ControlError as e:
            self.err.print(Text(error_line(cmd.name, e.code, e.message), style="red"))
            return False
        with _KeyWatcher() as keys, Live(first, console=self.out, auto_refresh=False,
                                         transient=False) as live:
            try:
                while not keys.pressed(self.refresh_s):
                    live.update(view(), refresh=True)
            except KeyboardInterrupt:
                pass
            except ControlError as e:
                self.err.print(Text(error_line(cmd.name, e.code, e.message), style="red"))
                return False
        return True


class _KeyWatcher:
    """Puts the terminal in cbreak mode (a key arrives without Enter, Ctrl-C still interrupts) and
    tells whether a key was pressed within a timeout; restores the terminal on exit."""

    def __init__(self, stream: TextIO = sys.stdin) -> None:
        self.stream = stream
        self.fd = stream.fileno() if stream.isatty() else -1
        self.saved: Any = None

    def __enter__(self) -> "_KeyWatcher":
        if self.fd >= 0:
            self.saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        return self

    def pressed(self, timeout_s: float) -> bool:
        if self.fd < 0:
            time.sleep(timeout_s)     # not a terminal: only Ctrl-C / SIGINT stops the view
            return False
        ready, _, _ = select.select([self.fd], [], [], timeout_s)
        if ready:
            os.read(self.fd, 64)       # consume the key so it does not reach the prompt
            return True
        return False

    def __exit__(self, *exc: object) -> None:
        if self.saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)


# ---------------------------------------------------------------------------------------------
# non-interactive

def _read_sources(sources: list[tuple[str, str]], stdin: TextIO) -> list[tuple[str, str]]:
    """(where, text) for each -c / -f, in order. Raises UsageError for an unreadable file."""
    out = []
    for n, (kind, value) in enumerate(sources, 1):
        if kind == "c":
            out.append((f"-c #{n}" if len(sources) > 1 else "-c", value))
        elif value == "-":
            out.append(("<stdin>", stdin.read()))
        else:
            try:
                out.append((value, read_small_text(value)))
            except (OSError, ValueError) as e:      # unreadable, not UTF-8, not a small regular file
                raise UsageError(f"script {value}: {getattr(e, 'strerror', None) or e}") from None
    return out


def _parse_all(texts: list[tuple[str, str]], catalog: Catalog | None) -> list[Command]:
    cmds: list[Command] = []
    for where, text in texts:
        cmds += parse_script(text, catalog, where)
    return cmds


def run_batch(shell: Shell, texts: list[tuple[str, str]], keep_going: bool, tty_out: bool) -> int:
    cmds = _parse_all(texts, shell.catalog)     # with what the venue knows now; raises UsageError
    for c in cmds:
        if c.live and not tty_out:
            raise UsageError(f"{c.name}: the live view needs a terminal; use 'book' in scripts")
    rc = EXIT_OK
    for c in cmds:
        ok, quit_ = shell.run(c)
        if not ok:
            rc = EXIT_REFUSED
            if not keep_going:
                break
        if quit_:
            break
    return rc


# ---------------------------------------------------------------------------------------------
# interactive

def run_interactive(shell: Shell, history: str) -> int:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
    from prompt_toolkit.completion import CompleteEvent, Completer, Completion
    from prompt_toolkit.document import Document
    from prompt_toolkit.history import FileHistory, InMemoryHistory
    from prompt_toolkit.shortcuts import CompleteStyle

    class _Completer(Completer):
        def get_completions(self, document: Document, event: CompleteEvent) -> Iterable[Completion]:
            before = document.text_before_cursor
            word = current_word(before)
            for cand in complete(before, shell.catalog):
                yield Completion(cand, start_position=-len(word))

    hist: Any = InMemoryHistory()
    if history:
        path = Path(history).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600, exist_ok=True)
            hist = FileHistory(str(path))
        except OSError as e:
            shell.err.print(f"warning: history file {path}: {e.strerror or e}; history not kept")
    session: PromptSession[str] = PromptSession(
        history=hist, completer=_Completer(), complete_style=CompleteStyle.READLINE_LIKE,
        auto_suggest=AutoSuggestFromHistory(), complete_while_typing=False)
    shell.out.print(Text.assemble(("venue control shell", "bold"),
                                  f" - {shell.user} ({shell.role}) at {shell.client.endpoint}. "
                                  "'help' lists commands, Tab completes, 'quit' leaves."))
    prompt = f"venue {shell.user}> "
    while True:
        try:
            line = session.prompt(prompt)
        except KeyboardInterrupt:
            continue                    # Ctrl-C clears the line, as in bash
        except EOFError:
            return EXIT_OK              # Ctrl-D
        try:
            statements = split_statements(line)
        except UsageError as e:
            shell.err.print(Text(str(e), style="red"))
            continue
        for _, stmt in statements:
            try:
                cmd = parse(stmt, shell.catalog)
            except UsageError as e:
                shell.err.print(Text(str(e), style="red"))
                break                   # the rest of the line was meant to follow this one
            if cmd is None:
                continue
            try:
                ok, quit_ = shell.run(cmd)
            except _Fatal as e:
                # The service may be restarting: say so and keep the prompt (the connection
                # reconnects by itself); 'quit' leaves.
                shell.err.print(Text(str(e), style="bold red"))
                break
            except KeyboardInterrupt:
                shell.err.print("interrupted")
                break
            if quit_:
                return EXIT_OK
            if not ok:
                break


# ---------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)      # exits 2 on a bad option
    tty_out = sys.stdout.isatty()
    width = shutil.get_terminal_size((120, 40)).columns if tty_out else 160
    out = Console(file=sys.stdout, width=width, highlight=False, soft_wrap=False)
    err = Console(file=sys.stderr, width=width, highlight=False, soft_wrap=True)

    def usage_error(message: str) -> int:
        if args.json:
            print(json_line("", False, "usage", message), file=sys.stdout)
        err.print(Text(message, style="red"))
        return EXIT_USAGE

    if not (0 < args.timeout <= 3600 and 0 < args.refresh <= 3600):     # NaN and inf too: a ms conversion failed
        return usage_error(f"--timeout and --refresh must be > 0 seconds (at most 3600), got "
                           f"{args.timeout:g} and {args.refresh:g}")
    if not 0 <= args.wait <= 3600:
        return usage_error(f"--wait must be 0..3600 seconds, got {args.wait:g}")
    if not ENDPOINT_RE.match(args.endpoint):
        return usage_error(f"--endpoint {args.endpoint!r}: use tcp://HOST:PORT or ipc://PATH, "
                           f"e.g. {protocol.DEFAULT_COMMAND_ENDPOINT}")
    interactive = not args.sources and sys.stdin.isatty()
    sources = args.sources if args.sources or interactive else [("f", "-")]
    try:
        texts = _read_sources(sources, sys.stdin)
        _parse_all(texts, None)            # syntax first: a typo is exit 2 even if the venue is down
        token = read_token(args.token_file, warn=lambda m: err.print(m))
    except UsageError as e:
        return usage_error(str(e))
    try:
        client = ControlClient(args.endpoint, args.user, token, timeout_s=args.timeout)
    except zmq.ZMQError as e:
        return usage_error(f"--endpoint {args.endpoint!r}: {e}")
    shell = Shell(client, out, err, args.json, args.refresh)
    try:
        shell.connect(args.wait)
        if interactive:
            return run_interactive(shell, args.history)
        return run_batch(shell, texts, args.keep_going, tty_out)
    except UsageError as e:
        return usage_error(str(e))
    except _Fatal as e:
        if args.json:
            print(json_line("", False, "unreachable", str(e)), file=sys.stdout)
        err.print(Text(str(e), style="bold red"))
        return EXIT_UNREACHABLE
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
