"""``carriersim watch NUMBER[=ORDER]… | --file FILE [--json] [--db FILE] …``

Watches tracking numbers until each reaches a final status (delivered, returned,
cancelled), printing every change event as it happens and, on a terminal, a progress line
on stderr while it polls. ``--json`` prints one JSON object per line instead, each naming
its event (``"kind"``), with the order reference.

Numbers come from the arguments (``NUMBER`` or ``NUMBER=ORDER``) or from ``--file``: one
number a line, optionally followed by the order reference (space, tab or comma between);
lines starting with ``#`` are comments. With ``--db`` the state is kept in that SQLite
file, so a second run resumes where the first stopped and reports nothing twice.

Exit codes: 0 every number is final; 1 interrupted (Ctrl-C; a summary is printed);
2 usage error (bad arguments, unreadable or malformed file, invalid number).
Base URLs and credentials are read as by ``carriersim track``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

import anyio
import httpx

from client.api import AsyncTrackingClient
from client.cli import _settings
from client.errors import TrackingError
from client.model import Carrier
from client.retry import RetryPolicy
from client.watch.changes import Change
from client.watch.store import Order, Store, StoreError
from client.watch.watcher import PUBLISHED_RATE_LIMITS, PollSchedule, Round, WatchClock, Watcher

__all__ = ["SUMMARY", "main", "read_numbers"]

SUMMARY = "watch parcels until final, printing their change events"
"""The one line ``carriersim --help`` shows for this command."""


class UsageError(Exception):
    """Bad arguments or input file; the message says where and how to fix it."""


def read_numbers(path: Path) -> list[tuple[str, str]]:
    """(number, order reference) per line of a numbers file; UsageError naming the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the numbers file ({exc})") from None
    out: list[tuple[str, str]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        content = line.replace(",", " ").split()
        if not content:
            continue
        if len(content) > 2:
            raise UsageError(
                f"{path}:{lineno}: expected 'NUMBER [ORDER]', got {len(content)} fields; "
                "put one number and at most one order reference on a line"
            )
        number = content[0]
        out.append((number, content[1] if len(content) == 2 else number))
    if not out:
        raise UsageError(f"{path}: no tracking numbers in the file; write one number a line")
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carriersim watch",
        description="Watch parcels until they are delivered, printing each change.",
        epilog="exit codes: 0 all final, 1 interrupted, 2 usage",
    )
    parser.add_argument("numbers", nargs="*", metavar="NUMBER[=ORDER]")
    parser.add_argument("--file", type=Path, help="numbers file: 'NUMBER [ORDER]' a line")
    parser.add_argument("--carrier", choices=[c.value for c in Carrier])
    parser.add_argument("--base-url", metavar="URL", help="e.g. http://127.0.0.1:8080")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--db", default=":memory:", help="SQLite file to keep state in")
    parser.add_argument(
        "--every",
        type=float,
        metavar="SECONDS",
        help="poll every number this often (default: by status, 30 min to 6 h)",
    )
    parser.add_argument(
        "--stall-after",
        type=float,
        default=72.0,
        metavar="HOURS",
        help="report 'stalled' after this long without a scan (default 72; 0: never)",
    )
    parser.add_argument(
        "--published-limits",
        action="store_true",
        help="keep to the carriers' published default request rates (FedEx, USPS, DHL)",
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress line on stderr (default: when stderr is a terminal)",
    )
    return parser


def _line(change: Change, order: str) -> str:
    head = f"{change.observed_at:%Y-%m-%d %H:%M}  {change.number}  {order}  {change.kind.value}"
    if change.kind.value == "corrected" and change.previous:
        head += f" ({change.previous.value} → {change.status.value})"
    elif change.reason:
        head += f" ({change.reason.value})"
    if change.location:
        head += f"  {change.location}"
    return head


def _summary(store: Store) -> str:
    lines = []
    for p in store.parcels():
        status = p.state.status.value if p.state.status else "no answer yet"
        error = f"  last error: {p.last_error}" if p.last_error else ""
        lines.append(f"  {p.number}  {p.order.reference}  {status}{error}")
    counts = store.counts()
    head = f"{counts['final']} of {counts['watched']} final, {counts['polls']} polls"
    return "\n".join([head, *lines])


async def _watch(
    args: argparse.Namespace,
    items: Sequence[tuple[str, str]],
    *,
    transport: httpx.AsyncBaseTransport | None,
    env: Mapping[str, str],
    retry: RetryPolicy | None,
    clock: WatchClock | None,
    out: TextIO,
    err: TextIO,
) -> int:
    settings = _settings(args.base_url, env)
    store = Store(args.db)
    orders: dict[str, str] = {}
    async with AsyncTrackingClient(
        base_url=args.base_url,
        ups=settings.get("ups"),
        fedex=settings.get("fedex"),
        usps=settings.get("usps"),
        dhl=settings.get("dhl"),
        retry=retry,
        transport=transport,
        env=env,
    ) as tracker:
        watcher = Watcher(
            store,
            tracker,
            schedule=PollSchedule.every(args.every) if args.every else None,
            clock=clock,
            stall_after=timedelta(hours=args.stall_after) if args.stall_after > 0 else None,
            rate_limits=PUBLISHED_RATE_LIMITS if args.published_limits else None,
        )
        for number, order in items:
            try:
                parcel = watcher.watch(number, Order(reference=order), args.carrier)
            except TrackingError as exc:
                raise UsageError(f"{number}: {exc}") from None
            orders[parcel.number] = parcel.order.reference
        progress = args.progress if args.progress is not None else err.isatty()

        def show(change: Change) -> None:
            order = orders.get(change.number, "")
            if args.json:
                out.write(json.dumps({**change.to_dict(), "order": order}) + "\n")
            else:
                if progress:
                    err.write("\r\033[K")
                out.write(_line(change, order) + "\n")
            out.flush()

        def tick(report: Round) -> None:
            if not progress:
                return
            c = store.counts()
            errors = sum(report.errors.values())
            err.write(
                f"\r\033[Kwatching {c['watched']}: {c['final']} final, {c['polls']} polls"
                + (f", {errors} errors this round" if errors else "")
            )
            err.flush()

        watcher.listeners.append(show)
        # Changes recorded by an earlier run with the same --db are not printed again.
        try:
            await watcher.run(on_round=tick, max_idle=args.every or 60.0)
        except BaseException:  # Ctrl-C arrives as a cancellation of this task
            err.write("\ninterrupted; " + _summary(store) + "\n")
            raise
        finally:
            if progress:
                err.write("\r\033[K")
        err.write(_summary(store) + "\n")
    store.close()
    return 0


def main(
    argv: Sequence[str] | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    env: Mapping[str, str] | None = None,
    retry: RetryPolicy | None = None,
    clock: WatchClock | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Entry point (``carriersim watch``); returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["watch"]:
        argv = argv[1:]
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else 2
    try:
        items: list[tuple[str, str]] = []
        for arg in args.numbers:
            number, _, order = arg.partition("=")
            items.append((number, order or number))
        if args.file is not None:
            items += read_numbers(args.file)
        if not items:
            raise UsageError("no numbers: give NUMBER arguments or --file FILE")
        kw: dict[str, Any] = {"transport": transport, "retry": retry, "clock": clock}
        return anyio.run(
            lambda: _watch(args, items, env=os.environ if env is None else env, out=out,
                           err=err, **kw)
        )  # fmt: skip
    except (UsageError, StoreError) as exc:
        err.write(f"carriersim watch: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
