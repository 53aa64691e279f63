"""Work the bot does on its own: the scheduler and the outbox dispatcher."""
