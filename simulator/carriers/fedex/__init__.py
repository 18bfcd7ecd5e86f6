"""FedEx Track API v1: ``POST /oauth/token`` and ``POST /track/v1/trackingnumbers``.

Sources: ``tests/contract/specs/NOTES.md`` §2 and the FedEx OpenAPI files
``fedex/track.json`` (FX-SPEC) and ``fedex/APIAuthorization-Resource.json`` (FX-AUTH). Each
choice carries its tag: [spec], [obs] (production or sandbox as captured in the sources NOTES
cites: FX-SBX sandbox captures, KAR-FX production-shaped fixtures, FX-CODES status table),
[unverified] (no source; a documented choice of this simulator).

Request flow (tracking): bearer token -> tenant clock -> expiry (401) -> body (400) -> one
``completeTrackResults`` entry per requested number, in request order. Unknown and
malformed numbers are answered *inside* a 200, per number, as production does (NOTES §2.6).
Each found entry is a pure function of (shipment, visible events, includeDetailedScans) and
comes from the render cache as bytes; only the envelope (transaction ids) is per request.

Choices the sources leave open:

* Token errors: FX-AUTH declares only 401/500/503, so every refused login (wrong content
  type, unreadable form, missing or unknown grant type, missing child credentials for the
  csp/parent-child grants, unknown id, wrong secret) gets the spec's 401
  ``NOT.AUTHORIZED.ERROR`` "The given client credentials were not valid…" [spec].
* Tracking 401s: the spec's only 401 example says "Access token expired…"; it is used for
  every unusable token (missing, garbage, tampered, another carrier's, another tenant's
  under a ``/t/{tenant}`` prefix, expired) [spec].
* Request-level 400s (NOTES §2.6): no usable tracking number (non-JSON content type,
  unparseable JSON, missing/empty ``trackingInfo``, entry without a string
  ``trackingNumber``, blank number) -> ``TRACKING.TRACKINGNUMBER.EMPTY`` [spec wording];
  more than 30 entries -> ``TRACKING.TRACKINGNUMBERS.LIMITEXCEEDED`` [obs: FedEx's Track
  error catalog as transcribed in integrators' code; not yet in NOTES].
* Invalid-format numbers (not 1–34 digits) are per-number ``TRACKING.TRACKINGNUMBER.INVALID``
  results in a 200, like NOTFOUND: clients read that code from ``trackResults[].error``
  [obs: integrators' parsers/tests]; message from the same catalog transcription [obs].
  Well-formed numbers with a wrong check digit are simply not found.
* Not found: production's ``carrierCode: ""`` in per-number errors is outside the spec's
  enum; ``Settings.not_found == "spec"`` leaves the empty value out so the body validates.
* ``includeDetailedScans`` other than JSON ``true`` leaves ``scanEvents`` out: the spec says
  the scans are included "if true" [spec]; a missing flag is not refused because NOTES has
  no error for it [unverified].
* ``transactionId`` is UUID-shaped like the spec example and production fixtures [spec,
  obs KAR-FX], made from a per-simulation counter so a fresh server answering the same
  requests gives the same bytes. The sandbox's forms (``APIF_SV_TRKC_TxID`` prefixes, the
  ``customertransactionId`` spelling, the ``VIRTUAL.RESPONSE`` alert; NOTES §2.9) are not
  imitated: this is production.

Data faults (``simulator.faulting.data_faults``; see "Data faults" below for each form and
its source). A FedEx request carries up to 30 numbers but the fault decision is made per
request, so each fired lie or quirk is applied only to the numbers its fault targets: a
scenario's fault to that scenario's numbers, a fault matching one number to that number, any
other fault to every number of the request. Faulted entries are cached under their own keys.

Layout: ``codes`` (the carrier's vocabulary for canonical events), ``render`` (response
bodies), ``api`` (routes, request parsing, auth, error envelopes, fault hooks),
``faults`` (its data quirks and lies) and ``push`` (subscriptions and webhooks).
:data:`CARRIER` is the package as a
:class:`~simulator.carriers.contract.Carrier`.
"""

from __future__ import annotations

from starlette.types import Scope

from simulator.carriers.fedex import api, codes, faults, push, render
from simulator.carriers.fedex.api import TOKEN_PATH, TRACK_PATH, describe, error_response
from simulator.carriers.fedex.codes import NAME
from simulator.carriers.fedex.faults import wrong_number

__all__ = [
    "CARRIER",
    "NAME",
    "TOKEN_PATH",
    "TRACK_PATH",
    "Fedex",
    "api",
    "codes",
    "describe",
    "error_response",
    "faults",
    "push",
    "render",
    "wrong_number",
]


class Fedex:
    """FedEx as a :class:`~simulator.carriers.contract.Carrier`."""

    name = NAME
    prefix = api.PREFIX
    not_found = staticmethod(api.not_found)
    routes = staticmethod(api.routes)
    describe = staticmethod(api.describe)
    error_response = staticmethod(api.error_response)
    method_not_allowed = staticmethod(api.method_not_allowed)
    push = push.PUSH
    refusal = staticmethod(api.refusal)

    @staticmethod
    def replay_credential(scope: Scope) -> None:
        """Never: every tracking request is a POST, whose answer depends on its body."""
        return None


CARRIER = Fedex()
"""The package as the registry in :mod:`simulator.carriers` holds it."""
