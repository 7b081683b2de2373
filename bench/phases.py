"""The worker phases of a benchmark run (a ``koers worker`` process each): the queued
deliveries sent to the loopback sink, and the stored activities applied; then a whole run."""

from __future__ import annotations

import asyncio
import os
import shutil
import time

from bench.fediverse import Actors, Sink, new_key, rsa_limit
from bench.procs import cpu_seconds, descendants_cpu, free_port, start_koers
from bench.store import Store
from bench.suite import Figure, Options, Report, Run

POLL = 0.05


async def measure_delivery(run: Run, store: Store, sink: Sink, limit: float) -> None:
    """Signed POSTs per second from the worker to the sink, against the RSA signing limit."""
    waiting = await store.deliveries_waiting()
    if not waiting:
        run.say("no deliveries queued: delivery not measured")
        return
    worker = start_koers(["worker"], run.settings, run.workdir, "worker-delivery")
    try:
        deadline = time.monotonic() + 120
        while not sink.received and time.monotonic() < deadline and worker.alive():
            await asyncio.sleep(POLL / 5)
        before, first = await run.snapshot([worker]), sink.received
        helpers = descendants_cpu(worker.proc.pid), cpu_seconds(os.getpid())
        stop = time.monotonic() + run.o.seconds * 2
        while time.monotonic() < stop and await store.deliveries_waiting():
            await asyncio.sleep(POLL)
        after, n = await run.snapshot([worker]), sink.received - first
        pool, here = (
            (descendants_cpu(worker.proc.pid) - helpers[0]) * 1000 / max(n, 1),
            (cpu_seconds(os.getpid()) - helpers[1]) * 1000 / max(n, 1),
        )
        took = max(sink.last - sink.first, 1e-6)
    finally:
        worker.stop()
    await store.clear_queues()
    rate = (sink.received - 1) / took if sink.received > 1 else 0.0
    stmts, txns, cpu, note = before.per(after, n)
    run.report.figures.append(
        Figure(
            "delivery (signed POSTs to the sink)",
            rate,
            statements=stmts,
            transactions=txns,
            cpu_ms=cpu,
            db_cpu_ms=before.db_ms(after, n),
            ratio=rate / limit,
            count=sink.received,
            note=f"ratio to the RSA-2048 signing limit {limit:,.0f}/s; {waiting} queued; CPU ms "
            f"per delivery besides the worker's: signing pool {pool:.2f}, sink {here:.2f}",
        )
    )
    run.say(f"delivery: {rate:,.1f}/s ({sink.received} of {waiting} sent)")


async def measure_inbox_processed(run: Run, store: Store) -> None:
    """Activities applied per second by the inbox worker."""
    waiting = await store.inbox_waiting()
    if not waiting:
        run.say("no activities stored: inbox processing not measured")
        return
    worker = start_koers(["worker"], run.settings, run.workdir, "worker-inbox")
    try:
        deadline = time.monotonic() + 120
        while await store.inbox_waiting() == waiting and time.monotonic() < deadline:
            if not worker.alive():
                raise SystemExit("bench: the worker ended:\n" + worker.log.read_text()[-3000:])  # type: ignore[union-attr]
            await asyncio.sleep(POLL / 5)
        before, started = await run.snapshot([worker]), time.monotonic()
        left = await store.inbox_waiting()
        stop = started + run.o.seconds * 3
        while time.monotonic() < stop and (now := await store.inbox_waiting()):
            left = now
            await asyncio.sleep(POLL)
        left = await store.inbox_waiting()
        after, took = await run.snapshot([worker]), time.monotonic() - started
    finally:
        worker.stop()
    done = waiting - left
    rate = done / took
    stmts, txns, cpu, note = before.per(after, done)
    states = await store.rows(
        "SELECT state, count(*) FROM activities WHERE direction = 'in' GROUP BY state"
    )
    run.report.figures.append(
        Figure(
            "inbox processed (activities applied)",
            rate,
            statements=stmts,
            transactions=txns,
            cpu_ms=cpu,
            db_cpu_ms=before.db_ms(after, done),
            ratio=rate / run.bare_rate,
            count=done,
            note=f"{waiting} stored; states now {dict(states)}" + (f"; {note}" if note else ""),
        )
    )
    run.say(f"inbox processed: {rate:,.1f}/s ({done} of {waiting})")


async def execute(opts: Options) -> Report:
    """A whole run; the figures and facts in its report."""
    run = Run(opts)
    store = await Store.open(opts.database_url, str(opts.data))
    run.store = store
    actors, sink = Actors(new_key()), Sink()
    try:
        bench = await store.actor_id(opts.made["user"])
        await store.clear_queues()
        await actors.start(free_port())
        await sink.start(free_port())
        await store.follow_loopback_actors(bench, actors)
        hosts = await store.point_followers_at(bench, sink)
        run.report.facts["follower_hosts_on_sink"] = hosts
        if opts.federation:
            one, total = rsa_limit(min(opts.seconds, 3.0), os.cpu_count() or 1)
            run.report.facts["rsa_sign_per_s_one_core"] = round(one)
            run.report.facts["rsa_sign_per_s_all_cores"] = round(total)
            run.say(f"RSA-2048 signing: {one:,.0f}/s on one core, {total:,.0f}/s on all")
        await run.measure_bare()
        await run.start_web()
        await run.measure_web()
        if opts.federation:
            limit = max(run.report.facts["rsa_sign_per_s_one_core"], total)
            await measure_delivery(run, store, sink, limit)
        await run.measure_inbox_accepted(actors)
        if opts.federation:
            await measure_inbox_processed(run, store)
        for p in run.web:
            p.stop()
        run.web = []
        await run.measure_bare()
        for figure in run.report.figures:
            if not figure.name.startswith("delivery"):
                figure.ratio = figure.rate / run.bare_rate
        run.report.facts["bare_req_per_s"] = [round(r) for r in run.bare]
        if any(f.errors for f in run.report.figures):
            run.report.facts["logs"] = str(run.workdir)  # the server logs tell what failed
        else:
            shutil.rmtree(run.workdir, ignore_errors=True)  # kept, too, when a run fails
    finally:
        for p in run.web:
            p.stop()
        await actors.stop()
        await sink.stop()
        await store.close()
    return run.report
