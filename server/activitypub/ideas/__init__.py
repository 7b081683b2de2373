"""Ideas across instances: outcomes reported to a remote author, and supports sent to the home."""
