"""Jira Cloud and Data Center: config, client, search paging, parse, shapes."""
