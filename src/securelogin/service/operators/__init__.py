"""The operators' side: operator accounts, the help desk and the demo tools."""
