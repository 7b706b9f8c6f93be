"""User-facing errors of the model layer.

Every error here carries a message written for the person at the keyboard: what went wrong,
what was tried, and what to do about it. The server shows ``str(error)`` as it is.
"""

from __future__ import annotations


class KodamaError(Exception):
    """Base class for errors whose message says what went wrong and what to do."""


class ModelLoadError(KodamaError):
    """A model could not be found, assembled, converted or loaded.

    The message names what was tried (the spec, what it resolved to, the file) and the fix
    (a ``pip install`` command, a path to check, a hub id that needs the network, ...).
    """


class WeightsIntegrityError(ModelLoadError):
    """Assembled weights do not have the SHA-256 they must have.

    ``expected`` and ``actual`` hold the two hex digests; the message also says how to repair
    the installation.
    """

    def __init__(self, what: str, expected: str, actual: str, remedy: str) -> None:
        """Build the message from what was checked, both digests and the fix."""
        self.what = what
        self.expected = expected
        self.actual = actual
        self.remedy = remedy
        super().__init__(
            f"{what} is corrupt: its SHA-256 is {actual}, expected {expected}. "
            f"The installed files are damaged or not the ones Kodama was built for. {remedy}"
        )

    def __reduce__(self) -> tuple[type[WeightsIntegrityError], tuple[str, str, str, str]]:
        """Pickle with the constructor's arguments (the default would pass only the message)."""
        return (type(self), (self.what, self.expected, self.actual, self.remedy))


class TaskError(KodamaError):
    """An understanding task (explain, docstring, tests) could not give a usable result: the
    code has nothing to work on, or the model's answer did not pass the checks."""
