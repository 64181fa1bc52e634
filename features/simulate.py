"""The synthetic CX world: a seeded company, its customers, their events and the truth.

``simulate(config)`` returns a ``World`` in memory (default size and tests);
``simulate_to_folder`` streams a world of any size to Parquet block by block (CLI,
benchmarks: 1 million customers fit in memory because only one block is held at a time).
Both give the same data for the same config: randomness is drawn per block of
``BLOCK_SIZE`` customers from ``default_rng([seed, block])``, so a world is reproducible
bit-for-bit and the first N customers of a bigger world equal the N-customer world's.

With ``pilot_share`` > 0 the world runs a randomised retention pilot (see
``simulate_dynamics``): random eligible customers get one random action at each cutoff, the
treatment really changes them, and the ``actions`` table records it, so uplift can be learned
from observed outcomes. The pilot's randomness comes from ``default_rng([seed, block, 1])``,
so the pilot-free world (the default) is unchanged by the pilot's existence.

With ``shock`` (e.g. ``"delivery:2025-04-01"``) a crisis starts on that date and lasts to
the end: late deliveries triple, support gets busier and slower, or prices rise (see
``simulate_dynamics``), so that drift monitoring can be tested against a known cause. Without
one (the default) the world is the same, draw for draw, as before shocks existed.

How the world works is told in the modules it is made of:
``simulate_population`` (who the customers are), ``simulate_dynamics`` (the daily loop:
satisfaction, events, cancellations), ``simulate_truth`` (hazard, true churn probability and
true action effects), ``simulate_events`` (tables) and ``feedback_text`` (EN/TR phrases).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from rich.progress import Progress

from cxchurn.errors import ConfigError, DataContractError
from features.contract import ACTION_DTYPES, empty_actions
from features.schema import ACTION_COLUMNS
from features.simulate_dynamics import SHOCK_KINDS, BlockResult, Shock, simulate_block
from features.simulate_events import events_frame, events_table
from features.simulate_population import (
    Population,
    customer_ids,
    customers_frame,
    draw_population,
    to_us,
    us_to_utc,
)
from features.simulate_summary import Accumulator, auc, world_summary
from features.simulate_truth import ACTION_TYPES, PILOT_COSTS, TRUTH_HORIZONS

BLOCK_SIZE: Final = 10_000
FILES: Final = (
    "customers.parquet", "events.parquet", "actions.parquet", "truth_churn.parquet",
    "truth_action_effects.parquet", "world.json",
)
_DEFAULT_CUTOFFS: Final = tuple(f"2025-{m:02d}-01" for m in range(1, 7))


def parse_shock(text: str) -> tuple[str, str]:
    """``"kind:YYYY-MM-DD"`` -> (kind, ISO date); ConfigError naming the allowed kinds."""
    kind, _, date = str(text).partition(":")
    if kind not in SHOCK_KINDS or not date:
        raise ConfigError(
            f"SimConfig.shock must look like 'KIND:YYYY-MM-DD' with KIND one of "
            f"{list(SHOCK_KINDS)}, e.g. 'delivery:2025-04-01'; got {text!r}."
        )
    return kind, _iso(date, "shock")


def _iso(value: object, name: str) -> str:
    try:
        return pd.Timestamp(value).date().isoformat()
    except (ValueError, TypeError) as err:
        raise ConfigError(
            f"SimConfig.{name} must be a date like '2025-01-01'; got {value!r}."
        ) from err


@dataclass(frozen=True)
class SimConfig:
    """Parameters of a world. Dates are ISO strings (date objects are accepted and converted).

    ``activity`` scales sessions and email opens (the bulk of events) without changing who
    churns much, for benchmarks that need more events per customer.

    ``pilot_share`` runs a randomised retention pilot: at every cutoff each eligible customer
    joins with this probability and gets one action drawn uniformly from ACTION_TYPES, which
    really changes the customer and is recorded in ``actions``. Randomisation is what lets
    later code learn action effects (uplift) from outcomes without confounding; 0 (the
    default) means no pilot, an empty actions table and the same world as before the pilot.
    """

    n_customers: int = 5000
    seed: int = 7
    start: str = "2023-07-01"
    end: str = "2025-07-01"
    horizon_days: int = 30
    cutoffs: tuple[str, ...] = _DEFAULT_CUTOFFS
    activity: float = 1.0
    pilot_share: float = 0.0
    shock: str | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "start", _iso(self.start, "start"))
        set_(self, "end", _iso(self.end, "end"))
        set_(self, "cutoffs", tuple(_iso(c, "cutoffs") for c in self.cutoffs))
        if not isinstance(self.n_customers, int) or self.n_customers < 1:
            raise ConfigError(
                f"SimConfig.n_customers must be a positive integer; got {self.n_customers!r}."
            )
        if not isinstance(self.horizon_days, int) or self.horizon_days < 1:
            raise ConfigError(
                f"SimConfig.horizon_days must be a positive integer; got {self.horizon_days!r}."
            )
        if not self.activity > 0:
            raise ConfigError(f"SimConfig.activity must be > 0; got {self.activity!r}.")
        share = self.pilot_share
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise ConfigError(
                f"SimConfig.pilot_share must be a number between 0 and 1 (the share of eligible "
                f"customers treated at each cutoff); got {share!r}. Use 0 for no pilot or e.g. "
                "0.2 to treat one in five."
            )
        set_(self, "pilot_share", float(share))
        if self.start >= self.end:
            raise ConfigError(
                f"SimConfig.start must be before end; got start={self.start}, end={self.end}."
            )
        if not self.cutoffs or list(self.cutoffs) != sorted(set(self.cutoffs)):
            raise ConfigError(
                "SimConfig.cutoffs must be a non-empty, increasing list of distinct dates; "
                f"got {list(self.cutoffs)}."
            )
        if self.shock is not None:
            kind, date = parse_shock(self.shock)
            if not self.start < date < self.end:
                raise ConfigError(
                    f"SimConfig.shock starts on {date}, outside the world ({self.start}, "
                    f"{self.end}); pick a date between start and end."
                )
            set_(self, "shock", f"{kind}:{date}")
        last_ok = (pd.Timestamp(self.end) - pd.Timedelta(days=self.horizon_days)).date()
        bad = [c for c in self.cutoffs if not self.start < c <= last_ok.isoformat()]
        if bad:
            raise ConfigError(
                f"SimConfig.cutoffs {bad} fall outside ({self.start}, {last_ok}]: every cutoff "
                "must be after start and leave a full horizon before end. Move the cutoffs or "
                "the end date."
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed, "n_customers": self.n_customers, "start": self.start,
            "end": self.end, "horizon_days": self.horizon_days, "cutoffs": list(self.cutoffs),
            "activity": self.activity, "pilot_share": self.pilot_share,
            **({"shock": self.shock} if self.shock else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SimConfig:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        if "cutoffs" in known:
            known["cutoffs"] = tuple(known["cutoffs"])
        return cls(**known)


def monthly_cutoffs(config: SimConfig) -> list[pd.Timestamp]:
    """Every month start (UTC) from three months after the world begins to its last cutoff.

    The training history of a world: the first three months are skipped so that 90-day feature
    windows are filled, and the newest truth cutoff (where the truth is judged) is the last.
    """
    first = pd.Timestamp(config.start, tz="UTC") + pd.DateOffset(months=3)
    return list(pd.date_range(first, pd.Timestamp(config.cutoffs[-1], tz="UTC"), freq="MS"))


@dataclass
class World:
    """A simulated world held in memory; the frames follow the data contract."""

    customers: pd.DataFrame
    events: pd.DataFrame
    actions: pd.DataFrame
    truth_churn: pd.DataFrame
    truth_action_effects: pd.DataFrame
    config: SimConfig = field(default_factory=SimConfig)


def _blocks(config: SimConfig) -> Iterator[tuple[Population, BlockResult]]:
    """Simulate block after block; each block's randomness depends only on (seed, block)."""
    start_us, end_us = to_us(config.start), to_us(config.end)
    cutoffs_us = tuple(to_us(c) for c in config.cutoffs)
    crisis = None
    if config.shock:
        kind, date = parse_shock(config.shock)
        crisis = Shock(kind, to_us(date))
    for b in range(math.ceil(config.n_customers / BLOCK_SIZE)):
        rng = np.random.default_rng([config.seed, b])
        # The pilot's own stream: without a pilot, rng's draws are exactly as they always were.
        pilot_rng = np.random.default_rng([config.seed, b, 1]) if config.pilot_share else None
        n = min(BLOCK_SIZE, config.n_customers - b * BLOCK_SIZE)
        pop = draw_population(rng, b * BLOCK_SIZE, n, start_us, end_us)
        yield pop, simulate_block(
            rng, pop, start_us, end_us, cutoffs_us, config.horizon_days, config.activity,
            config.pilot_share, pilot_rng, crisis,
        )


def truth_column(horizon_days: int) -> str:
    """The truth table's column holding P(churn within ``horizon_days``), e.g. p_churn_60d."""
    return f"p_churn_{int(horizon_days)}d"


def _truth_frame(pop: Population, res: BlockResult, cutoffs_us: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.Series(customer_ids(pop.index[res.truth_customer]), dtype="str"),
            "cutoff": us_to_utc(cutoffs_us[res.truth_cutoff]),
            "p_churn": res.truth_p,
            **{truth_column(h): res.truth_horizons[:, k]
               for k, h in enumerate(TRUTH_HORIZONS)},
        }
    )


def _effects_frame(pop: Population, res: BlockResult, cutoffs_us: np.ndarray) -> pd.DataFrame:
    """Long table: one row per (customer, action type), at the customer's newest cutoff."""
    who = np.flatnonzero(res.effect_cutoff >= 0)
    k = len(ACTION_TYPES)
    return pd.DataFrame(
        {
            "customer_id": pd.Series(np.repeat(customer_ids(pop.index[who]), k), dtype="str"),
            "action_type": pd.Series(np.tile(np.array(ACTION_TYPES, dtype=object), len(who)),
                                     dtype="str"),
            "cutoff": us_to_utc(np.repeat(cutoffs_us[res.effect_cutoff[who]], k)),
            "effect": res.effects[who].reshape(-1),
        }
    )


def _block_actions(pop: Population, res: BlockResult) -> tuple[np.ndarray, ...]:
    """A block's pilot actions as compact arrays: (global customer number, time, type code)."""
    return pop.index[res.action_customer], res.action_us, res.action_code


def _actions_frame(parts: list[tuple[np.ndarray, ...]]) -> pd.DataFrame:
    """The pilot's actions table, sorted by (action_time, customer_id); outcome left null.

    Built once from all blocks' compact arrays so that the in-memory and the streamed world
    sort the same rows the same way (ids are zero-padded, so number order is id order).
    """
    if not parts or not sum(len(p[0]) for p in parts):
        return empty_actions()  # a world without a pilot
    index, time_us, code = (np.concatenate(cols) for cols in zip(*parts, strict=True))
    order = np.lexsort((index, time_us))
    index, time_us, code = index[order], time_us[order], code[order]
    costs = np.array([PILOT_COSTS[a] for a in ACTION_TYPES], dtype=np.float64)
    frame = pd.DataFrame(
        {
            "customer_id": pd.Series(customer_ids(index), dtype="str"),
            "action_time": us_to_utc(time_us),
            "action_type": pd.Series(np.asarray(ACTION_TYPES, dtype=object)[code], dtype="str"),
            "cost": costs[code],
            "outcome": pd.Series(np.full(len(index), None, dtype=object), dtype="str"),
        }
    )
    return frame[list(ACTION_COLUMNS)]


def _read_actions(path: Path) -> pd.DataFrame:
    """The actions table with the dtypes simulate() gives it, whatever Parquet infers.

    An all-null ``outcome`` or an empty table would otherwise come back as whatever the reader
    guesses, and a world read from disk must equal the world simulated in memory.
    """
    return pd.read_parquet(path).astype(ACTION_DTYPES)[list(ACTION_COLUMNS)]


def simulate(config: SimConfig | None = None) -> World:
    """Simulate a whole world in memory (for default sizes; use simulate_to_folder for big)."""
    config = config or SimConfig()
    cutoffs_us = np.array([to_us(c) for c in config.cutoffs], dtype=np.int64)
    customers, events, truth, effects, actions = [], [], [], [], []
    for pop, res in _blocks(config):
        customers.append(customers_frame(pop))
        events.append(events_table(res.events, pop.index))
        truth.append(_truth_frame(pop, res, cutoffs_us))
        effects.append(_effects_frame(pop, res, cutoffs_us))
        actions.append(_block_actions(pop, res))
    return World(
        customers=pd.concat(customers, ignore_index=True),
        events=events_frame(pa.concat_tables(events)),
        actions=_actions_frame(actions),
        truth_churn=pd.concat(truth, ignore_index=True),
        truth_action_effects=pd.concat(effects, ignore_index=True),
        config=config,
    )


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    """A frame as an Arrow table, timestamps kept as UTC microseconds, strings as strings.

    Converts column by column (instead of ``Table.from_pandas``) to avoid pandas' deprecated
    ``Series.values`` on tz-aware columns, which pyarrow still calls.
    """
    arrays = {}
    for name, col in frame.items():
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            values = col.dt.tz_convert("UTC").dt.tz_convert(None).to_numpy()
            arrays[name] = pa.array(values, type=pa.timestamp("us", tz="UTC"))
        elif pd.api.types.is_string_dtype(col.dtype):
            arrays[name] = pa.array(col.to_numpy(dtype=object, na_value=None), type=pa.string())
        else:
            arrays[name] = pa.array(col.to_numpy(), from_pandas=True)
    return pa.table(arrays)


def write_world(world: World, folder: Path) -> Path:
    """Write a world's six files (see FILES) into folder, creating it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("customers", "events", "actions", "truth_churn", "truth_action_effects"):
        pq.write_table(to_arrow(getattr(world, name)), folder / f"{name}.parquet")
    (folder / "world.json").write_text(json.dumps(world.config.to_json(), indent=2) + "\n")
    return folder


def read_world(folder: Path) -> World:
    """Read a world written by write_world or simulate_to_folder."""
    folder = Path(folder)
    missing = [f for f in FILES if not (folder / f).is_file()]
    if missing:
        raise DataContractError(
            f"{folder} is not a complete world folder: expected {list(FILES)}, missing "
            f"{missing}. Write one with `cxchurn simulate --out {folder}`."
        )
    config = SimConfig.from_json(json.loads((folder / "world.json").read_text()))
    return World(
        customers=pd.read_parquet(folder / "customers.parquet"),
        events=events_frame(pq.read_table(folder / "events.parquet")),
        actions=_read_actions(folder / "actions.parquet"),
        truth_churn=pd.read_parquet(folder / "truth_churn.parquet"),
        truth_action_effects=pd.read_parquet(folder / "truth_action_effects.parquet"),
        config=config,
    )


def simulate_to_folder(
    config: SimConfig, folder: Path, chunk_size: int = 20_000, progress: bool = True
) -> dict[str, Any]:
    """Stream a world of any size to folder; returns (and stores in world.json) its summary.

    Memory holds one chunk of customers (``chunk_size``, rounded to whole blocks of
    BLOCK_SIZE) and its events at a time; the data do not depend on ``chunk_size``.
    """
    if chunk_size < 1:
        raise ConfigError(f"chunk_size must be a positive integer; got {chunk_size!r}.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cutoffs_us = np.array([to_us(c) for c in config.cutoffs], dtype=np.int64)
    per_chunk = max(1, round(chunk_size / BLOCK_SIZE))
    acc = Accumulator(config)
    writers: dict[str, pq.ParquetWriter] = {}
    pending: dict[str, list[pa.Table]] = {}
    actions: list[tuple[np.ndarray, ...]] = []  # compact (17 bytes a row), sorted at the end

    def flush() -> None:
        for name, tables in pending.items():
            table = pa.concat_tables(tables)
            if name not in writers:
                writers[name] = pq.ParquetWriter(folder / f"{name}.parquet", table.schema)
            writers[name].write_table(table)
        pending.clear()

    n_blocks = math.ceil(config.n_customers / BLOCK_SIZE)
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("simulating customers", total=config.n_customers)
        try:
            for b, (pop, res) in enumerate(_blocks(config)):
                acc.add(pop, res, cutoffs_us)
                actions.append(_block_actions(pop, res))
                tables = {
                    "customers": to_arrow(customers_frame(pop)),
                    "events": events_table(res.events, pop.index),
                    "truth_churn": to_arrow(_truth_frame(pop, res, cutoffs_us)),
                    "truth_action_effects": to_arrow(_effects_frame(pop, res, cutoffs_us)),
                }
                for name, table in tables.items():
                    pending.setdefault(name, []).append(table)
                if (b + 1) % per_chunk == 0 or b + 1 == n_blocks:
                    flush()
                bar.advance(task, len(pop))
        finally:
            for writer in writers.values():
                writer.close()
    pq.write_table(to_arrow(_actions_frame(actions)), folder / "actions.parquet")
    summary = acc.summary()
    (folder / "world.json").write_text(
        json.dumps({**config.to_json(), "summary": summary}, indent=2) + "\n"
    )
    return summary


__all__ = [
    "BLOCK_SIZE", "FILES", "SimConfig", "World", "auc", "monthly_cutoffs", "parse_shock",
    "read_world", "simulate",
    "simulate_to_folder", "to_arrow", "truth_column", "world_summary", "write_world",
]
