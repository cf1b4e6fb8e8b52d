"""Topic queries and matching, message rendering, Apprise delivery, the outbox."""
