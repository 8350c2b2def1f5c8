"""The soft mobile key (client side of SPEC §4); imports only domain.otp and the HTTP contract."""
