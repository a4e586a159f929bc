"""One module per outside system. Raw API payloads never leave this package."""
