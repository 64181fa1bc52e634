"""The retention action catalogue: a YAML file people edit, read into frozen data.

Why a file: what an action costs, how well it works and what the agent says change more often
than code, and the retention team owns them. Every field is checked on load and an error names
the action, the field, what was found and what is allowed, so a typo never reaches the policy.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from cxchurn.errors import ConfigError, NotFoundError
from features.families import ACTIONABLE

DEFAULT_FILE: Final = Path(__file__).with_name("actions.yaml")
ENV_VAR: Final = "CXCHURN_ACTIONS"
LANGUAGES: Final = ("en", "tr")
CHANNELS: Final = ("email", "sms", "app", "call_centre", "store", "post")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
ACTION_FIELDS: Final = ("name", "channel", "cost", "effect", "general_effect", "families",
                        "capacity", "text", "learned")
OPTIONAL_FIELDS: Final = ("general_effect", "capacity", "learned")
LEARNED_FIELDS: Final = ("treated", "effect_95", "general_95")
MAX_EFFECT: Final = 2.0  # share of a family's log-odds; > 1 repairs more than the average


@dataclass(frozen=True)
class Evidence:
    """What a learned effect rests on: randomly treated customers and 95% intervals.

    Written by ``cxchurn retention learn-effects`` (``uplift.effects``); an action without it
    carries the shipped assumption, which no outcome of this company has tested.
    """

    treated: int
    effect_95: tuple[float, float]
    general_95: tuple[float, float]


@dataclass(frozen=True)
class Action:
    """One retention action.

    ``effect`` is the share of the log-odds that the driver families it answers add to a
    customer's churn score which the action removes (see ``serving.retention.policy``);
    ``general_effect`` the share of the other experience families' log-odds it removes (a
    manager's call calms most unhappy customers a little). Both are priors until
    ``uplift.effects`` learns them from randomised outcomes; above 1 means it also repairs
    damage an average customer carries.
    """

    name: str
    channel: str
    cost: float
    effect: float
    families: tuple[str, ...]
    texts: Mapping[str, Mapping[str, str]] = field(hash=False, compare=False)
    capacity: int | None = None
    general_effect: float = 0.0
    learned: Evidence | None = None

    def title(self, lang: str = "en") -> str:
        return self.texts[lang if lang in self.texts else "en"]["title"]

    def script(self, lang: str = "en") -> str:
        return self.texts[lang if lang in self.texts else "en"]["script"]


@dataclass(frozen=True)
class Catalogue:
    """The actions, in file order, plus the currency their costs are in."""

    actions: tuple[Action, ...]
    currency: str = "EUR"
    source: str = ""

    def __iter__(self) -> Iterator[Action]:
        return iter(self.actions)

    def __len__(self) -> int:
        return len(self.actions)

    def names(self) -> list[str]:
        return [a.name for a in self.actions]

    def get(self, name: str) -> Action:
        for action in self.actions:
            if action.name == name:
                return action
        raise NotFoundError(f"unknown action {name!r}; the catalogue ({self.source or 'given'}) "
                            f"has {self.names()}.")


def _fail(where: str, what: str) -> ConfigError:
    return ConfigError(f"action catalogue {where}: {what}")


def _number(where: str, key: str, value: object, low: float, high: float | None,
            low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(where, f"{key} must be a number; got {value!r}.")
    ok_low = value > low if low_open else value >= low
    if not ok_low or (high is not None and value > high):
        bracket = "(" if low_open else "["
        upper = f"{high}]" if high is not None else "inf)"
        raise _fail(where, f"{key} must be in {bracket}{low}, {upper}; got {value!r}.")
    return float(value)


def _texts(where: str, raw: object) -> dict[str, dict[str, str]]:
    if not isinstance(raw, dict):
        raise _fail(where, f"text must map each language {list(LANGUAGES)} to a title and a "
                           f"script; got {raw!r}.")
    out: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        entry = raw.get(lang)
        if not isinstance(entry, dict):
            raise _fail(where, f"text.{lang} is missing; every action needs a title and a "
                               f"script in {list(LANGUAGES)}.")
        for key in ("title", "script"):
            value = entry.get(key)
            if not isinstance(value, str) or not value.strip():
                raise _fail(where, f"text.{lang}.{key} must be a non-empty text; got {value!r}.")
        out[lang] = {"title": entry["title"].strip(), "script": entry["script"].strip()}
    extra = sorted(set(raw) - set(LANGUAGES))
    if extra:
        raise _fail(where, f"text has unknown language(s) {extra}; supported: {list(LANGUAGES)}.")
    return out


def _interval(where: str, key: str, raw: object) -> tuple[float, float]:
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        raise _fail(where, f"learned.{key} must be [low, high]; got {raw!r}.")
    low = _number(where, f"learned.{key}[0]", raw[0], 0.0, MAX_EFFECT)
    high = _number(where, f"learned.{key}[1]", raw[1], low, MAX_EFFECT)
    return low, high


def _evidence(where: str, raw: object) -> Evidence | None:
    """The optional ``learned:`` block: treated count and the two 95% intervals."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or sorted(raw) != sorted(LEARNED_FIELDS):
        raise _fail(where, f"learned must have exactly {list(LEARNED_FIELDS)} (written by "
                           f"`cxchurn retention learn-effects`); got {raw!r}.")
    treated = raw["treated"]
    if isinstance(treated, bool) or not isinstance(treated, int) or treated < 1:
        raise _fail(where, f"learned.treated must be a whole number >= 1; got {treated!r}.")
    return Evidence(treated=treated, effect_95=_interval(where, "effect_95", raw["effect_95"]),
                    general_95=_interval(where, "general_95", raw["general_95"]))


def parse_action(raw: object, position: int) -> Action:
    """One action from plain data; ``position`` (1-based) names it in errors before its name."""
    where = f"action #{position}"
    if not isinstance(raw, dict):
        raise _fail(where, f"must be a mapping with fields {list(ACTION_FIELDS)}; got {raw!r}.")
    name = raw.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise _fail(where, f"name must be lower case letters, digits and underscores (it is the "
                           f"action_type recorded in the actions table); got {name!r}.")
    where = f"action {name!r}"
    unknown = sorted(set(raw) - set(ACTION_FIELDS))
    if unknown:
        raise _fail(where, f"unknown field(s) {unknown}; allowed: {list(ACTION_FIELDS)}.")
    missing = [k for k in ACTION_FIELDS if k not in OPTIONAL_FIELDS and k not in raw]
    if missing:
        raise _fail(where, f"missing field(s) {missing}.")
    channel = raw["channel"]
    if channel not in CHANNELS:
        raise _fail(where, f"channel must be one of {list(CHANNELS)}; got {channel!r}.")
    families = raw["families"]
    if isinstance(families, str):
        families = [families]
    if not isinstance(families, list) or not families:
        raise _fail(where, f"families must list at least one of {list(ACTIONABLE)}; "
                           f"got {families!r}.")
    bad = [f for f in families if f not in ACTIONABLE]
    if bad:
        raise _fail(where, f"unknown driver famil(ies) {bad}; allowed: {list(ACTIONABLE)}.")
    capacity = raw.get("capacity")
    if capacity is not None and (isinstance(capacity, bool) or not isinstance(capacity, int)
                                 or capacity < 0):
        raise _fail(where, f"capacity must be a whole number >= 0 or left out (no limit); "
                           f"got {capacity!r}.")
    effect = _number(where, "effect", raw["effect"], 0.0, MAX_EFFECT)
    general = _number(where, "general_effect", raw.get("general_effect", 0.0), 0.0, MAX_EFFECT)
    return Action(
        name=name,
        channel=channel,
        cost=_number(where, "cost", raw["cost"], 0.0, None),
        effect=effect,
        general_effect=general,
        families=tuple(dict.fromkeys(families)),
        texts=_texts(where, raw["text"]),
        capacity=capacity,
        learned=_evidence(where, raw.get("learned")),
    )


def parse_catalogue(data: Any, source: str = "") -> Catalogue:
    """A catalogue from plain data: ``{currency, actions: [...]}`` or just the list."""
    if isinstance(data, list):
        data = {"actions": data}
    if not isinstance(data, dict) or not isinstance(data.get("actions"), list):
        raise ConfigError(f"action catalogue {source!r} must be a mapping with a list under "
                          "'actions' (see serving/retention/actions.yaml); got "
                          f"{type(data).__name__}.")
    unknown = sorted(set(data) - {"currency", "actions"})
    if unknown:
        raise ConfigError(f"action catalogue {source!r}: unknown top-level key(s) {unknown}; "
                          f"allowed: ['currency', 'actions'].")
    actions = tuple(parse_action(raw, i) for i, raw in enumerate(data["actions"], start=1))
    if not actions:
        raise ConfigError(f"action catalogue {source!r} lists no actions; add at least one.")
    seen: set[str] = set()
    for action in actions:
        if action.name in seen:
            raise ConfigError(f"action catalogue {source!r}: action {action.name!r} is listed "
                              f"twice; names must be unique.")
        seen.add(action.name)
    currency = data.get("currency", "EUR")
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        raise ConfigError(f"action catalogue {source!r}: currency must be a 3-letter ISO code "
                          f"such as EUR or TRY; got {currency!r}.")
    return Catalogue(actions=actions, currency=currency, source=source)


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read and validate a catalogue: ``path`` (e.g. ``Settings.actions_file``, set by
    ``$CXCHURN_ACTIONS``), else the built-in ``actions.yaml``."""
    chosen = Path(path or DEFAULT_FILE)
    try:
        text = chosen.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read the action catalogue {str(chosen)!r}: {err}; pass an "
                          f"existing YAML file (see serving/retention/actions.yaml).") from err
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"action catalogue {str(chosen)!r} is not valid YAML: {err}") from err
    return parse_catalogue(data, source=str(chosen))


def catalogue_data(catalogue: Catalogue) -> dict[str, Any]:
    """The catalogue as plain data in the file's layout (``parse_catalogue`` reads it back)."""
    actions = []
    for a in catalogue:
        raw: dict[str, Any] = {"name": a.name, "channel": a.channel, "cost": a.cost,
                               "effect": round(a.effect, 4),
                               "general_effect": round(a.general_effect, 4),
                               "families": list(a.families)}
        if a.capacity is not None:
            raw["capacity"] = a.capacity
        if a.learned is not None:
            raw["learned"] = {"treated": a.learned.treated,
                              "effect_95": [round(x, 4) for x in a.learned.effect_95],
                              "general_95": [round(x, 4) for x in a.learned.general_95]}
        raw["text"] = {lang: dict(a.texts[lang]) for lang in LANGUAGES}
        actions.append(raw)
    return {"currency": catalogue.currency, "actions": actions}


def write_catalogue(catalogue: Catalogue, path: Path, header: str = "") -> Path:
    """Write a catalogue people can review and edit; ``header`` becomes leading # comments."""
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    body = yaml.safe_dump(catalogue_data(catalogue), sort_keys=False, allow_unicode=True,
                          width=100)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(comments + body, encoding="utf-8")
    return path
