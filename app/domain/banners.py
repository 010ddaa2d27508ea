"""Banners for the Home carousel: active and within their time window."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from app.domain.db import Database
from app.domain.models import Banner, table, utcnow
from app.domain.views import BannerView

banners_t = table(Banner)


def active_banners(db: Database, *, now: datetime | None = None) -> list[BannerView]:
    now = now or utcnow()
    with db.read() as s:
        rows = s.execute(
            select(banners_t)
            .where(
                banners_t.c.active.is_(True),
                or_(banners_t.c.starts_at.is_(None), banners_t.c.starts_at <= now),
                or_(banners_t.c.ends_at.is_(None), banners_t.c.ends_at > now),
            )
            .order_by(banners_t.c.priority.desc(), banners_t.c.id)
        ).all()
    return [
        BannerView(id=r.id, title=r.title, subtitle=r.subtitle, image=r.image, link=r.link)
        for r in rows
    ]
