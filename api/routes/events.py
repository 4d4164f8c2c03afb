"""The live event stream (Server-Sent Events): what the event bus publishes, as it happens, resumable.

Written as a plain streaming response with FastAPI's SSE encoder (``format_sse_event``) rather than
through its ``EventSourceResponse`` generator machinery: that runs two more tasks and two queues per
stream and encodes each event once per stream, which put 1,000 consoles a second behind an alarm
(``facmon bench api``). Here each event is encoded once, and every stream sends the same bytes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse
from fastapi.sse import format_sse_event

from api.deps import ServicesDep
from core.event_follow import Gap, Idle, follow
from core.events import STOPPING, Event, EventBus

router = APIRouter(tags=["events"])

RETRY_MS = 3000  # how long a browser waits before it reconnects a dropped stream
PING_S = 15.0  # a comment after this long without events keeps proxies from closing the connection
PING = b": ping\n\n"
RESET = "reset"
_ENCODED_KEPT = 512  # encoded events kept: a burst's worth, shared by every stream
_STREAM = {200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                 "description": "The event stream (text/event-stream)."}}


@router.get("/events", response_class=StreamingResponse, responses=_STREAM)  # type: ignore[arg-type]
async def stream_events(
    services: ServicesDep,
    topic: Annotated[str, Query(description="Only events whose topic starts with this, e.g. 'alarm.'")] = "",
    last_event_id: Annotated[str | None, Header(description="The `id` of the last event received; a browser's "
                                                          "EventSource sends it when it reconnects.")] = None,
    after: Annotated[str | None, Query(max_length=64, description="The same as the `Last-Event-ID` header, for a "
                                                                  "client opening a new stream.")] = None,
) -> StreamingResponse:
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
    resume_from = last_event_id if last_event_id is not None else after
    return StreamingResponse(_stream(services.bus, topic, resume_from), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _stream(bus: EventBus, topic: str, resume_from: str | None) -> AsyncIterator[bytes]:
    # A new stream starts at the newest event and says so (an id-only message sets the browser's last
    # event id without dispatching anything), so a client that drops before its first event resumes too.
    start = f"{bus.epoch}-{bus.last_seq}" if resume_from is None else resume_from
    yield format_sse_event(comment="connected", id=start if resume_from is None else None, retry=RETRY_MS)
    async for item in follow(bus, start, idle_s=PING_S):
        if isinstance(item, Idle):
            yield PING
        elif isinstance(item, Gap):
            yield format_sse_event(event=RESET, data_str=orjson.dumps({"reason": item.reason}).decode(),
                                   id=item.last_id)
        elif item.topic == STOPPING:  # the service stops: end the stream
            return
        elif item.topic.startswith(topic):
            yield _encoded(item)


_encoded_events: OrderedDict[str, bytes] = OrderedDict()


def _encoded(event: Event) -> bytes:
    """The event as SSE bytes, made once per event (a thousand streams send the same bytes)."""
    key = event.id
    encoded = _encoded_events.get(key)
    if encoded is None:
        encoded = format_sse_event(event=event.topic, data_str=orjson.dumps(event.data, default=str).decode(),
                                   id=key)
        _encoded_events[key] = encoded
        if len(_encoded_events) > _ENCODED_KEPT:
            _encoded_events.popitem(last=False)
    return encoded
