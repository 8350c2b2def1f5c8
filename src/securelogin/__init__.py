"""securelogin: a Secure Login System for brokerages (see docs/ and SPEC)."""
