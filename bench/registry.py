"""One registry type: a dict, a decorator, a loud lookup.

An unknown name raises `UnknownName`, whose message lists every valid name, so the
CLI can print it as one line and exit 2.
"""
from __future__ import annotations

import contextlib
from typing import Callable, Generic, Iterator, TypeVar

T = TypeVar("T")


class UnknownName(KeyError):
    """A name that is not registered. str() is a one-line message naming the valid ones."""

    def __init__(self, kind: str, name: str, valid: list[str]):
        super().__init__(name)
        self.kind, self.name, self.valid = kind, name, valid

    def __str__(self) -> str:
        return f"unknown {self.kind} {self.name!r}; valid: {', '.join(self.valid)}"


class Registry(Generic[T]):
    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(item: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self._items[name] = item
            return item

        return add

    def add(self, name: str, item: T) -> T:
        return self.register(name)(item)

    def __getitem__(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise UnknownName(self.kind, name, self.names()) from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def names(self) -> list[str]:
        return list(self._items)

    def items(self):
        return self._items.items()

    @contextlib.contextmanager
    def scoped(self) -> Iterator["Registry[T]"]:
        """Registrations made inside the block are undone at its end (bench.plugins.isolated:
        tests that register plugins leave the built-in lists as they found them)."""
        saved = dict(self._items)
        try:
            yield self
        finally:
            self._items.clear()
            self._items.update(saved)
