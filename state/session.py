"""Who this browser tab serves: bound from Telegram's initData on every hydrate.

Reflex state is per tab and may be replaced after a backend restart (a new client token),
so the page sends initData again on each load; nothing here trusts a user id from the client.
The user id lives in a backend-only var (leading underscore): it is never sent to the
browser and has no setter a client could call.
"""

from __future__ import annotations

import time
from typing import Any

import reflex as rx

from app.domain.errors import DomainError, Unavailable
from app.domain.queries import profile as cached_profile
from app.domain.users import upsert_user
from app.domain.views import display_name, initials
from app.settings import get_settings
from app.telegram.identity import authenticate, is_admin
from app.telegram.init_data import REASONS, InitData, InitDataError
from state import live
from state.formatting import points
from state.navigation import fill_screen, recall_screen, remember_screen
from state.services import call

READ_INIT_DATA = (
    "(window.Telegram && window.Telegram.WebApp && window.Telegram.WebApp.initData) || ''"
)


class SessionState(rx.State):
    # pending: waiting for initData | ok | outside: no initData (not opened in Telegram)
    # | rejected: initData failed validation
    status: str = "pending"
    reason: str = ""
    name: str = ""
    initials: str = ""
    username: str = ""
    balance: int = 0
    is_admin: bool = False
    # The tab's verified initData, also kept in its sessionStorage: after a backend restart
    # the first hydrate brings it back, so an action queued while the connection was down
    # finds its member even before the page has called bind() again. It is verified again
    # before use, like anything else from the browser.
    launch: str = rx.SessionStorage("", name="tg_launch")

    _user_id: int = 0
    _bound_init_data: str = ""
    # When the bound initData stops being valid (its auth_date + INIT_DATA_MAX_AGE_S): the
    # member is bound no longer than the launch that proved who they are.
    _bound_until: float = 0.0
    _restored: bool = False
    _remembered: str = ""  # the screen last written to the store, to write only changes
    # Saved with a short expiration while nobody is bound (state/unbound_tabs.py).
    _short_lived: bool = False

    @rx.var
    def balance_text(self) -> str:
        return points(self.balance)

    @rx.var
    def dev_launch(self) -> bool:
        return get_settings().dev_launch

    @rx.event
    async def start(self) -> Any:
        """First of every page's load events: identity.

        The bridge puts the launch's initData in sessionStorage before the socket opens,
        so it arrives with the hydrate and the member is bound here, and the screen's own
        events follow at once. Without it (an older tab, a plain browser) the page is
        asked, and bind() does the same once it answers.
        """
        if self.launch and await self._verify(self.launch, quiet=True):
            return await self._enter()
        # No valid initData came with this load or reconnect: whoever this tab served
        # before is not served now, until the page's own initData binds them again.
        self._unbind()
        return rx.call_script(READ_INIT_DATA, callback=SessionState.bind)

    @rx.event
    async def bind(self, init_data: Any) -> Any:
        if not await self._verify(init_data):
            return None
        return await self._enter()

    @rx.event
    async def refresh(self) -> Any:
        """Back from the background (`activated`): identity again (initData may have
        expired), then the visible screen's events, and its live pushes resume; the
        member stays on the screen they are on."""
        if self.launch and await self._verify(self.launch, quiet=True):
            return await self._show(resume=True)
        self._unbind()
        return rx.call_script(READ_INIT_DATA, callback=SessionState.bind)

    @rx.event
    async def keep_live(self) -> Any:
        """The slow safety net (components/live.py, while active): a tab that this process
        does not push to (a lost subscription, a missed activation) loads its screen again
        and follows it. Otherwise it costs one small event and changes nothing."""
        if not self._user_id or self._expired() or live.following(self):
            return None
        return await self.refresh()

    async def _enter(self) -> Any:
        redirect = await self._follow_screen()
        return redirect or await self._show()

    async def _show(self, *, resume: bool = False) -> list[Any]:
        """Fill the visible screen, then push to this tab what it shows live."""
        route = self.router.route_id
        since = live.flushes()
        seen = await live.member_versions(self._user_id)
        rest = await fill_screen(self, route)
        await live.follow(self, route, self._user_id, resume=resume, seen=seen, since=since)
        return rest

    async def ensure_bound(self) -> int | None:
        """The member, binding first from the tab's kept initData if this state is new;
        None once the launch that bound them has expired (the page asks to reopen)."""
        if not self._user_id and self.launch:
            await self._verify(self.launch)
        if self._expired():
            return None
        return self._user_id or None

    def _expired(self) -> bool:
        """Past the bound initData's age: the member is forgotten, the gate says why."""
        if not self._user_id or time.time() < self._bound_until:
            return False
        self._forget()
        self.status = "rejected"
        self.reason = REASONS["expired"]
        return True

    def _unbind(self) -> None:
        if self._user_id:
            self._forget()
            self.status = "pending"

    async def _verify(self, init_data: Any, *, quiet: bool = False) -> bool:
        """Bind the member `init_data` names; `quiet`: on failure, change nothing."""
        try:
            # Checked every time, even when unchanged: it may have expired meanwhile.
            verified = authenticate(init_data)
        except InitDataError as exc:
            if quiet:
                return False
            self._forget()
            self.status = "outside" if exc.reason == "missing" else "rejected"
            self.reason = exc.message
            return False
        self._bound_until = verified.auth_date.timestamp() + get_settings().init_data_max_age_s
        if self._user_id and verified.raw == self._bound_init_data:
            await self._refresh_profile()
            return True
        try:
            profile = await call(upsert_user, verified.user.model_dump(exclude_none=True))
        except Unavailable:
            # The launch is genuine; only the database is away for a moment. Who this is
            # is known from the verified initData: bound, the profile follows on the next
            # load (its actions answer "busy" meanwhile), instead of a rejection screen.
            self._bind_verified(verified)
            return True
        except DomainError as exc:
            if quiet:
                return False
            self._forget()
            self.status = "rejected"
            self.reason = exc.message
            return False
        self._user_id = profile.id
        self._bound_init_data = self.launch = verified.raw
        self.status = "ok"
        self.reason = ""
        self.name = profile.name
        self.initials = profile.initials
        self.username = profile.username or ""
        self.balance = profile.balance
        self.is_admin = is_admin(profile.id)
        return True

    def _bind_verified(self, verified: InitData) -> None:
        user = verified.user
        self._user_id = user.id
        self._bound_init_data = self.launch = verified.raw
        self.status = "ok"
        self.reason = ""
        if not self.name:
            self.name = display_name(user.first_name, user.last_name, user.username)
            self.initials = initials(self.name)
            self.username = user.username or ""
        self.is_admin = is_admin(user.id)

    async def _follow_screen(self) -> Any:
        """A new session returns to the member's last screen; later loads record it."""
        path = self.router.url.path or "/"
        if not self._restored:
            self._restored = True
            last = await recall_screen(self._user_id)
            if last and last != path and path == "/":
                return rx.redirect(last)
        if path != self._remembered:
            await remember_screen(self._user_id, path)
            self._remembered = path
        return None

    async def _refresh_profile(self) -> None:
        if not self._user_id:
            return
        try:
            profile = await call(cached_profile, self._user_id)
        except DomainError:
            return
        self.name = profile.name
        self.balance = profile.balance

    def _forget(self) -> None:
        self._user_id = 0
        self._bound_until = 0.0
        self.launch = ""
        self._remembered = ""
        self._bound_init_data = ""
        self.name = self.initials = self.username = ""
        self.balance = 0
        self.is_admin = False


async def refresh_tab(state: rx.State, route: str) -> Any:
    """A write changed this member's own data: their balance and the screen's own data
    again, in the tab's state (state/live.py runs it, not an event). A tab whose state is
    gone (Redis lost it, or it expired) binds nobody: its page is asked for its initData,
    as a load would ask, and binds again by itself."""
    session = await state.get_state(SessionState)
    if not session._user_id:
        return rx.call_script(READ_INIT_DATA, callback=SessionState.bind)
    await session._refresh_profile()
    await fill_screen(session, route)
    return None


live.on_member_change(refresh_tab)
