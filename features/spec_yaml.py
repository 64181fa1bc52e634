"""YAML text for spec data that reads back exactly, and stays readable (Unicode as is).

Why not ``yaml.safe_dump(..., allow_unicode=True)``: PyYAML then writes U+0085 (NEL), U+2028
and U+2029 raw inside a plain or single-quoted string, and reading folds them into a space,
so a description holding one comes back changed (the round-trip property test found it).
Strings with those characters are written double-quoted, where PyYAML escapes them.
"""

from __future__ import annotations

from typing import Any

import yaml

LINE_BREAKS_YAML_FOLDS = frozenset("\x85\u2028\u2029")


class _Dumper(yaml.SafeDumper):
    """SafeDumper whose strings with a folded line-break character are double-quoted."""


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = '"' if LINE_BREAKS_YAML_FOLDS.intersection(text) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_str)


def to_yaml(data: Any) -> str:
    """Plain data (dicts, lists, strings, numbers) as YAML text that ``yaml.safe_load`` reads
    back equal; keys keep their order."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
