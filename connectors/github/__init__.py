"""GitHub: config, client, fetch/paging, parse, shapes, state."""
