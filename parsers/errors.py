"""planwatch's exceptions, one tree for every package.

They live in the lowest layer so that every package can raise and catch them::

    PlanwatchError
    ├── ConfigError      a config file or option is wrong (names the key and value)
    ├── FetchError       a page could not be fetched (carries the URL)
    ├── ParseError       a page could not be read at all (carries the URL)
    ├── StorageError     the database cannot be used
    │   ├── SchemaMismatch   its schema is behind or ahead of this version
    │   └── DatabaseBusy     another planwatch acts on it (``monitor.locks``)
    ├── NotFound         a source, organization or action named is not in the
    │                    history (``storage.history``)
    ├── Ambiguous        a name matches several records (``storage.history``)
    └── NotifyError      a notification target is wrong or refused a message

DatabaseBusy, NotFound and Ambiguous live beside the code that raises them; the
tree is drawn here so that one place lists them all.

Failures that are part of watching (a site down, a layout change) are not exceptions:
they end a check with an outcome. Exceptions are for what stops planwatch itself.
"""

from __future__ import annotations


class PlanwatchError(Exception):
    """Base of every error planwatch raises on purpose."""


class ConfigError(PlanwatchError):
    pass


class FetchError(PlanwatchError):
    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class ParseError(PlanwatchError):
    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class StorageError(PlanwatchError):
    pass


class SchemaMismatch(StorageError):
    pass


class NotifyError(PlanwatchError):
    def __init__(self, message: str, *, target: str | None = None) -> None:
        super().__init__(message)
        self.target = target
