"""The one table of built-in sentences people see, by language (English when a language or a
sentence is missing): the bot's own phrases, and the message of every `DomainError` code
(`bots.core.errors`). Sentences of errors only operators and developers meet exist in English."""

from __future__ import annotations

from bots.core.spec import BotSpec

_PHRASES = {
    "en": {
        "fallback": "I'm sorry, I don't have that information.",
        "handoff_form": "If you like, leave your details and a person from our team will get back to you.",
        "handoff_contact": "You can reach our team here: {contact}",
        # errors of the answer, seen by customers
        "retrieval_failed": "Sorry, I can't look up our documentation right now. Please try again in a moment.",
        "model_error": "Sorry, I can't answer right now because of a technical problem. Please try again in a moment.",
        "model_rate_limited": "Sorry, I'm receiving too many questions right now. Please try again in a moment.",
        "model_timeout": "Sorry, answering took too long. Please try again in a moment.",
        "model_stream_interrupted": "Sorry, my answer was cut short by a technical problem. Please ask again.",
        "internal_error": "Something went wrong on the server; the error was logged. Please try again.",
        # refusals of a question
        "empty_message": "The message is empty: write a question.",
        "message_too_long": "The message has {length} characters; the limit is {limit}. Shorten it and send it again.",
        "history_too_long": "The earlier messages are too long; send fewer turns.",
        "conversation_too_long": "This conversation reached its limit of {limit} messages. "
        "Start a new conversation to keep asking.",
        "request_in_progress": "This request (same Idempotency-Key) is still being answered; wait a moment and retry.",
        "request_failed": "This request (same Idempotency-Key) already failed ({error}); "
        "send the question again with a new key.",
        "conversation_not_found": "This conversation does not exist or is not yours; start a new one.",
        "message_not_found": "This message does not exist or is not yours.",
        # for operators and developers
        "bot_not_found": "There is no bot with id {bot_id!r}.",
        "bot_not_published": "Bot {bot_id} is not published yet.",
        "not_published": "Bot {bot_id} has no published version yet: "
        "publish it in the builder (or POST /admin/bots/{{bot_id}}/versions) first.",
        "version_not_found": "Bot {bot_id} has no version {number}.",
        "invalid_stored_spec": "Bot {bot_id}'s spec is not valid ({count} problem(s): {problems}); "
        "fix it in the builder.",
        "invalid_spec": "The bot spec is not valid: {problems}.",
        "invalid_request": "The request is not valid: {problems}",
        # corrected answers and the review inbox (issue #14)
        "corrected_answer_not_found": "This bot has no corrected answer {id}.",
        "invalid_corrected_answer": "The corrected answer is not valid: {problem}.",
        "review_item_not_found": "This bot has no answer {id} to review.",
        # Postgres and a Chroma server (issue #17)
        "database_unavailable": "The service cannot reach its database right now. Please try again in a moment.",
        "search_unavailable": "The service cannot search its documents right now. Please try again in a moment.",
    },
    "fr": {
        "fallback": "Désolé, je n'ai pas cette information.",
        "handoff_form": "Si vous le souhaitez, laissez vos coordonnées et une personne de notre équipe vous recontactera.",
        "handoff_contact": "Vous pouvez joindre notre équipe ici : {contact}",
        "retrieval_failed": "Désolé, je ne peux pas consulter notre documentation pour le moment. Réessayez dans un instant.",
        "model_error": "Désolé, je ne peux pas répondre pour le moment à cause d'un problème technique. Réessayez dans un instant.",
        "model_rate_limited": "Désolé, je reçois trop de questions en ce moment. Réessayez dans un instant.",
        "model_timeout": "Désolé, la réponse a pris trop de temps. Réessayez dans un instant.",
        "model_stream_interrupted": "Désolé, ma réponse a été interrompue par un problème technique. Posez à nouveau votre question.",
        "internal_error": "Une erreur s'est produite sur le serveur ; elle a été consignée. Réessayez.",
        "empty_message": "Le message est vide : écrivez une question.",
        "message_too_long": "Le message fait {length} caractères ; la limite est {limit}. Raccourcissez-le et renvoyez-le.",
        "conversation_too_long": "Cette conversation a atteint sa limite de {limit} messages. "
        "Commencez une nouvelle conversation pour continuer.",
        "conversation_not_found": "Cette conversation n'existe pas ou n'est pas la vôtre ; commencez-en une nouvelle.",
        "message_not_found": "Ce message n'existe pas ou n'est pas le vôtre.",
        # Postgres and a Chroma server (issue #17)
        "database_unavailable": "Le service ne peut pas joindre sa base de données pour le moment. Réessayez dans un instant.",
        "search_unavailable": "Le service ne peut pas chercher dans ses documents pour le moment. Réessayez dans un instant.",
    },
}


def phrase(key: str, language: str | None, **values: str) -> str:
    table = _PHRASES.get(language or "en", _PHRASES["en"])
    # A sentence missing in the language is said in English; error codes without a sentence
    # of their own get the generic technical-problem one, in the customer's language.
    text = table.get(key) or _PHRASES["en"].get(key) or table["model_error"]
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
