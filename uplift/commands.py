"""``cxchurn retention learn-effects``: learn the catalogue's action effects from outcomes.

Estimates the effects from the outcomes of randomly assigned actions and writes a
reviewed-before-use copy of the catalogue, a chart and a page. Uplift sits above serving, so
``cxchurn/cli.py`` attaches the command to the ``retention`` group (``register``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from cxchurn import paths
from cxchurn.errors import ConfigError
from cxchurn.settings import Settings

LEARN_EFFECTS_HELP = (
    "Learn action effects (uplift) from randomised outcomes; writes a catalogue to review.\n\n"
    "Needs no trained champion: it trains its own churn models, one per customer fold on the "
    "other folds' untreated rows (in a temporary folder under $CXCHURN_HOME), so no customer "
    "is scored by a model that saw its outcome. Each fold takes about as long as `cxchurn "
    "train`; a line per fold shows the progress.")


def learn_effects_command(
    features: Annotated[Path | None, typer.Option(
        help="feature build folder (labelled examples) [default: $CXCHURN_HOME/features]")] = None,
    actions: Annotated[Path | None, typer.Option(
        help="actions table (.parquet or .csv) [default: the world's actions.parquet]")] = None,
    catalogue: Annotated[Path | None, typer.Option(
        help="catalogue whose effects are the priors [default: $CXCHURN_ACTIONS or built-in]"
    )] = None,
    out: Annotated[Path | None, typer.Option(
        help="learned catalogue YAML [default: $CXCHURN_HOME/actions.learned.yaml]")] = None,
    window_days: Annotated[float, typer.Option(
        help="an action this many days after a cutoff treats that cutoff's row")] = 7.0,
    prior_sd: Annotated[float, typer.Option(
        help="how far the data may pull an effect from its prior (sd)")] = 0.5,
    folds: Annotated[int, typer.Option(
        help="customer folds: each is scored by a churn model trained on the others' "
             "untreated rows (one model trained per fold)")] = 2,
    washout_days: Annotated[float, typer.Option(
        help="leave out rows whose customer got an action this many days before the cutoff "
             "(its effect may still last); 0 keeps every row")] = 0.0,
) -> None:
    """Print each fold's progress as it trains, then the summary (help: see the decorator)."""
    for line in learn_effects_step(features=features, actions=actions, catalogue=catalogue,
                                   out=out, window_days=window_days, prior_sd=prior_sd,
                                   folds=folds, washout_days=washout_days,
                                   progress=typer.echo):
        typer.echo(line)


def read_actions(path: Path) -> Any:
    """The actions table at ``path`` (.csv or Parquet), read by the data contract's reader.

    ``features.load.read_raw`` checks the header and keeps ids as text (a CSV id such as
    "00123" must still match the examples' customer_id); a missing file says how to get one.
    """
    from features.contract import ACTIONS
    from features.load import read_raw

    if not Path(path).is_file():
        raise ConfigError(f"no actions table at {path}; pass --actions FILE (an `actions` "
                          f"table of the data contract, e.g. from `cxchurn retention outcomes`"
                          f" or a world simulated with `cxchurn simulate --pilot-share 0.1`).")
    return read_raw(Path(path), ACTIONS)


def learn_effects_step(*, home: Path | None = None, features: Path | None = None,
                       actions: Path | None = None, catalogue: Path | None = None,
                       out: Path | None = None, window_days: float = 7.0,
                       prior_sd: float = 0.5, folds: int = 2, washout_days: float = 0.0,
                       progress: Callable[[str], None] | None = None) -> list[str]:
    """Cross-fit effects on a feature build; write catalogue, chart and page; return a summary.

    The churn models are trained here (``uplift.crossfit.fit_model_for``, the build's specs)
    into a temporary folder under ``home`` that is removed afterwards: they exist only to
    score the pilot's customers out of fold. ``progress`` gets a line per fold as it goes.
    """
    import tempfile

    from serving.retention.catalogue import load_catalogue, write_catalogue
    from training.dataset import load_examples
    from uplift.crossfit import fit_model_for, learn_effects
    from uplift.effects import UpliftConfig
    from uplift.report import effects_chart, effects_markdown

    config = UpliftConfig(window_days=window_days, prior_sd=prior_sd, folds=folds,
                          washout_days=washout_days)
    home = Path(home or paths.home())
    features = Path(features or paths.features_dir(home))
    actions = Path(actions or paths.world_dir(home) / "actions.parquet")
    table = read_actions(actions)
    priors = load_catalogue(catalogue or Settings.from_env().actions_file)
    examples = load_examples(features)
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="learn-effects-", dir=home) as work:
        fit = learn_effects(examples, table, priors, fit_model_for(features, Path(work)),
                            config, progress=progress)
    out = Path(out or home / "actions.learned.yaml")
    write_catalogue(fit.catalogue, out, header=(
        f"Learned by `cxchurn retention learn-effects` from {actions}\n"
        f"(priors: {priors.source}; {fit.rows:,} labelled rows, scores cross-fitted over "
        f"{folds} customer folds). Review {out.stem}.md before use:\n"
        f"CXCHURN_ACTIONS={out} cxchurn serve"))
    page = out.with_suffix(".md")
    page.write_text(effects_markdown(fit, window_days), encoding="utf-8")
    chart = effects_chart(fit, out.with_suffix(".png"))
    return [*effect_lines(fit), f"catalogue -> {out}", f"report -> {page}, {chart}",
            "only randomly assigned actions give unbiased effects; review, then use with "
            f"CXCHURN_ACTIONS={out}"]


def effect_lines(fit: Any) -> list[str]:
    """One line per action: prior -> learned effect and general effect, with standard errors."""
    lines = [f"learned effects from {int(fit.table['treated'].sum()):,} treated rows, scored "
             f"out of fold by {len(fit.folds)} cross-fitted churn models:"]
    for r in fit.table.itertuples():
        how = (f"effect {r.prior_effect:.2f} -> {r.effect:.2f} (se {r.effect_se:.2f}), general "
               f"{r.prior_general:.2f} -> {r.general_effect:.2f} (se {r.general_se:.2f})"
               if r.learned else "kept its prior (too few treated)")
        lines.append(f"  {r.action:<18} treated {r.treated:>6,}  {how}")
    return lines


def register(retention: typer.Typer) -> None:
    """Attach ``learn-effects`` to the ``cxchurn retention`` group."""
    retention.command("learn-effects", help=LEARN_EFFECTS_HELP)(learn_effects_command)
