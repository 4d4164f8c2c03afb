"""The live event stream (Server-Sent Events): what the event bus publishes, as it happens, resumable.

Uses FastAPI's own SSE support (no extra dependency), which also sends a ``: ping`` comment after
15 s of silence so that proxies keep the connection open. Each event's JSON is encoded once, however
many consoles follow the stream.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent

from api.deps import ServicesDep
from core.event_follow import Gap, follow
from core.events import STOPPING, Event

router = APIRouter(tags=["events"])

RETRY_MS = 3000  # how long a browser waits before it reconnects a dropped stream
RESET = "reset"
_ENCODED_KEPT = 512  # encoded events kept: a burst's worth, shared by every stream


@router.get("/events", response_class=EventSourceResponse)
async def stream_events(
    services: ServicesDep,
    topic: Annotated[str, Query(description="Only events whose topic starts with this, e.g. 'alarm.'")] = "",
    last_event_id: Annotated[str | None, Header(description="The `id` of the last event received; a browser's "
                                                          "EventSource sends it when it reconnects.")] = None,
    after: Annotated[str | None, Query(max_length=64, description="The same as the `Last-Event-ID` header, for a "
                                                                  "client opening a new stream.")] = None,
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events: each event as ``id: <id>``, ``event: <topic>`` and ``data: <JSON>``.

    Topics: ``alarm.raised``, ``alarm.changed``, ``workorder.opened``, ``workorder.changed``,
    ``forecast.updated`` and others. The first message is a ``: connected`` comment with the id of the
    newest event, sent once the subscription is in place.

    **Resuming.** Reconnecting with ``Last-Event-ID`` (or ``?after=``) first sends every event published
    since that id, in order, then carries on live: nothing is missed and nothing comes twice. When that
    cannot be done (the id is from before a restart or older than the 10,000 events the server keeps, or
    the client fell that far behind) the server sends ``event: reset`` with ``data: {"reason": ...}``:
    reload what is shown, then carry on. A refused credential is answered 401 (problem JSON) and the
    stream is not opened.
    """
    bus = services.bus
    resume_from = last_event_id if last_event_id is not None else after
    # A new stream starts at the newest event and says so (an id-only message sets the browser's last
    # event id without dispatching anything), so a client that drops before its first event resumes too.
    start = f"{bus.epoch}-{bus.last_seq}" if resume_from is None else resume_from
    yield ServerSentEvent(comment="connected", id=start if resume_from is None else None, retry=RETRY_MS)
    async for item in follow(bus, start):
        if isinstance(item, Gap):
            yield ServerSentEvent(event=RESET, raw_data=json.dumps({"reason": item.reason}), id=item.last_id)
        elif item.topic == STOPPING:  # the service stops: end the stream
            return
        elif item.topic.startswith(topic):
            yield ServerSentEvent(event=item.topic, raw_data=_encoded(item), id=item.id)


_encoded_events: OrderedDict[str, str] = OrderedDict()


def _encoded(event: Event) -> str:
    """The event's data as JSON text, made once per event (a thousand streams send the same bytes)."""
    key = event.id
    text = _encoded_events.get(key)
    if text is None:
        text = orjson.dumps(event.data, default=str).decode()
        _encoded_events[key] = text
        if len(_encoded_events) > _ENCODED_KEPT:
            _encoded_events.popitem(last=False)
    return text
