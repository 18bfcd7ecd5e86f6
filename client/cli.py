"""``carriersim track NUMBER… [--carrier C] [--base-url URL] [--json]``

Tracks each number with the reference client and prints a readable timeline per number
(oldest event first), or with ``--json`` one JSON array with an entry per number, in the
order given: ``{"number", "ok": true, "result": {…}}`` or ``{"number", "ok": false,
"error": {"type", "message", "hint", …}}``.

Carriers are detected from the numbers; ``--carrier`` names it for all of them (needed for
ambiguous numbers and for carriers' test numbers with odd formats). Base URLs and
credentials come from the environment as in :mod:`client.api` (``CARRIERSIM_BASE_URL``,
``UPS_CLIENT_ID``…); ``--base-url`` points every carrier at one server, e.g. a running
carriersim. Against a base URL given this way (or by ``CARRIERSIM_BASE_URL``), missing
credentials default to ``carriersim``/``carriersim``, which the simulator accepts; real
carriers always need real credentials.

Exit codes:

== ====================================================================================
0  every number was tracked
1  some number could not be tracked: not found, invalid or ambiguous (try ``--carrier``)
2  usage error: bad arguments
3  configuration or authentication problem: credentials, API key, base URL
4  a carrier was unavailable, rate limited us, or timed out: try again later
5  a carrier's answer could not be understood
== ====================================================================================

When numbers fail in different ways, the highest code wins.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TextIO

import httpx

from client.api import CarrierSettings, TrackingClient
from client.errors import (
    AmbiguousNumber,
    AuthenticationError,
    ConfigurationError,
    MalformedResponse,
    TrackingError,
)
from client.model import Carrier, TrackingResult
from client.retry import RetryPolicy

__all__ = ["EXIT_CODES", "SUMMARY", "add_arguments", "exit_code", "main", "run"]

EXIT_CODES: Mapping[str, int] = {
    "ok": 0,
    "not_tracked": 1,
    "usage": 2,
    "configuration": 3,
    "transient": 4,
    "malformed": 5,
}
"""The exit codes documented in the module docstring, by name."""

PLACEHOLDER_CREDENTIAL = "carriersim"

SUMMARY = "track parcels with the reference client (against carriersim or the carriers)"
"""One line for ``carriersim --help``."""


def exit_code(error: TrackingError) -> int:
    """The exit code one failed number calls for."""
    if isinstance(error, ConfigurationError | AuthenticationError):
        return EXIT_CODES["configuration"]
    if isinstance(error, MalformedResponse):
        return EXIT_CODES["malformed"]
    if error.transient:
        return EXIT_CODES["transient"]
    return EXIT_CODES["not_tracked"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``track`` arguments to a parser (for wiring into a larger CLI)."""
    parser.add_argument("numbers", nargs="+", metavar="NUMBER", help="tracking numbers")
    parser.add_argument(
        "--carrier",
        choices=[c.value for c in Carrier],
        help="the carrier of every number (default: detect from each number)",
    )
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="send every carrier's requests to this server, e.g. http://127.0.0.1:8080",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carriersim track",
        description="Track parcels with the carriersim reference client.",
        epilog="exit codes: 0 all tracked, 1 some not tracked, 2 usage, 3 configuration or "
        "authentication, 4 carrier unavailable / rate limited / timeout, 5 malformed answer",
    )
    add_arguments(parser)
    return parser


def _settings(base_url: str | None, env: Mapping[str, str]) -> dict[str, CarrierSettings]:
    """Placeholder credentials for a simulator URL, where the environment has none."""
    if not (base_url or env.get("CARRIERSIM_BASE_URL")):
        return {}
    out: dict[str, CarrierSettings] = {}
    for carrier in Carrier:
        up = carrier.value.upper()
        if carrier is Carrier.dhl:
            key = env.get("DHL_API_KEY") or PLACEHOLDER_CREDENTIAL
            out[carrier.value] = CarrierSettings(api_key=key)
        else:
            out[carrier.value] = CarrierSettings(
                client_id=env.get(f"{up}_CLIENT_ID") or PLACEHOLDER_CREDENTIAL,
                client_secret=env.get(f"{up}_CLIENT_SECRET") or PLACEHOLDER_CREDENTIAL,
            )
    return out


def _command_line_hint(error: ConfigurationError) -> str:
    """What a command-line user does about missing configuration (not Python arguments)."""
    carrier = (error.carrier.value if error.carrier else "ups").upper()
    login = (
        "DHL_API_KEY" if carrier == "DHL" else f"{carrier}_CLIENT_ID and {carrier}_CLIENT_SECRET"
    )
    return (
        "to track against carriersim, pass --base-url http://127.0.0.1:8080 (or set "
        "CARRIERSIM_BASE_URL; any credentials work there); to track against the carrier, set "
        f"{login} in the environment"
    )


def run(
    args: argparse.Namespace,
    *,
    transport: httpx.BaseTransport | None = None,
    env: Mapping[str, str] | None = None,
    retry: RetryPolicy | None = None,
    out: TextIO | None = None,
) -> int:
    """Track ``args.numbers`` and print them; returns the exit code."""
    env = os.environ if env is None else env
    out = out or sys.stdout
    settings = _settings(args.base_url, env)
    with TrackingClient(
        base_url=args.base_url,
        ups=settings.get("ups"),
        fedex=settings.get("fedex"),
        usps=settings.get("usps"),
        dhl=settings.get("dhl"),
        retry=retry,
        transport=transport,
        env=env,
    ) as tracker:
        outcomes = tracker.track_many(args.numbers, carrier=args.carrier)
    for outcome in outcomes:
        if isinstance(outcome, ConfigurationError) and not settings:
            outcome.hint = _command_line_hint(outcome)
    pairs = list(zip(args.numbers, outcomes, strict=True))
    if args.json:
        json.dump([_json_entry(n, o) for n, o in pairs], out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        for i, (number, outcome) in enumerate(pairs):
            if i:
                out.write("\n")
            out.write(_text_entry(number, outcome))
    codes = [exit_code(o) for o in outcomes if isinstance(o, TrackingError)]
    return max(codes, default=EXIT_CODES["ok"])


def main(
    argv: Sequence[str] | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    env: Mapping[str, str] | None = None,
    retry: RetryPolicy | None = None,
    out: TextIO | None = None,
) -> int:
    """Entry point: parse ``argv`` (a leading ``track`` is accepted) and run; exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["track"]:
        argv = argv[1:]
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help (0) and on bad usage (2)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_CODES["usage"]
    return run(args, transport=transport, env=env, retry=retry, out=out)


def _when(t: datetime | None, offset_known: bool = True) -> str:
    if t is None:
        return "-"
    shown = t.isoformat(sep=" ", timespec="minutes")
    return shown if offset_known else f"{shown[:16]} (no offset)"


def _text_entry(number: str, outcome: TrackingResult | TrackingError) -> str:
    if isinstance(outcome, TrackingError):
        lines = [f"{number}  ✗ {type(outcome).__name__}: {outcome.message}"]
        if isinstance(outcome, AmbiguousNumber):
            lines.append(f"  candidates: {', '.join(c.value for c in outcome.candidates)}")
        lines.append(f"  what to do: {outcome.hint}")
        return "\n".join(lines) + "\n"
    r = outcome
    head = f"{r.number}  {r.carrier.value.upper()}  {r.status.value}"
    if r.exception_reason:
        head += f" ({r.exception_reason.value})"
    if r.status_description:
        head += f" — {r.status_description}"
    lines = [head]
    if r.service:
        lines.append(f"  service: {r.service}")
    if r.delivered_at:
        signed = f", signed by {r.signed_by}" if r.signed_by else ""
        lines.append(f"  delivered: {_when(r.delivered_at)}{signed}")
    elif r.estimated_delivery:
        end = f" – {_when(r.estimated_delivery_end)}" if r.estimated_delivery_end else ""
        lines.append(f"  estimated delivery: {_when(r.estimated_delivery)}{end}")
    if r.anomalies:
        lines.append(f"  notes: {', '.join(a.value for a in r.anomalies)}")
    if not r.events:
        lines.append("  (no events yet)")
    for e in r.events:
        place = f"  {e.location}" if e.location else ""
        lines.append(
            f"  {_when(e.time, e.offset_known):<28}  {e.status.value:<20}  {e.description}{place}"
        )
    return "\n".join(lines) + "\n"


def _json_entry(number: str, outcome: TrackingResult | TrackingError) -> dict[str, Any]:
    if isinstance(outcome, TrackingError):
        error: dict[str, Any] = {
            "type": type(outcome).__name__,
            "message": outcome.message,
            "hint": outcome.hint,
            "carrier": outcome.carrier and outcome.carrier.value,
            "status_code": outcome.status_code,
            "code": outcome.code,
        }
        if isinstance(outcome, AmbiguousNumber):
            error["candidates"] = [c.value for c in outcome.candidates]
        return {"number": number, "ok": False, "error": error}
    return {"number": number, "ok": True, "result": outcome.to_dict()}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
