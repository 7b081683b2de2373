"""Relationships and reactions: Follow, Accept/Reject of follows, Undo, Block, Like, Flag;
outgoing reports."""
