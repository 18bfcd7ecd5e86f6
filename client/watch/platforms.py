"""What shops and aggregators call a parcel's status: tables as data, each with its source.

Every vocabulary here is copied from the platform's own published page or file (see each
table's :class:`Source`; the facts are collected in ``tests/contract/specs/PLATFORMS.md``).
Where the platform publishes nothing (Shopify's tracking-URL templates, Shopify's exact
UPS/FedEx/USPS company names, the meaning of most AfterShip subtags) the table has no entry
rather than a guess. Which normalized status goes to which
platform value is this module's choice, written next to each table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from client.model import Carrier, Status
from client.watch.changes import ChangeKind

__all__ = [
    "AFTERSHIP_SIGNATURE_HEADER",
    "AFTERSHIP_SUBTAGS",
    "AFTERSHIP_TAGS",
    "AFTERSHIP_TAG_OF",
    "MAGENTO_TRACK_CREATE_FIELDS",
    "MAGENTO_TRACK_FIELDS",
    "SHOPIFY_EVENT_STATUSES",
    "SHOPIFY_TRACKING_COMPANIES",
    "WOOCOMMERCE_PROVIDERS",
    "Source",
    "aftership_tag",
    "magento_track",
    "shopify_event_status",
    "woocommerce_tracking",
    "woocommerce_tracking_url",
]


@dataclass(frozen=True, slots=True)
class Source:
    """Where a table's facts come from: ``spec`` (the owner's page) or ``obs`` (observed)."""

    reference: str
    kind: str = "spec"


# -- Shopify ---------------------------------------------------------------------------------

SHOPIFY_EVENT_STATUSES_SOURCE = Source(
    "shopify.dev/docs/api/admin-graphql/{2024-04,2025-07,latest,unstable}/enums/"
    "FulfillmentEventStatus (latest = 2026-10)"
)

_SHOPIFY_LATEST = frozenset(
    {
        "ATTEMPTED_DELIVERY",
        "CARRIER_PICKED_UP",
        "CONFIRMED",
        "DELAYED",
        "DELIVERED",
        "FAILURE",
        "IN_TRANSIT",
        "LABEL_PRINTED",
        "LABEL_PURCHASED",
        "OUT_FOR_DELIVERY",
        "READY_FOR_PICKUP",
    }
)

SHOPIFY_EVENT_STATUSES: Mapping[str, frozenset[str]] = {
    "2024-04": _SHOPIFY_LATEST - {"DELAYED", "CARRIER_PICKED_UP"},
    "2025-07": _SHOPIFY_LATEST - {"CARRIER_PICKED_UP"},
    "2026-10": _SHOPIFY_LATEST,
    "unstable": _SHOPIFY_LATEST
    | {"PICKED_UP", "BUYER_ACTION_REQUIRED", "READY_FOR_RECIPIENT_PICKUP", "RETURNING_TO_SENDER"},
}
"""``FulfillmentEventStatus`` values per documented Admin API version."""

# Our choice: the first value the version has wins; None sends no fulfillment event.
_SHOPIFY_PREFERENCES: Mapping[ChangeKind, tuple[str, ...]] = {
    ChangeKind.shipped: ("CARRIER_PICKED_UP", "IN_TRANSIT"),
    ChangeKind.in_transit: ("IN_TRANSIT",),
    ChangeKind.out_for_delivery: ("OUT_FOR_DELIVERY",),
    ChangeKind.failed_attempt: ("ATTEMPTED_DELIVERY",),
    ChangeKind.available_for_pickup: ("READY_FOR_PICKUP",),
    ChangeKind.delivered: ("DELIVERED",),
    ChangeKind.exception: ("FAILURE",),
    ChangeKind.returned: ("RETURNING_TO_SENDER", "FAILURE"),
    ChangeKind.cancelled: ("FAILURE",),
    ChangeKind.delayed: ("DELAYED",),
}

_STATUS_AS_KIND: Mapping[Status, ChangeKind] = {
    Status.in_transit: ChangeKind.in_transit,
    Status.out_for_delivery: ChangeKind.out_for_delivery,
    Status.failed_attempt: ChangeKind.failed_attempt,
    Status.available_for_pickup: ChangeKind.available_for_pickup,
    Status.delivered: ChangeKind.delivered,
    Status.exception: ChangeKind.exception,
    Status.returned_to_sender: ChangeKind.returned,
    Status.cancelled: ChangeKind.cancelled,
}


def _shopify_version(version: str) -> str:
    if version in ("latest", "unstable"):
        return "2026-10" if version == "latest" else version
    try:
        asked = date.fromisoformat(version + "-01")
    except ValueError:
        raise ValueError(
            f"Shopify API version {version!r}: use YYYY-MM (e.g. 2025-07), latest or unstable"
        ) from None
    known = [v for v in SHOPIFY_EVENT_STATUSES if v != "unstable" and v <= version]
    if not known:
        raise ValueError(
            f"Shopify API version {asked:%Y-%m}: FulfillmentEventStatus is documented here "
            f"from 2024-04 on ({', '.join(SHOPIFY_EVENT_STATUSES)})"
        )
    # A value is taken as present only from the first version documented with it.
    return max(known)


def shopify_event_status(
    kind: ChangeKind, version: str = "latest", status: Status | None = None
) -> str | None:
    """The ``FulfillmentEventStatus`` for a change in an Admin API version (None: send none).

    A ``corrected`` change is mapped by the status it corrected to (``status``); ``stalled``
    is no carrier event and maps to None.
    """
    values = SHOPIFY_EVENT_STATUSES[_shopify_version(version)]
    if kind is ChangeKind.corrected:
        if status is None or status not in _STATUS_AS_KIND:
            return "CONFIRMED" if status is Status.pre_transit else None
        kind = _STATUS_AS_KIND[status]
    for value in _SHOPIFY_PREFERENCES.get(kind, ()):
        if value in values:
            return value
    return None


SHOPIFY_TRACKING_COMPANIES_SOURCE = Source(
    "shopify.dev …/objects/FulfillmentTrackingInfo (company list; the retrieved excerpt ends "
    "at 'Evri', so UPS, FedEx and USPS spellings were not captured)"
)
SHOPIFY_TRACKING_COMPANIES: Mapping[Carrier, str] = {Carrier.dhl: "DHL Express"}
"""Shopify's tracking company name ("exactly as written", capitalization matters) per
carrier. Only DHL's is in the captured list; for the others pass the name yourself."""


# -- WooCommerce ---------------------------------------------------------------------------

WOOCOMMERCE_PROVIDERS_SOURCE = Source(
    "woocommerce.com/document/shipment-tracking (REST v3 fields, %1$s/%2$s/%3$s placeholders, "
    "USPS example); older built-in 'United States' providers as copied in the WooCommerce "
    "Warranty plugin",
    kind="obs",
)
WOOCOMMERCE_PROVIDERS: Mapping[Carrier, tuple[str, str | None]] = {
    Carrier.ups: ("UPS", "http://wwwapps.ups.com/WebTracking/track?track=yes&trackNums=%1$s"),
    Carrier.fedex: ("Fedex", "http://www.fedex.com/Tracking?action=track&tracknumbers=%1$s"),
    Carrier.usps: ("USPS", "https://tools.usps.com/tracking/%1$s"),
    Carrier.dhl: ("DHL US", None),
}
"""Shipment Tracking's predefined provider name and tracking-URL template per carrier
(None: the template was not captured; the provider is still predefined by that name)."""


def woocommerce_tracking_url(
    template: str, number: str, postcode: str = "", country: str = ""
) -> str:
    """A Shipment Tracking URL template filled in (``%1$s`` number, ``%2$s`` postcode,
    ``%3$s`` country)."""
    return template.replace("%1$s", number).replace("%2$s", postcode).replace("%3$s", country)


def woocommerce_tracking(
    number: str, carrier: Carrier, shipped: date | None = None
) -> dict[str, Any]:
    """The body for ``POST /wp-json/wc-shipment-tracking/v3/orders/<id>/shipment-trackings``."""
    name, _ = WOOCOMMERCE_PROVIDERS[carrier]
    body: dict[str, Any] = {"tracking_number": number, "tracking_provider": name}
    if shipped is not None:
        body["date_shipped"] = shipped.isoformat()
    return body


# -- Magento 2 -----------------------------------------------------------------------------

MAGENTO_SOURCE = Source(
    "magento/magento2 app/code/Magento/Sales/Api/Data/ShipmentTrackInterface.php @11080a51, "
    "TrackInterface.php @0c5e0788"
)
MAGENTO_TRACK_FIELDS = (
    "entity_id",
    "parent_id",
    "order_id",
    "track_number",
    "title",
    "carrier_code",
    "description",
    "qty",
    "weight",
    "created_at",
    "updated_at",
)
"""Fields of a stored shipment track (``ShipmentTrackInterface``)."""
MAGENTO_TRACK_CREATE_FIELDS = ("track_number", "title", "carrier_code")
"""Fields of a track being created (``TrackInterface``)."""


def magento_track(number: str, title: str, carrier_code: str) -> dict[str, str]:
    """A Magento 2 track to create. Magento's carrier codes are the shop's configuration
    (not published with the interface), so the caller names it."""
    if not carrier_code:
        raise ValueError("carrier_code: name the carrier code configured in the Magento shop")
    return {"track_number": number, "title": title, "carrier_code": carrier_code}


# -- AfterShip -----------------------------------------------------------------------------

AFTERSHIP_SOURCE = Source(
    "aftership.com/docs/tracking/2025-01/enum/delivery-statuses, "
    "…/2026-07/enum/delivery-sub-statuses, …/webhook/webhook-signature"
)
AFTERSHIP_TAGS = (
    "Pending",
    "InfoReceived",
    "InTransit",
    "OutForDelivery",
    "AttemptFail",
    "Delivered",
    "AvailableForPickup",
    "Exception",
    "Expired",
)
"""AfterShip's delivery statuses (tags); ``Expired`` means no information for 30 days."""
AFTERSHIP_SUBTAGS: Mapping[str, str] = {"InTransit_007": "departure scan"}
"""The subtags (``<Tag>_NNN``) whose meaning the captured page states; the others are not
listed here, so no subtag is derived from the normalized model."""
AFTERSHIP_SIGNATURE_HEADER = "aftership-hmac-sha256"
"""Header carrying base64(HMAC-SHA256(raw body, webhook secret))."""

# Our choice: the tag a normalized status reads as (returns and cancellations are problems
# for the shop, and AfterShip has no tag of their own).
AFTERSHIP_TAG_OF: Mapping[Status, str] = {
    Status.pre_transit: "InfoReceived",
    Status.in_transit: "InTransit",
    Status.out_for_delivery: "OutForDelivery",
    Status.failed_attempt: "AttemptFail",
    Status.available_for_pickup: "AvailableForPickup",
    Status.delivered: "Delivered",
    Status.exception: "Exception",
    Status.returned_to_sender: "Exception",
    Status.cancelled: "Exception",
    Status.unknown: "Pending",
}


def aftership_tag(status: Status | None) -> str:
    """AfterShip's tag for a normalized status (``Pending`` before any answer)."""
    return AFTERSHIP_TAG_OF[status] if status is not None else "Pending"
