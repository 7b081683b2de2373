// Koers: small enhancements; every page works without this script.
// A post card's buttons (forms marked data-card-action) are sent with fetch and the card the
// server renders comes back in place of the old one, so the feed keeps its scroll position.
"use strict";
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
