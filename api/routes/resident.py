"""Residents: file a repair request or a complaint from the form a QR code opens, follow it through its
capability link and rate it; signed-in residents also list what they filed.

``public_router`` is open (residents have no app and often no account); whoever holds a follow link sees
only the progress of that one record, without names or phone numbers. What a signed-in user files there
carries their user id (``reporter_id``). ``router`` is for signed-in residents (``requests:own``): they
list, follow and rate only their own.
``pages`` serves the follow page itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.responses import FileResponse

from api.cursors import decode_cursor, encode_cursor
from api.deps import Services, ServicesDep
from api.identity import OptionalPrincipalDep, require
from api.pages import DEFAULT_LIMIT, MAX_LIMIT, Page
from api.routes.auth import LoginLimiter
from api.routes.workorders import _site_of
from api.schemas.resident import (
    FiledPublic,
    PlacePublic,
    ProgressPublic,
    Rating,
    ResidentComplaintCreate,
    ResidentRequestCreate,
)
from core.errors import NotFound
from people.access import Permission, Principal
from storage.records.follow_links import FiledRef
from workorders.resident_desk import Filed, ResidentDesk

public_router = APIRouter(tags=["residents"])
router = APIRouter(prefix="/me", tags=["residents"])
pages = APIRouter(include_in_schema=False)

CONSOLE_DIR = FilePath(__file__).parent.parent / "console"
Token = Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$",
                            description="The token of the follow link.")]
Resident = Annotated[Principal, require(Permission.REQUESTS_OWN)]
# A capability URL must not leak through the Referer header or a shared cache.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)  # a reference's filing time, where only its kind and id matter
FILING_RATE = "30/hour"  # open filings and ratings per client address (the `limits` notation)
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def limit_filing(request: Request) -> None:
    """429 with Retry-After past ``FILING_RATE`` open writes (filings, ratings) per client address: the
    form is open to anyone, so one address must not flood the desk."""
    limiter = getattr(request.app.state, "resident_limiter", None)
    if limiter is None:
        limiter = request.app.state.resident_limiter = LoginLimiter(FILING_RATE)
    retry_after = limiter.hit(request.client.host if request.client else "unknown")
    if retry_after is not None:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many requests from this address; try later",
                            headers={"Retry-After": str(max(1, round(retry_after)))})


Limited = [Depends(limit_filing)]
TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: {"description": "Too many open writes from this address; see Retry-After."}}


def _desk(services: Services) -> ResidentDesk:
    return ResidentDesk(services.db, services.book, services.complaints, services.clock)


def _file_request(services: Services, request: Request, body: ResidentRequestCreate,
                  reporter_id: str | None) -> FiledPublic:
    site_id = _site_of(services, body.site_id, body.asset_id)
    filed = _desk(services).file_request(site_id, body.description, requester=body.requester, phone=body.phone,
                                         address=body.address, asset_id=body.asset_id, channel=body.channel,
                                         reporter_id=reporter_id)
    return _filed(request, filed)


def _file_complaint(services: Services, request: Request, body: ResidentComplaintCreate,
                    reporter_id: str | None) -> FiledPublic:
    filed = _desk(services).file_complaint(body.site_id, body.category, body.description,
                                           complainant=body.complainant, phone=body.phone, channel=body.channel,
                                           reporter_id=reporter_id)
    return _filed(request, filed)


def _reporter(principal: Principal | None) -> str | None:
    return None if principal is None else principal.user_id


def _filed(request: Request, filed: Filed) -> FiledPublic:
    return FiledPublic(progress=ProgressPublic.of(filed.progress),
                       follow_url=str(request.url_for("follow_page", token=filed.token)))


@public_router.get("/resident/place", response_model=PlacePublic)
def place(services: ServicesDep, site: Annotated[str | None, Query(max_length=64)] = None,
          asset: Annotated[str | None, Query(max_length=64)] = None) -> PlacePublic:
    """The building (and asset) a QR code names, by name, for the form's heading (404: unknown)."""
    asset_name = None
    if asset is not None:
        found = services.db.assets.get(asset)
        site, asset_name = found.site_id, found.name
    names = {known.id: known.name for known in services.db.assets.sites()}
    if site is None or site not in names:
        raise NotFound(f"site {site} not found")
    return PlacePublic(site_id=site, site_name=names[site], asset_id=asset,
                       asset_name=asset_name)


@public_router.post("/resident/requests", response_model=FiledPublic, status_code=status.HTTP_201_CREATED,
                   dependencies=Limited, responses=TOO_MANY)
def file_repair_request(services: ServicesDep, request: Request, body: ResidentRequestCreate,
                        principal: OptionalPrincipalDep) -> FiledPublic:
    """File a repair request (the form a building's or an asset's QR code opens), signed in or not; signed
    in, the request is the user's own (listed under `/me/filed`).

    The answer carries the order number and the follow link, which is shown only this once."""
    return _file_request(services, request, body, _reporter(principal))


@public_router.post("/resident/complaints", response_model=FiledPublic, status_code=status.HTTP_201_CREATED,
                   dependencies=Limited, responses=TOO_MANY)
def file_complaint(services: ServicesDep, request: Request, body: ResidentComplaintCreate,
                   principal: OptionalPrincipalDep) -> FiledPublic:
    """File a complaint, signed in or not; answered with its follow link (shown only this once)."""
    return _file_complaint(services, request, body, _reporter(principal))


@public_router.get("/follow/{token}", response_model=ProgressPublic)
def follow(services: ServicesDep, token: Token) -> ProgressPublic:
    """The progress of the request or complaint behind a follow link (404 for a link that names nothing)."""
    return ProgressPublic.of(_desk(services).follow(token))


@public_router.post("/follow/{token}/rating", response_model=ProgressPublic, dependencies=Limited,
                    responses={**TOO_MANY, 409: {"description": "Not done yet, or already rated otherwise."}})
def rate(services: ServicesDep, token: Token, body: Rating) -> ProgressPublic:
    """Rate the work once it is done (1-5, with a comment). The same rating again changes nothing;
    a different one after the first is 409."""
    return ProgressPublic.of(_desk(services).rate(token, body.satisfaction, body.comment))


@router.get("/filed", response_model=Page[ProgressPublic])
def list_my_filed(
    services: ServicesDep,
    principal: Resident,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> Page[ProgressPublic]:
    """The signed-in resident's requests and complaints, newest first."""
    desk = _desk(services)
    after = decode_cursor(cursor, _cursor_key)
    key = None if after is None else (*after[0], after[1])
    refs = desk.links.page_of(principal.user_id, limit, key)
    items = [ProgressPublic.of(desk.progress(ref)) for ref in refs[:limit]]
    last = refs[limit - 1] if len(refs) > limit else None
    return Page[ProgressPublic](items=items, total=desk.links.count_of(principal.user_id),
                                next_cursor=None if last is None else encode_cursor(_cursor_text(last), last.id))


@router.get("/filed/{kind}/{record_id}", response_model=ProgressPublic)
def get_my_filed(services: ServicesDep, principal: Resident, kind: Literal["request", "complaint"],
                 record_id: int) -> ProgressPublic:
    """One of the signed-in resident's own requests or complaints (404 for anyone else's)."""
    desk = _desk(services)
    return ProgressPublic.of(desk.progress(_own(desk, principal, kind, record_id)))


@router.post("/filed/{kind}/{record_id}/rating", response_model=ProgressPublic)
def rate_my_filed(services: ServicesDep, principal: Resident, kind: Literal["request", "complaint"],
                  record_id: int, body: Rating) -> ProgressPublic:
    """Rate one of the signed-in resident's own requests or complaints once done (as through its follow link)."""
    desk = _desk(services)
    ref = _own(desk, principal, kind, record_id)
    return ProgressPublic.of(desk.rate_filed(ref, body.satisfaction, body.comment))


def _own(desk: ResidentDesk, principal: Principal, kind: Literal["request", "complaint"], record_id: int) -> FiledRef:
    if desk.links.reporter_of(kind, record_id) != principal.user_id:
        raise NotFound(f"{kind} {record_id} not found")  # not 403: do not confirm that it exists
    return FiledRef(kind, record_id, EARLIEST)


@pages.get("/follow/{token}", name="follow_page")
def follow_page(token: Token) -> FileResponse:  # noqa: ARG001 - the page reads the token from its address
    """The follow page; its script asks /api/v1/follow/<token>."""
    return FileResponse(CONSOLE_DIR / "follow.html", headers=PRIVATE)


def _cursor_text(ref: FiledRef) -> str:
    return f"{ref.at.isoformat()}|{ref.kind}"


def _cursor_key(text: str) -> tuple[datetime, str]:
    at, _, kind = text.partition("|")
    if kind not in ("request", "complaint"):
        raise ValueError(text)
    return datetime.fromisoformat(at), kind
