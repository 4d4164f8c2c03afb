"""Starting without the records database: wait with growing, capped delays; a refusal is not waited out."""

from __future__ import annotations

import pytest

from core.errors import ConfigError, ServiceUnavailable
from facmon.dependencies import DATABASE_RETRY_MAX_S, wait_for_database


class Flaky:
    """A database that answers after ``failures`` failed pings (or refuses us, with ``refuse``)."""

    def __init__(self, failures: int, refuse: bool = False) -> None:
        self.failures, self.refuse, self.pings = failures, refuse, 0

    def ping(self) -> None:
        self.pings += 1
        if self.refuse:
            raise ConfigError("records database refused the connection: password authentication failed")
        if self.pings <= self.failures:
            raise ServiceUnavailable("records database unreachable: connection refused")


def test_waits_until_the_database_answers_with_backoff_capped() -> None:
    db, delays = Flaky(failures=12), []
    assert wait_for_database(db, sleep=delays.append) == 12  # type: ignore[arg-type]
    assert db.pings == 13
    assert len(delays) == 12
    assert max(delays) <= DATABASE_RETRY_MAX_S
    assert delays[-1] > 4 * delays[0]  # the delays grow (jittered 0.5-1x of a doubling ceiling)


def test_a_database_that_refuses_us_is_not_waited_for() -> None:
    db, delays = Flaky(failures=0, refuse=True), []
    with pytest.raises(ConfigError, match="password authentication failed"):
        wait_for_database(db, sleep=delays.append)  # type: ignore[arg-type]
    assert delays == []
