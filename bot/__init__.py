"""LineRelay: the app factory, the neutral core and the platform adapters."""
