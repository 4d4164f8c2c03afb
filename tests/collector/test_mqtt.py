"""The MQTT client's pure parts: reconnect backoff and the subscribed topic filters."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from collector.mqtt import backoff_s, topics
from core.settings import MqttSettings


@given(attempt=st.integers(0, 1000), rand=st.floats(0, 1))
def test_backoff_doubles_from_the_minimum_is_capped_and_jittered(attempt: int, rand: float) -> None:
    delay = backoff_s(attempt, 0.5, 30.0, lambda: rand)
    ceiling = min(30.0, 0.5 * 2 ** min(attempt, 30))
    assert ceiling / 2 <= delay <= ceiling


def test_first_delays_grow() -> None:
    assert [backoff_s(n, 1.0, 8.0, lambda: 1.0) for n in range(5)] == [1.0, 2.0, 4.0, 8.0, 8.0]


def test_a_shared_group_prefixes_every_filter() -> None:
    assert topics(MqttSettings(sparkplug=False)) == ["facmon/v1/+/+/+/+"]
    assert topics(MqttSettings(shared_group="fleet")) == ["$share/fleet/facmon/v1/+/+/+/+", "$share/fleet/spBv1.0/#"]
