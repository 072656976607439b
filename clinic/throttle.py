"""Counting requests in Django's cache: so many per key in a window, then refused.

The cache must be shared by every web process for the limits to hold across
them (``CACHE_URL``; the default, memory, is per process).
"""

import hashlib

from django.core.cache import cache


def cache_key(scope: str, value: str) -> str:
    """A key that does not hold ``value`` itself (an address, an IP)."""
    return f"throttle:{scope}:{hashlib.sha256(value.encode()).hexdigest()}"


def hit(key: str, *, limit: int, window: int) -> bool:
    """Count one more request under ``key``; False once more than ``limit`` were made
    in the ``window`` seconds since the first."""
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # Expired between add() and incr().
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit
