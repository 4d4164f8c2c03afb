"""The rules in force (default pack + site files) and a watcher that reloads them when a file changes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError
from rules.model import Rule
from rules.pack import default_rules, load_rules, merge

log = logging.getLogger(__name__)

Signature = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The default pack (unless disabled) with each site file merged over it, in order."""

    files: tuple[Path, ...] = ()
    use_default_pack: bool = True

    def load(self) -> list[Rule]:
        """Read every file now; ConfigError (file, line, rule, field) if one is invalid."""
        rules = default_rules() if self.use_default_pack else []
        for path in self.files:
            rules = merge(rules, load_rules(path))
        return rules

    def signature(self) -> Signature:
        """What changes when a file is edited, replaced or removed: (path, mtime_ns, size) per file."""
        found = []
        for path in self.files:
            try:
                stat = path.stat()
            except OSError:
                found.append((str(path), -1, -1))
            else:
                found.append((str(path), stat.st_mtime_ns, stat.st_size))
        return tuple(found)


class RuleFileWatcher:
    """Polls the rule files; on a change calls ``reload()`` (e.g. ``RulesService.reload``, which reads
    the files, checks them and hands the rules to the engine on its own thread). A reload that fails
    with ConfigError is logged and retried only after the next change: the running rules stay."""

    def __init__(self, files: Sequence[Path], reload: Callable[[], object], interval_s: float = 2.0) -> None:
        self._ruleset = RuleSet(tuple(files), use_default_pack=False)
        self._reload = reload
        self._interval_s = interval_s
        self._seen = self._ruleset.signature()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reloads = 0
        self.errors = 0

    def check(self) -> bool:
        """One poll: True if the files changed (and a reload was attempted)."""
        now = self._ruleset.signature()
        if now == self._seen:
            return False
        self._seen = now
        try:
            self._reload()
            self.reloads += 1
        except ConfigError as error:
            self.errors += 1
            log.error("rule files changed but are invalid, keeping the running rules: %s", error)
        return True

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="rule-file-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.check()
            except Exception:  # a watcher must not die: the next change retries
                log.exception("rule file watcher failed")
