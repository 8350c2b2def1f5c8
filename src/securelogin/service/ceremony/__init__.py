"""The second-factor ceremony every purpose shares (issue 11): counting answers exactly
(R-LOGIN-3) and handing a decided ceremony to the client that opened it."""
