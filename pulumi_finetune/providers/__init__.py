"""Pulumi dynamic providers, one per resource (provider side: runs in Pulumi's provider process)."""
