"""The purpose process across instances: endorsements, the Group's process document and its
sync on partner instances."""
