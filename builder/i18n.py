"""Every sentence of the builder, in English and French, in one place.

`t(key, **values)` looks the key up in the language chosen in the sidebar
(st.session_state["lang"]), which defaults to PROMPTEUR_UI_LANGUAGE or the browser's language.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

import streamlit as st

LANGUAGES = {"en": "English", "fr": "Français"}

S: dict[str, tuple[str, str]] = {
    # shell and navigation
    "interface_language": ("Interface language", "Langue de l'interface"),
    "current_bot": ("Bot", "Bot"),
    "no_bots_yet": (
        "No bot yet: create one on the Bots page.",
        "Aucun bot pour l'instant : créez-en un dans la page Bots.",
    ),
    "pick_a_bot": (
        "Create a bot on the Bots page (or pick one in the sidebar) first.",
        "Créez d'abord un bot dans la page Bots (ou choisissez-en un dans la barre latérale).",
    ),
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
    "server_limits": ("Server limits", "Limites du serveur"),
    "server_limits_help": (
        "These apply to every bot. The operator sets them with PROMPTEUR_* environment variables (see the README) and restarts the server.",
        "Elles valent pour tous les bots. L'exploitant les règle par des variables d'environnement PROMPTEUR_* (voir le README) puis redémarre le serveur.",
    ),
    "limit": ("Limit", "Limite"),
    "value": ("Value", "Valeur"),
    "limit_max_upload_mb": ("Largest upload (MB)", "Envoi maximal (Mo)"),
    "limit_max_pdf_pages": ("Most pages in a PDF", "Pages maximales d'un PDF"),
    "limit_max_message_chars": ("Longest customer message (characters)", "Message client le plus long (caractères)"),
    "limit_max_conversation_messages": ("Messages in one conversation", "Messages par conversation"),
    "limit_rate_per_ip": ("Requests per minute from one address", "Requêtes par minute depuis une adresse"),
    "limit_rate_per_session": (
        "Questions per minute in one chat or with one key",
        "Questions par minute dans une discussion ou avec une clé",
    ),
    "limit_rate_per_bot": ("Questions per minute to one bot", "Questions par minute pour un bot"),
    "limit_session_ttl_s": ("Widget session lifetime (seconds)", "Durée d'une session du widget (secondes)"),
    "openai_key_configured": (
        "A server-wide OpenAI key is configured: bots using OpenAI without their own key use it.",
        "Une clé OpenAI est configurée pour tout le serveur : les bots OpenAI sans clé propre l'utilisent.",
    ),
    "server_at": ("Connected to the Prompteur server at {url}.", "Connecté au serveur Prompteur {url}."),
    # bots
    "create_bot": ("Create a bot", "Créer un bot"),
    "bot_name": ("Name", "Nom"),
    "bot_name_placeholder": ("e.g. Store support", "ex. Support boutique"),
    "bot_language": ("Language of the documents and answers", "Langue des documents et des réponses"),
    "bot_language_help": (
        "Chooses the embedding model: English bots get a fast English model, others a multilingual one.",
        "Détermine le modèle d'embeddings : anglais rapide pour l'anglais, multilingue sinon.",
    ),
    "template": ("Template", "Modèle"),
    "template_help": (
        "Start from a ready-made customer-service persona; you can change every field afterwards.",
        "Partez d'une personnalité de service client toute prête ; chaque champ reste modifiable.",
    ),
    "from_scratch": ("From scratch", "Partir de zéro"),
    "create": ("Create", "Créer"),
    "name_required": ("Give the bot a name.", "Donnez un nom au bot."),
    "bot_created": ("Bot {name} created.", "Bot {name} créé."),
    "import_yaml": ("Import a bot from YAML", "Importer un bot depuis un YAML"),
    "import_yaml_help": ("A file exported with “Export YAML”", "Un fichier exporté avec « Exporter en YAML »"),
    "import": ("Import", "Importer"),
    "import_invalid": (
        "{name} is not a bot export: it must be YAML with at least a `name`. Export a bot to see the format.",
        "{name} n'est pas un export de bot : il faut un YAML avec au moins un `name`. Exportez un bot pour voir le format.",
    ),
    "col_name": ("Name", "Nom"),
    "col_id": ("Id", "Id"),
    "col_language": ("Language", "Langue"),
    "col_status": ("Status", "Statut"),
    "col_documents": ("Documents", "Documents"),
    "col_chunks": ("Chunks", "Extraits"),
    "col_updated": ("Updated", "Modifié"),
    "col_source": ("Document", "Document"),
    "col_pages": ("Pages", "Pages"),
    "col_size": ("Size", "Taille"),
    "col_error": ("Problem", "Problème"),
    "col_conversations": ("Conversations (7 days)", "Conversations (7 jours)"),
    "status_draft": ("Draft", "Brouillon"),
    "status_published": ("Published v{version}", "Publié v{version}"),
    "selected_bot": ("Selected: {name}", "Sélection : {name}"),
    "duplicate": ("Duplicate", "Dupliquer"),
    "duplicate_help": (
        "A new bot with the same persona and settings, without documents.",
        "Un nouveau bot avec la même personnalité et les mêmes réglages, sans documents.",
    ),
    "copy_of": ("Copy of {name}", "Copie de {name}"),
    "export_yaml": ("Export YAML", "Exporter en YAML"),
    "export_help": (
        "The bot's spec as a file you can keep in git or import elsewhere. API keys are not included.",
        "La spec du bot dans un fichier à garder dans git ou importer ailleurs. Les clés d'API n'y sont pas.",
    ),
    "delete_confirm": ("Yes, delete {name} and its documents", "Oui, supprimer {name} et ses documents"),
    "delete_bot": ("Delete bot", "Supprimer le bot"),
    # knowledge
    "upload_files": ("Add documents", "Ajouter des documents"),
    "upload_help": (
        "PDF, Word, Markdown, HTML, CSV (FAQ) or text. Uploading a file with the same name replaces it.",
        "PDF, Word, Markdown, HTML, CSV (FAQ) ou texte. Un fichier de même nom remplace l'ancien.",
    ),
    "upload_and_index": ("Upload and index", "Envoyer et indexer"),
    "choose_files": ("Choose one or more files first.", "Choisissez d'abord un ou plusieurs fichiers."),
    "uploading": ("Uploading {n} file(s)…", "Envoi de {n} fichier(s)…"),
    "indexing": ("Indexing…", "Indexation…"),
    "indexing_progress": (
        "Indexing: {done} of {total} ready, {failed} failed",
        "Indexation : {done} sur {total} prêts, {failed} en échec",
    ),
    "still_indexing": (
        "Still indexing in the background: come back to this page later to see the result.",
        "L'indexation continue en arrière-plan : revenez sur cette page plus tard.",
    ),
    "indexed_n": ("{n} document(s) ready to answer questions.", "{n} document(s) prêt(s) à répondre aux questions."),
    "job_running": ("{kind} in progress: {done} of {total}", "{kind} en cours : {done} sur {total}"),
    "documents_n": ("Documents ({n})", "Documents ({n})"),
    "no_documents": (
        "No documents yet. Add the pages, FAQs and manuals the bot should answer from.",
        "Aucun document. Ajoutez les pages, FAQ et manuels à partir desquels le bot doit répondre.",
    ),
    "doc_queued": ("waiting", "en attente"),
    "doc_processing": ("indexing", "en cours"),
    "doc_ready": ("ready", "prêt"),
    "doc_failed": ("failed", "échec"),
    "open_document": ("Open a document", "Ouvrir un document"),
    "delete_doc_confirm": ("Yes, delete it", "Oui, le supprimer"),
    "delete_document": ("Delete document", "Supprimer le document"),
    "document_deleted": ("{name} deleted.", "{name} supprimé."),
    "reindex_all": ("Re-index all documents", "Réindexer tous les documents"),
    "reindex_help": (
        "Rebuild the search index from the stored text, e.g. after changing the embedding model.",
        "Reconstruit l'index à partir du texte stocké, par ex. après un changement de modèle d'embeddings.",
    ),
    "chunks_of": ("{n} chunks of {name}", "{n} extraits de {name}"),
    "chunk_where": ("Chunk {ordinal} · page {page}", "Extrait {ordinal} · page {page}"),
    "search_title": ("What does retrieval find?", "Que trouve la recherche ?"),
    "search_question": ("A customer's question", "Une question de client"),
    "search_placeholder": ("e.g. How do I get a refund?", "ex. Comment être remboursé ?"),
    "search_k": ("Passages", "Passages"),
    "search": ("Search", "Rechercher"),
    "searching": ("Searching…", "Recherche…"),
    "no_hits": (
        "Nothing found: the bot would give its fallback answer to this question.",
        "Rien trouvé : le bot donnerait sa réponse de repli à cette question.",
    ),
    "hit_line": (
        "**{n}. {source}**, page {page} — similarity {dense} · word match {lexical} · rank score {score}",
        "**{n}. {source}**, page {page} — similarité {dense} · mots communs {lexical} · score de rang {score}",
    ),
    "hit_scores_help": (
        "Similarity compares meanings (the bot answers only above its minimum relevance); word match counts shared words; the rank score merges both to order the passages.",
        "La similarité compare les sens (le bot ne répond qu'au-dessus de sa pertinence minimale) ; les mots communs comptent les mots partagés ; le score de rang combine les deux pour classer les passages.",
    ),
    # playground
    "yes": ("yes", "oui"),
    "no": ("no", "non"),
    "pg_mode": ("Ask", "Interroger"),
    "pg_mode_draft": ("Draft", "Brouillon"),
    "pg_mode_published": ("Published", "Publiée"),
    "pg_mode_compare": ("Both, side by side", "Les deux côte à côte"),
    "pg_mode_help": (
        "The draft is what you are editing; the published version is what customers talk to.",
        "Le brouillon est ce que vous modifiez ; la version publiée est celle que voient les clients.",
    ),
    "pg_new": ("New conversation", "Nouvelle conversation"),
    "pg_no_documents": (
        "This bot has no indexed documents yet, so it will give its fallback answer to every question. Add documents on the Knowledge page.",
        "Ce bot n'a encore aucun document indexé : il donnera sa réponse de repli à chaque question. Ajoutez des documents dans la page Connaissances.",
    ),
    "pg_ask": ("Ask what a customer would ask…", "Posez la question d'un client…"),
    "pg_thinking": ("The bot is answering…", "Le bot répond…"),
    "pg_why": ("Why this answer", "Pourquoi cette réponse"),
    "pg_facts": (
        "**Latency** {latency} ms · **tokens** {prompt} prompt + {completion} answer · **fallback** {fallback}",
        "**Latence** {latency} ms · **tokens** {prompt} prompt + {completion} réponse · **repli** {fallback}",
    ),
    "pg_reason": ("Why it fell back: {reason}", "Raison du repli : {reason}"),
    "cv_cut_at_tokens": ("cut at the {limit}-token limit", "coupée à la limite de {limit} tokens"),
    "pg_cut_by_limit": (
        "The answer reached its length limit ({limit} tokens) and was cut after its last "
        "whole sentence. If answers need more room, raise “Longest answer” in Settings.",
        "La réponse a atteint sa longueur maximale ({limit} tokens) et a été coupée après sa "
        "dernière phrase complète. S'il faut plus de place, augmentez « Réponse maximale » "
        "dans Réglages.",
    ),
    "pg_style_extractive": (
        "Quoted from your documents: no model wrote this answer.",
        "Citée de vos documents : aucun modèle n'a écrit cette réponse.",
    ),
    "pg_style_generative": ("Written by the model.", "Écrite par le modèle."),
    "pg_guard_replaced": (
        "The model's answer said {claims}, which your documents do not contain: it was replaced by quotes from them.",
        "La réponse du modèle disait {claims}, absent de vos documents : elle a été "
        "remplacée par des citations de ceux-ci.",
    ),
    "pg_guard_flagged": (
        "Not found in your documents: {claims}. The answer was kept (the guard only flags).",
        "Absent de vos documents : {claims}. La réponse a été gardée (le contrôle signale seulement).",
    ),
    "claim_kind_amount": ("amount", "montant"),
    "claim_kind_percent": ("percentage", "pourcentage"),
    "claim_kind_number": ("number", "nombre"),
    "claim_kind_duration": ("duration", "durée"),
    "claim_kind_date": ("date", "date"),
    "claim_kind_phone": ("phone number", "numéro de téléphone"),
    "claim_kind_email": ("e-mail address", "adresse e-mail"),
    "claim_kind_url": ("link", "lien"),
    "claim_kind_quote": ("quoted name", "nom cité"),
    "claim_kind_negation": ("a negation of its passage", "une négation de son passage"),
    "demo_quality": ("Demo quality", "Qualité démo"),
    "demo_quality_help": (
        "The bundled 135M model writes this answer: fine to try Prompteur, not to answer "
        "customers (it contradicts its documents and invents figures). Quote the documents "
        "(answer style “Extractive”) or connect a stronger model in Settings.",
        "Le petit modèle fourni (135M) écrit cette réponse : bien pour essayer Prompteur, pas "
        "pour répondre aux clients (il contredit ses documents et invente des chiffres). Citez "
        "les documents (style « Extractif ») ou branchez un modèle plus fort dans Réglages.",
    ),
    "pg_passages": ("Retrieved passages", "Passages trouvés"),
    "pg_no_hits": ("No passage was retrieved.", "Aucun passage trouvé."),
    "pg_prompt": ("The final prompt sent to the model", "Le prompt final envoyé au modèle"),
    "pg_sources": ("Sources: {sources}", "Sources : {sources}"),
    "col_page": ("Page", "Page"),
    "col_similarity": ("Similarity", "Similarité"),
    "col_words": ("Words", "Mots"),
    "col_used": ("Used", "Utilisé"),
    "col_similarity_help": (
        "Closeness in meaning to the question; passages below the bot's minimum relevance are not used.",
        "Proximité de sens avec la question ; un passage sous la pertinence minimale du bot n'est pas utilisé.",
    ),
    "col_words_help": (
        "Word match (BM25): words shared with the question, rare words counting more.",
        "Mots communs (BM25) avec la question, les mots rares comptant davantage.",
    ),
    "col_used_help": ("Given to the model in the prompt.", "Donné au modèle dans le prompt."),
    # publish
    "pub_live": (
        "Customers talk to **version {version}**. Publishing makes the current draft the new version.",
        "Les clients parlent à la **version {version}**. Publier fait du brouillon actuel la nouvelle version.",
    ),
    "pub_not_live": (
        "Not published yet: the widget and the API answer only once you publish.",
        "Pas encore publié : le widget et l'API ne répondent qu'après publication.",
    ),
    "pub_note": ("What changed (a note for your team)", "Ce qui a changé (une note pour l'équipe)"),
    "pub_note_placeholder": ("e.g. Added the 2025 refund policy", "ex. Ajout de la politique de remboursement 2025"),
    "pub_publish": ("Publish the draft", "Publier le brouillon"),
    "pub_done": ("Version {version} is live.", "La version {version} est en ligne."),
    "pub_history": ("Version history ({n})", "Historique des versions ({n})"),
    "col_version": ("Version", "Version"),
    "col_note": ("Note", "Note"),
    "col_date": ("Date", "Date"),
    "pub_rollback_to": ("Serve an older version again", "Remettre en ligne une version antérieure"),
    "pub_rollback": ("Roll back", "Revenir à cette version"),
    "pub_rollback_help": (
        "Customers get that version at once; your draft is not touched.",
        "Les clients la reçoivent aussitôt ; votre brouillon n'est pas modifié.",
    ),
    "pub_appearance": ("Website and widget", "Site web et widget"),
    "pub_origins": (
        "Websites allowed to embed the bot (one per line)",
        "Sites autorisés à intégrer le bot (un par ligne)",
    ),
    "pub_origins_help": (
        "Scheme and host, e.g. https://www.example.com. The widget refuses to start on any other site.",
        "Schéma et hôte, ex. https://www.example.com. Le widget refuse de démarrer sur tout autre site.",
    ),
    "w_title": ("Title", "Titre"),
    "w_welcome": ("Welcome message", "Message de bienvenue"),
    "w_welcome_help": ("Empty: the persona's greeting.", "Vide : le message d'accueil de la personnalité."),
    "w_starters": ("Starter questions (one per line, up to 6)", "Questions de départ (une par ligne, 6 au plus)"),
    "w_starters_help": (
        "Questions your documents answer well: customers click them to start.",
        "Des questions auxquelles vos documents répondent bien : les clients cliquent pour commencer.",
    ),
    "w_avatar": ("Avatar image URL", "URL de l'image d'avatar"),
    "w_color": ("Main colour", "Couleur principale"),
    "w_position": ("Position", "Position"),
    "w_position_right": ("Bottom right", "En bas à droite"),
    "w_position_left": ("Bottom left", "En bas à gauche"),
    "w_preview_help": (
        "The real widget with these settings, before you save them. Chatting works once published, on an allowed website.",
        "Le vrai widget avec ces réglages, avant même de les enregistrer. La conversation marche une fois publié, sur un site autorisé.",
    ),
    "pub_save_appearance": ("Save to the draft", "Enregistrer dans le brouillon"),
    "pub_saved_draft": (
        "Saved to the draft: publish to put it online.",
        "Enregistré dans le brouillon : publiez pour le mettre en ligne.",
    ),
    "pub_embed": ("Put it on your website or in your code", "L'intégrer à votre site ou à votre code"),
    "pub_need_pk": (
        "Create a publishable key below: the snippets then include it. Keys are shown only once, so the snippets show a placeholder on later visits.",
        "Créez une clé publiable ci-dessous : les extraits l'incluront. Les clés ne s'affichent qu'une fois : ensuite, les extraits montrent un emplacement.",
    ),
    "pub_tab_script": ("Script tag", "Balise script"),
    "pub_tab_iframe": ("Iframe", "Iframe"),
    "pub_tab_link": ("Hosted chat link", "Lien vers le chat hébergé"),
    "pub_script_help": (
        "Paste before </body> on every page that should show the chat bubble.",
        "À coller avant </body> sur chaque page qui doit afficher la bulle de chat.",
    ),
    "pub_iframe_help": (
        "A chat panel inside your page, e.g. on a help-centre page.",
        "Un panneau de chat dans votre page, par ex. dans le centre d'aide.",
    ),
    "pub_keys": ("API keys", "Clés d'API"),
    "key_kind": ("Kind", "Type"),
    "key_kind_publishable": ("Publishable (pk_, for the widget)", "Publiable (pk_, pour le widget)"),
    "key_kind_secret": ("Secret (sk_, for servers)", "Secrète (sk_, pour les serveurs)"),
    "key_kind_help": (
        "Publishable keys go in web pages and work only from allowed websites. Secret keys give full API access: keep them on servers.",
        "Les clés publiables vont dans les pages web et ne marchent que depuis les sites autorisés. Les clés secrètes donnent l'accès complet à l'API : gardez-les sur vos serveurs.",
    ),
    "key_label": ("Label", "Libellé"),
    "key_label_placeholder": ("e.g. Main website", "ex. Site principal"),
    "key_create": ("Create key", "Créer une clé"),
    "key_once": (
        "Copy this key now: it will not be shown again.",
        "Copiez cette clé maintenant : elle ne sera plus affichée.",
    ),
    "col_key": ("Key", "Clé"),
    "key_active": ("active", "active"),
    "key_revoked": ("revoked", "révoquée"),
    "key_revoke_pick": ("Key to revoke", "Clé à révoquer"),
    "key_revoke_confirm": ("Yes, revoke it", "Oui, la révoquer"),
    "key_revoke": ("Revoke", "Révoquer"),
    # conversations
    "cv_filters": ("Filters", "Filtres"),
    "cv_dates": ("Dates", "Dates"),
    "cv_version": ("Version", "Version"),
    "cv_any": ("any", "toutes"),
    "cv_feedback": ("Feedback", "Avis"),
    "cv_feedback_None": ("any or none", "tous"),
    "cv_feedback_up": ("thumbs up", "avis positif"),
    "cv_feedback_down": ("thumbs down", "avis négatif"),
    "cv_feedback_any": ("rated", "noté"),
    "cv_feedback_none": ("not rated", "non noté"),
    "cv_up": ("Thumbs up", "Avis +"),
    "cv_down": ("Thumbs down", "Avis −"),
    "cv_fallback": ("Fallback", "Repli"),
    "cv_handoff": ("Hand-off", "Relais humain"),
    "cv_tri_None": ("either", "peu importe"),
    "cv_tri_True": ("yes", "oui"),
    "cv_tri_False": ("no", "non"),
    "cv_log": ("Log", "Journal"),
    "cv_charts": ("Charts", "Graphiques"),
    "cv_handoffs": ("Hand-off requests", "Demandes de relais"),
    "cv_export": ("Export", "Export"),
    "cv_none": ("No conversation matches these filters yet.", "Aucune conversation ne correspond à ces filtres."),
    "cv_total": ("{n} conversation(s)", "{n} conversation(s)"),
    "cv_first": ("First question", "Première question"),
    "cv_channel": ("Channel", "Canal"),
    "cv_messages": ("Messages", "Messages"),
    "cv_open": ("Open a conversation", "Ouvrir une conversation"),
    "cv_was_fallback": ("fallback answer", "réponse de repli"),
    "cv_error": ("error: {error}", "erreur : {error}"),
    "cv_handoff_line": (
        "Hand-off request from {name} (email {email}, phone {phone}): {message}",
        "Demande de relais de {name} (e-mail {email}, téléphone {phone}) : {message}",
    ),
    "cv_chart_volume": ("Volume per day", "Volume par jour"),
    "cv_chart_rates": ("Thumbs-up and fallback rates", "Taux d'avis positifs et de repli"),
    "cv_chart_latency": ("Latency (ms)", "Latence (ms)"),
    "cv_conversations": ("conversations", "conversations"),
    "cv_questions": ("questions", "questions"),
    "cv_thumbs_rate": ("thumbs-up rate", "taux d'avis positifs"),
    "cv_fallback_rate": ("fallback rate", "taux de repli"),
    "cv_no_handoffs": ("No hand-off request yet.", "Aucune demande de relais pour l'instant."),
    "cv_name": ("Name", "Nom"),
    "cv_phone": ("Phone", "Téléphone"),
    "cv_message": ("Message", "Message"),
    "cv_conversation": ("Conversation", "Conversation"),
    "cv_export_help": (
        "Every message matching the filters, with its version, sources, feedback and latency.",
        "Tous les messages correspondant aux filtres, avec version, sources, avis et latence.",
    ),
    "cv_prepare": ("Prepare the export", "Préparer l'export"),
    "cv_preparing": ("Preparing…", "Préparation…"),
    # settings
    "general": ("General", "Général"),
    "model_section": ("Chat model", "Modèle de conversation"),
    "provider": ("Provider", "Fournisseur"),
    "provider_help": (
        "The bundled local model works offline but is small; OpenAI or any OpenAI-compatible server (Ollama, vLLM, LM Studio) answers better.",
        "Le modèle local fourni marche hors ligne mais il est petit ; OpenAI ou un serveur compatible (Ollama, vLLM, LM Studio) répond mieux.",
    ),
    "provider_local": ("Bundled local model", "Modèle local fourni"),
    "provider_openai": ("OpenAI", "OpenAI"),
    "provider_openai_compatible": ("OpenAI-compatible server", "Serveur compatible OpenAI"),
    "model_name": ("Model", "Modèle"),
    "model_name_help": (
        "Empty: the provider's default (gpt-4o-mini for OpenAI).",
        "Vide : le modèle par défaut du fournisseur (gpt-4o-mini pour OpenAI).",
    ),
    "base_url": ("Base URL", "URL de base"),
    "base_url_help": ("Only for OpenAI-compatible servers.", "Seulement pour les serveurs compatibles OpenAI."),
    "api_key": ("API key", "Clé d'API"),
    "api_key_help": (
        "Stored on the server and never shown again. Leave empty to keep the saved key.",
        "Stockée sur le serveur et jamais réaffichée. Laissez vide pour garder la clé enregistrée.",
    ),
    "api_key_saved": (
        "A key is saved (hidden). Type a new one to replace it.",
        "Une clé est enregistrée (masquée). Saisissez-en une autre pour la remplacer.",
    ),
    "api_key_none": ("No key saved", "Aucune clé enregistrée"),
    "api_key_dropped": (
        "The saved key was removed because the provider or base URL changed: a key is only sent to "
        "the address it was entered for. Enter the key for the new address.",
        "La clé enregistrée a été supprimée car le fournisseur ou l'URL de base a changé : une clé "
        "n'est envoyée qu'à l'adresse pour laquelle elle a été saisie. Saisissez la clé de la nouvelle adresse.",
    ),
    "api_key_remove": ("Remove the saved key", "Supprimer la clé enregistrée"),
    "temperature": ("Temperature", "Température"),
    "temperature_help": (
        "Low (0–0.3) keeps answers close to the documents; high makes them more varied and less reliable.",
        "Basse (0–0,3) : réponses fidèles aux documents ; haute : plus variées et moins fiables.",
    ),
    "max_tokens": ("Longest answer (tokens)", "Réponse maximale (tokens)"),
    "max_tokens_help": ("About ¾ of a word per token.", "Environ ¾ de mot par token."),
    "context_window": ("Model context window (tokens)", "Fenêtre de contexte du modèle (tokens)"),
    "context_window_help": (
        "Prompt, passages, history and answer must fit in it. Empty: what the provider's model is known to have.",
        "Le prompt, les passages, l'historique et la réponse doivent y tenir. Vide : la taille connue du modèle du fournisseur.",
    ),
    "automatic": ("automatic", "automatique"),
    "timeout": ("Timeout (seconds)", "Délai maximal (secondes)"),
    "answers_section": ("How answers are written", "Comment les réponses sont écrites"),
    "answer_style": ("Answer style", "Style des réponses"),
    "answer_style_help": (
        "Extractive: the answer quotes the most relevant sentences of your documents, and no "
        "model writes a word. Generative: the model writes it. Automatic: extractive with the "
        "bundled model, generative with any other.",
        "Extractif : la réponse cite les phrases les plus pertinentes de vos documents, aucun "
        "modèle n'écrit un mot. Génératif : le modèle l'écrit. Automatique : extractif avec le "
        "modèle fourni, génératif avec tout autre.",
    ),
    "answer_style_auto": ("Automatic", "Automatique"),
    "answer_style_extractive": ("Extractive (quotes)", "Extractif (citations)"),
    "answer_style_generative": ("Generative (the model writes)", "Génératif (le modèle écrit)"),
    "answer_max_chars": ("Longest quoted answer (characters)", "Réponse citée maximale (caractères)"),
    "answer_max_chars_help": (
        "An extractive answer quotes whole sentences up to this length.",
        "Une réponse extractive cite des phrases entières jusqu'à cette longueur.",
    ),
    "answer_guard": ("Fact check of generated answers", "Contrôle des réponses générées"),
    "answer_guard_help": (
        "Numbers, amounts, dates, durations, phone numbers, e-mail addresses and links the model "
        "writes must be in the passages it was given. Replace: an answer that fails becomes "
        "quotes of the passages, and the unchecked sentence is never shown. Flag: the answer "
        "is kept and the playground shows what failed. Off: no check.",
        "Les nombres, montants, dates, durées, téléphones, adresses e-mail et liens écrits par "
        "le modèle doivent figurer dans les passages fournis. Remplacer : une réponse en défaut "
        "devient des citations des passages, et la phrase non vérifiée n'est jamais montrée. "
        "Signaler : la réponse est gardée et le bac à sable montre le défaut. Désactivé : aucun contrôle.",
    ),
    "answer_guard_replace": ("Replace with quotes", "Remplacer par des citations"),
    "answer_guard_flag": ("Flag only", "Signaler seulement"),
    "answer_guard_off": ("Off", "Désactivé"),
    "retrieval_section": ("Retrieval", "Recherche documentaire"),
    "embedding_model": ("Embedding model", "Modèle d'embeddings"),
    "embedding_help": (
        "Changing it re-indexes every document; searches use the old index until the new one is complete.",
        "Le changer réindexe tous les documents ; la recherche utilise l'ancien index jusqu'à la fin.",
    ),
    "retrieval_k": ("Passages given to the model", "Passages donnés au modèle"),
    "retrieval_k_help": (
        "More passages answer broader questions but cost tokens and can distract a small model.",
        "Plus de passages couvrent des questions larges mais coûtent des tokens et peuvent distraire un petit modèle.",
    ),
    "min_relevance": ("Minimum relevance", "Pertinence minimale"),
    "min_relevance_help": (
        "Below this similarity the bot does not answer and gives its fallback. Try questions on the Knowledge page to tune it.",
        "Sous ce seuil, le bot ne répond pas et donne sa réponse de repli. Testez des questions dans la page Connaissances pour le régler.",
    ),
    "min_relevance_auto": ("Use the embedding model's calibrated value", "Valeur calibrée du modèle d'embeddings"),
    "min_relevance_auto_help": (
        "Each embedding model spreads similarities differently; this follows the model if you change it.",
        "Chaque modèle d'embeddings répartit les similarités différemment ; cette option suit le modèle si vous en changez.",
    ),
    "reindexing_for_model": (
        "Re-indexing the documents with {model}; the Knowledge page shows the progress.",
        "Réindexation des documents avec {model} ; la page Connaissances montre la progression.",
    ),
    # persona
    "templates_library": ("Templates library", "Bibliothèque de modèles"),
    "template_language": ("Template language", "Langue du modèle"),
    "template_apply_help": (
        "Replaces the persona, the fallback message and the starter questions; keeps the model, documents and widget colours.",
        "Remplace la personnalité, le message de repli et les questions de départ ; garde le modèle, les documents et les couleurs.",
    ),
    "apply_template": ("Apply template", "Appliquer le modèle"),
    "who_section": ("Who the bot is", "Qui est le bot"),
    "role": ("Role", "Rôle"),
    "role_help": (
        "One concrete job, e.g. “the returns assistant of an online shop”. A precise role keeps answers on topic better than a list of don'ts.",
        "Un métier concret, ex. « l'assistant retours d'une boutique en ligne ». Un rôle précis cadre mieux les réponses qu'une liste d'interdits.",
    ),
    "company": ("Company", "Entreprise"),
    "company_help": (
        "The name customers know; the bot speaks for it.",
        "Le nom que les clients connaissent ; le bot parle en son nom.",
    ),
    "tone": ("Tone", "Ton"),
    "tone_help": (
        "Two or three adjectives and one habit, e.g. “warm and concise; uses the customer's words”.",
        "Deux ou trois adjectifs et une habitude, ex. « chaleureux et concis ; reprend les mots du client ».",
    ),
    "greeting": ("Greeting", "Message d'accueil"),
    "greeting_help": (
        "Say what the bot can help with, so customers ask questions it can answer.",
        "Dites sur quoi le bot peut aider, pour que les clients posent des questions auxquelles il sait répondre.",
    ),
    "how_section": ("How it answers", "Comment il répond"),
    "instructions": ("Instructions", "Consignes"),
    "instructions_help": (
        "Describe the task positively and concretely: what to do, in which order, what to ask for. Models follow “give the exact steps and deadlines” better than “don't be vague”.",
        "Décrivez la tâche en positif et concrètement : quoi faire, dans quel ordre, quoi demander. Les modèles suivent mieux « donnez les étapes et délais exacts » que « ne soyez pas vague ».",
    ),
    "rules": ("Rules (one per line)", "Règles (une par ligne)"),
    "rules_help": (
        "Hard limits that hold in every answer: privacy, promises, length. Keep each short and testable; try them in the playground.",
        "Limites strictes valables pour chaque réponse : confidentialité, promesses, longueur. Courtes et vérifiables ; testez-les dans le bac à sable.",
    ),
    "language_section": ("Language", "Langue"),
    "language_mode": ("Answer in", "Répondre en"),
    "language_mode_auto": ("the customer's language", "la langue du client"),
    "language_mode_fixed": ("one fixed language", "une langue fixe"),
    "language_mode_help": (
        "Auto-detection follows the customer; fixed suits a bot whose documents exist in one language only.",
        "La détection suit le client ; une langue fixe convient si les documents n'existent qu'en une langue.",
    ),
    "answer_language": (
        "Language (fixed, or when the customer's is unclear)",
        "Langue (fixe, ou si celle du client est incertaine)",
    ),
    "answer_language_help": (
        "Also the language of the built-in fallback sentence.",
        "C'est aussi la langue de la phrase de repli intégrée.",
    ),
    "fallback_section": ("When the documents have no answer", "Quand les documents n'ont pas la réponse"),
    "fallback_message": ("Fallback message", "Message de repli"),
    "fallback_help": (
        "Shown instead of a guess. Say what the customer can do next (a contact, a form, a page).",
        "Affiché au lieu d'une réponse inventée. Dites au client quoi faire ensuite (un contact, un formulaire, une page).",
    ),
    "fallback_placeholder": (
        "Empty: a built-in sentence in the customer's language.",
        "Vide : une phrase intégrée dans la langue du client.",
    ),
    "small_talk": ("Reply to greetings and thanks", "Répondre aux salutations et remerciements"),
    "small_talk_help": (
        "Lets the model answer “hello” or “thanks” without documents; everything else still needs a matching document.",
        "Le modèle peut répondre à « bonjour » ou « merci » sans document ; le reste exige toujours un document pertinent.",
    ),
    "handoff_enabled": ("Offer a human hand-off", "Proposer un relais humain"),
    "handoff_help": (
        "When the bot cannot help, it offers to put the customer in touch with a person.",
        "Quand le bot ne peut pas aider, il propose de mettre le client en relation avec une personne.",
    ),
    "handoff_kind": ("Hand-off by", "Relais par"),
    "handoff_kind_form": ("a contact form in the widget", "un formulaire de contact dans le widget"),
    "handoff_kind_contact": ("showing a contact", "l'affichage d'un contact"),
    "handoff_label": ("Button label", "Libellé du bouton"),
    "handoff_contact": ("Contact shown", "Contact affiché"),
    "handoff_contact_help": (
        "An email address, phone number or link.",
        "Une adresse e-mail, un numéro de téléphone ou un lien.",
    ),
    "unsaved_changes": ("You have unsaved changes.", "Vous avez des modifications non enregistrées."),
    "prompt_preview": ("The system prompt the model gets", "Le prompt système que reçoit le modèle"),
    "prompt_preview_help": (
        "Updated when you leave a field or press Enter; the retrieved passages go where the placeholder is.",
        "Mis à jour quand vous quittez un champ ou appuyez sur Entrée ; les passages trouvés remplacent l'emplacement réservé.",
    ),
    "draft_invalid": (
        "This draft cannot be saved yet: {problems}. Fix the field and the preview comes back.",
        "Ce brouillon ne peut pas encore être enregistré : {problems}. Corrigez le champ et l'aperçu revient.",
    ),
    "diff_title": (
        "Draft compared with the published version (v{version})",
        "Brouillon comparé à la version publiée (v{version})",
    ),
    "diff_same": (
        "The draft is the same as the published version.",
        "Le brouillon est identique à la version publiée.",
    ),
    "diff_none": (
        "Not published yet: the Publish page puts this draft online.",
        "Pas encore publié : la page Publication met ce brouillon en ligne.",
    ),
    "save_persona": ("Save the draft", "Enregistrer le brouillon"),
    # tests (test sets, evaluation runs, the publish gate)
    "page_tests": ("Tests", "Tests"),
    "tests_sets_n": ("Test sets ({n})", "Jeux de tests ({n})"),
    "tests_no_sets": (
        "No test set yet: import a file of questions with what a right answer looks like (JSON lines, CSV or YAML; see the README).",
        "Aucun jeu de tests : importez un fichier de questions avec ce qu'une bonne réponse doit contenir (JSON lines, CSV ou YAML ; voir le README).",
    ),
    "col_set": ("Set", "Jeu"),
    "col_cases": ("Cases", "Cas"),
    "col_question": ("Question", "Question"),
    "col_expected_sources": ("Expected sources", "Sources attendues"),
    "col_expected_facts": ("Expected facts", "Faits attendus"),
    "col_must_refuse": ("Must refuse", "Doit refuser"),
    "col_must_pass": ("Must pass", "Doit réussir"),
    "col_result": ("Result", "Résultat"),
    "col_why": ("Why", "Pourquoi"),
    "col_answer": ("Answer", "Réponse"),
    "col_before": ("Before", "Avant"),
    "col_after": ("After", "Après"),
    "tests_open_set": ("Show the cases of", "Afficher les cas de"),
    "tests_cases_of": ("Cases of {name} ({n})", "Cas de {name} ({n})"),
    "tests_export": ("Export (JSON lines)", "Exporter (JSON lines)"),
    "tests_import": ("Import a test set", "Importer un jeu de tests"),
    "tests_import_file": ("File (JSONL, CSV or YAML)", "Fichier (JSONL, CSV ou YAML)"),
    "tests_import_help": (
        "Importing replaces the set of that name. A file with any bad line is refused whole, and every bad line is named.",
        "L'import remplace le jeu de ce nom. Un fichier dont une ligne est fausse est refusé en entier, et chaque ligne fausse est citée.",
    ),
    "tests_import_name": ("Set name", "Nom du jeu"),
    "tests_import_name_placeholder": ("the file's name", "le nom du fichier"),
    "tests_import_go": ("Import", "Importer"),
    "tests_choose_file": ("Choose a file first.", "Choisissez d'abord un fichier."),
    "tests_not_utf8": (
        "{name} is not UTF-8 text: nothing imported.",
        "{name} n'est pas du texte UTF-8 : rien n'a été importé.",
    ),
    "tests_imported": ("Imported {n} case(s) into {name}.", "{n} cas importé(s) dans {name}."),
    "tests_run": ("Run the tests", "Lancer les tests"),
    "tests_run_set": ("Test set", "Jeu de tests"),
    "tests_all_sets": ("All sets", "Tous les jeux"),
    "tests_run_version": ("Version", "Version"),
    "tests_run_go": ("Run", "Lancer"),
    "run_starting": ("Starting the run…", "Démarrage de l'évaluation…"),
    "run_progress": ("{done} of {total} case(s) answered", "{done} cas sur {total} traités"),
    "run_still_going": (
        "The run goes on in the server: come back to this page later.",
        "L'évaluation continue sur le serveur : revenez sur cette page plus tard.",
    ),
    "run_header": (
        "**Run {id}** · {version} · {status} · sets: {sets}",
        "**Évaluation {id}** · {version} · {status} · jeux : {sets}",
    ),
    "run_status_queued": ("queued", "en attente"),
    "run_status_running": ("running", "en cours"),
    "run_status_cancelling": ("stopping", "arrêt en cours"),
    "run_status_done": ("finished", "terminée"),
    "run_status_cancelled": ("cancelled", "annulée"),
    "run_status_failed": ("failed", "échouée"),
    "m_pass_rate": ("Pass rate", "Taux de réussite"),
    "m_passed": ("Passed", "Réussis"),
    "m_failed": ("Failed", "Échoués"),
    "m_errored": ("Errored", "En erreur"),
    "case_passed": ("passed", "réussi"),
    "case_failed": ("failed", "échoué"),
    "case_errored": ("errored", "en erreur"),
    "check_retrieval": ("sources", "sources"),
    "check_cited": ("citations", "citations"),
    "check_facts": ("facts", "faits"),
    "check_refusal": ("refusal", "refus"),
    "check_forbidden": ("forbidden phrases", "expressions interdites"),
    "tests_history": (
        "Pass rate of each finished run, oldest first",
        "Taux de réussite de chaque évaluation terminée, la plus ancienne d'abord",
    ),
    "tests_compare": ("Compare two runs", "Comparer deux évaluations"),
    "tests_compare_a": ("Before", "Avant"),
    "tests_compare_b": ("After", "Après"),
    "cmp_regressions": (
        "Regressions ({n}): passed before, fail now",
        "Régressions ({n}) : réussis avant, échoués maintenant",
    ),
    "cmp_fixes": ("Fixes ({n}): failed before, pass now", "Corrections ({n}) : échoués avant, réussis maintenant"),
    "cmp_unchanged": ("Unchanged ({n})", "Inchangés ({n})"),
    "gate_title": ("Publish gate", "Contrôle avant publication"),
    "gate_enabled": ("Test the draft before publishing", "Tester le brouillon avant de publier"),
    "gate_enabled_help": (
        "Publishing is refused when the pass rate is below the minimum, a must-pass case fails, a case that passes on the published version fails, or a case errored. You can still publish with a written reason.",
        "La publication est refusée si le taux de réussite est sous le minimum, si un cas « doit réussir » échoue, si un cas réussi par la version publiée échoue, ou si un cas est en erreur. Vous pouvez publier quand même en donnant une raison écrite.",
    ),
    "gate_every_set": (
        "Every test set gates (including sets imported later)",
        "Tous les jeux de tests comptent (y compris ceux importés plus tard)",
    ),
    "gate_sets": ("Otherwise, only these sets", "Sinon, seulement ces jeux"),
    "gate_sets_help": ("Used when the box above is unticked.", "Utilisé quand la case ci-dessus est décochée."),
    "gate_min": ("Minimum pass rate", "Taux de réussite minimal"),
    "pub_gate_none": (
        "No test set gates publishing: the draft goes live as it is. The Tests page adds some.",
        "Aucun jeu de tests ne contrôle la publication : le brouillon part tel quel. La page Tests permet d'en ajouter.",
    ),
    "pub_gate_off": (
        "The publish gate is off: the draft is not tested before going live.",
        "Le contrôle avant publication est désactivé : le brouillon n'est pas testé avant sa mise en ligne.",
    ),
    "pub_gate_sets": (
        "Before going live, the draft is tested on {sets} ({n} case(s)); at least {rate} must pass.",
        "Avant sa mise en ligne, le brouillon est testé sur {sets} ({n} cas) ; au moins {rate} doivent réussir.",
    ),
    "pub_gate_refused": (
        "The publish gate refused this draft.",
        "Le contrôle avant publication a refusé ce brouillon.",
    ),
    "pub_gate_failing": ("What failed on the draft", "Ce qui échoue sur le brouillon"),
    "pub_override": ("Publish anyway: why?", "Publier quand même : pourquoi ?"),
    "pub_override_placeholder": (
        "e.g. the failing case tests a page we removed on purpose",
        "ex. le cas échoué porte sur une page retirée exprès",
    ),
    "pub_override_go": ("Publish anyway", "Publier quand même"),
    "pub_override_need_reason": (
        "Write why before publishing anyway.",
        "Écrivez pourquoi avant de publier quand même.",
    ),
    # --- hand-off inbox (Conversations page, Hand-offs tab) ---
    "ho_status": ("Status", "Statut"),
    "ho_status_None": ("all", "tous"),
    "ho_status_new": ("new", "nouveau"),
    "ho_status_assigned": ("assigned", "attribué"),
    "ho_status_answered": ("answered", "répondu"),
    "ho_status_closed": ("closed", "clos"),
    "ho_assignee": ("Assigned to", "Attribué à"),
    "ho_contact": ("Contact", "Contact"),
    "ho_failed": ("Failed sends", "Envois échoués"),
    "ho_none_with_status": ("No hand-off request with this status.", "Aucune demande avec ce statut."),
    "ho_open": ("Open a request", "Ouvrir une demande"),
    "ho_header": (
        "**{name}** · {contact} · {status}",
        "**{name}** · {contact} · {status}",
    ),
    "ho_asked": ("They wrote: {message}", "Message : {message}"),
    "ho_context": ("The conversation", "La conversation"),
    "ho_staff": ("Support team", "Équipe support"),
    "ho_assign": ("Assign", "Attribuer"),
    "ho_assign_help": ("Your name, or empty to unassign.", "Votre nom, ou vide pour retirer."),
    "ho_assigned_ok": ("Assigned.", "Attribuée."),
    "ho_reply": ("Reply to the customer", "Répondre au client"),
    "ho_reply_help": (
        "Shown in their chat window; also e-mailed to {email}.",
        "Affichée dans leur fenêtre de discussion ; envoyée aussi par e-mail à {email}.",
    ),
    "ho_reply_help_no_email": (
        "Shown in their chat window (they left no e-mail address).",
        "Affichée dans leur fenêtre de discussion (pas d'adresse e-mail).",
    ),
    "ho_send": ("Send the reply", "Envoyer la réponse"),
    "ho_sent_ok": ("Reply sent.", "Réponse envoyée."),
    "ho_reply_empty": ("Write the reply first.", "Écrivez d'abord la réponse."),
    "ho_close": ("Close", "Clore"),
    "ho_closed_ok": ("Closed.", "Close."),
    "ho_closed_note": (
        "This request is closed. Assign it to reopen it.",
        "Cette demande est close. Attribuez-la pour la rouvrir.",
    ),
    "ho_deliveries": ("E-mails and notifications", "E-mails et notifications"),
    "ho_kind_team_email": ("team e-mail", "e-mail à l'équipe"),
    "ho_kind_team_webhook": ("team webhook", "webhook de l'équipe"),
    "ho_kind_customer_email": ("e-mail to the customer", "e-mail au client"),
    "ho_delivery_failed": (
        "Not sent: {kind} to {target}: {error}",
        "Non envoyé : {kind} à {target} : {error}",
    ),
    "ho_delivery_line": ("{kind} to {target}: {status}", "{kind} à {target} : {status}"),
    # evaluation (session 6): LLM judge, "add to test set", experiments
    "att_button": ("Add to test set", "Ajouter aux tests"),
    "att_set": ("Test set", "Jeu de tests"),
    "att_new_set": ("…or a new set", "…ou un nouveau jeu"),
    "att_question": ("Question", "Question"),
    "att_reference": (
        "Reference answer (the bot's answer: correct it if needed)",
        "Réponse de référence (celle du bot : corrigez-la si besoin)",
    ),
    "att_sources": ("Expected sources", "Sources attendues"),
    "att_sources_help": (
        "File names (file#page=N) or page URLs, separated by |",
        "Noms de fichiers (fichier#page=N) ou adresses de pages, séparés par |",
    ),
    "att_add": ("Add the case", "Ajouter le cas"),
    "att_added": ("Added to {set} ({n} cases).", "Ajouté à {set} ({n} cas)."),
    "m_judge_groundedness": ("Judge: groundedness", "Juge : ancrage"),
    "m_judge_agreement": ("Judge: agreement", "Juge : accord"),
    "judge_not_used": (
        "No judge model: only the deterministic checks ran.",
        "Pas de modèle juge : seuls les contrôles déterministes ont tourné.",
    ),
    "judge_problems": (
        "Judge: {unusable} grade(s) unusable, {errored} errored (they fail no case).",
        "Juge : {unusable} note(s) inutilisable(s), {errored} en erreur (aucun cas n'échoue pour autant).",
    ),
    "exp_title": ("Experiments", "Expériences"),
    "exp_intro": (
        "Measure variants of the draft side by side on a test set; nothing is published and the draft "
        "stays as it is until you promote a variant.",
        "Mesurez des variantes du brouillon côte à côte sur un jeu de tests ; rien n'est publié et le "
        "brouillon ne change pas tant que vous ne promouvez pas une variante.",
    ),
    "exp_no_sets": ("Import a test set first.", "Importez d'abord un jeu de tests."),
    "exp_set": ("Test set", "Jeu de tests"),
    "exp_variants": (
        "Variants (YAML: a name, then the spec sections it changes)",
        "Variantes (YAML : un nom, puis les sections de la spécification qu'elle change)",
    ),
    "exp_go": ("Run the experiment", "Lancer l'expérience"),
    "exp_bad_yaml": ("The variants are not valid YAML: {error}", "Les variantes ne sont pas du YAML valide : {error}"),
    "exp_header": ("Experiment `{id}` on **{set}**: {status}", "Expérience `{id}` sur **{set}** : {status}"),
    "exp_status_running": ("running", "en cours"),
    "exp_status_done": ("done", "terminée"),
    "exp_status_failed": ("failed", "échouée"),
    "exp_status_cancelled": ("cancelled", "annulée"),
    "exp_col_variant": ("Variant", "Variante"),
    "exp_col_tokens": ("Tokens", "Jetons"),
    "exp_col_cost": ("Cost", "Coût"),
    "exp_col_changes": ("Changes", "Changements"),
    "exp_promote_which": ("Variant to make the draft", "Variante à adopter comme brouillon"),
    "exp_promote": ("Promote to draft", "Adopter comme brouillon"),
    "exp_promoted": (
        "Variant {variant} is now the draft: publish it from the Publish page.",
        "La variante {variant} est maintenant le brouillon : publiez-la depuis la page Publier.",
    ),
    # --- analytics: resolution and knowledge gaps (issue #14) ---
    "page_analytics": ("Analytics", "Statistiques"),
    "an_dates": ("Period", "Période"),
    "an_version": ("Version", "Version"),
    "an_all_versions": ("All versions", "Toutes les versions"),
    "an_draft": ("draft", "brouillon"),
    "an_include_playground": ("Include the playground", "Inclure le bac à sable"),
    "an_playground_help": (
        "Off: only customers' conversations (API, widget, OpenAI-compatible). On: your own tries too.",
        "Désactivé : seulement les conversations des clients (API, widget, compatible OpenAI). Activé : vos essais aussi.",
    ),
    "an_resolution": ("Resolution", "Résolution"),
    "an_gaps": ("Knowledge gaps", "Lacunes"),
    "an_none": ("No conversations in this period.", "Aucune conversation sur cette période."),
    "an_conversations": ("Conversations", "Conversations"),
    "an_questions": ("Questions", "Questions"),
    "an_resolution_rate": ("Resolution rate", "Taux de résolution"),
    "an_handoff_rate": ("Hand-off rate", "Taux de transfert"),
    "an_thumbs": ("Thumbs up / down", "Pouces haut / bas"),
    "an_up": ("Thumbs up", "Pouce haut"),
    "an_down": ("Thumbs down", "Pouce bas"),
    "an_by_model": ("Answered by the model", "Répondu par le modèle"),
    "an_by_corrected": ("Corrected answers", "Réponses corrigées"),
    "an_by_fallback": ("Fallbacks", "Réponses de repli"),
    "an_latency": ("Latency p50 / p95", "Latence p50 / p95"),
    "an_cost": ("Estimated cost", "Coût estimé"),
    "an_cost_help": ("{tokens} tokens in all.", "{tokens} jetons au total."),
    "an_resolution_definition": (
        "Resolution rate: the share of conversations that got at least one answer, where no answer was the "
        "fallback, nobody asked for a human, and the last answer was neither rated thumbs-down nor an error. "
        "A conversation counts on the day it started; playground conversations only when included.",
        "Taux de résolution : la part des conversations qui ont reçu au moins une réponse, sans réponse de "
        "repli, sans demande de transfert vers un humain, et dont la dernière réponse n'a reçu ni pouce bas ni "
        "erreur. Une conversation compte le jour où elle a commencé ; le bac à sable seulement s'il est inclus.",
    ),
    "an_chart_resolution": ("Conversations per day", "Conversations par jour"),
    "an_resolved": ("Resolved", "Résolues"),
    "an_unresolved": ("Not resolved", "Non résolues"),
    "an_chart_answered_by": ("Answers per day, by who answered", "Réponses par jour, selon qui a répondu"),
    "an_chart_feedback": ("Feedback per day", "Avis par jour"),
    "an_per_version": ("Per version", "Par version"),
    "an_prepare_csv": ("Prepare the CSV", "Préparer le CSV"),
    "an_gaps_help": (
        "Questions the bot answered badly (fallback, hand-off, thumbs-down, weak passage), grouped by topic, "
        "compared with the previous period of the same length.",
        "Les questions auxquelles le bot a mal répondu (repli, transfert, pouce bas, passage peu pertinent), "
        "regroupées par sujet et comparées à la période précédente de même durée.",
    ),
    "an_no_gaps": (
        "No badly answered question in this period.",
        "Aucune question mal traitée sur cette période.",
    ),
    "an_gaps_total": ("{n} question(s) in {topics} topic(s).", "{n} question(s) en {topics} sujet(s)."),
    "an_gaps_truncated": (
        "More questions than one report groups: the most recent were kept. Narrow the period.",
        "Plus de questions qu'un rapport n'en regroupe : les plus récentes ont été gardées. Réduisez la période.",
    ),
    "an_todo_md": ("To-do list (Markdown)", "Liste à faire (Markdown)"),
    "an_todo_csv": ("To-do list (CSV)", "Liste à faire (CSV)"),
    "an_download": ("Download", "Télécharger"),
    "an_trend_new": ("new", "nouveau"),
    "an_trend_up": ("up from {before}", "en hausse (contre {before})"),
    "an_trend_down": ("down from {before}", "en baisse (contre {before})"),
    "an_trend_same": ("as before ({before})", "stable ({before})"),
    "an_reason_fallback": ("fallback", "repli"),
    "an_reason_handoff": ("hand-off", "transfert"),
    "an_reason_thumbs_down": ("thumbs-down", "pouce bas"),
    "an_reason_low_score": ("weak passage", "passage peu pertinent"),
    "an_closest": (
        "Closest passage: {source} (similarity {score})",
        "Passage le plus proche : {source} (similarité {score})",
    ),
    "an_no_passage": ("The bot has no passage on this.", "Le bot n'a aucun passage à ce sujet."),
    "an_write_answer": ("Write an answer for this topic", "Écrire une réponse pour ce sujet"),
    "an_save_answer": ("Save as a corrected answer", "Enregistrer comme réponse corrigée"),
    "an_answer_empty": ("Write the answer first.", "Écrivez d'abord la réponse."),
    "an_answer_saved": (
        "Saved: the bot now gives this answer to these questions.",
        "Enregistré : le bot donne désormais cette réponse à ces questions.",
    ),
    # --- Website knowledge (issue #16): the Knowledge page's Website tab ---
    "kn_tab_files": ("Files", "Fichiers"),
    "kn_tab_website": ("Website", "Site web"),
    "web_url": ("Start page or sitemap address", "Page de départ ou adresse du sitemap"),
    "web_is_sitemap": ("This is a sitemap.xml", "C'est un sitemap.xml"),
    "web_include": ("Only these paths (one per line)", "Seulement ces chemins (un par ligne)"),
    "web_exclude": ("Skip these paths (one per line)", "Ignorer ces chemins (un par ligne)"),
    "web_patterns_help": (
        "Patterns on the page's path, * for anything: /help/*, */print/*, *.pdf",
        "Motifs sur le chemin de la page, * pour n'importe quoi : /aide/*, */print/*, *.pdf",
    ),
    "web_max_pages": ("At most pages", "Pages au plus"),
    "web_max_depth": ("Link depth", "Profondeur des liens"),
    "web_schedule": ("Sync", "Synchronisation"),
    "web_every_none": ("only when asked", "seulement sur demande"),
    "web_every_hourly": ("every hour", "toutes les heures"),
    "web_every_daily": ("every day", "tous les jours"),
    "web_every_weekly": ("every week", "toutes les semaines"),
    "web_crawl": ("Crawl and index", "Explorer et indexer"),
    "web_need_url": ("Enter the site's address first.", "Saisissez d'abord l'adresse du site."),
    "web_started": ("Crawling {url}…", "Exploration de {url}…"),
    "web_none": ("No website yet: add one above.", "Aucun site pour l'instant : ajoutez-en un ci-dessus."),
    "web_kind_crawl": ("site", "site"),
    "web_kind_sitemap": ("sitemap", "sitemap"),
    "web_kind_urls": ("list of pages", "liste de pages"),
    "web_pages_n": ("{n} page(s) indexed", "{n} page(s) indexée(s)"),
    "web_last_sync": (
        "Last sync {status}: {indexed} indexed, {unchanged} unchanged, {removed} removed, {failed} failed, {skipped} skipped",
        "Dernière synchro {status} : {indexed} indexée(s), {unchanged} inchangée(s), {removed} retirée(s), {failed} en échec, {skipped} ignorée(s)",
    ),
    "web_live": (
        "{status}: {found} found, {fetched} fetched, {indexed} indexed, {unchanged} unchanged, {skipped} skipped, {failed} failed",
        "{status} : {found} trouvée(s), {fetched} téléchargée(s), {indexed} indexée(s), {unchanged} inchangée(s), {skipped} ignorée(s), {failed} en échec",
    ),
    "web_schedule_saved": ("Schedule saved.", "Planification enregistrée."),
    "web_sync_now": ("Sync now", "Synchroniser"),
    "web_delete": ("Remove site", "Retirer le site"),
    "web_history": ("Sync history", "Historique des synchros"),
    "web_col_when": ("When", "Quand"),
    "web_col_trigger": ("By", "Par"),
    "web_col_status": ("Status", "État"),
    "web_col_indexed": ("Indexed", "Indexées"),
    "web_col_unchanged": ("Unchanged", "Inchangées"),
    "web_col_removed": ("Removed", "Retirées"),
    "web_col_failed": ("Failed", "En échec"),
    "web_col_skipped": ("Skipped", "Ignorées"),
    "web_col_event": ("What", "Quoi"),
    "web_col_reason": ("Why", "Pourquoi"),
    # --- Corrected answers and the review inbox (issue #14) ---
    "page_answers": ("Answers", "Réponses"),
    "page_review": ("Review", "Revue"),
    "ans_intro": (
        "Corrected answers: when a customer's question is close enough to one, the bot gives the approved "
        "text word for word (no model), citing its sources. Published versions keep the list they were "
        "published with; the draft uses this one.",
        "Réponses corrigées : quand la question d'un client en est assez proche, le bot donne le texte "
        "approuvé mot pour mot (sans modèle), avec ses sources. Une version publiée garde la liste de sa "
        "publication ; le brouillon utilise celle-ci.",
    ),
    "ans_search": ("Search questions and answers", "Chercher dans les questions et réponses"),
    "ans_add": ("Add a corrected answer", "Ajouter une réponse corrigée"),
    "ans_question": ("Question", "Question"),
    "ans_answer": ("Approved answer", "Réponse approuvée"),
    "ans_paraphrases": ("Paraphrases (one a line)", "Reformulations (une par ligne)"),
    "ans_sources": ("Sources (file names or page addresses, one a line)", "Sources (fichiers ou pages, une par ligne)"),
    "ans_save": ("Save", "Enregistrer"),
    "ans_saved": ("Saved.", "Enregistré."),
    "ans_enabled": ("Enabled", "Active"),
    "ans_delete": ("Delete", "Supprimer"),
    "ans_hits": ("Used {hits} times; last: {last}", "Utilisée {hits} fois ; dernière : {last}"),
    "ans_never": ("never", "jamais"),
    "ans_none": ("No corrected answers yet.", "Pas encore de réponse corrigée."),
    "ans_csv": ("CSV import and export", "Import et export CSV"),
    "ans_export": ("Download as CSV", "Télécharger en CSV"),
    "ans_import": (
        "Import a CSV (new rows are added, rows with an id updated)",
        "Importer un CSV (nouvelles lignes ajoutées, lignes avec id mises à jour)",
    ),
    "ans_imported": ("{created} added, {updated} updated.", "{created} ajoutées, {updated} mises à jour."),
    "rev_intro": (
        "Answers worth a look: thumbs-down, fallbacks, hand-offs, low passage scores, answers cut at the "
        "token limit, provider errors. Most-asked first, then newest.",
        "Les réponses à revoir : pouces baissés, repli, transferts, passages peu pertinents, réponses "
        "coupées à la limite de jetons, erreurs du fournisseur. Les plus demandées d'abord, puis les récentes.",
    ),
    "rev_reasons": ("Reasons", "Motifs"),
    "rev_channel": ("Channel", "Canal"),
    "rev_language": ("Language", "Langue"),
    "rev_empty": ("Nothing to review.", "Rien à revoir."),
    "rev_count": (
        "{total} to review (of the {scanned} newest answers read)",
        "{total} à revoir (sur les {scanned} réponses les plus récentes lues)",
    ),
    "rev_similar": ("asked {n} times", "posée {n} fois"),
    "rev_passages": ("Retrieved passages", "Passages trouvés"),
    "rev_conversation": ("Conversation", "Conversation"),
    "rev_stored": ("What is stored of how it answered", "Ce qui est gardé de la façon dont il a répondu"),
    "rev_correct": ("Write the correct answer", "Écrire la bonne réponse"),
    "rev_test_set": ("Add to test set", "Ajouter au jeu de tests"),
    "rev_expected_source": ("Expected source (optional)", "Source attendue (facultatif)"),
    "rev_note": ("Note", "Note"),
    "rev_mark": ("Mark reviewed", "Marquer comme revue"),
    "rev_done": ("Done.", "Fait."),
    "rev_open_doc": ("Open the documents (Knowledge page)", "Ouvrir les documents (page Connaissances)"),
    # first-run setup and connection test (issue #12 part 4, issue #15)
    "setup_title": ("First, which model answers your customers?", "D'abord : quel modèle répond à vos clients ?"),
    "setup_intro": (
        "You can change this later for each bot on the Settings page.",
        "Vous pourrez le changer ensuite pour chaque bot dans la page Réglages.",
    ),
    "setup_which_model": ("Model", "Modèle"),
    "setup_choice_offline": ("Offline (built in)", "Hors ligne (intégré)"),
    "setup_choice_offline_help": (
        "Answers are quoted from your documents; nothing leaves this machine and no key is needed.",
        "Les réponses citent vos documents ; rien ne quitte cette machine, aucune clé n'est nécessaire.",
    ),
    "setup_choice_openai": ("OpenAI", "OpenAI"),
    "setup_choice_openai_help": (
        "The model writes answers from your documents; needs an OpenAI API key.",
        "Le modèle rédige les réponses à partir de vos documents ; il faut une clé d'API OpenAI.",
    ),
    "setup_choice_openai_compatible": ("Another server (Ollama, vLLM…)", "Un autre serveur (Ollama, vLLM…)"),
    "setup_choice_openai_compatible_help": (
        "Any server that speaks the OpenAI chat API, at the address you give.",
        "Tout serveur qui parle l'API de chat d'OpenAI, à l'adresse que vous indiquez.",
    ),
    "setup_openai_key_help": (
        "Leave empty if the server already has OPENAI_API_KEY set.",
        "Laissez vide si le serveur a déjà OPENAI_API_KEY.",
    ),
    "setup_base_url_help": (
        "The address of its OpenAI-compatible API, usually ending in /v1.",
        "L'adresse de son API compatible OpenAI, qui finit en général par /v1.",
    ),
    "setup_compatible_key_help": (
        "Only if that server asks for one.",
        "Seulement si ce serveur en demande une.",
    ),
    "setup_base_url_required": (
        "Give the server's address (its base URL) first.",
        "Indiquez d'abord l'adresse du serveur (son URL de base).",
    ),
    "setup_nothing_to_test": (
        "Nothing to test: no model is called, answers quote your documents.",
        "Rien à tester : aucun modèle n'est appelé, les réponses citent vos documents.",
    ),
    "setup_test": ("Test connection", "Tester la connexion"),
    "setup_testing": ("Sending one question to the model…", "Envoi d'une question au modèle…"),
    "setup_test_ok": ("{model} answered in {ms} ms:", "{model} a répondu en {ms} ms :"),
    "setup_empty_reply": ("(an empty reply)", "(une réponse vide)"),
    "setup_test_failed": (
        "The model did not answer. The server's exact error:",
        "Le modèle n'a pas répondu. L'erreur exacte du serveur :",
    ),
    "setup_continue": ("Continue", "Continuer"),
    "setup_model_chosen": ("New bots answer with: {model}.", "Les nouveaux bots répondent avec : {model}."),
    "settings_test": ("Test connection", "Tester la connexion"),
    "timeout_help": (
        "How long to wait for the model. Empty: 120 s for the bundled model (a small machine answers "
        "one question at a time), 30 s for other providers.",
        "Combien de temps attendre le modèle. Vide : 120 s pour le modèle fourni (une petite machine "
        "répond à une question à la fois), 30 s pour les autres.",
    ),
    # the playground's failed answers: what to change, and where
    "pg_fix_model_timeout": (
        "The model took longer than the {seconds} s it is allowed. On the Settings page, raise "
        "“Timeout (seconds)” or lower “Longest answer (tokens)”, or pick a faster model.",
        "Le modèle a mis plus que les {seconds} s permises. Dans la page Réglages, augmentez "
        "« Délai maximal (secondes) » ou baissez « Réponse maximale (tokens) », ou choisissez un modèle plus rapide.",
    ),
    "pg_fix_model_unavailable": (
        "The model could not be reached. On the Settings page, check the provider and its address, "
        "then use “Test connection”.",
        "Le modèle est injoignable. Dans la page Réglages, vérifiez le fournisseur et son adresse, "
        "puis utilisez « Tester la connexion ».",
    ),
    "pg_fix_model_auth_failed": (
        "The provider refused the API key. Enter a valid key on the Settings page.",
        "Le fournisseur a refusé la clé d'API. Saisissez une clé valide dans la page Réglages.",
    ),
    "pg_fix_model_not_configured": (
        "The model settings are incomplete (provider, address or key). Complete them on the Settings page.",
        "Les réglages du modèle sont incomplets (fournisseur, adresse ou clé). Complétez-les dans la page Réglages.",
    ),
    "pg_fix_model_bad_request": (
        "The provider refused the question. Check the model name on the Settings page.",
        "Le fournisseur a refusé la question. Vérifiez le nom du modèle dans la page Réglages.",
    ),
    "pg_fix_model_rate_limited": (
        "The provider is limiting how often it answers. Wait a minute and ask again, or raise your quota with the provider.",
        "Le fournisseur limite le rythme des réponses. Attendez une minute et reposez la question, ou augmentez votre quota chez lui.",
    ),
    "pg_fix_model_stream_interrupted": (
        "The answer was cut off while it was being written. Ask again; if it keeps happening, the model may be "
        "pausing longer than the {seconds} s allowed (raise “Timeout (seconds)” on the Settings page) or its server is failing.",
        "La réponse a été coupée pendant sa rédaction. Reposez la question ; si cela se répète, le modèle fait peut-être "
        "des pauses de plus de {seconds} s (augmentez « Délai maximal (secondes) » dans la page Réglages) ou son serveur a un problème.",
    ),
    "pg_fix_message_too_long": (
        "The question is too long for this server. Shorten it.",
        "La question est trop longue pour ce serveur. Raccourcissez-la.",
    ),
    "pg_fix_empty_message": ("The question is empty.", "La question est vide."),
    "pg_open_settings": ("Open the Settings page", "Ouvrir la page Réglages"),
    "pg_details": ("Details", "Détails"),
    "pg_partial": ("What was written before it stopped:", "Ce qui a été écrit avant l'arrêt :"),
    "pg_failed": ("No answer", "Pas de réponse"),
    # a new bot's path: persona → knowledge → try it → publish
    "path_persona": ("1. Persona", "1. Personnalité"),
    "path_knowledge": ("2. Knowledge", "2. Connaissances"),
    "path_try": ("3. Try it", "3. Essayer"),
    "path_publish": ("4. Publish", "4. Publier"),
    "path_done": ("Done", "Fait"),
    "path_left": ("To do", "À faire"),
    "path_next": ("Next step: {step}", "Étape suivante : {step}"),
    "path_all_done": ("Every step is done: the bot is live.", "Toutes les étapes sont faites : le bot est en ligne."),
    # Conversations: customers apart from the playground, charts per day
    "cv_channel_customers": ("Customers", "Clients"),
    "cv_channel_playground": ("Playground (your tries)", "Bac à sable (vos essais)"),
    "cv_channel_all": ("All", "Toutes"),
    "cv_via_widget": ("Website", "Site web"),
    "cv_via_api": ("API", "API"),
    "cv_via_openai": ("OpenAI API", "API OpenAI"),
    "cv_via_playground": ("Playground", "Bac à sable"),
    "cv_feedback_help": (
        "Thumbs up (+) and thumbs down (−) from the customer.",
        "Avis positifs (+) et négatifs (−) du client.",
    ),
    "cv_chart_conversations": ("Conversations per day", "Conversations par jour"),
    "cv_chart_questions": ("Questions per day", "Questions par jour"),
    "cv_latency_typical": ("typical (half are faster), ms", "habituel (la moitié plus rapides), ms"),
    "cv_latency_slow": ("slowest 5%, ms", "5 % les plus lents, ms"),
    # fallback reasons in plain words (the code only in the details)
    "pg_reason_no_relevant_passage": (
        "no passage of your documents is close enough to the question",
        "aucun passage de vos documents n'est assez proche de la question",
    ),
    "pg_reason_no_quotable_passage": (
        "the passages found hold no sentence that answers the question",
        "les passages trouvés ne contiennent aucune phrase qui réponde à la question",
    ),
    "pg_reason_model_fallback": ("the model said it does not know", "le modèle a dit ne pas savoir"),
    "pg_reason_withheld": (
        "the model's answer was held back by a safety check",
        "la réponse du modèle a été retenue par une vérification de sécurité",
    ),
    "pg_reason_code": ("Reason code: {code}", "Code de la raison : {code}"),
    # upload progress per file (issue #15 item 2)
    "stage_reading": ("reading the file", "lecture du fichier"),
    "stage_chunking": ("cutting it into passages", "découpage en passages"),
    "stage_embedding": ("embedding passage {done} of {total}", "vectorisation du passage {done} sur {total}"),
    "stage_indexing": ("making it searchable", "mise en recherche"),
    "item_queued": ("waiting its turn", "en attente de son tour"),
    "item_processing": ("in progress", "en cours"),
    "item_ready": ("ready", "prêt"),
    "item_failed": ("failed", "échec"),
    "item_unchanged": ("unchanged (already indexed)", "inchangé (déjà indexé)"),
    "item_removed": ("deleted meanwhile", "supprimé entre-temps"),
    # one place for each setting (issue #15 item 4)
    "w_welcome_is_greeting": (
        "The welcome message is the persona's greeting: edit it on the Persona page.",
        "Le message de bienvenue est celui de la personnalité : modifiez-le dans la page Personnalité.",
    ),
    # unsaved persona edits (issue #15 item 3)
    "unsaved_changes_kept": (
        "Unsaved changes. They are kept while you visit other pages; save them or discard them.",
        "Modifications non enregistrées. Elles sont gardées pendant que vous visitez d'autres pages ; enregistrez-les ou abandonnez-les.",
    ),
    "discard_changes": ("Discard changes", "Abandonner les modifications"),
    "unsaved_persona_sidebar": (
        "Persona: unsaved changes (see the Persona page).",
        "Personnalité : modifications non enregistrées (voir la page Personnalité).",
    ),
    # team use: sign-in, roles, the Team page (issue #15, item 10)
    "signin_title": ("Sign in to Prompteur", "Connexion à Prompteur"),
    "signin_with_password": ("Name and password", "Nom et mot de passe"),
    "signin_with_token": ("Admin token (first sign-in)", "Jeton d'administration (première connexion)"),
    "signin_name": ("Name or email", "Nom ou e-mail"),
    "signin_password": ("Password", "Mot de passe"),
    "signin_button": ("Sign in", "Se connecter"),
    "signin_token": ("Admin token or API token", "Jeton d'administration ou jeton d'API"),
    "signin_token_help": (
        "The first time, sign in with the admin token the server wrote to PROMPTEUR_HOME/admin_token "
        "(`cat ~/.prompteur/admin_token` on the server's machine), then choose a name and password on the Team page.",
        "La première fois, connectez-vous avec le jeton d'administration que le serveur a écrit dans "
        "PROMPTEUR_HOME/admin_token (`cat ~/.prompteur/admin_token` sur la machine du serveur), puis choisissez "
        "un nom et un mot de passe dans la page Équipe.",
    ),
    "signin_token_missing": ("Paste a token first.", "Collez d'abord un jeton."),
    "signin_failed": (
        "That did not sign you in: check the name and password (or the token).",
        "Connexion refusée : vérifiez le nom et le mot de passe (ou le jeton).",
    ),
    "signin_expired": (
        "Your session has ended (it expired, or it was revoked): sign in again.",
        "Votre session est terminée (elle a expiré ou a été révoquée) : reconnectez-vous.",
    ),
    "signin_signed_out": ("You are signed out.", "Vous êtes déconnecté."),
    "signed_in_as": ("Signed in as `{name}` ({role})", "Connecté en tant que `{name}` ({role})"),
    "sign_out": ("Sign out", "Se déconnecter"),
    "role_viewer": ("viewer", "lecteur"),
    "role_editor": ("editor", "éditeur"),
    "role_owner": ("owner", "propriétaire"),
    "viewer_read_only": (
        "You are a viewer: you can look at everything but keys, and change nothing. Ask an owner for the editor role.",
        "Vous êtes lecteur : vous voyez tout sauf les clés, et ne pouvez rien modifier. Demandez le rôle d'éditeur à un propriétaire.",
    ),
    "viewer_no_keys": (
        "Keys and embed snippets (which hold a key) are for editors and owners.",
        "Les clés et les codes d'intégration (qui contiennent une clé) sont réservés aux éditeurs et propriétaires.",
    ),
    "page_team": ("Team", "Équipe"),
    "team_you": ("Your account", "Votre compte"),
    "team_no_password": (
        "You have no password yet (you signed in with the admin token): choose a name and a password to sign in with.",
        "Vous n'avez pas encore de mot de passe (connexion par jeton d'administration) : choisissez un nom et un mot de passe.",
    ),
    "team_new_password": ("New password (10 characters or more)", "Nouveau mot de passe (10 caractères ou plus)"),
    "team_current_password": ("Current password", "Mot de passe actuel"),
    "team_save_account": ("Save", "Enregistrer"),
    "team_saved": ("Saved.", "Enregistré."),
    "team_tokens": ("API tokens", "Jetons d'API"),
    "team_tokens_help": (
        "For the CLI and scripts: `PROMPTEUR_TOKEN=<token> prompteur bot list`. A token has your role.",
        "Pour la CLI et les scripts : `PROMPTEUR_TOKEN=<jeton> prompteur bot list`. Un jeton a votre rôle.",
    ),
    "team_token_name": ("Token name", "Nom du jeton"),
    "team_token_create": ("Create a token", "Créer un jeton"),
    "team_token_once": (
        "Copy this token now: it is shown only once.",
        "Copiez ce jeton maintenant : il n'est affiché qu'une fois.",
    ),
    "team_token_revoke": ("Revoke", "Révoquer"),
    "team_token_pick": ("Token to revoke", "Jeton à révoquer"),
    "team_people": ("People", "Personnes"),
    "team_add_person": ("Add a person", "Ajouter une personne"),
    "team_role": ("Role", "Rôle"),
    "team_add": ("Add", "Ajouter"),
    "team_one_time": (
        "One-time password for {name} (shown once; they can change it here): {password}",
        "Mot de passe à usage unique pour {name} (affiché une seule fois ; modifiable ici) : {password}",
    ),
    "team_change_person": ("Change a person", "Modifier une personne"),
    "team_person": ("Person", "Personne"),
    "team_disabled": ("Disabled (cannot sign in)", "Désactivé (ne peut pas se connecter)"),
    "team_apply": ("Apply", "Appliquer"),
    "team_all_tokens": ("Everyone's tokens and sessions", "Jetons et sessions de tous"),
    "team_audit": ("Audit log", "Journal d'audit"),
    "team_audit_user": ("Person", "Personne"),
    "team_audit_action": ("Action", "Action"),
    "team_audit_bot": ("Bot", "Bot"),
    "team_audit_any": ("(any)", "(tous)"),
    "team_audit_empty": ("No change recorded yet.", "Aucune modification enregistrée."),
    "team_audit_count": ("{shown} of {total} entries", "{shown} entrées sur {total}"),
    "col_role": ("Role", "Rôle"),
    "col_kind": ("Kind", "Type"),
    "col_when": ("When", "Quand"),
    "col_who": ("Who", "Qui"),
    "col_action": ("Action", "Action"),
    "col_target": ("On", "Sur"),
    "col_last_used": ("Last used", "Dernière utilisation"),
    "col_expires": ("Expires", "Expire"),
    "team_state_active": ("active", "actif"),
    "team_state_disabled": ("disabled", "désactivé"),
    "team_state_revoked": ("revoked", "révoqué"),
    # review loop gaps (session 7, issues #13 and #14): the prompt in a review item
    "rev_prompt": ("Prompt sent to the model", "Prompt envoyé au modèle"),
    "rev_prompt_no_model_call": (
        "No model was called for this answer (quoted from the documents, a corrected answer or the fallback).",
        "Aucun modèle n'a été appelé pour cette réponse (citation des documents, réponse corrigée ou message de repli).",
    ),
    "rev_prompt_not_recorded": (
        "The prompt was not kept for this answer (it was given before prompts were stored).",
        "Le prompt n'a pas été gardé pour cette réponse (elle date d'avant l'enregistrement des prompts).",
    ),
    "an_chart_all_zero": ("None in this period.", "Aucun sur cette période."),
    "an_latency_p50": ("Latency (median)", "Latence (médiane)"),
    # corrected-answer guard (session 7, issue #14): why a close corrected answer was not used
    "pg_corrected_refused": (
        "Corrected answer not used word for word: the question names {asked}, the approved one names {approved}."
        " It was given as a passage instead.",
        "Réponse corrigée non utilisée telle quelle : la question nomme {asked}, la question approuvée nomme"
        " {approved}. Elle a été donnée comme passage.",
    ),
    "pg_corrected_refused_nothing": ("nothing specific", "rien de précis"),
    # Tests page (session 7, issue #13): cases edited inline, answers compared side by side
    "col_forbidden": ("Forbidden", "Interdit"),
    "col_reference_answer": ("Reference answer", "Réponse de référence"),
    "col_tags": ("Tags", "Étiquettes"),
    "tests_cases_edit_help": (
        "Edit the cells, add rows at the bottom, delete rows by selecting them. Lists (sources, facts, forbidden, tags) are separated by |. Nothing is kept until you save.",
        "Modifiez les cellules, ajoutez des lignes en bas, supprimez des lignes en les sélectionnant. Les listes (sources, faits, interdits, étiquettes) sont séparées par |. Rien n'est gardé avant d'enregistrer.",
    ),
    "tests_cases_save": ("Save changes", "Enregistrer les modifications"),
    "tests_cases_saved": ("Saved {n} case(s) in {name}.", "{n} cas enregistré(s) dans {name}."),
    "cmp_show_unchanged": ("Show the answers of unchanged cases", "Afficher les réponses des cas inchangés"),
    "cmp_answer_before": ("Before ({status})", "Avant ({status})"),
    "cmp_answer_after": ("After ({status})", "Après ({status})"),
    "cmp_no_answer": ("No answer (the case errored).", "Pas de réponse (le cas est en erreur)."),
    "cmp_diff_legend": (
        "Words removed are on red, words added on green.",
        "Les mots retirés sont sur fond rouge, les mots ajoutés sur fond vert.",
    ),
    # Corrected-answer families (session 8, issue #14): the sibling that made the check strict
    "pg_corrected_refused_sibling": (
        "Another corrected answer is about as close and answers differently (“{question}”), so every"
        " content word had to match.",
        "Une autre réponse corrigée est presque aussi proche et répond autrement (« {question} ») :"
        " chaque mot de contenu devait correspondre.",
    ),
    # Corrected answers refused for an FAQ entry of the knowledge (session 9, issue #14)
    "pg_corrected_refused_knowledge": (
        "Corrected answer not used: an FAQ entry of the knowledge asks a question as close or closer"
        " (“{question}”), so the answer comes from the knowledge.",
        "Réponse corrigée non utilisée : une entrée de FAQ de la base de connaissances pose une question"
        " aussi proche ou plus proche (« {question} ») ; la réponse vient de la base de connaissances.",
    ),
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


def labeller(prefix: str, options: Iterable[Any]) -> Callable[[Any], str]:
    """A format_func for choice widgets, translated now: Streamlit may call it outside the
    script run (AppTest does), where the session's language is not at hand."""
    labels = {o: t(f"{prefix}{o}") for o in options}
    # An option missing from the list shows as itself, not as "None".
    return lambda option: labels.get(option, str(option))
