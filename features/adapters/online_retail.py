"""UCI Online Retail (Chen, Sain & Guo 2012): invoice lines -> the events contract.

The file has one row per invoice line (InvoiceNo, StockCode, Description, Quantity,
InvoiceDate, UnitPrice, CustomerID, Country) for a UK online gift retailer, 2010-12-01 to
2011-12-09. The mapping, and why:

* one event per (invoice, customer): the customer's touchpoint is the order, not the line;
  ``amount`` = sum of Quantity x UnitPrice over its lines;
* invoices starting with "C" are cancellations of goods already bought -> ``return`` events
  with the refunded value as a positive ``amount`` (they are not ``cancellation`` events:
  the customer did not end a contract, and a return is not activity);
* other invoices with a positive total -> ``order`` events; those with a zero or negative
  total (price corrections, free samples) carry no purchase and are left out, counted;
* lines without CustomerID (about a quarter) cannot be placed on a customer: left out,
  counted; ``channel`` is ``web`` (a non-store online retailer);
* InvoiceDate is UK local time as written; it is taken as UTC (at most one hour off in
  summer, far below the daily resolution of the features);
* customers: ``signup_date`` = the first transaction. Usually the first order; when a return
  comes first (goods bought before the file starts) the return, because the contract refuses
  events before signup and the return proves the customer existed. ``country`` = the
  customer's most frequent country (a static attribute);
* label: non-contractual, "no purchase (order) within the next 90 days", for customers who
  bought within the 90 days before the cutoff; monthly cutoffs from the second month on, the
  last one whose 90-day window ends inside the data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cxchurn.errors import DataContractError
from features.adapters.base import AdaptedLog, purged_cutoffs
from features.labels import LabelConfig

NAME = "online_retail"
FILE = "onlineretail.csv.gz"
COLUMNS = ("InvoiceNo", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country")
HORIZON_DAYS = 90
CHANNEL = "web"


def read_lines(data_dir: str | Path) -> pd.DataFrame:
    """The raw invoice lines as text (the mapping parses and counts what it cannot use)."""
    folder = Path(data_dir)
    path = folder / FILE if folder.is_dir() else folder
    if not path.is_file():
        raise DataContractError(f"expected the Online Retail file at {path}; pass --data with "
                                f"the folder holding {FILE} (see its PROVENANCE.txt)")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _customer_ids(values: pd.Series) -> pd.Series:
    text = values.astype(str).str.strip()
    return text.str.replace(r"\.0+$", "", regex=True)


def map_lines(lines: pd.DataFrame, horizon_days: int = HORIZON_DAYS) -> AdaptedLog:
    """Invoice lines -> customers, events, label config and cutoffs (pure; counts in report)."""
    missing = [c for c in COLUMNS if c not in lines.columns]
    if missing:
        raise DataContractError(f"Online Retail lines lack column(s) {missing}; expected "
                                f"{list(COLUMNS)}")
    n_lines = len(lines)
    cid = _customer_ids(lines["CustomerID"])
    qty = pd.to_numeric(lines["Quantity"], errors="coerce")
    price = pd.to_numeric(lines["UnitPrice"], errors="coerce")
    when = pd.to_datetime(lines["InvoiceDate"], errors="coerce", utc=True, format="ISO8601")
    no_customer = cid.eq("") | cid.str.lower().isin(["nan", "na"])
    unparseable = ~no_customer & (qty.isna() | price.isna() | when.isna())
    keep = ~no_customer & ~unparseable
    frame = pd.DataFrame({
        "invoice": lines["InvoiceNo"].astype(str).str.strip()[keep],
        "customer_id": cid[keep],
        "time": when[keep],
        "value": (qty * price)[keep],
        "country": lines["Country"].astype(str).str.strip()[keep],
    })
    invoices = frame.groupby(["invoice", "customer_id"], sort=False).agg(
        event_time=("time", "min"), value=("value", "sum")).reset_index()
    is_return = invoices["invoice"].str.upper().str.startswith("C")
    is_order = ~is_return & (invoices["value"] > 0)
    dropped_invoices = int((~is_return & ~is_order).sum())
    events = pd.DataFrame({
        "customer_id": invoices["customer_id"],
        "event_time": invoices["event_time"].astype("datetime64[us, UTC]"),
        "event_type": np.where(is_return, "return", "order"),
        "channel": CHANNEL,
        "amount": np.where(is_return, -invoices["value"], invoices["value"]).astype(float),
        "score": np.nan,
        "duration": np.nan,
        "text": pd.Series([None] * len(invoices), dtype="object"),
    })[(is_return | is_order).to_numpy()]
    events = events.sort_values(["customer_id", "event_time"], kind="stable").reset_index(
        drop=True)
    customers = _customers(events, frame)
    data_end = when.max()
    cutoffs = monthly_cutoffs(when.min(), data_end, horizon_days)
    label = LabelConfig(kind="non_contractual", horizon_days=horizon_days,
                        activity_event_types=("order",), active_within_days=90,
                        data_end=data_end)
    report: dict[str, int | str] = {
        "lines_read": n_lines,
        "lines_without_customer": int(no_customer.sum()),
        "lines_unparseable": int(unparseable.sum()),
        "lines_mapped": int(keep.sum()),
        "invoices": len(invoices),
        "order_events": int((events["event_type"] == "order").sum()),
        "return_events": int((events["event_type"] == "return").sum()),
        "invoices_zero_or_negative_left_out": dropped_invoices,
        "customers": len(customers),
        "data_start": str(when.min()),
        "data_end": str(data_end),
    }
    return AdaptedLog(name=NAME, customers=customers, events=events, label=label,
                      cutoffs=tuple(cutoffs), train_cutoffs=purged_cutoffs(cutoffs, horizon_days),
                      report=report)


def _customers(events: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    signup = events.groupby("customer_id")["event_time"].min()
    country = (lines.groupby(["customer_id", "country"]).size().rename("n").reset_index()
               .sort_values(["customer_id", "n", "country"], ascending=[True, False, True])
               .drop_duplicates("customer_id").set_index("customer_id")["country"])
    out = pd.DataFrame({"customer_id": signup.index.astype(str),
                        "signup_date": signup.to_numpy()})
    out["country"] = out["customer_id"].map(country).astype("str")
    out["signup_date"] = out["signup_date"].astype("datetime64[us, UTC]")
    return out.sort_values("customer_id").reset_index(drop=True)


def monthly_cutoffs(start: pd.Timestamp, end: pd.Timestamp,
                    horizon_days: int) -> list[pd.Timestamp]:
    """First of each month after the first month, while cutoff + horizon is inside the data."""
    first = (pd.Timestamp(start).tz_convert("UTC").normalize().replace(day=1)
             + pd.offsets.MonthBegin(1))
    dates = pd.date_range(first, end, freq="MS")
    return [d for d in dates if d + pd.Timedelta(days=horizon_days) <= end]


def adapt(data_dir: str | Path, horizon_days: int = HORIZON_DAYS) -> AdaptedLog:
    """Read the file under ``data_dir`` and map it."""
    return map_lines(read_lines(data_dir), horizon_days)
