"""The people of the benchmark data set: local and remote accounts, communities, follows.

Everything is generated from one random seed with explicit ids, and written in bulk through a
writer of ``seed_writers``. Posts come after, in ``seed_posts``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bench.seed_writers import Row, Writer
from server import urls
from server.services import text
from server.services.keys import generate_key_pair

HOSTS = 50
FOLLOWER_HOSTS = 20
REMOTE_FOLLOWERS = 100
PARTNER_HOSTS = 2


def host(n: int) -> str:
    """The n-th remote host (reserved ``.example`` names: nothing there answers)."""
    return f"social-{n:02d}.example"


@dataclass
class World:
    """Who exists, by id, and the handful of facts the post generator needs."""

    base: str
    now: datetime
    bench_actor: int
    bench_user: int
    password_hash: str
    name: dict[int, str] = field(default_factory=dict)
    domain: dict[int, str | None] = field(default_factory=dict)
    locals: list[int] = field(default_factory=list)
    remotes: list[int] = field(default_factory=list)
    user_of: dict[int, int] = field(default_factory=dict)
    # community id -> (group actor id, handle, local members, remote members)
    communities: dict[int, tuple[int, str, list[int], list[int]]] = field(default_factory=dict)
    member_of: dict[int, list[int]] = field(default_factory=dict)
    items: dict[int, list[int]] = field(default_factory=dict)
    roles: dict[int, list[int]] = field(default_factory=dict)
    bench_follows: list[int] = field(default_factory=list)
    bench_communities: list[int] = field(default_factory=list)
    bench_followers: list[int] = field(default_factory=list)
    follows: int = 0
    notifications: list[Row] = field(default_factory=list)

    def actor_uri(self, actor: int) -> str:
        dom = self.domain[actor]
        if dom is None:
            return urls.person(self.base, self.name[actor])
        return f"https://{dom}/users/{self.name[actor]}"

    def actor_url(self, actor: int) -> str:
        dom = self.domain[actor]
        if dom is None:
            return urls.person_page(self.base, self.name[actor])
        return f"https://{dom}/@{self.name[actor]}"


class Ids:
    """Next free id per table (ids are chosen here, so no row waits for the database)."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    async def load(self, writer: Writer, tables: list[str]) -> None:
        for table in tables:
            self.next[table] = await writer.max_id(table) + 1

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


ACTOR_COLS = (
    "id",
    "uri",
    "kind",
    "username",
    "domain",
    "display_name",
    "summary_html",
    "url",
    "inbox",
    "shared_inbox",
    "outbox",
    "followers_url",
    "following_url",
    "featured_url",
    "key_id",
    "public_key_pem",
    "private_key_pem",
    "fields",
    "extra",
    "manually_approves_followers",
    "created_at",
    "updated_at",
    "fetched_at",
)
FOLLOW_COLS = ("id", "follower_id", "target_id", "state", "uri", "created_at")
NOTIFICATION_COLS = ("id", "actor_id", "type", "from_actor_id", "post_id", "read", "created_at")


def key_pool(n: int = 4) -> list[tuple[str, str]]:
    """A few RSA key pairs shared by the generated actors (one per actor would take minutes)."""
    return [generate_key_pair() for _ in range(n)]


def _actor_row(
    w: World, writer: Writer, actor: int, kind: str, keys: tuple[str, str], when: datetime
) -> Row:
    dom, name = w.domain[actor], w.name[actor]
    ts = writer.ts(when)
    if dom is None:
        uri = (urls.community if kind == "group" else urls.person)(w.base, name)
        page = (urls.community_page if kind == "group" else urls.person_page)(w.base, name)
        inbox, shared = f"{uri}/inbox", f"{w.base}/inbox"
        private, fetched = keys[0], None
    else:
        uri, page = f"https://{dom}/users/{name}", f"https://{dom}/@{name}"
        inbox, shared = f"{uri}/inbox", f"https://{dom}/inbox"
        private, fetched = None, ts
    display = name.replace("_", " ").title()
    return (
        actor,
        uri,
        kind,
        name,
        dom,
        display,
        f"<p>{display} works on the things that matter.</p>",
        page,
        inbox,
        shared,
        f"{uri}/outbox",
        f"{uri}/followers",
        f"{uri}/following",
        f"{uri}/featured",
        f"{uri}#main-key",
        keys[1],
        private,
        "[]",
        "{}",
        False,
        ts,
        ts,
        fetched,
    )


async def write_accounts(
    w: World, writer: Writer, ids: Ids, rng: random.Random, n_accounts: int, keys: list
) -> None:
    """Local members (a quarter of the accounts, bench included) and remote people on 50 hosts."""
    n_local = max(2, n_accounts // 4) - 1  # bench is one of them
    n_remote = max(REMOTE_FOLLOWERS, n_accounts - n_local - 1)
    actors: list[Row] = []
    users: list[Row] = []
    start = w.now - timedelta(days=400)
    for i in range(n_local):
        actor = ids.take("actors")
        w.name[actor], w.domain[actor] = f"u{i:05d}", None
        w.locals.append(actor)
        when = start + timedelta(minutes=i)
        actors.append(_actor_row(w, writer, actor, "person", keys[i % len(keys)], when))
        user = ids.take("users")
        w.user_of[actor] = user
        users.append(
            (user, actor, f"u{i:05d}@bench.example", w.password_hash, "active", writer.ts(when))
        )
    for i in range(n_remote):
        actor = ids.take("actors")
        # The first 100 are bench's remote followers: 5 on each of the first 20 hosts.
        h = i // (REMOTE_FOLLOWERS // FOLLOWER_HOSTS) if i < REMOTE_FOLLOWERS else i % HOSTS
        w.name[actor], w.domain[actor] = f"p{i:05d}", host(h)
        w.remotes.append(actor)
        when = start + timedelta(minutes=i)
        actors.append(_actor_row(w, writer, actor, "person", keys[i % len(keys)], when))
    await writer.write("actors", ACTOR_COLS, actors)
    await writer.write(
        "users", ("id", "actor_id", "email", "password_hash", "state", "created_at"), users
    )
    w.locals.insert(0, w.bench_actor)
    partners = [
        (ids.take("partners"), host(HOSTS - 1 - i), f"Partner {i}", "active", writer.ts(start))
        for i in range(PARTNER_HOSTS)
    ]
    await writer.write("partners", ("id", "domain", "name", "state", "created_at"), partners)


async def write_communities(
    w: World, writer: Writer, ids: Ids, rng: random.Random, n_communities: int, keys: list
) -> None:
    """Communities with a Group actor, purpose, managers, members, roles and roadmap items."""
    rows: dict[str, list[Row]] = {k: [] for k in ("actors", "communities", "managers", "purpose")}
    rows |= {k: [] for k in ("roles", "holders", "items", "changes", "supports", "follows")}
    statuses = ("idea", "planned", "in_progress", "done", "dropped")
    when = w.now - timedelta(days=380)
    ts = writer.ts(when)
    local_people = w.locals[1:]
    for n in range(n_communities):
        actor, cid = ids.take("actors"), ids.take("communities")
        handle = f"c{n:03d}"
        w.name[actor], w.domain[actor] = handle, None
        rows["actors"].append(_actor_row(w, writer, actor, "group", keys[n % len(keys)], when))
        creator = local_people[n % len(local_people)]
        rows["communities"].append(
            (cid, actor, f"Community {n}", "<p>We work together.</p>", creator, True, ts)
        )
        rows["managers"].append((ids.take("community_managers"), cid, creator, ts))
        purpose = f"Community {n} exists to make the region run on clean energy by {2030 + n % 10}."
        rows["purpose"].append(
            (
                ids.take("purpose_versions"),
                cid,
                1,
                purpose,
                text.render(purpose).html,
                creator,
                urls.purpose_version(w.base, handle, 1),
                ts,
            )
        )
        size = max(3, len(local_people) // 20)
        members = sorted({creator, *rng.sample(local_people, min(size, len(local_people)))})
        remote_members = rng.sample(w.remotes, min(len(w.remotes), max(2, size // 5)))
        w.communities[cid] = (actor, handle, members, remote_members)
        for m in members + remote_members:
            w.member_of.setdefault(m, []).append(cid)
            fid = ids.take("follows")
            uri = None if w.domain[m] is None else f"https://{w.domain[m]}/follows/{fid}"
            rows["follows"].append((fid, m, actor, "accepted", uri, ts))
        w.roles[cid] = []
        for r, role in enumerate(("Coordinator", "Treasurer", "Scribe")):
            rid = ids.take("roles")
            w.roles[cid].append(rid)
            rows["roles"].append((rid, cid, role, "open", urls.role(w.base, handle, rid), ts))
            rows["holders"].append((ids.take("role_holders"), rid, members[r % len(members)], ts))
        w.items[cid] = []
        for k in range(10):
            iid = ids.take("roadmap_items")
            w.items[cid].append(iid)
            status = statuses[k % len(statuses)]
            audience = "community" if k % 4 == 3 else "public"
            rows["items"].append(
                (
                    iid,
                    cid,
                    f"Roadmap item {k} of community {n}",
                    f"<p>Item {k}: what we will do next.</p>",
                    status,
                    audience,
                    rng.choice(members),
                    urls.roadmap_item(w.base, handle, iid),
                    ts,
                    ts,
                )
            )
            rows["changes"].append(
                (ids.take("roadmap_status_changes"), iid, None, status, creator, ts)
            )
            for supporter in rng.sample(members, min(3, len(members))):
                rows["supports"].append((ids.take("roadmap_supports"), iid, supporter, ts))
    await writer.write("actors", ACTOR_COLS, rows["actors"])
    cols: tuple[str, ...] = ("id", "actor_id", "name", "description_html", "created_by")
    cols += ("local", "created_at")
    await writer.write("communities", cols, rows["communities"])
    cols = ("id", "community_id", "actor_id", "created_at")
    await writer.write("community_managers", cols, rows["managers"])
    cols = ("id", "community_id", "version", "text_source", "text_html", "author_id", "uri")
    await writer.write("purpose_versions", (*cols, "created_at"), rows["purpose"])
    cols = ("id", "community_id", "name", "fill_mode", "uri", "created_at")
    await writer.write("roles", cols, rows["roles"])
    holders = [(*r, "held") for r in rows["holders"]]
    cols = ("id", "role_id", "actor_id", "created_at", "state")
    await writer.write("role_holders", cols, holders)
    cols = ("id", "community_id", "title", "description_html", "status", "audience")
    await writer.write(
        "roadmap_items", (*cols, "author_id", "uri", "created_at", "updated_at"), rows["items"]
    )
    cols = ("id", "item_id", "from_status", "to_status", "actor_id", "created_at")
    await writer.write("roadmap_status_changes", cols, rows["changes"])
    cols = ("id", "item_id", "actor_id", "created_at")
    await writer.write("roadmap_supports", cols, rows["supports"])
    await writer.write("follows", FOLLOW_COLS, rows["follows"])
    w.follows += len(rows["follows"])


async def write_follows(
    w: World,
    writer: Writer,
    ids: Ids,
    rng: random.Random,
    n_bench_follows: int,
    notify: Callable[[int, str, int, int | None, datetime], None],
) -> None:
    """Bench follows ``n_bench_follows`` people (half local, half remote) and joins communities;
    100 remote people follow bench; every local member follows about 40 people, and remote
    people follow a few local members."""
    people = w.locals[1:] + (w.remotes[REMOTE_FOLLOWERS:] or w.remotes)
    rows: list[Row] = []
    when = w.now - timedelta(days=300)

    def follow(src: int, dst: int) -> None:
        fid = ids.take("follows")
        dom = w.domain[src]
        uri = f"https://{dom}/follows/{fid}" if dom else f"{w.base}/follows/{fid}"
        rows.append((fid, src, dst, "accepted", uri, writer.ts(when)))
        if w.domain[dst] is None:
            notify(dst, "follow", src, None, when)

    half = min(n_bench_follows // 2, len(w.locals) - 1)
    chosen = rng.sample(w.locals[1:], half)
    remote_pool = w.remotes[REMOTE_FOLLOWERS:] or w.remotes
    chosen += rng.sample(remote_pool, min(n_bench_follows - half, len(remote_pool)))
    w.bench_follows = chosen
    for target in chosen:
        follow(w.bench_actor, target)
    joined = list(w.communities)[: max(1, n_bench_follows // 25)]
    for cid in joined:
        group, _handle, members, _remote = w.communities[cid]
        if w.bench_actor not in members:
            members.append(w.bench_actor)
            w.member_of.setdefault(w.bench_actor, []).append(cid)
            follow(w.bench_actor, group)
    w.bench_communities = joined
    w.bench_followers = w.remotes[:REMOTE_FOLLOWERS]
    for follower in w.bench_followers:
        follow(follower, w.bench_actor)
    for src in w.locals[1:]:
        for dst in set(rng.sample(people, min(len(people), rng.randint(10, 70)))) - {src}:
            follow(src, dst)
    for src in w.remotes[REMOTE_FOLLOWERS:]:
        for dst in set(rng.sample(w.locals, min(len(w.locals), rng.randint(0, 10)))):
            if dst != w.bench_actor:
                follow(src, dst)
    await writer.write("follows", FOLLOW_COLS, rows)
    w.follows += len(rows)


def notifier(w: World, writer: Writer, ids: Ids):  # type: ignore[no-untyped-def]
    """A function that records one notification row for a local actor (others are skipped)."""
    recent = w.now - timedelta(days=2)

    def notify(actor: int, kind: str, src: int, post: int | None, when: datetime) -> None:
        if actor in w.user_of and actor != src:
            nid = ids.take("notifications")
            w.notifications.append((nid, actor, kind, src, post, when < recent, writer.ts(when)))

    return notify
