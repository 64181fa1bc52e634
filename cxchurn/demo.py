"""The main job on the embedded defaults: simulate, validate, build features, train, register.

It calls the same command functions people run one by one, so the demo can never drift from
the CLI.
"""

from __future__ import annotations

from cxchurn import paths
from features.commands import build_command
from features.sim_commands import simulate_command

# Every month start from three months after the world begins to the last labelled cutoff:
# more cutoffs give the model more churners to learn from; the newest stays held out.
DEMO_START = "2023-10-01"
DEMO_END = "2025-06-01"
# The newest six months are the test fold. With one test month (~2,450 rows, ~110 churners)
# the oracle gap's 95% interval was +/-0.019, too wide to tell a good model from a poor one;
# six months (~14,700 rows, ~660 churners) bring it to +/-0.009 (measured on this world).
# The price is a model trained on cutoffs up to six months older, which the figures then
# honestly describe; training time is unchanged (~20 s).
DEMO_TEST_CUTOFFS = 6


def demo_command() -> None:
    """Run the whole pipeline on a seeded synthetic CX world and say where to look."""
    # Imported here, as every command module does: at module level it made every `cxchurn`
    # command (`cxchurn kpis` included) import MLflow, scikit-learn and matplotlib first.
    from training.job import run_training
    from training.train import TrainConfig

    world = paths.world_dir()
    features = paths.features_dir()
    simulate_command(out=world)
    build_command(out=features, world=world, start=DEMO_START, end=DEMO_END)
    summary = run_training(features, world_dir=world, out_dir=paths.reports_dir(),
                           config=TrainConfig(n_test_cutoffs=DEMO_TEST_CUTOFFS))
    for line in summary.lines():
        print(line)
    from serving.retention.commands import demo_step

    for line in demo_step():
        print(line)
