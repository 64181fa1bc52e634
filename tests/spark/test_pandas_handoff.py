"""pyspark 4.3 warns that pandas 3 is not fully supported: the hand-offs we use, tested.

pandas -> Spark (``read_table`` through Arrow), Spark -> pandas (``to_pandas``) and a
``mapInPandas`` round trip must keep strings (pandas 3 ``str``, with missing values), floats
with NaN, UTC timestamps and non-ASCII text exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": pd.Series(["a", "b", None, "ç"], dtype="str"),
        "cutoff": pd.to_datetime(["2025-01-01 00:00:00.000001", "2025-03-30 01:30",
                                  "2024-10-27 02:15", "2025-06-01"], utc=True, format="ISO8601"
                                 ).astype("datetime64[us, UTC]"),
        "amount": [1.5, np.nan, -0.0, 1e300],
        "text": pd.Series(["İptal", None, "teşekkürler", "late"], dtype="str"),
    })


def test_pandas_to_spark_to_pandas_keeps_values_and_types(spark, frame: pd.DataFrame) -> None:
    from features.spark_engine import to_pandas
    from features.spark_io import read_table

    back = to_pandas(read_table(spark, frame, "cutoffs"), sort=False)
    assert_frame_equal(back, frame, check_dtype=False)
    assert str(back["cutoff"].dtype) == "datetime64[us, UTC]"
    assert back["amount"].dtype == "float64" and back["amount"].isna().sum() == 1
    assert back["customer_id"].isna().sum() == 1 and back["text"].isna().sum() == 1


def test_map_in_pandas_round_trip_is_exact(spark, frame: pd.DataFrame) -> None:
    from features.spark_engine import to_pandas
    from features.spark_io import read_table

    sdf = read_table(spark, frame, "cutoffs").repartition(2)
    seen = sdf.mapInPandas(lambda batches: (b.assign(n=len(b)) for b in batches),
                           schema=f"{', '.join(f'`{c}` {t}' for c, t in sdf.dtypes)}, n long")
    back = to_pandas(seen.drop("n")).sort_values("cutoff").reset_index(drop=True)
    expected = frame.sort_values("cutoff").reset_index(drop=True)
    assert_frame_equal(back, expected, check_dtype=False)
