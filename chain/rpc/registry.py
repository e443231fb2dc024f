"""The single list of JSON-RPC methods the node supports.

Handlers register once under their spec name with the aliases other nodes
accept (`evm_snapshot` = `anvil_snapshot`); docs and tests read this registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

Handler = Callable[..., Any]


@dataclass(frozen=True)
class Method:
    name: str
    handler: Handler
    aliases: tuple[str, ...]
    doc: str
    is_async: bool
    needs_connection: bool  # WebSocket-only methods receive the connection
    bulky: bool = False  # answers can be hundreds of thousands of small objects (struct logs)


class Registry:
    def __init__(self) -> None:
        self._methods: dict[str, Method] = {}
        self._canonical: list[Method] = []

    def add(self, name: str, handler: Handler, aliases: tuple[str, ...] = (), *, is_async: bool = False,
            needs_connection: bool = False, bulky: bool = False) -> None:
        doc = (handler.__doc__ or "").strip().splitlines()[0] if handler.__doc__ else ""
        method = Method(name, handler, aliases, doc, is_async, needs_connection, bulky)
        for key in (name, *aliases):
            if key in self._methods:
                raise ValueError(f"method {key} registered twice")
            self._methods[key] = method
        self._canonical.append(method)

    def get(self, name: str) -> Method | None:
        return self._methods.get(name)

    def names(self) -> list[str]:
        return sorted(self._methods)

    def methods(self) -> list[Method]:
        return sorted(self._canonical, key=lambda m: m.name)


def rpc(name: str, *aliases: str, is_async: bool = False, needs_connection: bool = False,
        bulky: bool = False) -> Callable[[Handler], Handler]:
    """Mark an API-class method as a JSON-RPC handler (`bulky`: see Method.bulky)."""

    def mark(fn: Handler) -> Handler:
        fn.__rpc__ = (name, aliases, is_async, needs_connection, bulky)  # type: ignore[attr-defined]
        return fn

    return mark


def collect(registry: Registry, api: object) -> None:
    for attr in dir(api):
        fn = getattr(api, attr)
        spec = getattr(fn, "__rpc__", None)
        if spec:
            name, aliases, is_async, needs_connection, bulky = spec
            registry.add(name, fn, aliases, is_async=is_async, needs_connection=needs_connection, bulky=bulky)


