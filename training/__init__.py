"""Training, evaluating, explaining and registering the churn model.

Sits above ``features`` and below ``serving``: it imports nothing from ``serving`` or
``uplift``. The modules load LightGBM, MLflow and SHAP, so this package re-exports nothing;
import the module you need:

- ``dataset``: a feature build as examples; ``train``: ``TrainConfig`` and
  ``train_churn_model``; ``model``: ``ChurnModel`` (LightGBM + calibration + feature list).
- ``job`` and ``refit``: a whole training run (log, evaluate, register, promote);
  ``snapshot``/``snapshot_job``: training on a one-row-per-customer table.
- ``evaluate``, ``crossval``, ``baselines``, ``leakage``, ``plots``: how good and why.
- ``explain``: SHAP drivers; ``pyfunc``: the MLflow model; ``registry``: champion and
  challenger; ``tracking``: the MLflow run; ``bands``: low / medium / high risk.
- ``spark_score``: batch scoring on Spark; ``commands``, ``spark_commands``: the CLI commands.
"""
