"""USPS Tracking's notification sign-up and proof-of-delivery letter, on 3.0 and 3.2.

Both answer 202 (NOTES §3.3): USPS accepts the request and emails later. The simulator keeps
the request (:class:`~simulator.notifications.Subscription`) and shows what USPS would have
sent under ``/__admin/notifications`` (and sends it with ``serve --smtp``). The request
bodies are checked against the specs' schemas (``tracking-v3.yaml`` and
``tracking-v3r2_4.yaml``: required fields, enums, array sizes, ``additionalProperties``), and
every problem is listed in USPS's 400 envelope, as the tracking routes do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator import numbers
from simulator.carriers.common import json_body, respond
from simulator.carriers.usps.codes import API_V3, API_V3R2, NAME
from simulator.engine import Simulation
from simulator.notifications import Subscription

V3_EVENT_TYPES = (
    "EMAIL_ALERT",
    "EMAIL_FUTURE_DELIVERY",
    "EMAIL_DELIVERY/NON_DELIVERY_ACTIVITY",
    "EMAIL_TODAY_DELIVERY",
    "EMAIL_AVAILABLE_FOR_PICKUP",
    "PACKAGE_ADDRESSED_TO_ME/MYUSPS_ONLY",
    "OTHER_ACTIVITY",
)  # [spec: v3 notifyEventTypes enum]
V3R2_EVENT_TYPES = ("EXPECTED_DELIVERY", "DELIVERY_ACTIVITY", "ALL_UPDATES")  # [spec: v3r2]
LETTER_TYPES = ("PROOF_OF_DELIVERY", "RETURN_RECEIPT_ELECTRONIC")  # [spec: v3r2 letterType]

_EMAIL = re.compile(
    r"^[a-zA-Z0-9_+&*-]+(?:\.[a-zA-Z0-9_+&*-]+)*@(?:[a-zA-Z0-9-]+\.)+[a-zA-Z]{2,}$"
).match  # [spec: v3 proof-of-delivery email pattern; used for every email field]
_CELL = re.compile(r"\d{10}").fullmatch  # [spec: cellNumber pattern \d{10}]

_V3_NOTIFICATION_FIELDS = frozenset(
    {
        "uniqueTrackingId",
        "uniqueMailPieceId",
        "approximateIntakeDate",
        "mailPieceIntakeDate",
        "notifyEventTypes",
        "firstName",
        "lastName",
        "notifications",
    }
)
_V3R2_NOTIFICATION_FIELDS = frozenset(
    {"uniqueTrackingID", "mailingDate", "notifyEventTypes", "recipients"}
)

# [inferred] The acknowledgements' texts: the specs give their fields, no example values.
V3_ACCEPTED = {"resultText": "Request accepted", "returnCode": "0"}
V3R2_NOTIFICATIONS_ACCEPTED = {"transactionMessage": "Notification request accepted."}
V3R2_LETTER_ACCEPTED = {"transactionMessage": "Proof of delivery request accepted."}

Problem = dict[str, Any]
Problems = list[Problem]


def _problem(field: str, detail: str) -> Problem:
    return {
        "status": "400",
        "title": f"Invalid {field}",
        "detail": detail,
        "source": {"parameter": field},
    }


def _text(
    body: dict[str, Any],
    field: str,
    problems: Problems,
    *,
    required: bool,
    limit: int | None = None,
) -> str:
    value = body.get(field)
    if value is None:
        if required:
            problems.append(_problem(field, f"{field} is required."))
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        problems.append(_problem(field, f"{field} must be a non-empty string."))
        return ""
    if limit is not None and len(value) > limit:
        problems.append(_problem(field, f"{field} must be at most {limit} characters."))
    return value.strip()


def _list(
    body: dict[str, Any], field: str, problems: Problems, low: int, high: int | None, required: bool
) -> list[Any]:
    value = body.get(field)
    if value is None:
        if required:
            problems.append(_problem(field, f"{field} is required."))
        return []
    if not isinstance(value, list) or len(value) < low or (high is not None and len(value) > high):
        most = f" and at most {high}" if high is not None else ""
        problems.append(_problem(field, f"{field} must be an array of at least {low}{most} items."))
        return []
    return value


def _event_types(
    body: dict[str, Any], allowed: tuple[str, ...], problems: Problems, *, required: bool
) -> list[str]:
    values = _list(body, "notifyEventTypes", problems, 1, len(allowed), required)
    bad = [v for v in values if v not in allowed]
    if bad:
        problems.append(
            _problem(
                "notifyEventTypes",
                f"notifyEventTypes must be among {', '.join(allowed)}; not {bad[0]!r}.",
            )
        )
        return []
    return values


def _email(value: Any, field: str, problems: Problems) -> str | None:
    if isinstance(value, str) and len(value) <= 50 and _EMAIL(value):
        return value
    problems.append(_problem(field, f"{field} must be an email address like name@example.com."))
    return None


def _unknown(body: dict[str, Any], allowed: frozenset[str], problems: Problems) -> None:
    for key in body:
        if key not in allowed:
            problems.append(_problem(key, f"{key} is not a field of this request; remove it."))


def parse_v3_notifications(body: dict[str, Any]) -> tuple[list[str], list[str], str, Problems]:
    """(recipients, event types, name, problems) of a 3.0 notification request."""
    problems: Problems = []
    _unknown(body, _V3_NOTIFICATION_FIELDS, problems)
    types = _event_types(body, V3_EVENT_TYPES, problems, required=False) or ["EMAIL_ALERT"]
    name = " ".join(
        p
        for p in (
            _text(body, f, problems, required=False, limit=50) for f in ("firstName", "lastName")
        )
        if p
    )
    recipients: list[str] = []
    for i, item in enumerate(_list(body, "notifications", problems, 1, 3, True)):
        field = f"notifications[{i}]"
        if isinstance(item, dict) and "cellNumber" in item:
            cell = item["cellNumber"]
            if isinstance(cell, str) and _CELL(cell):
                recipients.append(cell)
            else:
                problems.append(_problem(field + ".cellNumber", "cellNumber must be ten digits."))
        elif isinstance(item, dict) and "email" in item:
            email = _email(item["email"], field + ".email", problems)
            if email:
                recipients.append(email)
        else:
            problems.append(_problem(field, "each notification needs an email or a cellNumber."))
    return recipients, types, name, problems


def parse_v3r2_notifications(body: dict[str, Any]) -> tuple[list[str], list[str], str, Problems]:
    """(recipients, event types, name, problems) of a 3.2 notification request."""
    problems: Problems = []
    _unknown(body, _V3R2_NOTIFICATION_FIELDS, problems)
    _text(body, "uniqueTrackingID", problems, required=True)
    types = _event_types(body, V3R2_EVENT_TYPES, problems, required=True)
    recipients, name = _recipients(body, problems, names_required=False)
    return recipients, types, name, problems


def _recipients(
    body: dict[str, Any], problems: Problems, *, names_required: bool
) -> tuple[list[str], str]:
    recipients: list[str] = []
    names: list[str] = []
    for i, item in enumerate(_list(body, "recipients", problems, 1, 3, True)):
        field = f"recipients[{i}]"
        if not isinstance(item, dict):
            problems.append(_problem(field, "each recipient is an object with an email."))
            continue
        email = _email(item.get("email"), field + ".email", problems)
        if email:
            recipients.append(email)
        first = _text(item, "firstName", problems, required=names_required, limit=50)
        last = _text(item, "lastName", problems, required=names_required, limit=50)
        names.append(" ".join(p for p in (first, last) if p))
    return recipients, next((n for n in names if n), "")


def parse_v3_letter(body: dict[str, Any]) -> tuple[list[str], str, Problems]:
    """(recipients, name, problems) of a 3.0 proof-of-delivery request."""
    problems: Problems = []
    for field in ("firstName", "lastName", "mailPieceIntakeDate", "tableCode", "uniqueMailPieceID"):
        _text(body, field, problems, required=True)
    if body.get("requestType") != "email":
        problems.append(_problem("requestType", "requestType must be 'email'."))
    recipients = [
        e
        for i, v in enumerate(_list(body, "email", problems, 1, 3, True))
        if (e := _email(v, f"email[{i}]", problems))
    ]
    name = f"{body.get('firstName', '')} {body.get('lastName', '')}".strip()
    return recipients, name, problems


def parse_v3r2_letter(body: dict[str, Any]) -> tuple[list[str], str, str, Problems]:
    """(recipients, name, letter type, problems) of a 3.2 proof-of-delivery request."""
    problems: Problems = []
    _text(body, "uniqueTrackingID", problems, required=True)
    letter = body.get("letterType", "PROOF_OF_DELIVERY")
    if letter not in LETTER_TYPES:
        problems.append(
            _problem("letterType", f"letterType must be one of {', '.join(LETTER_TYPES)}.")
        )
    recipients, name = _recipients(body, problems, names_required=True)
    return recipients, name, str(letter), problems


Authorize = Callable[[Request, str], tuple[float, str, Response | None, float]]


def routes(
    sim: Simulation,
    authorize: Authorize,
    bad_request: Callable[[str, Problems], Response],
    unknown_number: Callable[[str, str], Response],
) -> list[Route]:
    """Notifications and proof of delivery on both APIs, at their production paths."""

    def endpoint(api: str, letter: bool) -> Callable[[Request], Any]:
        async def handle(request: Request) -> Response:
            now, tenant, refused, _ = authorize(request, api)
            if refused is not None:
                return refused
            ok, body = await json_body(request)
            if not ok or not isinstance(body, dict):
                return bad_request(
                    api, [_problem("body", "The request body must be a JSON object.")]
                )
            letter_type: str | None = None
            if letter and api == API_V3:
                recipients, name, problems = parse_v3_letter(body)
                types: list[str] = []
                letter_type = "PROOF_OF_DELIVERY"
            elif letter:
                recipients, name, letter_type, problems = parse_v3r2_letter(body)
                types = []
            elif api == API_V3:
                recipients, types, name, problems = parse_v3_notifications(body)
            else:
                recipients, types, name, problems = parse_v3r2_notifications(body)
            if problems:
                return bad_request(api, problems)
            number = numbers.normalize(request.path_params["trackingNumber"])
            shipment = (
                sim.lookup(NAME, number, tenant) if numbers.is_plausible(NAME, number) else None
            )
            if shipment is None or shipment.visible_count(now) == 0:
                return unknown_number(api, number)
            subscription = Subscription(
                NAME, number, tuple(dict.fromkeys(recipients)), tuple(types), now, name, letter_type
            )
            sim.store.add_subscription(tenant, subscription)
            if api == API_V3:
                return respond(V3_ACCEPTED, 202)
            return respond(V3R2_LETTER_ACCEPTED if letter else V3R2_NOTIFICATIONS_ACCEPTED, 202)

        return handle

    out: list[Route] = []
    for api in (API_V3, API_V3R2):
        base = f"{api}/tracking/{{trackingNumber}}"
        out.append(Route(f"{base}/notifications", endpoint(api, False), methods=["POST"]))
        out.append(Route(f"{base}/proof-of-delivery", endpoint(api, True), methods=["POST"]))
    return out
