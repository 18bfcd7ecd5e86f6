"""FedEx Track API's sibling operations: by reference, by TCN, a multi-piece shipment's
pieces, the signature proof of delivery, and notification sign-ups.

Source: ``fedex/track.json`` (FX-SPEC: request schemas ``Full_Schema_*``, the 200 schemas and
each operation's 400 example) and NOTES §2.3–2.6. Request parsing is lenient where the spec
is silent on what production refuses; every literal without a source says ``[inferred]``.
Everything else (auth, transaction ids, per-result errors, the track result itself) is
what ``/trackingnumbers`` uses, so one parcel reads alike through every operation.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator import documents, inputs, numbers
from simulator.carriers.common import respond
from simulator.carriers.fedex.codes import (
    ASSOCIATED_TYPE_INVALID,
    DOCUMENT_TYPE_INVALID,
    NAME,
    NOTIFICATION_INVALID,
    NUMBER_EMPTY,
    NUMBER_INVALID,
    NUMBER_NOT_FOUND,
    REFERENCE_NOT_FOUND,
    REFERENCE_VALUE_INVALID,
    RESOURCE_NOT_FOUND,
    TCN_EMPTY,
    TCN_NOT_FOUND,
    Error,
)
from simulator.carriers.fedex.render import render_error_result, render_result, ship_date
from simulator.engine import Simulation
from simulator.notifications import TRIGGERS, Subscription
from simulator.timeline import Shipment
from simulator.tokens import Claims

REFERENCE_PATH = "/track/v1/referencenumbers"
TCN_PATH = "/track/v1/tcn"
ASSOCIATED_PATH = "/track/v1/associatedshipments"
DOCUMENTS_PATH = "/track/v1/trackingdocuments"
NOTIFICATIONS_PATH = "/track/v1/notifications"

ASSOCIATED_TYPES = frozenset({"OUTBOUND_LINK_TO_RETURN", "STANDARD_MPS", "GROUP_MPS"})
"""[spec: Full_Schema_Multiple_Piece_Shipment.associatedType]."""

SPOD = "SIGNATURE_PROOF_OF_DELIVERY"  # [spec: TrackDocumentDetail example, NOTES §2.3]
DOCUMENT_FORMATS = {"PNG": "image/png", "PDF": "application/pdf"}
"""[spec: documentFormat example PNG]; PDF [inferred]: FedEx's letters are documents."""

DEFAULT_PAGE = 56  # [spec: PagingDetails resultsPerPage example]


@dataclass(frozen=True)
class Context:
    """What every FedEx operation shares with ``/trackingnumbers`` (see ``api.routes``)."""

    sim: Simulation
    authorize: Callable[[Request], Claims | Response]
    refuse: Callable[[int, Error, str | None], Response]
    transaction_id: Callable[[], str]
    spec_form: bool


class _Refused(Exception):
    def __init__(self, error: Error) -> None:
        super().__init__(error[0])
        self.error = error


def _body(payload: bytes) -> dict[str, Any]:
    try:
        # Strict UTF-8, no lone surrogates (values are echoed back), bounded depth.
        body = inputs.json_value(payload)
    except inputs.InputError:
        raise _Refused(NUMBER_EMPTY) from None
    if not isinstance(body, dict):
        raise _Refused(NUMBER_EMPTY)
    return body


def _day(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _number_of(info: Any) -> str:
    """The tracking number of a ``{trackingNumberInfo: {trackingNumber}}`` object, or ""."""
    inner = info.get("trackingNumberInfo") if isinstance(info, dict) else None
    number = inner.get("trackingNumber") if isinstance(inner, dict) else None
    return numbers.normalize(number) if isinstance(number, str) else ""


def _within(shipment: Shipment, begin: date | None, end: date | None) -> bool:
    shipped = ship_date(shipment)
    return (begin is None or shipped >= begin) and (end is None or shipped <= end)


def routes(ctx: Context) -> list[Route]:
    """The five sibling operations at their production paths."""
    sim = ctx.sim

    def envelope(request: Request, output: dict[str, Any]) -> Response:
        head: dict[str, Any] = {"transactionId": ctx.transaction_id()}
        customer_id = request.headers.get("x-customer-transaction-id")
        if customer_id is not None:
            head["customerTransactionId"] = customer_id
        head["output"] = output
        return respond(head)

    def operation(
        handler: Callable[[Request, dict[str, Any], str, float], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            claims = ctx.authorize(request)
            if isinstance(claims, Response):
                return claims
            customer_id = request.headers.get("x-customer-transaction-id")
            try:
                body = _body(await request.body())
                return await handler(request, body, claims.tenant, sim.clock.now(claims.tenant))
            except _Refused as refused:
                return ctx.refuse(400, refused.error, customer_id)

        return endpoint

    def lookup(number: str, tenant: str) -> Shipment | None:
        return sim.lookup(NAME, number, tenant) if numbers.is_plausible(NAME, number) else None

    def results(found: list[Shipment], now: float, detailed: bool) -> list[dict[str, Any]]:
        out = []
        for shipment in found:
            count = shipment.visible_count(now)
            if count:
                out.append(render_result(shipment, count, detailed))
        return out

    async def by_reference(
        request: Request, body: dict[str, Any], tenant: str, now: float
    ) -> Response:
        info = body.get("referencesInformation")
        if not isinstance(info, dict):
            raise _Refused(REFERENCE_VALUE_INVALID)
        value = _text(info.get("value"))
        if not value:
            raise _Refused(REFERENCE_VALUE_INVALID)
        begin = _day(info.get("shipDateBegin"))
        # The spec spells the end "shipDateEndDate" (ReferenceInformation.required) while
        # its own example sends "shipDateEnd": either is read.
        end = _day(info.get("shipDateEndDate")) or _day(info.get("shipDateEnd"))
        postal = _text(info.get("destinationPostalCode"))
        country = _text(info.get("destinationCountryCode")).upper()
        found = [
            s
            for s in sim.lookup_reference(NAME, value, tenant)
            if _within(s, begin, end)
            and (not postal or s.recipient.place.postal_code == postal)
            and (not country or s.recipient.place.country == country)
        ]
        entries = results(found, now, body.get("includeDetailedScans") is True)
        if not entries:
            # NOTES §2.6: TRACKING.REFERENCENUMBER.NOTFOUND, as a per-result error in a 200
            # the way an unknown tracking number is [inferred].
            entries = [render_error_result(value, REFERENCE_NOT_FOUND, ctx.spec_form)]
        return envelope(request, {"completeTrackResults": entries, "successful": True})

    async def by_tcn(request: Request, body: dict[str, Any], tenant: str, now: float) -> Response:
        info = body.get("tcnInfo")
        value = _text(info.get("value")) if isinstance(info, dict) else ""
        if not value:
            raise _Refused(TCN_EMPTY)
        assert isinstance(info, dict)
        begin, end = _day(info.get("shipDateBegin")), _day(info.get("shipDateEnd"))
        # [inferred] A TCN is a shipper-assigned number: the simulator resolves it like the
        # shipper's reference (the scenario's ``reference``, or "PO-" and the number).
        found = [s for s in sim.lookup_reference(NAME, value, tenant) if _within(s, begin, end)]
        entries = results(found, now, body.get("includeDetailedScans") is True)
        if not entries:
            raise _Refused(TCN_NOT_FOUND)  # [spec: /tcn 400 example]
        return envelope(request, {"completeTrackResults": entries})

    async def associated(
        request: Request, body: dict[str, Any], tenant: str, now: float
    ) -> Response:
        if body.get("associatedType") not in ASSOCIATED_TYPES:
            raise _Refused(ASSOCIATED_TYPE_INVALID)
        master_info = body.get("masterTrackingNumberInfo")
        number = _number_of(master_info)
        if not number:
            raise _Refused(NUMBER_EMPTY)
        if not numbers.is_plausible(NAME, number):
            return envelope(
                request,
                {
                    "completeTrackResults": [
                        render_error_result(number, NUMBER_INVALID, ctx.spec_form)
                    ]
                },
            )
        paging = body.get("pagingDetails")
        paging = paging if isinstance(paging, dict) else {}
        size = paging.get("resultsPerPage")
        size = size if isinstance(size, int) and size > 0 else DEFAULT_PAGE
        token = paging.get("pagingToken")
        offset = int(token) if isinstance(token, str) and token.isdigit() else 0
        shipment = sim.lookup(NAME, number, tenant)
        count = shipment.visible_count(now) if shipment is not None else 0
        assert isinstance(master_info, dict) or master_info is None
        begin = _day((master_info or {}).get("shipDateBegin"))
        end = _day((master_info or {}).get("shipDateEnd"))
        if shipment is None or count == 0 or not _within(shipment, begin, end):
            entry = render_error_result(number, NUMBER_NOT_FOUND, ctx.spec_form)
            return envelope(request, {"completeTrackResults": [entry]})
        if body["associatedType"] != "STANDARD_MPS" or shipment.master is not None:
            # [inferred] No group or return links are simulated, and a piece is no master:
            # nothing associated, said as the spec's alert example says it.
            return envelope(request, {"completeTrackResults": [], "alerts": [_NO_DATA]})
        # [inferred] The master's associated shipments are its other pieces, in order.
        children = [shipment.piece(n) for n in shipment.pieces[1:]][offset : offset + size]
        detailed = body.get("includeDetailedScans") is True
        entries = [render_result(child, count, detailed) for child in children]
        output: dict[str, Any] = {"completeTrackResults": entries}
        if not entries:
            output["alerts"] = [_NO_DATA]
        return envelope(request, output)

    async def tracking_documents(
        request: Request, body: dict[str, Any], tenant: str, now: float
    ) -> Response:
        detail = body.get("trackDocumentDetail")
        detail = detail if isinstance(detail, dict) else {}
        if detail.get("documentType") != SPOD:
            raise _Refused(DOCUMENT_TYPE_INVALID)
        fmt = _text(detail.get("documentFormat")).upper() or "PNG"
        if fmt not in DOCUMENT_FORMATS:
            raise _Refused(DOCUMENT_TYPE_INVALID)
        specs = body.get("trackDocumentSpecification")
        if not isinstance(specs, list) or not specs:
            raise _Refused(NUMBER_EMPTY)
        documents_out: list[str] = []
        for spec in specs:
            number = _number_of(spec)
            if not number:
                raise _Refused(NUMBER_EMPTY)
            shipment = (
                sim.lookup(NAME, number, tenant) if numbers.is_plausible(NAME, number) else None
            )
            count = shipment.visible_count(now) if shipment is not None else 0
            if shipment is None or count == 0:
                raise _Refused(NUMBER_NOT_FOUND)  # [spec: /trackingdocuments 400 example]
            delivered = shipment.proof_of_delivery(count)
            if delivered is None:
                # Not delivered yet, or delivered without a signature: there is no letter.
                # [spec] the operation's documented 404, "no longer available".
                customer_id = request.headers.get("x-customer-transaction-id")
                return ctx.refuse(404, RESOURCE_NOT_FOUND, customer_id)
            documents_out.append(base64.b64encode(spod(shipment, delivered, fmt)).decode())
        output = {
            "localization": {"languageCode": "en", "localeCode": "US"},
            "documentType": SPOD,
            "documentFormat": fmt,
            "document": documents_out,
        }
        return envelope(request, output)

    async def notifications(
        request: Request, body: dict[str, Any], tenant: str, now: float
    ) -> Response:
        sender = _text(body.get("senderContactName"))
        sender_email = _text(body.get("senderEMailAddress"))
        detail = body.get("trackingEventNotificationDetail")
        wanted = detail.get("trackingNotifications") if isinstance(detail, dict) else None
        number = _number_of(body)
        if not number:
            raise _Refused(NUMBER_EMPTY)
        if not sender or not sender_email or not isinstance(wanted, list) or not wanted:
            raise _Refused(NOTIFICATION_INVALID)
        recipients: list[str] = []
        event_types: list[str] = []
        for item in wanted:
            email = (
                item.get("notificationDetail", {}).get("emailDetail", {}).get("emailAddress")
                if isinstance(item, dict)
                else None
            )
            types = item.get("notificationEventTypes") if isinstance(item, dict) else None
            if not isinstance(email, str) or not email.strip() or not isinstance(types, list):
                raise _Refused(NOTIFICATION_INVALID)
            recipients.append(email.strip())
            event_types.extend(t for t in types if isinstance(t, str) and t in TRIGGERS[NAME])
        shipment = lookup(number, tenant)
        if shipment is None or shipment.visible_count(now) == 0:
            raise _Refused(NUMBER_NOT_FOUND)  # [spec: /notifications 400 example]
        sim.store.add_subscription(
            tenant,
            Subscription(
                NAME, number, tuple(dict.fromkeys(recipients)), tuple(dict.fromkeys(event_types)),
                now, sender,
            ),
        )  # fmt: skip
        recipient = shipment.recipient.place
        output = {
            "TrackingNumberInfo": {
                "trackingNumber": number,
                "carrierCode": render_result(shipment, 1, False)["trackResults"][0][
                    "trackingNumberInfo"
                ]["carrierCode"],
            },
            # AddressVO requires addressVerificationId and streetLines [spec]; no capture
            # shows their values here: empty, as FedEx writes absent strings [obs §2.4].
            "destinationAddress": {
                "addressVerificationId": "",
                "streetLines": [""],
                "city": recipient.city,
                **({"stateOrProvinceCode": recipient.state} if recipient.state else {}),
                "countryCode": recipient.country,
            },
            # SendNotificationOutputVO.recipientDetails: arrays of event types [spec].
            "recipientDetails": [list(dict.fromkeys(event_types))],
        }
        return envelope(request, output)

    handlers = {
        REFERENCE_PATH: by_reference,
        TCN_PATH: by_tcn,
        ASSOCIATED_PATH: associated,
        DOCUMENTS_PATH: tracking_documents,
        NOTIFICATIONS_PATH: notifications,
    }
    return [Route(path, operation(h), methods=["POST"]) for path, h in handlers.items()]


_NO_DATA = {
    "code": "TRACKING.DATA.NOTFOUND",
    "alertType": "NOTE",
    "message": "Tracking data unavailable",
}  # [spec: TrackingMPSResponse.alerts example; alertType NOTE|WARNING: NOTES §2.4]


def spod(shipment: Shipment, delivered: Any, fmt: str) -> bytes:
    """The signature proof of delivery as a file of that format (PNG: the signature; PDF:
    the letter with it)."""
    if fmt == "PNG":
        return documents.signature_png(shipment.signer)
    place = delivered.place
    lines = (
        f"Tracking number: {shipment.number}",
        f"Ship date: {ship_date(shipment).isoformat()}",
        f"Delivered: {delivered.local.strftime('%Y-%m-%d %H:%M')}",
        f"Delivered to: {place.city}, {place.state or ''} {place.country}".replace(" ,", ","),
        f"Signed for by: {shipment.signer}",
    )
    return documents.proof_of_delivery_pdf(
        "FedEx Signature Proof of Delivery", lines, shipment.signer
    )
