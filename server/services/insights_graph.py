"""The graph math of community insights: per-person measures, PageRank and the profile rules.

Pure functions over plain data (no database), so the rules are easy to read, test and benchmark.
``server.services.insights`` loads the interactions and applies privacy.

An interaction is an edge ``source -> target``: the source gives attention to the target (replies to
their post, mentions them, boosts or likes their post, credits them in a result). Edges are weighted
for PageRank by how much effort they take (``EDGE_WEIGHTS``).

Profiles, decided in this order (first match wins; ``n`` is the number of community members):

1. **catalyst** — at least ``CATALYST_MIN_POSTS`` (2) posts, responses (replies, boosts, likes)
   from at least ``max(3, ceil(5% of n))`` distinct people, and at least ``CATALYST_MIN_RESPONSE_RATE``
   (2) responses per post. (Checked first: two posts that move many people make a catalyst.)
2. **observer** — own activity (posts, replies, mentions, boosts, likes, role claims and roadmap
   changes) below ``OBSERVER_BELOW`` (3) in the window.
3. **broadcaster** — at least ``BROADCASTER_MIN_POSTS`` (3) posts, fewer than
   ``BROADCASTER_MAX_RESPONSE_RATE`` (1) response per post, and more posts than responses given.
4. **engager** — replies *and* reacts (likes or boosts), reaching at least ``max(3, ceil(3% of n))``
   distinct people.
5. otherwise **broadcaster** when own posts outnumber responses given, else **responder**.

Informal leaders are catalysts, plus anyone as central as ``LEADER_CENTRALITY`` (3) times the mean
PageRank who also draws responses from the catalyst minimum of distinct people.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from server.i18n import N_
from server.i18n.current import Labels

PROFILES = ("catalyst", "engager", "responder", "broadcaster", "observer")
PROFILE_DESCRIPTIONS = Labels(
    {
        "catalyst": N_("sparks many responses from many different people"),
        "engager": N_("responds and reacts widely"),
        "responder": N_("mostly replies to others"),
        "broadcaster": N_("posts a lot, gets few responses"),
        "observer": N_("little activity in this period"),
    }
)
EDGE_KINDS = ("reply", "mention", "boost", "like", "credit")
EDGE_WEIGHTS = {"reply": 3.0, "mention": 2.0, "boost": 2.0, "like": 1.0, "credit": 3.0}

OBSERVER_BELOW = 3
CATALYST_MIN_POSTS = 2
CATALYST_MIN_RESPONDERS = 3
CATALYST_RESPONDER_SHARE = 0.05
CATALYST_MIN_RESPONSE_RATE = 2.0
BROADCASTER_MIN_POSTS = 3
BROADCASTER_MAX_RESPONSE_RATE = 1.0
ENGAGER_MIN_REACH = 3
ENGAGER_REACH_SHARE = 0.03
LEADER_CENTRALITY = 3.0
DAMPING = 0.85


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The thresholds in force for a community of ``members`` people (shown on the page)."""

    members: int
    observer_below: int
    catalyst_min_responders: int
    catalyst_min_posts: int
    catalyst_min_response_rate: float
    broadcaster_min_posts: int
    broadcaster_max_response_rate: float
    engager_min_reach: int
    leader_centrality: float

    @classmethod
    def for_members(cls, members: int) -> Thresholds:
        return cls(
            members=members,
            observer_below=OBSERVER_BELOW,
            catalyst_min_responders=max(
                CATALYST_MIN_RESPONDERS, math.ceil(CATALYST_RESPONDER_SHARE * members)
            ),
            catalyst_min_posts=CATALYST_MIN_POSTS,
            catalyst_min_response_rate=CATALYST_MIN_RESPONSE_RATE,
            broadcaster_min_posts=BROADCASTER_MIN_POSTS,
            broadcaster_max_response_rate=BROADCASTER_MAX_RESPONSE_RATE,
            engager_min_reach=max(ENGAGER_MIN_REACH, math.ceil(ENGAGER_REACH_SHARE * members)),
            leader_centrality=LEADER_CENTRALITY,
        )


@dataclass(slots=True)
class PersonStats:
    """One person's numbers in the window."""

    actor_id: int
    posts: int = 0
    given: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EDGE_KINDS, 0))
    received: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EDGE_KINDS, 0))
    role_actions: int = 0
    roadmap_changes: int = 0
    responders: int = 0  # distinct people who replied to, boosted or liked their posts
    reached: int = 0  # distinct people they replied to, mentioned, boosted or liked
    in_degree: int = 0  # distinct people with any interaction towards them
    out_degree: int = 0
    pagerank: float = 0.0
    centrality: float = 0.0  # PageRank relative to the mean (1.0 = average)
    profile: str = "observer"

    @property
    def responses_received(self) -> int:
        return self.received["reply"] + self.received["boost"] + self.received["like"]

    @property
    def responses_given(self) -> int:
        return self.given["reply"] + self.given["boost"] + self.given["like"]

    @property
    def reactions_given(self) -> int:
        return self.given["boost"] + self.given["like"]

    @property
    def responses_per_post(self) -> float:
        return self.responses_received / self.posts if self.posts else 0.0

    @property
    def activity(self) -> int:
        """What the person did themselves (received attention does not count)."""
        return (
            self.posts
            + self.given["reply"]
            + self.given["mention"]
            + self.reactions_given
            + self.role_actions
            + self.roadmap_changes
        )


@dataclass(frozen=True, slots=True)
class Edge:
    """One interaction: ``source`` gave attention to ``target`` in ``week`` (an index)."""

    source: int
    target: int
    kind: str
    week: int


def pagerank(
    nodes: list[int],
    weights: dict[tuple[int, int], float],
    *,
    damping: float = DAMPING,
    iterations: int = 100,
    tolerance: float = 1e-10,
) -> dict[int, float]:
    """Weighted PageRank by power iteration; dangling nodes spread their rank evenly. Deterministic."""
    n = len(nodes)
    if n == 0:
        return {}
    index = {node: i for i, node in enumerate(sorted(nodes))}
    out_weight = [0.0] * n
    links: list[tuple[int, int, float]] = []
    for (src, dst), w in sorted(weights.items()):
        if src in index and dst in index and src != dst and w > 0:
            links.append((index[src], index[dst], w))
            out_weight[index[src]] += w
    rank = [1.0 / n] * n
    for _ in range(iterations):
        dangling = sum(rank[i] for i in range(n) if out_weight[i] == 0.0)
        base = (1.0 - damping) / n + damping * dangling / n
        new = [base] * n
        for i, j, w in links:
            new[j] += damping * rank[i] * w / out_weight[i]
        delta = sum(abs(a - b) for a, b in zip(new, rank, strict=False))
        rank = new
        if delta < tolerance:
            break
    return {node: rank[i] for node, i in index.items()}


def measure(stats: dict[int, PersonStats], edges: list[Edge]) -> None:
    """Fill the interaction counts, distinct reach, degrees and PageRank of ``stats`` from ``edges``.

    People who appear only in edges get a PersonStats too (they take part in the graph)."""
    responders: dict[int, set[int]] = defaultdict(set)
    reached: dict[int, set[int]] = defaultdict(set)
    ins: dict[int, set[int]] = defaultdict(set)
    weights: dict[tuple[int, int], float] = defaultdict(float)
    for e in edges:
        if e.source == e.target:
            continue
        src = stats.setdefault(e.source, PersonStats(e.source))
        dst = stats.setdefault(e.target, PersonStats(e.target))
        src.given[e.kind] += 1
        dst.received[e.kind] += 1
        if e.kind in ("reply", "boost", "like"):
            responders[e.target].add(e.source)
        if e.kind != "credit":
            reached[e.source].add(e.target)
        ins[e.target].add(e.source)
        weights[(e.source, e.target)] += EDGE_WEIGHTS[e.kind]
    outs: dict[int, set[int]] = defaultdict(set)
    for source, target in weights:
        outs[source].add(target)
    ranks = pagerank(list(stats), weights)
    mean = 1.0 / len(stats) if stats else 0.0
    for actor_id, s in stats.items():
        s.responders = len(responders[actor_id])
        s.reached = len(reached[actor_id])
        s.in_degree = len(ins[actor_id])
        s.out_degree = len(outs[actor_id])
        s.pagerank = ranks.get(actor_id, 0.0)
        s.centrality = s.pagerank / mean if mean else 0.0


def classify(s: PersonStats, th: Thresholds) -> str:
    """The profile of one person under the documented rules (see the module docstring)."""
    if (
        s.posts >= th.catalyst_min_posts
        and s.responders >= th.catalyst_min_responders
        and s.responses_per_post >= th.catalyst_min_response_rate
    ):
        return "catalyst"
    if s.activity < th.observer_below:
        return "observer"
    if (
        s.posts >= th.broadcaster_min_posts
        and s.responses_per_post < th.broadcaster_max_response_rate
        and s.posts > s.responses_given
    ):
        return "broadcaster"
    if s.given["reply"] >= 1 and s.reactions_given >= 1 and s.reached >= th.engager_min_reach:
        return "engager"
    return "broadcaster" if s.posts > s.responses_given else "responder"


def is_leader(s: PersonStats, th: Thresholds) -> bool:
    """A catalyst, or a central person who draws responses from many people."""
    return s.profile == "catalyst" or (
        s.centrality >= th.leader_centrality and s.responders >= th.catalyst_min_responders
    )
