"""The full-text index of posts: ``post_search``, kept by triggers on ``posts``, one per backend.

- SQLite: an FTS5 table (``unicode61``, diacritics removed), its ``rowid`` the post's id.
- PostgreSQL: a table of ``tsvector`` documents (the ``simple`` configuration, no stemming, so
  Dutch and English words are found alike) with a GIN index, one row per post.

What is indexed, for every post that is not deleted and not a boost: its title, its content
warning and the text of its HTML (tags removed — block tags become spaces — entities decoded).
Words are found without their accents (``ideeen`` finds "ideeën", ``cafe`` "café"), every query
word as a prefix (``idee`` finds "ideeën"), all of them in the same post.

The index is outside ``schema.metadata``: the migration that made it owns its tables, functions
and triggers (``NAMES`` lets the migrations' comparison leave them alone). The SQLite triggers call
``koers_search_text``, which every connection Koers opens registers (``register``); a connection
that lacks it (the ``sqlite3`` shell) can read the database but not write posts.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

import sqlalchemy as sa

# The index's own tables: ``post_search`` and, on SQLite, its FTS5 shadow tables.
NAMES = re.compile(r"^post_search(_(data|idx|content|docsize|config))?$")
SQLITE_FUNCTION = "koers_search_text"
MAX_WORDS = 12
# What is indexed of a post: its first characters (a PostgreSQL tsvector holds at most 1 MB).
MAX_CHARS = 100_000

# The same two steps as the PostgreSQL function ``koers_search_document`` (see the migration).
_BLOCK_TAG = re.compile(
    r"</?(p|br|div|li|ul|ol|h[1-6]|blockquote|pre|tr|td|th)([\s/][^>]*)?>", re.IGNORECASE
)
_ANY_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"[^\W_]+")


def is_index_table(name: str | None) -> bool:
    """Whether ``name`` is one of the index's tables (kept out of ``schema.metadata``)."""
    return bool(name and NAMES.match(name))


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's ``include_object`` hook: compare everything but the search index's tables."""
    if type_ == "table" and is_index_table(name):
        return False
    table = getattr(obj, "table", None)
    return not (type_ in ("index", "column") and is_index_table(getattr(table, "name", None)))


def search_text(title: str | None, spoiler_text: str | None, content_html: str | None) -> str:
    """The indexed text of a post: title, content warning and the text of its HTML."""
    body = _ANY_TAG.sub("", _BLOCK_TAG.sub(" ", content_html or ""))
    text = " ".join(part for part in (title or "", spoiler_text or "", html.unescape(body)) if part)
    return text[:MAX_CHARS]


def register(dbapi_conn: Any) -> None:
    """Give a new SQLite connection the function the index's triggers call."""
    dbapi_conn.create_function(SQLITE_FUNCTION, 3, search_text, deterministic=True)


def query_words(query: str) -> list[str]:
    """The words of a search, lower case, without accents (at most ``MAX_WORDS``)."""
    folded = "".join(
        ch for ch in unicodedata.normalize("NFKD", query.lower()) if not unicodedata.combining(ch)
    )
    return _WORD.findall(folded)[:MAX_WORDS]


def matching_posts(dialect: str, words: list[str]) -> sa.Select:
    """The ids of the posts whose indexed text has every word (each as a prefix)."""
    if dialect == "sqlite":
        fts = " AND ".join(f'"{w}"*' for w in words)
        return (
            sa.select(sa.literal_column("rowid"))
            .select_from(sa.table("post_search"))
            .where(sa.literal_column("post_search").op("MATCH")(sa.literal(fts)))
        )
    tsquery = " & ".join(f"{w}:*" for w in words)
    return (
        sa.select(sa.column("post_id"))
        .select_from(sa.table("post_search"))
        .where(
            sa.column("document").op("@@")(
                sa.func.to_tsquery(
                    sa.literal_column("'simple'::regconfig"),
                    sa.func.koers_search_fold(sa.literal(tsquery, sa.Text)),
                )
            )
        )
    )


def rebuild_statements(dialect: str) -> list[str]:
    """Empty the index and fill it from every post again (one transaction)."""
    where = "WHERE deleted_at IS NULL AND reblog_of_id IS NULL"
    if dialect == "sqlite":
        return [
            "DELETE FROM post_search",
            f"INSERT INTO post_search (rowid, body) SELECT id,"
            f" {SQLITE_FUNCTION}(title, spoiler_text, content_html) FROM posts {where}",
            "INSERT INTO post_search (post_search) VALUES ('optimize')",
        ]
    return [
        "DELETE FROM post_search",
        "INSERT INTO post_search (post_id, document) SELECT id,"
        f" koers_search_document(title, spoiler_text, content_html) FROM posts {where}",
    ]
