"""Internals of ``ferrotorch.utils.data``: collation, fetching, worker processes, shared-memory transport."""

MP_STATUS_CHECK_INTERVAL = 0.1
"""Seconds between checks that worker processes (in the main process) or the main process (in a
worker) are still alive while waiting on a queue: short, so a dead peer is noticed at once."""
