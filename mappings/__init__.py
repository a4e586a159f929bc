"""Pure goal and key-result logic: no I/O, no clock (`now` is always an argument)."""
