"""Cross-process long-poll wake-ups (service/wakeups.py): PostgreSQL LISTEN/NOTIFY, Redis
pub/sub."""
