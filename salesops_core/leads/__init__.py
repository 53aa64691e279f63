"""Speed-to-lead: business hours, SLA deadlines, routing, the response clock and its ladder."""
