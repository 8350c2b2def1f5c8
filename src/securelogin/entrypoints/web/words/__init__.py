"""The portal's words per feature; :mod:`..i18n` merges them into one catalogue per language."""
