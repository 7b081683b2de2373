"""denormalised counters: account_stats and post_reply_counts, kept by triggers

Every account in an API answer shows its status count, last status time, follower and following
counts, and every post the replies its viewer may see; recounting them per request read every
post or follow of the account. Two tables hold them, and triggers on ``posts`` and ``follows``
keep them in the transaction of every change — whichever code path made it (a service, the inbox,
a bulk import, a cascade from a deleted actor). The existing rows are counted once here.

Triggers are the one place these rules live (SQLite and PostgreSQL spell them differently);
``tests/server/storage/test_counters.py`` checks after random changes that they equal a recount,
and that a migrated database has them. A later batch migration that recreates ``posts`` or
``follows`` on SQLite must create them again.

Revision ID: a7c4e2f9d013
Revises: a4d1c7e9b352
Create Date: 2026-12-02 10:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a7c4e2f9d013"
down_revision = "a4d1c7e9b352"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Columns of posts whose change moves a counter.
POST_COLUMNS = "deleted_at, author_id, created_at, audience, in_reply_to_id"

_LAST_STATUS = (
    "(SELECT max(p.created_at) FROM posts p WHERE p.author_id = account_stats.actor_id"
    " AND p.deleted_at IS NULL)"
)


def _sqlite_stats_row(who: str, when: str) -> str:
    return (
        "INSERT INTO account_stats (actor_id, statuses_count, followers_count, following_count)"
        f" SELECT {who}, 0, 0, 0 WHERE {when} AND NOT EXISTS"
        f" (SELECT 1 FROM account_stats WHERE actor_id = {who})"
        # not for an actor being deleted (a cascade reaching the rows of its posts' replies)
        f" AND EXISTS (SELECT 1 FROM actors WHERE id = {who});"
    )


def _sqlite_reply_row(row: str) -> str:
    return (
        "INSERT INTO post_reply_counts (post_id, audience, replies)"
        f" SELECT {row}.in_reply_to_id, {row}.audience, 0"
        f" WHERE {row}.deleted_at IS NULL AND {row}.in_reply_to_id IS NOT NULL AND NOT EXISTS"
        " (SELECT 1 FROM post_reply_counts"
        f" WHERE post_id = {row}.in_reply_to_id AND audience = {row}.audience)"
        f" AND EXISTS (SELECT 1 FROM posts WHERE id = {row}.in_reply_to_id);"
    )


def _sqlite_post(row: str, sign: str) -> str:
    """Count ``row`` (NEW or OLD) in (+) or out (-) of its author's and its parent's counters."""
    add = sign == "+"
    return "\n".join(
        [
            _sqlite_stats_row(f"{row}.author_id", f"{row}.deleted_at IS NULL") if add else "",
            f"UPDATE account_stats SET statuses_count = statuses_count {sign} 1"
            f" WHERE actor_id = {row}.author_id AND {row}.deleted_at IS NULL;",
            _sqlite_reply_row(row) if add else "",
            f"UPDATE post_reply_counts SET replies = replies {sign} 1"
            f" WHERE post_id = {row}.in_reply_to_id AND audience = {row}.audience"
            f" AND {row}.deleted_at IS NULL;",
        ]
    )


def _sqlite_follow(row: str, sign: str) -> str:
    add = sign == "+"
    accepted = f"{row}.state = 'accepted'"
    return "\n".join(
        [
            _sqlite_stats_row(f"{row}.target_id", accepted) if add else "",
            _sqlite_stats_row(f"{row}.follower_id", accepted) if add else "",
            f"UPDATE account_stats SET followers_count = followers_count {sign} 1"
            f" WHERE actor_id = {row}.target_id AND {accepted};",
            f"UPDATE account_stats SET following_count = following_count {sign} 1"
            f" WHERE actor_id = {row}.follower_id AND {accepted};",
        ]
    )


def _sqlite_last(*rows: str) -> str:
    who = ", ".join(f"{r}.author_id" for r in rows)
    return f"UPDATE account_stats SET last_status_at = {_LAST_STATUS} WHERE actor_id IN ({who});"


POST_CHANGED = " OR ".join(
    f"OLD.{c} IS NOT NEW.{c}" for c in [c.strip() for c in POST_COLUMNS.split(",")]
)

SQLITE = [
    f"""CREATE TRIGGER tr_posts_counts_insert AFTER INSERT ON posts BEGIN
{_sqlite_post("NEW", "+")}
UPDATE account_stats SET last_status_at = NEW.created_at
 WHERE actor_id = NEW.author_id AND NEW.deleted_at IS NULL
 AND (last_status_at IS NULL OR last_status_at < NEW.created_at);
END""",
    f"""CREATE TRIGGER tr_posts_counts_update AFTER UPDATE OF {POST_COLUMNS} ON posts
WHEN {POST_CHANGED} BEGIN
{_sqlite_post("OLD", "-")}
{_sqlite_post("NEW", "+")}
{_sqlite_last("OLD", "NEW")}
END""",
    f"""CREATE TRIGGER tr_posts_counts_delete AFTER DELETE ON posts BEGIN
{_sqlite_post("OLD", "-")}
{_sqlite_last("OLD")}
END""",
    f"""CREATE TRIGGER tr_follows_counts_insert AFTER INSERT ON follows BEGIN
{_sqlite_follow("NEW", "+")}
END""",
    f"""CREATE TRIGGER tr_follows_counts_update AFTER UPDATE OF state, follower_id, target_id
ON follows WHEN OLD.state IS NOT NEW.state OR OLD.follower_id IS NOT NEW.follower_id
OR OLD.target_id IS NOT NEW.target_id BEGIN
{_sqlite_follow("OLD", "-")}
{_sqlite_follow("NEW", "+")}
END""",
    f"""CREATE TRIGGER tr_follows_counts_delete AFTER DELETE ON follows BEGIN
{_sqlite_follow("OLD", "-")}
END""",
]

POSTGRESQL = [
    f"""CREATE FUNCTION koers_posts_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
    UPDATE account_stats SET statuses_count = statuses_count - 1 WHERE actor_id = OLD.author_id;
    IF OLD.in_reply_to_id IS NOT NULL THEN
      UPDATE post_reply_counts SET replies = replies - 1
       WHERE post_id = OLD.in_reply_to_id AND audience = OLD.audience;
    END IF;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.deleted_at IS NULL THEN
    INSERT INTO account_stats AS s
      (actor_id, statuses_count, followers_count, following_count, last_status_at)
      SELECT NEW.author_id, 1, 0, 0, NEW.created_at
      WHERE EXISTS (SELECT 1 FROM actors WHERE id = NEW.author_id)
      ON CONFLICT (actor_id) DO UPDATE SET statuses_count = s.statuses_count + 1,
        last_status_at = GREATEST(s.last_status_at, EXCLUDED.last_status_at);
    IF NEW.in_reply_to_id IS NOT NULL THEN
      INSERT INTO post_reply_counts AS r (post_id, audience, replies)
        SELECT NEW.in_reply_to_id, NEW.audience, 1
        WHERE EXISTS (SELECT 1 FROM posts WHERE id = NEW.in_reply_to_id)
        ON CONFLICT (post_id, audience) DO UPDATE SET replies = r.replies + 1;
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN
    UPDATE account_stats SET last_status_at = {_LAST_STATUS} WHERE actor_id = OLD.author_id;
  ELSIF TG_OP = 'UPDATE' THEN
    UPDATE account_stats SET last_status_at = {_LAST_STATUS}
     WHERE actor_id IN (OLD.author_id, NEW.author_id);
  END IF;
  RETURN NULL;
END $$""",
    """CREATE FUNCTION koers_follows_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.state = 'accepted' THEN
    UPDATE account_stats SET followers_count = followers_count - 1 WHERE actor_id = OLD.target_id;
    UPDATE account_stats SET following_count = following_count - 1
     WHERE actor_id = OLD.follower_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.state = 'accepted' THEN
    INSERT INTO account_stats AS s (actor_id, statuses_count, followers_count, following_count)
      SELECT NEW.target_id, 0, 1, 0 WHERE EXISTS (SELECT 1 FROM actors WHERE id = NEW.target_id)
      ON CONFLICT (actor_id) DO UPDATE SET followers_count = s.followers_count + 1;
    INSERT INTO account_stats AS s (actor_id, statuses_count, followers_count, following_count)
      SELECT NEW.follower_id, 0, 0, 1 WHERE EXISTS (SELECT 1 FROM actors WHERE id = NEW.follower_id)
      ON CONFLICT (actor_id) DO UPDATE SET following_count = s.following_count + 1;
  END IF;
  RETURN NULL;
END $$""",
    "CREATE TRIGGER tr_posts_counts AFTER INSERT OR DELETE ON posts"
    " FOR EACH ROW EXECUTE FUNCTION koers_posts_counts()",
    f"CREATE TRIGGER tr_posts_counts_update AFTER UPDATE OF {POST_COLUMNS} ON posts"
    " FOR EACH ROW WHEN ("
    + " OR ".join(f"OLD.{c.strip()} IS DISTINCT FROM NEW.{c.strip()}" for c in POST_COLUMNS.split(","))
    + ") EXECUTE FUNCTION koers_posts_counts()",
    "CREATE TRIGGER tr_follows_counts AFTER INSERT OR DELETE ON follows"
    " FOR EACH ROW EXECUTE FUNCTION koers_follows_counts()",
    "CREATE TRIGGER tr_follows_counts_update AFTER UPDATE OF state, follower_id, target_id"
    " ON follows FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state"
    " OR OLD.follower_id IS DISTINCT FROM NEW.follower_id"
    " OR OLD.target_id IS DISTINCT FROM NEW.target_id) EXECUTE FUNCTION koers_follows_counts()",
]

# The counts of the rows already there (the same as ``koers counters rebuild``).
BACKFILL = [
    """INSERT INTO account_stats (actor_id, statuses_count, followers_count, following_count,
                                  last_status_at)
SELECT a.id,
       (SELECT count(*) FROM posts p WHERE p.author_id = a.id AND p.deleted_at IS NULL),
       (SELECT count(*) FROM follows f WHERE f.target_id = a.id AND f.state = 'accepted'),
       (SELECT count(*) FROM follows f WHERE f.follower_id = a.id AND f.state = 'accepted'),
       (SELECT max(p.created_at) FROM posts p WHERE p.author_id = a.id AND p.deleted_at IS NULL)
FROM actors a""",
    """INSERT INTO post_reply_counts (post_id, audience, replies)
SELECT in_reply_to_id, audience, count(*) FROM posts
WHERE in_reply_to_id IS NOT NULL AND deleted_at IS NULL GROUP BY in_reply_to_id, audience""",
]

DROP_SQLITE = [
    f"DROP TRIGGER IF EXISTS tr_{table}_counts_{op_}"
    for table in ("posts", "follows")
    for op_ in ("insert", "update", "delete")
]
DROP_POSTGRESQL = [
    "DROP TRIGGER IF EXISTS tr_posts_counts ON posts",
    "DROP TRIGGER IF EXISTS tr_posts_counts_update ON posts",
    "DROP TRIGGER IF EXISTS tr_follows_counts ON follows",
    "DROP TRIGGER IF EXISTS tr_follows_counts_update ON follows",
    "DROP FUNCTION IF EXISTS koers_posts_counts()",
    "DROP FUNCTION IF EXISTS koers_follows_counts()",
]


def upgrade() -> None:
    op.create_table(
        "account_stats",
        sa.Column("actor_id", Id, nullable=False),
        sa.Column("statuses_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("followers_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("following_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_status_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["actors.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("actor_id"),
    )
    op.create_table(
        "post_reply_counts",
        sa.Column("post_id", Id, nullable=False),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("replies", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id", "audience"),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in BACKFILL + (SQLITE if sqlite else POSTGRESQL):
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in DROP_SQLITE if sqlite else DROP_POSTGRESQL:
        op.execute(statement)
    op.drop_table("post_reply_counts")
    op.drop_table("account_stats")
