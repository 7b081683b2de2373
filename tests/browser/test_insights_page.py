"""In a real headless Chromium: a manager opens the insights page of the generated 300-member
community (tests/server/insights_data.py); the informal leaders are named and every SVG chart is
drawn with a visible size. A screenshot goes to test-artifacts/insights-page.png."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from tests.browser.cdp import Browser
from tests.browser.test_first_visit import ARTIFACTS
from tests.conftest import PASSWORD, Instance
from tests.server import insights_data as gen

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHARTS = ("chart-profiles", "chart-weekly", "chart-profile-trend", "chart-ranking")


async def test_manager_sees_leaders_and_charts(browser: Browser, instance: Instance) -> None:  # noqa: F811
    boss = await instance.create_member("boss")
    await gen.build(instance.ctx, "boss", boss.actor_id)
    run = (
        asyncio.to_thread
    )  # the browser blocks; the instance serves from this event loop meanwhile

    await run(browser.goto, instance.url + "/login")
    await run(browser.submit, "/login", {"login": "boss", "password": PASSWORD})
    await run(browser.goto, instance.url + f"/c/{gen.HANDLE}/insights")
    text = await run(browser.text)
    assert "Informal leaders" in text, text[:2000]
    leaders = text.split("Informal leaders", 1)[1].split("Quiet members", 1)[0]
    assert all(f"@{u}" in leaders for u in gen.CATALYSTS_INFORMAL), leaders

    sizes = await run(
        browser.evaluate,
        """JSON.stringify(Object.fromEntries(
        [...document.querySelectorAll('svg.chart')].map(s => {
          const r = s.getBoundingClientRect();
          const style = getComputedStyle(s);
          return [s.id, {w: r.width, h: r.height, visible: style.visibility === 'visible' && style.display !== 'none',
                         title: s.querySelector('title')?.textContent, marks: s.querySelectorAll('rect, polyline').length}];
        })))""",
    )
    charts = json.loads(sizes)
    assert set(CHARTS) <= set(charts), charts
    for name in CHARTS:
        c = charts[name]
        assert c["w"] > 100 and c["h"] > 50 and c["visible"] and c["title"] and c["marks"] > 0, (
            name,
            c,
        )
    await run(browser.screenshot, ARTIFACTS / "insights-page.png")
    assert (ARTIFACTS / "insights-page.png").stat().st_size > 10_000
    # the charts part, readable at a glance (the full page is long: one table row per member)
    top = await run(
        browser.send,
        "Page.captureScreenshot",
        format="png",
        captureBeyondViewport=True,
        clip={"x": 0, "y": 0, "width": 1280, "height": 2200, "scale": 1},
    )
    (ARTIFACTS / "insights-charts.png").write_bytes(base64.b64decode(top["data"]))

    # at phone width every chart fills its column and no label is drawn smaller than 12 px
    await run(
        browser.send,
        "Emulation.setDeviceMetricsOverride",
        width=390,
        height=844,
        deviceScaleFactor=1,
        mobile=True,
    )
    await run(browser.goto, instance.url + f"/c/{gen.HANDLE}/insights")
    phone = json.loads(
        await run(
            browser.evaluate,
            """JSON.stringify([...document.querySelectorAll('svg.chart')].map(s => ({
              id: s.id,
              fill: s.getBoundingClientRect().width / s.parentElement.getBoundingClientRect().width,
              right: s.getBoundingClientRect().right,
              smallest: Math.min(...[...s.querySelectorAll('text')].map(
                t => parseFloat(getComputedStyle(t).fontSize) * s.getScreenCTM().a)),
            })))""",
        )
    )
    assert {c["id"] for c in phone} >= set(CHARTS), phone
    for c in phone:
        assert c["fill"] > 0.95 and c["right"] <= 390 and c["smallest"] >= 12, c
    await run(browser.screenshot, ARTIFACTS / "insights-phone.png")
    await run(browser.send, "Emulation.clearDeviceMetricsOverride")
