"""The plugins the host finds, and their parameter tables."""

from __future__ import annotations

from ._host import UnmixValueError, host

_tables: dict[str, dict] = {}


def plugins() -> list[dict]:
    """The plugins on the host's search path (`unmix list --json`: id, name, version, path,
    summary). Libraries that failed to load are in `failures()`."""
    return host().request("list")["plugins"]


def failures() -> list[dict]:
    """The libraries on the search path that failed to load, with the reason."""
    return host().request("list")["failures"]


def info(name: str) -> dict:
    """A plugin's description, capabilities and parameter table (`unmix info NAME --json`)."""
    key = name.lower()
    if key not in _tables:
        table = host().request("info", [name])
        _tables[key] = _tables[table["id"]] = table
    return _tables[key]


def parameter_text(value) -> str:
    """A Python value as the command line writes it (`--set key=TEXT`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def parameter_value(spec: dict, text: str):
    """A parameter's text (as a model file keeps it) as the Python value its type says."""
    kind = spec["type"]
    if kind == "integer":
        return int(text)
    if kind == "real":
        return float(text)
    if kind == "boolean":
        return text == "true"
    return text


def check_parameter_names(plugin: str, names) -> dict:
    """The plugin's table, after checking that every name is one of its parameters (the
    command line's message otherwise)."""
    table = info(plugin)
    valid = [p["id"] for p in table["parameters"]]
    for name in names:
        if name not in valid:
            raise UnmixValueError(
                f"unknown parameter '{name}' for {table['id']} (valid: {', '.join(valid) if valid else 'none'})"
            )
    return table
