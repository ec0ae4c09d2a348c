"""Both backends, fed the same seeded 100,000-command streams, agree on everything."""

import pytest
from tradepit.book import load_backend
from tradepit.book.codec import encode_commands

from .ledger import Ledger
from .streams import LOT, TICK, apply, random_commands

COMMANDS = 100_000


@pytest.fixture(scope="module")
def backends():
    try:
        return load_backend("rust"), load_backend("python")
    except ImportError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_event_streams_and_state_hashes_are_identical(backends, seed):
    rust, python = (module.Book(TICK, LOT) for module in backends)
    ledger = Ledger()
    kinds_seen: set[str] = set()
    stp_cancels = 0
    for index, command in enumerate(random_commands(seed, COMMANDS)):
        expected = apply(python, command)
        assert apply(rust, command) == expected, f"command {index}: {command}"
        kinds_seen.add(str(command.kind) if expected[0] == "events" else expected[0])
        if expected[0] == "events":
            events = [python_event(fields) for fields in expected[1:]]
            ledger.apply(events)
            stp_cancels += sum(1 for e in events if e.kind == 3 and e.reason == 4)
        if index % 2_000 == 0:
            rust.validate()
            python.validate()
            assert rust.state_hash() == python.state_hash()
    rust.validate()
    python.validate()
    ledger.check_against(python)
    assert rust.state_hash() == python.state_hash()
    assert rust.orders() != ([], []) or len(python) == 0
    assert kinds_seen == {"1", "2", "3", "4", "error", "unknown kind"}
    assert stp_cancels > 500, "the stream should collide owners often"
    assert ledger.volume > 0


@pytest.mark.parametrize("seed", [4])
def test_batch_replay_matches_per_call_replay_in_both_backends(backends, seed):
    commands = list(random_commands(seed, COMMANDS))
    data = encode_commands(commands)
    outputs, hashes = [], []
    for module in backends:
        book = module.Book(TICK, LOT)
        outputs.append(book.apply_batch(data))
        hashes.append(book.state_hash())
        book.validate()
    per_call = load_backend("python").Book(TICK, LOT)
    for command in commands:
        apply(per_call, command)
    assert outputs[0] == outputs[1]
    assert hashes[0] == hashes[1] == per_call.state_hash()


def python_event(fields):
    from tradepit.book.pure import Event

    return Event(*fields)
