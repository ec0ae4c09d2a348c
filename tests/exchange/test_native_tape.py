"""A batch's entries on their way to the writer (journal/pending.py). The Rust exchange's
tape is held to the journal's codec, the reference: every command it applied is on the
tape as `codec.encode` makes its entry, byte for byte and checksum too, and a refused
one is not. Either form of a batch makes the same entries in the writer."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tradepit.exchange.codes import BalanceChange
from tradepit.exchange.commands import (
    AdjustBalance,
    Command,
    CreateAccount,
    CreateInstrument,
    SubmitOrder,
)
from tradepit.exchange.native import NativeExchange
from tradepit.journal.codec import KINDS, Entry, decode_tape, encode, kind_of
from tradepit.journal.pending import FieldEntries, TapedEntries, entries_of, journal_rows_of
from tradepit.journal.store import ROWS_PER_STATEMENT, ungroup

from .streams import random_commands

COMMANDS = 20_000
TAKE_EVERY = 997  # commands between two takes of the tape: batches of odd sizes


@pytest.fixture(autouse=True)
def native() -> None:
    try:
        NativeExchange()
    except ImportError as error:
        pytest.fail(str(error), pytrace=False)


def _apply(exchange: NativeExchange, command: Command) -> bool:
    """Apply `command`; whether it was accepted (a refusal changes nothing)."""
    try:
        exchange.execute(command)
    except Exception:  # a Reject, or a value the exchange cannot read
        return False
    finally:
        exchange.take_reports()
        exchange.take_market_events()
    return True


@pytest.mark.parametrize("seed", [3, 17])
def test_the_tape_holds_the_codecs_entry_of_every_applied_command(seed: int) -> None:
    exchange = NativeExchange()
    tape = exchange.journal_tape
    first = 1_000_001
    tape.start_tape(first)
    expected: list[Entry] = []
    taped: list[Entry] = []
    refused = 0
    stream = random_commands(seed, COMMANDS, lambda: exchange._next_order_id)
    for index, command in enumerate(stream):
        if _apply(exchange, command):
            expected.append(encode(first + len(expected), command))
        else:
            refused += 1
        if index % TAKE_EVERY == 0:
            taped += decode_tape(tape.take_tape())
    taped += decode_tape(tape.take_tape())
    assert taped == expected
    assert [type(entry) for entry in taped] == [Entry] * len(expected)
    assert tape.tape_next() == first + len(expected)
    assert {entry.kind for entry in taped} == set(KINDS)  # every command the journal holds
    assert refused > COMMANDS // 10  # the stream's bad input was refused, and not taped


# Any text a name may hold but a lone surrogate (which the exchange cannot read): what
# JSON escapes, control characters, non-ASCII.
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=()), max_size=16)


@settings(max_examples=300, deadline=None)
@given(name=TEXT, amount=st.integers(min_value=1, max_value=2**100))
def test_the_tape_writes_any_text_and_any_amount_as_the_codec_does(
        name: str, amount: int) -> None:
    exchange = NativeExchange()
    tape = exchange.journal_tape
    tape.start_tape(1)
    commands = [CreateAccount("a" + name, name + "k", 5),  # a name is never blank
                AdjustBalance(1, amount, BalanceChange.DEPOSIT, 6)]
    for command in commands:
        exchange.execute(command)
    assert decode_tape(tape.take_tape()) == [
        encode(sequence, command) for sequence, command in enumerate(commands, 1)]


def test_either_form_makes_the_same_entries_in_the_writer() -> None:
    exchange = NativeExchange()
    taped = TapedEntries(exchange.journal_tape, 1)
    fields = FieldEntries()
    sequence = 1
    for command in random_commands(5, 3_000, lambda: exchange._next_order_id):
        if _apply(exchange, command):
            for entries in (taped, fields):
                entries.add(sequence, kind_of(command), command)
            sequence += 1
    batch = taped.take(sequence)
    made = entries_of(batch)
    assert made == entries_of(fields.take(sequence))
    assert [entry.sequence for entry in made] == list(range(1, sequence))
    # and as the journal table's rows, grouped for its statements
    rows = journal_rows_of(batch)
    assert {len(values) for values in rows[:-1]} == {ROWS_PER_STATEMENT * len(Entry._fields)}
    assert ungroup("journal", rows) == [tuple(entry) for entry in made]


def test_a_command_the_exchange_raised_on_is_journaled_all_the_same() -> None:
    """The gateway journals a command that raised something other than a refusal. The
    Rust exchange raises before any change and tapes nothing, so its entry is encoded
    from the command's fields."""
    exchange = NativeExchange()
    entries = TapedEntries(exchange.journal_tape, 5)
    listing = CreateInstrument("ACME", 1, 1, 100, 1_000, 7)
    exchange.execute(listing)
    entries.add(5, kind_of(listing), listing)
    unreadable = SubmitOrder(1, "c1", "ACME", 1, 1, 0, "100", 1, False, 0, 8)
    with pytest.raises(TypeError):
        exchange.execute(unreadable)
    entries.add(6, kind_of(unreadable), unreadable)
    assert entries_of(entries.take(7)) == [encode(5, listing), encode(6, unreadable)]


def test_a_command_that_bypassed_the_journal_is_caught() -> None:
    exchange = NativeExchange()
    entries = TapedEntries(exchange.journal_tape, 1)
    exchange.execute(CreateInstrument("ACME", 1, 1, 100, 1_000, 7))
    behind_its_back = CreateInstrument("BETA", 1, 1, 100, 1_000, 8)
    exchange.execute(behind_its_back)
    with pytest.raises(RuntimeError, match="bypassed the journal"):
        entries.add(1, kind_of(behind_its_back), behind_its_back)


def test_a_batch_with_a_command_that_bypassed_the_journal_is_refused() -> None:
    """The order path adds nothing per taped command; the cut checks that the tape holds
    exactly the entries the journal numbered."""
    exchange = NativeExchange()
    entries = TapedEntries(exchange.journal_tape, 1)
    exchange.execute(CreateInstrument("ACME", 1, 1, 100, 1_000, 7))  # journaled as entry 1
    exchange.execute(CreateInstrument("BETA", 1, 1, 100, 1_000, 8))  # behind its back
    with pytest.raises(RuntimeError, match="tape is at entry 3, the journal at 2"):
        entries.take(2)


def test_a_tape_cut_short_is_refused() -> None:
    exchange = NativeExchange()
    tape: Any = exchange.journal_tape
    tape.start_tape(1)
    exchange.execute(CreateInstrument("ACME", 1, 1, 100, 1_000, 7))
    whole = tape.take_tape()
    assert len(decode_tape(whole)) == 1
    for cut in (1, 17, len(whole) - 1):
        with pytest.raises(ValueError, match="cut short"):
            decode_tape(whole[:cut])
