"""What residents send (a repair request or a complaint from the QR code's form, a rating) and see (the
progress of what they filed, without names or phone numbers)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.domain import RequestChannel
from workorders.complaints import ComplaintCategory
from workorders.resident_desk import Progress

_PHONE = Field(min_length=3, max_length=40, pattern=r"^[0-9+()\-. ]+$", description="A phone number.")
ResidentChannel = Literal[RequestChannel.WEB, RequestChannel.MOBILE]
_CHANNEL_HELP = "web or mobile (the QR code's form)."


class ResidentRequestCreate(BaseModel):
    """A repair request from the form a QR code opens: the building or the asset, who, where, what."""

    model_config = ConfigDict(extra="forbid")

    site_id: str | None = Field(None, min_length=1, max_length=64, description="The building (or give the asset).")
    asset_id: str | None = Field(None, min_length=1, max_length=64, description="The asset whose QR code was read.")
    requester: str = Field(min_length=1, max_length=200, description="The resident's name.")
    phone: str = _PHONE
    address: str = Field(min_length=1, max_length=500, description="Flat or place, e.g. 2-1203.")
    description: str = Field(min_length=1, max_length=5000)
    channel: ResidentChannel = Field(RequestChannel.MOBILE, description=_CHANNEL_HELP)


class ResidentComplaintCreate(BaseModel):
    """A complaint from the same form."""

    model_config = ConfigDict(extra="forbid")

    site_id: str = Field(min_length=1, max_length=64)
    category: ComplaintCategory
    complainant: str = Field(min_length=1, max_length=200, description="The resident's name or flat.")
    phone: str | None = Field(None, min_length=3, max_length=40, pattern=r"^[0-9+()\-. ]+$")
    description: str = Field(min_length=1, max_length=5000)
    channel: ResidentChannel = Field(RequestChannel.MOBILE, description=_CHANNEL_HELP)


class Rating(BaseModel):
    model_config = ConfigDict(extra="forbid")

    satisfaction: int = Field(ge=1, le=5, description="1 (poor) to 5 (excellent).")
    comment: str = Field("", max_length=2000)


class MilestonePublic(BaseModel):
    step: str = Field(description="received, dispatched, accepted, on_site, completed, closed (requests); "
                                  "received, investigating, closed (complaints).")
    at: datetime | None = Field(description="When it was reached; null: not yet.")


class ProgressPublic(BaseModel):
    """A filed request or complaint as its resident sees it."""

    kind: Literal["request", "complaint"]
    id: int = Field(description="The number to quote to the service desk.")
    site_id: str
    title: str = Field(description="A request's headline; a complaint's category.")
    status: str
    filed_at: datetime
    milestones: list[MilestonePublic]
    answer: str = Field("", description="A complaint's answer from the desk.")
    can_rate: bool = Field(description="The work is done and not yet rated.")
    satisfaction: int | None
    comment: str
    cancelled: bool

    @classmethod
    def of(cls, progress: Progress) -> ProgressPublic:
        return cls(kind=progress.kind, id=progress.id, site_id=progress.site_id, title=progress.title,
                   status=progress.status, filed_at=progress.filed_at,
                   milestones=[MilestonePublic(step=m.step, at=m.at) for m in progress.milestones],
                   answer=progress.answer, can_rate=progress.can_rate, satisfaction=progress.satisfaction,
                   comment=progress.comment, cancelled=progress.cancelled)


class FiledPublic(BaseModel):
    """The answer to a filing: its progress and the follow link (shown once: only its hash is kept)."""

    progress: ProgressPublic
    follow_url: str = Field(description="/follow/<token>: keep it to follow the request and rate it.")


class PlacePublic(BaseModel):
    """What a QR code names: the building, and the asset when it is an asset's code."""

    site_id: str
    site_name: str
    asset_id: str | None
    asset_name: str | None
