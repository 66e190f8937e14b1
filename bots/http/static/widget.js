/* Prompteur website widget: vanilla JS, no dependencies, no build step.
 * It only ever talks to the Prompteur server it was loaded from, and never
 * parses untrusted text as HTML: every string from the model, the customer or
 * a document becomes a text node (see renderMarkdown). */
(function () {
  'use strict';

  var script = document.currentScript || findScript();
  if (!script) return;
  var SERVER = new URL(script.src, location.href).origin;
  var FULL = script.getAttribute('data-mode') === 'full';
  var BOT = script.getAttribute('data-bot') || '';
  var KEY = script.getAttribute('data-key') || new URLSearchParams(location.search).get('key') || '';
  var MAX_CHARS = parseInt(script.getAttribute('data-max-chars') || '2000', 10) || 2000;
  // Remote images in answers can leak what the reader sees (the URL is the message), so
  // only origins the bot's settings list load; data-image-origins may narrow that list.
  var PAGE_IMAGES = script.getAttribute('data-image-origins');
  var IMAGE_ORIGINS = [];
  var STORE_KEY = 'prompteur:' + BOT;
  // After a hand-off request, the history is polled this often while the chat is open, so a
  // person's reply from the team's inbox shows up (data-poll-seconds, at least 2, for tests).
  var POLL_MS = Math.max(2, parseInt(script.getAttribute('data-poll-seconds') || '20', 10) || 20) * 1000;
  var NS = 'http://www.w3.org/2000/svg';

  function findScript() {
    var all = document.querySelectorAll('script[data-bot][src*="widget.js"]');
    return all[all.length - 1] || null;
  }

  var I18N = {
    en: {
      open: 'Open chat', close: 'Close chat', newConv: 'New conversation', send: 'Send',
      placeholder: 'Type your question…', you: 'You', bot: 'Assistant',
      typing: 'Assistant is typing…', reconnecting: 'Connection lost. Reconnecting…',
      reconnected: 'Reconnected.',
      unreachable: 'We can’t reach the chat server. Check your connection; we’ll keep trying.',
      retry: 'Try again', rateLimited: 'You’re sending messages too fast. Please wait {n} seconds.',
      rateLimited1: 'You’re sending messages too fast. Please wait 1 second.',
      canSend: 'You can send messages again.',
      tooLong: 'Your message is too long ({n}/{max} characters). Please shorten it.',
      interrupted: 'The answer was interrupted.', sources: 'Sources', page: 'page {n}',
      helpful: 'Helpful', notHelpful: 'Not helpful', thanks: 'Thanks for your feedback.',
      human: 'Talk to a human', name: 'Your name', email: 'Email', phone: 'Phone',
      message: 'How can we help?', submit: 'Send request', cancel: 'Cancel',
      handoffIntro: 'Leave your details and a member of our team will get back to you.',
      handoffDone: 'Thanks, {name}. Your request was sent; our team will contact you.',
      needName: 'Please enter your name.', needMessage: 'Please write a message.',
      needContact: 'Please give an email address or a phone number so we can reach you.',
      unavailable: 'This chat isn’t available on this page right now.',
      failed: 'Something went wrong. Please try again.', imageBlocked: 'image: {alt}',
      why: 'What went wrong? (optional)', sendWhy: 'Send comment',
      staff: 'Support team', staffReplied: 'A person from the support team replied.'
    },
    fr: {
      open: 'Ouvrir le chat', close: 'Fermer le chat', newConv: 'Nouvelle conversation', send: 'Envoyer',
      placeholder: 'Posez votre question…', you: 'Vous', bot: 'Assistant',
      typing: 'L’assistant écrit…', reconnecting: 'Connexion perdue. Reconnexion…',
      reconnected: 'Reconnecté.',
      unreachable: 'Le serveur du chat est injoignable. Vérifiez votre connexion ; nous réessayons.',
      retry: 'Réessayer', rateLimited: 'Vous envoyez des messages trop vite. Patientez {n} secondes.',
      rateLimited1: 'Vous envoyez des messages trop vite. Patientez 1 seconde.',
      canSend: 'Vous pouvez de nouveau envoyer des messages.',
      tooLong: 'Votre message est trop long ({n}/{max} caractères). Raccourcissez-le.',
      interrupted: 'La réponse a été interrompue.', sources: 'Sources', page: 'page {n}',
      helpful: 'Utile', notHelpful: 'Pas utile', thanks: 'Merci pour votre avis.',
      human: 'Parler à un humain', name: 'Votre nom', email: 'E-mail', phone: 'Téléphone',
      message: 'Comment pouvons-nous vous aider ?', submit: 'Envoyer la demande', cancel: 'Annuler',
      handoffIntro: 'Laissez vos coordonnées : un membre de notre équipe vous recontactera.',
      handoffDone: 'Merci, {name}. Votre demande a été transmise ; notre équipe vous contactera.',
      needName: 'Indiquez votre nom.', needMessage: 'Écrivez un message.',
      needContact: 'Indiquez un e-mail ou un numéro de téléphone pour que nous puissions vous joindre.',
      unavailable: 'Ce chat n’est pas disponible sur cette page pour le moment.',
      failed: 'Une erreur est survenue. Réessayez.', imageBlocked: 'image : {alt}',
      why: 'Qu’est-ce qui n’allait pas ? (facultatif)', sendWhy: 'Envoyer le commentaire',
      staff: 'Équipe support', staffReplied: 'Une personne de l’équipe support a répondu.'
    }
  };

  var ICONS = {
    chat: 'M4 5h16v11H9l-5 4z',
    close: 'M6 6l12 12M18 6L6 18',
    plus: 'M12 5v14M5 12h14',
    send: 'M4 12l16-8-6 16-2-6z',
    thumb: 'M7 11v9H4v-9zM7 11l4-7c1.6 0 2.6 1.2 2.1 3L12 10h6.2c1.2 0 2 1.1 1.7 2.3l-1.6 6.2A2 2 0 0 1 16.4 20H7'
  };

  var S = {
    t: I18N.en, config: null, session: loadSession(), open: false, started: false,
    busy: false, blockedUntil: 0, offline: false, seen: {}, poller: null
  };
  var E = {};

  // ---------- small DOM helpers (text only, never HTML) ----------
  function h(tag, attrs, kids) {
    var el = document.createElement(tag);
    for (var k in attrs || {}) {
      var v = attrs[k];
      if (v == null || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (k === 'class') el.className = v;
      else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    (kids || []).forEach(function (c) {
      if (c != null) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return el;
  }
  function icon(name, flip) {
    var svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    var p = document.createElementNS(NS, 'path');
    p.setAttribute('d', ICONS[name]);
    if (flip) p.setAttribute('transform', 'rotate(180 12 12)');
    svg.appendChild(p);
    return svg;
  }
  function fmt(s, vars) {
    return s.replace(/\{(\w+)\}/g, function (m, k) { return vars && k in vars ? String(vars[k]) : m; });
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  // ---------- safe Markdown ----------
  function safeHref(raw) {
    var u;
    try { u = new URL(raw); } catch (e) { return null; }
    return /^(https?|mailto):$/.test(u.protocol) ? u.href : null;
  }
  function originOf(raw) {
    try { return new URL(raw).origin; } catch (e) { return ''; }
  }
  function imageAllowed(raw) {
    try { var u = new URL(raw); } catch (e) { return false; }
    return /^https?:$/.test(u.protocol) && IMAGE_ORIGINS.indexOf(u.origin) >= 0;
  }
  var INLINE = '`([^`\\n]+)`' +
    '|!\\[([^\\]\\n]*)\\]\\(\\s*<?([^()\\s>]*)>?(?:\\s+"[^"\\n]*")?\\s*\\)' +
    '|\\[([^\\]\\n]+)\\]\\(\\s*<?([^()\\s>]*)>?(?:\\s+"[^"\\n]*")?\\s*\\)' +
    '|\\*\\*([^\\s*](?:[^\\n]*?[^\\s*])?)\\*\\*' +
    '|\\*([^\\s*](?:[^*\\n]*?[^\\s*])?)\\*' +
    '|((?:https?://|mailto:)[^\\s<>"\'`]*[^\\s<>"\'`.,;:!?)\\]])';

  function addText(parent, text) {
    text.split('\n').forEach(function (part, i) {
      if (i) parent.appendChild(h('br'));
      if (part) parent.appendChild(document.createTextNode(part));
    });
  }
  function inline(parent, text, inLink) {
    var re = new RegExp(INLINE, 'g'), last = 0, m;
    while ((m = re.exec(text))) {
      if (m.index > last) addText(parent, text.slice(last, m.index));
      last = re.lastIndex;
      if (m[1] !== undefined) parent.appendChild(h('code', { text: m[1] }));
      else if (m[3] !== undefined) {
        parent.appendChild(imageAllowed(m[3])
          ? h('img', { src: m[3], alt: m[2], referrerpolicy: 'no-referrer', loading: 'lazy' })
          : h('span', { class: 'img-alt', text: fmt(S.t.imageBlocked, { alt: m[2] || '?' }) }));
      } else if (m[5] !== undefined) {
        var href = inLink ? null : safeHref(m[5]);
        parent.appendChild(inline(href ? link(href) : h('span'), m[4], true));
      } else if (m[6] !== undefined) parent.appendChild(inline(h('strong'), m[6], inLink));
      else if (m[7] !== undefined) parent.appendChild(inline(h('em'), m[7], inLink));
      else {
        var auto = inLink ? null : safeHref(m[8]);
        parent.appendChild(auto ? link(auto, m[8]) : document.createTextNode(m[8]));
      }
    }
    if (last < text.length) addText(parent, text.slice(last));
    return parent;
  }
  function link(href, text) {
    return h('a', { href: href, target: '_blank', rel: 'noopener noreferrer', text: text });
  }
  function renderMarkdown(src) {
    var frag = document.createDocumentFragment();
    var lines = String(src || '').replace(/\r\n?/g, '\n').split('\n');
    var para = [], list = null, i = 0, m;
    function flush() { if (para.length) frag.appendChild(inline(h('p'), para.join('\n'))); para = []; }
    while (i < lines.length) {
      var line = lines[i];
      if ((m = /^\s*(```|~~~)/.exec(line))) {
        flush(); list = null;
        var code = [];
        for (i++; i < lines.length && lines[i].trim().indexOf(m[1]) !== 0; i++) code.push(lines[i]);
        frag.appendChild(h('pre', null, [h('code', { text: code.join('\n') })]));
        i++; continue;
      }
      if (!line.trim()) { flush(); list = null; i++; continue; }
      if ((m = /^\s*#{1,6}\s+(.*?)\s*#*\s*$/.exec(line))) {
        flush(); list = null;
        frag.appendChild(inline(h('p', { class: 'md-h' }), m[1]));
        i++; continue;
      }
      if ((m = /^\s*([-*+]|\d{1,9}[.)])\s+(.*)$/.exec(line))) {
        flush();
        var ordered = /\d/.test(m[1]);
        if (!list || list.ordered !== ordered) {
          list = { ordered: ordered, el: h(ordered ? 'ol' : 'ul') };
          if (ordered && parseInt(m[1], 10) !== 1) list.el.setAttribute('start', String(parseInt(m[1], 10)));
          frag.appendChild(list.el);
        }
        list.el.appendChild(inline(h('li'), m[2]));
        i++; continue;
      }
      if (list && /^\s{2,}\S/.test(line)) {
        inline(list.el.lastChild, ' ' + line.trim());
        i++; continue;
      }
      if ((m = /^\s*>\s?(.*)$/.exec(line))) {
        flush(); list = null;
        var quoted = [];
        for (; i < lines.length && (m = /^\s*>\s?(.*)$/.exec(lines[i])); i++) quoted.push(m[1]);
        frag.appendChild(inline(h('blockquote'), quoted.join('\n')));
        continue;
      }
      list = null; para.push(line); i++;
    }
    flush();
    return frag;
  }

  // ---------- storage: the session survives reloads and navigation on the site ----------
  function loadSession() {
    try { return JSON.parse(localStorage.getItem(STORE_KEY)) || null; } catch (e) { return null; }
  }
  function saveSession(s) {
    S.session = s;
    try {
      if (s) localStorage.setItem(STORE_KEY, JSON.stringify(s)); else localStorage.removeItem(STORE_KEY);
    } catch (e) { /* storage disabled: the conversation just won't survive a reload */ }
  }
  function rememberOpen(open) {
    try { sessionStorage.setItem(STORE_KEY + ':open', open ? '1' : ''); } catch (e) { /* same */ }
  }
  function wasOpen() {
    try { return sessionStorage.getItem(STORE_KEY + ':open') === '1'; } catch (e) { return false; }
  }

  // ---------- HTTP ----------
  function apiUrl(path) { return SERVER + '/v1/bots/' + encodeURIComponent(BOT) + path; }
  function request(method, path, body, token) {
    var headers = { Accept: 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    if (body) headers['Content-Type'] = 'application/json';
    return fetch(apiUrl(path), {
      method: method, headers: headers, body: body ? JSON.stringify(body) : undefined,
      credentials: 'omit', cache: 'no-store'
    });
  }
  function ApiError(status, code, message, retryAfter) {
    this.status = status; this.code = code; this.message = message; this.retryAfter = retryAfter;
  }
  function toError(resp) {
    return resp.json().catch(function () { return {}; }).then(function (data) {
      var e = (data && data.error) || {};
      var retry = parseInt(resp.headers.get('Retry-After') || e.retry_after || '0', 10) || 0;
      return new ApiError(resp.status, e.code || 'http_' + resp.status, e.message || '', retry);
    });
  }
  function expiresAt(s) {
    var v = s && s.expires_at;
    if (typeof v === 'number') return v < 1e12 ? v * 1000 : v;
    return Date.parse(v) || 0;
  }
  // Resuming needs the old token as proof this browser owns the conversation.
  function ensureSession(force) {
    var s = S.session;
    if (s && s.token && !force && expiresAt(s) - Date.now() > 30000) return Promise.resolve(s);
    var body = {};
    if (s && s.conversation_id && s.token) { body.conversation_id = s.conversation_id; body.previous_token = s.token; }
    return request('POST', '/sessions', body, KEY).catch(function (netErr) {
      // A site the bot doesn't allow gets its CORS preflight refused, which fetch reports
      // like a network failure; if the server still answers the public config, it's the origin.
      return fetchConfig().then(function () {
        throw new ApiError(403, 'origin_not_allowed', '', 0);
      }, function () { throw netErr; });
    }).then(function (resp) {
      if (!resp.ok) return toError(resp).then(function (e) { throw e; });
      return resp.json().then(function (fresh) {
        // The same conversation, resumed: it still awaits the team's reply.
        if (s && s.waiting && fresh.conversation_id === s.conversation_id) fresh.waiting = true;
        saveSession(fresh);
        return fresh;
      });
    });
  }
  function authed(method, path, body) {
    function bodyFor(s) { return typeof body === 'function' ? body(s) : body; }
    return ensureSession(false).then(function (s) {
      return request(method, path, bodyFor(s), s.token).then(function (resp) {
        if (resp.status !== 401) return resp;
        return ensureSession(true).then(function (s2) { return request(method, path, bodyFor(s2), s2.token); });
      });
    });
  }
  function authedJson(method, path, body) {
    return authed(method, path, body).then(function (resp) {
      if (!resp.ok) return toError(resp).then(function (e) { throw e; });
      return resp.status === 204 ? null : resp.json().catch(function () { return null; });
    });
  }

  // SSE over fetch, because EventSource cannot POST or send an Authorization header.
  function readEvents(resp, onEvent) {
    if (!/event-stream/.test(resp.headers.get('Content-Type') || '')) {
      return resp.json().then(function (d) {
        onEvent('start', d); onEvent('delta', { text: d.answer || '' });
        onEvent('citations', { citations: d.citations || [] }); onEvent('done', d);
      });
    }
    var reader = resp.body.getReader(), decoder = new TextDecoder(), buf = '';
    function dispatch(block) {
      var name = 'message', data = [];
      block.split('\n').forEach(function (line) {
        if (!line || line[0] === ':') return;
        var c = line.indexOf(':'), field = c < 0 ? line : line.slice(0, c);
        var value = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
        if (field === 'event') name = value;
        else if (field === 'data') data.push(value);
      });
      if (!data.length) return;
      var payload;
      try { payload = JSON.parse(data.join('\n')); } catch (e) { return; }
      onEvent(name, payload);
    }
    function pump() {
      return reader.read().then(function (r) {
        if (r.done) { if (buf.trim()) dispatch(buf.replace(/\r\n?/g, '\n')); return; }
        buf += decoder.decode(r.value, { stream: true });
        // Keep a trailing \r: it may be half of a \r\n split across chunks.
        var keep = buf.slice(-1) === '\r' ? '\r' : '';
        buf = buf.slice(0, buf.length - keep.length).replace(/\r\n?/g, '\n');
        var idx;
        while ((idx = buf.indexOf('\n\n')) >= 0) { dispatch(buf.slice(0, idx)); buf = buf.slice(idx + 2); }
        buf += keep;
        return pump();
      });
    }
    return pump();
  }

  // ---------- styles ----------
  var CSS = [
    ':host{all:initial}',
    '.pw{--pw-primary:#2f6fed;--pw-on:#fff;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d2330;-webkit-font-smoothing:antialiased}',
    '.pw *,.pw *::before,.pw *::after{box-sizing:border-box}',
    // :where() keeps the reset at zero specificity so component rules below win.
    ':where(.pw) :where(button,input,textarea){font:inherit;color:inherit;margin:0}',
    ':where(.pw) button{cursor:pointer}',
    '.pw :focus-visible{outline:3px solid var(--pw-primary);outline-offset:2px}',
    '.sr{position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}',
    'svg{width:22px;height:22px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}',
    '.launcher{position:fixed;bottom:20px;right:20px;z-index:2147483646;width:58px;height:58px;border-radius:50%;border:0;background:var(--pw-primary);color:var(--pw-on);display:flex;align-items:center;justify-content:center;box-shadow:0 6px 20px rgba(0,0,0,.25)}',
    '.launcher svg{width:28px;height:28px}',
    '.left .launcher{right:auto;left:20px}',
    '.panel{position:fixed;bottom:90px;right:20px;z-index:2147483647;width:380px;height:min(620px,calc(100vh - 110px));display:flex;flex-direction:column;background:#fff;border-radius:16px;overflow:hidden;box-shadow:0 12px 40px rgba(0,0,0,.25)}',
    '.left .panel{right:auto;left:20px}',
    '.panel[hidden],.launcher[hidden],[hidden]{display:none!important}',
    '.full .panel{position:fixed;inset:0;width:100%;height:100%;max-width:none;border-radius:0;box-shadow:none}',
    '.full .inner{width:100%;max-width:760px;margin:0 auto}',
    // Full page: footer rows line up with the centred 760px column of messages.
    '.full .composer,.full .actions,.full .banner,.full .counter,.full header{padding-left:max(12px,calc(50% - 368px));padding-right:max(12px,calc(50% - 368px))}',
    'header{display:flex;align-items:center;gap:10px;padding:12px 12px 12px 16px;background:var(--pw-primary);color:var(--pw-on);flex:none}',
    'header .avatar{width:34px;height:34px;border-radius:50%;object-fit:cover;background:rgba(255,255,255,.3);flex:none}',
    'header h2{flex:1;margin:0;font-size:16px;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}',
    '.icon-btn{width:36px;height:36px;border:0;border-radius:8px;background:transparent;color:inherit;display:flex;align-items:center;justify-content:center;flex:none}',
    '.icon-btn:hover{background:rgba(255,255,255,.18)}',
    '.body{flex:1;overflow-y:auto;background:#f6f7f9;overscroll-behavior:contain}',
    '.log{display:flex;flex-direction:column;gap:10px;padding:16px}',
    '.msg{max-width:86%;padding:9px 13px;border-radius:14px;word-wrap:break-word;overflow-wrap:anywhere}',
    '.msg.user{align-self:flex-end;background:var(--pw-primary);color:var(--pw-on);border-bottom-right-radius:4px;white-space:pre-wrap}',
    '.msg.bot{align-self:flex-start;background:#fff;border:1px solid #e3e6eb;border-bottom-left-radius:4px}',
    '.msg.staff{background:#f3f7ff;border-left:3px solid var(--pw-primary)}',
    '.msg .who{display:block;font-size:12px;font-weight:600;color:#3b4352;margin-bottom:3px}',
    '.msg.note{align-self:center;background:#eef1f5;color:#3b4352;font-size:13.5px;text-align:center;max-width:92%}',
    '.msg p{margin:0 0 .5em}.msg p:last-child{margin-bottom:0}',
    '.msg .md-h{font-weight:700}',
    '.msg ul,.msg ol{margin:.2em 0 .5em;padding-left:1.3em}',
    '.msg pre{margin:.4em 0;padding:8px;background:#f1f3f6;border-radius:6px;overflow-x:auto;font-size:13px}',
    '.msg code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em;background:#f1f3f6;padding:0 3px;border-radius:3px}',
    '.msg pre code{background:none;padding:0}',
    '.msg blockquote{margin:.3em 0;padding-left:10px;border-left:3px solid #d5d9e0;color:#4a5262}',
    '.msg a{color:var(--pw-primary);text-decoration:underline}',
    '.msg img{max-width:100%;border-radius:6px}',
    '.img-alt{font-style:italic;color:#5b6373}',
    '.msg .warn{margin-top:6px;font-size:13px;color:#9a3412}',
    '.sources{margin-top:8px;border-top:1px solid #eceef2;padding-top:6px;font-size:13.5px}',
    '.sources h3{margin:0 0 4px;font-size:12px;font-weight:600;text-transform:uppercase;letter-spacing:.04em;color:#5b6373}',
    '.sources details{margin:2px 0}',
    '.sources summary{cursor:pointer;color:#27407a}',
    '.sources blockquote{margin:4px 0 6px;white-space:pre-wrap;font-size:13px}',
    '.fb{display:flex;align-items:center;gap:4px;margin-top:6px}',
    '.fb button{width:30px;height:30px;border:1px solid #e3e6eb;border-radius:8px;background:#fff;color:#5b6373;display:flex;align-items:center;justify-content:center}',
    '.fb button svg{width:17px;height:17px}',
    '.fb button[aria-pressed=true]{background:var(--pw-primary);color:var(--pw-on);border-color:var(--pw-primary)}',
    '.fb span{font-size:12.5px;color:#5b6373;margin-left:4px}',
    '.why{display:flex;flex-wrap:wrap;justify-content:flex-end;gap:6px;margin-top:6px}',
    '.why input{flex:1 1 200px;min-width:0;border:1px solid #cfd4dc;border-radius:8px;padding:6px 9px;font-size:16px;background:#fff}',
    '.why button{border:1px solid var(--pw-primary);background:var(--pw-primary);color:var(--pw-on);border-radius:8px;padding:5px 10px;font-size:13px}',
    '.typing{display:flex;gap:4px;padding:13px}',
    '.typing i{width:7px;height:7px;border-radius:50%;background:#9aa3b2;animation:pw-b 1.2s infinite ease-in-out}',
    '.typing i:nth-child(2){animation-delay:.15s}.typing i:nth-child(3){animation-delay:.3s}',
    '@keyframes pw-b{0%,80%,100%{opacity:.3;transform:translateY(0)}40%{opacity:1;transform:translateY(-3px)}}',
    '@media (prefers-reduced-motion:reduce){.typing i{animation:none}}',
    '.starters{display:flex;flex-wrap:wrap;gap:8px;padding:0 16px 12px}',
    '.starters button{border:1px solid var(--pw-primary);color:var(--pw-primary);background:#fff;border-radius:16px;padding:6px 12px;font-size:14px;text-align:left}',
    '.banner{flex:none;padding:8px 14px;font-size:13.5px;background:#fff4e5;color:#7a3e00;border-top:1px solid #f5d9b0;display:flex;align-items:center;gap:8px}',
    '.banner.error{background:#fdecec;color:#8a1c1c;border-color:#f3c4c4}',
    '.banner span{flex:1}',
    '.banner button{border:1px solid currentColor;background:transparent;border-radius:6px;padding:3px 10px;font-size:13px}',
    '.actions{flex:none;display:flex;justify-content:flex-end;padding:4px 12px 0;background:#fff;border-top:1px solid #eceef2}',
    '.link-btn{border:0;background:none;color:#3b4352;font-size:13px;text-decoration:underline;padding:4px}',
    'form.composer{flex:none;display:flex;align-items:flex-end;gap:8px;padding:8px 12px 12px;background:#fff}',
    '.composer textarea{flex:1;resize:none;border:1px solid #cfd4dc;border-radius:12px;padding:9px 12px;min-height:42px;max-height:120px;font-size:16px;line-height:1.35;background:#fff}',
    '.composer textarea[aria-invalid=true]{border-color:#c62828}',
    '.handing-off .composer,.handing-off .actions,.handing-off .counter{display:none}',
    '.send{width:42px;height:42px;border:0;border-radius:50%;background:var(--pw-primary);color:var(--pw-on);display:flex;align-items:center;justify-content:center;flex:none}',
    '.send:disabled{opacity:.45;cursor:default}',
    '.counter{flex:none;font-size:12px;color:#5b6373;padding:0 14px;background:#fff;text-align:right}',
    '.counter.over{color:#c62828;font-weight:600}',
    '.handoff{padding:16px;display:flex;flex-direction:column;gap:10px}',
    '.handoff p{margin:0}',
    '.handoff label{display:flex;flex-direction:column;gap:3px;font-size:13.5px;font-weight:600}',
    '.handoff input,.handoff textarea{border:1px solid #cfd4dc;border-radius:8px;padding:8px 10px;font-weight:400;font-size:16px;resize:vertical;background:#fff}',
    '.handoff .err{color:#8a1c1c;font-size:13.5px;min-height:1em}',
    '.handoff .row{display:flex;gap:8px;justify-content:flex-end}',
    '.handoff .row button{border-radius:8px;padding:8px 14px;border:1px solid #cfd4dc;background:#fff}',
    '.handoff .row button[type=submit]{background:var(--pw-primary);color:var(--pw-on);border-color:var(--pw-primary)}',
    '@media (max-width:480px){.pw:not(.full) .panel{inset:0;width:100%;height:100%;border-radius:0}.pw.is-open:not(.full) .launcher{display:none}}'
  ].join('\n');

  // ---------- theming ----------
  function hexColor(v) { return /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(v || '') ? v : null; }
  function textOn(hex) {
    var x = hex.length === 4 ? hex.replace(/[0-9a-f]/gi, '$&$&').slice(1) : hex.slice(1);
    var c = [0, 2, 4].map(function (i) {
      var v = parseInt(x.substr(i, 2), 16) / 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    var lum = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    return lum > 0.4 ? '#111' : '#fff';
  }
  function pickLanguage(lang) {
    if (!lang || lang === 'auto') lang = (navigator.language || 'en');
    return I18N[String(lang).slice(0, 2).toLowerCase()] ? String(lang).slice(0, 2).toLowerCase() : 'en';
  }

  // ---------- UI ----------
  function build() {
    var host = document.createElement('prompteur-widget');
    // Inline !important beats any page rule aimed at our host element.
    host.style.setProperty('all', 'initial', 'important');
    var shadow = host.attachShadow({ mode: 'open' });
    if (shadow.adoptedStyleSheets && window.CSSStyleSheet && 'replaceSync' in CSSStyleSheet.prototype) {
      var sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); shadow.adoptedStyleSheets = [sheet];
    } else {
      shadow.appendChild(h('style', { text: CSS }));
    }
    E.root = h('div', { class: 'pw' + (FULL ? ' full' : '') });
    E.launcher = h('button', {
      class: 'launcher', type: 'button', 'aria-expanded': 'false', 'aria-controls': 'pw-panel',
      hidden: FULL, onclick: function () { setOpen(!S.open); }
    }, [icon('chat')]);
    E.avatar = h('img', { class: 'avatar', alt: '', hidden: true });
    E.title = h('h2', { id: 'pw-title' });
    E.newBtn = h('button', { class: 'icon-btn', type: 'button', onclick: newConversation }, [icon('plus')]);
    E.closeBtn = h('button', { class: 'icon-btn', type: 'button', hidden: FULL, onclick: function () { setOpen(false); } }, [icon('close')]);
    E.log = h('div', { class: 'log inner', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions' });
    E.starters = h('div', { class: 'starters inner' });
    E.handoffView = h('div', { class: 'handoff inner', hidden: true });
    E.body = h('div', { class: 'body' }, [E.log, E.starters, E.handoffView]);
    E.status = h('div', { class: 'sr', role: 'status' });
    E.bannerText = h('span', { 'aria-hidden': 'true' });
    E.bannerBtn = h('button', { type: 'button', hidden: true });
    E.banner = h('div', { class: 'banner', hidden: true }, [E.bannerText, E.bannerBtn]);
    E.alert = h('div', { class: 'sr', role: 'alert' });
    E.handoffBtn = h('button', { class: 'link-btn', type: 'button', onclick: openHandoff });
    E.actions = h('div', { class: 'actions', hidden: true }, [E.handoffBtn]);
    E.input = h('textarea', { rows: '1', 'aria-describedby': 'pw-counter', oninput: onInput, onkeydown: onKey });
    E.send = h('button', { class: 'send', type: 'submit' }, [icon('send')]);
    E.counter = h('div', { class: 'counter', id: 'pw-counter', hidden: true });
    E.composer = h('form', { class: 'composer', onsubmit: function (e) { e.preventDefault(); send(E.input.value); } }, [E.input, E.send]);
    E.panel = h('section', {
      class: 'panel', id: 'pw-panel', role: FULL ? 'main' : 'dialog', 'aria-labelledby': 'pw-title',
      hidden: !FULL, onkeydown: function (e) {
        if (e.key === 'Tab') keepFocusInside(e);
        if (e.key !== 'Escape') return;
        if (!E.handoffView.hidden) closeHandoff(); else if (!FULL) setOpen(false);
      }
    }, [h('header', null, [E.avatar, E.title, E.newBtn, E.closeBtn]), E.body, E.banner, E.actions, E.counter, E.composer, E.status, E.alert]);
    E.root.appendChild(E.launcher);
    E.root.appendChild(E.panel);
    shadow.appendChild(E.root);
    document.body.appendChild(host);
  }

  function applyConfig(cfg) {
    S.config = cfg;
    var page = PAGE_IMAGES == null ? null : PAGE_IMAGES.split(/\s+/).map(originOf);
    IMAGE_ORIGINS = (Array.isArray(cfg.image_origins) ? cfg.image_origins : []).map(originOf).filter(function (o) {
      return o && (!page || page.indexOf(o) >= 0);
    });
    var lang = pickLanguage(cfg.language);
    S.t = I18N[lang];
    var t = S.t, color = hexColor(cfg.theme && cfg.theme.primary) || '#2f6fed';
    E.root.setAttribute('lang', lang);
    E.root.style.setProperty('--pw-primary', color);
    E.root.style.setProperty('--pw-on', textOn(color));
    E.root.classList.toggle('left', !!(cfg.theme && cfg.theme.position === 'left'));
    E.title.textContent = cfg.title || t.bot;
    if (FULL && cfg.title) document.title = cfg.title;
    var avatar = cfg.avatar_url && safeHref(cfg.avatar_url);
    if (avatar && /^https?:/.test(avatar)) { E.avatar.src = avatar; E.avatar.hidden = false; } else E.avatar.hidden = true;
    E.launcher.setAttribute('aria-label', t.open);
    E.newBtn.setAttribute('aria-label', t.newConv); E.newBtn.title = t.newConv;
    E.closeBtn.setAttribute('aria-label', t.close); E.closeBtn.title = t.close;
    E.input.placeholder = t.placeholder; E.input.setAttribute('aria-label', t.placeholder);
    E.send.setAttribute('aria-label', t.send);
    var handoff = cfg.handoff || {};
    E.handoffBtn.textContent = handoff.label || t.human;
    E.actions.hidden = !handoff.enabled;
  }

  function setOpen(open) {
    S.open = open;
    E.panel.hidden = !open;
    E.root.classList.toggle('is-open', open);
    E.launcher.setAttribute('aria-expanded', String(open));
    E.launcher.setAttribute('aria-label', open ? S.t.close : S.t.open);
    E.launcher.replaceChild(icon(open ? 'close' : 'chat'), E.launcher.firstChild);
    rememberOpen(open);
    if (open) { start(); E.input.focus(); } else E.launcher.focus();
  }

  // On a phone the panel covers the page, so Tab must not wander off to what's hidden under it.
  function keepFocusInside(e) {
    if (FULL || !window.matchMedia('(max-width:480px)').matches) return;
    var all = Array.prototype.filter.call(
      E.panel.querySelectorAll('button,textarea,input,a[href],summary'),
      function (el) { return !el.disabled && el.offsetParent !== null; });
    var first = all[0], last = all[all.length - 1], active = E.panel.getRootNode().activeElement;
    if (e.shiftKey && active === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && active === last) { e.preventDefault(); first.focus(); }
  }
  function scrollDown() { E.body.scrollTop = E.body.scrollHeight; }
  function announce(text) { E.status.textContent = ''; setTimeout(function () { E.status.textContent = text; }, 50); }

  function showBanner(text, kind, button) {
    E.banner.hidden = false;
    E.banner.className = 'banner' + (kind === 'error' ? ' error' : '');
    E.bannerText.textContent = text;
    E.bannerBtn.hidden = !button;
    if (button) { E.bannerBtn.textContent = button.label; E.bannerBtn.onclick = button.onclick; }
  }
  function hideBanner() { E.banner.hidden = true; }
  // The banner's visible text can tick (countdown); screen readers hear it once, via the alert.
  function alertOnce(text) { E.alert.textContent = ''; setTimeout(function () { E.alert.textContent = text; }, 50); }

  function addNote(text) { E.log.appendChild(h('div', { class: 'msg note', text: text })); scrollDown(); }

  function addUser(text) {
    var el = h('div', { class: 'msg user' }, [h('span', { class: 'sr', text: S.t.you + ': ' }), text]);
    E.log.appendChild(el); scrollDown();
    return el;
  }
  function addBot(text) {
    var content = h('div', { class: 'content' });
    var el = h('div', { class: 'msg bot' }, [h('span', { class: 'sr', text: S.t.bot + ': ' }), content]);
    var msg = { el: el, content: content, text: text || '' };
    content.appendChild(renderMarkdown(msg.text));
    E.log.appendChild(el); scrollDown();
    return msg;
  }
  // A person's reply from the team's inbox: labelled, and styled apart from the bot's answers.
  function addStaff(m) {
    S.seen[m.id] = true;
    var el = h('div', { class: 'msg bot staff' }, [h('span', { class: 'who', text: S.t.staff }), renderMarkdown(m.content || '')]);
    E.log.appendChild(el); scrollDown();
  }
  function setBotText(msg, text) {
    msg.text = text;
    msg.content.textContent = '';
    msg.content.appendChild(renderMarkdown(text));
  }
  function addSources(msg, citations) {
    if (!citations || !citations.length) return;
    var box = h('div', { class: 'sources' }, [h('h3', { text: S.t.sources })]);
    // Several passages of one page are one source to a reader: one entry, all their snippets.
    var entries = {}, order = [];
    citations.forEach(function (c) {
      var label = String(c.source || '?') + (c.page != null ? ' (' + fmt(S.t.page, { n: c.page }) + ')' : '');
      if (!entries[label]) { entries[label] = { source: c.source || '', snippets: [] }; order.push(label); }
      if (c.snippet) entries[label].snippets.push(c.snippet);
    });
    order.forEach(function (label) {
      var e = entries[label];
      var url = /^https?:/i.test(e.source) ? safeHref(e.source) : null;
      var body = [h('summary', null, [label])];
      // Passages are Markdown (loaders write links as [words](address)): the same safe
      // renderer as answers, so a link shows as a link and markup stays inert.
      e.snippets.forEach(function (snippet) { body.push(inline(h('blockquote'), snippet)); });
      if (url) body.push(link(url, url));
      box.appendChild(h('details', null, body));
    });
    msg.el.appendChild(box);
  }
  function addFeedback(msg, messageId, current) {
    if (!messageId) return;
    var note = h('span', { role: 'status' });
    var up = h('button', { type: 'button', 'aria-label': S.t.helpful, title: S.t.helpful, 'aria-pressed': 'false' }, [icon('thumb')]);
    var down = h('button', { type: 'button', 'aria-label': S.t.notHelpful, title: S.t.notHelpful, 'aria-pressed': 'false' }, [icon('thumb', true)]);
    function mark(rating) {
      up.setAttribute('aria-pressed', String(rating === 'up'));
      down.setAttribute('aria-pressed', String(rating === 'down'));
    }
    var why = null;
    function rate(rating, comment) {
      return authedJson('POST', '/messages/' + encodeURIComponent(messageId) + '/feedback', { rating: rating, comment: comment || '' })
        .then(function () { mark(rating); note.textContent = S.t.thanks; return true; }, handleError);
    }
    function dropWhy() { if (why) why.remove(); why = null; }
    // A thumbs-down is stored at once; the comment box after it is optional.
    function askWhy() {
      if (why) return;
      var input = h('input', { type: 'text', maxlength: '500', 'aria-label': S.t.why, placeholder: S.t.why });
      why = h('form', { class: 'why' }, [input, h('button', { type: 'submit', text: S.t.sendWhy })]);
      why.addEventListener('submit', function (e) {
        e.preventDefault();
        var comment = input.value.trim();
        if (!comment) { dropWhy(); return; }
        rate('down', comment).then(function (ok) { if (ok) { dropWhy(); down.focus(); } });
      });
      msg.el.appendChild(why); scrollDown();
      input.focus();
    }
    up.addEventListener('click', function () { rate('up').then(function (ok) { if (ok) dropWhy(); }); });
    down.addEventListener('click', function () { rate('down').then(function (ok) { if (ok) askWhy(); }); });
    mark(current && typeof current === 'object' ? current.rating : current);
    msg.el.appendChild(h('div', { class: 'fb' }, [up, down, note]));
  }
  function interrupted(msg) { msg.el.appendChild(h('div', { class: 'warn', text: S.t.interrupted })); }
  function showTyping() {
    var el = h('div', { class: 'msg bot typing', 'aria-hidden': 'true' }, [h('i'), h('i'), h('i')]);
    E.log.appendChild(el); scrollDown();
    announce(S.t.typing);
    return el;
  }

  function showWelcome() {
    var cfg = S.config || {};
    if (cfg.welcome) addBot(cfg.welcome);
    E.starters.textContent = '';
    var starters = Array.isArray(cfg.starters) ? cfg.starters : [];
    starters.forEach(function (q) {
      E.starters.appendChild(h('button', { type: 'button', text: String(q), onclick: function () { send(String(q)); } }));
    });
    E.starters.hidden = !starters.length;
  }
  function resetLog() {
    E.log.textContent = '';
    E.starters.hidden = true;
    showWelcome();
  }
  function renderHistory(messages) {
    E.log.textContent = '';
    E.starters.hidden = true;
    if (!messages.length) { showWelcome(); return; }
    messages.forEach(function (m) {
      if (m.role === 'user') { addUser(m.content); return; }
      if (m.role === 'staff') { addStaff(m); return; }
      var msg = addBot(m.content);
      addSources(msg, m.citations);
      if (m.partial) interrupted(msg); else addFeedback(msg, m.id, m.feedback);
    });
    scrollDown();
  }

  function loadHistory() {
    if (!S.session || !S.session.conversation_id) { resetLog(); return Promise.resolve(); }
    // Refresh first: an expired token may come back bound to a fresh conversation.
    return ensureSession(false).then(function (s) {
      return authedJson('GET', '/conversations/' + encodeURIComponent(s.conversation_id));
    }).then(function (data) {
      renderHistory((data && data.messages) || []);
      if (S.session && S.session.waiting) startPolling();
    }, function (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 403)) { saveSession(null); resetLog(); return; }
      throw err;
    });
  }

  function start() {
    if (S.started) return;
    S.started = true;
    if (S.offline) { unreachable(); return; }
    loadHistory().catch(function (err) { S.started = false; resetLog(); handleError(err); });
  }

  // Only new staff messages are added: the rest of the log (notes included) stays as it is.
  function pollStaff() {
    if (S.busy || !S.session || !(S.open || FULL) || document.hidden) return;
    authedJson('GET', '/conversations/' + encodeURIComponent(S.session.conversation_id)).then(function (data) {
      ((data && data.messages) || []).forEach(function (m) {
        if (m.role === 'staff' && !S.seen[m.id]) { addStaff(m); announce(S.t.staffReplied); }
      });
    }, function () { /* the next tick tries again; a real outage shows when they send */ });
  }
  function startPolling() {
    if (!S.poller) S.poller = setInterval(pollStaff, POLL_MS);
  }
  function stopPolling() { clearInterval(S.poller); S.poller = null; }

  function newConversation() {
    stopPolling();
    saveSession(null);
    closeHandoff();
    hideBanner();
    resetLog();
    E.input.focus();
  }

  // ---------- composer ----------
  function onInput() {
    E.input.style.height = 'auto';
    E.input.style.height = Math.min(E.input.scrollHeight, 120) + 'px';
    var n = E.input.value.length, over = n > MAX_CHARS;
    E.counter.hidden = n < MAX_CHARS * 0.8;
    E.counter.textContent = over ? fmt(S.t.tooLong, { n: n, max: MAX_CHARS }) : n + '/' + MAX_CHARS;
    E.counter.classList.toggle('over', over);
    E.input.setAttribute('aria-invalid', String(over));
    updateSend();
  }
  function onKey(e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(E.input.value); }
  }
  function updateSend() {
    E.send.disabled = S.busy || Date.now() < S.blockedUntil || E.input.value.length > MAX_CHARS;
  }

  function send(raw) {
    var text = String(raw || '').trim();
    if (!text || S.busy || Date.now() < S.blockedUntil) return;
    if (text.length > MAX_CHARS) { tooLong(fmt(S.t.tooLong, { n: text.length, max: MAX_CHARS })); return; }
    S.busy = true; updateSend();
    E.starters.hidden = true;
    if (!E.handoffView.hidden) closeHandoff();
    var userEl = addUser(text);
    E.input.value = ''; onInput();
    var typing = showTyping(), msg = null, meta = {}, citations = [], failure = null, accepted = false;
    var pending = false, buffer = '';
    function ensureMsg() {
      if (!msg) { typing.remove(); msg = addBot(''); E.log.setAttribute('aria-busy', 'true'); }
      return msg;
    }
    function paint() { pending = false; setBotText(ensureMsg(), buffer); scrollDown(); }
    function body(s) { return { message: text, conversation_id: s.conversation_id, stream: true }; }

    return authed('POST', '/chat', body).then(function (resp) {
      if (!resp.ok) return toError(resp).then(function (e) { throw e; });
      accepted = true;
      hideBanner();
      return readEvents(resp, function (name, d) {
        if (name === 'start') { meta.message_id = d.message_id; ensureMsg(); }
        else if (name === 'delta') {
          buffer += d.text || '';
          if (!pending) { pending = true; requestAnimationFrame(paint); }
        } else if (name === 'citations') citations = d.citations || [];
        else if (name === 'done') {
          meta.done = true; meta.message_id = d.message_id || meta.message_id; meta.handoff = d.handoff;
          // The stored answer is the final word, should cleaning have changed streamed text.
          if (typeof d.text === 'string') buffer = d.text;
        }
        else if (name === 'error') failure = new ApiError(0, d.code, d.message, d.retry_after || 0);
      });
    }).then(function () {
      if (msg && !buffer && failure) { msg.el.remove(); msg = null; }
      if (msg || buffer) {
        paint();
        addSources(msg, citations);
        if (meta.done) addFeedback(msg, meta.message_id);
        else interrupted(msg);
      }
      if (meta.done && meta.handoff && !E.actions.hidden) E.handoffBtn.focus();
      if (failure) handleError(failure);
      else if (!meta.done) reconnect();
    }).catch(function (err) {
      if (!accepted) {
        // The server never took the message: give it back so nothing typed is lost.
        userEl.remove();
        if (!E.input.value) { E.input.value = text; onInput(); }
      } else if (msg) interrupted(msg);
      if (accepted && err instanceof TypeError) reconnect(); else handleError(err);
    }).then(function () {
      typing.remove();
      E.log.removeAttribute('aria-busy');
      S.busy = false; updateSend();
    });
  }

  // ---------- states ----------
  function handleError(err) {
    if (!(err instanceof ApiError)) { unreachable(); return; }
    if (err.status === 429 || err.code === 'rate_limited') { rateLimited(err.retryAfter || 10); return; }
    if (err.status === 413 || /too_long/.test(err.code || '')) { tooLong(err.message || fmt(S.t.tooLong, { n: E.input.value.length, max: MAX_CHARS })); return; }
    var text = S.t.failed;
    if (err.status === 403 && !S.session) text = S.t.unavailable;
    else if (err.message) text = err.message;
    if (err.status === 403) console.warn('Prompteur widget:', err.message);
    showBanner(text, 'error');
    alertOnce(text);
  }
  function tooLong(text) {
    showBanner(text, 'error');
    alertOnce(text);
    E.input.setAttribute('aria-invalid', 'true');
    E.input.focus();
  }
  var countdown = null;
  function waitText(n) { return n === 1 ? S.t.rateLimited1 : fmt(S.t.rateLimited, { n: n }); }
  function rateLimited(seconds) {
    S.blockedUntil = Date.now() + seconds * 1000;
    updateSend();
    clearInterval(countdown);
    function tick() {
      var left = Math.ceil((S.blockedUntil - Date.now()) / 1000);
      if (left <= 0) {
        clearInterval(countdown); hideBanner(); updateSend(); announce(S.t.canSend);
        return;
      }
      showBanner(waitText(left), 'warn');
    }
    tick();
    alertOnce(waitText(seconds));
    countdown = setInterval(tick, 1000);
  }

  var probing = false;
  // Polls the public config endpoint (cheap, no auth) until the server answers again.
  function unreachable() {
    showBanner(S.t.unreachable, 'error', { label: S.t.retry, onclick: function () { probe(0); } });
    alertOnce(S.t.unreachable);
    if (!probing) probe(3000);
  }
  function probe(wait) {
    probing = true;
    return sleep(wait).then(fetchConfig).then(function (cfg) {
      probing = false;
      var wasOffline = S.offline;
      S.offline = false;
      applyConfig(cfg);
      hideBanner();
      announce(S.t.reconnected);
      if (wasOffline || !S.started) { S.started = false; if (S.open || FULL) start(); }
    }, function () {
      return probe(Math.min(Math.max(wait * 2, 3000), 30000));
    });
  }
  // The stream broke mid-answer: poll the conversation until the server is back, then show
  // what it stored. After a few tries the customer is told it's down, but polling goes on.
  function reconnect() {
    showBanner(S.t.reconnecting, 'warn');
    alertOnce(S.t.reconnecting);
    var attempt = 0, done = false;
    function settle() { if (!done) { done = true; hideBanner(); announce(S.t.reconnected); } }
    function fail(err) {
      if (done) return;
      if (err instanceof ApiError) { done = true; handleError(err); return; }
      if (++attempt === 5) {
        showBanner(S.t.unreachable, 'error', { label: S.t.retry, onclick: function () { loadHistory().then(settle, function () {}); } });
        alertOnce(S.t.unreachable);
      }
      sleep(Math.min(1000 * attempt, 10000)).then(loadHistory).then(settle, fail);
    }
    sleep(1000).then(loadHistory).then(settle, fail);
  }

  // ---------- talk to a human ----------
  function openHandoff() {
    var t = S.t, v = E.handoffView;
    v.textContent = '';
    var name = h('input', { name: 'name', autocomplete: 'name', required: true });
    var email = h('input', { name: 'email', type: 'email', autocomplete: 'email' });
    var phone = h('input', { name: 'phone', type: 'tel', autocomplete: 'tel' });
    var message = h('textarea', { name: 'message', rows: '4', required: true });
    message.value = E.input.value;
    var err = h('div', { class: 'err', role: 'alert' });
    var submit = h('button', { type: 'submit', text: t.submit });
    var form = h('form', { class: 'handoff-form', novalidate: true }, [
      h('p', { text: t.handoffIntro }),
      h('label', null, [t.name, name]), h('label', null, [t.email, email]),
      h('label', null, [t.phone, phone]), h('label', null, [t.message, message]),
      err,
      h('div', { class: 'row' }, [h('button', { type: 'button', text: t.cancel, onclick: closeHandoff }), submit])
    ]);
    form.style.display = 'contents';
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var body = { name: name.value.trim(), message: message.value.trim() };
      if (email.value.trim()) body.email = email.value.trim();
      if (phone.value.trim()) body.phone = phone.value.trim();
      var problem = !body.name ? [t.needName, name] : !body.message ? [t.needMessage, message]
        : !body.email && !body.phone ? [t.needContact, email] : null;
      if (problem) { err.textContent = problem[0]; problem[1].focus(); return; }
      submit.disabled = true;
      ensureSession(false).then(function (s) {
        return authedJson('POST', '/conversations/' + encodeURIComponent(s.conversation_id) + '/handoff', body);
      }).then(function () {
        closeHandoff();
        addNote(fmt(t.handoffDone, { name: body.name }));
        if (S.session) { S.session.waiting = true; saveSession(S.session); }
        startPolling();
        if (E.input.value === body.message) { E.input.value = ''; onInput(); }
      }, function (e2) {
        submit.disabled = false;
        err.textContent = e2 instanceof ApiError ? (e2.message || t.failed) : t.unreachable;
      });
    });
    v.appendChild(form);
    E.log.hidden = true; E.starters.hidden = true; v.hidden = false;
    E.root.classList.add('handing-off');
    E.body.scrollTop = 0;
    name.focus();
  }
  function closeHandoff() {
    if (E.handoffView.hidden) return;
    E.handoffView.hidden = true;
    E.handoffView.textContent = '';
    E.root.classList.remove('handing-off');
    E.log.hidden = false;
    scrollDown();
    E.input.focus();
  }

  // ---------- boot ----------
  function fetchConfig() {
    return fetch(apiUrl('/config'), { credentials: 'omit', cache: 'no-store' }).then(function (resp) {
      if (!resp.ok) return toError(resp).then(function (e) { throw e; });
      return resp.json();
    });
  }
  function boot() {
    if (!BOT) { console.warn('Prompteur widget: add data-bot="BOT_ID" to the script tag.'); return; }
    if (document.querySelector('prompteur-widget')) return;
    fetchConfig().then(function (cfg) {
      build(); applyConfig(cfg);
    }, function (err) {
      if (err instanceof ApiError) { console.warn('Prompteur widget: ' + (err.message || 'bot config unavailable')); return; }
      // Server down at page load: still show the bubble, so the customer sees why it's unavailable.
      build(); applyConfig({}); S.offline = true;
    }).then(function () {
      if (!E.root) return;
      if (FULL) start(); else if (wasOpen()) setOpen(true);
    });
  }
  if (document.body) boot(); else document.addEventListener('DOMContentLoaded', boot);
})();
