"""Posts as ActivityStreams: inbound Create/Update/Delete/Announce/Add/Remove, the outbox of
local posts, follows, blocks and profile changes, and post objects."""
