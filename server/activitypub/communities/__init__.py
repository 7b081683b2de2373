"""Communities as Groups: their documents and collections, moderators, join requests decided
by managers on other instances, and membership checks for third-instance relays."""
