"""The per-user key/value store: Telegram CloudStorage semantics on Redis.

One Redis hash per member ({u:<id>} hash tag), so clearing a member is one DEL and never a
scan of the keyspace, and no call can name another member's hash. Limits are
CloudStorage's, so Mini App code written for it can switch without surprises.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from app.cache.backends import Backend
from app.cache.keys import member_store_key

MAX_KEYS = 1024
MAX_VALUE_CHARS = 4096
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class StoreError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidKey(StoreError):
    code = "invalid_key"


class ValueTooLarge(StoreError):
    status = 413
    code = "value_too_large"


class TooManyKeys(StoreError):
    status = 409
    code = "too_many_keys"


def check_key(key: str) -> str:
    if not isinstance(key, str) or not KEY_RE.fullmatch(key):
        raise InvalidKey("A key is 1-128 characters of A-Z, a-z, 0-9, _ and -.")
    return key


def check_value(value: str) -> str:
    if not isinstance(value, str):
        raise StoreError("A value is a string.")
    if len(value) > MAX_VALUE_CHARS:
        raise ValueTooLarge(f"A value is at most {MAX_VALUE_CHARS} characters.")
    return value


class UserStore:
    """Backend errors (Redis down) propagate as BackendError: the API answers 503.

    `hash_of` names a member's hash: the member's own store (/cache) by default, or the
    app's per-member keys (keys.app_store_key), which live apart from the member's."""

    def __init__(self, backend: Backend, hash_of: Callable[[int], str] = member_store_key) -> None:
        self.backend = backend
        self.hash_of = hash_of

    def get(self, user_id: int, key: str) -> str | None:
        raw = self.backend.hget_many(self.hash_of(user_id), [check_key(key)])[0]
        return None if raw is None else raw.decode("utf-8")

    def get_many(self, user_id: int, keys: list[str]) -> dict[str, str | None]:
        checked = [check_key(k) for k in keys]
        raws = self.backend.hget_many(self.hash_of(user_id), checked)
        return {
            k: (None if r is None else r.decode("utf-8"))
            for k, r in zip(checked, raws, strict=True)
        }

    def put(self, user_id: int, key: str, value: str) -> None:
        stored = self.backend.hset_limited(
            self.hash_of(user_id),
            check_key(key),
            check_value(value).encode("utf-8"),
            MAX_KEYS,
        )
        if not stored:
            raise TooManyKeys(f"At most {MAX_KEYS} keys per user; delete some first.")

    def delete(self, user_id: int, keys: list[str]) -> int:
        return self.backend.hdel(self.hash_of(user_id), [check_key(k) for k in keys])

    def keys(self, user_id: int) -> list[str]:
        return sorted(self.backend.hkeys(self.hash_of(user_id)))

    def clear(self, user_id: int) -> None:
        self.backend.delete(self.hash_of(user_id))
