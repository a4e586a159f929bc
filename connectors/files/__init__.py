"""Local files: the file sources and the csv, xlsx and html sinks."""
