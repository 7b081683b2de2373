"""In-process caches of hot rows: what the inbox, the delivery worker, pages and the API read on
every request (domain policy, remote keys, members, tokens, communities, actors).

A ``WriteWatch`` per database (listening on every SQLAlchemy engine of the process, so on the
async engine and the units of work's connection threads alike) tells its caches when a statement
of this process wrote one of their tables: at once (so the writing transaction re-reads its own change)
and again when that transaction commits or rolls back (so a value another connection loaded in
between, from before the commit, is not kept). Other processes are told: a commit that wrote a
watched table calls the watch's ``on_commit`` listeners with the tables' names, which on
PostgreSQL send them over the event bus (``server/stream_bus.py``), and a process hearing of
them calls ``tables_written`` so its caches of those tables forget at once. What no bus carries
(``koers federation block`` from the command line, several processes on one SQLite file) is
seen within each cache's ``ttl``.

- ``CachedValue``: one value (the domain policy), reloaded after a write or ``ttl`` seconds.
- ``CachedMap``: an LRU of values by key (remote keys by key id), emptied after a write.
"""

from __future__ import annotations

import abc
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Engine

V = TypeVar("V")
C = TypeVar("C", bound="_Invalidated")
_DIRTY = "koers_cache_tables"
_WRITTEN = "koers_cache_written"


SETTLE_SECONDS = 0.25  # after a commit, values loaded meanwhile are not kept (see _ended)


class _Invalidated(abc.ABC):
    """Something a ``WriteWatch`` can tell that its tables were written."""

    generation = 0
    settling_until = 0.0

    @abc.abstractmethod
    def invalidate(self) -> None:
        """Forget what is cached (its tables were written)."""

    def settle(self, seconds: float) -> None:
        """Keep nothing loaded in the next ``seconds``: SQLAlchemy tells of a commit just before
        the database makes it, so a read in between may still return the old row."""
        self.settling_until = time.monotonic() + seconds

    def settled(self) -> bool:
        return time.monotonic() >= self.settling_until


class WriteWatch:
    """Watches the DML statements run on one database and invalidates the caches of their tables."""

    def __init__(self) -> None:
        # per table: (cache, statement kinds, columns an UPDATE may set without invalidating it)
        self._by_table: dict[str, list[tuple[_Invalidated, frozenset[str], frozenset[str]]]] = {}
        self._caches: dict[str, Any] = {}  # each a CachedValue or CachedMap
        self.on_commit: list[Callable[[frozenset[str]], None]] = []

    def watch(
        self,
        cache: _Invalidated,
        tables: Iterable[str],
        kinds: Iterable[str],
        unseen: Iterable[str] = (),
    ) -> None:
        """Invalidate ``cache`` when a statement of ``kinds`` (insert/update/delete) writes ``tables``;
        an UPDATE whose ``.values()`` name only ``unseen`` columns (counters the cache does not
        hold) leaves it alone."""
        entry = (cache, frozenset(kinds), frozenset(unseen))
        for name in tables:
            self._by_table.setdefault(name, []).append(entry)

    def cache(
        self,
        name: str,
        make: Callable[[], C],
        tables: Iterable[str],
        kinds: Iterable[str],
        unseen: Iterable[str] = (),
        more: Iterable[tuple[Iterable[str], Iterable[str]]] = (),
    ) -> C:
        """The cache called ``name`` of this database, made by ``make()`` and watched the first time
        (on ``tables`` for ``kinds``, and on each of ``more``'s (tables, kinds))."""
        found = self._caches.get(name)
        if found is None:
            found = self._caches[name] = make()
            self.watch(found, tables, kinds, unseen)
            for other_tables, other_kinds in more:
                self.watch(found, other_tables, other_kinds, unseen)
        return found

    def executed(self, conn: Any, clause: Any) -> None:
        """A statement ran on ``conn``: invalidate the caches of the table it wrote, if any."""
        if not getattr(clause, "is_dml", False):
            return
        table = getattr(getattr(clause, "table", None), "name", None)
        watchers = self._by_table.get(table) if table else None
        if not watchers:
            return
        kind = "insert" if clause.is_insert else "update" if clause.is_update else "delete"
        hit = [
            cache
            for cache, kinds, unseen in watchers
            if kind in kinds and not (unseen and kind == "update" and _only(clause, unseen))
        ]
        if not hit:
            return
        for cache in hit:
            cache.invalidate()
        conn.info.setdefault(_DIRTY, set()).update(hit)
        conn.info.setdefault(_WRITTEN, set()).add(table)

    def committed(self, tables: frozenset[str]) -> None:
        """A transaction of this process that wrote watched ``tables`` committed: tell the listeners."""
        for listener in list(self.on_commit):
            listener(tables)

    def tables_written(self, tables: Iterable[str]) -> None:
        """Another process committed writes to ``tables``: every cache watching them forgets."""
        for name in tables:
            for cache, _kinds, _unseen in self._by_table.get(name, ()):
                cache.invalidate()


def _only(clause: Any, columns: frozenset[str]) -> bool:
    """Whether an UPDATE sets nothing but ``columns`` by its ``.values()`` (one without values,
    set from the execution's parameters, may set anything)."""
    values = getattr(clause, "_values", None)
    if not values:
        return False
    return all(getattr(key, "name", key) in columns for key in values)


def _database_key(url: URL) -> tuple[Any, ...]:
    # The same database under any driver (aiosqlite, pysqlite, asyncpg): the storage layer may
    # open several engines on it (an async one, connection threads for units of work).
    return (url.get_backend_name(), url.host, url.port, url.database)


# One watch per database, fed by listeners on every Engine (whoever made it).
_WATCHES: dict[tuple[Any, ...], WriteWatch] = {}
_KEYS: weakref.WeakKeyDictionary[Engine, tuple[Any, ...]] = weakref.WeakKeyDictionary()


_PRIVATE: weakref.WeakKeyDictionary[Engine, WriteWatch] = weakref.WeakKeyDictionary()


def _watch_for(engine: Engine, create: bool) -> WriteWatch | None:
    if engine.url.database in (None, "", ":memory:"):  # a database only this engine sees
        private = _PRIVATE.get(engine)
        if private is None and create:
            private = _PRIVATE[engine] = WriteWatch()
        return private
    key = _KEYS.get(engine)
    if key is None:
        key = _KEYS[engine] = _database_key(engine.url)
    found = _WATCHES.get(key)
    if found is None and create:
        found = _WATCHES[key] = WriteWatch()
    return found


def _executed(conn: Any, clause: Any, *_args: Any) -> None:
    watch = _watch_for(conn.engine, create=False)
    if watch is not None:
        watch.executed(conn, clause)


def _committed(conn: Any) -> None:
    written = _ended(conn)
    if written:
        watch = _watch_for(conn.engine, create=False)
        if watch is not None:
            watch.committed(frozenset(written))


def _rolled_back(conn: Any) -> None:
    _ended(conn)


def _ended(conn: Any) -> set[str]:
    """Invalidate what the ending transaction dirtied; the tables it wrote."""
    written: set[str] = set()
    try:
        dirty = conn.info.pop(_DIRTY, ())
        written = conn.info.pop(_WRITTEN, set())
    except sa_exc.SQLAlchemyError:
        # Invalidated mid-transaction (a cancelled or broken unit): what it wrote is no longer
        # known, so every watched cache forgets. A listener that raised here would replace the
        # error being unwound, a cancellation included.
        dirty = {
            cache
            for watch in [*_WATCHES.values(), *_PRIVATE.values()]
            for watchers in watch._by_table.values()
            for cache, _kinds, _unseen in watchers
        }
    for cache in dirty:
        cache.invalidate()
        settle = getattr(cache, "settle", None)  # any object with ``invalidate`` may be watched
        if settle is not None:
            settle(SETTLE_SECONDS)
    return written


_listening: list[bool] = []  # set once the listeners are in (asking SQLAlchemy costs ~0.1 ms)


def watch_of(engine: Engine) -> WriteWatch:
    """The ``WriteWatch`` of ``engine``'s database (give the sync engine of an ``AsyncEngine``)."""
    if not _listening:
        if not event.contains(Engine, "after_execute", _executed):
            event.listen(Engine, "after_execute", _executed)
            event.listen(Engine, "commit", _committed)
            event.listen(Engine, "rollback", _rolled_back)
        _listening.append(True)
    found = _watch_for(engine, create=True)
    assert found is not None
    return found


class CachedValue(_Invalidated, Generic[V]):
    """One value loaded by ``load()``; reloaded after a watched write or ``ttl`` seconds."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._value: V | None = None
        self._loaded_at = 0.0

    def invalidate(self) -> None:
        self.generation += 1
        self._value = None

    def peek(self) -> V | None:
        """The cached value if there is a fresh one (nothing loaded)."""
        if self._value is not None and time.monotonic() - self._loaded_at < self.ttl:
            return self._value
        return None

    async def get(self, load: Callable[[], Awaitable[V]]) -> V:
        """The cached value, or a fresh one from ``load()``."""
        if self._value is not None and time.monotonic() - self._loaded_at < self.ttl:
            return self._value
        generation = self.generation
        value = await load()
        if generation == self.generation and self.settled():  # no write while loading
            self._value, self._loaded_at = value, time.monotonic()
        return value


class CachedMap(_Invalidated, Generic[V]):
    """Values by key, at most ``maxsize`` (least recently used dropped), each kept ``ttl`` seconds.
    Safe to use from the units of work's connection threads and the event loop at once."""

    def __init__(self, ttl: float, maxsize: int = 4096) -> None:
        self.ttl = ttl
        self.maxsize = maxsize
        self._items: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        with self._lock:
            self.generation += 1
            self._items.clear()

    def get(self, key: Hashable) -> V | None:
        """The value of ``key`` if cached and fresh."""
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            if time.monotonic() - hit[0] >= self.ttl:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return hit[1]

    def get_many(self, keys: Iterable[Hashable]) -> dict[Hashable, V]:
        """The values of those ``keys`` cached and fresh, as ``get`` gives them (one lock and
        one clock reading for all: a page of statuses asks for dozens)."""
        now = time.monotonic()
        found: dict[Hashable, V] = {}
        with self._lock:
            items = self._items
            for key in keys:
                hit = items.get(key)
                if hit is None:
                    continue
                if now - hit[0] >= self.ttl:
                    del items[key]
                    continue
                items.move_to_end(key)
                found[key] = hit[1]
        return found

    def put(self, key: Hashable, value: V, generation: int) -> None:
        """Remember ``value`` unless a watched write happened since ``generation`` was read."""
        with self._lock:
            if generation != self.generation or not self.settled():
                return
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def forget(self, key: Hashable) -> None:
        """Drop ``key``."""
        with self._lock:
            self._items.pop(key, None)
