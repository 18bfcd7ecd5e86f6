"""DHL Shipment Tracking – Unified – Push: subscriptions, their activation, the pushes.

Sources: NOTES §7.4 (developer.dhl.com portal page v1.2.5; DHL's Postman and Bruno
collections; the php-dhl-api client; the Push API 101 guide). DHL's OpenAPI file for push is
not obtainable here, so every body below is INFERRED from the fields NOTES lists.

* Base ``/tracking/push/v1``, header ``DHL-API-Key`` (the tenant, as for tracking).
* ``POST /subscription`` ``{hook: {uri, authentication?: {type: "ApiKeyAuthentication",
  header, token}}, format: "Default", type: "Shipment" | "Account", service, events[],
  shipmentIDs[1..10] | accountID}`` → 201 with the subscription (status ``pending``).
* Two-step activation: DHL posts a validation message ``{self, secret, expires}`` to the
  hook; the customer then calls ``POST /subscription/{id}`` with header
  ``DHL-API-Hook-Secret: <secret>``, which activates it. Nothing is pushed before that.
* ``GET /subscriptions``, ``GET /subscription/{id}``, ``DELETE /subscription/{id}``.
* Push: ``{scope: "subscription.push", self, shipments: [<a Unified tracking shipment>]}``,
  one shipment showing the event; the hook's chosen header carries its token (DHL's only
  push authentication; no signature).
* Failures: only 200 counts; retried after 1 h, then 6 h after the second attempt, then
  given up (the schedule DHL eCommerce Americas documents; NOTES: repeated for Unified Push
  by third parties [unverified]).
* ``events`` filters by the Unified status code: ``Pre-Transit``, ``Transit``,
  ``Delivered``, ``Failure``, ``Unknown`` (all when absent). An ``Account`` subscription
  covers every DHL shipment the tenant created [unverified].
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator import numbers
from simulator.carriers.common import dumps, json_body, raw, tenant_for
from simulator.carriers.contract import TokenSource
from simulator.carriers.dhl.api import PROBLEM_JSON, UNAUTHORIZED, api_key, key_accepted
from simulator.carriers.dhl.codes import NAME
from simulator.carriers.dhl.render import render_shipment, service_of, text_for
from simulator.engine import Simulation
from simulator.push.dispatch import dispatcher_of
from simulator.push.model import Pending, RetryRule, Subscription
from simulator.push.store import new_id
from simulator.timeline import Shipment

BASE = "/tracking/push/v1"
PUBLIC_BASE = "https://api-eu.dhl.com/tracking/push/v1"
HOOK_SECRET_HEADER = "DHL-API-Hook-Secret"
SHIPMENT_LIMIT = 10
LIFETIME = 365 * 24 * 3600.0
"""[unverified] how long a subscription lasts (``expires``); no source gives it."""
EVENTS = {
    "Pre-Transit": "pre-transit",
    "Transit": "transit",
    "Delivered": "delivered",
    "Failure": "failure",
    "Unknown": "unknown",
}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _problem(status: int, title: str, detail: str) -> Response:
    body = {"status": status, "title": title, "detail": detail}
    return raw(dumps(body), status, {"Content-Language": "en"}, PROBLEM_JSON)


def _bad(detail: str) -> Response:
    return _problem(400, "Bad Request", detail)


def show(sub: Subscription) -> dict[str, Any]:
    """A subscription as the API answers it (INFERRED)."""
    body: dict[str, Any] = {
        "id": sub.id,
        "self": f"{PUBLIC_BASE}/subscription/{sub.id}",
        "status": sub.status,
        "hook": {"uri": sub.url},
        "format": "Default",
        "type": sub.data["type"],
        "events": sub.data["events"],
        "expires": _iso(sub.expires or sub.created),
    }
    if sub.data.get("service"):
        body["service"] = sub.data["service"]
    if "header" in sub.auth:
        body["hook"]["authentication"] = {
            "type": "ApiKeyAuthentication",
            "header": sub.auth["header"],
        }
    if sub.data["type"] == "Account":
        body["accountID"] = sub.data["accountID"]
    else:
        body["shipmentIDs"] = list(sub.numbers)
    return body


def _json(body: Any, status: int = 200) -> Response:
    return raw(dumps(body), status)


def validate(body: Any) -> str | None:
    """What is wrong with a subscription request, or None."""
    if not isinstance(body, dict):
        return "The body must be a JSON object."
    hook = body.get("hook")
    uri = hook.get("uri") if isinstance(hook, dict) else None
    parts = urlsplit(uri) if isinstance(uri, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        return "hook.uri must be an absolute URL."
    auth = hook.get("authentication") if isinstance(hook, dict) else None
    if auth is not None and not (
        isinstance(auth, dict)
        and auth.get("type") == "ApiKeyAuthentication"
        and isinstance(auth.get("header"), str)
        and auth["header"].strip()
        and isinstance(auth.get("token"), str)
        and auth["token"]
    ):
        return "hook.authentication needs type 'ApiKeyAuthentication', a header name and a token."
    kind = body.get("type")
    if kind not in ("Shipment", "Account"):
        return "type must be 'Shipment' or 'Account'."
    events = body.get("events", list(EVENTS))
    if not isinstance(events, list) or not events or not all(e in EVENTS for e in events):
        return f"events must list values of {', '.join(EVENTS)}."
    if body.get("format", "Default") != "Default":
        return "format must be 'Default'."
    if kind == "Shipment":
        ids = body.get("shipmentIDs")
        if not isinstance(ids, list) or not 1 <= len(ids) <= SHIPMENT_LIMIT:
            return f"shipmentIDs must list 1 to {SHIPMENT_LIMIT} shipment ids."
        if not all(isinstance(i, str) and numbers.is_plausible(NAME, numbers.normalize(i))
                   for i in ids):  # fmt: skip
            return "shipmentIDs must be DHL shipment ids."
    elif not (isinstance(body.get("accountID"), str) and body["accountID"].strip()):
        return "accountID is required for an Account subscription."
    return None


def routes(sim: Simulation) -> list[Route]:
    """Subscription create, list, read, delete and activate."""

    def tenant(request: Request) -> str | Response:
        key = api_key(request.scope)
        if not key_accepted(sim, key):
            return _problem(401, str(UNAUTHORIZED["title"]), str(UNAUTHORIZED["detail"]))
        return tenant_for(request, key or "")

    def own(request: Request) -> tuple[str, Subscription] | Response:
        """(tenant, the subscription the path names), or the 401 / 404 to answer."""
        who = tenant(request)
        if isinstance(who, Response):
            return who
        sub = sim.push.subscriptions.get(request.path_params["id"])
        if sub is None or sub.tenant != who or sub.carrier != NAME:
            return _problem(404, "Not Found", f"No subscription {request.path_params['id']!r}.")
        return who, sub

    async def create(request: Request) -> Response:
        who = tenant(request)
        if isinstance(who, Response):
            return who
        ok, body = await json_body(request)
        problem = validate(body) if ok else "The body is not JSON."
        if problem is not None:
            return _bad(problem)
        now = sim.clock.now(who)
        hook = body["hook"]
        auth = hook.get("authentication")
        ids = tuple(dict.fromkeys(numbers.normalize(i) for i in body.get("shipmentIDs", [])))
        serial = sim.push.next_order()
        sub = Subscription(
            id=new_id(sim.settings.seed, who, NAME, serial, length=32),
            tenant=who,
            carrier=NAME,
            numbers=ids,
            url=hook["uri"],
            auth={"header": auth["header"], "token": auth["token"]} if auth else {},
            status="pending",
            created=now,
            expires=now + LIFETIME,
            data={
                "type": body["type"],
                "events": body.get("events", list(EVENTS)),
                "service": body.get("service"),
                "accountID": body.get("accountID"),
                "by_account": body["type"] == "Account",
                "secret": new_id(sim.settings.seed, who, "hook-secret", serial, length=32),
            },
        )
        dispatcher = dispatcher_of(sim)
        dispatcher.subscribe(sub)
        dispatcher.queue(
            sub,
            Pending(
                key=f"{sub.id}/activation",
                subscription=sub.id,
                tenant=who,
                carrier=NAME,
                number="",
                index=-1,
                event_at=now,
                due=now,
                order=sim.push.next_order(),
                kind="activation",
            ),
        )
        return _json(show(sub), 201)

    async def listing(request: Request) -> Response:
        who = tenant(request)
        if isinstance(who, Response):
            return who
        return _json({"subscriptions": [show(s) for s in sim.push.of_tenant(who, NAME)]})

    async def read(request: Request) -> Response:
        found = own(request)
        return found if isinstance(found, Response) else _json(show(found[1]))

    async def activate(request: Request) -> Response:
        found = own(request)
        if isinstance(found, Response):
            return found
        who, sub = found
        given = request.headers.get(HOOK_SECRET_HEADER)
        if given != sub.data["secret"]:
            return _problem(403, "Forbidden", f"{HOOK_SECRET_HEADER} does not match the "
                            "secret sent to the hook.")  # fmt: skip
        if sub.status == "pending":
            sub.status, sub.status_changed = "active", sim.clock.now(who)
            dispatcher = dispatcher_of(sim)
            dispatcher.restart(sub)
        return _json(show(sub))

    async def delete(request: Request) -> Response:
        found = own(request)
        if isinstance(found, Response):
            return found
        sim.push.remove_subscription(found[1].id)
        return Response(status_code=204)

    return [
        Route(BASE + "/subscription", create, methods=["POST"]),
        Route(BASE + "/subscriptions", listing, methods=["GET"]),
        Route(BASE + "/subscription/{id}", read, methods=["GET"]),
        Route(BASE + "/subscription/{id}", activate, methods=["POST"]),
        Route(BASE + "/subscription/{id}", delete, methods=["DELETE"]),
    ]


class DhlPush:
    """DHL Unified Push as a :class:`~simulator.carriers.contract.PushProfile`."""

    retry = RetryRule(success=frozenset({200}), delays=(3600.0, 6 * 3600.0), exhausted="drop")
    routes = staticmethod(routes)

    def wanted(self, sub: Subscription, shipment: Shipment, index: int) -> bool:
        """The subscription's ``events`` (by Unified status code)."""
        code = text_for(shipment.events[index], shipment).status_code
        return any(EVENTS[e] == code for e in sub.data["events"])

    def render(
        self, sub: Subscription, delivery: Pending, shipment: Shipment | None, count: int,
        sent_at: float,
    ) -> bytes:  # fmt: skip
        """The push envelope, or the activation message."""
        link = f"{PUBLIC_BASE}/subscription/{sub.id}"
        if delivery.kind == "activation":
            expires = _iso(sub.expires or sent_at)
            return dumps({"self": link, "secret": sub.data["secret"], "expires": expires})
        assert shipment is not None
        service = service_of(shipment.number)
        return dumps(
            {
                "scope": "subscription.push",
                "self": link,
                "shipments": [render_shipment(shipment, count, service, False)],
            }
        )

    async def sign(self, sub: Subscription, body: bytes, tokens: TokenSource) -> dict[str, str]:
        """The hook's chosen header with its token (nothing without ``authentication``)."""
        headers = {"Content-Type": "application/json"}
        if "header" in sub.auth:
            headers[sub.auth["header"]] = sub.auth["token"]
        return headers

    def secret_headers(self, sub: Subscription) -> tuple[str, ...]:
        """The hook's chosen header."""
        return (sub.auth["header"].lower(),) if "header" in sub.auth else ()


PUSH = DhlPush()
"""DHL's push profile, as :class:`~simulator.carriers.dhl.Dhl` exposes it."""
