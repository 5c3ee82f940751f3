"""Name registries: one method = one small module that registers itself under a name."""
from __future__ import annotations

from typing import Callable


def registrar(table: dict, set_name: bool = True) -> Callable[[str], Callable]:
    """A ``register(name)`` decorator filling ``table``; with ``set_name`` the object also gets ``.name``."""

    def register(name: str):
        def deco(obj):
            if set_name:
                obj.name = name
            table[name] = obj
            return obj
        return deco
    return register


def import_submodules(package: str, path) -> list[str]:
    """Import every module of a package (its ``__name__`` and ``__path__``), so that a method's module registers
    itself by being there: adding one touches no list. Returns the names imported."""
    import importlib
    import pkgutil

    names = sorted(m.name for m in pkgutil.iter_modules(path) if not m.name.startswith("_"))
    for name in names:
        importlib.import_module(f"{package}.{name}")
    return names
