"""The web kit the portal and the console share: page rendering, CSRF, cookies, security
headers, language negotiation and the words of both (:mod:`.pages`, :mod:`.i18n`)."""
