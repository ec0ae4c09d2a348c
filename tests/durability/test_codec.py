"""Journal entries: every command round-trips exactly, and any change to an entry is caught."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tradepit._native import encode_journal_entry
from tradepit.exchange.commands import (
    AdjustBalance,
    AmendOrder,
    CancelAll,
    CancelOrder,
    CreateAccount,
    CreateInstrument,
    EndSession,
    OrderRef,
    RemoveInstrument,
    SetLimits,
    SetTradingStatus,
    SubmitOrder,
)
from tradepit.journal import codec
from tradepit.journal.codec import (
    KINDS,
    CorruptEntry,
    Entry,
    checksum,
    decode,
    encode,
    encode_all,
    encode_fields,
    python_encode_fields,
)

big = st.integers(min_value=-(2**80), max_value=2**80)
time_ns = st.integers(min_value=0, max_value=2**63 - 1)
text = st.text()
refs = st.builds(OrderRef, big, text)
commands = st.one_of(
    st.builds(CreateAccount, text, text, time_ns, st.booleans()),
    st.builds(AdjustBalance, big, big, big, time_ns, text),
    st.builds(CreateInstrument, text, big, big, big, big, time_ns),
    st.builds(SetTradingStatus, text, big, time_ns),
    st.builds(EndSession, text, time_ns),
    st.builds(RemoveInstrument, text, time_ns),
    st.builds(SetLimits, big, big, big, big, time_ns),
    st.builds(SubmitOrder, big, text, text, big, big, big, big, big, st.booleans(), big,
              time_ns),
    st.builds(CancelOrder, big, refs, time_ns),
    st.builds(AmendOrder, big, refs, big, big, time_ns),
    st.builds(CancelAll, big, text, time_ns),
)


def test_every_command_class_has_a_kind():
    assert set(KINDS) == {"CreateAccount", "AdjustBalance", "CreateInstrument",
                          "SetTradingStatus", "EndSession", "SubmitOrder", "CancelOrder",
                          "AmendOrder", "CancelAll", "RemoveInstrument", "SetLimits"}


@given(commands, st.integers(min_value=1, max_value=2**62))
def test_commands_round_trip_exactly(command, sequence):
    entry = encode(sequence, command)
    decoded = decode(entry)
    assert decoded == command
    assert type(decoded) is type(command)
    # bools stay bools and nested refs stay OrderRefs, not ints and lists
    assert [type(v) for v in decoded] == [type(v) for v in command]
    assert entry.arrived_ns == command.timestamp
    assert encode(sequence, decoded) == entry  # deterministic


# Strings with what JSON must escape, non-ASCII and lone surrogates (which the Rust
# encoder leaves to Python).
awkward = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
awkward_commands = st.one_of(
    commands,
    st.builds(SubmitOrder, big, awkward, awkward, big, big, big, big, big, st.booleans(),
              big, time_ns),
    st.builds(CancelOrder, big, st.builds(OrderRef, big, awkward), time_ns),
    st.builds(CreateAccount, awkward, awkward, time_ns, st.booleans()),
)


@given(awkward_commands, st.integers(min_value=1, max_value=2**62))
def test_the_rust_encoder_gives_the_python_encoders_bytes(command, sequence):
    kind = type(command).__name__
    assert codec.ENCODER == "rust"  # built by `make install`
    assert encode_fields(sequence, kind, tuple(command)) == python_encode_fields(
        sequence, kind, tuple(command))
    assert decode(encode(sequence, command)) == command


def test_the_rust_encoder_leaves_what_only_python_writes_exactly_to_python():
    names, values = ("amount", "text"), (2**64, "x")
    assert encode_journal_entry(1, 2, "AdjustBalance", names, values) is None
    assert encode_journal_entry(1, 2, "AdjustBalance", names, (1, "\ud800")) is None
    assert encode_journal_entry(1, 2, "AdjustBalance", names, (1, 1.5)) is None
    assert encode_journal_entry(1, 2, "AdjustBalance", names, (1, (1, 2))) is None
    payload, crc = encode_journal_entry(1, 2, "AdjustBalance", names, (-(2**63), "é\n"))
    assert payload == '{"amount":-9223372036854775808,"text":"é\\n"}'.encode()
    assert crc == checksum(1, 2, "AdjustBalance", payload)


@given(st.lists(commands, max_size=5), st.integers(min_value=1, max_value=2**62))
def test_the_writer_process_encodes_a_batch_from_its_pickled_fields_alike(batch, first):
    """The server sends (sequence, kind, fields) to the writer process (journal/writer.py),
    which encodes the batch in one call."""
    sent = pickle.loads(pickle.dumps([(first + i, type(c).__name__, tuple(c))
                                      for i, c in enumerate(batch)]))
    entries = encode_all(sent)
    assert entries == [encode(first + i, c) for i, c in enumerate(batch)]
    assert all(type(entry) is Entry for entry in entries)


def test_encoding_is_plain_json_named_by_field():
    entry = encode(7, CancelOrder(3, OrderRef(0, "abc"), 99))
    assert entry.kind == "CancelOrder"
    assert entry.payload == (b'{"account_id":3,"ref":{"order_id":0,"client_order_id":"abc"},'
                             b'"timestamp":99}')


ENTRY = encode(5, SubmitOrder(1, "c1", "ACME", 1, 1, 1, 10_000, 3, False, 1, 123))


@pytest.mark.parametrize("change", [
    {"payload": ENTRY.payload[:-1]},                             # cut short
    {"payload": ENTRY.payload.replace(b"10000", b"10001")},       # one digit changed
    {"sequence": 6},                                              # moved
    {"arrived_ns": 124},
    {"kind": "CancelAll"},
    {"checksum": ENTRY.checksum ^ 1},
])
def test_any_change_to_an_entry_fails_its_checksum(change):
    with pytest.raises(CorruptEntry, match="checksum") as raised:
        decode(ENTRY._replace(**change))
    assert raised.value.sequence == change.get("sequence", 5)


@pytest.mark.parametrize("position", range(0, len(ENTRY.payload), 7))
def test_every_single_bit_flip_is_caught(position):
    payload = bytearray(ENTRY.payload)
    payload[position] ^= 0x10
    with pytest.raises(CorruptEntry):
        decode(ENTRY._replace(payload=bytes(payload)))


def _sealed(entry: Entry) -> Entry:
    """An entry with a valid checksum over whatever it holds."""
    from tradepit.journal.codec import checksum

    return entry._replace(checksum=checksum(entry.sequence, entry.arrived_ns, entry.kind,
                                            entry.payload))


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": "Explode"}, "unknown command kind"),
    ({"payload": b"[1, 2]"}, "does not decode"),
    ({"payload": b'{"account_id": 1}'}, "does not decode"),
    ({"payload": b"\xff"}, "does not decode"),
    ({"arrived_ns": 1}, "timestamp is not its arrival time"),
])
def test_a_well_sealed_entry_that_makes_no_sense_is_refused(change, message):
    with pytest.raises(CorruptEntry, match=message):
        decode(_sealed(ENTRY._replace(**change)))

