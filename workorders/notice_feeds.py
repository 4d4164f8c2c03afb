"""A site's published notices as feeds residents subscribe to: Atom (RFC 4287) and iCalendar (RFC 5545).

Pure functions from notices to bytes. Atom is small, plain XML: ``xml.etree`` writes it and escapes it.
iCalendar has rules that are easy to get wrong by hand (CRLF lines folded at 75 octets, escaped commas
and semicolons, UTC times as ``...Z``), so the ``icalendar`` package writes it: RFC 5545 both ways,
typed, maintained for years by the Plone/collective community.

Only what residents may see goes out: title, body, window, publication time. Never who wrote it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import icalendar

from core.domain import Site
from workorders.notices import Notice, NoticeStatus

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_MEDIA_TYPE = "application/atom+xml; charset=utf-8"
ICS_MEDIA_TYPE = "text/calendar; charset=utf-8"
PRODID = "-//facmon//site notices//EN"


def notice_uuid(notice: Notice) -> uuid.UUID:
    """A stable, unique id of a notice for both feeds (an Atom entry id, an iCalendar UID)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"facmon:site:{notice.site_id}:notice:{notice.id}")


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _window_text(notice: Notice) -> str:
    return f"From {_stamp(notice.starts_at)} to {_stamp(notice.ends_at)}."


def _published(notices: Sequence[Notice]) -> list[tuple[Notice, datetime]]:
    """The published notices with their publication time. The callers pass only those; a draft that
    slipped in must still never reach residents."""
    return [(notice, notice.published_at) for notice in notices
            if notice.status is NoticeStatus.PUBLISHED and notice.published_at is not None]


def atom_feed(site: Site, notices: Sequence[Notice], self_url: str, now: datetime) -> bytes:
    """The Atom feed of ``site``'s published ``notices``; ``now`` dates an empty feed."""
    shown = _published(notices)
    feed = ET.Element("feed", xmlns=ATOM_NS)
    ET.SubElement(feed, "id").text = uuid.uuid5(uuid.NAMESPACE_URL, f"facmon:site:{site.id}:notices").urn
    ET.SubElement(feed, "title").text = f"{site.name}: notices of planned work"
    newest = max((published_at for _, published_at in shown), default=now)
    ET.SubElement(feed, "updated").text = _stamp(newest)
    ET.SubElement(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    author = ET.SubElement(feed, "author")
    ET.SubElement(author, "name").text = f"{site.name} service desk"
    for notice, published_at in shown:
        entry = ET.SubElement(feed, "entry")
        ET.SubElement(entry, "id").text = notice_uuid(notice).urn
        ET.SubElement(entry, "title").text = notice.title
        ET.SubElement(entry, "published").text = _stamp(published_at)
        ET.SubElement(entry, "updated").text = _stamp(published_at)
        ET.SubElement(entry, "summary").text = _window_text(notice)
        ET.SubElement(entry, "content", type="text").text = notice.body
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document


def ics_calendar(site: Site, notices: Sequence[Notice]) -> bytes:
    """The iCalendar of ``site``'s published ``notices``: one event per notice over its window."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{site.name}: planned work")
    for notice, published_at in _published(notices):
        event = icalendar.Event()
        event.add("uid", f"{notice_uuid(notice)}@facmon")
        event.add("dtstamp", published_at)
        event.add("dtstart", notice.starts_at.astimezone(UTC))
        event.add("dtend", notice.ends_at.astimezone(UTC))
        event.add("summary", notice.title)
        event.add("description", notice.body)
        event.add("status", "CONFIRMED")
        event.add("transp", "TRANSPARENT")  # an outage at home does not make the resident busy
        calendar.add_component(event)
    document: bytes = calendar.to_ical()
    return document
