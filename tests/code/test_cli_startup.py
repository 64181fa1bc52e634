"""Every `cxchurn` command starts without importing the training and serving stacks.

`cxchurn kpis` must stay interactive (under 10 s on 10M events), and importing MLflow,
scikit-learn and matplotlib at CLI start cost it seconds before any work began: the command
modules import what they need inside their functions. A fresh interpreter is used so that
modules other tests loaded do not hide an import.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("mlflow", "sklearn", "matplotlib", "lightgbm", "bentoml", "pyspark")


def test_the_cli_imports_no_heavy_stack_at_start() -> None:
    code = ("import json, sys; import cxchurn.cli; "
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={"PYTHONPATH": str(ROOT)})
    assert json.loads(out.stdout) == []
