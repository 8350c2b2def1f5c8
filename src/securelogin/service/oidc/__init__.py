"""The OpenID Connect provider (issue 16 §1): clients, signing keys, the authorization
code flow with PKCE, tokens, userinfo, revocation, introspection and logout."""
