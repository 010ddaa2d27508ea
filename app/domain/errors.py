"""Domain errors: each carries a code and a message the UI can show as is."""

from __future__ import annotations


class DomainError(Exception):
    code: str = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    code = "invalid_input"


class NotFound(DomainError):
    code = "not_found"


class UnknownRecipient(NotFound):
    code = "unknown_recipient"


class SelfTransfer(DomainError):
    code = "self_transfer"


class InsufficientBalance(DomainError):
    code = "insufficient_balance"


class WelcomeLocked(InsufficientBalance):
    """The points are there, but welcome points cannot be sent yet (app/domain/welcome.py)."""

    code = "welcome_locked"


class OutOfStock(DomainError):
    code = "out_of_stock"


class AlreadyClaimed(DomainError):
    code = "already_claimed"


class Unavailable(DomainError):
    """The database could not answer (restarting, unreachable, out of connections): nothing
    was done, and the same action may be tried again."""

    code = "unavailable"


class IdempotencyConflict(DomainError):
    """The same idempotency key was reused for a different action."""

    code = "idempotency_conflict"
