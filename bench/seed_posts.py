"""The posts of the benchmark data set: every audience, replies, boosts, results, polls, tags,
mentions, then favourites and bookmarks, and the counters recomputed from the rows.

Ids grow with ``created_at``, as they do when posts arrive one by one.
"""

from __future__ import annotations

import random
import time
from array import array
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from bench.seed_world import Ids, World
from bench.seed_writers import Row, Writer
from server import urls

AUDIENCES = ("public", "unlisted", "followers", "community", "members", "partners", "direct")
# cumulative shares of a new (non-reply, non-boost) post's audience, local and remote authors
LOCAL_SHARES = (0.55, 0.65, 0.77, 0.89, 0.93, 0.95, 1.0)
REMOTE_SHARES = (0.60, 0.72, 0.85, 0.93, 0.93, 0.93, 1.0)
OPEN = (0, 1)  # public, unlisted: what may be boosted and replied to by anyone
TAGS = [
    "energy",
    "solar",
    "wind",
    "housing",
    "mobility",
    "food",
    "water",
    "budget",
    "meetup",
    "roadmap",
] + [f"topic{n}" for n in range(190)]
WORDS = (
    "we plan the next step for the neighbourhood battery and ask everyone to join the meeting on "
    "thursday where the roof survey the tenders and the budget will be discussed with the city "
    "council before the summer so that the first panels go up in autumn"
).split()
POST_COLS = (
    "id",
    "uri",
    "url",
    "author_id",
    "local",
    "kind",
    "audience",
    "community_id",
    "title",
    "content_html",
    "source",
    "sensitive",
    "language",
    "in_reply_to_id",
    "in_reply_to_uri",
    "thread_root_id",
    "reblog_of_id",
    "roadmap_item_id",
    "extra",
    "created_at",
)
CHUNK = 20_000


class PostMaker:
    """Generates the posts in id order and writes them in chunks."""

    def __init__(
        self,
        w: World,
        writer: Writer,
        ids: Ids,
        rng: random.Random,
        n: int,
        notify: Callable[[int, str, int, int | None, datetime], None],
    ) -> None:
        self.w, self.writer, self.ids, self.rng, self.n, self.notify = (
            w,
            writer,
            ids,
            rng,
            n,
            notify,
        )
        self.first = ids.next["posts"]
        self.start = w.now - timedelta(days=365)
        self.step = timedelta(days=365) / max(n, 1)
        self.author = array("q")
        self.aud = bytearray()
        self.comm = array("q")
        self.root = array("q")
        self.likeable = array("q")
        self.open_recent: deque[int] = deque(maxlen=4096)
        self.comm_recent: dict[int, deque[int]] = {c: deque(maxlen=256) for c in w.communities}
        self.sentences = [" ".join(rng.sample(WORDS, 9)).capitalize() + "." for _ in range(512)]
        self.people = w.locals + w.remotes
        self.bench_posts: list[int] = []
        self.rows: dict[str, list[Row]] = {}
        self.counts = dict.fromkeys(("boosts", "replies", "results", "polls", "mentions"), 0)
        self.counts["tags"] = 0
        self._reset()

    def _reset(self) -> None:
        self.rows = {k: [] for k in ("posts", "tags", "mentions", "contrib", "roles", "polls")}

    def when(self, pid: int) -> datetime:
        return self.start + self.step * (pid - self.first)

    def uri(self, pid: int) -> str:
        author = self.author[pid - self.first]
        dom, name = self.w.domain[author], self.w.name[author]
        if dom is None:
            return urls.post(self.w.base, name, pid)
        return f"https://{dom}/users/{name}/statuses/{pid}"

    def _skewed(self, seq: list[int]) -> int:
        return seq[int(len(seq) * self.rng.random() ** 2)]

    def _mention_html(self, actor: int) -> tuple[str, str]:
        name, dom = self.w.name[actor], self.w.domain[actor]
        html = (
            f'<span class="h-card"><a href="{self.w.actor_url(actor)}" class="u-url mention" '
            f'rel="nofollow noopener noreferrer">@<span>{name}</span></a></span>'
        )
        return html, f"@{name}" if dom is None else f"@{name}@{dom}"

    def _tag_html(self, tag: str) -> str:
        return (
            f'<a href="{urls.tag(self.w.base, tag)}" class="mention hashtag" '
            f'rel="nofollow noopener noreferrer">#<span>{tag}</span></a>'
        )

    async def run(self) -> None:
        started = time.monotonic()
        for i in range(self.n):
            self.one()
            if (i + 1) % CHUNK == 0 or i + 1 == self.n:
                await self.flush()
            if (i + 1) % 100_000 == 0 or i + 1 == self.n:
                await self.writer.commit()
                rate = (i + 1) / max(time.monotonic() - started, 1e-6)
                print(f"  posts {i + 1:>10,} / {self.n:,}  ({rate:,.0f}/s)", flush=True)

    def one(self) -> None:
        rng, w = self.rng, self.w
        pid = self.ids.take("posts")
        r = rng.random()
        if r < 0.08 and self.open_recent:
            self._boost(pid)
        elif r < 0.28 and self.open_recent:
            self._reply(pid)
        else:
            self._original(pid)
        if self.author[-1] == w.bench_actor:
            self.bench_posts.append(pid)

    def _author(self) -> int:
        rng = self.rng
        if rng.random() < 0.002:
            return self.w.bench_actor
        return self._skewed(self.w.locals if rng.random() < 0.5 else self.w.remotes)

    def _original(self, pid: int) -> None:
        rng, w = self.rng, self.w
        author = self._author()
        local = w.domain[author] is None
        shares = LOCAL_SHARES if local else REMOTE_SHARES
        x = rng.random()
        aud = next(k for k, s in enumerate(shares) if x < s)
        community = 0
        kind, title, item = "note", None, None
        if aud == 3 or (aud == 0 and local and rng.random() < 0.15):
            community = rng.choice(list(w.communities))
            _group, _handle, members, remote_members = w.communities[community]
            pool = members if local or not remote_members else remote_members
            author = rng.choice(pool)
            local = w.domain[author] is None
            if local and rng.random() < 0.04:
                kind, item = "result", rng.choice(w.items[community])
                title = f"Result: item {item} done"
        elif aud in (4, 5) and not local:
            aud = 0
        if kind == "note" and rng.random() < 0.003:
            kind = "question"
        mentions = []
        if aud == 6:
            mentions = rng.sample(self.people, rng.randint(1, 2))
        elif rng.random() < 0.08:
            mentions = [w.bench_actor if rng.random() < 0.02 else rng.choice(self.people)]
        mentions = [m for m in dict.fromkeys(mentions) if m != author]
        tags = rng.sample(TAGS, rng.randint(1, 2)) if rng.random() < 0.3 else []
        self._store(pid, author, local, kind, aud, community, title, mentions, tags, None, item)

    def _reply(self, pid: int) -> None:
        rng, w = self.rng, self.w
        parent = None
        if rng.random() < 0.3:
            community = rng.choice(list(w.communities))
            if self.comm_recent[community]:
                parent = rng.choice(self.comm_recent[community])
                members = w.communities[community][2] + w.communities[community][3]
                author = rng.choice(members)
        if parent is None:
            parent = rng.choice(self.open_recent)
            author = self._author()
        k = parent - self.first
        aud, community = self.aud[k], self.comm[k]
        parent_author = self.author[k]
        mentions = [parent_author] if parent_author != author else []
        self._store(
            pid,
            author,
            w.domain[author] is None,
            "note",
            aud,
            community,
            None,
            mentions,
            [],
            parent,
            None,
        )
        self.counts["replies"] += 1

    def _boost(self, pid: int) -> None:
        rng, w = self.rng, self.w
        original = rng.choice(self.open_recent)
        k = original - self.first
        author = self._author()
        dom, name = w.domain[author], w.name[author]
        if dom is None:
            uri = urls.post(w.base, name, pid) + "/activity"
            url: str | None = uri
        else:
            uri, url = f"https://{dom}/users/{name}/statuses/{pid}/activity", None
        self._keep(pid, author, self.aud[k], 0, self.root[k], likeable=False)
        ts = self.writer.ts(self.when(pid))
        row: Row = (pid, uri, url, author, dom is None, "note", AUDIENCES[self.aud[k]], None, None)
        row += ("", "", False, None, None, None, None, original, None, "{}", ts)
        self.rows["posts"].append(row)
        self.notify(self.author[k], "reblog", author, original, self.when(pid))
        self.counts["boosts"] += 1

    def _keep(self, pid: int, author: int, aud: int, comm: int, root: int, likeable: bool) -> None:
        self.author.append(author)
        self.aud.append(aud)
        self.comm.append(comm)
        self.root.append(root)
        if likeable:
            self.likeable.append(pid)

    def _store(
        self,
        pid: int,
        author: int,
        local: bool,
        kind: str,
        aud: int,
        community: int,
        title: str | None,
        mentions: list[int],
        tags: list[str],
        parent: int | None,
        item: int | None,
    ) -> None:
        w, rng = self.w, self.rng
        root = 0
        if parent is not None:
            root = self.root[parent - self.first] or parent
        self._keep(pid, author, aud, community, root, likeable=aud in OPEN)
        when = self.when(pid)
        sentence = self.sentences[pid % len(self.sentences)]
        html_parts, src_parts = [], []
        for m in mentions:
            html, src = self._mention_html(m)
            html_parts.append(html)
            src_parts.append(src)
            self.rows["mentions"].append((self.ids.take("post_mentions"), pid, m))
            self.notify(m, "mention", author, pid, when)
        html_parts.append(sentence)
        src_parts.append(sentence)
        for tag in tags:
            html_parts.append(self._tag_html(tag))
            src_parts.append(f"#{tag}")
            self.rows["tags"].append((self.ids.take("post_tags"), pid, tag))
        dom, name = w.domain[author], w.name[author]
        if local:
            uri, url = urls.post(w.base, name, pid), urls.post_page(w.base, name, pid)
        else:
            uri, url = f"https://{dom}/users/{name}/statuses/{pid}", f"https://{dom}/@{name}/{pid}"
        parent_uri = self.uri(parent) if parent is not None else None
        row: Row = (pid, uri, url, author, local, kind, AUDIENCES[aud], community or None, title)
        row += ("<p>" + " ".join(html_parts) + "</p>", " ".join(src_parts), False, "en")
        row += (parent, parent_uri, root or None, None, item, "{}", self.writer.ts(when))
        self.rows["posts"].append(row)
        self.counts["mentions"] += len(mentions)
        self.counts["tags"] += len(tags)
        if aud in OPEN and parent is None:
            self.open_recent.append(pid)
        if community:
            self.comm_recent[community].append(pid)
        if kind == "result":
            self.counts["results"] += 1
            others = [m for m in w.communities[community][2] if m != author][:1]
            for a in [author, *others]:
                self.rows["contrib"].append((self.ids.take("result_contributors"), pid, a))
            role = rng.choice(w.roles[community])
            self.rows["roles"].append((self.ids.take("result_roles"), pid, role))
        if kind == "question":
            self.counts["polls"] += 1
            ends = self.writer.ts(when + timedelta(days=3))
            self.rows["polls"].append((self.ids.take("polls"), pid, '["yes", "no", "later"]', ends))

    async def flush(self) -> None:
        wr = self.writer
        await wr.write("posts", POST_COLS, self.rows["posts"])
        await wr.write("post_tags", ("id", "post_id", "tag"), self.rows["tags"])
        await wr.write("post_mentions", ("id", "post_id", "actor_id"), self.rows["mentions"])
        await wr.write("result_contributors", ("id", "post_id", "actor_id"), self.rows["contrib"])
        await wr.write("result_roles", ("id", "post_id", "role_id"), self.rows["roles"])
        cols = ("id", "post_id", "options", "expires_at")
        await wr.write("polls", cols, self.rows["polls"])
        await flush_notifications(self.w, wr)
        self._reset()


async def flush_notifications(w: World, writer: Writer) -> None:
    cols = ("id", "actor_id", "type", "from_actor_id", "post_id", "read", "created_at")
    await writer.write("notifications", cols, w.notifications)
    w.notifications.clear()


async def write_favourites(maker: PostMaker, n: int) -> int:
    """``n`` favourites of open posts by anyone (unique per person and post), then bench's
    bookmarks and pins."""
    w, rng, ids, wr = maker.w, maker.rng, maker.ids, maker.writer
    seen: set[int] = set()
    rows: list[Row] = []
    likeable = maker.likeable
    for _ in range(n if likeable else 0):
        pid = likeable[int(len(likeable) * rng.random() ** 0.5)]
        actor = rng.choice(maker.people)
        key = (actor << 32) | pid
        if key in seen or actor == maker.author[pid - maker.first]:
            continue
        seen.add(key)
        fid = ids.take("favourites")
        when = maker.when(pid) + timedelta(minutes=rng.randint(1, 600))
        dom = w.domain[actor]
        uri = f"https://{dom}/likes/{fid}" if dom else None
        rows.append((fid, actor, pid, uri, wr.ts(when)))
        maker.notify(maker.author[pid - maker.first], "favourite", actor, pid, when)
        if len(rows) >= 50_000:
            await wr.write("favourites", ("id", "actor_id", "post_id", "uri", "created_at"), rows)
            await flush_notifications(w, wr)
            rows = []
    await wr.write("favourites", ("id", "actor_id", "post_id", "uri", "created_at"), rows)
    await flush_notifications(w, wr)
    ts = wr.ts(w.now)
    recent = likeable[-5000:]
    marks = sorted({rng.choice(recent) for _ in range(100)}) if recent else []
    rows = [(ids.take("bookmarks"), w.bench_actor, pid, ts) for pid in marks]
    await wr.write("bookmarks", ("id", "actor_id", "post_id", "created_at"), rows)
    own = [p for p in maker.bench_posts if maker.aud[p - maker.first] == 0][-2:]
    rows = [(ids.take("pins"), w.bench_actor, pid, ts) for pid in own]
    await wr.write("pins", ("id", "actor_id", "post_id", "created_at"), rows)
    await wr.commit()
    return len(seen)


COUNTERS = (
    (
        "replies_count",
        "SELECT in_reply_to_id AS pid, count(*) AS n FROM posts "
        "WHERE in_reply_to_id IS NOT NULL GROUP BY in_reply_to_id",
    ),
    (
        "reblogs_count",
        "SELECT reblog_of_id AS pid, count(*) AS n FROM posts "
        "WHERE reblog_of_id IS NOT NULL GROUP BY reblog_of_id",
    ),
    ("favourites_count", "SELECT post_id AS pid, count(*) AS n FROM favourites GROUP BY post_id"),
)


async def write_counters(writer: Writer) -> None:
    """The posts' reply, boost and favourite counters, from the rows themselves."""
    for column, counted in COUNTERS:
        await writer.execute(
            f"UPDATE posts SET {column} = s.n FROM ({counted}) AS s WHERE posts.id = s.pid"
        )
    await writer.commit()
