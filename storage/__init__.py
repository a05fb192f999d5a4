"""Persistence and the domain rules of LineRelay (orders, steps, reports, handoffs)."""
