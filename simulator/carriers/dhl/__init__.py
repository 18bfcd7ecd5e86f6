"""DHL Shipment Tracking – Unified: ``GET /track/shipments`` behind a static ``DHL-API-Key``.

Sources: ``tests/contract/specs/NOTES.md`` §4 and ``dhl/utapi-traking-api-1.4.1.yaml``
(DHL-SPEC). NOTES tags are repeated beside each choice: [spec], [obs] (production as seen by
integrators), [unverified] (no source; a documented choice of this simulator).

Request flow: API key (401) -> query validation (400) -> tenant clock -> lookup (404) -> body
from the render cache. The tenant is the ``/t/{tenant}`` path prefix's, else the
``X-Carriersim-Tenant`` header's, else the key itself; the lookup sees the tenant's own
created shipments before the catalog. There is no token and so no expiry; whether a key is
accepted is decided in :func:`key_accepted` alone, so a later "revoked key" rule has one
place to go.

Choices the sources leave open:

* The portal template also allows the key in the query string (NOTES §4.2), but NOTES does
  not name that parameter, so only the header is read.
* Timestamps are ISO 8601 with the scan's own UTC offset (``2023-11-21T15:27:20+01:00``):
  one of the production forms (NOTES §4.4, karrio #439), it keeps both the local wall-clock
  time a customer sees and the exact instant, which the spec's ``Z`` example and the
  offset-less local form each lose half of.
* Spec 1.4.1 declares only 200 and 404 on the operation; malformed queries get a 400 in the
  RFC 7807 problem+json shape every DHL error uses (NOTES §4.5) [unverified wording].
* ``language`` is validated (ISO 639-1) but every text here is English, so
  ``Content-Language`` is always ``en``: the spec says that header names the *actual*
  response language, "language availability depends on the service used".
* A ``service`` hint, ``originCountryCode`` or ``recipientPostalCode`` that does not fit the
  shipment makes it not found (they "further qualify" the number [spec]); Parcel DE shows
  names and signer only with a matching ``recipientPostalCode`` [spec].
* NOTES has no DHL event vocabulary. Express checkpoint texts are the ones integrators'
  fixtures show from the live API ("Shipment picked up", "Arrived at DHL Sort Facility  X"
  with its double space, "Shipment is out with courier for delivery", "Delivered", ...)
  [obs]; the remaining texts follow the spec's example style (statusCode + lower-case
  ``status`` + sentence ``description`` + ``remark``/``nextSteps``) and are marked
  [unverified] in the tables.

Faults (:mod:`simulator.faulting` calls :func:`describe` and :func:`error_response`; the
tracking handler applies the data faults of ``faulting.data_faults``):

* Every fault error is a problem+json body with ``Content-Language: en`` (NOTES §4.5). 401 is
  the gateway body of NOTES §4.2 whatever the reason: a DHL key never expires, so "expired"
  and "revoked" both mean a key the gateway no longer accepts. 404 is the production body with
  a ``Correlation-Id``; 429 is the body of NOTES §4.5, with ``Retry-After`` only when the
  fault sets one (DHL documents none, §4.6). 400/403/500/502/503/504 use the same RFC 7807
  shape with the HTTP reason phrase as title; their details are [unverified]. There is no
  token endpoint, so "token" and "track" answer alike.
* missing_offsets: offset-less local wall-clock times, one of the production forms (NOTES
  §4.4). wrong_offsets: the local wall-clock time labelled ``Z`` (the spec's UTC form, §4.4),
  so the instant is off by the place's offset; at places on UTC, ``+01:00`` [unverified].
  Both apply to every timestamp of a shipment: formats differ by service, not by field.
* unknown_codes: the newest event (and so ``status``) carries :data:`UNDOCUMENTED_STATUS_CODE`,
  outside the spec's statusCode enum; texts kept [unverified value].
* missing_optional_fields: ``location`` without ``address`` in ``status`` and every event
  (NOTES §4.4, §6 item 11; itsvic-dev/deliveries #211: "Required value 'address' missing at
  $.shipments[0].status.location"); Place has no other property, so ``location`` is ``{}``.
* empty_events: the shipment with its ``status`` but ``events: []`` [unverified form].
* padded_number: ``id`` with a leading zero when all digits (a 10-digit Express waybill
  becomes a valid 11-digit one: zeros never change the mod-7 or GS1 check), else with a
  trailing space [unverified]. lowercase_number: ``id`` lower-cased (digits stay as they are).
* ok_with_error and mixed_results (one number per call, so alike): 200 with
  ``{"shipments": []}``, for found and unknown numbers alike, instead of the 404 [unverified:
  the shape of the spec's paged answers past the last result]. wrong_number: the answer is
  the asked shipment under :func:`other_number` (another valid number of the same format).

Layout: ``codes`` (the carrier's vocabulary for canonical events), ``render`` (response
bodies), ``api`` (routes, request parsing, auth, error envelopes, fault hooks),
``faults`` (its data quirks and lies) and ``push`` (subscriptions and webhooks).
:data:`CARRIER` is the package as a
:class:`~simulator.carriers.contract.Carrier`.
"""

from __future__ import annotations

from simulator.carriers.dhl import api, codes, faults, push, render
from simulator.carriers.dhl.api import Query, describe, error_response, parse_query, query_pairs
from simulator.carriers.dhl.codes import (
    ARRIVED_AT_DELIVERY_FACILITY,
    EVENT_TEXTS,
    EXCEPTION_TEXTS,
    NAME,
    PATH,
    STATUS_CODES,
    Text,
)
from simulator.carriers.dhl.faults import offsetless, other_number, wrong_offset

__all__ = [
    "ARRIVED_AT_DELIVERY_FACILITY",
    "CARRIER",
    "EVENT_TEXTS",
    "EXCEPTION_TEXTS",
    "NAME",
    "PATH",
    "STATUS_CODES",
    "Dhl",
    "Query",
    "Text",
    "api",
    "codes",
    "describe",
    "error_response",
    "faults",
    "offsetless",
    "other_number",
    "parse_query",
    "push",
    "query_pairs",
    "render",
    "wrong_offset",
]


class Dhl:
    """DHL as a :class:`~simulator.carriers.contract.Carrier`."""

    name = NAME
    prefix = api.PREFIX
    not_found = staticmethod(api.unknown_path)
    routes = staticmethod(api.routes)
    describe = staticmethod(api.describe)
    error_response = staticmethod(api.error_response)
    method_not_allowed = staticmethod(api.method_not_allowed)
    refusal = staticmethod(api.refusal)
    replay_credential = staticmethod(api.replay_credential)
    push = push.PUSH


CARRIER = Dhl()
"""The package as the registry in :mod:`simulator.carriers` holds it."""
