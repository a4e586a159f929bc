"""Google Sheets: the status sheet (sink) and the plan tabs (source)."""
