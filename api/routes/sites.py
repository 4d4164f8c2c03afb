"""The sites of the portfolio, each with the time zone its local times are shown and judged in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.cursors import decode_cursor, encode_cursor
from api.deps import ServicesDep
from api.identity import require
from api.pages import DEFAULT_LIMIT, MAX_LIMIT, Page
from api.schemas.sites import SitePublic
from people.access import Permission

router = APIRouter(prefix="/sites", tags=["sites"], dependencies=[require(Permission.READ)])


@router.get("", response_model=Page[SitePublic])
def list_sites(services: ServicesDep, limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
               cursor: str | None = None) -> Page[SitePublic]:
    """The sites by id, with their time zone (the site's own, or the configured default)."""
    every = services.db.assets.sites()
    after = decode_cursor(cursor, str)
    sites = every if after is None else [site for site in every if site.id > after[0]]
    page = sites[:limit]
    next_cursor = encode_cursor(page[-1].id, 0) if len(sites) > limit else None
    return Page[SitePublic](items=[SitePublic.of(site, services.time_zone) for site in page],
                            total=len(every), next_cursor=next_cursor)
