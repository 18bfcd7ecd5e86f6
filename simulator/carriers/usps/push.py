"""USPS Subscriptions – Tracking 3.2: the subscription resource and its notifications.

Sources: NOTES §7.3 and the official ``usps/subscriptions-tracking-v3r2_1.yaml`` (v3.2.2).

* ``POST /subscriptions-tracking/v3r2/subscriptions`` → **201** with ``Location`` (the new
  resource's URL) and ``ETag``; ``GET`` lists (``MID``, ``trackingNumber`` comma lists,
  ``offset`` ≥ 0, ``limit`` 1–100, default 20) as ``{subscriptions, metadata}``;
  ``GET|PUT|DELETE …/subscriptions/{subscriptionId}``, PUT and DELETE with ``If-Match`` set
  to the current ETag (the spec: "All DELETE and PUT operations require an ETag"). PUT
  changes ``listenerURL``, ``secret`` and ``status`` only ("If filter properties need to
  change, a new subscription needs to be created").
* Body ``TrackingSubscription``: ``listenerURL`` (uri, ≤ 200), ``secret`` (exactly 32
  characters), ``adminNotification`` (1–3 ``{email ≤ 50}``), ``filterProperties``
  (``{trackingNumber}`` or ``{MID}`` with ``^(\\d{6}|\\d{9})$``, ``trackingEventTypes`` ⊂
  the spec's enum, ``SCAN_EVENT_EXTRACT`` for MIDs only). Status ENABLED / DISABLED /
  SUSPENDED; only USPS sets SUSPENDED.
* Bearer token of the USPS OAuth API with scope ``subscriptions-tracking`` (or the
  ``subscriptions`` scope every simulated app holds).
* Notification: ``{subscriptionId, subscriptionType: "TRACKING", timestamp, payload}``,
  ``payload`` the Tracking 3.2 record **as a JSON string**, ``X-HMAC`` = base64
  HMAC-SHA256(secret, ``timestamp`` + ``payload``).
* A listener that does not answer 200: the subscription becomes SUSPENDED with
  ``statusReason`` "Unable to reach listener" (no retry schedule is published); nothing is
  pushed until the customer PUTs ``status: ENABLED`` again.

[unverified]: the answers show ``secret`` as 32 asterisks (the schema requires the field,
the simulator does not echo a secret); a MID subscription covers every USPS shipment the
tenant created; ``SCAN_EVENT_EXTRACT`` is accepted and sends the same tracking record;
ALL_UPDATES leaves out delays (exceptions for weather or delay), DELIVERY_ACTIVITY is
delivery, attempts, pickup notices, delays and exceptions, PACKAGE_DELAYED only delays;
wording of the 400, 404 and 412 answers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator.carriers.common import dumps, json_body, respond, tenant_mismatch
from simulator.carriers.contract import TokenSource
from simulator.carriers.usps.api import WWW_AUTHENTICATE, envelope, problem
from simulator.carriers.usps.codes import NAME
from simulator.carriers.usps.render import render_v3r2
from simulator.engine import Simulation
from simulator.push.dispatch import dispatcher_of
from simulator.push.model import Pending, RetryRule, Subscription
from simulator.push.store import new_id
from simulator.scenario import EventKind, ExceptionReason
from simulator.timeline import Shipment
from simulator.tokens import TokenError, bearer

API = "/subscriptions-tracking/v3r2"
BASE = "/subscriptions-tracking/v3r2/subscriptions"
SCOPES = frozenset({"subscriptions-tracking", "subscriptions"})
EVENT_TYPES = ("ALL_UPDATES", "DELIVERY_ACTIVITY", "PACKAGE_DELAYED", "SCAN_EVENT_EXTRACT")
_MID = re.compile(r"^(\d{6}|\d{9})$").match
MASKED_SECRET = "*" * 32

_DELAYS = frozenset({ExceptionReason.weather, ExceptionReason.delay})
_DELIVERY_ACTIVITY = frozenset(
    {
        EventKind.delivered,
        EventKind.delivery_attempted,
        EventKind.available_for_pickup,
        EventKind.exception,
    }
)


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fail(status: int, message: str, problems: list[dict[str, Any]] | None = None) -> Response:
    items = [{**p, "status": str(status)} for p in problems or []]
    headers = WWW_AUTHENTICATE if status == 401 else None
    return respond(envelope(API, status, message, items), status, headers)


def _unauthorized() -> Response:
    return _fail(401, "Unauthorized: the token is missing, expired or lacks the scope")


def validate(body: Any, *, creating: bool) -> list[dict[str, Any]]:
    """Every problem of a ``TrackingSubscription`` body (all of them, not the first)."""
    if not isinstance(body, dict):
        return [problem("Invalid body", "The body must be a JSON object.", "body")]
    found: list[dict[str, Any]] = []
    url = body.get("listenerURL")
    if creating or "listenerURL" in body:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            found.append(problem("Invalid listenerURL", "listenerURL must be an absolute URL.",
                                 "listenerURL", "https://myserver.com/listener"))  # fmt: skip
        elif isinstance(url, str) and len(url) > 200:
            found.append(problem("Invalid listenerURL", "listenerURL must be at most 200 "
                                 "characters.", "listenerURL"))  # fmt: skip
    secret = body.get("secret")
    if (creating or "secret" in body) and not (isinstance(secret, str) and len(secret) == 32):
        found.append(problem("Invalid secret", "secret must be exactly 32 characters.",
                             "secret", "MySecretKeyPhraseIs32BytesLength"))  # fmt: skip
    notify = body.get("adminNotification")
    emails_ok = (
        isinstance(notify, list)
        and 1 <= len(notify) <= 3
        and all(
            isinstance(n, dict)
            and isinstance(n.get("email"), str)
            and "@" in n["email"]
            and len(n["email"]) <= 50
            for n in notify
        )
    )
    if (creating or "adminNotification" in body) and not emails_ok:
        found.append(problem("Invalid adminNotification", "adminNotification must list "
                             "1 to 3 objects with a valid email of at most 50 characters.",
                             "adminNotification"))  # fmt: skip
    status = body.get("status")
    if status is not None and status not in ("ENABLED", "DISABLED"):
        found.append(problem("Invalid status", "status can be set to ENABLED or DISABLED.",
                             "status", "DISABLED"))  # fmt: skip
    if creating:
        found.extend(_filter_problems(body.get("filterProperties")))
    return found


def _filter_problems(filters: Any) -> list[dict[str, Any]]:
    if not isinstance(filters, dict) or ("MID" in filters) == ("trackingNumber" in filters):
        return [problem("Invalid filterProperties", "filterProperties needs either MID or "
                        "trackingNumber.", "filterProperties")]  # fmt: skip
    found = []
    if "MID" in filters and not (isinstance(filters["MID"], str) and _MID(filters["MID"])):
        found.append(problem("Invalid MID", "MID must be 6 or 9 digits.",
                             "filterProperties.MID", "123456"))  # fmt: skip
    number = filters.get("trackingNumber")
    if "trackingNumber" in filters and not (isinstance(number, str) and number.strip()):
        found.append(problem("Invalid trackingNumber", "trackingNumber must be a string.",
                             "filterProperties.trackingNumber"))  # fmt: skip
    types = filters.get("trackingEventTypes", ["ALL_UPDATES"])
    allowed = EVENT_TYPES if "MID" in filters else EVENT_TYPES[:3]
    if not (isinstance(types, list) and types and all(t in allowed for t in types)):
        found.append(problem("Invalid trackingEventTypes", "trackingEventTypes must list "
                             f"values of {', '.join(allowed)}.",
                             "filterProperties.trackingEventTypes", "ALL_UPDATES"))  # fmt: skip
    return found


def _etag(sub: Subscription) -> str:
    seen = json.dumps([sub.url, sub.auth.get("secret"), sub.status, sub.status_changed])
    return hashlib.sha1(f"{sub.id}|{seen}".encode()).hexdigest()


def show(sub: Subscription) -> dict[str, Any]:
    """The subscription as the API answers it (``TrackingSubscription``)."""
    body: dict[str, Any] = {
        "subscriptionId": sub.id,
        "listenerURL": sub.url,
        "secret": MASKED_SECRET,
        "status": sub.status,
        "adminNotification": sub.data["adminNotification"],
        "filterProperties": sub.data["filterProperties"],
        "creationTimestamp": _iso(sub.created),
    }
    if sub.status_reason and sub.status == "SUSPENDED":
        body["statusReason"] = sub.status_reason
    if sub.status_changed is not None:
        body["statusChangeTimestamp"] = _iso(sub.status_changed)
    return body


def routes(sim: Simulation) -> list[Route]:
    """The subscription collection and resource."""

    def authorize(request: Request) -> tuple[str, float] | Response:
        try:
            claims = sim.tokens.decode(bearer(request.headers.get("authorization")), NAME)
        except TokenError:
            return _unauthorized()
        now = sim.clock.now(claims.tenant)
        if tenant_mismatch(request, claims) or now >= claims.expires_at:
            return _unauthorized()
        if SCOPES.isdisjoint(claims.scope.split()):
            return _unauthorized()
        return claims.tenant, now

    def own(request: Request) -> tuple[Subscription, float] | Response:
        """(the subscription the path names, the tenant's now), or the 401 / 404."""
        who = authorize(request)
        if isinstance(who, Response):
            return who
        sub = sim.push.subscriptions.get(request.path_params["subscriptionId"])
        if sub is None or sub.tenant != who[0] or sub.carrier != NAME:
            return not_found(request)
        return sub, who[1]

    def not_found(request: Request) -> Response:
        return _fail(404, "Resource Not Found", [problem(
            "Subscription not found",
            f"No subscription {request.path_params['subscriptionId']!r} exists.",
            "subscriptionId",
        )])  # fmt: skip

    def precondition(request: Request, sub: Subscription) -> Response | None:
        given = request.headers.get("if-match")
        if not given:
            return _fail(428, "Precondition Required", [problem(
                "Missing If-Match", "PUT and DELETE require the ETag of a GET as If-Match.",
                "If-Match", _etag(sub),
            )])  # fmt: skip
        if given.strip().strip('"') != _etag(sub):
            return _fail(412, "Precondition Failed", [problem(
                "Stale If-Match", "The subscription changed since that ETag; GET it again.",
                "If-Match",
            )])  # fmt: skip
        return None

    async def create(request: Request) -> Response:
        who = authorize(request)
        if isinstance(who, Response):
            return who
        tenant, now = who
        ok, body = await json_body(request)
        problems = validate(body, creating=True) if ok else [
            problem("Invalid body", "The body is not JSON.", "body")]  # fmt: skip
        if problems:
            return _fail(400, "Bad Request", problems)
        filters = dict(body["filterProperties"])
        filters.setdefault("trackingEventTypes", ["ALL_UPDATES"])
        number = filters.get("trackingNumber")
        sub = Subscription(
            id=new_id(sim.settings.seed, tenant, NAME, sim.push.next_order(), length=32),
            tenant=tenant,
            carrier=NAME,
            numbers=(str(number).strip().upper(),) if number else (),
            url=body["listenerURL"],
            auth={"secret": body["secret"]},
            status=body.get("status", "ENABLED"),
            created=now,
            data={
                "adminNotification": body["adminNotification"],
                "filterProperties": filters,
                "by_account": number is None,
            },
        )
        dispatcher = dispatcher_of(sim)
        dispatcher.subscribe(sub)
        location = str(request.url.replace(query="")).rstrip("/") + f"/{sub.id}"
        return respond(show(sub), 201, {"Location": location, "ETag": _etag(sub)})

    async def listing(request: Request) -> Response:
        who = authorize(request)
        if isinstance(who, Response):
            return who
        tenant, _ = who
        q = request.query_params
        try:
            offset = int(q.get("offset", "0"))
            limit = int(q.get("limit", "20"))
        except ValueError:
            offset, limit = -1, 0
        # An offset past any int32 is no page (and would not even encode as JSON).
        if not 0 <= offset <= _INT32 or not 1 <= limit <= 100:
            return _fail(400, "Bad Request", [problem(
                "Invalid paging", "offset must be 0 to 2147483647 and limit 1 to 100.", "limit",
                "20"
            )])  # fmt: skip
        mids = {m for m in q.get("MID", "").split(",") if m}
        wanted = {n.strip().upper() for n in q.get("trackingNumber", "").split(",") if n.strip()}
        subs = [
            s
            for s in sim.push.of_tenant(tenant, NAME)
            if (not mids or s.data["filterProperties"].get("MID") in mids)
            and (not wanted or wanted & set(s.numbers))
        ]
        page = subs[offset : offset + limit]
        total = len(subs)
        return respond(
            {
                "subscriptions": [show(s) for s in page],
                "metadata": {
                    "totalCount": total,
                    "offset": offset,
                    "limit": limit,
                    "page": offset // limit + 1,
                    "totalPages": (total + limit - 1) // limit,
                },
            }
        )

    async def read(request: Request) -> Response:
        found = own(request)
        if isinstance(found, Response):
            return found
        sub = found[0]
        return respond(show(sub), 200, {"ETag": _etag(sub)})

    async def update(request: Request) -> Response:
        found = own(request)
        if isinstance(found, Response):
            return found
        sub, now = found
        refused = precondition(request, sub)
        if refused is not None:
            return refused
        ok, body = await json_body(request)
        problems = validate(body, creating=False) if ok else [
            problem("Invalid body", "The body is not JSON.", "body")]  # fmt: skip
        if (
            ok
            and isinstance(body, dict)
            and body.get("filterProperties")
            not in (
                None,
                sub.data["filterProperties"],
            )
        ):
            problems.append(problem("filterProperties cannot change", "Create a new "
                                    "subscription to change its filters.",
                                    "filterProperties"))  # fmt: skip
        if problems:
            return _fail(400, "Bad Request", problems)
        if "listenerURL" in body:
            sub.url = body["listenerURL"]
        if "secret" in body:
            sub.auth["secret"] = body["secret"]
        status = body.get("status")
        if status is not None and status != sub.status:
            sub.status, sub.status_changed, sub.status_reason = status, now, None
            if status == "ENABLED":
                dispatcher = dispatcher_of(sim)
                dispatcher.restart(sub)
        return respond(show(sub), 200, {"ETag": _etag(sub)})

    async def delete(request: Request) -> Response:
        found = own(request)
        if isinstance(found, Response):
            return found
        sub = found[0]
        refused = precondition(request, sub)
        if refused is not None:
            return refused
        sim.push.remove_subscription(sub.id)
        return Response(status_code=204)

    return [
        Route(BASE, create, methods=["POST"]),
        Route(BASE, listing, methods=["GET"]),
        Route(BASE + "/{subscriptionId}", read, methods=["GET"]),
        Route(BASE + "/{subscriptionId}", update, methods=["PUT"]),
        Route(BASE + "/{subscriptionId}", delete, methods=["DELETE"]),
    ]


def notification(sub_id: str, timestamp: str, record: dict[str, Any]) -> bytes:
    """The notification body: ``payload`` the record as a JSON string."""
    payload = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
    return dumps(
        {
            "subscriptionId": sub_id,
            "subscriptionType": "TRACKING",
            "timestamp": timestamp,
            "payload": payload,
        }
    )


def x_hmac(secret: str, timestamp: str, payload: str) -> str:
    """Base64 HMAC-SHA256 of ``timestamp + payload`` keyed by the secret (N§7.3)."""
    digest = hmac.new(secret.encode(), (timestamp + payload).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class UspsPush:
    """USPS Subscriptions – Tracking as a :class:`~simulator.carriers.contract.PushProfile`."""

    retry = RetryRule(success=frozenset({200}), delays=(), exhausted="suspend")
    routes = staticmethod(routes)

    def wanted(self, sub: Subscription, shipment: Shipment, index: int) -> bool:
        """The subscription's ``trackingEventTypes`` (see the module docstring)."""
        types = set(sub.data["filterProperties"].get("trackingEventTypes") or ["ALL_UPDATES"])
        event = shipment.events[index]
        delayed = event.kind is EventKind.exception and event.reason in _DELAYS
        if types & {"ALL_UPDATES", "SCAN_EVENT_EXTRACT"} and not delayed:
            return True
        if "PACKAGE_DELAYED" in types and delayed:
            return True
        return "DELIVERY_ACTIVITY" in types and event.kind in _DELIVERY_ACTIVITY

    def render(
        self, sub: Subscription, delivery: Pending, shipment: Shipment | None, count: int,
        sent_at: float,
    ) -> bytes:  # fmt: skip
        """The notification, ``timestamp`` the simulated send time (ms, Z)."""
        assert shipment is not None, "USPS pushes only events"
        stamp = _iso(sent_at) or ""
        return notification(sub.id, stamp, render_v3r2(shipment, count, False))

    async def sign(self, sub: Subscription, body: bytes, tokens: TokenSource) -> dict[str, str]:
        """``X-HMAC`` over the two fields' values."""
        doc = json.loads(body)
        signature = x_hmac(sub.auth["secret"], doc["timestamp"], doc["payload"])
        return {"Content-Type": "application/json", "X-HMAC": signature}

    def secret_headers(self, sub: Subscription) -> tuple[str, ...]:
        """``x-hmac``."""
        return ("x-hmac",)


_INT32 = 2**31 - 1

PUSH = UspsPush()
"""USPS's push profile, as :class:`~simulator.carriers.usps.Usps` exposes it."""
