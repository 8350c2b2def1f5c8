"""Funds: withdrawals within device-tier limits, their confirmation, trading restrictions
and the API keys of other systems."""
