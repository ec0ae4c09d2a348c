"""The one error the exchange raises: a refusal that changed nothing."""

from tradepit.exchange.codes import RejectCode


class Reject(Exception):
    """A command was refused. `code` is machine-readable; the message says what to do."""

    def __init__(self, code: RejectCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"Reject({self.code.name}, {self.message!r})"
