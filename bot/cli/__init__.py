"""The `salesops` command line."""
