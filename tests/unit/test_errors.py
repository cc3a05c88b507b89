"""Every error the product raises on purpose shares one base class."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import incident_tui
from incident_tui.domain.errors import IncidentTuiError


def _public_error_classes() -> list[type]:
    found = []
    for info in pkgutil.walk_packages(incident_tui.__path__, "incident_tui."):
        if ".tui" in info.name or info.name.endswith(("serve", "cli_serve", "__main__")):
            continue  # UI modules import textual; their private signals are not refusals
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, BaseException)
                    and obj.__module__ == module.__name__ and not name.startswith("_")):
                found.append(obj)
    return found


def test_every_public_error_class_derives_from_the_one_base() -> None:
    classes = _public_error_classes()
    assert len(classes) >= 14, classes  # the walk really found the store, service and domain errors
    strays = [f"{c.__module__}.{c.__qualname__}" for c in classes if not issubclass(c, IncidentTuiError)]
    assert strays == []


def test_older_builtin_bases_still_catch_them() -> None:
    from incident_tui.domain.times import TimeParseError
    from incident_tui.store.repository import NotFoundError

    assert issubclass(TimeParseError, ValueError)
    assert issubclass(NotFoundError, LookupError)
