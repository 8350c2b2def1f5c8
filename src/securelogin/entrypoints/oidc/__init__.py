"""The OpenID Connect provider's HTTP endpoints (issue 16 §1)."""
