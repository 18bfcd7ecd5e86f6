"""UPS Track Alert: package subscriptions (v1 and v2) and the pushes they bring.

Sources: NOTES §7.1 and the official ``ups/UPSTrackAlert.yaml`` (v2),
``ups/UPSTrackAlert-v1.yaml``, ``ups/UPSTrackAlertEnhanced-v1.yaml``.

* ``POST /api/track/{v1|v2}/subscription/{standard|enhanced}/package`` with the UPS bearer
  token of the Track API and the required ``transId`` / ``transactionSrc`` headers. Body
  ``{locale (en_US), countryCode, trackingNumberList[≤100], eventPreferences (enhanced)}``;
  v1 also requires ``destination{url, credentialType, credential}``. 200 with
  ``validTrackingNumbers`` and, when some were refused, ``invalidTrackingNumbers`` (partial
  success is 200); none valid: 400 VSS210 with ``invalidTrackingNumbers``; more than 100:
  400 VSS220, the whole batch refused. Every error in the UPS envelope with the spec's
  VSS codes.
* v2 has no ``destination``: "webhook credentials are now managed through Manage Webhook
  Credentials" on the UPS portal. The simulator's stand-in for that page is
  ``PUT /__admin/webhooks/ups`` (``url``, ``token_url``, ``client_id``, ``client_secret``);
  a v2 subscription without it is refused with VSS500 (destination required).
* A subscription lives 14 days of the tenant's clock. Subscribing a number again moves it
  to the new subscription (one push per event, never two).
* Push: the flat ``TrackingEventRequest`` of the event, ``User-Agent:
  UPSPubSubTrackingService``; v1 sends the subscription's ``credential`` header, v2 a bearer
  token UPS fetched from the customer's token URL (client credentials,
  ``client_secret_basic``) plus ``x-api-key`` = that client id. No signature (NOTES: none
  in either version).
* Failures: only 200 counts, nothing is retried ("If this endpoint is not continuously
  available, incoming events will be lost").

Choices the sources leave open [unverified]: the activity type ``P`` of the Track API (pickup)
is sent as ``I`` (Track Alert's enum has no ``P``); fields that would break the webhook
schema's US-shaped patterns (a non-US state or postal code) are left out rather than sent
blank; VSS414's and VSS610's wording, and 2048 characters as the longest URL.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator.carriers.common import dumps, json_body, raw, respond, tenant_mismatch
from simulator.carriers.contract import TokenSource
from simulator.carriers.ups.codes import NAME, status_of
from simulator.carriers.ups.render import _delivery
from simulator.engine import Simulation
from simulator.push.dispatch import dispatcher_of
from simulator.push.model import Pending, RetryRule, Subscription
from simulator.push.store import new_id
from simulator.scenario import EventKind
from simulator.timeline import Shipment
from simulator.tokens import TokenError, bearer

PACKAGE_PATH = "/api/track/{version}/subscription/{type}/package"
"""Under the real base ``https://onlinetools.ups.com/api/track/{version}`` (N§7.1)."""

BATCH_LIMIT = 100
LIFETIME = 14 * 24 * 3600.0
"""A package subscription is valid 14 days (N§7.1)."""
USER_AGENT = "UPSPubSubTrackingService"
MAX_URL = 2048  # [unverified] the spec names VSS610 "URL is too long" without a limit

_NUMBER = re.compile(r"(^1Z[0-9A-Z]{16}$)|(^1R[0-9A-Z]{14}$)|(^1R[0-9A-Z]{26}$)").match
_LOCALE = re.compile(r"^[a-z]{2}_[A-Z]{2}$").match
_COUNTRY = re.compile(r"^[A-Z]{2}$").match
_STATE = re.compile(r"^[A-Z]{2}$").match
_POSTAL = re.compile(r"^\d{5}(?:[-\s]\d{4})?$").match
_PREFERENCES = frozenset({"D", "I", "M", "X"})


def _error(
    code: str, message: str, status: int = 400, invalid: list[Any] | None = None
) -> Response:
    body: dict[str, Any] = {}
    if invalid is not None:
        body["invalidTrackingNumbers"] = invalid
    body["response"] = {"errors": [{"code": code, "message": message}]}
    return raw(dumps(body), status)


_REJECTED = "The Subscription request has been rejected."
# The spec's error table (UPSTrackAlert.yaml, "Error Codes"), word for word.
_MESSAGES = {
    "VSS002": "Missing transId",
    "VSS004": "Missing transactionSrc",
    "VSS110": f"Subscription request is empty or not present. {_REJECTED}",
    "VSS200": f"Tracking Number List is required. {_REJECTED}",
    "VSS210": "The Subscription request should have at least one valid tracking number. "
    + _REJECTED,
    "VSS220": "You have submitted over 100 tracking numbers which is not allowed. The entire "
    "submission of tracking numbers has been rejected.",
    "VSS300": f"Locale is required. {_REJECTED}",
    "VSS310": "Please enter a valid locale. The Subscription request has been rejected",
    "VSS400": f"Please enter a valid country code. {_REJECTED}",
    "VSS414": f"Please enter valid event preferences. {_REJECTED}",  # [unverified] wording
    "VSS500": "Destination is required. The Subscription request has been rejected",
    "VSS600": f"URL is empty or not present. {_REJECTED}",
    "VSS610": f"URL is too long. {_REJECTED}",
    "VSS700": f"Credential is empty or not present. {_REJECTED}",
    "VSS800": f"CredentialType is empty or not present. {_REJECTED}",
    "VSS930": f"Type is missing or invalid, {_REJECTED}",
}


def _vss(code: str, invalid: list[Any] | None = None) -> Response:
    return _error(code, _MESSAGES[code], 400, invalid)


_UNAUTHORIZED = dumps(
    {"response": {"errors": [{"code": "250002", "message": "Invalid Authentication Information"}]}}
)
_NOT_FOUND = dumps(
    {"response": {"errors": [{"code": "404", "message": "The requested resource was not found."}]}}
)


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def routes(sim: Simulation) -> list[Route]:
    """The package subscription endpoint (both versions, both types)."""

    async def package(request: Request) -> Response:
        try:
            claims = sim.tokens.decode(bearer(request.headers.get("authorization")), NAME)
        except TokenError:
            return raw(_UNAUTHORIZED, 401)
        tenant = claims.tenant
        now = sim.clock.now(tenant)
        if tenant_mismatch(request, claims) or now >= claims.expires_at:
            return raw(_UNAUTHORIZED, 401)
        version = request.path_params["version"]
        kind = request.path_params["type"]
        if version not in ("v1", "v2"):
            return raw(_NOT_FOUND, 404)
        if not _text(request.headers.get("transid")):
            return _vss("VSS002")
        if not _text(request.headers.get("transactionsrc")):
            return _vss("VSS004")
        if kind not in ("standard", "enhanced"):
            return _vss("VSS930")
        ok, body = await json_body(request)
        if not ok or not isinstance(body, dict) or not body:
            return _vss("VSS110")
        locale = body.get("locale")
        if locale is None or locale == "":
            return _vss("VSS300")
        if not isinstance(locale, str) or not _LOCALE(locale) or locale != "en_US":
            return _vss("VSS310")
        country = body.get("countryCode")
        if country is not None and not (isinstance(country, str) and _COUNTRY(country)):
            return _vss("VSS400")
        numbers = body.get("trackingNumberList")
        if not isinstance(numbers, list) or not numbers:
            return _vss("VSS200")
        if len(numbers) > BATCH_LIMIT:
            return _vss("VSS220", [n for n in numbers])
        preferences = body.get("eventPreferences")
        if (
            kind == "enhanced"
            and preferences is not None
            and not (
                isinstance(preferences, list)
                and 1 <= len(preferences) <= 4
                and all(p in _PREFERENCES for p in preferences)
            )
        ):
            return _vss("VSS414")
        auth: dict[str, str]
        if version == "v1":
            destination = body.get("destination")
            if not isinstance(destination, dict):
                return _vss("VSS500")
            url = destination.get("url")
            if not isinstance(url, str) or not url.strip():
                return _vss("VSS600")
            if len(url) > MAX_URL:
                return _vss("VSS610")
            if not _text(destination.get("credential")):
                return _vss("VSS700")
            if not _text(destination.get("credentialType")):
                return _vss("VSS800")
            auth = {
                "credential": str(destination["credential"]),
                "credential_type": str(destination["credentialType"]),
            }
        else:
            hook = sim.push.webhooks.get((tenant, NAME))
            if hook is None:
                return _vss("VSS500")
            url = hook["url"]
            auth = {k: hook[k] for k in ("token_url", "client_id", "client_secret")}
        valid = [n for n in numbers if isinstance(n, str) and _NUMBER(n)]
        invalid = [n for n in numbers if not (isinstance(n, str) and _NUMBER(n))]
        if not valid:
            return _vss("VSS210", invalid)
        dispatcher = dispatcher_of(sim)
        # A number subscribed again moves to the new subscription: one push per event.
        for old in sim.push.of_tenant(tenant, NAME):
            if any(n in old.numbers for n in valid):
                dispatcher.remove_numbers(old, tuple(valid))
        serial = sim.push.next_order()
        sub = Subscription(
            id=new_id(sim.settings.seed, tenant, NAME, serial),
            tenant=tenant,
            carrier=NAME,
            numbers=tuple(dict.fromkeys(valid)),
            url=url,
            auth=auth,
            status="active",
            created=now,
            expires=now + LIFETIME,
            data={
                "version": version,
                "type": kind,
                "locale": locale,
                "countryCode": country,
                "eventPreferences": preferences if kind == "enhanced" else None,
                "transId": request.headers.get("transid"),
            },
        )
        dispatcher.subscribe(sub)
        answer: dict[str, Any] = {"validTrackingNumbers": list(sub.numbers)}
        if invalid:
            answer["invalidTrackingNumbers"] = [str(n) for n in invalid]
        return respond(answer)

    return [Route(PACKAGE_PATH, package, methods=["POST"])]


def _push_type(letter: str) -> str:
    # Track Alert's type enum is D I M MV U X: a Track API pickup (P) is "on the way".
    return "I" if letter == "P" else letter


def render_event(shipment: Shipment, count: int, enhanced: bool) -> dict[str, Any]:
    """The ``TrackingEventRequest`` for the newest of the first ``count`` events."""
    visible = shipment.events[:count]
    event = visible[-1]
    status = status_of(event)
    place = event.place
    location: dict[str, str] = {}
    if event.kind is not EventKind.label_created:
        location["city"] = place.city.upper()
        if place.state and _STATE(place.state):
            location["stateProvince"] = place.state
    delivered = event.kind is EventKind.delivered
    if delivered and _POSTAL(place.postal_code or ""):
        # Spec: the postal code "is blank until the delivery event occurs".
        location["postalCode"] = place.postal_code
    location["country"] = place.country
    local = event.local
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    body: dict[str, Any] = {
        "trackingNumber": shipment.number,
        "localActivityDate": local.strftime("%Y%m%d"),
        "localActivityTime": local.strftime("%H%M%S"),
        "activityLocation": location,
        "activityStatus": {
            "type": _push_type(status.type),
            "code": status.code,
            "description": status.description,
            "descriptionCode": status.status_code,
        },
    }
    dates, window = _delivery(shipment, visible, event)
    for item in dates:
        if item["type"] == "DEL":
            body["actualDeliveryDate"] = item["date"]
            body["actualDeliveryTime"] = local.strftime("%H%M%S")
        else:
            body["scheduledDeliveryDate"] = item["date"]
    body["gmtActivityDate"] = event.at.strftime("%Y%m%d")
    body["gmtActivityTime"] = event.at.strftime("%H%M%S")
    # N§7.1: "-04.00", a dot where the Track API writes a colon.
    body["gmtOffset"] = f"{sign}{abs(minutes) // 60:02d}.{abs(minutes) % 60:02d}"
    if window is not None and not delivered:
        if window.get("type") == "EOD":
            body["deliveryTimeDescription"] = "end of day"
        elif "endTime" in window:
            body["deliveryEndTime"] = window["endTime"]
            body["deliveryTimeDescription"] = "commit time"
    if enhanced and delivered:
        body["receivedBy"] = shipment.signer
    return body


class UpsPush:
    """UPS Track Alert as a :class:`~simulator.carriers.contract.PushProfile`."""

    retry = RetryRule(success=frozenset({200}), delays=(), exhausted="drop")
    routes = staticmethod(routes)

    def wanted(self, sub: Subscription, shipment: Shipment, index: int) -> bool:
        """Enhanced subscriptions with ``eventPreferences`` get only those activity types
        (manifest voids count as manifest, updates go with deliveries and exceptions)."""
        preferences = sub.data.get("eventPreferences")
        if not preferences:
            return True
        letter = _push_type(status_of(shipment.events[index]).type)
        group = {"MV": "M", "U": "D"}.get(letter, letter)
        return group in preferences or (letter == "U" and "X" in preferences)

    def render(
        self, sub: Subscription, delivery: Pending, shipment: Shipment | None, count: int,
        sent_at: float,
    ) -> bytes:  # fmt: skip
        """The flat event body (``TrackingEventRequest``)."""
        assert shipment is not None, "UPS pushes only events"
        return dumps(render_event(shipment, count, sub.data.get("type") == "enhanced"))

    async def sign(self, sub: Subscription, body: bytes, tokens: TokenSource) -> dict[str, str]:
        """v1: the subscription's ``credential``; v2: a customer token and ``x-api-key``."""
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if sub.data.get("version") == "v1":
            headers["credential"] = sub.auth["credential"]
            return headers
        token = await tokens.customer_token(
            sub.auth["token_url"], sub.auth["client_id"], sub.auth["client_secret"]
        )
        headers["Authorization"] = f"Bearer {token}"
        headers["x-api-key"] = sub.auth["client_id"]
        return headers

    def secret_headers(self, sub: Subscription) -> tuple[str, ...]:
        """``credential`` (v1) or ``authorization`` (v2)."""
        return ("credential",) if sub.data.get("version") == "v1" else ("authorization",)


PUSH = UpsPush()
"""UPS's push profile, as :class:`~simulator.carriers.ups.Ups` exposes it."""
