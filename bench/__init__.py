"""Benchmarks: each prints its figures as a table and marks every target as met or missed."""
