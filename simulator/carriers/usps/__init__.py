"""USPS: OAuth 2.0 v3 token, Tracking 3.0 (``GET``, one number) and Tracking 3.2 (``POST``, 1–35).

Sources: ``tests/contract/specs/NOTES.md`` §3 and the USPS OpenAPI files
``usps/oauth2_3_update.yaml`` (USPS-OAUTH), ``usps/tracking-v3.yaml`` (USPS-V3) and
``usps/tracking-v3r2_4.yaml`` (USPS-V3R2). Tags beside each choice: [spec], [obs] (production
as captured by integrators: KAR-USPS and USPS-FIX live DETAIL bodies, USPS-ISS threads),
[unverified] (no source; a documented choice of this simulator).

Request flow: bearer token -> claims (401 envelope on any token problem, on a token used under
another tenant's ``/t/{tenant}`` prefix, on expiry on the tenant's clock, and on a token
without the ``tracking`` scope) -> request validation (400 envelopes) -> lookup (the tenant's
own created shipments, else the catalog) -> body from the render cache.

Production versus spec, and which one is imitated:

* Tracking 3.0 ``expand=DETAIL`` imitates the live bodies [obs: NOTES §3.4, KAR-USPS,
  USPS-FIX], which break the spec's types: booleans are the strings ``"true"``/``"false"``,
  absent values are explicit ``null``, ``mailClass`` is the human name with HTML entities
  (``USPS Ground Advantage<SUP>&#153;</SUP>``) instead of the spec's enum, ``mailType`` is
  ``DM``, ``eventTimestamp`` is local time without offset (to the minute, seconds ``:00`` as
  live) beside ``GMTTimestamp`` (``…Z``, to the second) and ``GMTOffset`` (``-06:00``), and
  the label-created scan carries no GMT fields at all (NOTES: "pre-shipment and partner
  events lack the GMT fields entirely"; USPS-FIX GX/MA events).
* Tracking 3.0 ``expand=SUMMARY`` (the default) follows the spec's ``TrackingSummary``
  (``trackingNumber``, ``expectedDeliveryDate``, ``eventSummaries``). NOTES calls SUMMARY
  unstable because the USPS README shows a Web-Tools-shaped ``TrackResults`` body, but that
  README example is for ``/tracking/v1`` (its curl line), so no production v3 SUMMARY body
  is known and the spec wins. ``eventSummaries`` copies the spec example's style: the
  newest entry is the status sentence, older ones ``"<event>, MM/DD/YYYY, h:mm am, <place>"``.
* Tracking 3.2 follows the spec's types (real booleans, absent fields omitted, offsets in
  ``eventTimestamp``, ``GMTOffset`` like ``-7:00``): NOTES has no live 3.2 success body.
* Unknown number on 3.0: production answers **400** with subcode 150001 and the USPS-FIX
  text (also for a known number whose first scan lies in the future), or 150002 ("The
  tracking number may be incorrect…", Web Tools / Error Inventory text) for a number that
  is not a well-formed USPS number (syntax or check digit). ``settings.not_found ==
  "spec"`` answers the spec's **404** ``Resource Not Found`` instead, except for numbers
  that are not 4–34 alphanumerics, which stay a 400 in both forms.
* Unknown numbers on 3.2: a batch mixing found and unknown numbers answers **207** with
  ``statusCode`` items [spec MultiStatusResponse, NOTES §3.4]; a batch with none found
  answers **404** with the observed 150006 body [obs: USPS-ISS #82] and one ``errors``
  entry per unknown number, in request order. Production and spec agree here.
* Token: JSON or form body [spec, NOTES §3.2], HTTP Basic credentials accepted as RFC 6749
  §2.3.1 allows; other content types get ``invalid_request``. A requested ``scope`` is
  narrowed to the app's scopes, down to an empty one, rather than refused [obs: USPS-ISS
  #28]; a token without ``tracking`` gets the tracking APIs' 401 [obs: USPS-ISS #56].
  The spec's 200 schema cannot hold any client-credentials body (see the tests); the body
  copies the spec's own example field for field.

Faults (``simulator.faulting``; the section "Fault hooks" at the end has the details):

* ``error_response``: the token endpoint answers every status in the RFC 6749 shape of its
  live errors [obs: KAR-USPS; spec StandardErrorResponse], the tracking APIs in their error
  envelope with the ``apiVersion`` of the API called (``/tracking/v3`` or ``/tracking/v3r2``):
  401 as the live scope refusal [obs: USPS-ISS #56], 429 as the live quota body [obs:
  magento/magento2 #40394], 404 as each API's not-found body, the rest with the Error
  Inventory's "General Errors" texts [NOTES §3.6].
* Lies: ``ok_with_error`` is the error inside a 200 (3.0: the 150001 body with HTTP 200;
  3.2: every found number as a ``statusCode`` 404 item in a 200); ``mixed_results`` is the
  3.2 ``207`` with every second found number answered as a 404 item (one number: as
  ``ok_with_error``); ``wrong_number`` answers for the next valid number of the same format.
  In a 3.2 batch a lie or quirk reaches only the numbers its fault was for
  (``faulting.fault_targets``): "every found number" means every one it targets.
* Format quirks: see :func:`distort_detail`, :func:`distort_summary`, :func:`distort_v3r2`.

Choices the sources leave open are marked [unverified] in the tables below.

Layout: ``codes`` (the carrier's vocabulary for canonical events), ``render`` (response
bodies), ``api`` (routes, request parsing, auth, error envelopes, fault hooks),
``faults`` (its data quirks and lies) and ``push`` (subscriptions and webhooks).
:data:`CARRIER` is the package as a
:class:`~simulator.carriers.contract.Carrier`.
"""

from __future__ import annotations

from simulator.carriers.usps import api, codes, faults, push, render
from simulator.carriers.usps.api import (
    BATCH_LIMIT,
    ERROR_URI,
    MAY_BE_INCORRECT_V3,
    NOT_YET_AVAILABLE_V3,
    NOT_YET_AVAILABLE_V3R2,
    TOKEN_LIFETIME,
    describe,
    error_response,
)
from simulator.carriers.usps.codes import EXCEPTION_SCANS, NAME, SCANS, scan_for
from simulator.carriers.usps.faults import other_number
from simulator.carriers.usps.render import clock_time

__all__ = [
    "BATCH_LIMIT",
    "CARRIER",
    "ERROR_URI",
    "EXCEPTION_SCANS",
    "MAY_BE_INCORRECT_V3",
    "NAME",
    "NOT_YET_AVAILABLE_V3",
    "NOT_YET_AVAILABLE_V3R2",
    "SCANS",
    "TOKEN_LIFETIME",
    "Usps",
    "api",
    "clock_time",
    "codes",
    "describe",
    "error_response",
    "faults",
    "other_number",
    "push",
    "render",
    "scan_for",
]


class Usps:
    """USPS as a :class:`~simulator.carriers.contract.Carrier`."""

    name = NAME
    prefix = api.PREFIX
    not_found = staticmethod(api.not_found)
    routes = staticmethod(api.routes)
    describe = staticmethod(api.describe)
    error_response = staticmethod(api.error_response)
    method_not_allowed = staticmethod(api.method_not_allowed)
    refusal = staticmethod(api.refusal)
    replay_credential = staticmethod(api.replay_credential)
    push = push.PUSH


CARRIER = Usps()
"""The package as the registry in :mod:`simulator.carriers` holds it."""
