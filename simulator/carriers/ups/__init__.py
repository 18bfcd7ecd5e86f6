"""UPS: the OAuth client-credentials token and Track API v1 ``details``, as production answers.

Sources (all under tests/contract/specs): NOTES.md §1 (cited ``N§…``), the official
specs ``ups/Tracking.yaml`` (SPEC) and ``ups/OAuthClientCredentials.yaml`` (OAUTH), the saved
200 body of the official Postman collection ``ups/UPS-Tracking.postman_collection.json`` (PM,
the template for shape and field presence), and the two tables N§1.5 names as its sources:
the developer-portal appendix tabs (APPX: package-exception and manifest texts) and the
activity code → status code → milestone category table in UPS-API/api-documentation
issue #7 (ISS7).

Production behaviour imitated where it departs from the spec (each proven in a test):

- an unknown number is HTTP 200 with warning ``TW0001`` (N§1.6), not the documented 404;
  ``settings.not_found == "spec"`` gives the 404 instead;
- ``gmtTime`` is ``HH:MM:SS`` with colons, not the spec example's ``"74700"`` (N§1.4);
- ``currentStatus.code`` carries the 3-digit status code, not the 2-char activity code (N§1.4);
- a bad bearer token is 401 ``250002`` (N§1.6), a status the Tracking spec does not declare;
- every token field is a string, numbers included (N§1.2).

Faults (:mod:`simulator.faulting`): :func:`describe` and :func:`error_response` are the hooks
the fault wrapper calls; the tracking handler applies the data faults (timeline quirks via
:mod:`simulator.quirks`, then the UPS-format quirks and lies of :func:`apply_format_faults`).

Layout: ``codes`` (the carrier's vocabulary for canonical events), ``render`` (response
bodies), ``api`` (routes, request parsing, auth, error envelopes, fault hooks),
``faults`` (its data quirks and lies) and ``push`` (subscriptions and webhooks).
:data:`CARRIER` is the package as a
:class:`~simulator.carriers.contract.Carrier`.
"""

from __future__ import annotations

from simulator.carriers.ups import api, codes, faults, push, render
from simulator.carriers.ups.api import describe, error_response
from simulator.carriers.ups.codes import KIND_STATUS, NAME, REASON_STATUS, STATUS_NAMES, status_of
from simulator.carriers.ups.faults import apply_format_faults, other_number

__all__ = [
    "CARRIER",
    "KIND_STATUS",
    "NAME",
    "REASON_STATUS",
    "STATUS_NAMES",
    "Ups",
    "api",
    "apply_format_faults",
    "codes",
    "describe",
    "error_response",
    "faults",
    "other_number",
    "push",
    "render",
    "status_of",
]


class Ups:
    """UPS as a :class:`~simulator.carriers.contract.Carrier`."""

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


CARRIER = Ups()
"""The package as the registry in :mod:`simulator.carriers` holds it."""
