"""One registry type: a dict, a decorator, a loud lookup.

An unknown name raises `UnknownName`, whose message lists every valid name, so the
CLI can print it as one line and exit 2. A name is registered once: a second registration
fails loudly, and the entries are held in a name-mangled attribute with no public way to
replace one (a run id also hashes the file that defines its model and task, so a model
swapped in by other code never inherits the genuine one's run ids; bench/run/version.py).
`scoped()` only undoes registrations made inside it (tests, plugins.isolated).
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
        self.__items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(item: T) -> T:
            if name in self.__items:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self.__items[name] = item
            return item

        return add

    def add(self, name: str, item: T) -> T:
        return self.register(name)(item)

    def __getitem__(self, name: str) -> T:
        try:
            return self.__items[name]
        except KeyError:
            raise UnknownName(self.kind, name, self.names()) from None

    def __contains__(self, name: object) -> bool:
        return name in self.__items

    def __iter__(self) -> Iterator[str]:
        return iter(self.__items)

    def names(self) -> list[str]:
        return list(self.__items)

    def items(self):
        return self.__items.items()

    @contextlib.contextmanager
    def scoped(self) -> Iterator["Registry[T]"]:
        """Registrations made inside the block are undone at its end (bench.plugins.isolated:
        tests that register plugins leave the built-in lists as they found them)."""
        saved = dict(self.__items)
        try:
            yield self
        finally:
            self.__items.clear()
            self.__items.update(saved)
