"""Persistent response cache on SQLite.

The key is the SHA-256 of the canonical JSON (sorted keys, no whitespace) of
everything that changes the answer: the engine identity (model, api_base,
model file, decoding options), messages, temperature, max_tokens, seed, the
response schema and extra sampling options. Never Python's salted `hash`, so
keys agree across processes and runs. Secrets are never part of a key or an
entry.

SQLite in WAL mode lets many processes read while one writes; each thread
(and each forked process) opens its own connection. A cache failure (disk
full, locked too long) is logged and the call goes on uncached.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from textgrad_lab.llm.middleware import Handler
from textgrad_lab.llm.redact import is_secret_option
from textgrad_lab.llm.structured import schema_of
from textgrad_lab.llm.types import Completion, Request, Usage
from textgrad_lab.scrub import get_logger, scrub_text

log = get_logger(__name__)

CACHE_DIR_ENV = "TEXTGRAD_LAB_CACHE_DIR"
_KEY_VERSION = 1


def default_cache_dir() -> Path:
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "textgrad_lab"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def cache_key(identity: dict[str, Any], req: Request) -> str:
    """SHA-256 hex digest of everything in `req` and `identity` that changes the answer."""
    payload = {
        "v": _KEY_VERSION,
        "engine": {k: v for k, v in identity.items() if not is_secret_option(k)},
        "messages": req.messages,
        "temperature": float(req.temperature),
        "max_tokens": req.max_tokens,
        "seed": req.seed,
        "schema": schema_of(req.response_model) if req.response_model else None,
        "extra": {k: v for k, v in req.extra.items() if not is_secret_option(k)},
    }
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


class ResponseCache:
    """A key -> JSON store in one SQLite file, safe across threads and processes."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory).expanduser() if directory else default_cache_dir()
        self.path = self.directory / "llm_cache.sqlite3"
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.directory)!r})"

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        self.directory.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        # WAL: readers never block the writer; NORMAL sync is durable across
        # process crashes (only a power cut may lose the last entries).
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS responses "
            "(key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL)"
        )
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            row = (
                self._conn().execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
            )
        except (sqlite3.Error, OSError) as e:
            log.warning("LLM cache read failed (%s); going on uncached", e)
            return None
        return json.loads(row[0]) if row else None

    def set(self, key: str, value: dict[str, Any]) -> None:
        try:
            self._conn().execute(
                "INSERT OR REPLACE INTO responses (key, value, created) VALUES (?, ?, ?)",
                (key, scrub_text(json.dumps(value)), time.time()),
            )
        except (sqlite3.Error, OSError) as e:
            log.warning("LLM cache write failed (%s); reply not cached", e)

    def __len__(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def clear(self) -> None:
        self._conn().execute("DELETE FROM responses")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _entry(c: Completion) -> dict[str, Any]:
    return {
        "text": c.text,
        "parsed": c.parsed.model_dump(mode="json") if c.parsed is not None else None,
        "model": c.model,
        "finish_reason": c.finish_reason,
        "original_usage": c.usage.model_dump(),
    }


def _restore(entry: dict[str, Any], req: Request) -> Completion | None:
    parsed = None
    if req.response_model is not None:
        try:
            parsed = req.response_model.model_validate(entry.get("parsed"))
        except Exception:  # the model class changed since: treat as a miss
            return None
    return Completion(
        text=entry.get("text", ""),
        parsed=parsed,
        model=entry.get("model", ""),
        finish_reason=entry.get("finish_reason"),
        usage=Usage(),  # nothing was spent on this call
        cached=True,
        attempts=0,
    )


class CacheMiddleware:
    """Serves repeated requests from a `ResponseCache`; stores only ok replies.

    Identical requests that arrive while the first is still in flight wait for its reply
    instead of calling the model again (a minibatch often repeats a prompt), and are
    answered as cache hits; if that first call fails, each waiter makes its own.
    """

    def __init__(
        self, store: ResponseCache, identity: dict[str, Any], enabled: bool = True
    ) -> None:
        self.store = store
        self.identity = identity
        self.enabled = enabled
        # Futures belong to one event loop; a sync wrapper may run each call in a new one.
        self._inflight: dict[tuple[int, str], asyncio.Future[Completion]] = {}

    async def __call__(self, req: Request, call_next: Handler) -> Completion:
        if not (self.enabled if req.cache is None else req.cache):
            return await call_next(req)
        key = cache_key(self.identity, req)
        entry = self.store.get(key)
        if entry is not None:
            hit = _restore(entry, req)
            if hit is not None:
                return hit
        slot = (id(asyncio.get_running_loop()), key)
        leader = self._inflight.get(slot)
        if leader is not None:
            try:
                first: Completion | None = await asyncio.shield(leader)
            except asyncio.CancelledError:
                if not leader.cancelled():
                    raise  # this waiter itself was cancelled
                first = None
            except Exception:
                first = None
            if first is not None and first.ok:
                shared = _restore(_entry(first), req)
                if shared is not None:
                    return shared
            return await call_next(req)
        future: asyncio.Future[Completion] = asyncio.get_running_loop().create_future()
        self._inflight[slot] = future
        try:
            c = await call_next(req)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # waiters may be none: do not warn about a lost error
            raise
        except BaseException:
            future.cancel()
            raise
        else:
            future.set_result(c)
        finally:
            del self._inflight[slot]
        if c.ok:
            self.store.set(key, _entry(c))
        return c
