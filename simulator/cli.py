"""The ``carriersim`` command: serve, validate, timeline, numbers, schema, ca.

Exit codes (all commands): 0 success; 1 the input was checked and has problems (invalid
scenario files, an unknown scenario); 2 the command was used wrongly (unknown option, a
path that does not exist).
"""

from __future__ import annotations

import argparse
import base64
import difflib
import gc
import json
import os
import random
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from simulator import __version__, numbers
from simulator.durations import DurationError, format_duration, parse_duration
from simulator.faults import fault_plan_json_schema
from simulator.loader import (
    ScenarioError,
    check_paths,
    load_fault_plan,
    load_paths,
    looks_like_fault_plan,
)
from simulator.scenario import Scenario, scenario_json_schema
from simulator.settings import BUNDLED_SCENARIOS, Settings


def _instant(text: str) -> datetime:
    """An ISO instant, or a duration relative to now ('-2d')."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            return datetime.now(UTC) + parse_duration(text)
        except DurationError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is neither an ISO instant (2026-03-01T12:00Z) nor a duration (-2d)"
            ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _duration_arg(text: str) -> Any:
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def _parser(more: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carriersim",
        description="Simulate the UPS, FedEx, USPS and DHL tracking APIs from YAML scenarios.",
    )
    parser.add_argument("--version", action="version", version=f"carriersim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the four carrier APIs")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    _library_arguments(serve)
    serve.add_argument(
        "--faults",
        nargs="+",
        type=Path,
        default=[],
        metavar="FILE",
        help="fault-plan files applied to every request",
    )
    serve.add_argument("--seed", type=int, default=0, help="global seed for all random data")
    serve.add_argument(
        "--no-mix",
        dest="mix",
        action="store_false",
        help="unknown numbers get 'not found' instead of a scenario of the mix",
    )
    serve.add_argument(
        "--clock-start",
        type=_instant,
        default=None,
        metavar="INSTANT",
        help="simulated time at startup: ISO instant or offset like -2d",
    )
    serve.add_argument(
        "--not-found",
        choices=("production", "spec"),
        default="production",
        help="answer unknown numbers as production does or as documented",
    )
    serve.add_argument(
        "--journal-limit",
        type=_positive,
        default=Settings.journal_limit,
        metavar="N",
        help="requests the journal keeps, all tenants together; the oldest fall out first "
        f"(default: {Settings.journal_limit})",
    )
    serve.add_argument(
        "--push-timeout",
        type=float,
        default=Settings.push_timeout,
        metavar="SECONDS",
        help="how long a push receiver has to answer before the attempt fails "
        f"(default: {Settings.push_timeout:g})",
    )
    serve.add_argument(
        "--push-strict-targets",
        action="store_true",
        help="apply FedEx's production rule to webhook URLs (HTTPS, no literal IP, no localhost)",
    )
    serve.add_argument(
        "--smtp",
        default=None,
        metavar="HOST:PORT",
        help="send the carriers' notification emails (FedEx and USPS sign-ups) to this "
        "SMTP server as they fall due on each tenant's clock",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="server processes sharing the port (default: 1); more than one needs a shared "
        "store, which carriersim does not have yet, so N > 1 is refused",
    )
    serve.add_argument("--access-log", action="store_true", help="log every request line (slower)")
    serve.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a certificate from carriersim's local CA (carriersim ca prints "
        "the CA file a client trusts)",
    )
    serve.add_argument(
        "--reload",
        action="store_true",
        help="watch the scenario files; apply changes without a restart (a broken file is "
        "reported and the last good version keeps serving)",
    )
    serve.add_argument(
        "--admin-token",
        default=os.environ.get("CARRIERSIM_ADMIN_TOKEN"),
        metavar="TOKEN",
        help="require 'Authorization: Bearer TOKEN' for /__admin (required when --host is "
        "not a loopback address; default: $CARRIERSIM_ADMIN_TOKEN)",
    )
    serve.add_argument(
        "--admin-host",
        dest="admin_hosts",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer /__admin under this Host name without --admin-token (repeatable; "
        "by default only loopback names such as localhost and 127.0.0.1 are answered, so "
        "that no web page can reach the admin API through a name it points at 127.0.0.1)",
    )
    serve.add_argument(
        "--log-level", default="info", choices=("critical", "error", "warning", "info", "debug")
    )

    validate = sub.add_parser("validate", help="check scenario files without serving")
    validate.add_argument("paths", nargs="+", type=Path, metavar="PATH")

    timeline = sub.add_parser("timeline", help="print what a carrier answers at a moment")
    timeline.add_argument("scenario", help="scenario name")
    timeline.add_argument("--carrier", required=True, choices=numbers.CARRIERS)
    timeline.add_argument(
        "--at",
        type=_duration_arg,
        default=parse_duration("0h"),
        help="time since the shipment's start, e.g. 2d or '1d 4h'",
    )
    timeline.add_argument("--number", help="tracking number (default: one of the scenario's)")
    _library_arguments(timeline)
    timeline.add_argument("--seed", type=int, default=0)

    nums = sub.add_parser(
        "numbers",
        help="generate valid tracking numbers",
        description="Print fresh valid tracking numbers. The server plays each on a scenario "
        "of its default mix, and about 3-4 %% of them land on 'unknown-number' (not found): "
        "--found leaves those out, --scenario NAME keeps only numbers of one scenario.",
    )
    nums.add_argument("carrier", choices=numbers.CARRIERS)
    nums.add_argument("--count", type=int, default=5)
    nums.add_argument("--seed", type=int, default=None, help="seed of the numbers drawn")
    nums.add_argument("--format", dest="fmt", default=None)
    which = nums.add_mutually_exclusive_group()
    which.add_argument(
        "--found",
        action="store_true",
        help="only numbers the server answers with a parcel (none of 'unknown-number')",
    )
    which.add_argument(
        "--scenario", metavar="NAME", help="only numbers the server plays as this scenario"
    )
    nums.add_argument(
        "--serve-seed",
        type=int,
        default=0,
        metavar="N",
        help="the --seed the server runs with (it decides which number plays which scenario; "
        "default: 0)",
    )
    _library_arguments(nums)

    schema = sub.add_parser("schema", help="print the scenario (or fault-plan) JSON Schema")
    schema.add_argument("--faults", action="store_true", help="the fault-plan schema instead")
    sub.add_parser(
        "ca",
        help="print the path of the local CA certificate that serve --tls uses",
        description="Print the path of carriersim's local CA certificate (made on first use; "
        "kept in $CARRIERSIM_HOME, default ~/.local/share/carriersim). Trust it with one "
        "setting: SSL_CERT_FILE=$(carriersim ca) for httpx, carriersim track and Python's "
        "ssl; REQUESTS_CA_BUNDLE for requests; NODE_EXTRA_CA_CERTS for Node.",
    )
    for name, summary in (more or {}).items():
        # Dispatched by main() before parsing; here only to be listed.
        sub.add_parser(name, help=summary, add_help=False)
    return parser


def _library_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenarios",
        nargs="+",
        type=Path,
        default=[],
        metavar="PATH",
        help="your scenario files or folders, beside the bundled library (one of yours named "
        "like a bundled scenario replaces it)",
    )
    parser.add_argument(
        "--no-bundled",
        dest="bundled",
        action="store_false",
        help="leave the bundled library out: only the --scenarios paths",
    )


def _library(args: argparse.Namespace) -> list[Path] | None:
    """The scenario paths a command plays: the bundled library, then the user's own."""
    if not args.bundled and not args.scenarios:
        print("--no-bundled needs --scenarios PATH… (your own scenarios)", file=sys.stderr)
        return None
    paths = [BUNDLED_SCENARIOS] if args.bundled else []
    paths.extend(args.scenarios)
    missing = _missing(paths)
    for p in missing:
        print(f"{p}: no such file or directory", file=sys.stderr)
    return None if missing else paths


COMMANDS_GROUP = "carriersim.commands"
"""Entry-point group through which other packages add subcommands (the reference client
adds ``track``); the simulator never imports them itself."""


def _plugin_commands() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=COMMANDS_GROUP)}


_DIVERGENT_WORKERS = (
    "carriersim: --workers {n} refused: each worker process keeps its own tenants, clocks, "
    "created shipments, fault counters and journal, so {n} workers would serve {n} different "
    "worlds and answers would depend on which worker a request reaches. A shared store "
    "(--store) is not available yet; serve with one worker (drop --workers), or run "
    "separate servers on separate ports."
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    plugins = _plugin_commands()
    if argv and argv[0] in plugins:
        command: Callable[[list[str]], int] = plugins[argv[0]].load()
        return command(argv[1:])
    # Listed with the built-in commands; their summary is read only when help is shown, so
    # that other commands do not pay for importing them.
    describe = not argv or any(a in ("-h", "--help") for a in argv)
    args = _parser(
        {
            name: (_summary(plugins[name]) if describe else None) or f"carriersim {name} --help"
            for name in sorted(plugins)
        }
    ).parse_args(argv)
    handler = {
        "serve": _serve,
        "validate": _validate,
        "timeline": _timeline,
        "numbers": _numbers,
        "schema": _schema,
        "ca": _ca,
    }[args.command]
    try:
        return handler(args)
    except BrokenPipeError:
        # The reader went away (`carriersim schema | head`): stop quietly, as cat does.
        # Python would report the failed flush of stdout at exit: point it at nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _summary(entry: Any) -> str | None:
    try:
        module = sys.modules.get(entry.module) or __import__(entry.module, fromlist=["_"])
    except Exception:  # a broken plugin must not break `carriersim --help`
        return None
    summary = getattr(module, "SUMMARY", None)
    return summary if isinstance(summary, str) else None


def _missing(paths: Sequence[Path]) -> list[Path]:
    return [p for p in paths if not p.exists()]


def _validate(args: argparse.Namespace) -> int:
    missing = _missing(args.paths)
    if missing:
        for p in missing:
            print(f"{p}: no such file or directory", file=sys.stderr)
        return 2
    plans = [p for p in args.paths if p.is_file() and looks_like_fault_plan(p)]
    scenario_paths = [p for p in args.paths if p not in plans]
    scenarios, problems = check_paths(scenario_paths) if scenario_paths else ([], [])
    for plan in plans:
        try:
            load_fault_plan(plan)
        except ScenarioError as exc:
            problems.extend(exc.problems)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    if scenarios:
        print(f"{len(scenarios)} scenario(s) OK: {', '.join(s.name for s in scenarios)}")
    for plan in plans:
        print(f"fault plan OK: {plan}")
    return 0


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from simulator.app import build
    from simulator.mailer import parse_address
    from simulator.server import config

    library = _library(args)
    missing = _missing(args.faults)
    for p in missing:
        print(f"{p}: no such file or directory", file=sys.stderr)
    if library is None or missing:
        return 2
    # Every worker must agree on the clock start and the token secret.
    if args.host not in LOOPBACK and not args.admin_token:
        print(
            f"--host {args.host} exposes the admin API (/__admin) beyond this machine; "
            "pass --admin-token TOKEN (clients then send 'Authorization: Bearer TOKEN')",
            file=sys.stderr,
        )
        return 2
    if args.smtp is not None:
        try:
            parse_address(args.smtp)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 2
    settings = Settings(
        smtp=args.smtp,
        admin_token=args.admin_token,
        admin_hosts=tuple(args.admin_hosts),
        scenario_paths=tuple(library),
        fault_paths=tuple(args.faults),
        seed=args.seed,
        mix=args.mix,
        clock_start=(args.clock_start or datetime.now(UTC)).replace(microsecond=0),
        not_found=args.not_found,
        journal_limit=args.journal_limit,
        push_timeout=args.push_timeout,
        push_strict_targets=args.push_strict_targets,
        secret=os.environ.get("CARRIERSIM_SECRET") or base64.b64encode(os.urandom(18)).decode(),
    )
    if args.workers > 1:
        print(_DIVERGENT_WORKERS.format(n=args.workers), file=sys.stderr)
        return 2
    try:
        app = build(settings)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return 1
    ssl: dict[str, Any] = {}
    if args.tls:
        from simulator import tls

        ssl["ssl_certfile"] = str(tls.server_certificate(args.host))
    scheme = "https" if args.tls else "http"
    print(
        f"carriersim {__version__}: serving UPS, FedEx, USPS and DHL on "
        f"{scheme}://{args.host}:{args.port} "
        f"(clock start {settings.clock_start:%Y-%m-%dT%H:%M:%SZ}, "
        f"seed {settings.seed}, default mix {'on' if settings.mix else 'off'})",
        file=sys.stderr,
    )
    # Everything loaded so far lives as long as the server: keep the collector off it, so
    # per-request garbage collections only walk per-request objects.
    gc.collect()
    gc.freeze()
    stop_watching = None
    if args.reload:
        from simulator import reload

        def report(message: str) -> None:
            print(f"carriersim: {message}", file=sys.stderr, flush=True)

        stop_watching = reload.start(app.state.control, settings.scenario_paths, report)
    try:
        uvicorn.Server(
            config(
                app,
                args.host,
                args.port,
                log_level=args.log_level,
                access_log=args.access_log,
                **ssl,
            )
        ).run()
    finally:
        if stop_watching is not None:
            stop_watching()
    return 0


def _load_library(args: argparse.Namespace) -> list[Scenario] | int:
    """The scenarios a command plays, or its exit code when they cannot be loaded."""
    library = _library(args)
    if library is None:
        return 2
    try:
        return load_paths(library)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return 1


def _numbers(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    fmts = numbers.formats(args.carrier)
    if args.fmt is not None and args.fmt not in fmts:
        print(
            f"unknown format {args.fmt!r} for {args.carrier}; one of: {', '.join(fmts)}",
            file=sys.stderr,
        )
        return 2
    if not (args.found or args.scenario):
        for _ in range(args.count):
            print(numbers.generate(args.carrier, rng, args.fmt))
        return 0
    from simulator.catalog import Catalog

    scenarios = _load_library(args)
    if isinstance(scenarios, int):
        return scenarios
    catalog = Catalog(scenarios, seed=args.serve_seed, epoch=datetime.now(UTC))
    wanted = catalog.scenarios.get(args.scenario) if args.scenario else None
    if args.scenario and wanted is None:
        return _no_such_scenario(args.scenario, catalog.scenarios)
    if wanted is not None and not catalog.plays(args.carrier, wanted):
        declared = wanted.numbers.get(args.carrier, ())
        why = f"weight {wanted.weight:g}"
        if args.carrier not in wanted.carriers:
            why = f"it does not run on {args.carrier}"
        print(
            f"the default mix never plays {wanted.name!r} on {args.carrier} ({why})"
            + (f"; its declared numbers: {', '.join(declared)}" if declared else "")
            + "; or create one: POST /__admin/shipments",
            file=sys.stderr,
        )
        return 1
    # A number lands on a scenario with the scenario's share of the mix; even a share of
    # 1 % needs a few hundred draws per number, so this bound is never what stops it.
    found = 0
    for _ in range(args.count * 20_000):
        number = numbers.generate(args.carrier, rng, args.fmt)
        plays = catalog.scenario_of(args.carrier, number)
        if plays is None or (plays is not wanted if wanted else not plays.found):
            continue
        print(number)
        found += 1
        if found == args.count:
            return 0
    print(f"found only {found} such number(s); try another --seed", file=sys.stderr)
    return 1


def _no_such_scenario(name: str, known: Mapping[str, Scenario]) -> int:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    print(f"no scenario named {name!r}; {hint}known: {', '.join(sorted(known))}", file=sys.stderr)
    return 1


def _ca(args: argparse.Namespace) -> int:
    from simulator import tls

    print(tls.ensure_ca())
    return 0


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(fault_plan_json_schema() if args.faults else scenario_json_schema(), indent=2))
    return 0


def _timeline(args: argparse.Namespace) -> int:
    from simulator.probe import probe

    scenarios = _load_library(args)
    if isinstance(scenarios, int):
        return scenarios
    by_name = {s.name: s for s in scenarios}
    scenario = by_name.get(args.scenario)
    if scenario is None:
        return _no_such_scenario(args.scenario, by_name)
    if args.carrier not in scenario.carriers:
        print(f"scenario {scenario.name!r} does not run on {args.carrier}", file=sys.stderr)
        return 1
    number = args.number or (scenario.numbers.get(args.carrier) or (None,))[0]
    if number is None:
        number = numbers.generate(args.carrier, random.Random(f"{args.seed}|{scenario.name}"))
    number = numbers.normalize(number)
    bound = scenario.model_copy(update={"numbers": {args.carrier: (number,)}})
    others = [s.model_copy(update={"numbers": {}}) for s in scenarios if s.name != scenario.name]
    settings = replace(Settings(), seed=args.seed, mix=False)
    status, headers, body = probe(settings, [bound, *others], args.carrier, number, args.at)
    print(
        f"{args.carrier.upper()} {number} — {scenario.name} at +{format_duration(args.at)}"
        f" → HTTP {status}"
    )
    ctype = headers.get("content-type", "")
    if "json" in ctype:
        print(json.dumps(json.loads(body), indent=2, ensure_ascii=False))
    else:
        print(body.decode("utf-8", "replace"))
    return 0
