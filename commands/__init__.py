"""One module per slash command: parse text -> ask the core -> Block Kit reply (+ charts)."""
