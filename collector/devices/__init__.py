"""Devices in their lane: broker accounts, ACLs and client certificates written from the asset registry."""
