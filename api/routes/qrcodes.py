"""QR codes for notice boards and asset plates: each opens the residents' repair and complaint form for its
building or asset. Drawn by segno (pure Python, SVG and PNG without Pillow)."""

from __future__ import annotations

import io
import re
from typing import Annotated, Literal

import segno
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import ServicesDep
from api.identity import require
from core.errors import NotFound
from people.access import Permission

router = APIRouter(tags=["residents"], dependencies=[require(Permission.READ)])

Format = Literal["svg", "png"]
MEDIA = {"svg": "image/svg+xml", "png": "image/png"}
Scale = Annotated[int, Query(ge=1, le=40, description="Pixels (PNG) or user units (SVG) per module.")]
_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {media: {} for media in MEDIA.values()}, "description": "The QR code."}}


@router.get("/sites/{site_id}/qr.{fmt}", response_class=Response, responses=_RESPONSES)
def site_qr(services: ServicesDep, request: Request, site_id: str, fmt: Format, scale: Scale = 8) -> Response:
    """A QR code opening the repair and complaint form of the site (print it on the notice board)."""
    if site_id not in {site.id for site in services.db.assets.sites()}:
        raise NotFound(f"site {site_id} not found")
    return _qr(form_url(request, "site", site_id), fmt, scale, f"facmon site {site_id}")


@router.get("/assets/{asset_id}/qr.{fmt}", response_class=Response, responses=_RESPONSES)
def asset_qr(services: ServicesDep, request: Request, asset_id: str, fmt: Format, scale: Scale = 8) -> Response:
    """A QR code opening the repair form for one asset (its site implied), for a plate on the lift or pump."""
    asset = services.db.assets.get(asset_id)  # NotFound: 404
    return _qr(form_url(request, "asset", asset.id), fmt, scale, f"facmon asset {asset.id}")


def form_url(request: Request, what: Literal["site", "asset"], ident: str) -> str:
    """The absolute address of the residents' form for a site or an asset, as this server is reached."""
    return str(request.url_for("repair_request_form").include_query_params(**{what: ident}))


def _qr(url: str, fmt: Format, scale: int, title: str) -> Response:
    code = segno.make(url, error="m")  # medium error correction survives a scuffed print
    out = io.BytesIO()
    if fmt == "svg":
        code.save(out, kind="svg", scale=scale, title=title, border=4)
    else:
        code.save(out, kind="png", scale=scale, border=4)
    filename = re.sub(r"[^A-Za-z0-9._-]", "-", title) + f".{fmt}"
    return Response(out.getvalue(), media_type=MEDIA[fmt],
                    headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-cache"})
