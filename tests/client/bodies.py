"""Carrier answers built from carrier-specs/NOTES.md and the spec examples.

Each builder names the NOTES section (or spec file) its shape comes from. Values that the
NOTES quote (codes, messages, quirks) are copied; places and times are made up but use the
documented formats.
"""

from __future__ import annotations

from typing import Any

# --------------------------------------------------------------------------------------------
# UPS (NOTES §1.4–1.6; ups/UPS-Tracking.postman_collection.json)
# --------------------------------------------------------------------------------------------

UPS_NUMBER = "1Z1442YY7229014688"


def ups_postman_delivered() -> dict[str, Any]:
    """The official Postman collection's saved 200 answer, verbatim (no gmt* fields)."""
    return {
        "trackResponse": {
            "shipment": [
                {
                    "inquiryNumber": "1Z1442YY7229014688",
                    "package": [
                        {
                            "trackingNumber": "1Z1442YY7229014688",
                            "deliveryDate": [{"type": "DEL", "date": "20220126"}],
                            "deliveryTime": {"type": "DEL", "endTime": "163000"},
                            "activity": [
                                {
                                    "location": {
                                        "address": {
                                            "city": "PARAMUS",
                                            "stateProvince": "NJ",
                                            "countryCode": "US",
                                            "country": "US",
                                        },
                                        "slic": "0761",
                                    },
                                    "status": {
                                        "type": "D",
                                        "description": "DELIVERED ",
                                        "code": "F4",
                                        "statusCode": "011",
                                    },
                                    "date": "20220126",
                                    "time": "163000",
                                },
                                {
                                    "location": {"address": {"countryCode": "US", "country": "US"}},
                                    "status": {
                                        "type": "M",
                                        "description": "Shipper created a label, UPS has not "
                                        "received the package yet. ",
                                        "code": "MP",
                                        "statusCode": "003",
                                    },
                                    "date": "20220126",
                                    "time": "151641",
                                },
                            ],
                            "packageCount": 1,
                        }
                    ],
                }
            ]
        }
    }


def ups_activity(
    type_: str,
    code: str,
    status_code: str,
    description: str,
    local: tuple[str, str],
    gmt: tuple[str, str] | None,
    offset: str | None,
    city: str | None = None,
    state: str | None = None,
) -> dict[str, Any]:
    """One live-shaped activity (gmtTime with colons, §1.4)."""
    activity: dict[str, Any] = {
        "location": {
            "address": {
                **({"city": city} if city else {}),
                **({"stateProvince": state} if state else {}),
                "countryCode": "US",
                "country": "US",
            },
            "slic": "0761",
        },
        "status": {
            "type": type_,
            "description": description,
            "code": code,
            "statusCode": status_code,
        },
        "date": local[0],
        "time": local[1],
    }
    if gmt is not None:
        activity["gmtDate"], activity["gmtTime"] = gmt
    if offset is not None:
        activity["gmtOffset"] = offset
    return activity


def ups_live(
    activities: list[dict[str, Any]],
    current: dict[str, Any] | None = None,
    number: str = UPS_NUMBER,
    **package: Any,
) -> dict[str, Any]:
    """A live-shaped answer: currentStatus carries the 3-digit code in ``code`` (§1.4)."""
    pkg: dict[str, Any] = {"trackingNumber": number, "activity": activities, **package}
    if current is not None:
        pkg["currentStatus"] = current
    return {"trackResponse": {"shipment": [{"inquiryNumber": number, "package": [pkg]}]}}


def ups_delivered_live() -> dict[str, Any]:
    """Label → arrival (UTC past midnight) → out for delivery → delivered, newest first."""
    return ups_live(
        [
            ups_activity("D", "F4", "011", "DELIVERED ", ("20220126", "163000"),
                         ("20220126", "21:30:00"), "-05:00", "PARAMUS", "NJ"),
            ups_activity("I", "OT", "021", "Out For Delivery Today", ("20220126", "083000"),
                         ("20220126", "13:30:00"), "-05:00", "SECAUCUS", "NJ"),
            ups_activity("I", "AR", "005", "Arrived at Facility", ("20220125", "221500"),
                         ("20220126", "04:15:00"), "-06:00", "CHICAGO", "IL"),
            # The spec's own gmtTime example form: no colons, leading zero dropped (§1.4).
            ups_activity("M", "MP", "003", "Shipper created a label, UPS has not received the "
                         "package yet. ", ("20220124", "024700"), ("20220124", "74700"), "-05:00"),
        ],
        current={"description": "Delivered", "code": "011"},
        deliveryDate=[{"type": "DEL", "date": "20220126"}],
        deliveryTime={"type": "DEL", "endTime": "163000"},
        deliveryInformation={"location": "Front Door", "receivedBy": "JOHNSON"},
        service={"code": "518", "description": "UPS Ground"},
    )  # fmt: skip


def ups_in_transit_with_estimate() -> dict[str, Any]:
    """In transit, a rescheduled date and an estimated delivery window (§1.4)."""
    return ups_live(
        [
            ups_activity("I", "DP", "005", "Departed from Facility", ("20220125", "040000"),
                         ("20220125", "10:00:00"), "-06:00", "CHICAGO", "IL"),
        ],
        current={"type": "I", "description": "On the Way", "code": "005"},
        deliveryDate=[{"type": "SDD", "date": "20220127"}, {"type": "RDD", "date": "20220128"}],
        deliveryTime={"type": "EDW", "startTime": "090000", "endTime": "120000"},
    )  # fmt: skip


def ups_not_found_200(number: str = UPS_NUMBER) -> dict[str, Any]:
    """Production's not-found: HTTP 200, no package, warning TW0001 (§1.6)."""
    return {
        "trackResponse": {
            "shipment": [
                {
                    "inquiryNumber": number,
                    "warnings": [{"code": "TW0001", "message": "Tracking Information Not Found"}],
                }
            ]
        }
    }


def ups_error(code: str, message: str) -> dict[str, Any]:
    """The UPS envelope of every non-2xx answer (§1.6)."""
    return {"response": {"errors": [{"code": code, "message": message}]}}


# --------------------------------------------------------------------------------------------
# FedEx (NOTES §2.4–2.9; fedex/track.json)
# --------------------------------------------------------------------------------------------

FEDEX_DELIVERED = "122816215025810"  # §2.9: delivered, Norton VA, 2014-01-09 13:31 −05:00
FEDEX_EXCEPTION = "377101283611590"  # §2.9: delivery exception 007
FEDEX_NOT_FOUND = "647719948679"  # §2.6 example


def fedex_scan(
    when: str,
    event_type: str,
    description: str,
    derived: str,
    city: str | None = None,
    state: str | None = None,
    postal: str | None = None,
    exception_code: str = "",
    exception_description: str = "",
) -> dict[str, Any]:
    """A scan event; absent strings are "" as in live data (§2.4)."""
    location: dict[str, Any] = {"residential": False, "streetLines": [""], "countryCode": "US"}
    if city:
        location.update(city=city, stateOrProvinceCode=state or "", countryName="United States")
    if postal:
        location["postalCode"] = postal
    return {
        "date": when,
        "eventType": event_type,
        "eventDescription": description,
        "exceptionCode": exception_code,
        "exceptionDescription": exception_description,
        "scanLocation": location,
        "locationType": "FEDEX_FACILITY",
        "derivedStatusCode": derived,
        "derivedStatus": description,
    }


def fedex_result(
    number: str, scans: list[dict[str, Any]], latest: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """One ``trackResults`` entry."""
    return {
        "trackingNumberInfo": {
            "trackingNumber": number,
            "trackingNumberUniqueId": f"12029~{number}~FDEG",
            "carrierCode": "FDXG",
        },
        "latestStatusDetail": latest,
        "scanEvents": scans,
        "returnDetail": {},
        **extra,
    }


def fedex_answer(*complete: tuple[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The 200 envelope around ``(number, trackResults)`` pairs (§2.4, sandbox ids §2.9)."""
    return {
        "transactionId": "APIF_SV_TRKC_TxID6f3d3a2e-0f1b-4a41-9e6b-0c1e1c2a9b7d",
        "customertransactionId": "APIF_SV_TRKC_TxID6f3d3a2e-0f1b-4a41-9e6b-0c1e1c2a9b7d",
        "output": {
            "completeTrackResults": [
                {"trackingNumber": n, "trackResults": results} for n, results in complete
            ]
        },
    }


def fedex_delivered(number: str = FEDEX_DELIVERED) -> dict[str, Any]:
    """Delivered; scans newest first with offsets changing along the route (§2.4)."""
    scans = [
        fedex_scan("2014-01-09T13:31:00-05:00", "DL", "Delivered", "DL", "Norton", "VA", "24273"),
        fedex_scan("2014-01-09T04:18:00-05:00", "OD", "On FedEx vehicle for delivery", "IT",
                   "KINGSPORT", "TN", "37663"),
        fedex_scan("2014-01-08T22:06:00-06:00", "DP", "Departed FedEx location", "IT",
                   "MEMPHIS", "TN", "38118"),
        fedex_scan("2014-01-06T11:52:00-08:00", "PU", "Picked up", "PU", "SACRAMENTO", "CA"),
        # scanLocation with only a postal code (§6 item 11)
        fedex_scan("2014-01-05T09:20:00-08:00", "OC", "Shipment information sent to FedEx", "IN",
                   postal="95814"),
    ]  # fmt: skip
    result = fedex_result(
        number,
        scans,
        {
            "code": "DL",
            "derivedCode": "DL",
            "statusByLocale": "Delivered",
            "description": "Delivered",
            "scanLocation": {"city": "Norton", "stateOrProvinceCode": "VA", "countryCode": "US"},
        },
        dateAndTimes=[
            {"type": "ACTUAL_DELIVERY", "dateTime": "2014-01-09T13:31:00-05:00"},
            {"type": "SHIP", "dateTime": "2014-01-03T00:00:00-06:00"},
        ],
        deliveryDetails={
            "receivedByName": "ROLLINS",
            "signedByName": "",
            "deliveryAttempts": "0",
            "locationDescription": "Front Porch",
        },
        serviceDetail={
            "type": "FEDEX_GROUND",
            "description": "FedEx Ground",
            "shortDescription": "FG",
        },
        estimatedDeliveryTimeWindow={"window": {}},
    )
    return fedex_answer((number, [result]))


def fedex_exception(number: str = FEDEX_EXCEPTION) -> dict[str, Any]:
    """Delivery exception 007 "customer not available or business closed" (§2.5, §2.9)."""
    scans = [
        fedex_scan("2014-01-08T14:07:00-05:00", "DE", "Delivery exception", "DE", "RICHMOND",
                   "VA", exception_code="007",
                   exception_description="Customer not available or business closed"),
        fedex_scan("2014-01-08T08:30:00-05:00", "OD", "On FedEx vehicle for delivery", "IT",
                   "RICHMOND", "VA"),
    ]  # fmt: skip
    latest = {"code": "DE", "derivedCode": "DE", "statusByLocale": "Delivery exception",
              "description": "Customer not available or business closed"}  # fmt: skip
    result = fedex_result(
        number,
        scans,
        latest,
        dateAndTimes=[{"type": "ESTIMATED_DELIVERY", "dateTime": "2014-01-09T00:00:00-05:00"}],
    )
    return fedex_answer((number, [result]))


def fedex_not_found_result(number: str = FEDEX_NOT_FOUND) -> dict[str, Any]:
    """The per-number error inside a 200, verbatim from NOTES §2.6."""
    return {
        "trackingNumberInfo": {
            "trackingNumber": number,
            "trackingNumberUniqueId": "",
            "carrierCode": "",
        },
        "error": {
            "code": "TRACKING.TRACKINGNUMBER.NOTFOUND",
            "message": "Tracking number cannot be found. Please correct the tracking number "
            "and try again.",
        },
    }


def fedex_in_transit_result(number: str) -> dict[str, Any]:
    """An out-for-delivery result (``OD`` with derived ``IT``, §2.5)."""
    return fedex_result(
        number,
        [fedex_scan("2014-01-09T04:18:00-05:00", "OD", "On FedEx vehicle for delivery", "IT",
                    "KINGSPORT", "TN")],
        {"code": "OD", "derivedCode": "IT", "statusByLocale": "In transit",
         "description": "On FedEx vehicle for delivery"},
    )  # fmt: skip


def fedex_error(code: str, message: str) -> dict[str, Any]:
    """The FedEx error envelope (§2.6)."""
    return {
        "transactionId": "624deea6-b709-470c-8c39-4b5511281492",
        "errors": [{"code": code, "message": message}],
    }


# --------------------------------------------------------------------------------------------
# USPS (NOTES §3.4–3.6; usps/tracking-v3.yaml, usps/tracking-v3r2_4.yaml)
# --------------------------------------------------------------------------------------------

USPS_NUMBER = "9361289673090019555035"  # §3.9: delivered, front door/porch


def usps_event(
    event_type: str,
    code: str | None,
    local: str,
    gmt: str | None = None,
    offset: str | None = None,
    city: str | None = None,
    state: str | None = None,
    zip_: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A 3.0 DETAIL event: local time without offset, explicit nulls (§3.4)."""
    event: dict[str, Any] = {
        "eventType": event_type,
        "eventTimestamp": local,
        "eventCountry": None,
        "eventCity": city,
        "eventState": state,
        "eventZIP": zip_,
        "firm": None,
        "name": None,
        "authorizedAgent": "false",
        "eventCode": code,
        "additionalProp": None,
        **extra,
    }
    if gmt is not None:
        event["GMTTimestamp"] = gmt
    if offset is not None:
        event["GMTOffset"] = offset
    return event


def usps_delivered(number: str = USPS_NUMBER) -> dict[str, Any]:
    """A live-shaped 3.0 DETAIL answer (§3.4): string booleans, HTML in mailClass, and the
    GMT-date quirk (§6 item 5: local 2024-11-21T23:28 with GMT 2024-11-21T05:28:33Z)."""
    return {
        "trackingNumber": number,
        "additionalInfo": None,
        "status": "Delivered, Front Door/Porch",
        "statusCategory": "Delivered",
        "statusSummary": "Your item was delivered at the front door or porch at 1:10 pm on "
        "November 23, 2024 in DALLAS, TX 75201.",
        "mailClass": "USPS Ground Advantage<SUP>&#153;</SUP>",
        "mailType": "DM",
        "serviceTypeCode": "001",
        "services": ["USPS Tracking<SUP>&#174;</SUP>"],
        "origin": {"City": "NEW YORK", "State": "NY", "ZIP": "10001"},
        "destination": {"City": "DALLAS", "State": "TX", "ZIP": "75201"},
        "emailEnabled": "true",
        "kahalaIndicator": "false",
        "proofOfDeliveryEnabled": "false",
        "restoreEnabled": "false",
        "RRAMEnabled": "false",
        "RREEnabled": "false",
        "tableCode": "T",
        "uniqueMailPieceID": "1234567890",
        "mailPieceIntakeDate": "2024-11-19 08:35:56.000000",
        "trackingEvents": [
            usps_event("Delivered, Front Door/Porch", "01", "2024-11-23T13:10:00",
                       "2024-11-23T19:10:00Z", "-06:00", "DALLAS", "TX", "75201"),
            usps_event("Out for Delivery", "OF", "2024-11-23T08:05:00",
                       "2024-11-23T14:05:00Z", "-06:00", "DALLAS", "TX", "75201"),
            usps_event("Arrived at USPS Regional Facility", "10", "2024-11-21T23:28:00",
                       "2024-11-21T05:28:33Z", "-06:00", "DALLAS TX DISTRIBUTION CENTER", "TX"),
            usps_event("USPS in possession of item", "03", "2024-11-19T08:35:00",
                       "2024-11-19T13:35:00Z", "-05:00", "NEW YORK", "NY", "10001"),
            # Pre-shipment events lack the GMT fields entirely (§3.4).
            usps_event("Shipping Label Created, USPS Awaiting Item", "GX", "2024-11-18T16:02:00",
                       city="NEW YORK", state="NY", zip_="10001"),
        ],
    }  # fmt: skip


def usps_error(
    status: int, message: str, subcode: str | None, api: str = "/tracking/v3"
) -> dict[str, Any]:
    """The USPS API error envelope (§3.6)."""
    errors = [{"title": message, "detail": "", "code": subcode}] if subcode else []
    return {"apiVersion": api, "error": {"code": str(status), "message": message, "errors": errors}}


USPS_NOT_YET = (
    "12: A status update is not yet available on your package. It will be available when the "
    "shipper provides an update or the package is delivered to USPS. Check back soon. Sign up "
    "for Informed Delivery<SUP>reg;</SUP> to receive notifications for packages addressed to "
    "you. - "
)


def usps_v3r2_success(number: str) -> dict[str, Any]:
    """A 3.2 TrackingDetail with ``statusCode`` "200"; eventTimestamp carries its offset."""
    return {
        "statusCode": "200",
        "trackingNumber": number,
        "status": "Arrived at USPS Regional Facility",
        "statusCategory": "In Transit",
        "mailClass": "Priority Mail",
        "trackingEvents": [
            {
                "eventType": "Arrived at USPS Regional Facility",
                "eventTimestamp": "2024-04-04T14:03:12-07:00",
                "GMTTimestamp": "2024-04-04T21:03:12Z",
                "GMTOffset": "-7:00",
                "eventCity": "SEATTLE",
                "eventState": "WA",
                "eventZIPCode": "98101",
                "eventCode": "10",
            }
        ],
        "deliveryDateExpectation": {"expectedDeliveryDate": "2024-04-06"},
    }


def usps_v3r2_not_found(number: str) -> dict[str, Any]:
    """A 207 per-number failure (§3.4; text and subcode from the §3.6 404 example)."""
    return {
        "statusCode": "404",
        "trackingNumber": number,
        "apiVersion": "/tracking/v3r2",
        "error": {
            "code": "404",
            "message": "",
            "errors": [
                {
                    "title": "",
                    "detail": "A status update is not yet available for your package.",
                    "status": "404",
                    "code": "150006",
                }
            ],
        },
    }


# --------------------------------------------------------------------------------------------
# DHL (NOTES §4.4–4.5; dhl/utapi-traking-api-1.4.1.yaml)
# --------------------------------------------------------------------------------------------

DHL_NUMBER = "7777777770"  # spec example


def dhl_delivered(number: str = DHL_NUMBER) -> dict[str, Any]:
    """Timestamps in DHL's variants: nanoseconds, Z, no offset; a location without address."""
    delivered = {
        "timestamp": "2023-11-21T15:27:20.331986369+01:00",
        "location": {
            "address": {
                "addressLocality": "Oderweg 2, AMSTERDAM",
                "countryCode": "NL",
                "postalCode": "1043 AG",
            }
        },
        "statusCode": "delivered",
        "status": "DELIVERED",
        "description": "Delivered - Signed for by: J DOE",
    }
    return {
        "url": f"/shipments?trackingNumber={number}&offset=0&limit=5",
        "shipments": [
            {
                "id": number,
                "service": "express",
                "origin": {
                    "address": {"addressLocality": "LEIPZIG - GERMANY", "countryCode": "DE"}
                },
                "destination": {"address": {"addressLocality": "AMSTERDAM", "countryCode": "NL"}},
                "status": delivered,
                "details": {
                    "product": {"productName": "DHL PARCEL"},
                    "proofOfDelivery": {
                        "timestamp": "2023-11-21T15:27:20+01:00",
                        "documentUrl": "https://webpod.dhl.com/webPOD/DHLePODRequest",
                        "signed": {"familyName": "DOE", "givenName": "J"},
                    },
                    "totalNumberOfPieces": 1,
                },
                "events": [
                    delivered,
                    {
                        "timestamp": "2023-11-21T09:12:00+01:00",
                        "location": {"address": {"addressLocality": "AMSTERDAM - NETHERLANDS"}},
                        "statusCode": "transit",
                        "status": "With delivery courier",
                        "description": "The shipment is out for delivery",
                    },
                    {
                        "timestamp": "2023-11-20T22:04:00",
                        "location": {},
                        "statusCode": "transit",
                        "status": "Processed at LEIPZIG - GERMANY",
                        "description": "Processed at LEIPZIG - GERMANY",
                    },
                    {
                        "timestamp": "2023-11-20T08:00:00Z",
                        "statusCode": "pre-transit",
                        "status": "Shipment information received",
                        "description": "The instruction data for this shipment have been "
                        "provided by the sender to DHL electronically",
                    },
                ],
            }
        ],
    }


def dhl_failure(number: str = DHL_NUMBER, words: str = "Returned to sender") -> dict[str, Any]:
    """A shipment whose newest event is a ``failure``."""
    event = {
        "timestamp": "2018-03-02T07:53:47Z",
        "location": {"address": {"addressLocality": "BONN", "countryCode": "DE"}},
        "statusCode": "failure",
        "status": words,
        "description": words,
    }
    return {"shipments": [{"id": number, "service": "express", "status": event, "events": [event]}]}


DHL_NOT_FOUND = {
    "title": "No result found",
    "status": 404,
    "detail": "No shipment with given tracking number found.",
    "instance": "/shipment/8264715546",
}
