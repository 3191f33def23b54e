"""The portal's own records, in one SQLite file inside the data home.

home/portal/portal.sqlite3
  tokens    access tokens, stored only as SHA-256 hashes (a token is 256 random
            bits, so a fast hash is enough: nothing to brute-force), revocable
  sessions  signed-in browsers, also stored only as hashes
  uploads   every file handed in through the portal: version, outcome, messages

Tokens and session ids are shown exactly once (to the office that issues a
token, or in the browser's cookie) and never written anywhere in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.home import Home

TOKEN_PREFIX = "nb_"
SESSION_HOURS = 8
SQLITE_INT_MAX = 2**63 - 1  # a larger Python int makes sqlite3 raise OverflowError

SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('unit', 'office')),
    unit TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    revoked_at TEXT NOT NULL DEFAULT '',
    last_used_at TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS sessions (
    hash TEXT PRIMARY KEY,
    token_id INTEGER NOT NULL REFERENCES tokens(id),
    csrf TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS uploads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    unit TEXT NOT NULL,
    year INTEGER NOT NULL,
    version INTEGER NOT NULL,
    original_name TEXT NOT NULL,
    stored_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    errors INTEGER NOT NULL DEFAULT 0,
    warnings INTEGER NOT NULL DEFAULT 0,
    in_inbox INTEGER NOT NULL DEFAULT 0,
    messages TEXT NOT NULL DEFAULT '[]',
    cells TEXT NOT NULL DEFAULT '[]',
    UNIQUE (unit, year, version)
);
CREATE INDEX IF NOT EXISTS uploads_year ON uploads (year, unit);
"""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def now_utc() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Token:
    id: int
    role: str
    unit: str
    note: str
    created_at: str
    revoked_at: str
    last_used_at: str


@dataclass(frozen=True)
class Session:
    token_id: int
    role: str
    unit: str
    csrf: str


@dataclass(frozen=True)
class Upload:
    id: int
    unit: str
    year: int
    version: int
    original_name: str
    stored_name: str
    sha256: str
    size: int
    received_at: str
    outcome: str  # "accepted" or "rejected"
    errors: int
    warnings: int
    in_inbox: bool  # accepted: landed in the inbox (false only while landing, or after a stop)
    messages: list[dict]
    cells: list[dict]

    @property
    def received(self) -> datetime:
        return datetime.fromisoformat(self.received_at)


class Store:
    def __init__(self, home: Home):
        self.home = home
        self.path = store_path(home)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # durable across crashes of the process in WAL mode
            db.execute("PRAGMA busy_timeout=30000")
            yield db
        finally:
            db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # --- tokens -------------------------------------------------------------
    def issue_token(self, role: str, unit: str = "", note: str = "") -> tuple[Token, str]:
        """A new token; the clear text is returned once and never stored."""
        if role not in ("unit", "office"):
            raise ValueError(role)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO tokens (hash, role, unit, note, created_at) VALUES (?, ?, ?, ?, ?)",
                (digest(secret), role, unit, note, iso(now_utc())),
            )
            token_id = cursor.lastrowid
        return self.token(token_id), secret

    def token(self, token_id: int) -> Token:
        with self._connect() as db:
            row = db.execute("SELECT * FROM tokens WHERE id = ?", (token_id,)).fetchone()
        if row is None:
            raise KeyError(token_id)
        return _token(row)

    def tokens(self) -> list[Token]:
        with self._connect() as db:
            return [_token(r) for r in db.execute("SELECT * FROM tokens ORDER BY id")]

    def revoke(self, *, token_id: int | None = None, unit: str | None = None) -> int:
        """Revoke one token or every token of a unit; their sessions end at once."""
        with self.transaction() as db:
            if token_id is not None:
                ids = [
                    r[0]
                    for r in db.execute("SELECT id FROM tokens WHERE id = ? AND revoked_at = ''", (token_id,))
                ]
            else:
                ids = [
                    r[0]
                    for r in db.execute(
                        "SELECT id FROM tokens WHERE role = 'unit' AND unit = ? AND revoked_at = ''", (unit,)
                    )
                ]
            for i in ids:
                db.execute("UPDATE tokens SET revoked_at = ? WHERE id = ?", (iso(now_utc()), i))
                db.execute("DELETE FROM sessions WHERE token_id = ?", (i,))
        return len(ids)

    def authenticate(self, secret: str) -> Token | None:
        """The live token matching `secret`, or None."""
        if not secret or len(secret) > 200:
            return None
        wanted = digest(secret.strip())
        with self._connect() as db:
            row = db.execute("SELECT * FROM tokens WHERE hash = ? AND revoked_at = ''", (wanted,)).fetchone()
            if row is None or not hmac.compare_digest(row["hash"], wanted):
                return None
            db.execute("UPDATE tokens SET last_used_at = ? WHERE id = ?", (iso(now_utc()), row["id"]))
        return _token(row)

    # --- sessions -----------------------------------------------------------
    def open_session(self, token: Token) -> str:
        session_id = secrets.token_urlsafe(32)
        expires = now_utc() + timedelta(hours=SESSION_HOURS)
        with self.transaction() as db:
            db.execute("DELETE FROM sessions WHERE expires_at < ?", (iso(now_utc()),))
            db.execute(
                "INSERT INTO sessions (hash, token_id, csrf, expires_at) VALUES (?, ?, ?, ?)",
                (digest(session_id), token.id, secrets.token_urlsafe(32), iso(expires)),
            )
        return session_id

    def session(self, session_id: str | None) -> Session | None:
        if not session_id or len(session_id) > 200:
            return None
        with self._connect() as db:
            row = db.execute(
                "SELECT s.csrf, s.expires_at, t.id, t.role, t.unit FROM sessions s "
                "JOIN tokens t ON t.id = s.token_id WHERE s.hash = ? AND t.revoked_at = ''",
                (digest(session_id),),
            ).fetchone()
        if row is None or row["expires_at"] < iso(now_utc()):
            return None
        return Session(row["id"], row["role"], row["unit"], row["csrf"])

    def close_session(self, session_id: str | None) -> None:
        if session_id:
            with self.transaction() as db:
                db.execute("DELETE FROM sessions WHERE hash = ?", (digest(session_id),))

    # --- uploads ------------------------------------------------------------
    def next_version(self, unit: str, year: int) -> int:
        with self._connect() as db:
            row = db.execute(
                "SELECT COALESCE(MAX(version), 0) FROM uploads WHERE unit = ? AND year = ?", (unit, year)
            ).fetchone()
        return int(row[0]) + 1

    def add_upload(self, upload: Upload) -> Upload:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO uploads (unit, year, version, original_name, stored_name, sha256, size, "
                "received_at, outcome, errors, warnings, in_inbox, messages, cells) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    upload.unit, upload.year, upload.version, upload.original_name, upload.stored_name,
                    upload.sha256, upload.size, upload.received_at, upload.outcome, upload.errors,
                    upload.warnings, int(upload.in_inbox),
                    json.dumps(upload.messages, ensure_ascii=False), json.dumps(upload.cells, ensure_ascii=False),
                ),
            )  # fmt: skip
            upload_id = cursor.lastrowid
        return self.upload_by_id(upload_id)

    def mark_landed(self, upload_id: int) -> Upload:
        """The version's file is in the inbox (or no longer needs to be: a newer one is)."""
        with self.transaction() as db:
            db.execute("UPDATE uploads SET in_inbox = 1 WHERE id = ?", (upload_id,))
        return self.upload_by_id(upload_id)

    def upload_by_id(self, upload_id: int) -> Upload:
        with self._connect() as db:
            row = db.execute("SELECT * FROM uploads WHERE id = ?", (upload_id,)).fetchone()
        return _upload(row)

    def upload(self, unit: str, year: int, version: int) -> Upload | None:
        """One version of one unit's upload; the unit is part of the key, always."""
        if not _storable(year, version):
            return None
        with self._connect() as db:
            row = db.execute(
                "SELECT * FROM uploads WHERE unit = ? AND year = ? AND version = ?", (unit, year, version)
            ).fetchone()
        return _upload(row) if row else None

    def uploads(
        self, *, year: int | None = None, unit: str | None = None, light: bool = False
    ) -> list[Upload]:
        """Uploads, oldest first. `light` leaves out messages and cells."""
        columns = (
            "id, unit, year, version, original_name, stored_name, sha256, size, received_at, outcome, "
            "errors, warnings, in_inbox, '[]' AS messages, '[]' AS cells"
            if light
            else "*"
        )
        if year is not None and not _storable(year):
            return []
        where, args = [], []
        if year is not None:
            where.append("year = ?")
            args.append(year)
        if unit is not None:
            where.append("unit = ?")
            args.append(unit)
        sql = f"SELECT {columns} FROM uploads" + (f" WHERE {' AND '.join(where)}" if where else "")
        with self._connect() as db:
            return [_upload(r) for r in db.execute(sql + " ORDER BY unit, year, version", args)]

    def years(self) -> set[int]:
        with self._connect() as db:
            return {int(r[0]) for r in db.execute("SELECT DISTINCT year FROM uploads")}


def _storable(*numbers: int) -> bool:
    return all(-SQLITE_INT_MAX - 1 <= n <= SQLITE_INT_MAX for n in numbers)


def _token(row: sqlite3.Row) -> Token:
    return Token(
        row["id"],
        row["role"],
        row["unit"],
        row["note"],
        row["created_at"],
        row["revoked_at"],
        row["last_used_at"],
    )


def _upload(row: sqlite3.Row) -> Upload:
    return Upload(
        id=row["id"],
        unit=row["unit"],
        year=int(row["year"]),
        version=int(row["version"]),
        original_name=row["original_name"],
        stored_name=row["stored_name"],
        sha256=row["sha256"],
        size=int(row["size"]),
        received_at=row["received_at"],
        outcome=row["outcome"],
        errors=int(row["errors"]),
        warnings=int(row["warnings"]),
        in_inbox=bool(row["in_inbox"]),
        messages=json.loads(row["messages"]),
        cells=json.loads(row["cells"]),
    )


def store_path(home: Home) -> Path:
    return home.root / "portal" / "portal.sqlite3"
