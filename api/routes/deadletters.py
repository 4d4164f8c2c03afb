"""Dead letters: device messages the collector rejected, with the reason; listed, and reprocessed after a fix."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from api.audit import AuditDep
from api.cursors import decode_cursor, encode_cursor, zoned_time
from api.deps import Services, ServicesDep
from api.identity import require
from api.pages import DEFAULT_LIMIT, MAX_LIMIT, Page
from api.schemas import DeadLetterPublic
from collector.decode import Decoder
from collector.registry import AssetRegistry
from collector.reprocess import build_decoder, reprocess, select_letters
from core.settings import CollectorSettings
from people.access import Permission

router = APIRouter(prefix="/deadletters", tags=["dead letters"], dependencies=[require(Permission.ADMIN)])


class DeadLetterReprocess(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, description="Only letters of this reject code, e.g. unknown_asset.")
    ids: list[int] | None = Field(None, max_length=1000, description="Only these letters (at most 1000).")
    limit: int = Field(1000, ge=1, le=100_000, description="At most this many letters, oldest first.")


class ReprocessPublic(BaseModel):
    reprocessed: int = Field(description="Letters decoded again.")
    accepted: int = Field(description="Letters accepted now: their readings are stored and the letters deleted.")
    still_rejected: int = Field(description="Letters rejected again; they stay.")
    readings: int = Field(description="Readings written to the telemetry store.")


@router.get("", response_model=Page[DeadLetterPublic])
def list_dead_letters(
    services: ServicesDep,
    reason: Annotated[str | None, Query(max_length=64, description="A reject code, e.g. out_of_range.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page.")] = None,
) -> Page[DeadLetterPublic]:
    """Rejected device messages, newest first (by receipt, then id), optionally of one reason."""
    letters, after = services.db.dead_letters.page(reason, limit, decode_cursor(cursor, zoned_time))
    return Page(items=[DeadLetterPublic.of(letter) for letter in letters], total=services.db.dead_letters.total(reason),
                next_cursor=None if after is None else encode_cursor(after[0].isoformat(), after[1]))


@router.post("/reprocess", response_model=ReprocessPublic)
def reprocess_dead_letters(services: ServicesDep, request: DeadLetterReprocess, audit: AuditDep) -> ReprocessPublic:
    """Decode stored letters again (after a fix, e.g. a newly registered asset).

    Accepted readings are written to the telemetry store and their letters deleted; the others stay.
    Each letter is judged against the time it was first received.
    """
    chosen = select_letters(services.db.dead_letters, request.reason, request.ids, request.limit)
    result = reprocess(chosen, _decoder(services), services.store, services.db.dead_letters)
    return audit.record("deadletters.reprocess", "dead_letters", None, request, ReprocessPublic(**result.as_dict()))


def _decoder(services: Services) -> Decoder:
    if services.decoder is not None:
        return services.decoder()
    return build_decoder(AssetRegistry(services.db.assets.list), CollectorSettings(), services.clock,
                         reprocessing=True)
