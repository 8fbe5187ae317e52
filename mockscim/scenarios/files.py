"""Scenario files (docs/behaviour.md §10): YAML or JSON read strictly, the shipped ones, `mockscim scenario check`."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mockscim.scenarios.model import Scenario, ScenarioError
from mockscim.scenarios.rules import build_scenario, scenario_problems
from mockscim.util import jsontext
from mockscim.util.shipped import scenarios_dir

SHIPPED_DIR: Path = scenarios_dir()
"""The scenarios shipped as package data (docs/behaviour.md §13), one ``<name>.yaml`` each."""

_SUFFIXES = (".yaml", ".yml", ".json")


# --------------------------------------------------------------------------------------------------------- loading


@functools.cache
def _strict_loader() -> Any:
    """A ``yaml.SafeLoader`` that refuses duplicate mapping keys (PyYAML keeps the last one silently).

    Built on first use: PyYAML is only imported when a YAML scenario is read, not at server start.
    """
    import yaml

    class StrictLoader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = loader.construct_object(key_node)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark, f"duplicate key {key!r}", key_node.start_mark
                    )
                seen.add(key)
        return loader.construct_mapping(node, deep=True)

    StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return StrictLoader


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _read(path: Path, source: str) -> Any:
    if path.suffix.lower() not in _SUFFIXES:
        raise ScenarioError(f"{source}: not a scenario file: expected a .yaml, .yml or .json file")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{source}: no such file") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{source}: not UTF-8 text") from None
    except OSError as exc:
        raise ScenarioError(f"{source}: cannot read: {exc.strerror or exc}") from None
    if path.suffix.lower() == ".json":
        try:
            value = json.loads(text, object_pairs_hook=_no_duplicates)
            jsontext.loads(text)  # the same text: refuse lone surrogates and absurd nesting too
            return value
        except json.JSONDecodeError as exc:
            raise ScenarioError(f"{source}: invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
        except ValueError as exc:
            raise ScenarioError(f"{source}: invalid JSON: {exc}") from None
    import yaml

    try:
        return yaml.load(text, Loader=_strict_loader())  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ScenarioError(f"{source}: invalid YAML: {exc.problem or exc.context}{where}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{source}: invalid YAML: {exc}") from None


def load_scenario(source: str | os.PathLike[str] | Mapping[str, Any], *, origin: str | None = None) -> Scenario:
    """Load and validate a scenario from a file path (YAML or JSON by suffix) or an inline mapping (docs/behaviour.md
    §10).

    ``origin`` names the source in errors and in :attr:`Scenario.source` (default: the path, or ``"inline"``).
    """
    if isinstance(source, Mapping):
        return build_scenario(source, origin or "inline")
    path = Path(source)
    name = origin or os.fspath(source)
    return build_scenario(_read(path, name), name)


def _shipped_path(name: str) -> Path | None:
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    path = SHIPPED_DIR / f"{name}.yaml"
    return path if path.is_file() else None


def shipped() -> list[Scenario]:
    """Every shipped scenario, sorted by name."""
    scenarios = [load_scenario(path) for path in SHIPPED_DIR.glob("*.yaml")]
    return sorted(scenarios, key=lambda s: s.name)


def resolve(name_or_path: str) -> Scenario:
    """A shipped scenario by name, else a scenario file by path; neither → :class:`ScenarioError` naming it."""
    path = _shipped_path(name_or_path)
    if path is not None:
        return load_scenario(path)
    if Path(name_or_path).exists():
        return load_scenario(name_or_path)
    names = ", ".join(sorted(p.stem for p in SHIPPED_DIR.glob("*.yaml")))
    raise ScenarioError(f"unknown scenario {name_or_path!r}: neither a shipped scenario ({names}) nor a file")


def check_files(paths: Sequence[str]) -> list[str]:
    """``mockscim scenario check FILE...``: every error of every file, one line each (docs/behaviour.md §14); ``[]``
    when all are valid."""
    problems: list[str] = []
    for path in paths:
        try:
            data = _read(Path(path), path)
        except ScenarioError as exc:
            problems.append(str(exc))
            continue
        problems.extend(scenario_problems(data, path))
    return problems


