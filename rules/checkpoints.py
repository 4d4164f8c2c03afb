"""The partition's rule state checkpointed in the records database under the partition's name.

What is saved: the engine's snapshot (timers, windows, active states) plus the alarm side's memory (chatter
history, pending releases) and the collector's health (gate, open own alarms, silence). A save runs in a
unit of work fenced by the partition's lease and records the lease's epoch, so an instance that lost the
partition can neither write under the new holder's lease nor overwrite a checkpoint of a later epoch.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from rules.recording import Recorder

LEGACY = "rules"  # the one checkpoint's name before partitions; read once by the partition "all"
NAME_LENGTH = 64  # rule_checkpoints.name


def checkpoint_name(partition: str) -> str:
    """The checkpoint's key: the partition's name, shortened with a hash when longer than the column."""
    if len(partition) <= NAME_LENGTH:
        return partition
    digest = hashlib.sha256(partition.encode()).hexdigest()[:16]
    return f"{partition[:NAME_LENGTH - 17]}~{digest}"


class RuleCheckpoints:
    def __init__(self, recorder: Recorder, partition: str) -> None:
        self._rec = recorder
        self.partition = partition
        self.name = checkpoint_name(partition)

    def save(self, snapshot: dict[str, Any], at: datetime) -> None:
        """Save ``snapshot`` as the partition's state; Fenced if the partition moved on to another holder."""
        fence = self._rec.fence
        with self._rec.unit():
            self._rec.db.checkpoints.save(self.name, snapshot, at, epoch=0 if fence is None else fence.epoch)
            self._rec.count("checkpoints")

    def load(self) -> dict[str, Any] | None:
        """The partition's saved state (for ``all``, the checkpoint saved before partitions, if none newer)."""
        saved = self._rec.db.checkpoints.load(self.name)
        if saved is None and self.partition == "all":
            saved = self._rec.db.checkpoints.load(LEGACY)
        return None if saved is None else saved[0]
