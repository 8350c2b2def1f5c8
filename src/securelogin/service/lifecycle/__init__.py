"""A device's life after login: issue, replacement, returns, closure, inventory,
documents, sharing, security settings and the background jobs that move them on."""
