"""The bottom of goalsync: records, errors, the retry layer, the Source/Sink contract,
the report types, secrets and the HTTP limits. It imports nothing else of the project, and
everyone imports it (checked by `make lint`)."""
