"""The shell's command language (gateway/control/shell_commands.py): every command parses to the wire
command and arguments of gateway/control/protocol.py, every bad input is a one-line UsageError
that names the command and the problem, and completion offers what parses."""
from __future__ import annotations

import pytest

from gateway.control import protocol
from gateway.control.shell_commands import (ACCOUNT_LIMITS, GRAMMAR, Catalog, Group, Instrument, Leaf, UsageError,
                                            catalog_from, complete, current_word, help_text, parse,
                                            parse_script, split_statements)

CAT = Catalog(instruments=(Instrument(1, "ACME"), Instrument(2, "GLOBX")), accounts=(1, 2, 3),
              sessions=(101, 201))


def ok(line: str, catalog: Catalog | None = CAT) -> tuple[str | None, dict]:
    cmd = parse(line, catalog)
    assert cmd is not None
    return cmd.wire, cmd.args


def bad(line: str, catalog: Catalog | None = CAT) -> str:
    with pytest.raises(UsageError) as info:
        parse(line, catalog)
    msg = str(info.value)
    assert "\n" not in msg
    return msg


# --- every command ------------------------------------------------------------------------------

@pytest.mark.parametrize("line, wire, args", [
    ("status", "status", {}),
    ("STATUS", "status", {}),
    ("whoami", "whoami", {}),
    ("sessions", "sessions.list", {}),
    ("sessions list", "sessions.list", {}),
    ("sessions disconnect 101", "sessions.disconnect", {"session_id": 101}),
    ("book ACME", "book", {"instrument": "ACME", "levels": 10}),
    ("book acme 3", "book", {"instrument": "ACME", "levels": 3}),
    ("book 2", "book", {"instrument": "GLOBX", "levels": 10}),
    ("depth GLOBX 5", "book", {"instrument": "GLOBX", "levels": 5}),
    ("orders 1", "orders", {"account": 1}),
    ("positions", "positions", {}),
    ("positions 3", "positions", {"account": 3}),
    ("halt ACME", "halt", {"instrument": "ACME"}),
    ("halt all", "halt", {"instrument": "all"}),
    ("resume ACME", "resume", {"instrument": "ACME"}),
    ("resume ACME 2", "resume", {"instrument": "ACME", "call_s": 2}),
    ("resume ACME 0.5", "resume", {"instrument": "ACME", "call_s": 0.5}),
    ("resume all 0", "resume", {"instrument": "all", "call_s": 0}),    # after `halt all`
    ("phase ACME halted", "phase", {"instrument": "ACME", "phase": "halted"}),
    ("phase all pre-open", "phase", {"instrument": "all", "phase": "pre_open"}),
    ("phase GLOBX CONTINUOUS", "phase", {"instrument": "GLOBX", "phase": "continuous"}),
    ("kill 1 on", "killswitch", {"account": 1, "engaged": True}),
    ("kill 2 OFF", "killswitch", {"account": 2, "engaged": False}),
    ("risk", "risk.show", {}),
    ("risk show", "risk.show", {}),
    ("risk show 1", "risk.show", {"account": 1}),
    ("risk set account 1 max_position 5_000", "risk.set",
     {"scope": "account", "id": 1, "limit": "max_position", "value": 5000}),
    ("risk set account 1 max_position 100 ACME", "risk.set",
     {"scope": "account", "id": 1, "limit": "max_position", "value": 100, "instrument": "ACME"}),
    ("risk set account 3 auto_kill on", "risk.set",
     {"scope": "account", "id": 3, "limit": "auto_kill", "value": True}),
    ("risk set account 3 concentration_limit 0.5", "risk.set",
     {"scope": "account", "id": 3, "limit": "concentration_limit", "value": 0.5}),
    ("risk set account 3 var_limit 2.5e9", "risk.set",
     {"scope": "account", "id": 3, "limit": "var_limit", "value": 2.5e9}),
    ("risk set instrument ACME max_order_qty none", "risk.set",
     {"scope": "instrument", "id": "ACME", "limit": "max_order_qty", "value": "none"}),
    ("risk set account 3 var_limit none", "risk.set",
     {"scope": "account", "id": 3, "limit": "var_limit", "value": 0}),
    ("risk set account 1 order_velocity 100/1s", "risk.set",
     {"scope": "account", "id": 1, "limit": "order_velocity", "value": "100/1s"}),
    ("risk set account 1 order_velocity none", "risk.set",
     {"scope": "account", "id": 1, "limit": "order_velocity", "value": "none"}),
    ("risk set instrument ACME max_order_qty 10", "risk.set",
     {"scope": "instrument", "id": "ACME", "limit": "max_order_qty", "value": 10}),
    ("alerts", "alerts", {}),
    ("alerts 5", "alerts", {"limit": 5}),
    ("latency", "latency", {}),
    ("tuning", "tuning.audit", {}),
    ("journal", "journal.status", {}),
    ("help", None, {}),
    ("help halt", None, {"topic": "halt"}),
    ("quit", None, {}),
    ("exit", None, {}),
    ("  halt   'ACME'  # with a comment", "halt", {"instrument": "ACME"}),
])
def test_every_command_parses_to_its_wire_form(line: str, wire: str | None, args: dict) -> None:
    assert ok(line) == (wire, args)


def test_writes_are_exactly_the_protocols_write_commands() -> None:
    for line in ("status", "sessions", "sessions disconnect 101", "book ACME", "orders 1",
                 "positions", "halt ACME", "resume ACME", "phase ACME closed", "kill 1 on",
                 "risk show", "risk set account 1 max_position 1", "alerts", "latency", "tuning",
                 "journal", "whoami"):
        cmd = parse(line, CAT)
        assert cmd is not None and cmd.wire in protocol.COMMANDS
        assert cmd.write == protocol.is_write(cmd.wire), line


def _leaves(children, prefix=()):
    for word, node in children.items():
        if isinstance(node, Group):
            yield from _leaves(node.children, (*prefix, word))
        else:
            yield (*prefix, word), node


def test_every_protocol_command_is_reachable_and_every_argument_is_a_protocol_argument() -> None:
    leaves: list[Leaf] = [leaf for _, leaf in _leaves(GRAMMAR)]
    assert {leaf.wire for leaf in leaves if leaf.wire} == set(protocol.COMMANDS)
    for leaf in leaves:
        if leaf.wire is None:
            continue
        names = {a.name for a in leaf.args} | set(leaf.fixed)
        allowed = set(protocol.required_args(leaf.wire)) | set(protocol.optional_args(leaf.wire))
        assert names <= allowed, leaf.wire
        assert set(protocol.required_args(leaf.wire)) <= names, leaf.wire


def test_the_live_view_is_a_book_read() -> None:
    cmd = parse("depth ACME", CAT)
    assert cmd is not None and cmd.live and cmd.wire == "book" and not cmd.write


def test_empty_lines_and_comments_are_nothing() -> None:
    assert parse("", CAT) is None
    assert parse("   ", CAT) is None
    assert parse("# halt ACME", CAT) is None


# --- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("line, message", [
    ("hlt ACME", "unknown command 'hlt' (did you mean halt?); 'help' lists commands"),
    ("frobnicate", "unknown command 'frobnicate'; 'help' lists commands"),
    ("halt XYZ", "halt: unknown instrument 'XYZ' (known: ACME, GLOBX, all)"),
    ("resume XYZ", "resume: unknown instrument 'XYZ' (known: ACME, GLOBX, all)"),
    ("book 9", "book: unknown instrument '9' (known: ACME, GLOBX)"),
    ("halt", "halt: missing INSTR|all (usage: halt INSTR|all)"),
    ("halt ACME GLOBX", "halt: too many arguments (usage: halt INSTR|all)"),
    ("book ACME 0", "book: levels must be 1..1000, got 0"),
    ("book ACME ten", "book: levels must be a whole number, got 'ten'"),
    ("book ACME 1001", "book: levels must be 1..1000, got 1001"),
    ("orders", "orders: missing ACCOUNT (usage: orders ACCOUNT)"),
    ("orders abc", "orders: account must be a whole number, got 'abc'"),
    ("orders -1", "orders: account must be 0..4294967294, got -1"),
    ("orders 99", "orders: unknown account 99 (known: 1, 2, 3)"),
    ("positions 1.5", "positions: account must be a whole number, got '1.5'"),
    ("phase ACME open", "phase: unknown phase 'open' (phases: closed, pre_open, continuous, halted)"),
    ("phase ACME", "phase: missing PHASE (usage: phase INSTR|all PHASE)"),
    ("kill 1", "kill: missing on|off (usage: kill ACCOUNT on|off)"),
    ("kill 1 yes", "kill: expected on or off, got 'yes'"),
    ("kill 7 on", "kill: unknown account 7 (known: 1, 2, 3)"),
    ("sessions kick 101", "sessions: unknown subcommand 'kick' (expected list or disconnect)"),
    ("sessions disconnect", "sessions disconnect: missing SESSION_ID (usage: sessions disconnect SESSION_ID)"),
    ("sessions disconnect 0", "sessions disconnect: session id must be 1..18446744073709551615, got 0"),
    ("sessions disconnect 999", "sessions disconnect: unknown session 999 (known: 101, 201)"),
    ("risk set", "risk set: missing account|instrument (usage: risk set account|instrument ...)"),
    ("risk set firm 1 x 1", "risk set: unknown subcommand 'firm' (expected account or instrument)"),
    ("risk set account 1 max_position", "risk set account: missing VALUE "
                                        "(usage: risk set account ACCOUNT LIMIT VALUE [INSTR])"),
    ("risk set account 1 max_position 1.5", "risk set account: max_position must be a whole number, got '1.5'"),
    ("risk set account 1 max_order_qty 5", "risk set account: unknown limit 'max_order_qty' (known: "
     + ", ".join(ACCOUNT_LIMITS) + ")"),
    ("risk set instrument ACME max_position 5", "risk set instrument: unknown limit 'max_position' "
     "(known: " + ", ".join(protocol.INSTRUMENT_LIMITS) + ")"),
    ("risk set account 1 auto_kill 1", "risk set account: auto_kill takes on or off, got '1'"),
    ("risk set account 1 max_position 0", "risk set account: max_position 0 would refuse every "
     "order: give a limit >= 1, 'none' for no limit, or stop the account with `kill ACCOUNT on`"),
    ("risk set instrument ACME max_order_qty 0", "risk set instrument: max_order_qty 0 would "
     "refuse every order: give a limit >= 1, 'none' for no limit, or halt the instrument with "
     "`halt INSTR`"),
    ("risk set account 1 concentration_limit 2", "risk set account: concentration_limit must be a "
     "fraction in (0, 1], got 2"),
    ("risk set account 1 var_limit -5", "risk set account: var_limit must be 0..9223372036854 (0: no limit), got -5"),
    # qa6: 1e308 went out as a 309-digit int the shell could not encode (an OverflowError traceback)
    ("risk set account 1 loss_limit 1e308", "risk set account: loss_limit must be 0..9223372036854 (0: no limit), "
     "got 1e308"),
    ("risk set account 1 var_limit 9223372036855", "risk set account: var_limit must be 0..9223372036854 "
     "(0: no limit), got 9223372036855"),
    ("risk set account 1 var_limit lots", "risk set account: var_limit must be a number, got 'lots'"),
    ("risk set account 1 drawdown_limit nan", "risk set account: drawdown_limit must be a number, got 'nan'"),
    ("risk set account 1 order_velocity 100", "risk set account: order_velocity: expected N/DURATION such as "
     "'100/1s', '20/250ms' or 'none', got '100'"),
    ("risk set account 1 order_velocity 0/1s", "risk set account: order_velocity: '0/1s': the order count must "
     "be 1..4294967295 ('none' for no limit)"),
    ("resume ACME -1", "resume: call_s must be 0..3600 seconds, got -1"),
    ("alerts 0", "alerts: count must be 1..10000, got 0"),
    ("status now", "status: too many arguments (usage: status)"),
    ("help hlt", "help: unknown command 'hlt' (did you mean halt?)"),
    ("halt 'ACME", "cannot read \"halt 'ACME\": no closing quotation"),
])
def test_bad_input_is_one_clear_line(line: str, message: str) -> None:
    assert bad(line) == message


def test_without_a_catalog_only_syntax_is_checked() -> None:
    # before connecting: names are the venue's to judge, but the syntax is still checked
    assert ok("halt XYZ", None) == ("halt", {"instrument": "XYZ"})
    assert ok("orders 99", None) == ("orders", {"account": 99})
    assert ok("book 7", None) == ("book", {"instrument": 7, "levels": 10})
    assert bad("hlt XYZ", None).startswith("unknown command 'hlt'")
    assert bad("orders x", None) == "orders: account must be a whole number, got 'x'"


def test_unknown_accounts_are_accepted_when_the_venue_does_not_list_them() -> None:
    cat = Catalog(instruments=CAT.instruments)
    assert ok("orders 99", cat) == ("orders", {"account": 99})
    assert bad("halt XYZ", cat) == "halt: unknown instrument 'XYZ' (known: ACME, GLOBX, all)"


def test_a_long_known_list_is_cut() -> None:
    cat = Catalog(instruments=tuple(Instrument(i, f"S{i}") for i in range(1, 30)))
    msg = bad("book XYZ", cat)
    assert msg.endswith(", ...)") and "S12" in msg and "S13" not in msg


# --- scripts ---------------------------------------------------------------------------------

def test_statements_split_at_semicolons_and_newlines_and_skip_comments() -> None:
    text = "status; halt ACME  # stop it\n\n# a comment; not a statement\nbook 'ACME' 3 ;; whoami\n"
    assert split_statements(text) == [(1, "status"), (1, "halt ACME"), (4, "book 'ACME' 3"), (4, "whoami")]


def test_a_semicolon_or_hash_inside_quotes_is_kept() -> None:
    assert split_statements("help 'a;b#c'; status") == [(1, "help 'a;b#c'"), (1, "status")]


def test_an_unterminated_quote_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="line 2: unterminated quote '"):
        split_statements("status\nhalt 'ACME\nstatus")


def test_a_script_is_parsed_whole_and_an_error_names_file_and_line() -> None:
    cmds = parse_script("status\nhalt ACME\n# done\n", CAT, "ops.vsh")
    assert [c.wire for c in cmds] == ["status", "halt"]
    with pytest.raises(UsageError) as info:
        parse_script("status\nhalt ACME\nhalt XYZ\n", CAT, "ops.vsh")
    assert str(info.value) == "ops.vsh:3: halt: unknown instrument 'XYZ' (known: ACME, GLOBX, all)"


# --- help ------------------------------------------------------------------------------------

def test_help_lists_every_command_and_marks_writes() -> None:
    text = help_text()
    for name in GRAMMAR:
        assert f"\n  {name}" in text
    assert "halt INSTR|all" in text and "[operator]" in text
    assert "risk set account ACCOUNT LIMIT VALUE [INSTR]" in text


def test_help_on_one_command() -> None:
    text = help_text("phase")
    assert text.startswith("phase INSTR|all PHASE")
    assert "closed, pre_open, continuous, halted" in text and "operator only" in text


# --- completion ------------------------------------------------------------------------------

@pytest.mark.parametrize("before, expected", [
    ("", sorted(GRAMMAR, key=list(GRAMMAR).index)),
    ("h", ["halt", "help"]),
    ("sta", ["status"]),
    ("halt ", ["ACME", "GLOBX", "all"]),
    ("halt g", ["GLOBX"]),
    ("resume ", ["ACME", "GLOBX", "all"]),
    ("phase ACME ", ["closed", "pre_open", "continuous", "halted"]),
    ("phase ACME c", ["closed", "continuous"]),
    ("phase a", ["ACME", "all"]),
    ("kill ", ["1", "2", "3"]),
    ("kill 1 ", ["on", "off"]),
    ("orders ", ["1", "2", "3"]),
    ("sessions ", ["list", "disconnect"]),
    ("sessions disconnect ", ["101", "201"]),
    ("risk ", ["show", "set"]),
    ("risk set ", ["account", "instrument"]),
    ("risk set account 1 ", list(ACCOUNT_LIMITS)),
    ("risk set instrument ACME max", ["max_order_qty", "max_order_notional"]),
    ("risk set account 1 max_position 5 ", ["ACME", "GLOBX"]),
    ("help ha", ["halt"]),
    ("status ", []),
    ("book ACME ", []),            # a number: nothing to offer
    ("bogus ", []),
    ("status; halt A", ["ACME", "all"]),
    ("strategy start quote 1 ACME --", ["--via", "--other-instrument", "--session", "--key-file", "--gateway", "--md",
                                        "--md-recovery"]),
    ("strategy start quote 1 ACME --via tcp --s", ["--session"]),
    ("strategy start quote 1 ACME --via ", ["slot", "tcp"]),
    ("strategy start quote 1 ACME --other-instrument ", ["ACME", "GLOBX"]),
    ("strategy start quote 1 ACME --via tcp --session ", ["101", "201"]),
    ("strategy start quote ", ["1", "2", "3"]),
    ("strategy start quote 1 --via slot ", ["ACME", "GLOBX"]),
])
def test_completion(before: str, expected: list[str]) -> None:
    assert complete(before, CAT) == expected


def test_every_completed_word_parses() -> None:
    for before in ("halt ", "phase ACME ", "kill 1 ", "risk set account 1 ", "sessions disconnect "):
        for cand in complete(before, CAT):
            line = before + cand
            if line.startswith("risk set"):
                line += {"auto_kill": " on", "concentration_limit": " 0.5", "order_velocity": " 10/1s"}.get(cand, " 1")
            parse(line, CAT)


def test_current_word() -> None:
    assert current_word("halt AC") == "AC"
    assert current_word("halt ") == ""
    assert current_word("status;hal") == "hal"
    assert current_word("") == ""


# --- catalog from replies --------------------------------------------------------------------

def test_catalog_from_status_and_sessions() -> None:
    status = {"venue": "demo", "instruments": [{"id": 1, "symbol": "ACME", "phase": "continuous"},
                                               {"id": 2, "symbol": "GLOBX", "phase": "halted"}],
              "accounts": [1, 2, 3]}
    cat = catalog_from(status, [{"session_id": 101}, {"session_id": 201}])
    assert cat == CAT
    assert catalog_from(status).sessions is None
    firms = {"instruments": [], "firms": [{"firm_id": 1, "accounts": [1, 2]}, {"firm_id": 2, "accounts": [3]}]}
    assert catalog_from(firms).accounts == (1, 2, 3)
    assert catalog_from({"instruments": []}).accounts is None
    assert CAT.with_sessions([{"session_id": 7}]).sessions == (7,)


def test_the_post_trade_limit_bound_is_the_engines() -> None:
    from native.records import POST_TRADE_SCALE
    assert protocol.POST_TRADE_LIMIT_MAX == (2**63 - 1) // POST_TRADE_SCALE
    assert parse("risk set account 1 loss_limit 9223372036854", CAT).args["value"] == 9223372036854   # the largest
