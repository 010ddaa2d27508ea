"""How a cached entry is stored: (epoch, generation, value, expires at) in msgpack.

The epoch and generation are those the entry's load began under; an entry is served only
while both are still current (readthrough.Cache). The expiry travels with the value, so an
in-process copy (near.py) or a patched entry never outlives the Redis entry's TTL.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

_encoder = msgspec.msgpack.Encoder()
_decoders: dict[Any, msgspec.msgpack.Decoder[Any]] = {}


def _decoder(type_: Any) -> msgspec.msgpack.Decoder[Any]:
    decoder = _decoders.get(type_)
    if decoder is None:
        decoder = _decoders[type_] = msgspec.msgpack.Decoder(tuple[int, int, type_, float])
    return decoder


def encode(epoch: int, gen: int, value: Any, expires_at: float) -> bytes:
    return _encoder.encode((epoch, gen, value, expires_at))


def decode_entry(raw: bytes, type_: Any) -> tuple[int, int, Any, float] | None:
    """The whole entry, or None when it was written by another version of a shape."""
    try:
        entry_epoch, entry_gen, value, expires_at = _decoder(type_).decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
        return None
    return int(entry_epoch), int(entry_gen), value, float(expires_at)


def decode(raw: bytes | None, type_: Any, epoch: int, gen: int) -> tuple[Any] | None:
    """The entry's value if it was stored under this epoch and generation, else None."""
    entry = decode_entry(raw, type_) if raw is not None else None
    if entry is not None and entry[0] == epoch and entry[1] == gen:
        return (entry[2],)
    return None


def decode_copy(raw: bytes, type_: Any) -> tuple[Any] | None:
    """A near-cache copy's value, unless its TTL has run out."""
    entry = decode_entry(raw, type_)
    return (entry[2],) if entry is not None and entry[3] > time.time() else None
