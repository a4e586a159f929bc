"""Loopback fake servers of the outside systems (127.0.0.1 only), for connector and e2e tests."""
