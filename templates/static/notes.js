// The notes app. Notes are decrypted and encrypted here, in the browser, with the owner's key,
// which never leaves it: the server stores and returns ciphertext (AES-256-GCM, the format of
// Micro.blog's notes), and sees plain text only for a note the owner shares.
'use strict';
(() => {
  const app = document.getElementById('app');
  if (!app) return;
  const API = app.dataset.api;
  const CSRF = app.dataset.csrf;
  const SITE = app.dataset.site;
  const KEY_STORE = 'micropubd.notes.key';
  const PENDING_STORE = 'micropubd.notes.pending';
  const $ = (id) => document.getElementById(id);
  const phone = window.matchMedia('(max-width: 760px)');
  const dark = window.matchMedia('(prefers-color-scheme: dark)');

  // ---- Encryption: "mkey" + 64 hex digits; base64(nonce 12 ‖ ciphertext ‖ tag 16). ----
  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  function parseKey(s) {
    s = s.trim();
    if (!/^mkey[0-9a-fA-F]{64}$/.test(s)) throw new Error('A notes key is "mkey" followed by 64 hex digits.');
    const raw = new Uint8Array(32);
    for (let i = 0; i < 32; i++) raw[i] = parseInt(s.substr(4 + 2 * i, 2), 16);
    return raw;
  }
  const importKey = (raw) => crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
  function toBase64(bytes) {
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }
  function fromBase64(s) {
    const bin = atob(s.replace(/\s+$/, ''));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  async function encrypt(key, text) {
    const nonce = crypto.getRandomValues(new Uint8Array(12));
    const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce }, key, new TextEncoder().encode(text)));
    const out = new Uint8Array(12 + sealed.length);
    out.set(nonce);
    out.set(sealed, 12);
    return toBase64(out);
  }
  async function decrypt(key, text) {
    const raw = fromBase64(text);
    if (raw.length < 28) throw new Error('too short to be a note');
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: raw.subarray(0, 12) }, key, raw.subarray(12));
    return new TextDecoder().decode(plain);
  }

  // ---- Hand-set order: the server's fractional keys (lowercase, compared byte-wise). ----
  const DIGITS = 'abcdefghijklmnopqrstuvwxyz';
  const digit = (s, i) => (i < s.length ? s.charCodeAt(i) - 97 : 0);
  const padded = (s, n) => (s.length >= n ? s.slice(0, n) : s + 'a'.repeat(n - s.length));
  function between(a, b) {
    let n = 0;
    while (b !== '' && n < b.length && digit(a, n) === digit(b, n)) n++;
    const lo = digit(a, n);
    const hi = b === '' ? 26 : digit(b, n);
    const prefix = b === '' ? padded(a, n) : b.slice(0, Math.min(n, b.length));
    if (hi - lo > 1) return prefix + DIGITS[(lo + hi) >> 1];
    if (b !== '' && b.length > n + 1) return b.slice(0, n + 1);
    return prefix + DIGITS[lo] + between(a.length > n + 1 ? a.slice(n + 1) : '', '');
  }
  // positionsFor gives the moved item a key between its new neighbours, or fresh keys for the
  // whole list when neighbours share a key.
  function positionsFor(ordered, movedId) {
    const i = ordered.findIndex((x) => x.id === movedId);
    const prev = i > 0 ? ordered[i - 1].position : '';
    const next = i < ordered.length - 1 ? ordered[i + 1].position : '';
    if (next === '' || prev < next) return { [movedId]: between(prev, next) };
    const all = {};
    let last = '';
    for (const x of ordered) { last = between(last, ''); all[x.id] = last; }
    return all;
  }

  // ---- Tags and titles, as the server reads them for shared notes. ----
  const TAG = /(?:^|[\s(\[,;])#([\p{L}\p{N}_][\p{L}\p{N}_/-]*)/gu;
  function tagsOf(text) {
    const out = [];
    const seen = new Set();
    let inCode = false;
    for (let line of text.split('\n')) {
      if (/^ {0,3}(```|~~~)/.test(line)) { inCode = !inCode; continue; }
      if (inCode) continue;
      line = line.replace(/`[^`]*`/g, '');
      for (const m of line.matchAll(TAG)) {
        const t = m[1].replace(/[/-]+$/, '');
        if (!/\p{L}/u.test(t) || seen.has(t.toLowerCase())) continue;
        seen.add(t.toLowerCase());
        out.push(t);
      }
    }
    return out;
  }
  function titleOf(text) {
    const line = text.split('\n').find((l) => l.trim() !== '') || '';
    return line.replace(/^\s*#{1,6}\s+/, '').replace(/[*_`~]/g, '').trim().slice(0, 80) || 'Untitled';
  }
  function excerptOf(text) {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    return lines.slice(1).join(' ').replace(/\[[ xX]\]/g, ' ').replace(/[#*_`>~[\]|-]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 120);
  }

  // ---- Markdown preview: marked (GitHub flavoured) sanitised by DOMPurify. ----
  // A task list item, in a quote or not: "- [ ] milk", "> 1. [x] bread".
  const TASK = /^((?:\s*>)*\s*(?:[-*+]|\d+[.)])\s+\[)([ xX])(\])/;
  // The renderer marks the boxes of task lists, so that a checkbox written as HTML in a note is
  // not counted among them.
  let markdown = null;
  function markdownRenderer() {
    if (!markdown) {
      markdown = new window.marked.Marked();
      markdown.use({ gfm: true, breaks: false, renderer: {
        checkbox({ checked }) { return '<input ' + (checked ? 'checked="" ' : '') + 'disabled="" type="checkbox" data-task=""> '; },
      } });
    }
    return markdown;
  }
  function renderMarkdown(target, text, interactive) {
    target.innerHTML = window.DOMPurify.sanitize(markdownRenderer().parse(text));
    for (const a of target.querySelectorAll('a[href]')) { a.target = '_blank'; a.rel = 'noopener noreferrer'; }
    target.querySelectorAll('input[type=checkbox]').forEach((box) => { if (!('task' in box.dataset)) box.disabled = true; });
    target.querySelectorAll('input[type=checkbox][data-task]').forEach((box, i) => {
      box.disabled = !interactive;
      box.dataset.task = String(i);
      const label = (box.parentElement ? box.parentElement.textContent : '').trim();
      box.setAttribute('aria-label', 'Done: ' + label);
    });
  }
  // toggleTask ticks or unticks the index-th task of the text (code blocks do not count).
  function toggleTask(text, index) {
    let n = 0;
    let inCode = false;
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (/^ {0,3}(```|~~~)/.test(lines[i])) { inCode = !inCode; continue; }
      if (inCode) continue;
      const m = TASK.exec(lines[i]);
      if (!m) continue;
      if (n++ === index) {
        lines[i] = lines[i].replace(TASK, (_, a, x, b) => a + (x === ' ' ? 'x' : ' ') + b);
        return lines.join('\n');
      }
    }
    return text;
  }

  // ---- The API. ----
  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }
  class OfflineError extends Error {}
  async function api(method, path, body, keepalive) {
    const opts = { method, credentials: 'same-origin', keepalive: !!keepalive, headers: { 'X-CSRF-Token': CSRF, Accept: 'application/json' } };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(API + path, opts);
    } catch (e) {
      throw new OfflineError('The server cannot be reached.');
    }
    let data = null;
    try { data = await resp.json(); } catch (e) { /* not JSON */ }
    if (resp.status === 401) {
      banner('You are signed out. <a href="' + SITE + 'auth/login?next=' + encodeURIComponent(location.pathname) + '">Sign in again</a>; unsaved text is kept in this browser.', true);
    }
    if (!resp.ok) throw new ApiError(resp.status, (data && data.error_description) || resp.statusText);
    return data;
  }

  // ---- State. ----
  const state = {
    key: null, keyString: '',
    notebooks: [],
    notes: new Map(), // id -> {item, plain, locked}
    notebookId: null, tag: '', query: '', sort: 'modified',
    current: null, // {id, notebookId, tmp, dirty, saving, again}
    selected: new Set(),
    retryDelay: 2000, retryTimer: 0, retrying: false,
  };

  function banner(html, isError) {
    const b = $('banner');
    if (!html) { b.hidden = true; return; }
    b.innerHTML = html;
    b.classList.toggle('error', !!isError);
    b.hidden = false;
  }
  function setStatus(text, kind) {
    const s = $('status');
    s.textContent = text;
    s.className = 'status' + (kind ? ' ' + kind : '');
  }
  const esc = (s) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  const fmtDate = (s) => new Date(s).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const notebookOf = (id) => state.notebooks.find((nb) => nb.id === id);
  const colorOf = (nb) => (dark.matches ? nb._microblog.colors.dark : nb._microblog.colors.light);

  async function decryptItem(item) {
    const n = { item, plain: item.content_text, locked: false };
    if (item._microblog.is_encrypted) {
      if (!state.key) { n.plain = ''; n.locked = true; return n; }
      try { n.plain = await decrypt(state.key, item.content_text); } catch (e) { n.plain = ''; n.locked = true; }
    }
    return n;
  }

  async function loadAll() {
    state.notebooks = (await api('GET', '/notebooks')).items;
    const items = [];
    for (const nb of state.notebooks) {
      for (let offset = 0; ; offset += 1000) {
        const page = (await api('GET', '/notebooks/' + nb.id + '?count=1000&offset=' + offset)).items;
        items.push(...page);
        if (page.length < 1000) break;
      }
    }
    const decrypted = await Promise.all(items.map(decryptItem));
    state.notes = new Map(decrypted.map((n) => [n.item.id, n]));
    if (state.notebookId === null || !notebookOf(state.notebookId)) state.notebookId = state.notebooks.length ? state.notebooks[0].id : null;
  }
  const encryptedNotes = () => [...state.notes.values()].filter((n) => n.item._microblog.is_encrypted);

  // ---- Rendering. ----
  function renderNotebooks() {
    const ul = $('notebooks');
    ul.replaceChildren();
    for (const nb of state.notebooks) {
      const count = [...state.notes.values()].filter((n) => n.item._microblog.notebook_id === nb.id).length;
      const li = document.createElement('li');
      li.draggable = true;
      li.dataset.id = nb.id;
      const current = !state.query && !state.tag && nb.id === state.notebookId;
      li.innerHTML = '<button type="button" class="nb" aria-current="' + current + '"><span class="swatch"></span><span class="name"></span><span class="count"></span></button>' +
        '<button type="button" class="edit" title="Edit notebook">⋯<span class="sr-only"></span></button>';
      li.querySelector('.swatch').style.background = colorOf(nb);
      li.querySelector('.name').textContent = nb.name;
      li.querySelector('.count').textContent = count;
      li.querySelector('.count').setAttribute('aria-label', count + ' notes');
      li.querySelector('.edit .sr-only').textContent = 'Edit notebook ' + nb.name;
      li.querySelector('.nb').addEventListener('click', () => { showNotebook(nb.id); });
      li.querySelector('.edit').addEventListener('click', () => editNotebook(nb));
      dragSort(li, nb.id, () => state.notebooks, (positions) => api('POST', '/reorder', { type: 'notebooks', positions }));
      ul.append(li);
    }
    const target = $('bulk-target');
    target.replaceChildren(...state.notebooks.map((nb) => new Option(nb.name, nb.id)));
  }

  function renderTags() {
    const counts = new Map();
    for (const n of state.notes.values()) {
      for (const t of tagsOf(n.plain)) {
        const k = t.toLowerCase();
        const c = counts.get(k) || { name: t, count: 0 };
        c.count++;
        counts.set(k, c);
      }
    }
    const ul = $('tags');
    ul.replaceChildren();
    const sorted = [...counts.values()].sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
    for (const t of sorted) {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = '#' + t.name;
      b.setAttribute('aria-pressed', String(state.tag.toLowerCase() === t.name.toLowerCase()));
      b.setAttribute('aria-label', 'Tag ' + t.name + ', ' + t.count + ' notes');
      b.addEventListener('click', () => {
        state.tag = state.tag.toLowerCase() === t.name.toLowerCase() ? '' : t.name;
        state.query = '';
        $('search').value = '';
        renderAll();
        closeSidebar();
      });
      li.append(b);
      ul.append(li);
    }
  }

  function visibleNotes() {
    let list = [...state.notes.values()];
    const q = state.query.trim().toLowerCase();
    if (q) list = list.filter((n) => n.plain.toLowerCase().includes(q));
    else if (state.tag) list = list.filter((n) => tagsOf(n.plain).some((t) => t.toLowerCase() === state.tag.toLowerCase()));
    else list = list.filter((n) => n.item._microblog.notebook_id === state.notebookId);
    if (state.sort === 'position' && !q && !state.tag) {
      list.sort((a, b) => (a.item._microblog.position < b.item._microblog.position ? -1 : a.item._microblog.position > b.item._microblog.position ? 1 : a.item.id - b.item.id));
    } else {
      list.sort((a, b) => (a.item.date_modified < b.item.date_modified ? 1 : a.item.date_modified > b.item.date_modified ? -1 : b.item.id - a.item.id));
    }
    return list;
  }

  function renderList() {
    const q = state.query.trim();
    const nb = notebookOf(state.notebookId);
    $('list-title').textContent = q ? 'Search: ' + q : state.tag ? '#' + state.tag : nb ? nb.name : 'Notes';
    const list = visibleNotes();
    const ul = $('notes');
    ul.replaceChildren();
    const byHand = state.sort === 'position' && !q && !state.tag;
    for (const n of list) {
      const li = document.createElement('li');
      li.dataset.id = n.item.id;
      const title = n.locked ? 'Locked: cannot be decrypted with this key' : titleOf(n.plain);
      li.innerHTML = '<input type="checkbox"><button type="button" class="open"><span class="title"></span><span class="excerpt"></span><span class="meta"></span></button>';
      const box = li.querySelector('input');
      box.checked = state.selected.has(n.item.id);
      box.setAttribute('aria-label', 'Select ' + title);
      box.addEventListener('change', () => {
        if (box.checked) state.selected.add(n.item.id); else state.selected.delete(n.item.id);
        renderBulk();
      });
      const open = li.querySelector('.open');
      open.setAttribute('aria-current', String(!!state.current && state.current.id === n.item.id));
      li.querySelector('.title').textContent = title;
      li.querySelector('.excerpt').textContent = n.locked ? '' : excerptOf(n.plain);
      let meta = fmtDate(n.item.date_modified);
      if (q || state.tag) { const book = notebookOf(n.item._microblog.notebook_id); if (book) meta += ' · ' + book.name; }
      li.querySelector('.meta').textContent = meta;
      if (n.item._microblog.is_shared) {
        const badge = document.createElement('span');
        badge.className = 'badge';
        badge.textContent = 'Shared';
        li.querySelector('.title').append(badge);
      }
      open.addEventListener('click', () => openNote(n.item.id));
      if (byHand) {
        li.draggable = true;
        dragSort(li, n.item.id, () => visibleNotes().map((x) => ({ id: x.item.id, position: x.item._microblog.position })),
          (positions) => api('POST', '/reorder', { notebook_id: state.notebookId, positions }));
      }
      ul.append(li);
    }
    const empty = $('empty');
    empty.hidden = list.length > 0;
    empty.textContent = q ? 'No note contains “' + q + '”.' : state.notebooks.length ? 'No notes here yet. Press New note.' : 'Make a notebook to start.';
    renderBulk();
  }

  function renderBulk() {
    for (const id of state.selected) if (!state.notes.has(id)) state.selected.delete(id);
    $('bulk').hidden = state.selected.size === 0;
    $('bulk-count').textContent = state.selected.size + ' selected';
  }

  function renderEditor() {
    const pane = $('editor-pane');
    const c = state.current;
    pane.classList.toggle('no-note', !c);
    if (!c) return;
    const n = c.id ? state.notes.get(c.id) : null;
    const shared = !!(n && n.item._microblog.is_shared);
    $('locked').hidden = !(n && n.locked);
    $('text').readOnly = !!(n && n.locked);
    $('shared-bar').hidden = !shared;
    if (shared) {
      $('shared-link').href = n.item._microblog.shared_url;
      $('shared-link').textContent = n.item._microblog.shared_url;
    }
    $('share').textContent = shared ? 'Unshare' : 'Share';
    for (const id of ['share', 'history', 'delete-note']) $(id).disabled = !c.id || !!(n && n.locked);
    if (!$('preview').hidden) renderMarkdown($('preview'), $('text').value, !(n && n.locked));
  }

  function renderAll() {
    renderNotebooks();
    renderTags();
    renderList();
    renderEditor();
  }

  // ---- Drag and drop ordering (notebooks, and notes in "My order"). ----
  let dragged = null;
  function dragSort(li, id, items, send) {
    li.addEventListener('dragstart', (e) => { dragged = { id, list: li.parentElement }; e.dataTransfer.effectAllowed = 'move'; e.dataTransfer.setData('text/plain', String(id)); });
    li.addEventListener('dragover', (e) => { if (dragged && dragged.list === li.parentElement) { e.preventDefault(); li.classList.add('drag-over'); } });
    li.addEventListener('dragleave', () => li.classList.remove('drag-over'));
    li.addEventListener('drop', async (e) => {
      e.preventDefault();
      li.classList.remove('drag-over');
      if (!dragged || dragged.id === id) return;
      const movedId = dragged.id;
      dragged = null;
      await moveBefore(items(), movedId, id, send);
    });
  }
  async function moveBefore(list, movedId, beforeId, send) {
    const ordered = list.map((x) => ({ id: x.id, position: x.position || (x._microblog && x._microblog.position) }));
    const moved = ordered.splice(ordered.findIndex((x) => x.id === movedId), 1)[0];
    const at = beforeId === null ? ordered.length : ordered.findIndex((x) => x.id === beforeId);
    ordered.splice(at, 0, moved);
    try {
      await send(positionsFor(ordered, movedId));
      await loadAll();
      renderAll();
    } catch (e) { banner(esc('Could not reorder: ' + e.message), true); }
  }

  // ---- Opening, writing and saving notes. ----
  function showNotebook(id) {
    state.notebookId = id;
    state.tag = '';
    state.query = '';
    $('search').value = '';
    renderAll();
    closeSidebar();
  }

  async function openNote(id) {
    await flushCurrent();
    const n = state.notes.get(id);
    if (!n) return;
    state.current = { id, notebookId: n.item._microblog.notebook_id, text: n.plain, seq: 0, dirty: false };
    $('text').value = n.plain;
    setStatus(n.locked ? '' : 'Saved');
    renderList();
    renderEditor();
    app.classList.add('view-editor');
    if (!n.locked) $('text').focus();
  }

  async function newNote() {
    await flushCurrent();
    if (!state.key) { askKey(); return; }
    let nbId = state.notebookId;
    if (nbId === null) {
      try {
        const nb = await api('POST', '/notebooks', { name: 'Notes' });
        state.notebooks.push(nb);
        nbId = state.notebookId = nb.id;
      } catch (e) { banner(esc('Could not make a notebook: ' + e.message), true); return; }
    }
    state.current = { id: null, notebookId: nbId, tmp: 'new-' + Date.now(), text: '', seq: 0, dirty: false };
    $('text').value = '';
    setStatus('New note: it is saved as you type');
    state.query = '';
    state.tag = '';
    $('search').value = '';
    renderAll();
    app.classList.add('view-editor');
    $('text').focus();
  }

  let debounce = 0;
  let stashTimer = 0;
  function onInput() {
    const c = state.current;
    if (!c) return;
    c.text = $('text').value;
    c.seq++;
    c.dirty = true;
    setStatus('Editing…');
    if (!$('preview').hidden) renderMarkdown($('preview'), c.text, true);
    clearTimeout(debounce);
    debounce = setTimeout(() => saveNote(c), 800);
    clearTimeout(stashTimer);
    stashTimer = setTimeout(() => stash(c), 250);
  }

  const pendingKey = (c) => (c.id ? String(c.id) : c.tmp);

  // stash keeps the newest text in the browser, encrypted, until the server has it: a tab
  // closed before the next save loses nothing.
  async function stash(c) {
    if (!c.dirty || !state.key) return;
    const seq = c.seq;
    const body = await saveBody(c, c.text);
    if (c.dirty && c.seq === seq) keepPending(pendingKey(c), body, seq);
  }

  // saveBody is what POST /notes gets: the ciphertext, or the plain text of a shared note.
  async function saveBody(c, text) {
    const n = c.id ? state.notes.get(c.id) : null;
    const body = { notebook_id: c.notebookId, text };
    if (c.id) body.id = c.id;
    if (n && n.item._microblog.is_shared) {
      body.is_encrypted = false;
    } else {
      body.text = await encrypt(state.key, text);
      body.is_encrypted = true;
    }
    return body;
  }

  // saveNote saves a note's newest text: after the save in flight, if there is one, so that
  // no keystroke is left behind when the owner moves on while a save is under way.
  async function saveNote(c) {
    if (c === state.current) clearTimeout(debounce);
    while (c.inflight) await c.inflight;
    const n = c.id ? state.notes.get(c.id) : null;
    if (!c.dirty || (n && n.locked) || !state.key) return;
    c.inflight = sendNote(c);
    try { await c.inflight; } finally { c.inflight = null; }
  }

  async function sendNote(c) {
    const text = c.text;
    const seq = c.seq;
    const key = pendingKey(c);
    c.dirty = false;
    if (state.current === c) setStatus('Saving…', 'saving');
    let body = null;
    try {
      body = await saveBody(c, text);
      keepPending(key, body, seq);
      const item = await api('POST', '', body, body.text.length < 60000);
      forgetPending(key, seq);
      c.id = item.id;
      c.tmp = '';
      state.notes.set(item.id, { item, plain: text, locked: false });
      state.retryDelay = 2000;
      if (state.current === c) setStatus(c.dirty ? 'Editing…' : 'Saved');
      renderNotebooks();
      renderTags();
      renderList();
      renderEditor();
    } catch (e) {
      c.dirty = true; // not saved: the next flush tries again
      if (body && (e instanceof OfflineError || (e instanceof ApiError && e.status >= 500))) {
        if (state.current === c) setStatus('Offline: kept in this browser, saved when back online', 'offline');
        scheduleRetry();
      } else {
        forgetPending(key, seq);
        if (state.current === c) setStatus('Not saved: ' + e.message, 'failed');
      }
    }
  }

  // flushCurrent saves the open note now if it has unsaved text, and waits for it.
  async function flushCurrent() {
    if (state.current) await saveNote(state.current);
  }

  // Saves waiting for the network are kept in the browser (as ciphertext) with the sequence
  // number of the text they hold, so that an older one never replaces a newer one.
  const pending = () => JSON.parse(localStorage.getItem(PENDING_STORE) || '{}');
  function keepPending(key, body, seq) {
    const p = pending();
    if (p[key] && p[key].seq > seq) return;
    p[key] = { body, seq };
    localStorage.setItem(PENDING_STORE, JSON.stringify(p));
  }
  function forgetPending(key, seq) {
    const p = pending();
    if (key in p && (seq === undefined || p[key].seq <= seq)) {
      delete p[key];
      localStorage.setItem(PENDING_STORE, JSON.stringify(p));
    }
  }
  function scheduleRetry() {
    clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(retryPending, state.retryDelay);
    state.retryDelay = Math.min(state.retryDelay * 2, 30000);
  }
  // retryPending sends what waits in the browser, one run at a time: two runs would create a
  // new note twice.
  async function retryPending() {
    clearTimeout(state.retryTimer);
    if (state.retrying || !state.key) return;
    state.retrying = true;
    try {
      for (const [key, entry] of Object.entries(pending())) {
        const c = state.current;
        if (c && pendingKey(c) === key) {
          c.dirty = true;
          await saveNote(c);
          if (c.dirty) return; // still offline; saveNote scheduled the next try
          continue;
        }
        try {
          const item = await api('POST', '', entry.body);
          forgetPending(key, entry.seq);
          state.notes.set(item.id, await decryptItem(item));
        } catch (e) {
          if (e instanceof OfflineError) { scheduleRetry(); return; }
          forgetPending(key, entry.seq); // the server refused it for good: say so rather than retry for ever
          banner(esc('A change saved while offline was refused: ' + e.message), true);
        }
      }
      renderAll();
    } finally {
      state.retrying = false;
    }
  }

  // ---- Share, history, delete. ----
  function confirmDialog(text, okLabel) {
    return new Promise((resolve) => {
      const d = $('confirm-dialog');
      $('confirm-text').textContent = text;
      $('confirm-ok').textContent = okLabel;
      d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
      d.returnValue = '';
      d.showModal();
      $('confirm-ok').focus();
    });
  }

  async function shareToggle() {
    await flushCurrent();
    const c = state.current;
    const n = c && c.id ? state.notes.get(c.id) : null;
    if (!n || n.locked) return;
    const text = $('text').value;
    try {
      if (n.item._microblog.is_shared) {
        if (!(await confirmDialog('Unshare this note? Its page stops working (410 Gone) and the note is stored encrypted again.', 'Unshare'))) return;
        const item = await api('POST', '', { id: n.item.id, text: await encrypt(state.key, text), is_encrypted: true, is_unsharing: true });
        state.notes.set(item.id, { item, plain: text, locked: false });
        setStatus('Unshared');
      } else {
        if (!(await confirmDialog('Share this note? Its text is published as a page on your site, at an address only people you give it to can find.', 'Share'))) return;
        const item = await api('POST', '', { id: n.item.id, text, is_encrypted: false, is_sharing: true });
        state.notes.set(item.id, { item, plain: text, locked: false });
        $('share-url').value = item._microblog.shared_url;
        $('share-open').href = item._microblog.shared_url;
        $('share-dialog').showModal();
        setStatus('Shared');
      }
    } catch (e) {
      setStatus((e instanceof OfflineError ? 'Offline: ' : 'Not done: ') + e.message, 'failed');
    }
    renderAll();
  }

  async function showHistory() {
    await flushCurrent();
    const c = state.current;
    if (!c || !c.id) return;
    let versions;
    try { versions = (await api('GET', '/' + c.id + '/versions')).items; } catch (e) { setStatus('History: ' + e.message, 'failed'); return; }
    const ul = $('versions');
    ul.replaceChildren();
    const preview = $('version-preview');
    preview.textContent = versions.length ? 'Choose a version to see it.' : 'No earlier versions yet (they are kept for 60 days).';
    const restore = $('version-restore');
    restore.disabled = true;
    let chosen = null;
    for (const v of versions) {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = fmtDate(v.date_published);
      b.setAttribute('aria-pressed', 'false');
      b.addEventListener('click', async () => {
        for (const other of ul.querySelectorAll('button')) other.setAttribute('aria-pressed', 'false');
        b.setAttribute('aria-pressed', 'true');
        try {
          chosen = v._microblog.is_encrypted ? await decrypt(state.key, v.content_text) : v.content_text;
          renderMarkdown(preview, chosen, false);
          restore.disabled = false;
        } catch (e) {
          chosen = null;
          preview.textContent = 'This version cannot be decrypted with this key.';
          restore.disabled = true;
        }
      });
      li.append(b);
      ul.append(li);
    }
    restore.onclick = () => {
      if (chosen === null) return;
      $('text').value = chosen;
      $('versions-dialog').close();
      onInput();
      saveNote(state.current);
    };
    $('versions-dialog').showModal();
  }

  async function deleteNotes(ids) {
    const what = ids.length === 1 ? 'this note' : ids.length + ' notes';
    if (!(await confirmDialog('Delete ' + what + '? Shared notes are taken down too. This cannot be undone.', 'Delete'))) return;
    try {
      await api('POST', '/delete', { id: ids });
      for (const id of ids) { state.notes.delete(id); state.selected.delete(id); forgetPending(String(id)); }
      if (state.current && ids.includes(state.current.id)) { state.current = null; app.classList.remove('view-editor'); }
      renderAll();
    } catch (e) { banner(esc('Not deleted: ' + e.message), true); }
  }

  // ---- Notebooks. ----
  const fullHex = (c) => (/^#[0-9a-f]{3}$/i.test(c) ? '#' + c[1] + c[1] + c[2] + c[2] + c[3] + c[3] : c);
  function editNotebook(nb) {
    const d = $('notebook-dialog');
    $('notebook-title').textContent = nb ? 'Notebook' : 'New notebook';
    $('notebook-name').value = nb ? nb.name : '';
    $('notebook-light').value = fullHex(nb ? nb._microblog.colors.light : '#fef9da');
    $('notebook-dark').value = fullHex(nb ? nb._microblog.colors.dark : '#1f252e');
    $('notebook-error').textContent = '';
    for (const id of ['notebook-up', 'notebook-down', 'notebook-delete']) $(id).hidden = !nb;
    const i = nb ? state.notebooks.indexOf(nb) : -1;
    $('notebook-up').disabled = i <= 0;
    $('notebook-down').disabled = i < 0 || i >= state.notebooks.length - 1;
    d.returnValue = '';
    d.onclose = async () => {
      if (d.returnValue !== 'save') return;
      const body = { name: $('notebook-name').value, color_light: $('notebook-light').value, color_dark: $('notebook-dark').value };
      if (nb) body.id = nb.id;
      try {
        const saved = await api('POST', '/notebooks', body);
        await loadAll();
        if (!nb) state.notebookId = saved.id;
        renderAll();
      } catch (e) { banner(esc('Notebook not saved: ' + e.message), true); }
    };
    $('notebook-up').onclick = () => { d.close(); moveNotebook(nb, -1); };
    $('notebook-down').onclick = () => { d.close(); moveNotebook(nb, +1); };
    $('notebook-delete').onclick = async () => {
      d.close();
      const count = [...state.notes.values()].filter((n) => n.item._microblog.notebook_id === nb.id).length;
      if (!(await confirmDialog('Delete the notebook “' + nb.name + '” and its ' + count + ' notes? Shared notes are taken down. This cannot be undone.', 'Delete notebook'))) return;
      try {
        await api('DELETE', '/notebooks/' + nb.id);
        if (state.current && state.current.notebookId === nb.id) { state.current = null; app.classList.remove('view-editor'); }
        state.notebookId = null;
        await loadAll();
        renderAll();
      } catch (e) { banner(esc('Notebook not deleted: ' + e.message), true); }
    };
    d.showModal();
    $('notebook-name').focus();
  }
  function moveNotebook(nb, step) {
    const list = state.notebooks.map((x) => ({ id: x.id, position: x._microblog.position }));
    const i = list.findIndex((x) => x.id === nb.id);
    const j = i + step;
    if (j < 0 || j >= list.length) return;
    const before = step < 0 ? list[j].id : (j + 1 < list.length ? list[j + 1].id : null);
    moveBefore(list, nb.id, before, (positions) => api('POST', '/reorder', { type: 'notebooks', positions }));
  }

  // ---- The key. ----
  function askKey(message) {
    const d = $('key-dialog');
    const hasNotes = encryptedNotes().length > 0;
    $('key-generate').hidden = hasNotes;
    $('key-new').hidden = true;
    $('key-paste').hidden = false;
    $('key-input').value = '';
    $('key-error').textContent = message || '';
    $('key-use').disabled = false;
    d.returnValue = '';
    d.showModal();
    $('key-input').focus();
  }
  async function useKey(keyString) {
    const key = await importKey(parseKey(keyString));
    const sample = encryptedNotes()[0];
    if (sample) {
      try { await decrypt(key, sample.item.content_text); } catch (e) {
        throw new Error('This key does not decrypt your notes. Check that you pasted the whole key, the one your notes were written with.');
      }
    }
    state.key = key;
    state.keyString = keyString.trim();
    localStorage.setItem(KEY_STORE, state.keyString);
    const decrypted = await Promise.all([...state.notes.values()].map((n) => decryptItem(n.item)));
    state.notes = new Map(decrypted.map((n) => [n.item.id, n]));
    banner('');
    renderAll();
    retryPending();
  }
  function wireKeyDialog() {
    const d = $('key-dialog');
    $('key-generate').addEventListener('click', () => {
      const k = 'mkey' + hex(crypto.getRandomValues(new Uint8Array(32)));
      $('key-generated').value = k;
      $('key-new').hidden = false;
      $('key-paste').hidden = true;
      $('key-generate').hidden = true;
      $('key-saved').checked = false;
      $('key-use').disabled = true;
      $('key-copy').focus();
    });
    $('key-copy').addEventListener('click', async () => {
      $('key-generated').select();
      try { await navigator.clipboard.writeText($('key-generated').value); $('key-copy').textContent = 'Copied'; } catch (e) { document.execCommand('copy'); }
    });
    $('key-saved').addEventListener('change', () => { $('key-use').disabled = !$('key-saved').checked; });
    $('key-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const value = $('key-new').hidden ? $('key-input').value : $('key-generated').value;
      try {
        await useKey(value);
        d.close('use');
      } catch (err) {
        $('key-error').textContent = err.message;
      }
    });
    d.addEventListener('cancel', (e) => { if (!state.key) e.preventDefault(); });
  }

  // ---- Wiring. ----
  function closeSidebar() {
    app.classList.remove('sidebar-open');
    $('toggle-sidebar').setAttribute('aria-expanded', 'false');
  }
  function wire() {
    $('text').addEventListener('input', onInput);
    $('new-note').addEventListener('click', newNote);
    $('new-notebook').addEventListener('click', () => editNotebook(null));
    $('search').addEventListener('input', () => {
      state.query = $('search').value;
      if (state.query) state.tag = '';
      renderNotebooks();
      renderTags();
      renderList();
    });
    $('search').addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { const first = document.querySelector('#notes .open'); if (first) first.focus(); }
    });
    $('sort').addEventListener('change', () => { state.sort = $('sort').value; renderList(); });
    $('preview-toggle').addEventListener('click', () => {
      const show = $('preview').hidden;
      $('preview').hidden = !show;
      $('preview-toggle').setAttribute('aria-pressed', String(show));
      document.querySelector('.editor-body').classList.toggle('split', show);
      renderEditor();
    });
    $('preview').addEventListener('change', (e) => {
      const box = e.target;
      if (!box.matches('input[type=checkbox][data-task]')) return;
      $('text').value = toggleTask($('text').value, Number(box.dataset.task));
      onInput();
      saveNote(state.current);
    });
    $('share').addEventListener('click', shareToggle);
    $('history').addEventListener('click', showHistory);
    $('delete-note').addEventListener('click', () => { if (state.current && state.current.id) deleteNotes([state.current.id]); });
    $('bulk-delete').addEventListener('click', () => deleteNotes([...state.selected]));
    $('bulk-move').addEventListener('click', async () => {
      const target = Number($('bulk-target').value);
      try {
        await api('POST', '/move', { id: [...state.selected], notebook_id: target });
        state.selected.clear();
        await loadAll();
        renderAll();
      } catch (e) { banner(esc('Not moved: ' + e.message), true); }
    });
    $('copy-shared').addEventListener('click', () => navigator.clipboard.writeText($('shared-link').href).catch(() => {}));
    $('share-copy').addEventListener('click', () => { $('share-url').select(); navigator.clipboard.writeText($('share-url').value).catch(() => document.execCommand('copy')); });
    $('back').addEventListener('click', async () => { await flushCurrent(); app.classList.remove('view-editor'); renderList(); });
    $('toggle-sidebar').addEventListener('click', () => {
      const open = app.classList.toggle('sidebar-open');
      $('toggle-sidebar').setAttribute('aria-expanded', String(open));
    });
    $('forget-key').addEventListener('click', async () => {
      document.querySelector('.menu').open = false;
      if (!(await confirmDialog('Forget the key on this device? You need it again to read your notes here.', 'Forget key'))) return;
      localStorage.removeItem(KEY_STORE);
      state.key = null;
      state.current = null;
      for (const n of state.notes.values()) if (n.item._microblog.is_encrypted) { n.plain = ''; n.locked = true; }
      renderAll();
      askKey();
    });
    $('show-key').addEventListener('click', () => {
      document.querySelector('.menu').open = false;
      banner(state.keyString ? 'Your key: <code>' + esc(state.keyString) + '</code> Keep it safe.' : 'No key on this device.');
    });
    wireKeyDialog();
    document.addEventListener('keydown', (e) => {
      const typing = e.target.matches('input, textarea, select');
      const mod = e.ctrlKey || e.metaKey;
      if (mod && e.key.toLowerCase() === 's') { e.preventDefault(); if (state.current) { state.current.text = $('text').value; state.current.dirty = true; saveNote(state.current); } }
      else if (mod && e.key.toLowerCase() === 'k') { e.preventDefault(); $('search').focus(); }
      else if (e.altKey && e.code === 'KeyN') { e.preventDefault(); newNote(); }
      else if (!typing && !mod && e.key === '/') { e.preventDefault(); $('search').focus(); }
      else if (e.key === 'Escape' && !document.querySelector('dialog[open]')) {
        if (e.target === $('search') && $('search').value) { $('search').value = ''; state.query = ''; renderAll(); }
        else if (app.classList.contains('view-editor') && phone.matches) $('back').click();
        else if (app.classList.contains('sidebar-open')) closeSidebar();
      }
    });
    window.addEventListener('online', retryPending);
    document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') flushCurrent(); });
    dark.addEventListener('change', renderNotebooks);
  }

  async function start() {
    wire();
    renderEditor();
    setStatus('');
    const stored = localStorage.getItem(KEY_STORE);
    if (stored) {
      try { state.key = await importKey(parseKey(stored)); state.keyString = stored; } catch (e) { localStorage.removeItem(KEY_STORE); }
    }
    try {
      await loadAll();
    } catch (e) {
      banner(esc('Your notes could not be loaded: ' + e.message), true);
      return;
    }
    renderAll();
    const enc = encryptedNotes();
    if (!state.key) {
      askKey();
    } else if (enc.length && enc.every((n) => n.locked)) {
      // Not used for anything: a note written with it could not be read with the right one.
      state.key = null;
      state.keyString = '';
      banner('The key in this browser does not decrypt your notes. Nothing will be changed; enter the right key.', true);
      askKey('This key does not decrypt your notes.');
    }
    if (Object.keys(pending()).length) retryPending();
  }
  start();
})();
