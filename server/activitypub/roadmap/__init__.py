"""Roadmaps across instances: follows and supports of items at home, remote copies of a
community's roadmap on partner instances, and status changes from managers elsewhere."""
