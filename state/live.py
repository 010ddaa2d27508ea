"""Live data, pushed: a write anywhere reaches the open screens that show it.

Every write bumps the cache generations of what it changed, and every process hears those
bumps through Redis pub/sub (app/cache/changes.py). Each process then pushes to its own
connected tabs, and only to those whose screen shows what changed:

- Data every member sees alike (the feed head, Home's latest rows, the leaderboard, the
  market's stock) is a `Broadcast`: read once per process from the cache and sent as one
  Reflex delta to a socket.io room of the tabs on that screen. No tab state is loaded or
  saved for it, so its cost does not grow with a tab's state; a tab only receives bytes.
  The tab's stored copy of those vars is what its last load saw, and every load assigns
  them afresh, so nothing is sent from a stale copy.
- A member's own data (balance, history, purchases) changes only for the members a write
  touched: their tabs on this process get their screen reloaded through their own Reflex
  state (`refresh_tab`), one task per tab, so a slow tab holds up nobody.
- A tab that holds more than the shared value (a Feed scrolled past its first page) owns
  that broadcast instead: it gets its own refresh, not the room's delta.

Pushes are coalesced: the first change after a quiet spell goes out at once, later ones at
most every `interval_s` per process (so at most about one push per tab per interval). A
minimized tab has left its rooms (`pause`) and receives nothing; on `activated` it loads
its screen again and follows anew. A screen that shows nothing live costs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import reflex as rx
from engineio import packet as eio_packet
from prometheus_client import Counter, Gauge, Histogram
from reflex.event import Event
from reflex.istate.manager.token import BaseStateToken
from reflex.state import StateUpdate
from reflex_base.constants.state import FIELD_MARKER
from socketio import packet as sio_packet

from app.cache import get_backend, get_cache, keys
from app.cache.backends import MemoryBackend, RedisBackend
from app.cache.changes import Changes, listen_redis
from app.cache.keys import Family

logger = logging.getLogger(__name__)

# The values a broadcast sends: state class -> {var name: value}.
Values = dict[type[rx.State], dict[str, Any]]


@dataclass(frozen=True)
class Broadcast:
    """Data that every tab on a screen sees alike, pushed to all of them as one delta."""

    name: str
    families: tuple[Family, ...]  # the changes that make it stale
    # The value for one variant (`arg`: an item id, a board period; "" when there is one).
    read: Callable[[str], Awaitable[Values]]
    # Which variant a tab shows, read from its state.
    arg: Callable[[rx.State], Awaitable[str]] | None = None
    # A tab that holds more than the shared value takes it over (see module doc) and gets
    # `refresh` run in its own state instead of the room's delta.
    owned: Callable[[rx.State], Awaitable[bool]] | None = None
    refresh: Callable[[rx.State], Awaitable[None]] | None = None

    @property
    def tags(self) -> set[str]:
        return {f.tag for f in self.families}

    def room(self, arg: str) -> str:
        return f"live:{self.name}:{arg}"


@dataclass
class Tab:
    """What this process knows of one connected tab (by socket id)."""

    token: str
    member: int
    route: str
    owned: tuple[Broadcast, ...] = ()
    active: bool = True
    # The member's own generations its screen was loaded under: a change already in
    # them (the member's own write, like the welcome bonus of a first open) is not
    # pushed again.
    seen: dict[str, int] = field(default_factory=dict)

    def has_news(self, changes: Changes) -> bool:
        if changes.everything:
            return True
        if self.member not in changes.members:
            return False
        mine = [f.generation_key for f in member_families(self.member)]
        heard = {k: changes.generations[k] for k in mine if k in changes.generations}
        # Without the values (the in-process backend) every change is news.
        return not heard or any(self.seen.get(k) != v for k, v in heard.items())


def member_families(member: int) -> list[Family]:
    return [keys.profile(member), keys.history(member), keys.purchases(member)]


def flushes() -> int | None:
    """Before a screen loads: how many flushes this process has made (see LiveHub.place)."""
    current = hub()
    return current.seq if current is not None else None


async def member_versions(member: int) -> dict[str, int]:
    """Before a screen loads: the member's generations it will see (see Tab.seen)."""
    if hub() is None or not member:
        return {}
    versions = await asyncio.to_thread(get_cache().versions, member_families(member))
    return versions or {}


# Route as Reflex names it ("/index", "/market/[item_id]") -> what its screen shows live.
LIVE: dict[str, tuple[Broadcast, ...]] = {}
# Reloads one tab's screen for its member (state/session.py registers it).
_refresh_member: list[Callable[[rx.State, str], Awaitable[Any]]] = []

PUSHES = Counter(
    "live_pushes_total",
    "Live pushes: deltas sent to a room of tabs, and tabs refreshed in their own state",
    ["kind"],
)
PUSH_SECONDS = Histogram(
    "live_flush_seconds",
    "Time to push one batch of changes to this process's rooms (tab refreshes excluded)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
TABS = Gauge("live_tabs", "Tabs this process pushes to (active, bound)", multiprocess_mode="sum")

INTERVAL_S = 0.75  # at most one push per tab per interval: p95 of write-to-screen < 1 s
GATHER_S = 0.02  # the first change after a quiet spell waits this long for its siblings
MAX_TAB_TASKS = 32  # per-tab pushes running at once, per process
FAN_OUT_BATCH = 50  # tabs sent to before other work gets the event loop


def register(route: str, broadcasts: Sequence[Broadcast]) -> None:
    LIVE[route] = tuple(broadcasts)


def on_member_change(fn: Callable[[rx.State, str], Awaitable[None]]) -> None:
    _refresh_member[:] = [fn]


class NotPushable(TypeError):
    pass


def delta(values: Values) -> dict[str, dict[str, Any]]:
    """A Reflex delta setting these vars, as the page applies it.

    Only plain vars of the class itself: a computed var is worked out from the state on
    the server, which a broadcast never loads, so one that depends on a pushed var would
    be left stale on the page (write the page with an expression instead).
    """
    out: dict[str, dict[str, Any]] = {}
    for cls, fields in values.items():
        for name in fields:
            if name not in cls.base_vars or name.startswith("_"):
                raise NotPushable(f"{cls.__name__}.{name} is not a plain var of the page")
            if cls._var_dependencies.get(name):
                raise NotPushable(f"computed vars depend on {cls.__name__}.{name}")
        out[cls.get_full_name()] = {name + FIELD_MARKER: value for name, value in fields.items()}
    return out


class LiveHub:
    """One per process: the tabs connected here, their rooms, and the push loop."""

    def __init__(self, app: rx.App, interval_s: float = INTERVAL_S) -> None:
        self.app = app
        self.interval_s = interval_s
        self.tabs: dict[str, Tab] = {}
        self.variants: dict[str, tuple[Broadcast, str]] = {}  # room -> its broadcast, arg
        # Flushes so far, and the last one that pushed to each room: a tab that read its
        # screen before a push and joined the room after it is sent the room's value.
        self.seq = 0
        self.room_seq: dict[str, int] = {}
        self._pending = Changes()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_flush = 0.0
        self._slots = asyncio.Semaphore(MAX_TAB_TASKS)
        self._tasks: set[asyncio.Task[None]] = set()

    # -- what tabs follow ---------------------------------------------------------------

    @property
    def _namespace(self) -> str:
        namespace = self.app.event_namespace
        return namespace.namespace if namespace is not None else "/_event"

    async def place(
        self,
        sid: str,
        tab: Tab,
        rooms: dict[str, tuple[Broadcast, str]],
        since: int | None = None,
    ) -> None:
        """The tab `sid` shows `rooms` from now on (and nothing it showed before); `since`:
        the flush count before its screen was read (a push it missed is sent to it)."""
        sio = self.app.sio
        if sio is None:
            return
        ns = self._namespace
        if not sio.manager.is_connected(sid, ns):
            # The socket closed while its event ran (a phone that went away mid-resume):
            # nothing to push to; its next connection follows on its own load.
            self.tabs.pop(sid, None)
            return
        current = {r for r in sio.rooms(sid, ns) if isinstance(r, str) and r.startswith("live:")}
        try:
            for room in current - rooms.keys():
                await sio.leave_room(sid, room, ns)
            for room, variant in rooms.items():
                self.variants[room] = variant
                if room not in current:
                    await sio.enter_room(sid, room, ns)
        except KeyError:  # disconnected between the check and here
            self.tabs.pop(sid, None)
            return
        self.tabs[sid] = tab
        if since is not None:
            for room, variant in rooms.items():
                if self.room_seq.get(room, -1) > since:
                    self._spawn(self._catch_up(sid, room, variant))

    async def _catch_up(self, sid: str, room: str, variant: tuple[Broadcast, str]) -> None:
        broadcast, arg = variant
        try:
            values = await broadcast.read(arg)
            await self._fan_out(room, StateUpdate(delta=delta(values)), only=sid)
        except Exception:
            logger.warning("live catch-up of %s failed", room, exc_info=True)

    async def pause(self, sid: str) -> None:
        """Minimized: leave every room; nothing is pushed until the tab follows again."""
        tab = self.tabs.get(sid)
        if tab is not None:
            tab.active = False
        # Kept when unknown too: a later load of this tab must not follow while minimized.
        await self.place(sid, tab or Tab("", 0, "", active=False), {})

    # -- hearing changes ----------------------------------------------------------------

    def notify(self, changes: Changes) -> None:
        """From any thread (the in-process backend calls it from the writer's thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._add(changes)
        else:
            loop.call_soon_threadsafe(self._add, changes)

    def _add(self, changes: Changes) -> None:
        self._pending.merge(changes)
        self._wake.set()

    def _memory_listener(self, keys: list[str]) -> None:
        batch = Changes()
        for key in keys:
            batch.add_key(key)
        self.notify(batch)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        backend = get_backend()
        listener: asyncio.Task[None] | None = None
        if isinstance(backend, RedisBackend):
            listener = asyncio.create_task(listen_redis(backend.url, self.notify))
        elif isinstance(backend, MemoryBackend):
            backend.listeners.append(self._memory_listener)
        try:
            while True:
                await self._wake.wait()
                # Leading edge after a quiet spell, then at most one flush per interval.
                wait = max(GATHER_S, self._last_flush + self.interval_s - time.monotonic())
                await asyncio.sleep(wait)
                self._wake.clear()
                changes, self._pending = self._pending, Changes()
                self._last_flush = time.monotonic()
                try:
                    with PUSH_SECONDS.time():
                        await self.flush(changes)
                except Exception:
                    logger.exception("live push failed")
        finally:
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(BaseException):
                    await listener
            if isinstance(backend, MemoryBackend):
                with contextlib.suppress(ValueError):
                    backend.listeners.remove(self._memory_listener)

    # -- pushing ------------------------------------------------------------------------

    async def flush(self, changes: Changes) -> None:
        if not changes:
            return
        sio = self.app.sio
        if sio is None:
            return
        ns = self._namespace
        self._forget_gone(ns)
        self.seq += 1
        for room, (broadcast, arg) in list(self.variants.items()):
            if not changes.touches(broadcast.tags):
                continue
            if not any(True for _ in sio.manager.get_participants(ns, room)):
                del self.variants[room]  # nobody shows it any more
                continue
            try:
                values = await broadcast.read(arg)
            except Exception:
                logger.exception("live read %s failed", room)
                continue
            self.room_seq[room] = self.seq
            await self._fan_out(room, StateUpdate(delta=delta(values)))
            PUSHES.labels("room").inc()
        for tab in list(self.tabs.values()):
            if not tab.active or not tab.member:
                continue
            mine = tab.has_news(changes)
            owned = [b for b in tab.owned if changes.touches(b.tags)]
            if mine:
                tab.seen.update(changes.generations)
            if mine or owned:
                self._spawn(self._refresh_tab(tab, mine, owned))

    async def _fan_out(self, room: str, update: StateUpdate, only: str = "") -> None:
        """One delta to every tab in `room`: encoded once, queued on each socket in turn.

        What socket.io's room emit does, without a task per tab, and with the loop handed
        back every FAN_OUT_BATCH tabs, so events that arrive meanwhile are not held up by a
        room of a thousand tabs (the socket's own writer sends each frame; a slow tab only
        grows its own queue).
        """
        sio = self.app.sio
        if sio is None:
            return
        ns = self._namespace
        encoded = sio.packet_class(sio_packet.EVENT, namespace=ns, data=["event", update]).encode()
        frames = [
            eio_packet.Packet(eio_packet.MESSAGE, part)
            for part in (encoded if isinstance(encoded, list) else [encoded])
        ]
        for n, (sid, eio_sid) in enumerate(list(sio.manager.get_participants(ns, room)), 1):
            if only and sid != only:
                continue
            for frame in frames:
                await sio._send_eio_packet(eio_sid, frame)
            if n % FAN_OUT_BATCH == 0:
                await asyncio.sleep(0)

    def _forget_gone(self, ns: str) -> None:
        sio = self.app.sio
        if sio is None:
            return
        for sid in [s for s in self.tabs if not sio.manager.is_connected(s, ns)]:
            del self.tabs[sid]
        TABS.set(sum(1 for tab in self.tabs.values() if tab.active and tab.member))

    def _spawn(self, coro: Awaitable[None]) -> None:
        async def bounded() -> None:
            async with self._slots:
                await coro

        task = asyncio.create_task(bounded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _refresh_tab(self, tab: Tab, mine: bool, owned: list[Broadcast]) -> None:
        """Reload what one tab shows of its member's data, in its own state (lock, load,
        save, delta), as an event would."""
        from state.session import SessionState  # session imports this module

        try:
            asked: Any = None
            async with self.app.modify_state(
                BaseStateToken(ident=tab.token, cls=SessionState)
            ) as state:
                if mine and _refresh_member:
                    asked = await _refresh_member[0](state, tab.route)
                for broadcast in owned:
                    if broadcast.refresh is not None:
                        await broadcast.refresh(state)
            if asked is not None and (namespace := self.app.event_namespace) is not None:
                # Events for the page, as a handler's return value would be (a tab whose
                # state was lost is asked for its initData).
                update = StateUpdate(events=Event.from_event_type(asked))
                await namespace.emit_update(update, tab.token)
            PUSHES.labels("tab").inc()
        except Exception:
            logger.warning("live refresh of a tab failed", exc_info=True)


_hub: list[LiveHub] = []


def hub() -> LiveHub | None:
    return _hub[0] if _hub else None


def install(app: rx.App) -> None:
    """Start this process's hub with the app (app.py)."""

    async def live_pushes(app: rx.App) -> None:
        current = LiveHub(app)
        _hub[:] = [current]
        try:
            await current.run()
        finally:
            _hub.clear()

    app.register_lifespan_task(live_pushes)


async def follow(
    state: rx.State,
    route: str,
    member: int,
    *,
    resume: bool = False,
    seen: dict[str, int] | None = None,
    since: int | None = None,
) -> None:
    """After a tab's screen loaded (inside its event, on the process that holds its socket):
    push to it what that screen shows live from now on, unless it is minimized. `resume`:
    it was just activated; `seen` and `since`: member_versions() and flushes() from before
    the screen loaded."""
    current = hub()
    if current is None:
        return
    session = state.router.session
    sid, token = session.session_id, session.client_token
    if not sid:
        return
    if not resume:
        # The tab's own record of the lifecycle, which outlives its socket: a tab that
        # reconnects while minimized stays quiet until it is activated.
        from state.lifecycle import LifecycleState  # lifecycle imports this module

        lifecycle = await state.get_state(LifecycleState)
        resume = lifecycle.active and lifecycle.shown != "0"
    if not member or not resume:
        await current.pause(sid)
        return
    rooms: dict[str, tuple[Broadcast, str]] = {}
    owned: list[Broadcast] = []
    for broadcast in LIVE.get(route, ()):
        if broadcast.owned is not None and await broadcast.owned(state):
            owned.append(broadcast)
            continue
        arg = await broadcast.arg(state) if broadcast.arg is not None else ""
        rooms[broadcast.room(arg)] = (broadcast, arg)
    tab = Tab(token, member, route, tuple(owned), seen=seen or {})
    await current.place(sid, tab, rooms, since)


async def take_over(state: rx.State, broadcast: Broadcast) -> None:
    """This tab now holds more than `broadcast` sends (see Broadcast.owned): from here on it
    gets its own refresh instead of the room's delta."""
    current = hub()
    sid = state.router.session.session_id
    if current is None or current.app.sio is None or (tab := current.tabs.get(sid)) is None:
        return
    if broadcast not in tab.owned:
        tab.owned = (*tab.owned, broadcast)
    ns = current._namespace
    sio = current.app.sio
    if not sio.manager.is_connected(sid, ns):
        return
    for room in sio.rooms(sid, ns):
        if isinstance(room, str) and room.startswith(broadcast.room("")):
            with contextlib.suppress(KeyError):  # disconnected meanwhile
                await sio.leave_room(sid, room, ns)


def following(state: rx.State) -> bool:
    """Whether this process pushes to this tab (the slow safety net asks)."""
    current = hub()
    tab = current.tabs.get(state.router.session.session_id) if current is not None else None
    return current is None or (tab is not None and tab.active and bool(tab.member))


async def pause(state: rx.State) -> None:
    current = hub()
    if current is not None and (sid := state.router.session.session_id):
        await current.pause(sid)
