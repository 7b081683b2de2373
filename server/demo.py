"""``koers demo``: a ready instance with realistic sample data for one organisation.

Everything is created through the services (not raw inserts), so the data obeys the same rules as
real use: eight members with bios and competencies, three communities (open, approval, invite-only)
with purposes (one revised), roles of every fill mode (held, requested, vacant), roadmap items in
every status with their history, results linked to items and roles, posts in all seven audiences,
follows, a locked account with a pending follow request and a pending join request.
Running it again on the same data directory only returns the logins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa

from server import clock
from server.activitypub.core.ingest import post_from_activity
from server.activitypub.roadmap.sync import store_item
from server.activitypub.roles.sync import store_remote_role
from server.config import Settings
from server.context import Context
from server.services import (
    accounts,
    communities,
    community_events,
    federation_admin,
    follows,
    idea_outcomes,
    ideas,
    initiatives,
    kudos,
    posts,
    purpose,
    purpose_endorsements,
    purpose_phases,
    purpose_proposals,
    roadmap,
    roadmap_social,
    role_terms,
    roles,
)
from server.services import purpose as purpose_service
from server.services.posts import Draft
from server.services.purpose_proposals import insert_index_row
from server.storage import schema as t
from server.storage.db import Database, migrate
from server.storage.rows import inserted_id
from server.visibility import Audience

log = logging.getLogger(__name__)

DEMO_PASSWORD = "koers-demo"

# username, display name, bio, competencies (name, level)
PEOPLE: list[tuple[str, str, str, list[tuple[str, str | None]]]] = [
    (
        "lotte",
        "Lotte de Vries",
        "Sustainability lead. I connect people who want to make our buildings **fossil-free**.",
        [
            ("facilitation", "expert"),
            ("energy policy", "practised"),
            ("project management", "expert"),
        ],
    ),
    (
        "samir",
        "Samir El Amrani",
        "Facilities engineer; heat pumps, solar and the occasional pub quiz.",
        [("heat pumps", "expert"), ("solar pv", "practised"), ("event hosting", "practised")],
    ),
    (
        "ingrid",
        "Ingrid Bakker",
        "Head chef of the staff restaurant. Food waste is a design flaw.",
        [("cooking", "expert"), ("supply chains", "practised"), ("food safety", "expert")],
    ),
    (
        "joris",
        "Joris Jansen",
        "Data analyst. I keep my account locked; ask and I will probably accept.",
        [("data analysis", "expert"), ("python", "practised"), ("energy policy", "learning")],
    ),
    (
        "mei",
        "Mei Chen",
        "Procurement. Learning everything about circular sourcing.",
        [("supply chains", "expert"), ("data analysis", "learning"), ("negotiation", "practised")],
    ),
    (
        "pieter",
        "Pieter Visser",
        "HR business partner and mentor for new colleagues.",
        [("mentoring", "expert"), ("facilitation", "practised"), ("coaching", "practised")],
    ),
    (
        "anouk",
        "Anouk Smit",
        "Partner manager. I bring our partner organisations to the table.",
        [("mentoring", "practised"), ("negotiation", "expert"), ("event hosting", "learning")],
    ),
    (
        "daan",
        "Daan Mulder",
        "Customer and neighbour of the head office; interested in the energy lab.",
        [("solar pv", "learning"), ("python", "learning")],
    ),
]


async def load_demo(settings: Settings, progress: Callable[[str], None]) -> list[str]:
    """Migrate the database and fill it with the demo (once); returns the logins, admin first."""
    logins = [p[0] for p in PEOPLE]
    db = Database(settings.database_url)
    try:
        await db.check()
        progress("migrating the database")
        await migrate(db)
        async with db.read() as conn:
            exists = (
                await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.username == logins[0]))
            ).first()
        if exists:
            progress("demo data already present")
            return logins
        ctx = Context(db, settings)
        ctx.organization_id = await accounts.ensure_organization(db, settings)
        ids = await _people(ctx, progress)
        await _communities(ctx, ids, progress)
        await _demo_insights(ctx, ids, progress)
        await _demo_purpose(ctx, ids, progress)
        await _demo_events_and_roadmap_follows(ctx, ids, progress)
        await _demo_ideas(ctx, ids, progress)
        await _demo_federation_admin(ctx, progress)
        await _demo_terms_and_initiatives(ctx, ids, progress)
        await _demo_remote_roadmap(ctx, ids, progress)
        await _demo_remote_roles(ctx, ids, progress)
        await _demo_remote_purpose(ctx, ids, progress)
        progress("demo ready")
    finally:
        await db.close()
    return logins


async def _people(ctx: Context, progress: Callable[[str], None]) -> dict[str, int]:
    progress(f"creating {len(PEOPLE)} members")
    ids: dict[str, int] = {}
    for i, (username, name, bio, skills) in enumerate(PEOPLE):
        account = await accounts.create_account(
            ctx.db,
            ctx.settings,
            username=username,
            email=f"{username}@example.org",
            password=DEMO_PASSWORD,
            display_name=name,
            is_admin=i == 0,
        )
        await accounts.update_profile(
            ctx.db,
            account.user_id,
            bio=bio,
            locked=username == "joris",
            fields=[("Team", name.split()[0] + "'s team")],
        )
        await accounts.set_competencies(ctx.db, account.actor_id, skills)
        ids[username] = account.actor_id
    progress("following each other (joris is locked: daan's request waits)")
    for follower, target in [
        ("samir", "lotte"),
        ("ingrid", "lotte"),
        ("mei", "ingrid"),
        ("lotte", "samir"),
        ("pieter", "anouk"),
        ("anouk", "pieter"),
        ("daan", "samir"),
        ("mei", "joris"),
        ("lotte", "ingrid"),
        ("samir", "joris"),
        ("daan", "joris"),
    ]:
        await follows.follow(ctx, ids[follower], ids[target])
    # joris accepts two of his three requests; daan's stays pending
    await follows.accept_follow(ctx, ids["joris"], ids["mei"], ids["joris"])
    await follows.accept_follow(ctx, ids["joris"], ids["samir"], ids["joris"])
    return ids


async def _communities(ctx: Context, ids: dict[str, int], progress: Callable[[str], None]) -> None:
    progress("starting three communities")
    energy = await communities.create_community(
        ctx,
        ids["lotte"],
        handle="energy",
        name="Energy Transition Lab",
        purpose_text="Make our offices run on renewable energy by 2030.",
        description="Engineers, analysts, customers and neighbours working on **fossil-free buildings**.",
        openness="open",
        member_list_visibility="public",
    )
    await purpose.change_purpose(
        ctx,
        ids["lotte"],
        energy.id,
        "Make our offices and our neighbourhood run on renewable energy by 2030, and share what we learn openly.",
        "Neighbours joined us; the goal should include them and promise open results.",
    )
    kitchen = await communities.create_community(
        ctx,
        ids["ingrid"],
        handle="circular_kitchen",
        name="Circular Kitchen",
        purpose_text="Halve the food waste of our staff restaurants and source locally.",
        description="Chefs, buyers and eaters. Join on approval so we can welcome you properly.",
        openness="approval",
        member_list_visibility="instance",
    )
    mentors = await communities.create_community(
        ctx,
        ids["pieter"],
        handle="mentoring",
        name="Mentoring Circle",
        purpose_text="Every newcomer has a mentor within their first week.",
        description="A small circle of mentors; managers invite new mentors.",
        openness="invite",
        member_list_visibility="members",
    )

    progress("members join (one join request stays pending)")
    for who in ("samir", "joris", "mei", "daan", "anouk"):
        await communities.join(ctx, ids[who], energy.id)
    for who in ("mei", "lotte"):
        await communities.join(ctx, ids[who], kitchen.id)
        await communities.approve_join(ctx, ids["ingrid"], kitchen.id, ids[who])
    await communities.join(ctx, ids["daan"], kitchen.id)  # pending: a manager has not decided yet
    for who in ("anouk", "lotte"):
        await communities.add_member(ctx, ids["pieter"], mentors.id, who)
    await communities.add_manager(ctx, ids["lotte"], energy.id, ids["samir"])

    progress("defining roles of every fill mode")
    owner = await roles.create_role(
        ctx,
        ids["lotte"],
        energy.id,
        name="Roadmap owner",
        fill_mode="assigned",
        description="Keeps the roadmap honest and current.",
        competencies=[("project management", "practised")],
    )
    host = await roles.create_role(
        ctx,
        ids["lotte"],
        energy.id,
        name="Event host",
        fill_mode="open",
        description="Hosts the monthly open lab evening.",
        competencies=[("event hosting", None)],
    )
    analyst = await roles.create_role(
        ctx,
        ids["lotte"],
        energy.id,
        name="Data analyst",
        fill_mode="approval",
        description="Turns meter readings into insight.",
        competencies=[("data analysis", "practised"), ("python", None)],
    )
    await roles.create_role(
        ctx,
        ids["lotte"],
        energy.id,
        name="Neighbourhood contact",
        fill_mode="open",
        description="First contact for neighbours who want to join in.",
    )
    await roles.assign_role(ctx, ids["lotte"], owner, ids["lotte"])
    await roles.claim_role(ctx, ids["samir"], host)
    await roles.claim_role(ctx, ids["joris"], analyst)
    await roles.assign_role(ctx, ids["lotte"], analyst, ids["joris"])
    await roles.claim_role(ctx, ids["mei"], analyst)  # requested, waiting for a manager
    liaison = await roles.create_role(
        ctx,
        ids["ingrid"],
        kitchen.id,
        name="Supplier liaison",
        fill_mode="approval",
        competencies=[("supply chains", "practised")],
    )
    await roles.create_role(
        ctx,
        ids["ingrid"],
        kitchen.id,
        name="Recipe curator",
        fill_mode="open",
        competencies=[("cooking", None)],
    )
    await roles.claim_role(ctx, ids["mei"], liaison)
    await roles.assign_role(ctx, ids["ingrid"], liaison, ids["mei"])
    coordinator = await roles.create_role(
        ctx,
        ids["pieter"],
        mentors.id,
        name="Mentor coordinator",
        fill_mode="assigned",
        competencies=[("mentoring", "expert")],
    )
    await roles.create_role(ctx, ids["pieter"], mentors.id, name="Buddy", fill_mode="open")
    await roles.assign_role(ctx, ids["pieter"], coordinator, ids["anouk"])

    progress("building roadmaps with items in every status")
    items = {}
    for title, steps, audience in [
        ("Solar roofs on every office", [], "public"),
        ("Heat pump pilot in building B", ["planned"], "public"),
        ("Energy dashboard for all sites", ["planned", "in_progress"], "public"),
        ("LED retrofit of the head office", ["planned", "in_progress", "done"], "public"),
        ("Wind turbine on the car park", ["dropped"], "public"),
        ("Budget for 2027 investments", ["planned"], "community"),
    ]:
        item = await roadmap.create_item(
            ctx,
            ids["lotte"],
            energy.id,
            title=title,
            audience=audience,
            owner_role_id=owner,
            description=f"{title}: see the lab evenings.",
        )
        for step in steps:
            note = "the municipality refused the permit" if step == "dropped" else ""
            await roadmap.change_status(ctx, ids["lotte"], item, step, note)
        items[title] = item
    waste = await roadmap.create_item(
        ctx, ids["ingrid"], kitchen.id, title="Weigh food waste daily", status="in_progress"
    )
    await roadmap.create_item(
        ctx,
        ids["pieter"],
        mentors.id,
        title="Mentor match for spring starters",
        status="planned",
        audience="members",
    )

    progress("publishing results")
    result = [
        (
            ids["lotte"],
            energy.id,
            "LED retrofit done: 38% less lighting energy",
            "All 1,240 fittings replaced. Measured over four weeks: **38% less** electricity for lighting.",
            items["LED retrofit of the head office"],
            (owner, host),
            Audience.PUBLIC,
        ),
        (
            ids["joris"],
            energy.id,
            "Dashboard beta for the lab",
            "The first dashboard runs on meter data of two sites; feedback welcome in the lab.",
            items["Energy dashboard for all sites"],
            (analyst,),
            Audience.COMMUNITY,
        ),
        (
            ids["mei"],
            kitchen.id,
            "Zero-waste lunch week",
            "One week without waste bins in the restaurant: 41 kg less waste than a normal week.",
            waste,
            (liaison,),
            Audience.PUBLIC,
        ),
        (
            ids["anouk"],
            mentors.id,
            "Twelve mentors ready",
            "Twelve colleagues finished the mentor training.",
            None,
            (coordinator,),
            Audience.MEMBERS,
        ),
    ]
    for author, community_id, title, body, result_item, role_ids, audience in result:
        await posts.create_post(
            ctx,
            author,
            Draft(
                source=body,
                kind="result",
                title=title,
                community_id=community_id,
                roadmap_item_id=result_item,
                role_ids=role_ids,
                audience=audience,
            ),
        )

    progress("writing posts in all seven audiences")
    for handle, body, audience, place in [
        (
            "samir",
            "Open lab evening on Thursday: we measure the heat pump's COP live. #energy",
            Audience.PUBLIC,
            energy.id,
        ),
        (
            "ingrid",
            "Our soup of the week is made from yesterday's vegetables. Recipe: link in the kitchen.",
            Audience.UNLISTED,
            None,
        ),
        (
            "joris",
            "Draft analysis of the winter peak is in the shared folder.",
            Audience.FOLLOWERS,
            None,
        ),
        (
            "mei",
            "Two local suppliers offered returnable crates. Shall we try them?",
            Audience.COMMUNITY,
            kitchen.id,
        ),
        (
            "pieter",
            "Reminder for all colleagues: the mentoring sign-up closes Friday.",
            Audience.MEMBERS,
            None,
        ),
        (
            "anouk",
            "For our partners: the joint energy workshop is on 12 March.",
            Audience.PARTNERS,
            None,
        ),
        ("lotte", "@samir could you host the lab evening in April as well?", Audience.DIRECT, None),
        (
            "lotte",
            "Welcome to everyone who joined the Energy Transition Lab this week! #energy",
            Audience.PUBLIC,
            None,
        ),
    ]:
        await posts.create_post(
            ctx, ids[handle], Draft(source=body, audience=audience, community_id=place)
        )
    log.info("demo data created")


# daan (a neighbour, no role, not a manager) starts the threads everyone answers: the insights
# page of the Energy Transition Lab names him its informal leader.
INSIGHT_THREADS: list[tuple[str, Audience, list[tuple[str, str]]]] = [
    (
        "Could the lab share anonymised meter data with the neighbourhood? We would love to compare our homes.",
        Audience.PUBLIC,
        [
            ("lotte", "Yes, let's put it on the roadmap."),
            ("joris", "I can prepare a weekly export."),
            ("samir", "Heat pump data too? The COP numbers are the interesting part."),
            ("mei", "Suppliers keep asking for this as well."),
            ("anouk", "Our partners would join in."),
        ],
    ),
    (
        "Idea: a neighbourhood solar co-op on the car park roof, so the wind turbine plan is not the end of it.",
        Audience.COMMUNITY,
        [
            ("samir", "The roof can carry about 400 panels."),
            ("lotte", "Let's discuss it on Thursday."),
            ("joris", "I'll model the yield against our load curve."),
        ],
    ),
    (
        "Who joins a walk past the new heat pumps on Saturday? Neighbours are very welcome.",
        Audience.COMMUNITY,
        [
            ("anouk", "Count me in, with two partner colleagues."),
            ("mei", "I'll bring coffee."),
            ("samir", "I'll open the plant room for you."),
        ],
    ),
]


async def _demo_insights(
    ctx: Context, ids: dict[str, int], progress: Callable[[str], None]
) -> None:
    """Conversations in the Energy Transition Lab with a clear informal leader (see ``INSIGHT_THREADS``)."""
    progress("conversations in the energy lab (insights: daan leads informally)")
    async with ctx.db.read() as conn:
        energy = await communities.get_by_handle(conn, "energy")
    for body, audience, replies in INSIGHT_THREADS:
        thread = await posts.create_post(
            ctx, ids["daan"], Draft(source=body, audience=audience, community_id=energy.id)
        )
        for who, text in replies:
            await posts.create_post(
                ctx,
                ids[who],
                Draft(
                    source=text, audience=audience, in_reply_to_id=thread, community_id=energy.id
                ),
            )
        for who in ("lotte", "samir", "joris", "mei", "anouk"):
            await posts.favourite(ctx, ids[who], thread)
        if audience is Audience.PUBLIC:
            for who in ("samir", "anouk"):
                await posts.reblog(ctx, ids[who], thread)


async def _demo_events_and_roadmap_follows(
    ctx: Context, ids: dict[str, int], progress: Callable[[str], None]
) -> None:
    """An upcoming networking drink with RSVPs, a workshop with a request waiting for approval, a past
    lab evening; supports and followers on the energy lab's roadmap items."""

    progress("planning events and supporting roadmap items")
    async with ctx.db.read() as conn:
        energy = await communities.get_by_handle(conn, "energy")
        item_rows = list(
            await conn.execute(
                sa.select(t.roadmap_items.c.id, t.roadmap_items.c.title).where(
                    t.roadmap_items.c.community_id == energy.id
                )
            )
        )
    soon = (clock.now() + timedelta(days=9)).replace(hour=17, minute=0, second=0, microsecond=0)
    drinks = await community_events.create_event(
        ctx,
        ids["lotte"],
        energy.id,
        community_events.EventInput(
            title="Networking drinks: energy lab x partners",
            description="Meet the lab and our partner organisations. **First round is on us.**",
            starts_at=soon,
            ends_at=soon + timedelta(hours=2),
            place_name="Café De Stroom",
            place_address="Stationsplein 12, Utrecht",
            capacity=30,
        ),
    )
    for name in ("samir", "ingrid", "joris", "daan", "anouk"):
        await community_events.rsvp(ctx, ids[name], drinks)
    workshop = await community_events.create_event(
        ctx,
        ids["samir"],
        energy.id,
        community_events.EventInput(
            title="Workshop: reading your meter data",
            description="Hands-on with the dashboard beta. Bring a laptop.",
            starts_at=soon + timedelta(days=5),
            ends_at=soon + timedelta(days=5, hours=3),
            online_url="https://meet.example.org/energy-lab",
            capacity=12,
            join_mode="approval",
            audience="community",
        ),
    )
    await community_events.rsvp(ctx, ids["joris"], workshop)
    await community_events.rsvp(ctx, ids["mei"], workshop)
    await community_events.decide(
        ctx, ids["samir"], workshop, ids["joris"], True
    )  # mei's request waits
    past = clock.now() - timedelta(days=20)
    evening = await community_events.create_event(
        ctx,
        ids["lotte"],
        energy.id,
        community_events.EventInput(
            title="Lab evening: heat pumps",
            starts_at=past,
            ends_at=past + timedelta(hours=2),
            place_name="Head office, room 4.12",
        ),
    )
    await community_events.rsvp(ctx, ids["samir"], evening)

    supporters = {
        "Solar roofs on every office": ("samir", "daan", "ingrid", "mei"),
        "Heat pump pilot in building B": ("joris", "daan"),
        "Energy dashboard for all sites": ("samir", "mei", "anouk"),
    }
    for item_id, title in item_rows:
        for name in supporters.get(title, ()):
            await roadmap_social.support(ctx, ids[name], item_id)
        if title in supporters:
            await roadmap_social.follow(ctx, ids["daan"], item_id)


async def _demo_purpose(ctx: Context, ids: dict[str, int], progress: Callable[[str], None]) -> None:
    """The purpose process: Energy's version 2 in force with endorsements pending; Circular Kitchen drafting
    with an open proposal under discussion."""

    progress("the purpose process: endorsements and a draft proposal")
    async with ctx.db.read() as conn:
        energy = await communities.get_by_handle(conn, "energy")
        kitchen = await communities.get_by_handle(conn, "circular_kitchen")
    async with ctx.db.write() as conn:  # Energy went through the process before version 2
        for phase in ("inventory", "discussion", "drafting", "decision", "in_force"):
            await purpose_phases.insert_phase(conn, energy.id, phase, ids["lotte"])
    for who in ("lotte", "samir", "joris"):
        await purpose_endorsements.endorse(
            ctx, ids[who], energy.id
        )  # mei, daan and anouk have not yet
    for phase in ("inventory", "discussion"):
        await purpose_phases.set_phase(ctx, ids["ingrid"], kitchen.id, phase)
    await purpose_phases.set_phase(
        ctx,
        ids["ingrid"],
        kitchen.id,
        "drafting",
        planned_end=clock.now() + timedelta(days=14),
        note="Propose changes to the text before the end of the month.",
    )
    post_id = await purpose_proposals.create_proposal(
        ctx,
        ids["mei"],
        kitchen.id,
        "Halve the food waste of our staff restaurants, source locally and return every crate we receive.",
        "Our suppliers now take crates back; let us make that part of what we promise.",
    )
    await posts.create_post(
        ctx,
        ids["lotte"],
        Draft(
            "Good idea. Can we say *reusable packaging* instead of crates, so it also covers jars?",
            audience=Audience.COMMUNITY,
            in_reply_to_id=post_id,
            community_id=kitchen.id,
        ),
    )


async def _demo_ideas(ctx: Context, ids: dict[str, int], progress: Callable[[str], None]) -> None:
    """The energy lab's idea box: a call for ideas, supported ideas, one merged into another, one put
    on the roadmap (its author told), one declined; a result crediting two people, with kudos."""

    progress("filling the energy lab's idea box")
    async with ctx.db.read() as conn:
        energy = await communities.get_by_handle(conn, "energy")
    await ideas.call_for_ideas(
        ctx,
        ids["lotte"],
        energy.id,
        "What would make our buildings greener this winter? Reply with your idea, from anywhere.",
    )
    bikes = await ideas.submit_idea(
        ctx,
        ids["daan"],
        energy.id,
        title="Bike sheds with solar roofs",
        description="The bike shed faces south and charges e-bikes for free.",
    )
    shutters = await ideas.submit_idea(
        ctx,
        ids["mei"],
        energy.id,
        title="Close the shutters at night",
        description="A simple routine for the facilities team in winter.",
    )
    duplicate = await ideas.submit_idea(
        ctx, ids["joris"], energy.id, title="Solar panels on the bicycle shelter"
    )
    await ideas.submit_idea(
        ctx,
        ids["samir"],
        energy.id,
        title="Swap the old fridges in the canteen",
        audience="community",
    )
    waves = await ideas.submit_idea(
        ctx, ids["anouk"], energy.id, title="A wave power pilot in the canal"
    )
    for name in ("samir", "mei", "anouk", "joris"):
        await ideas.support(ctx, ids[name], bikes)
    for name in ("joris", "daan"):
        await ideas.support(ctx, ids[name], shutters)
    await ideas.support(ctx, ids["anouk"], duplicate)
    await idea_outcomes.merge(ctx, ids["lotte"], duplicate, bikes)
    await idea_outcomes.promote_to_roadmap(ctx, ids["lotte"], shutters, status="planned")
    await idea_outcomes.decline(ctx, ids["lotte"], waves)

    result = await posts.create_post(
        ctx,
        ids["samir"],
        Draft(
            source="The meter readings of all sites now reach the dashboard every hour.",
            title="Hourly meter data",
            kind="result",
            community_id=energy.id,
            audience=Audience.PUBLIC,
            contributor_ids=(ids["joris"], ids["mei"]),
        ),
    )
    await kudos.give_kudos(
        ctx, ids["lotte"], result, ids["joris"], "the data pipeline is a joy to use"
    )


async def _demo_terms_and_initiatives(
    ctx: Context, ids: dict[str, int], progress: Callable[[str], None]
) -> None:
    """The energy lab's event host has a 90-day term that has passed (up for reconsideration, holder and
    managers told); daan leads an initiative, a repair café, that mei and anouk joined."""

    progress("a role term that has run out, and an initiative with its lead")
    async with ctx.db.read() as conn:
        energy = await communities.get_by_handle(conn, "energy")
        host = (
            await conn.execute(
                sa.select(t.roles.c.id).where(
                    t.roles.c.community_id == energy.id, t.roles.c.name == "Event host"
                )
            )
        ).scalar_one()
    await role_terms.set_term(ctx, ids["lotte"], host, 90)
    async with ctx.db.write() as conn:  # the demo's history: samir took the role 100 days ago
        await conn.execute(
            t.role_holders.update()
            .where(t.role_holders.c.role_id == host, t.role_holders.c.state == "held")
            .values(
                created_at=clock.now() - timedelta(days=100),
                ends_at=clock.now() - timedelta(days=10),
            )
        )
    await role_terms.sweep_role_terms(ctx)
    cafe = await initiatives.start(
        ctx,
        ids["daan"],
        energy.id,
        title="Repair café for office equipment",
        description="Once a month we fix chargers, lamps and heaters instead of buying new ones. Who joins?",
    )
    for name in ("mei", "anouk"):
        await roadmap_social.support(ctx, ids[name], cafe)


async def _demo_federation_admin(ctx: Context, progress: Callable[[str], None]) -> None:
    """What /admin/federation shows: a partner organisation (its members may co-manage our
    communities and see ``partners`` posts) and a silenced spam domain."""

    progress("adding a partner organisation and a domain block")
    await federation_admin.add_partner(
        ctx.db, "koers.waterschap.example", "Waterschap Rivierenland"
    )
    await federation_admin.block(ctx.db, "spam.example", "silence", "Advertising waves in replies")


async def _demo_remote_roadmap(
    ctx: Context, ids: dict[str, int], progress: Callable[[str], None]
) -> None:
    """A community of the partner organisation as this instance knows it (/c/rivers@koers.waterschap.example):
    its roadmap as the Group published it, anouk a member who supports one item and follows another,
    and her idea that the partner put on its roadmap. Nothing is sent (the partner is fictional)."""

    progress("adding a partner's community with its roadmap and ideas")
    host, now = "koers.waterschap.example", clock.now()
    group_uri = f"https://{host}/communities/rivers"
    public = "https://www.w3.org/ns/activitystreams#Public"
    items = [
        (1, "Green dyke pilot", "in_progress", 7, [public]),
        (2, "Open data on water levels", "planned", 4, [public]),
        (3, "Volunteer river clean-up", "done", 12, [public]),
        (4, "Shared sensor budget", "idea", 2, [group_uri]),
        (5, "Rain gardens on the campus", "planned", 1, [public]),
    ]
    async with ctx.db.write() as conn:
        res = await conn.execute(
            t.actors.insert().values(
                uri=group_uri,
                url=f"https://{host}/c/rivers",
                kind="group",
                username="rivers",
                domain=host,
                display_name="Living Rivers",
                summary_html="<p>Room for the river, together with the neighbours.</p>",
                inbox=f"{group_uri}/inbox",
                followers_url=f"{group_uri}/followers",
                created_at=now,
                updated_at=now,
                fetched_at=now,
            )
        )
        group = (
            await conn.execute(sa.select(t.actors).where(t.actors.c.id == inserted_id(res)))
        ).one()
        await conn.execute(
            t.follows.insert().values(
                follower_id=ids["anouk"], target_id=group.id, state="accepted", created_at=now
            )
        )
        stored = {}
        for n, title, status, supports, to in items:
            stored[n] = await store_item(
                conn,
                {
                    "id": f"https://{host}/c/rivers/roadmap/{n}",
                    "type": "Article",
                    "name": title,
                    "content": "",
                    "attributedTo": group_uri,
                    "audience": group_uri,
                    "to": to,
                    "cc": [f"{group_uri}/followers"],
                    "koers:status": status,
                    "likes": {"type": "Collection", "totalItems": supports},
                },
                group,
                notify=False,
            )
        community_id = (
            await conn.execute(
                sa.select(t.communities.c.id).where(t.communities.c.actor_id == group.id)
            )
        ).scalar_one()
        await conn.execute(
            t.communities.update()
            .where(t.communities.c.id == community_id)
            .values(name="Living Rivers")
        )
        await conn.execute(
            t.roadmap_supports.insert().values(
                item_id=stored[1], actor_id=ids["anouk"], created_at=now
            )
        )
        await conn.execute(
            t.roadmap_followers.insert().values(
                item_id=stored[2], actor_id=ids["anouk"], created_at=now
            )
        )
        await conn.execute(
            t.ideas.insert().values(
                community_id=community_id,
                author_id=ids["anouk"],
                title="Rain gardens on the campus",
                audience="public",
                status="promoted",
                promoted_kind="roadmap",
                promoted_to_id=stored[5],
                created_at=now,
                updated_at=now,
            )
        )


async def _demo_remote_roles(
    ctx: Context, ids: dict[str, int], progress: Callable[[str], None]
) -> None:
    """The partner community's roles as it published them (/c/rivers@koers.waterschap.example/roles): a
    river warden of the partner whose term has passed, anouk holding the open role of volunteer
    coordinator, and her claim of the approval role waiting for the partner's managers."""

    progress("adding the partner community's roles")
    host, now = "koers.waterschap.example", clock.now()
    async with ctx.db.write() as conn:
        group = (
            await conn.execute(
                sa.select(t.actors.c.id).where(
                    t.actors.c.username == "rivers", t.actors.c.domain == host
                )
            )
        ).first()
        if group is None:
            return
        community_id = (
            await conn.execute(
                sa.select(t.communities.c.id).where(t.communities.c.actor_id == group.id)
            )
        ).scalar_one()
        res = await conn.execute(
            t.actors.insert().values(
                uri=f"https://{host}/users/femke",
                url=f"https://{host}/@femke",
                kind="person",
                username="femke",
                domain=host,
                display_name="Femke de Wit",
                inbox=f"https://{host}/users/femke/inbox",
                created_at=now,
                updated_at=now,
                fetched_at=now,
            )
        )
        people = {f"https://{host}/users/femke": inserted_id(res)}
        anouk = (
            await conn.execute(sa.select(t.actors.c.uri).where(t.actors.c.id == ids["anouk"]))
        ).scalar_one()
        people[anouk] = ids["anouk"]
        roles_doc: list[
            tuple[str, str, int | None, str | None, datetime | None, list[tuple[str, str | None]]]
        ] = [
            (
                "River warden",
                "assigned",
                90,
                f"https://{host}/users/femke",
                now - timedelta(days=95),
                [("water management", "expert")],
            ),
            (
                "Volunteer coordinator",
                "open",
                180,
                anouk,
                now - timedelta(days=20),
                [("organising", None)],
            ),
            (
                "Sensor data analyst",
                "approval",
                None,
                None,
                None,
                [("data analysis", None), ("python", None)],
            ),
        ]
        stored = []
        for n, (name, fill_mode, term, holder, since, comps) in enumerate(roles_doc, start=1):
            uri = f"https://{host}/c/rivers/roles/{n}"
            terms = (
                [
                    {
                        "koers:holder": holder,
                        "startTime": clock.iso(since),
                        "koers:endsAt": clock.iso(since + timedelta(days=term)),
                    }
                ]
                if holder and term and since
                else []
            )
            stored.append(
                await store_remote_role(
                    conn,
                    community_id,
                    {
                        "id": uri,
                        "type": "Page",
                        "name": name,
                        "koers:role": True,
                        "koers:fillMode": fill_mode,
                        "koers:termDays": term,
                        "koers:competencies": [{"name": c, "koers:level": lv} for c, lv in comps],
                        "koers:holders": {
                            "id": f"{uri}/holders",
                            "type": "Collection",
                            "items": [holder] if holder else [],
                        },
                        "koers:terms": terms,
                    },
                    people,
                )
            )
        await conn.execute(
            t.role_holders.insert().values(
                role_id=stored[2], actor_id=ids["anouk"], state="requested", created_at=now
            )
        )


async def _demo_remote_purpose(
    ctx: Context, ids: dict[str, int], progress: Callable[[str], None]
) -> None:
    """The partner community's purpose process as this instance knows it (/c/rivers@koers.waterschap.example/purpose):
    two versions (anouk endorsed the first, the second asks her again), the drafting phase with its planned
    end, and a proposal by the partner's river warden with its word diff. Nothing is sent."""

    progress("adding the partner community's purpose process")
    host, now = "koers.waterschap.example", clock.now()
    group_uri = f"https://{host}/communities/rivers"
    texts = [
        "Give the river room.",
        "Give the river room, together with the people who live along it.",
    ]
    async with ctx.db.write() as conn:
        group = (
            await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.uri == group_uri))
        ).first()
        if group is None:
            return
        community_id = (
            await conn.execute(
                sa.select(t.communities.c.id).where(t.communities.c.actor_id == group.id)
            )
        ).scalar_one()
        for n, body in enumerate(texts, start=1):
            await purpose_service.record_remote_version(
                conn,
                community_id,
                n,
                f"<p>{body}</p>",
                reason="" if n == 1 else "The neighbours are part of it",
                uri=f"https://{host}/c/rivers/purpose/{n}",
                created_at=now - timedelta(days=120 - 100 * (n - 1)),
            )
        first = (
            await conn.execute(
                sa.select(t.purpose_versions.c.id).where(
                    t.purpose_versions.c.community_id == community_id,
                    t.purpose_versions.c.version == 1,
                )
            )
        ).scalar_one()
        await conn.execute(
            t.purpose_endorsements.insert().values(
                version_id=first, actor_id=ids["anouk"], created_at=now
            )
        )
        await purpose_phases.record_remote_phase(
            conn,
            community_id,
            "drafting",
            now - timedelta(days=3),
            planned_end=now + timedelta(days=18),
            note="Proposals until the spring tide",
        )
        warden = (
            await conn.execute(
                sa.select(t.actors).where(t.actors.c.uri == f"https://{host}/users/femke")
            )
        ).first()
        if warden is None:
            return
        proposed = (
            "Give the river room, together with the people and the nature that live along it."
        )
        post_id, _ = await post_from_activity(
            conn,
            {
                "id": f"https://{host}/users/femke/statuses/1",
                "type": "Note",
                "attributedTo": warden.uri,
                "content": f"<p>Proposal for the purpose of Living Rivers: nature too</p><blockquote>{proposed}</blockquote>",
                "to": [group_uri],
                "audience": group_uri,
                "published": clock.iso(now - timedelta(days=1)),
                "koers:proposal": {"text": proposed, "reason": "nature too"},
            },
            warden,
        )
        post = (await conn.execute(sa.select(t.posts).where(t.posts.c.id == post_id))).one()
        await insert_index_row(conn, post, community_id, proposed, "nature too", 2)
