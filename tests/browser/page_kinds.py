"""Every kind of HTML page, as a path of ``koers demo``: what the axe-core run visits logged out
and logged in (as ``lotte``, the demo's administrator and a manager of Energy).

``tests/browser/test_page_kinds.py`` checks that every GET route of the web pages is here or in
``NOT_PAGES`` (with why), so a page added later joins the run or says why it cannot.
"""

from __future__ import annotations

REMOTE = "/c/rivers@koers.waterschap.example"  # the partner's community the demo knows of

LOGGED_OUT = [
    "/",
    "/about",
    "/explore",
    "/communities",
    "/people",
    "/search?q=solar",
    "/tags/energy",
    "/login",
    "/signup",
    "/password/reset",
    "/password/reset/no-such-token",  # the "this link does not work" page
    "/mail/unsubscribe/no-such-token",
    "/remote-follow?uri={base}/users/lotte",
    "/nothing-here",  # the 404 page
    "/c/energy",
    "/c/energy/roles",
    "/c/energy/roles/1",
    "/c/energy/members",
    "/c/energy/events",
    "/c/energy/events/1",
    "/c/energy/ideas",
    "/c/energy/ideas/1",
    "/c/energy/results",
    "/c/energy/roadmap",
    "/c/energy/roadmap?view=timeline",
    "/c/energy/roadmap/1",
    "/c/energy/purpose",
    "/c/energy/purpose/1",
    "/@lotte",
    "/@lotte/1",
    "/@lotte/1/history",
    "/@lotte/followers",
    "/@lotte/following",
    REMOTE,
    REMOTE + "/purpose",
    REMOTE + "/roadmap",
    REMOTE + "/roles",
    REMOTE + "/ideas",
]

LOGGED_IN = [
    "/home",
    "/feed",
    "/notifications",
    "/compose",
    "/explore",
    "/follow_requests",
    "/communities/new",
    "/settings/profile",
    "/settings/email",
    "/settings/security",
    "/settings/invites",
    "/c/energy",
    "/c/energy/manage",
    "/c/energy/settings",
    "/c/energy/insights",
    "/c/energy/insights/me",
    "/c/energy/events/new",
    "/c/energy/events/1/edit",
    "/c/energy/roadmap/new",
    "/c/energy/roles/new",
    "/c/energy/initiatives/new",
    "/c/energy/purpose",
    "/c/circular_kitchen/purpose",
    "/c/circular_kitchen/purpose/proposals/1",
    "/@lotte/1/edit",
    "/results/1/kudos",
    "/admin",
    "/admin/accounts",
    "/admin/accounts/samir",
    "/admin/audit",
    "/admin/reports",
    "/admin/federation",
    "/admin/insights",
]

# GET routes of the web pages that are not an HTML page of their own, or that the demo cannot show.
NOT_PAGES = {
    "/settings": "redirects to /settings/profile",
    "/posts/{post_id}": "redirects to the post's page under its author",
    "/authorize_interaction": "redirects to the remote-follow page or the post",
    "/login/2fa": "only in the middle of a sign-in with a second factor",
    "/login/2fa/setup": "only in the middle of a sign-in that must set one up",
    "/mail/change/{token}": "the same page as the unsubscribe link (mail.py)",
    "/mail/confirm/{token}": "the same page as the unsubscribe link (mail.py)",
    "/auth/oidc/login": "redirects to the identity provider",
    "/auth/oidc/callback": "redirects back from the identity provider",
    "/media/{path}": "files",
    "/feeds/results.atom": "an Atom feed",
    "/c/{handle}/{kind}.atom": "an Atom feed",
    "/@{username}/feed.atom": "an Atom feed",
    "/c/{handle}/events.ics": "a calendar file",
    "/c/{handle}/events/{event_id}.ics": "a calendar file",
    "/live/{which}": "an event stream",
    "/live/c/{handle}": "an event stream",
    "/live/{which}/posts": "cards for the live bar, not a page",
    "/live/c/{handle}/posts": "cards for the live bar, not a page",
    "/c/{handle}@{host}/manage": "needs a manager here of a partner's community: not in the demo",
    "/c/{handle}@{host}/insights": "read live from the partner's instance: fictional in the demo",
}
