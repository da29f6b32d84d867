"""Columns that only the addon's own code writes: a write guard the client cannot lift.

A context variable, not a context key: a context comes from the client (any RPC call may set a key),
a context variable only from code running in the same request.
"""

from contextlib import contextmanager
from contextvars import ContextVar


class WriteGuard:
    def __init__(self, name):
        self._allowed = ContextVar(name, default=False)

    @contextmanager
    def allow(self):
        """Let the code inside write the guarded columns through the ORM."""
        token = self._allowed.set(True)
        try:
            yield
        finally:
            self._allowed.reset(token)

    def allowed(self, superuser=False):
        return superuser or self._allowed.get()
