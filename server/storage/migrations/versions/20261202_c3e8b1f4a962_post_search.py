"""full-text search of posts (post_search, kept by triggers) and e-mail opt-outs by address

``post_search`` is the index of ``server/storage/fulltext.py``: an FTS5 table on SQLite, a table of
``tsvector`` documents with a GIN index on PostgreSQL. Triggers on ``posts`` keep it in the
transaction of every change, whichever code path made it (a service, the inbox, a cascade). The
posts already there are indexed here (``koers search rebuild`` does the same later). The index is
not in ``schema.metadata``; the migrations' comparison leaves it out (``fulltext.include_object``).
A later batch migration that recreates ``posts`` on SQLite must create these triggers again.

``mail_opt_outs``: an address that asked for no more mail of a kind (invitations) although no
member has it.

Revision ID: c3e8b1f4a962
Revises: c5e8a1d3f7b9
Create Date: 2026-12-02 13:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c3e8b1f4a962"
down_revision = "c5e8a1d3f7b9"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)

# Columns whose change moves what a post is found by.
COLUMNS = "title, spoiler_text, content_html, deleted_at, reblog_of_id"
INDEXED = "NEW.deleted_at IS NULL AND NEW.reblog_of_id IS NULL"
CHANGED_SQLITE = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in COLUMNS.split(", "))
CHANGED_POSTGRESQL = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in COLUMNS.split(", "))
SQLITE_ROW = "koers_search_text(NEW.title, NEW.spoiler_text, NEW.content_html)"

SQLITE = [
    "CREATE VIRTUAL TABLE post_search USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')",
    f"""CREATE TRIGGER tr_posts_search_insert AFTER INSERT ON posts WHEN {INDEXED} BEGIN
INSERT INTO post_search (rowid, body) VALUES (NEW.id, {SQLITE_ROW});
END""",
    f"""CREATE TRIGGER tr_posts_search_update AFTER UPDATE OF {COLUMNS} ON posts
WHEN {CHANGED_SQLITE} BEGIN
DELETE FROM post_search WHERE rowid = OLD.id;
INSERT INTO post_search (rowid, body) SELECT NEW.id, {SQLITE_ROW} WHERE {INDEXED};
END""",
    """CREATE TRIGGER tr_posts_search_delete AFTER DELETE ON posts BEGIN
DELETE FROM post_search WHERE rowid = OLD.id;
END""",
    "INSERT INTO post_search (rowid, body) SELECT id,"
    " koers_search_text(title, spoiler_text, content_html) FROM posts"
    " WHERE deleted_at IS NULL AND reblog_of_id IS NULL",
]

# Accented letters folded to their base letter (both cases), before ``lower``.
_FROM = (
    "ÀÁÂÃÄÅàáâãäåĀāĂăĄąÇçĆćČčĎďÈÉÊËèéêëĒēĖėĘęĚěÌÍÎÏìíîïĪīĮįÑñŃńŇňÒÓÔÕÖØòóôõöøŌōŐő"
    "ŘřŚśŠšŤťÙÚÛÜùúûüŪūŮůŰűŲųÝýÿŸŹźŻżŽž"
)
_TO = (
    "aaaaaaaaaaaaaaaaaaccccccddeeeeeeeeeeeeeeeeiiiiiiiiiiiinnnnnnoooooooooooooooo"
    "rrssssttuuuuuuuuuuuuuuuuyyyyzzzzzz"
)
assert len(_FROM) == len(_TO), (len(_FROM), len(_TO))

POSTGRESQL = [
    """CREATE TABLE post_search (
  post_id BIGINT NOT NULL PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
  document tsvector NOT NULL
)""",
    "CREATE INDEX ix_post_search_document ON post_search USING GIN (document)",
    f"""CREATE FUNCTION koers_search_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT lower(translate(value, '{_FROM}', '{_TO}')) $$""",
    # The text of a post, as ``fulltext.search_text`` gives it on SQLite (its first 100,000
    # characters: a tsvector holds at most 1 MB, and a longer post must still be stored).
    r"""CREATE FUNCTION koers_search_document(title text, spoiler text, html text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT to_tsvector('simple'::regconfig, koers_search_fold(left(
  coalesce(title, '') || ' ' || coalesce(spoiler, '') || ' ' ||
  regexp_replace(
    replace(replace(replace(replace(replace(replace(
      regexp_replace(
        regexp_replace(coalesce(html, ''),
          '</?(p|br|div|li|ul|ol|h[1-6]|blockquote|pre|tr|td|th)([\s/][^>]*)?>', ' ', 'gi'),
        '<[^>]*>', '', 'g'),
      '&lt;', ' '), '&gt;', ' '), '&quot;', '"'), '&#39;', ''''), '&nbsp;', ' '), '&amp;', '&'),
    '&#?[0-9A-Za-z]+;', ' ', 'g'), 100000)))
$$""",
    f"""CREATE FUNCTION koers_posts_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF {INDEXED} THEN
    INSERT INTO post_search AS s (post_id, document)
      VALUES (NEW.id, koers_search_document(NEW.title, NEW.spoiler_text, NEW.content_html))
      ON CONFLICT (post_id) DO UPDATE SET document = EXCLUDED.document;
  ELSIF TG_OP = 'UPDATE' THEN
    DELETE FROM post_search WHERE post_id = OLD.id;
  END IF;
  RETURN NULL;
END $$""",
    "CREATE TRIGGER tr_posts_search AFTER INSERT ON posts"
    " FOR EACH ROW EXECUTE FUNCTION koers_posts_search()",
    f"CREATE TRIGGER tr_posts_search_update AFTER UPDATE OF {COLUMNS} ON posts"
    f" FOR EACH ROW WHEN ({CHANGED_POSTGRESQL}) EXECUTE FUNCTION koers_posts_search()",
    "INSERT INTO post_search (post_id, document) SELECT id,"
    " koers_search_document(title, spoiler_text, content_html) FROM posts"
    " WHERE deleted_at IS NULL AND reblog_of_id IS NULL",
]

DROP_SQLITE = [
    "DROP TRIGGER IF EXISTS tr_posts_search_insert",
    "DROP TRIGGER IF EXISTS tr_posts_search_update",
    "DROP TRIGGER IF EXISTS tr_posts_search_delete",
    "DROP TABLE IF EXISTS post_search",
]
DROP_POSTGRESQL = [
    "DROP TRIGGER IF EXISTS tr_posts_search ON posts",
    "DROP TRIGGER IF EXISTS tr_posts_search_update ON posts",
    "DROP TABLE IF EXISTS post_search",
    "DROP FUNCTION IF EXISTS koers_posts_search()",
    "DROP FUNCTION IF EXISTS koers_search_document(text, text, text)",
    "DROP FUNCTION IF EXISTS koers_search_fold(text)",
]


def upgrade() -> None:
    op.create_table(
        "mail_opt_outs",
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("address", "kind", name="pk_mail_opt_outs"),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE if sqlite else POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in DROP_SQLITE if sqlite else DROP_POSTGRESQL:
        op.execute(statement)
    op.drop_table("mail_opt_outs")
