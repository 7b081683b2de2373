// Koers: small enhancements; every page works without this script.
// A post card's buttons (forms marked data-card-action) are sent with fetch and the card the
// server renders comes back in place of the old one, so the feed keeps its scroll position.
"use strict";
// Numbers as the page's language writes them (1,234 / 1.234); the words the script shows come
// from the page too (data- attributes rendered through the catalogue), English only as a fallback.
const koersNumber = (n) => {
  try {
    return new Intl.NumberFormat(document.documentElement.lang || undefined).format(n);
  } catch (err) {
    return String(n);
  }
};
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-card-action")) return;
  const card = form.closest("[data-card]");
  if (!card || !window.fetch) return;
  event.preventDefault();
  const button = form.querySelector("button");
  if (button) button.disabled = true;
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Koers-Card": "1" },
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error("status " + response.status);
    const html = await response.text();
    const holder = document.createElement("div");
    holder.innerHTML = html.trim();
    const fresh = holder.querySelector("[data-card]");
    if (!fresh) throw new Error("no card in the answer");
    const verb = form.getAttribute("action").split("/").pop().replace(/^un/, "");
    card.replaceWith(fresh);
    const again = fresh.querySelector("button.act-" + verb);
    if (again) again.focus();
  } catch (err) {
    // Fall back to the plain form post: the server redirects back to this card.
    form.submit();
  }
});

// Live updates (server/web/live.py): a feed marked data-live listens to its event stream, counts
// the new posts in a bar and, on click, inserts the cards newer than the newest one shown; the
// navigation's unread count follows the member's notifications. Without this script the pages
// are simply as they were when loaded.
(() => {
  if (!window.EventSource || !window.fetch) return;
  const feed = document.querySelector("[data-live]");
  const source = feed ? feed.getAttribute("data-live") : document.body.getAttribute("data-live-default");
  if (!source) return;
  const bar = document.querySelector("[data-live-bar]");
  const show = bar ? bar.querySelector("[data-live-show]") : null;
  const notices = document.querySelector("[data-live-notifications]");
  const fresh = new Set();
  // the words come translated from the page (data-one, data-many with {n}); English otherwise
  const one = (bar && bar.getAttribute("data-one")) || "1 new post — show";
  const many = (bar && bar.getAttribute("data-many")) || "{n} new posts — show";
  const words = (n) => (n === 1 ? one : many.replace("{n}", koersNumber(n)));

  const setUnread = (n) => {
    document.querySelectorAll("[data-unread]").forEach((badge) => {
      const number = badge.querySelector("[data-unread-n]");
      if (number) number.textContent = n > 99 ? "99+" : String(n);  // counted up to 100
      badge.hidden = n === 0;
    });
    if (notices && n > Number(notices.getAttribute("data-live-notifications") || 0)) {
      const link = notices.querySelector("a");
      if (link) link.hidden = false;
    }
  };

  const insert = async () => {
    const newest = feed.getAttribute("data-newest") || "0";
    const response = await fetch(source + "/posts?since_id=" + encodeURIComponent(newest), {
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error("status " + response.status);
    const holder = document.createElement("div");
    holder.innerHTML = (await response.text()).trim();
    const found = holder.querySelector("[data-live-posts]");
    if (!found || found.hasAttribute("data-more")) {
      location.reload(); // more than a page arrived: the page itself is the simplest view
      return;
    }
    const cards = [...found.querySelectorAll("article.post")];
    cards.forEach((card) => {
      const old = document.getElementById(card.id);
      if (old) old.remove();
      card.classList.add("fresh");
    });
    const empty = feed.querySelector(".empty");
    if (empty && cards.length) empty.remove();
    feed.prepend(...cards);
    let top = Number(newest);
    cards.forEach((card) => { top = Math.max(top, Number(card.id.slice(1)) || 0); });
    fresh.forEach((id) => { top = Math.max(top, id); });
    feed.setAttribute("data-newest", String(top));
    fresh.clear();
    show.hidden = true;
    show.textContent = "";
    if (cards[0]) {
      const first = cards[0].querySelector("a.actor, a");
      if (first) first.focus();
    }
  };

  if (show && feed) {
    show.addEventListener("click", () => {
      show.disabled = true;
      insert().catch(() => location.reload()).finally(() => { show.disabled = false; });
    });
  }

  const events = new EventSource(source);
  // the page says whether it is live (tests and styles may look at it)
  events.addEventListener("open", () => { document.documentElement.dataset.live = "open"; });
  events.addEventListener("error", () => { document.documentElement.dataset.live = "closed"; });
  events.addEventListener("post", (event) => {
    const id = Number(event.data);
    if (!feed || !show || !id || id <= Number(feed.getAttribute("data-newest") || 0)) return;
    if (document.getElementById("p" + id)) return;
    fresh.add(id);
    show.textContent = words(fresh.size);
    show.hidden = false;
  });
  events.addEventListener("unread", (event) => setUnread(Number(event.data) || 0));
  window.addEventListener("pagehide", () => events.close());
})();

// A form's time-zone field (data-browser-zone) still at its default takes the browser's zone, so
// the datetime-local times mean what the person typed.
document.querySelectorAll("input[data-browser-zone]").forEach((input) => {
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && input.value === "UTC" && !input.hasAttribute("aria-invalid")) input.value = zone;
  } catch (err) {
    // no Intl support: UTC stays
  }
});

// A form sent back with errors: the summary at the top takes the focus, so it is read first.
const errorSummary = document.querySelector(".error-summary");
if (errorSummary) errorSummary.focus();

// The compose component: a character counter under the text, and pictures dropped anywhere on the
// form fill its file inputs (which, without this script, are chosen one by one).
document.querySelectorAll("form[data-compose]").forEach((form) => {
  const text = form.querySelector("textarea[data-counter]");
  const counter = text ? document.getElementById(text.getAttribute("data-counter")) : null;
  if (text && counter) {
    const max = Number(counter.getAttribute("data-max")) || 5000;
    const leftWords = counter.getAttribute("data-left") || "{left} of {max} characters left";
    const overOne = counter.getAttribute("data-over-one") || "1 character too many";
    const overMany = counter.getAttribute("data-over-many") || "{n} characters too many";
    const update = () => {
      const left = max - text.value.length;
      counter.textContent =
        left >= 0
          ? leftWords.replace("{left}", koersNumber(left)).replace("{max}", koersNumber(max))
          : left === -1
            ? overOne
            : overMany.replace("{n}", koersNumber(-left));
      counter.classList.toggle("over", left < 0);
    };
    text.addEventListener("input", update);
    update();
  }
  const zone = form.querySelector("[data-drop-zone]");
  if (!zone || !window.DataTransfer) return;
  const hint = zone.querySelector(".drop-hint");
  if (hint) hint.hidden = false;
  const inputs = [...zone.querySelectorAll('input[type="file"]')];
  form.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  form.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  form.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    const files = [...(event.dataTransfer ? event.dataTransfer.files : [])].filter((f) => f.type.startsWith("image/"));
    for (let details = zone.closest("details"); details; details = details.parentElement.closest("details")) {
      details.open = true; // "Pictures" and the "More options" around it
    }
    for (const input of inputs) {
      if (!files.length) break;
      if (input.files && input.files.length) continue;
      const one = new DataTransfer();
      one.items.add(files.shift());
      input.files = one.files;
    }
  });
});
