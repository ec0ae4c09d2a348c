"""The one exception hierarchy raised by both book backends.

The Rust binding imports these classes, so `except UnknownOrder` works whichever
backend is loaded. Each error carries a machine-readable `code` and a message a
person can act on.
"""

from tradepit.book.constants import ErrorCode


class BookError(Exception):
    """Base class: the command was refused and the book is unchanged."""

    code: ErrorCode

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = ErrorCode(code)

    @property
    def message(self) -> str:
        return str(self.args[0])


class InvalidOrder(BookError, ValueError):
    """The command's arguments break a rule of the instrument or the order model."""


class UnknownOrder(BookError, LookupError):
    """The order id is not resting in the book (never existed, filled, or closed)."""


class InvariantViolation(BookError, AssertionError):
    """`validate()` found the book's internal state inconsistent: a bug, never user input."""


def error_for(code: int, message: str) -> BookError:
    """Build the exception class that goes with an error code."""
    if code == ErrorCode.UNKNOWN_ORDER:
        return UnknownOrder(message, code)
    return InvalidOrder(message, code)
