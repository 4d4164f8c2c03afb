"""The failure codes a completion records, a short list per asset kind (after EN 13306 failure modes).

The code says *what failed*; cause and remedy are the technician's words. Figures group repairs and
repeat failures by code, so the list is kept short and stable; "other" takes the rest.
"""

from __future__ import annotations

from core.domain import AssetKind
from core.errors import InvalidRequest

FAILURE_CODES: dict[AssetKind | None, dict[str, str]] = {
    AssetKind.ELEVATOR: {
        "door_operator": "Door operator or door contacts",
        "drive_motor": "Drive, motor or brake",
        "controller": "Controller, wiring or safety circuit",
        "leveling": "Leveling or position sensing",
        "entrapment_release": "Passenger released; cause still to be found",
        "other": "Other",
    },
    AssetKind.PUMP: {
        "bearing": "Bearing",
        "seal_leak": "Mechanical seal or leak",
        "impeller": "Impeller wear or blockage",
        "motor_electrical": "Motor or its electrical supply",
        "pipe_burst": "Pipe or fitting burst",
        "control": "Pressure switch, VFD or controller",
        "other": "Other",
    },
    AssetKind.LIGHTING: {
        "led_driver": "LED driver",
        "luminaire": "Luminaire or LED module",
        "switching": "Switch, sensor or timer",
        "wiring": "Wiring or breaker",
        "other": "Other",
    },
    None: {  # orders without an asset (a site, a common area)
        "power_supply": "Site power supply",
        "water_supply": "Site water supply",
        "building_fabric": "Doors, walls, roofs, fittings",
        "other": "Other",
    },
}


def failure_codes(kind: AssetKind | None) -> dict[str, str]:
    """The codes allowed for an order on an asset of ``kind`` (None: no asset), code -> label."""
    return FAILURE_CODES[kind]


def check_failure_code(kind: AssetKind | None, code: str, kind_known: bool = True) -> None:
    """InvalidRequest naming the allowed codes unless ``code`` is one of ``kind``'s. ``kind_known`` False (an
    asset the records do not hold, so its kind cannot be told): any kind's code is taken."""
    codes = FAILURE_CODES[kind] if kind_known else {c: label for table in FAILURE_CODES.values()
                                                    for c, label in table.items()}
    if code not in codes:
        whose = f"{kind or 'site'}'s" if kind_known else "the known"
        raise InvalidRequest(f"failure code {code!r} is not one of {whose}: {', '.join(codes)}")
