"""Every sentence of the builder, in English and French, in one place.

`t(key, **values)` looks the key up in the language chosen in the sidebar
(st.session_state["lang"]), which defaults to PROMPTEUR_UI_LANGUAGE or the browser's language.
"""
from __future__ import annotations

import os

import streamlit as st

LANGUAGES = {"en": "English", "fr": "Français"}

S: dict[str, tuple[str, str]] = {
    # shell and navigation
    "interface_language": ("Interface language", "Langue de l'interface"),
    "current_bot": ("Bot", "Bot"),
    "no_bots_yet": ("No bot yet: create one on the Bots page.", "Aucun bot pour l'instant : créez-en un dans la page Bots."),
    "pick_a_bot": ("Create a bot on the Bots page (or pick one in the sidebar) first.",
                   "Créez d'abord un bot dans la page Bots (ou choisissez-en un dans la barre latérale)."),
    "page_bots": ("Bots", "Bots"),
    "page_persona": ("Persona", "Personnalité"),
    "page_knowledge": ("Knowledge", "Connaissances"),
    "page_playground": ("Playground", "Bac à sable"),
    "page_publish": ("Publish", "Publication"),
    "page_conversations": ("Conversations", "Conversations"),
    "page_settings": ("Settings", "Réglages"),
    "page_n_of": ("Page (of {pages})", "Page (sur {pages})"),
    "save": ("Save", "Enregistrer"),
    "saved": ("Saved.", "Enregistré."),
    "lang_en": ("English", "Anglais"),
    "lang_fr": ("French", "Français"),
    "server_at": ("Connected to the Prompteur server at {url}.", "Connecté au serveur Prompteur {url}."),
    # bots
    "create_bot": ("Create a bot", "Créer un bot"),
    "bot_name": ("Name", "Nom"),
    "bot_name_placeholder": ("e.g. Store support", "ex. Support boutique"),
    "bot_language": ("Language of the documents and answers", "Langue des documents et des réponses"),
    "bot_language_help": ("Chooses the embedding model: English bots get a fast English model, others a multilingual one.",
                          "Détermine le modèle d'embeddings : anglais rapide pour l'anglais, multilingue sinon."),
    "template": ("Template", "Modèle"),
    "template_help": ("Start from a ready-made customer-service persona; you can change every field afterwards.",
                      "Partez d'une personnalité de service client toute prête ; chaque champ reste modifiable."),
    "from_scratch": ("From scratch", "Partir de zéro"),
    "create": ("Create", "Créer"),
    "name_required": ("Give the bot a name.", "Donnez un nom au bot."),
    "bot_created": ("Bot {name} created.", "Bot {name} créé."),
    "import_yaml": ("Import a bot from YAML", "Importer un bot depuis un YAML"),
    "import_yaml_help": ("A file exported with “Export YAML”", "Un fichier exporté avec « Exporter en YAML »"),
    "import": ("Import", "Importer"),
    "import_invalid": ("{name} is not a bot export: it must be YAML with at least a `name`. Export a bot to see the format.",
                       "{name} n'est pas un export de bot : il faut un YAML avec au moins un `name`. Exportez un bot pour voir le format."),
    "col_name": ("Name", "Nom"), "col_id": ("Id", "Id"), "col_language": ("Language", "Langue"),
    "col_status": ("Status", "Statut"), "col_documents": ("Documents", "Documents"),
    "col_chunks": ("Chunks", "Extraits"), "col_updated": ("Updated", "Modifié"),
    "col_source": ("Document", "Document"), "col_pages": ("Pages", "Pages"), "col_size": ("Size", "Taille"),
    "col_error": ("Problem", "Problème"),
    "col_conversations": ("Conversations (7 days)", "Conversations (7 jours)"),
    "status_draft": ("Draft", "Brouillon"),
    "status_published": ("Published v{version}", "Publié v{version}"),
    "selected_bot": ("Selected: {name}", "Sélection : {name}"),
    "duplicate": ("Duplicate", "Dupliquer"),
    "duplicate_help": ("A new bot with the same persona and settings, without documents.",
                       "Un nouveau bot avec la même personnalité et les mêmes réglages, sans documents."),
    "copy_of": ("Copy of {name}", "Copie de {name}"),
    "export_yaml": ("Export YAML", "Exporter en YAML"),
    "export_help": ("The bot's spec as a file you can keep in git or import elsewhere. API keys are not included.",
                    "La spec du bot dans un fichier à garder dans git ou importer ailleurs. Les clés d'API n'y sont pas."),
    "delete_confirm": ("Yes, delete {name} and its documents", "Oui, supprimer {name} et ses documents"),
    "delete_bot": ("Delete bot", "Supprimer le bot"),
    # knowledge
    "upload_files": ("Add documents", "Ajouter des documents"),
    "upload_help": ("PDF, Word, Markdown, HTML, CSV (FAQ) or text. Uploading a file with the same name replaces it.",
                    "PDF, Word, Markdown, HTML, CSV (FAQ) ou texte. Un fichier de même nom remplace l'ancien."),
    "upload_and_index": ("Upload and index", "Envoyer et indexer"),
    "choose_files": ("Choose one or more files first.", "Choisissez d'abord un ou plusieurs fichiers."),
    "uploading": ("Uploading {n} file(s)…", "Envoi de {n} fichier(s)…"),
    "indexing": ("Indexing…", "Indexation…"),
    "indexing_progress": ("Indexing: {done} of {total} ready, {failed} failed",
                          "Indexation : {done} sur {total} prêts, {failed} en échec"),
    "still_indexing": ("Still indexing in the background: come back to this page later to see the result.",
                       "L'indexation continue en arrière-plan : revenez sur cette page plus tard."),
    "indexed_n": ("{n} document(s) ready to answer questions.", "{n} document(s) prêt(s) à répondre aux questions."),
    "job_running": ("{kind} in progress: {done} of {total}", "{kind} en cours : {done} sur {total}"),
    "documents_n": ("Documents ({n})", "Documents ({n})"),
    "no_documents": ("No documents yet. Add the pages, FAQs and manuals the bot should answer from.",
                     "Aucun document. Ajoutez les pages, FAQ et manuels à partir desquels le bot doit répondre."),
    "doc_queued": ("waiting", "en attente"), "doc_processing": ("indexing", "en cours"),
    "doc_ready": ("ready", "prêt"), "doc_failed": ("failed", "échec"),
    "open_document": ("Open a document", "Ouvrir un document"),
    "delete_doc_confirm": ("Yes, delete it", "Oui, le supprimer"),
    "delete_document": ("Delete document", "Supprimer le document"),
    "document_deleted": ("{name} deleted.", "{name} supprimé."),
    "reindex_all": ("Re-index all documents", "Réindexer tous les documents"),
    "reindex_help": ("Rebuild the search index from the stored text, e.g. after changing the embedding model.",
                     "Reconstruit l'index à partir du texte stocké, par ex. après un changement de modèle d'embeddings."),
    "chunks_of": ("{n} chunks of {name}", "{n} extraits de {name}"),
    "chunk_where": ("Chunk {ordinal} · page {page}", "Extrait {ordinal} · page {page}"),
    "search_title": ("What does retrieval find?", "Que trouve la recherche ?"),
    "search_question": ("A customer's question", "Une question de client"),
    "search_placeholder": ("e.g. How do I get a refund?", "ex. Comment être remboursé ?"),
    "search_k": ("Passages", "Passages"),
    "search": ("Search", "Rechercher"),
    "searching": ("Searching…", "Recherche…"),
    "no_hits": ("Nothing found: the bot would give its fallback answer to this question.",
                "Rien trouvé : le bot donnerait sa réponse de repli à cette question."),
    "hit_line": ("**{n}. {source}**, page {page} — similarity {dense} · word match {lexical} · rank score {score}",
                 "**{n}. {source}**, page {page} — similarité {dense} · mots communs {lexical} · score de rang {score}"),
    "hit_scores_help": ("Similarity compares meanings (the bot answers only above its minimum relevance); word match counts shared words; the rank score merges both to order the passages.",
                        "La similarité compare les sens (le bot ne répond qu'au-dessus de sa pertinence minimale) ; les mots communs comptent les mots partagés ; le score de rang combine les deux pour classer les passages."),
    # settings
    "general": ("General", "Général"),
    "model_section": ("Chat model", "Modèle de conversation"),
    "provider": ("Provider", "Fournisseur"),
    "provider_help": ("The bundled local model works offline but is small; OpenAI or any OpenAI-compatible server (Ollama, vLLM, LM Studio) answers better.",
                      "Le modèle local fourni marche hors ligne mais il est petit ; OpenAI ou un serveur compatible (Ollama, vLLM, LM Studio) répond mieux."),
    "provider_local": ("Bundled local model", "Modèle local fourni"),
    "provider_openai": ("OpenAI", "OpenAI"),
    "provider_openai_compatible": ("OpenAI-compatible server", "Serveur compatible OpenAI"),
    "model_name": ("Model", "Modèle"),
    "model_name_help": ("Empty: the provider's default (gpt-4o-mini for OpenAI).", "Vide : le modèle par défaut du fournisseur (gpt-4o-mini pour OpenAI)."),
    "base_url": ("Base URL", "URL de base"),
    "base_url_help": ("Only for OpenAI-compatible servers.", "Seulement pour les serveurs compatibles OpenAI."),
    "api_key": ("API key", "Clé d'API"),
    "api_key_help": ("Stored on the server and never shown again. Leave empty to keep the saved key.",
                     "Stockée sur le serveur et jamais réaffichée. Laissez vide pour garder la clé enregistrée."),
    "api_key_saved": ("A key is saved (hidden). Type a new one to replace it.", "Une clé est enregistrée (masquée). Saisissez-en une autre pour la remplacer."),
    "api_key_none": ("No key saved", "Aucune clé enregistrée"),
    "api_key_remove": ("Remove the saved key", "Supprimer la clé enregistrée"),
    "temperature": ("Temperature", "Température"),
    "temperature_help": ("Low (0–0.3) keeps answers close to the documents; high makes them more varied and less reliable.",
                         "Basse (0–0,3) : réponses fidèles aux documents ; haute : plus variées et moins fiables."),
    "max_tokens": ("Longest answer (tokens)", "Réponse maximale (tokens)"),
    "max_tokens_help": ("About ¾ of a word per token.", "Environ ¾ de mot par token."),
    "context_window": ("Model context window (tokens)", "Fenêtre de contexte du modèle (tokens)"),
    "context_window_help": ("Prompt, passages, history and answer must fit in it.", "Le prompt, les passages, l'historique et la réponse doivent y tenir."),
    "timeout": ("Timeout (seconds)", "Délai maximal (secondes)"),
    "retrieval_section": ("Retrieval", "Recherche documentaire"),
    "embedding_model": ("Embedding model", "Modèle d'embeddings"),
    "embedding_help": ("Changing it re-indexes every document; searches use the old index until the new one is complete.",
                       "Le changer réindexe tous les documents ; la recherche utilise l'ancien index jusqu'à la fin."),
    "retrieval_k": ("Passages given to the model", "Passages donnés au modèle"),
    "retrieval_k_help": ("More passages answer broader questions but cost tokens and can distract a small model.",
                         "Plus de passages couvrent des questions larges mais coûtent des tokens et peuvent distraire un petit modèle."),
    "min_relevance": ("Minimum relevance", "Pertinence minimale"),
    "min_relevance_help": ("Below this similarity the bot does not answer and gives its fallback. Try questions on the Knowledge page to tune it.",
                           "Sous ce seuil, le bot ne répond pas et donne sa réponse de repli. Testez des questions dans la page Connaissances pour le régler."),
    "reindexing_for_model": ("Re-indexing the documents with {model}; the Knowledge page shows the progress.",
                             "Réindexation des documents avec {model} ; la page Connaissances montre la progression."),
    # persona
    "templates_library": ("Templates library", "Bibliothèque de modèles"),
    "template_language": ("Template language", "Langue du modèle"),
    "template_apply_help": ("Replaces the persona, the fallback message and the starter questions; keeps the model, documents and widget colours.",
                            "Remplace la personnalité, le message de repli et les questions de départ ; garde le modèle, les documents et les couleurs."),
    "apply_template": ("Apply template", "Appliquer le modèle"),
    "who_section": ("Who the bot is", "Qui est le bot"),
    "role": ("Role", "Rôle"),
    "role_help": ("One concrete job, e.g. “the returns assistant of an online shop”. A precise role keeps answers on topic better than a list of don'ts.",
                  "Un métier concret, ex. « l'assistant retours d'une boutique en ligne ». Un rôle précis cadre mieux les réponses qu'une liste d'interdits."),
    "company": ("Company", "Entreprise"),
    "company_help": ("The name customers know; the bot speaks for it.", "Le nom que les clients connaissent ; le bot parle en son nom."),
    "tone": ("Tone", "Ton"),
    "tone_help": ("Two or three adjectives and one habit, e.g. “warm and concise; uses the customer's words”.",
                  "Deux ou trois adjectifs et une habitude, ex. « chaleureux et concis ; reprend les mots du client »."),
    "greeting": ("Greeting", "Message d'accueil"),
    "greeting_help": ("Say what the bot can help with, so customers ask questions it can answer.",
                      "Dites sur quoi le bot peut aider, pour que les clients posent des questions auxquelles il sait répondre."),
    "how_section": ("How it answers", "Comment il répond"),
    "instructions": ("Instructions", "Consignes"),
    "instructions_help": ("Describe the task positively and concretely: what to do, in which order, what to ask for. Models follow “give the exact steps and deadlines” better than “don't be vague”.",
                          "Décrivez la tâche en positif et concrètement : quoi faire, dans quel ordre, quoi demander. Les modèles suivent mieux « donnez les étapes et délais exacts » que « ne soyez pas vague »."),
    "rules": ("Rules (one per line)", "Règles (une par ligne)"),
    "rules_help": ("Hard limits that hold in every answer: privacy, promises, length. Keep each short and testable; try them in the playground.",
                   "Limites strictes valables pour chaque réponse : confidentialité, promesses, longueur. Courtes et vérifiables ; testez-les dans le bac à sable."),
    "language_section": ("Language", "Langue"),
    "language_mode": ("Answer in", "Répondre en"),
    "language_mode_auto": ("the customer's language", "la langue du client"),
    "language_mode_fixed": ("one fixed language", "une langue fixe"),
    "language_mode_help": ("Auto-detection follows the customer; fixed suits a bot whose documents exist in one language only.",
                           "La détection suit le client ; une langue fixe convient si les documents n'existent qu'en une langue."),
    "answer_language": ("Language (fixed, or when the customer's is unclear)", "Langue (fixe, ou si celle du client est incertaine)"),
    "answer_language_help": ("Also the language of the built-in fallback sentence.", "C'est aussi la langue de la phrase de repli intégrée."),
    "fallback_section": ("When the documents have no answer", "Quand les documents n'ont pas la réponse"),
    "fallback_message": ("Fallback message", "Message de repli"),
    "fallback_help": ("Shown instead of a guess. Say what the customer can do next (a contact, a form, a page).",
                      "Affiché au lieu d'une réponse inventée. Dites au client quoi faire ensuite (un contact, un formulaire, une page)."),
    "fallback_placeholder": ("Empty: a built-in sentence in the customer's language.", "Vide : une phrase intégrée dans la langue du client."),
    "small_talk": ("Reply to greetings and thanks", "Répondre aux salutations et remerciements"),
    "small_talk_help": ("Lets the model answer “hello” or “thanks” without documents; everything else still needs a matching document.",
                        "Le modèle peut répondre à « bonjour » ou « merci » sans document ; le reste exige toujours un document pertinent."),
    "handoff_enabled": ("Offer a human hand-off", "Proposer un relais humain"),
    "handoff_help": ("When the bot cannot help, it offers to put the customer in touch with a person.",
                     "Quand le bot ne peut pas aider, il propose de mettre le client en relation avec une personne."),
    "handoff_kind": ("Hand-off by", "Relais par"),
    "handoff_kind_form": ("a contact form in the widget", "un formulaire de contact dans le widget"),
    "handoff_kind_contact": ("showing a contact", "l'affichage d'un contact"),
    "handoff_label": ("Button label", "Libellé du bouton"),
    "handoff_contact": ("Contact shown", "Contact affiché"),
    "handoff_contact_help": ("An email address, phone number or link.", "Une adresse e-mail, un numéro de téléphone ou un lien."),
    "unsaved_changes": ("You have unsaved changes.", "Vous avez des modifications non enregistrées."),
    "prompt_preview": ("The system prompt the model gets", "Le prompt système que reçoit le modèle"),
    "prompt_preview_help": ("Updated as you type; the retrieved passages go where the placeholder is.",
                            "Mis à jour pendant la saisie ; les passages trouvés remplacent l'emplacement réservé."),
    "draft_invalid": ("This draft cannot be saved yet: {problems}. Fix the field and the preview comes back.",
                      "Ce brouillon ne peut pas encore être enregistré : {problems}. Corrigez le champ et l'aperçu revient."),
    "save_persona": ("Save the draft", "Enregistrer le brouillon"),
}


def default_language() -> str:
    """PROMPTEUR_UI_LANGUAGE if set, else the browser's language when we have it, else English."""
    configured = os.environ.get("PROMPTEUR_UI_LANGUAGE", "")[:2].lower()
    if configured in LANGUAGES:
        return configured
    try:
        browser = (st.context.locale or "")[:2].lower()
    except Exception:  # no browser attached (bare mode, some test harnesses)
        browser = ""
    return browser if browser in LANGUAGES else "en"


def ui_language() -> str:
    lang = st.session_state.get("lang")
    return lang if lang in LANGUAGES else "en"


def t(key: str, **values) -> str:
    en, fr = S[key]
    text = fr if ui_language() == "fr" else en
    return text.format(**values) if values else text


def labeller(prefix: str, options) -> callable:
    """A format_func for choice widgets, translated now: Streamlit may call it outside the
    script run (AppTest does), where the session's language is not at hand."""
    return {o: t(f"{prefix}{o}") for o in options}.get
