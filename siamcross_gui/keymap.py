"""Keyboard map: defaults from resources/keymap.json, overridden by a user file.

The map is plain data (action name -> key sequences in Qt's portable text form) so it is
tested without Qt; shortcuts.py turns it into QActions.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from core.errors import FormatError

from .paths import RESOURCES, config_dir

DEFAULT_KEYMAP = RESOURCES / "keymap.json"


@dataclass(frozen=True)
class Binding:
    """One action: its keys (first is primary) and the sentence shown in the shortcut list."""

    action: str
    keys: tuple[str, ...]
    text: str


def user_keymap_path() -> Path:
    return config_dir() / "keymap.json"


def _read_actions(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise FormatError(f"Cannot read the keymap file {path}: {error.strerror}.") from error
    except json.JSONDecodeError as error:
        raise FormatError(f"The keymap file {path} is not valid JSON (line {error.lineno}).") from error
    actions = data.get("actions", data) if isinstance(data, dict) else None
    if not isinstance(actions, dict):
        raise FormatError(f"The keymap file {path} must hold an object of actions.")
    return actions


def _keys_of(value: object, action: str, path: Path) -> tuple[str, ...]:
    keys = value.get("keys") if isinstance(value, dict) else value
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise FormatError(f"The keymap file {path} gives no list of keys for '{action}'.")
    return tuple(keys)


def load_keymap(user_file: Path | None = None, defaults: Path = DEFAULT_KEYMAP) -> dict[str, Binding]:
    """Defaults with the user's overrides applied; unknown actions in the user file are an error.

    user_file None means the file in the config dir when it exists. A user entry may be a
    list of keys, a single key, or {"keys": [...]}; an empty list unbinds the action.
    """
    bindings: dict[str, Binding] = {}
    for action, value in _read_actions(defaults).items():
        text = value.get("text", action) if isinstance(value, dict) else action
        bindings[action] = Binding(action, _keys_of(value, action, defaults), text)
    path = user_file if user_file is not None else user_keymap_path()
    if user_file is None and not path.exists():
        return bindings
    for action, value in _read_actions(path).items():
        if action not in bindings:
            raise FormatError(f"The keymap file {path} names an unknown action '{action}'.")
        bindings[action] = Binding(action, _keys_of(value, action, path), bindings[action].text)
    return bindings


def conflicts(bindings: dict[str, Binding]) -> dict[str, list[str]]:
    """Keys bound to more than one action (Qt would fire neither), by key."""
    by_key: dict[str, list[str]] = {}
    for binding in bindings.values():
        for key in binding.keys:
            by_key.setdefault(key.lower(), []).append(binding.action)
    return {key: actions for key, actions in by_key.items() if len(actions) > 1}
