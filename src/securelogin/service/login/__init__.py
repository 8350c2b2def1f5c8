"""Login: the password, the second factor's login purpose and sessions' use cases, the
mobile key's enrolment and PIN."""
