"""Roles across instances: claims from afar, role updates to remote members, remote copies."""
