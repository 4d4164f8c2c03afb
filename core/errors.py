"""The one error hierarchy of facmon.

    FacmonError                 base; ``retryable`` says whether trying again may succeed
    ├── ConfigError             a setting or a rule/portfolio file is wrong; names the option or line
    ├── InvalidMessage          a message from a device is rejected; ``reason`` is a stable code
    ├── NotFound                an asset, alarm or work order does not exist
    ├── TransitionError         a lifecycle change that the state machine forbids; names the allowed ones
    ├── Conflict                the record changed since the caller read it (optimistic locking)
    ├── InvalidRequest          a request that breaks a business rule (an unqualified technician ...)
    │   └── TooLarge            an upload over its size limit
    ├── ServiceUnavailable      a broker or store could not be reached (retryable)
    └── Fenced                  another instance took this one's partition over: its writes are refused

Foreign errors (paho, SQLAlchemy, httpx ...) are translated into these once, at the boundary.
"""

from __future__ import annotations


class FacmonError(Exception):
    """Base of every error facmon raises on purpose."""

    retryable: bool = False


class ConfigError(FacmonError):
    """A setting, rule file or portfolio file is invalid."""


class InvalidMessage(FacmonError):
    """A device message that cannot be accepted; goes to the dead letters under ``reason``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class NotFound(FacmonError):
    """The named record does not exist."""


class TransitionError(FacmonError):
    """A state change that the lifecycle does not allow; ``allowed`` lists where it may go instead."""

    def __init__(self, what: str, current: str, requested: str, allowed: tuple[str, ...] | None = None) -> None:
        message = f"{what} cannot go from {current!r} to {requested!r}"
        if allowed is not None:
            message += "; allowed: " + (", ".join(allowed) if allowed else "none (it is final)")
        super().__init__(message)
        self.current = current
        self.requested = requested
        self.allowed = allowed


class Conflict(FacmonError):
    """Someone else changed the record first (its version or status moved on); read it again."""


class InvalidRequest(FacmonError):
    """A well-formed request that a business rule refuses (say which rule and why)."""


class TooLarge(InvalidRequest):
    """An upload (a photo for a work order) larger than the configured limit."""


class ServiceUnavailable(FacmonError):
    """A broker, database or store is unreachable; the caller may retry (after ``retry_after_s`` if known)."""

    retryable = True

    def __init__(self, message: str = "", retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s  # the server's hint (e.g. HTTP Retry-After), if it gave one


class Fenced(FacmonError):
    """This instance no longer holds the partition's lease: another took it over; its writes are refused."""


class RejectReason:
    """Stable codes under which a rejected device message is dead-lettered and counted."""

    BAD_TOPIC = "bad_topic"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    INVALID_UTF8 = "invalid_utf8"
    INVALID_JSON = "invalid_json"
    BAD_SHAPE = "bad_shape"
    BAD_TIMESTAMP = "bad_timestamp"
    ASSET_MISMATCH = "asset_mismatch"
    UNKNOWN_ASSET = "unknown_asset"
    UNKNOWN_METRIC = "unknown_metric"
    WRONG_TYPE = "wrong_type"
    NOT_FINITE = "not_finite"
    OUT_OF_RANGE = "out_of_range"
    TOO_FAR_IN_FUTURE = "too_far_in_future"
    TOO_LATE = "too_late"
    UNSUPPORTED_FORMAT = "unsupported_format"
    # Line protocol and Sparkplug B:
    INVALID_LINE_PROTOCOL = "invalid_line_protocol"  # not parseable as InfluxDB line protocol
    INVALID_SPARKPLUG = "invalid_sparkplug"  # a spBv1.0 topic or protobuf payload that cannot be read
    NO_BIRTH = "sparkplug_no_birth"  # data or death from an edge node/device whose birth was not seen
    UNKNOWN_ALIAS = "sparkplug_unknown_alias"  # a metric alias (or name) the birth did not define
