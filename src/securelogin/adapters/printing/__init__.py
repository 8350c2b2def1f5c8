"""Printed material: security code cards as PDF and HTML (SPEC §3)."""
