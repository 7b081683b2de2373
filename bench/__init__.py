"""Benchmarks of Koers: the data seeder and the measurements (run as scripts)."""
