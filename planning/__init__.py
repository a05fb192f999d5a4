"""The one plan: working time, finite-capacity scheduling, and what a change would do.

Pure functions over plain data (no Flask, no SQL): `storage.planner` loads the data and stores
the results, and everything a person reads about time comes from there.
"""
