"""Durable watcher state in SQLite (standard library): parcels, change events, an outbox.

One transaction carries a parcel's new state, the change events it produced and the
notifications they call for, so after a crash either all of it is there or none of it (and
the next poll derives the same events again, since the carrier still has the scans). A
notification is marked sent in its own transaction after the sender accepted it: a crash in
between sends it again on restart, with the same message id / event id, so the receiver can
tell. That window is the only way a notification goes out twice.

The database runs in WAL mode with ``synchronous=NORMAL``: a process crash loses nothing
committed; a power cut may lose the last transactions, which is the same as a crash just
before them.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from client.model import Carrier
from client.watch.changes import Change, ParcelState

__all__ = ["Order", "OutboxItem", "Parcel", "Store", "StoreError"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS parcels (
    number TEXT PRIMARY KEY,
    carrier TEXT NOT NULL,
    order_json TEXT NOT NULL,
    state_json TEXT NOT NULL,
    next_poll REAL NOT NULL,
    errors INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    polls INTEGER NOT NULL DEFAULT 0,
    added_at REAL NOT NULL,
    final INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS parcels_due ON parcels (final, next_poll);
CREATE TABLE IF NOT EXISTS changes (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL,
    seq INTEGER NOT NULL,
    change_json TEXT NOT NULL,
    UNIQUE (number, seq)
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    content_json TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL,
    last_error TEXT,
    sent_at REAL,
    UNIQUE (change_id, channel, recipient)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt);
"""


class StoreError(Exception):
    """The database file cannot be used (not a watcher database, locked, corrupt)."""


@dataclass(frozen=True, slots=True)
class Order:
    """The order a tracking number belongs to, and whom to tell about it."""

    reference: str
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    """Anything else the templates may use (items, shop name, language…)."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "reference": self.reference,
            "email": self.email,
            "phone": self.phone,
            "name": self.name,
            "data": dict(self.data),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Order:
        """The order :meth:`to_dict` wrote."""
        return cls(
            reference=data["reference"],
            email=data.get("email"),
            phone=data.get("phone"),
            name=data.get("name"),
            data=data.get("data") or {},
        )


@dataclass(frozen=True, slots=True)
class Parcel:
    """A watched tracking number with its order, state and poll schedule."""

    number: str
    carrier: Carrier
    order: Order
    state: ParcelState = field(default_factory=ParcelState)
    next_poll: float = 0.0
    """When to poll next (seconds since the epoch on the watcher's clock)."""
    errors: int = 0
    """Failed polls in a row."""
    last_error: str | None = None
    polls: int = 0
    added_at: float = 0.0


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One notification to send: a rendered message for one recipient on one channel."""

    change_id: str
    channel: str
    recipient: str
    content: Mapping[str, Any]
    """What the sender needs (subject and body, SMS text, webhook payload)."""
    id: int = 0
    status: str = "pending"
    """pending, sent, or failed (gave up: see ``last_error``)."""
    attempts: int = 0
    next_attempt: float = 0.0
    last_error: str | None = None
    sent_at: float | None = None


class Store:
    """The watcher's SQLite database (a file, or ``":memory:"``)."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path}: cannot be used as a watcher database ({exc}); "
                "pass a new file name, or remove the file if it is not needed"
            ) from None

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: everything inside is committed together or not at all."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- parcels ------------------------------------------------------------------------------

    def add(self, parcel: Parcel) -> bool:
        """Start watching; False (and nothing changed) if the number is already watched."""
        with self.transaction() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO parcels (number, carrier, order_json, state_json,"
                " next_poll, added_at, final) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    parcel.number,
                    parcel.carrier.value,
                    json.dumps(parcel.order.to_dict()),
                    json.dumps(parcel.state.to_dict()),
                    parcel.next_poll,
                    parcel.added_at,
                    int(parcel.state.final),
                ),
            )
            return cur.rowcount == 1

    def remove(self, number: str) -> bool:
        """Stop watching a number (its events and notifications stay)."""
        with self.transaction() as db:
            return db.execute("DELETE FROM parcels WHERE number = ?", (number,)).rowcount == 1

    _COLUMNS = (
        "number, carrier, order_json, state_json, next_poll, errors, last_error, polls, added_at"
    )

    @staticmethod
    def _parcel(row: Sequence[Any]) -> Parcel:
        return Parcel(
            number=row[0],
            carrier=Carrier(row[1]),
            order=Order.from_dict(json.loads(row[2])),
            state=ParcelState.from_dict(json.loads(row[3])),
            next_poll=row[4],
            errors=row[5],
            last_error=row[6],
            polls=row[7],
            added_at=row[8],
        )

    def get(self, number: str) -> Parcel | None:
        """The watched parcel with this number, if any."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {self._COLUMNS} FROM parcels WHERE number = ?", (number,)
            ).fetchone()
        return None if row is None else self._parcel(row)

    def parcels(self) -> list[Parcel]:
        """Every watched parcel, in the order they were added."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {self._COLUMNS} FROM parcels ORDER BY added_at, rowid"
            ).fetchall()
        return [self._parcel(r) for r in rows]

    def due(self, now: float, limit: int | None = None) -> list[Parcel]:
        """Parcels not final whose next poll is due, most overdue first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {self._COLUMNS} FROM parcels WHERE final = 0 AND next_poll <= ?"
                " ORDER BY next_poll LIMIT ?",
                (now, -1 if limit is None else limit),
            ).fetchall()
        return [self._parcel(r) for r in rows]

    def next_due(self) -> float | None:
        """When the next parcel is due (None when every parcel is final)."""
        with self._lock:
            row = self._db.execute("SELECT MIN(next_poll) FROM parcels WHERE final = 0").fetchone()
        return None if row[0] is None else float(row[0])

    def counts(self) -> dict[str, int]:
        """How many parcels are watched, final, and failing."""
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(final), 0), COALESCE(SUM(errors > 0), 0),"
                " COALESCE(SUM(polls), 0) FROM parcels"
            ).fetchone()
        return {"watched": row[0], "final": row[1], "failing": row[2], "polls": row[3]}

    def save(
        self,
        db: sqlite3.Connection,
        parcel: Parcel,
        changes: Iterable[Change] = (),
        outbox: Iterable[OutboxItem] = (),
    ) -> None:
        """Write a parcel's new state, its new change events and their notifications (inside
        :meth:`transaction`)."""
        db.execute(
            "UPDATE parcels SET state_json = ?, next_poll = ?, errors = ?, last_error = ?,"
            " polls = ?, final = ? WHERE number = ?",
            (
                json.dumps(parcel.state.to_dict()),
                parcel.next_poll,
                parcel.errors,
                parcel.last_error,
                parcel.polls,
                int(parcel.state.final),
                parcel.number,
            ),
        )
        db.executemany(
            "INSERT INTO changes (id, number, seq, change_json) VALUES (?, ?, ?, ?)",
            [(c.id, c.number, c.seq, json.dumps(c.to_dict())) for c in changes],
        )
        db.executemany(
            "INSERT OR IGNORE INTO outbox (change_id, channel, recipient, content_json,"
            " next_attempt) VALUES (?, ?, ?, ?, ?)",
            [
                (o.change_id, o.channel, o.recipient, json.dumps(o.content), o.next_attempt)
                for o in outbox
            ],
        )

    # -- change events ------------------------------------------------------------------------

    def changes(self, number: str | None = None) -> list[Change]:
        """Recorded change events (of one number, or all), in the order they were recorded."""
        with self._lock:
            if number is None:
                rows = self._db.execute("SELECT change_json FROM changes ORDER BY rowid")
            else:
                rows = self._db.execute(
                    "SELECT change_json FROM changes WHERE number = ? ORDER BY seq", (number,)
                )
            return [Change.from_dict(json.loads(r[0])) for r in rows.fetchall()]

    # -- outbox -------------------------------------------------------------------------------

    _OUTBOX = (
        "id, change_id, channel, recipient, content_json, status, attempts, next_attempt,"
        " last_error, sent_at"
    )

    @staticmethod
    def _item(row: Sequence[Any]) -> OutboxItem:
        return OutboxItem(
            id=row[0],
            change_id=row[1],
            channel=row[2],
            recipient=row[3],
            content=json.loads(row[4]),
            status=row[5],
            attempts=row[6],
            next_attempt=row[7],
            last_error=row[8],
            sent_at=row[9],
        )

    def outbox(self, status: str | None = None) -> list[OutboxItem]:
        """Notifications (with a given status, or all), oldest first."""
        with self._lock:
            if status is None:
                rows = self._db.execute(f"SELECT {self._OUTBOX} FROM outbox ORDER BY id")
            else:
                rows = self._db.execute(
                    f"SELECT {self._OUTBOX} FROM outbox WHERE status = ? ORDER BY id", (status,)
                )
            return [self._item(r) for r in rows.fetchall()]

    def pending(self, now: float | None, limit: int = 100) -> list[OutboxItem]:
        """Notifications waiting to be sent (only those due at ``now``, unless None), oldest
        first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {self._OUTBOX} FROM outbox WHERE status = 'pending' AND next_attempt <= ?"
                " ORDER BY id LIMIT ?",
                (math.inf if now is None else now, limit),
            ).fetchall()
        return [self._item(r) for r in rows]

    def next_pending(self) -> float | None:
        """When the next pending notification is due (None when none is pending)."""
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(next_attempt) FROM outbox WHERE status = 'pending'"
            ).fetchone()
        return None if row[0] is None else float(row[0])

    def settle(self, item: OutboxItem) -> None:
        """Record a send attempt's outcome (``item`` with its new status and counters)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE outbox SET status = ?, attempts = ?, next_attempt = ?, last_error = ?,"
                " sent_at = ? WHERE id = ?",
                (
                    item.status,
                    item.attempts,
                    item.next_attempt,
                    item.last_error,
                    item.sent_at,
                    item.id,
                ),
            )
