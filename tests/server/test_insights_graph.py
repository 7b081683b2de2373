"""The graph math and profile rules of insights on small hand-made graphs."""

from __future__ import annotations

import pytest

from server.services.insights_graph import (
    Edge,
    PersonStats,
    Thresholds,
    classify,
    is_leader,
    measure,
    pagerank,
)


def test_pagerank_sums_to_one_and_favours_the_attended() -> None:
    weights = {(1, 3): 1.0, (2, 3): 1.0, (4, 3): 1.0, (3, 1): 1.0}
    ranks = pagerank([1, 2, 3, 4, 5], weights)
    assert sum(ranks.values()) == pytest.approx(1.0)
    assert max(ranks, key=ranks.__getitem__) == 3
    assert ranks[1] > ranks[2] == pytest.approx(ranks[4])  # 3 passes its rank on to 1
    assert (
        pagerank([5, 4, 3, 2, 1], dict(reversed(list(weights.items())))) == ranks
    )  # order does not matter
    assert pagerank([], {}) == {}


def test_thresholds_grow_with_the_community() -> None:
    assert Thresholds.for_members(6).catalyst_min_responders == 3
    assert Thresholds.for_members(300).catalyst_min_responders == 15
    assert Thresholds.for_members(300).engager_min_reach == 9


def _graph(edges: list[tuple[int, int, str]], posts: dict[int, int]) -> dict[int, PersonStats]:
    stats = {a: PersonStats(a, posts=n) for a, n in posts.items()}
    measure(stats, [Edge(s, t, k, 0) for s, t, k in edges])
    th = Thresholds.for_members(len(stats))
    for s in stats.values():
        s.profile = classify(s, th)
    return stats


def test_profiles_follow_the_documented_rules() -> None:
    edges = [
        (r, 1, kind) for r in (10, 11, 12, 13) for kind in ("reply", "like")
    ]  # 1 sparks responses
    edges += [
        (20, t, kind) for t in (10, 11, 12) for kind in ("reply", "like")
    ]  # 20 engages widely
    edges += [(30, 10, "reply")] * 4  # 30 replies, to one person
    edges += [(1, 1, "reply")]  # a self-reply is not an interaction
    stats = _graph(edges, {1: 2, 2: 6, 10: 1, 11: 1, 12: 1, 13: 0, 20: 0, 30: 0, 40: 0})
    th = Thresholds.for_members(len(stats))
    assert (
        stats[1].profile == "catalyst"
        and stats[1].responders == 4
        and stats[1].received["reply"] == 4
    )
    assert stats[2].profile == "broadcaster"  # six posts, nobody answers
    assert stats[20].profile == "engager" and stats[20].reached == 3
    assert stats[30].profile == "responder"
    assert (
        stats[40].profile == "observer" and stats[13].profile == "observer"
    )  # 13 gave two responses only
    assert is_leader(stats[1], th) and not is_leader(stats[20], th)
    assert stats[1].in_degree == 4 and stats[20].out_degree == 3
    assert stats[1].centrality > 1.0 > stats[40].centrality
