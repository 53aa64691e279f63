"""What every slash command shares: argument parsing, Block Kit helpers, reply types."""
