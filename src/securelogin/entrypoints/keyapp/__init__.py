"""The mobile key as an installable web app (PWA) at ``/key/`` (docs/mobile-key-app.md)."""
