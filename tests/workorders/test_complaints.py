"""The complaint lifecycle and its first-response deadline, as pure functions."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain import RequestChannel
from core.errors import TransitionError
from workorders.complaints import (
    ALLOWED,
    RESPOND_WITHIN,
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    allowed,
    check_transition,
    is_overdue,
    requirements,
    respond_due_at,
    responded_late,
    step_fields,
)

T0 = datetime(2026, 3, 2, 22, 30, tzinfo=UTC)  # a Monday night: the first-response clock does not sleep
S = ComplaintStatus
EXPECTED = {
    (S.RECEIVED, S.INVESTIGATING), (S.RECEIVED, S.WITHDRAWN),
    (S.INVESTIGATING, S.ANSWERED), (S.INVESTIGATING, S.WITHDRAWN),
    (S.ANSWERED, S.FOLLOWED_UP), (S.ANSWERED, S.INVESTIGATING), (S.ANSWERED, S.WITHDRAWN),
    (S.FOLLOWED_UP, S.CLOSED),
}


def complaint(status: ComplaintStatus = S.RECEIVED, received_at: datetime = T0,
              responded_at: datetime | None = None) -> Complaint:
    return Complaint(1, "north", RequestChannel.PHONE, ComplaintCategory.NOISE, status, "Ms Li, 12B", None,
                     "pump room hums all night", received_at, respond_due_at(received_at), responded_at)


@pytest.mark.parametrize(("current", "requested"), sorted(itertools.product(S, S)))
def test_every_complaint_transition_is_allowed_exactly_when_the_table_says(current: ComplaintStatus,
                                                                           requested: ComplaintStatus) -> None:
    if (current, requested) in EXPECTED:
        check_transition(current, requested)
        assert requested in allowed(current)
    else:
        with pytest.raises(TransitionError) as raised:
            check_transition(current, requested)
        assert raised.value.allowed == tuple(s.value for s in allowed(current))
        assert f"cannot go from {current.value!r} to {requested.value!r}" in str(raised.value)


def test_the_table_holds_exactly_the_documented_steps() -> None:
    assert {(a, b) for a, targets in ALLOWED.items() for b in targets} == EXPECTED


def test_closed_and_withdrawn_are_final_and_the_error_says_so() -> None:
    assert allowed(S.CLOSED) == allowed(S.WITHDRAWN) == ()
    with pytest.raises(TransitionError, match=r"allowed: none \(it is final\)"):
        check_transition(S.CLOSED, S.INVESTIGATING)


def test_allowed_steps_come_in_lifecycle_order() -> None:
    assert allowed(S.ANSWERED) == (S.INVESTIGATING, S.FOLLOWED_UP, S.WITHDRAWN)


@pytest.mark.parametrize(("current", "to", "note", "satisfaction", "lack"), [
    (S.INVESTIGATING, S.ANSWERED, " ", None, "the answer"),
    (S.ANSWERED, S.FOLLOWED_UP, "", None, "the satisfaction, 1 to 5"),
    (S.ANSWERED, S.FOLLOWED_UP, "", 6, "the satisfaction, 1 to 5"),
    (S.RECEIVED, S.WITHDRAWN, "", None, "a reason"),
    (S.ANSWERED, S.INVESTIGATING, "", None, "a reason"),
])
def test_a_step_without_what_it_records_lacks_it(current: ComplaintStatus, to: ComplaintStatus, note: str,
                                                 satisfaction: int | None, lack: str) -> None:
    assert any(lack in missing for missing in requirements(current, to, note, satisfaction))


def test_steps_with_what_they_record_lack_nothing() -> None:
    assert requirements(S.RECEIVED, S.INVESTIGATING, "", None) == []
    assert requirements(S.INVESTIGATING, S.ANSWERED, "the pump is rebalanced", None) == []
    assert requirements(S.ANSWERED, S.FOLLOWED_UP, "", 4) == []


def test_first_step_out_of_received_is_the_first_response() -> None:
    at = T0 + timedelta(hours=3)
    assert step_fields(complaint(), S.INVESTIGATING, "", None, at) == {"responded_at": at}
    later = complaint(S.INVESTIGATING, responded_at=at)
    assert step_fields(later, S.ANSWERED, "fixed", None, at + timedelta(days=1)) == {"answer": "fixed"}


def test_withdrawal_is_no_response_and_closes_the_complaint() -> None:
    at = T0 + timedelta(hours=1)
    assert step_fields(complaint(), S.WITHDRAWN, "sorted it out with a neighbour", None, at) == {"closed_at": at}


def test_follow_up_records_satisfaction_and_comment() -> None:
    answered = complaint(S.ANSWERED, responded_at=T0)
    assert step_fields(answered, S.FOLLOWED_UP, "quiet now", 5, T0) == {"satisfaction": 5,
                                                                       "follow_up_comment": "quiet now"}


def test_first_response_is_due_24_hours_later_around_the_clock() -> None:
    assert timedelta(hours=24) == RESPOND_WITHIN
    assert respond_due_at(T0) == datetime(2026, 3, 3, 22, 30, tzinfo=UTC)
    assert respond_due_at(T0, timedelta(hours=4)) == datetime(2026, 3, 3, 2, 30, tzinfo=UTC)


@given(elapsed=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=5)))
def test_unanswered_complaint_is_overdue_exactly_once_its_deadline_passed(elapsed: timedelta) -> None:
    assert is_overdue(complaint(), T0 + elapsed) == (elapsed > RESPOND_WITHIN)


@given(status=st.sampled_from([s for s in S if s is not S.RECEIVED]),
       elapsed=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=5)))
def test_a_complaint_that_left_received_is_never_overdue(status: ComplaintStatus, elapsed: timedelta) -> None:
    assert not is_overdue(complaint(status, responded_at=T0 + timedelta(hours=1)), T0 + elapsed)


def test_a_response_after_the_deadline_was_late() -> None:
    assert responded_late(complaint(S.INVESTIGATING, responded_at=T0 + timedelta(hours=25)))
    assert not responded_late(complaint(S.INVESTIGATING, responded_at=T0 + timedelta(hours=24)))
    assert not responded_late(complaint())
