"""The live event stream (Server-Sent Events): what the event bus publishes, as it happens.

Uses FastAPI's own SSE support (no extra dependency), which also sends a ``: ping`` comment after
15 s of silence so that proxies keep the connection open.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent

from api.deps import ServicesDep
from core.events import STOPPING

router = APIRouter(tags=["events"])

RETRY_MS = 3000  # how long a browser waits before it reconnects a dropped stream


@router.get("/events", response_class=EventSourceResponse)
async def stream_events(
    services: ServicesDep,
    topic: Annotated[str, Query(description="Only events whose topic starts with this, e.g. 'alarm.'")] = "",
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events: each event as ``event: <topic>`` and ``data: <JSON>``.

    Topics: ``alarm.raised``, ``alarm.changed``, ``workorder.opened``, ``workorder.changed``,
    ``forecast.updated``. The first message is a ``: connected`` comment, sent once the subscription
    is in place. A client too slow to keep up loses the oldest events, never blocks the service.
    """
    queue, unsubscribe = services.bus.subscribe_queue(asyncio.get_running_loop())
    try:
        yield ServerSentEvent(comment="connected", retry=RETRY_MS)
        while (event := await queue.get()).topic != STOPPING:  # the service stops: end the stream
            if event.topic.startswith(topic):
                yield ServerSentEvent(event=event.topic, data=event.data)
    finally:
        unsubscribe()  # runs when the client disconnects: the response's task group cancels us
