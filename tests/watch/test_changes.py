"""Change events from answers built by hand: the rules a shop relies on, one at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from client.model import Carrier, Event, ExceptionReason, Location, Status, TrackingResult
from client.watch.changes import (
    ChangeKind,
    ParcelState,
    apply_result,
    check_stall,
    kinds,
    replay,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=5)
NYC = Location(city="New York", state="NY", country="US")


def scan(hours: float, status: Status, **kw: object) -> Event:
    return Event(
        time=T0 + timedelta(hours=hours),
        status=status,
        description=status.value,
        location=NYC,
        **kw,
    )  # type: ignore[arg-type]


def answer(*events: Event, status: Status | None = None, **kw: object) -> TrackingResult:
    current = status or (events[-1].status if events else Status.unknown)
    return TrackingResult(
        carrier=Carrier.ups, number="1Z1442YY7229014688", status=current, events=tuple(events), **kw
    )  # type: ignore[arg-type]


LIFE = [
    scan(0, Status.pre_transit),
    scan(2, Status.in_transit),
    scan(10, Status.in_transit),
    scan(30, Status.out_for_delivery),
    scan(34, Status.delivered),
]


def test_a_whole_life_reads_as_the_moments_customers_care_about() -> None:
    _, changes = replay([answer(*LIFE)], NOW)
    assert kinds(changes) == ["shipped", "out_for_delivery", "delivered"]
    assert [c.seq for c in changes] == [1, 2, 3]
    assert changes[-1].final and changes[-1].at == LIFE[-1].time


def test_answers_piece_by_piece_give_the_same_changes_as_all_at_once() -> None:
    pieces = [answer(*LIFE[:n]) for n in range(1, len(LIFE) + 1)]
    assert kinds(replay(pieces, NOW)[1]) == kinds(replay([pieces[-1]], NOW)[1])


def test_a_repeated_or_stale_answer_brings_nothing() -> None:
    state, _ = replay([answer(*LIFE[:4])], NOW)
    for stale in (answer(*LIFE[:4]), answer(*LIFE[:2]), answer(LIFE[1])):
        after, changes = apply_result(state, stale, NOW)
        assert changes == []
        assert after.status is Status.out_for_delivery


def test_a_late_scan_only_ever_moves_a_parcel_forward() -> None:
    state, _ = replay([answer(*LIFE[:2], LIFE[4])], NOW)  # delivered seen first
    _, changes = apply_result(state, answer(LIFE[3]), NOW, source="push")
    assert changes == []  # the late out-for-delivery scan is absorbed
    state, _ = replay([answer(*LIFE[:3])], NOW)
    _, changes = apply_result(state, answer(LIFE[4]), NOW, source="push")
    assert kinds(changes) == ["delivered"] and changes[0].source == "push"


def test_a_carrier_taking_back_a_delivery_is_a_correction() -> None:
    back = scan(35, Status.in_transit)
    state, changes = replay([answer(*LIFE), answer(*LIFE, back)], NOW)
    assert kinds(changes)[-1] == "corrected"
    assert (changes[-1].previous, changes[-1].status) == (Status.delivered, Status.in_transit)
    assert not state.final


def test_label_created_again_after_moving_is_a_correction_but_moving_on_is_not() -> None:
    relabel = scan(11, Status.pre_transit)
    _, changes = replay([answer(*LIFE[:3], relabel)], NOW)
    assert kinds(changes) == ["shipped", "corrected"]
    depot = scan(31, Status.in_transit)
    _, changes = replay([answer(*LIFE[:4], depot)], NOW)
    assert kinds(changes) == ["shipped", "out_for_delivery", "in_transit"]


def test_exceptions_carry_their_reason_and_a_new_reason_is_a_new_event() -> None:
    weather = scan(12, Status.exception, exception_reason=ExceptionReason.weather)
    again = scan(13, Status.exception, exception_reason=ExceptionReason.weather)
    address = scan(14, Status.exception, exception_reason=ExceptionReason.address)
    _, changes = replay([answer(*LIFE[:3], weather, again, address)], NOW)
    assert kinds(changes) == ["shipped", "exception", "exception"]
    assert [c.reason for c in changes[1:]] == [ExceptionReason.weather, ExceptionReason.address]


def test_unknown_codes_change_nothing_until_they_are_known() -> None:
    unknown = scan(30, Status.unknown, raw_code="ZZ")
    known = scan(30, Status.out_for_delivery, raw_code="OF")
    state, changes = replay([answer(*LIFE[:3], unknown)], NOW)
    assert kinds(changes) == ["shipped"]
    _, changes = apply_result(state, answer(*LIFE[:3], known), NOW)
    assert kinds(changes) == ["out_for_delivery"]


def test_an_answer_without_scans_moves_forward_by_its_summary_only() -> None:
    state, changes = replay([answer(status=Status.in_transit)], NOW)
    assert kinds(changes) == ["shipped"]
    state, changes = apply_result(state, answer(status=Status.pre_transit), NOW)
    assert changes == [] and state.status is Status.in_transit


def test_delayed_fires_when_the_promise_moves_later_and_never_for_a_stale_promise() -> None:
    promise = T0 + timedelta(days=3)
    state, _ = replay([answer(*LIFE[:3], estimated_delivery=promise)], NOW)
    later = promise + timedelta(days=1)
    state, changes = apply_result(state, answer(*LIFE[:3], estimated_delivery=later), NOW)
    assert kinds(changes) == ["delayed"]
    assert changes[0].previous_estimated_delivery == promise
    assert changes[0].estimated_delivery == later
    # A cache answering with the old promise, then the new one again: nothing new.
    state, changes = apply_result(state, answer(*LIFE[:3], estimated_delivery=promise), NOW)
    state, again = apply_result(state, answer(*LIFE[:3], estimated_delivery=later), NOW)
    assert changes == again == []
    # An older answer with a later promise is stale: no delay from it.
    _, stale = apply_result(
        state, answer(*LIFE[:2], estimated_delivery=later + timedelta(days=3)), NOW
    )
    assert stale == []


def test_stalled_once_per_silence() -> None:
    state, _ = replay([answer(*LIFE[:3])], LIFE[2].time)
    quiet = LIFE[2].time + timedelta(days=2)
    assert check_stall(state, quiet, timedelta(days=3), carrier=Carrier.ups, number="n")[1] == []
    late = LIFE[2].time + timedelta(days=3)
    state, changes = check_stall(state, late, timedelta(days=3), carrier=Carrier.ups, number="n")
    assert kinds(changes) == ["stalled"] and changes[0].seq == state.seq
    assert check_stall(state, late, timedelta(days=3), carrier=Carrier.ups, number="n")[1] == []
    state, _ = apply_result(state, answer(*LIFE[:4]), late)
    assert not state.stalled


def test_state_and_changes_survive_their_json() -> None:
    state, changes = replay([answer(*LIFE)], NOW)
    assert ParcelState.from_dict(state.to_dict()) == state
    assert [type(c).from_dict(c.to_dict()) for c in changes] == changes
    assert {ChangeKind(c.kind) for c in changes} <= set(ChangeKind)


def test_a_carriers_push_feeds_the_watcher_once_however_often_it_is_resent() -> None:
    from client.push.parse import updates_for
    from client.watch import Order, Store, Watcher
    from tests import push_bodies

    (update,) = updates_for(Carrier.fedex, push_bodies.fedex_push(), "delivery-1").updates

    class Clock:
        def now(self) -> datetime:
            return NOW

        async def sleep(self, seconds: float) -> None:
            raise AssertionError("feeding never waits")

    watcher = Watcher(Store(), clock=Clock())
    watcher.watch(update.number, Order("#1"), "fedex")
    changes = watcher.feed(update.number, update.result, source="push")
    assert changes and changes[-1].kind is ChangeKind.delivered
    assert {c.source for c in changes} == {"push"}
    assert watcher.feed(update.number, update.result, source="push") == []
    assert watcher.all_final()
