"""A cached view of the registered assets, so validation does not query the database per message."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from core.domain import Asset


class AssetRegistry:
    """Looks assets up by id; an unknown id reloads the list at most once per ``refresh_s``."""

    def __init__(self, load: Callable[[], Iterable[Asset]], refresh_s: float = 10.0) -> None:
        self._load = load
        self._refresh_s = refresh_s
        self._assets: dict[str, Asset] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def find(self, asset_id: str) -> Asset | None:
        asset = self._assets.get(asset_id)
        if asset is None and time.monotonic() - self._loaded_at >= self._refresh_s:
            self.reload()
            asset = self._assets.get(asset_id)
        return asset

    def reload(self) -> None:
        with self._lock:
            self._assets = {asset.id: asset for asset in self._load()}
            self._loaded_at = time.monotonic()
