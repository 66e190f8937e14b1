"""A bot as a readable YAML file, so it can live in git: its spec (provider keys left out:
they stay on the server), the names of its documents, its test sets (the measure of the
bot travels with it) and its corrected answers (question, paraphrases, answer, sources, enabled;
not their hit counts, which belong to the server they were counted on)."""

from __future__ import annotations

import yaml

from bots.schemas.bots import Bot
from bots.schemas.knowledge import Document

FORMAT = 1


class BotFileError(Exception):
    pass


def dump(
    bot: Bot,
    documents: list[Document],
    test_sets: dict[str, list[dict]] | None = None,
    corrected_answers: list[dict] | None = None,
    experiments: list[dict] | None = None,
) -> str:
    spec = {k: v for k, v in bot.spec.items() if k != "name"}
    if isinstance(spec.get("model"), dict):
        spec["model"] = {k: v for k, v in spec["model"].items() if k != "api_key"}
    data = {
        "prompteur_bot": FORMAT,
        "name": bot.name,
        "language": bot.language,
        "embedding_model": bot.embedding_model,
        "spec": spec,
        "documents": sorted(d.source for d in documents),
    }
    if test_sets:
        data["test_sets"] = test_sets
    if corrected_answers:
        data["corrected_answers"] = corrected_answers
    if experiments:
        data["experiments"] = experiments
    header = (
        f"# Prompteur bot {bot.id}. Import with `prompteur bot import FILE`.\n"
        "# Provider API keys are not exported; set them on the server.\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def load(text: str) -> dict:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise BotFileError(f"This is not valid YAML: {err}") from None
    if not isinstance(data, dict) or data.get("prompteur_bot") != FORMAT or not data.get("name"):
        raise BotFileError(
            "This is not a Prompteur bot file (made by `prompteur bot export`): it needs "
            f"`prompteur_bot: {FORMAT}` and a `name`."
        )
    if not isinstance(data.get("spec", {}), dict) or not isinstance(data.get("documents", []), list):
        raise BotFileError("`spec` must be a mapping and `documents` a list of file names.")
    sets = data.get("test_sets", {})
    if not isinstance(sets, dict) or not all(isinstance(v, list) for v in sets.values()):
        raise BotFileError("`test_sets` must map each set's name to a list of cases.")
    answers = data.get("corrected_answers", [])
    if not isinstance(answers, list) or not all(isinstance(a, dict) for a in answers):
        raise BotFileError("`corrected_answers` must be a list of {question, answer, paraphrases, sources}.")
    experiments = data.get("experiments", [])
    if not isinstance(experiments, list) or not all(
        isinstance(e, dict) and isinstance(e.get("set"), str) and isinstance(e.get("variants"), list)
        for e in experiments
    ):
        raise BotFileError("`experiments` must be a list of {set, variants: [{name, <spec section>: ...}]}.")
    return data


def experiment_definition(set_name: str, variants: list[tuple[str, dict]], promoted: str | None) -> dict:
    """What of an experiment travels: its set and its variants (as `eval experiment
    --variants` reads them), and which one was promoted. Its runs do not: they measured that
    server's documents and model, and are measured again where the file is imported."""
    out = []
    for name, overrides in variants:
        shown = dict(overrides)
        if isinstance(shown.get("model"), dict):  # never a key in the file, as for the spec
            shown["model"] = {k: v for k, v in shown["model"].items() if k != "api_key"}
        out.append({"name": name, **shown})
    return {"set": set_name, "variants": out, "promoted": promoted}
