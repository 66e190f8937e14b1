"""Built-in sentences customers see, in the languages we ship (English is the fallback)."""

from __future__ import annotations

from bots.core.spec import BotSpec

_PHRASES = {
    "en": {
        "fallback": "I'm sorry, I don't have that information.",
        "handoff_form": "If you like, leave your details and a person from our team will get back to you.",
        "handoff_contact": "You can reach our team here: {contact}",
        "withheld": "Sorry, I can't help with that request.",
        "retrieval_failed": "Sorry, I can't look up our documentation right now. Please try again in a moment.",
        "model_error": "Sorry, I can't answer right now because of a technical problem. Please try again in a moment.",
        "model_rate_limited": "Sorry, I'm receiving too many questions right now. Please try again in a moment.",
        "model_timeout": "Sorry, answering took too long. Please try again in a moment.",
        "model_stream_interrupted": "Sorry, my answer was cut short by a technical problem. Please ask again.",
    },
    "fr": {
        "fallback": "Désolé, je n'ai pas cette information.",
        "handoff_form": "Si vous le souhaitez, laissez vos coordonnées et une personne de notre équipe vous recontactera.",
        "handoff_contact": "Vous pouvez joindre notre équipe ici : {contact}",
        "withheld": "Désolé, je ne peux pas répondre à cette demande.",
        "retrieval_failed": "Désolé, je ne peux pas consulter notre documentation pour le moment. Réessayez dans un instant.",
        "model_error": "Désolé, je ne peux pas répondre pour le moment à cause d'un problème technique. Réessayez dans un instant.",
        "model_rate_limited": "Désolé, je reçois trop de questions en ce moment. Réessayez dans un instant.",
        "model_timeout": "Désolé, la réponse a pris trop de temps. Réessayez dans un instant.",
        "model_stream_interrupted": "Désolé, ma réponse a été interrompue par un problème technique. Posez à nouveau votre question.",
    },
}


def phrase(key: str, language: str | None, **values: str) -> str:
    table = _PHRASES.get(language or "en", _PHRASES["en"])
    # Error codes without a sentence of their own get the generic technical-problem one.
    text = table.get(key) or table["model_error"]
    return text.format(**values) if values else text


def fallback_message(spec: BotSpec, language: str | None) -> str:
    """The bot's "I don't know" sentence: the spec's own, else ours in the customer's language."""
    return spec.fallback.message or phrase("fallback", language)


def handoff_offer(spec: BotSpec, language: str | None) -> str:
    """The sentence offering a human, or "" when hand-off is off."""
    handoff = spec.fallback.handoff
    if not handoff.enabled:
        return ""
    if handoff.kind == "contact" and handoff.contact:
        return phrase("handoff_contact", language, contact=handoff.contact)
    return phrase("handoff_form", language)
