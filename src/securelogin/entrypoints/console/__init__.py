"""The operator console (SPEC §7, §8): helpdesk, compliance and logistics pages under /console."""
