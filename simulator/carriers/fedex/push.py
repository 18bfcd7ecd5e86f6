"""FedEx Advanced Integrated Visibility: tracking-number subscriptions and signed webhooks.

Sources: NOTES §7.2 (developer.fedex.com pages). **FedEx publishes no schema and no literal
paths** for the Tracking Number Subscription API ("the literal request path lives behind
the authenticated API console"), so the paths and bodies below are INFERRED from the facts
NOTES gives: an asynchronous association job (``ADD`` / ``REMOVE``, at most 1000 numbers),
answered with a ``jobId``, with job-status and job-details endpoints; the FedEx OAuth token;
FedEx's usual envelope (``transactionId``, ``output``, ``errors[{code, message}]``).

* ``POST /track/v1/aiv/trackingnumbers/associations`` (inferred) ``{"action": "ADD" |
  "REMOVE", "trackingNumbers": [{"trackingNumber": "…"}, …]}`` → **202**
  ``{transactionId, output: {jobId, status: "IN_PROGRESS"}}``.
* ``GET …/jobs/{jobId}/status`` → ``{output: {jobId, status}}``; a job is COMPLETED once its
  numbers are associated, which happens before the answer to the request that made it
  (the job is still reported asynchronously, as FedEx does).
* ``GET …/jobs/{jobId}`` → the details: per number ``SUCCESS`` or ``FAILED`` with an error.
* The webhook itself (destination URL and security token) is a project in the FedEx portal;
  its stand-in is ``PUT /__admin/webhooks/fedex`` (``url``, ``security_token``). With
  ``push_strict_targets`` it applies FedEx's rule: HTTPS, at most 200 characters, no literal
  IP address, no localhost.
* Push: a Track API answer ``{transactionId, output: {completeTrackResults: […]}}`` for the
  number (INFERRED: "integrators treat it as Track-API-shaped"), header ``fdx-signature`` =
  base64 HMAC-SHA256 of the raw body keyed by the security token.
* Only 200 or 202 counts. A failed event is retried 3 times over 15 minutes of the tenant's
  clock (NOTES: "5-minute intervals"), then kept in the missed-events queue, which
  ``POST /__admin/deliveries/replay`` sends again (FedEx: "initiate the retry process on
  your … project").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator import numbers
from simulator.carriers.common import dumps, json_body, respond, tenant_mismatch
from simulator.carriers.contract import TokenSource
from simulator.carriers.fedex.api import transaction_ids
from simulator.carriers.fedex.codes import NAME, TOKEN_EXPIRED, Error
from simulator.carriers.fedex.render import error_body, render_result
from simulator.engine import Simulation
from simulator.push.dispatch import dispatcher_of
from simulator.push.model import Pending, RetryRule, Subscription
from simulator.push.store import new_id
from simulator.timeline import Shipment
from simulator.tokens import TokenError, bearer

BASE = "/track/v1/aiv/trackingnumbers"
"""INFERRED (no public path, NOTES §7.2)."""
BATCH_LIMIT = 1000
MAX_URL = 200

# INFERRED codes in FedEx's style (UPPER.DOTTED.CODE, NOTES §2.6).
_INVALID_ACTION: Error = ("ACTION.INVALID", "Action must be ADD or REMOVE.")
_NO_NUMBERS: Error = ("TRACKINGNUMBERS.REQUIRED", "Please provide tracking numbers.")
_TOO_MANY: Error = (
    "TRACKINGNUMBERS.LIMIT.EXCEEDED",
    f"A job can associate at most {BATCH_LIMIT} tracking numbers.",
)
_BAD_BODY: Error = ("INVALID.INPUT.EXCEPTION", "Invalid field value in the input")
_NO_PROJECT: Error = (
    "WEBHOOK.PROJECT.NOTFOUND",
    "No Advanced Integrated Visibility webhook project is set up for this account.",
)
_NO_JOB: Error = ("JOB.NOTFOUND", "The requested job was not found.")
_BAD_NUMBER: Error = ("TRACKINGNUMBER.INVALID", "Invalid tracking number.")


def target_problem(url: str, strict: bool) -> str | None:
    """Why FedEx would refuse this webhook URL, or None (loopback allowed unless strict)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "the destination must be an absolute http(s) URL"
    if not strict:
        return None
    if parts.scheme != "https":
        return "FedEx sends to HTTPS destinations only"
    if len(url) > MAX_URL:
        return f"FedEx destinations are at most {MAX_URL} characters"
    host = parts.hostname.lower()
    if host == "localhost" or host.endswith(".localhost"):
        return "FedEx does not send to localhost"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return "FedEx does not send to a literal IP address (127.0.0.1, RFC 1918, any)"
    if host == "fedex.com" or host.endswith(".fedex.com"):
        return "FedEx does not send to fedex.com domains"
    return None


def routes(sim: Simulation) -> list[Route]:
    """The association job and its status and details (all INFERRED paths)."""
    ids = transaction_ids(sim.settings.seed + 7919)

    def refuse(status: int, error: Error) -> Response:
        return respond(error_body(next(ids), error), status)

    def authorize(request: Request) -> tuple[str, float] | Response:
        try:
            claims = sim.tokens.decode(bearer(request.headers.get("authorization")), NAME)
        except TokenError:
            return refuse(401, TOKEN_EXPIRED)
        now = sim.clock.now(claims.tenant)
        if tenant_mismatch(request, claims) or now >= claims.expires_at:
            return refuse(401, TOKEN_EXPIRED)
        return claims.tenant, now

    def project(tenant: str, now: float) -> Subscription | None:
        """The tenant's webhook project as a subscription (made on first association)."""
        hook = sim.push.webhooks.get((tenant, NAME))
        if hook is None:
            return None
        found = sim.push.of_tenant(tenant, NAME)
        if found:
            sub = found[0]
            sub.url, sub.auth["security_token"] = hook["url"], hook["security_token"]
            return sub
        sub = Subscription(
            id=new_id(sim.settings.seed, tenant, NAME, "project"),
            tenant=tenant,
            carrier=NAME,
            numbers=(),
            url=hook["url"],
            auth={"security_token": hook["security_token"]},
            status="active",
            created=now,
            data={"jobs": {}},
        )
        dispatcher = dispatcher_of(sim)
        dispatcher.subscribe(sub)
        return sub

    async def associate(request: Request) -> Response:
        who = authorize(request)
        if isinstance(who, Response):
            return who
        tenant, now = who
        ok, body = await json_body(request)
        if not ok or not isinstance(body, dict):
            return refuse(400, _BAD_BODY)
        action = body.get("action")
        if action not in ("ADD", "REMOVE"):
            return refuse(400, _INVALID_ACTION)
        given = body.get("trackingNumbers")
        if not isinstance(given, list) or not given:
            return refuse(400, _NO_NUMBERS)
        if len(given) > BATCH_LIMIT:
            return refuse(400, _TOO_MANY)
        sub = project(tenant, now)
        if sub is None:
            return refuse(400, _NO_PROJECT)
        dispatcher = dispatcher_of(sim)
        results: list[dict[str, Any]] = []
        good: list[str] = []
        for item in given:
            raw_number = item.get("trackingNumber") if isinstance(item, dict) else item
            number = numbers.normalize(raw_number) if isinstance(raw_number, str) else ""
            if not number or not numbers.is_plausible(NAME, number):
                code, message = _BAD_NUMBER
                results.append({"trackingNumber": raw_number, "status": "FAILED",
                                "error": {"code": code, "message": message}})  # fmt: skip
                continue
            good.append(number)
            results.append({"trackingNumber": number, "status": "SUCCESS"})
        if action == "ADD":
            dispatcher.add_numbers(sub, tuple(good))
        else:
            dispatcher.remove_numbers(sub, tuple(good))
        job_id = new_id(sim.settings.seed, tenant, "job", sim.push.next_order(), length=32)
        sub.data["jobs"][job_id] = {
            "jobId": job_id,
            "action": action,
            "status": "COMPLETED",
            "totalCount": len(results),
            "successCount": len(good),
            "failureCount": len(results) - len(good),
            "trackingNumbers": results,
        }
        return respond(
            {"transactionId": next(ids), "output": {"jobId": job_id, "status": "IN_PROGRESS"}},
            202,
        )

    def job_of(request: Request) -> dict[str, Any] | Response:
        who = authorize(request)
        if isinstance(who, Response):
            return who
        for sub in sim.push.of_tenant(who[0], NAME):
            job = sub.data.get("jobs", {}).get(request.path_params["jobId"])
            if job is not None:
                return dict(job)
        return refuse(404, _NO_JOB)

    async def status(request: Request) -> Response:
        job = job_of(request)
        if isinstance(job, Response):
            return job
        return respond(
            {"transactionId": next(ids), "output": {"jobId": job["jobId"], "status": job["status"]}}
        )

    async def details(request: Request) -> Response:
        job = job_of(request)
        if isinstance(job, Response):
            return job
        return respond({"transactionId": next(ids), "output": job})

    return [
        Route(BASE + "/associations", associate, methods=["POST"]),
        Route(BASE + "/jobs/{jobId}/status", status, methods=["GET"]),
        Route(BASE + "/jobs/{jobId}", details, methods=["GET"]),
    ]


def fdx_signature(security_token: str, body: bytes) -> str:
    """Base64 HMAC-SHA256 of the raw body keyed by the security token (N§7.2)."""
    return base64.b64encode(
        hmac.new(security_token.encode(), body, hashlib.sha256).digest()
    ).decode()


class FedexPush:
    """FedEx AIV as a :class:`~simulator.carriers.contract.PushProfile`."""

    retry = RetryRule(
        success=frozenset({200, 202}), delays=(300.0, 300.0, 300.0), exhausted="queue"
    )
    routes = staticmethod(routes)

    def wanted(self, sub: Subscription, shipment: Shipment, index: int) -> bool:
        """Every event, "from label creation to Proof of delivery" (N§7.2)."""
        return True

    def render(
        self, sub: Subscription, delivery: Pending, shipment: Shipment | None, count: int,
        sent_at: float,
    ) -> bytes:  # fmt: skip
        """INFERRED: a Track API answer for the number (detailed scan events)."""
        assert shipment is not None, "FedEx pushes only events"
        transaction = new_id(0, delivery.key, delivery.attempt, length=32)
        uuid = "-".join(
            (transaction[:8], transaction[8:12], transaction[12:16], transaction[16:20],
             transaction[20:32])
        )  # fmt: skip
        body = {
            "transactionId": uuid,
            "output": {"completeTrackResults": [render_result(shipment, count, True)]},
        }
        return dumps(body)

    async def sign(self, sub: Subscription, body: bytes, tokens: TokenSource) -> dict[str, str]:
        """``fdx-signature`` over the raw body."""
        return {
            "Content-Type": "application/json",
            "fdx-signature": fdx_signature(sub.auth["security_token"], body),
        }

    def secret_headers(self, sub: Subscription) -> tuple[str, ...]:
        """``fdx-signature``."""
        return ("fdx-signature",)


PUSH = FedexPush()
"""FedEx's push profile, as :class:`~simulator.carriers.fedex.Fedex` exposes it."""
