// The phone page. Plain ES module, no build step: it talks to the JSON API under /api/ only
// and builds every dynamic node with textContent, never from markup (prompts are user text).
import { DICTIONARIES } from './i18n.js';

const TOKEN_KEY = 'aiframe.token';
const LANG_KEY = 'aiframe.lang';
const ACTIVE_KEY = 'aiframe.generation';
const PAGE_SIZE = 48;

const $ = (id) => document.getElementById(id);

// ---------- small helpers ----------

/** localStorage that never throws (private mode, disabled storage). */
const store = {
  get(key, area = localStorage) {
    try { return area.getItem(key); } catch { return null; }
  },
  set(key, value, area = localStorage) {
    try { if (value === null) area.removeItem(key); else area.setItem(key, value); } catch { /* not kept: asked again next time */ }
  },
};

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = value;
    else if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== 'string') node[key] = value;
    else node.setAttribute(key, value === true ? '' : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

function show(node, visible) { node.hidden = !visible; }

/** Changes a live region's text only when it differs, so screen readers do not repeat it. */
function setText(node, text) { if (node.textContent !== text) node.textContent = text; }

// ---------- language ----------

let lang = pickLanguage();

function pickLanguage() {
  const saved = store.get(LANG_KEY);
  if (saved && saved in DICTIONARIES) return saved;
  const wanted = [...(navigator.languages ?? []), navigator.language ?? ''];
  return wanted.some((code) => code.toLowerCase().startsWith('ru')) ? 'ru' : 'en';
}

/** A string of the current language; `{name}` placeholders filled; plural forms picked by `n`. */
function t(key, vars = {}) {
  let text = DICTIONARIES[lang][key] ?? DICTIONARIES.en[key] ?? key;
  if (typeof text === 'object') text = text[new Intl.PluralRules(lang).select(vars.n ?? 0)] ?? text.other;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

function applyLanguage() {
  document.documentElement.lang = lang;
  document.title = t('app.title');
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-aria]')) node.setAttribute('aria-label', t(node.dataset.i18nAria));
  const other = lang === 'ru' ? 'en' : 'ru';
  $('lang').textContent = other.toUpperCase();
  // The visible "RU"/"EN" is part of the name, so voice control finds the button by what it shows.
  $('lang').setAttribute('aria-label', `${other.toUpperCase()}: ${t('lang.switch')}`);
  $('lang').lang = other;
}

function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const sameDay = date.toDateString() === new Date().toDateString();
  return new Intl.DateTimeFormat(lang, sameDay ? { timeStyle: 'short' } : { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

function formatRelative(iso) {
  const seconds = (new Date(iso).getTime() - Date.now()) / 1000;
  const format = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  const abs = Math.abs(seconds);
  if (abs < 60) return format.format(Math.round(seconds), 'second');
  if (abs < 3600) return format.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return format.format(Math.round(seconds / 3600), 'hour');
  return format.format(Math.round(seconds / 86_400), 'day');
}

// ---------- API ----------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The user closed the token dialog: nothing to report beyond a hint. */
class Cancelled extends Error {}

/**
 * One JSON request. Errors in the upstream shape (`{"error":{"message"}}`) become an
 * ApiError with that message. With `auth`, the stored token is sent, asked for first when
 * there is none, and asked again (once) when the server says 401.
 */
async function api(path, { method = 'GET', body, auth = false, headers: extra = {} } = {}, retried = false) {
  const headers = { Accept: 'application/json', ...extra };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth) headers.Authorization = `Bearer ${await token.get()}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, t('error.network'));
  }
  if (response.status === 401 && auth && !retried) {
    token.forget();
    return api(path, { method, body, auth, headers: extra }, true);
  }
  if (!response.ok) throw new ApiError(response.status, await errorMessage(response));
  if (response.status === 204) return null;
  return response.json();
}

async function errorMessage(response) {
  try {
    const body = await response.json();
    if (typeof body?.error?.message === 'string' && body.error.message !== '') return body.error.message;
  } catch { /* not JSON: say the status */ }
  return t('error.status', { status: response.status });
}

function showError(node, error) {
  if (error === null) {
    node.textContent = '';
    show(node, false);
    return;
  }
  node.textContent = error instanceof Cancelled ? t('token.needed') : error instanceof ApiError ? error.message : t('error.unexpected');
  show(node, true);
  if (!(error instanceof ApiError) && !(error instanceof Cancelled)) console.warn(error);
}

// ---------- the admin token ----------

const token = {
  pending: null,
  /** The stored token, or one the user types (checked with GET /api/auth first). */
  get() {
    const saved = store.get(TOKEN_KEY);
    if (saved) return Promise.resolve(saved);
    this.pending ??= askToken().finally(() => { this.pending = null; });
    return this.pending;
  },
  forget() {
    store.set(TOKEN_KEY, null);
    updateForgetButton();
  },
};

function askToken() {
  const dialog = $('token-dialog');
  const form = $('token-form');
  const input = $('token-input');
  const error = $('token-error');
  input.value = '';
  showError(error, null);
  return new Promise((resolve, reject) => {
    const finish = (value) => {
      form.removeEventListener('submit', onSubmit);
      $('token-cancel').removeEventListener('click', onCancel);
      dialog.removeEventListener('cancel', onCancel);
      if (dialog.open) dialog.close();
      if (value === null) reject(new Cancelled()); else resolve(value);
    };
    const onCancel = (event) => { event.preventDefault(); finish(null); };
    const onSubmit = async (event) => {
      event.preventDefault();
      const candidate = input.value.trim();
      if (candidate === '') return;
      // A header carries only Latin-1: fetch would throw on other letters, which reads as
      // "server unreachable". Tokens are printable ASCII, so such a guess is simply wrong.
      if (!/^[\x21-\x7e]+$/.test(candidate)) {
        showError(error, new ApiError(401, t('token.wrong')));
        input.select();
        return;
      }
      let response;
      try {
        response = await fetch('/api/auth', { headers: { Authorization: `Bearer ${candidate}` } });
      } catch {
        showError(error, new ApiError(0, t('error.network')));
        return;
      }
      if (response.ok) {
        store.set(TOKEN_KEY, candidate);
        updateForgetButton();
        finish(candidate);
      } else {
        showError(error, new ApiError(response.status, response.status === 401 ? t('token.wrong') : await errorMessage(response)));
        input.select();
      }
    };
    form.addEventListener('submit', onSubmit);
    $('token-cancel').addEventListener('click', onCancel);
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
    input.focus();
  });
}

function updateForgetButton() {
  show($('forget-token'), store.get(TOKEN_KEY) !== null);
}

// ---------- now on the frame ----------

const state = { frame: undefined, providers: [], prompts: { prompts: [], max: 0 }, generation: null };

/** GETs one section's data: `apply` takes the answer; the section's error line shows a failure or clears. */
async function load(path, errorId, apply) {
  try {
    const answer = await api(path);
    showError($(errorId), null);
    apply(answer);
  } catch (error) {
    showError($(errorId), error);
  }
}

function loadFrame() {
  return load('/api/frame', 'frame-error', ({ picture }) => { state.frame = picture; renderFrame(); });
}

function renderFrame() {
  const picture = state.frame;
  if (picture === undefined) return;
  show($('frame-empty'), picture === null);
  show($('frame-figure'), picture !== null);
  if (picture === null) return;
  const img = $('frame-img');
  if (img.getAttribute('src') !== picture.urls.frame) img.src = picture.urls.frame;
  img.alt = describe(picture);
  $('frame-caption').replaceChildren(caption(picture));
}

/** Text for a picture: its prompt, or who made it and when. */
function describe(picture) {
  return picture.prompt || t('picture.untitled', { provider: picture.provider, time: formatTime(picture.createdAt) });
}

function caption(picture) {
  return el('span', {}, el('span', { class: 'prompt', text: picture.prompt || t('picture.noPrompt') }), el('span', { class: 'muted', text: ` · ${picture.provider} · ${formatTime(picture.createdAt)}` }));
}

// ---------- problems the server reports (disk full, a file set aside) ----------

/** The server's notices, in its own words; an empty list hides the section. */
function loadNotices() {
  return load('/api/summary', 'frame-error', ({ notices }) => {
    const list = Array.isArray(notices) ? notices : [];
    $('notices').replaceChildren(...list.map((notice) => el('p', { class: 'error', role: 'alert', 'data-key': notice.key, text: notice.message })));
    show($('notices'), list.length > 0);
  });
}

// ---------- providers ----------

function loadProviders() {
  return load('/api/providers', 'providers-error', ({ providers }) => { state.providers = providers; renderProviders(); });
}

function renderProviders() {
  const list = $('provider-list');
  list.replaceChildren(...state.providers.map((provider) => {
    const { today } = provider;
    const counts = today.limit === null ? t('providers.today', { n: today.calls }) : t('providers.todayLimit', { n: today.calls, limit: today.limit });
    const why = [];
    if (!provider.ready && provider.reason) why.push(provider.reason);
    if (provider.nextAllowedAt) why.push(t('providers.next', { time: formatTime(provider.nextAllowedAt), relative: formatRelative(provider.nextAllowedAt) }));
    return el('li', { class: 'provider' },
      el('div', { class: 'provider-head' },
        el('strong', { text: provider.name }),
        el('code', { text: provider.id }),
        el('span', { class: `badge ${provider.ready ? 'ok' : 'no'}`, text: t(provider.ready ? 'providers.ready' : 'providers.notReady') }),
        provider.paid ? el('span', { class: 'badge', text: t('providers.paid') }) : null),
      why.length > 0 ? el('p', { class: 'why', text: why.join(' · ') }) : null,
      el('p', { class: 'muted', text: `${counts} · ${t('providers.outcomes', { ok: today.successes, failed: today.failures })}` }));
  }));
  if (state.providers.length === 0) list.append(el('li', { class: 'muted', text: t('providers.none') }));
  renderProviderChoice();
}

function renderProviderChoice() {
  const select = $('generate-provider');
  const chosen = select.value;
  const options = state.providers.map((provider) =>
    el('option', { value: provider.id, disabled: !provider.ready, text: provider.ready ? provider.name : `${provider.name} (${t('providers.notReady')})` }));
  select.replaceChildren(el('option', { value: '', text: t('generate.anyProvider') }), ...options);
  select.value = state.providers.some((provider) => provider.id === chosen && provider.ready) ? chosen : '';
  updatePromptField();
}

/** A provider that ignores prompts (a photo folder) gets no prompt field. */
function updatePromptField() {
  const provider = state.providers.find((candidate) => candidate.id === $('generate-provider').value);
  const takesPrompt = provider === undefined || provider.acceptsPrompt;
  $('generate-prompt').disabled = !takesPrompt;
}

// ---------- generate now ----------

async function startGeneration(event) {
  event.preventDefault();
  const provider = $('generate-provider').value;
  const prompt = $('generate-prompt').disabled ? '' : $('generate-prompt').value.trim();
  const button = $('generate-button');
  button.disabled = true;
  showError($('generate-error'), null);
  try {
    const { generation } = await api('/api/generations', {
      method: 'POST',
      auth: true,
      body: { ...(provider ? { provider } : {}), ...(prompt ? { prompt } : {}) },
    });
    follow(generation);
  } catch (error) {
    button.disabled = false;
    showError($('generate-error'), error);
  }
}

/** Shows a generation's state, then follows it over Server-Sent Events until it ends. */
function follow(generation) {
  state.generation = { id: generation.id, progress: null, preview: null, source: null };
  store.set(ACTIVE_KEY, generation.id, sessionStorage);
  $('generate-button').disabled = true;
  show($('generate-result'), false);
  show($('generate-preview'), false);
  show($('generate-progress'), true);
  applyGeneration(generation);
  if (generation.status !== 'pending') return;

  const source = new EventSource(`/api/generations/${encodeURIComponent(generation.id)}/events`);
  state.generation.source = source;
  const parse = (event) => { try { return JSON.parse(event.data); } catch { return null; } };
  // The first, unnamed message is the generation as it is now; `done` and `failed` carry it too.
  const onGeneration = (event) => { const data = parse(event); if (data?.id) applyGeneration(data); };
  source.onmessage = onGeneration;
  source.addEventListener('done', onGeneration);
  source.addEventListener('failed', onGeneration);
  source.addEventListener('progress', (event) => { const data = parse(event); if (data) applyProgress(data); });
  source.onerror = () => {
    // The browser reconnects by itself; when it gives up (404, server gone), ask once plainly.
    if (source.readyState !== EventSource.CLOSED || state.generation?.source !== source) return;
    api(`/api/generations/${encodeURIComponent(generation.id)}`)
      .then(({ generation: latest }) => {
        if (latest.status === 'pending') setTimeout(() => follow(latest), 2000);
        else applyGeneration(latest);
      })
      // 404: a restart (or a long absence) made the server forget it; say so in the page's language.
      .catch((error) => endGeneration(error instanceof ApiError && error.status === 404 ? new ApiError(404, t('generate.lost')) : error));
  };
}

function applyProgress({ step, total, preview }) {
  if (!state.generation) return;
  state.generation.progress = { step, total };
  if (typeof preview === 'string' && preview.startsWith('data:image/')) state.generation.preview = preview;
  renderGenerationProgress();
}

function applyGeneration(generation) {
  if (!state.generation || generation.id !== state.generation.id) return;
  if (generation.progress) state.generation.progress = generation.progress;
  // Shown even when the generation is already over, so its last step is seen before the result.
  renderGenerationProgress();
  if (generation.status === 'pending') return;
  if (generation.status === 'done') {
    const bar = $('generate-bar');
    bar.value = bar.max;
    // A photo-folder provider's pick is not kept in the library: done, but nothing to show here.
    if (generation.picture) showResult(generation);
    else setText($('generate-step'), t('generate.doneElsewhere'));
    endGeneration(null);
    return;
  }
  endGeneration(new ApiError(500, generation.note || t('generate.failed')));
}

function renderGenerationProgress() {
  const { progress, preview } = state.generation;
  const bar = $('generate-bar');
  if (progress && progress.total > 0) {
    setText($('generate-step'), t('generate.step', { step: progress.step, total: progress.total }));
    bar.max = progress.total;
    bar.value = progress.step;
  } else {
    setText($('generate-step'), t('generate.waiting'));
    bar.removeAttribute('value'); // indeterminate until the provider reports steps
  }
  if (preview) {
    $('generate-preview').src = preview;
    $('generate-preview').alt = t('generate.preview');
    show($('generate-preview'), true);
  }
}

function showResult(generation) {
  const { picture } = generation;
  $('generate-step').textContent = t('generate.done');
  const img = $('generate-img');
  img.src = picture.urls.frame;
  img.alt = describe(picture);
  const note = generation.note ? el('span', { class: 'why', text: ` ${generation.note}` }) : null;
  $('generate-caption').replaceChildren(caption(picture), note ?? '');
  $('generate-open').onclick = () => openViewer(picture);
  show($('generate-preview'), false);
  show($('generate-result'), true);
  addToGallery(picture);
}

function endGeneration(error) {
  // Closed before the server ends the stream: an ended EventSource would reconnect.
  state.generation?.source?.close();
  state.generation = null;
  store.set(ACTIVE_KEY, null, sessionStorage);
  $('generate-button').disabled = false;
  if (error) {
    show($('generate-progress'), false);
    showError($('generate-error'), error);
  }
  void loadProviders();
  void loadFrame();
}

/** A reload during a generation picks it up again (the events replay the latest state). */
async function resumeGeneration() {
  const id = store.get(ACTIVE_KEY, sessionStorage);
  if (!id) return;
  try {
    const { generation } = await api(`/api/generations/${encodeURIComponent(id)}`);
    if (generation.status === 'pending') follow(generation);
    else store.set(ACTIVE_KEY, null, sessionStorage);
  } catch {
    store.set(ACTIVE_KEY, null, sessionStorage);
  }
}

// ---------- prompts ----------

function loadPrompts() {
  return load('/api/prompts', 'prompts-error', (prompts) => { state.prompts = prompts; renderPrompts(); });
}

function renderPrompts() {
  const { prompts, max } = state.prompts;
  $('prompts-count').textContent = t('prompts.count', { n: prompts.length, max });
  show($('prompts-empty'), prompts.length === 0);
  $('prompt-list').replaceChildren(...prompts.map(promptItem));
}

function promptItem(prompt) {
  const item = el('li', { class: 'prompt-item', 'data-id': String(prompt.id) });
  const view = () => item.replaceChildren(
    el('p', { class: 'prompt', text: prompt.prompt }),
    el('p', { class: 'muted', text: prompt.negative ? t('prompts.negativeShown', { text: prompt.negative }) : '', hidden: !prompt.negative }),
    el('div', { class: 'row' },
      el('button', { type: 'button', class: 'secondary', text: t('common.edit'), 'aria-label': t('prompts.editLabel', { text: short(prompt.prompt) }), onclick: edit }),
      el('button', { type: 'button', class: 'danger', text: t('common.delete'), 'aria-label': t('prompts.deleteLabel', { text: short(prompt.prompt) }), onclick: remove })));
  const edit = () => {
    const textId = `prompt-edit-${prompt.id}`;
    const negativeId = `prompt-edit-negative-${prompt.id}`;
    const text = el('textarea', { id: textId, rows: '3', maxlength: '2000', required: true });
    text.value = prompt.prompt;
    const negative = el('input', { id: negativeId, maxlength: '2000', autocomplete: 'off' });
    negative.value = prompt.negative ?? '';
    const form = el('form', { class: 'stack', onsubmit: async (event) => {
      event.preventDefault();
      try {
        await api(`/api/prompts/${prompt.id}`, { method: 'PUT', auth: true, headers: ifMatch(prompt), body: { prompt: text.value.trim(), negative: negative.value.trim() || null } });
        showError($('prompts-error'), null);
        await loadPrompts();
      } catch (error) {
        if (await reloadWhenStale(error)) return;
        showError($('prompts-error'), error);
      }
    } },
    el('label', { for: textId, text: t('prompts.text') }), text,
    el('label', { for: negativeId, text: t('prompts.negative') }), negative,
    el('div', { class: 'row' },
      el('button', { type: 'button', class: 'secondary', text: t('common.cancel'), onclick: view }),
      el('button', { type: 'submit', text: t('common.save') })));
    item.replaceChildren(form);
    text.focus();
  };
  const remove = async () => {
    if (!confirm(t('prompts.confirmDelete', { text: short(prompt.prompt) }))) return;
    try {
      await api(`/api/prompts/${prompt.id}`, { method: 'DELETE', auth: true, headers: ifMatch(prompt) });
      showError($('prompts-error'), null);
    } catch (error) {
      if (await reloadWhenStale(error)) return;
      showError($('prompts-error'), error);
    }
    await loadPrompts(); // ids are positions: they shift after a delete
  };
  view();
  return item;
}

/**
 * Ids are list positions that shift when another phone deletes one: the version we saw makes
 * the server refuse (412) a change that would hit a different prompt.
 */
function ifMatch(prompt) {
  return prompt.version ? { 'If-Match': `"${prompt.version}"` } : {};
}

/** On 412 (the list here is out of date): reload it, then say why, since loading clears errors. */
async function reloadWhenStale(error) {
  if (!(error instanceof ApiError) || error.status !== 412) return false;
  await loadPrompts();
  showError($('prompts-error'), new ApiError(412, t('prompts.stale')));
  return true;
}

function short(text) {
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

async function addPrompt(event) {
  event.preventDefault();
  const prompt = $('prompt-text').value.trim();
  const negative = $('prompt-negative').value.trim();
  if (prompt === '') return;
  try {
    await api('/api/prompts', { method: 'POST', auth: true, body: { prompt, ...(negative ? { negative } : {}) } });
    $('prompt-add').reset();
    showError($('prompts-error'), null);
    await loadPrompts();
  } catch (error) {
    showError($('prompts-error'), error);
  }
}

// ---------- gallery ----------

const gallery = { next: undefined, total: 0, loading: false, names: new Set(), sentinelSeen: false };

async function loadGalleryPage() {
  if (gallery.loading || gallery.next === null) return;
  gallery.loading = true;
  $('gallery-more').disabled = true;
  try {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (gallery.next) query.set('cursor', gallery.next);
    const page = await api(`/api/pictures?${query}`);
    gallery.next = page.next;
    gallery.total = page.total;
    $('gallery-grid').append(...page.pictures.filter((picture) => !gallery.names.has(picture.name)).map(thumbnail));
    showError($('gallery-error'), null);
  } catch (error) {
    showError($('gallery-error'), error);
  } finally {
    gallery.loading = false;
    $('gallery-more').disabled = false;
    renderGalleryState();
  }
  // Still at the bottom (a tall screen, a short page): keep filling.
  if (gallery.sentinelSeen && gallery.next) void loadGalleryPage();
}

function thumbnail(picture) {
  gallery.names.add(picture.name);
  const button = el('button', { type: 'button', class: 'thumb', onclick: () => openViewer(picture) });
  const img = el('img', { src: picture.urls.thumbnail, alt: describe(picture), loading: 'lazy', decoding: 'async', width: '256', height: '256' });
  // The server cannot decode this picture (422): a labelled tile instead of a broken image,
  // still a button, so the picture can be opened and deleted.
  img.addEventListener('error', () => {
    button.setAttribute('aria-label', describe(picture));
    button.replaceChildren(el('span', { class: 'unreadable', text: t('gallery.unreadable') }));
  }, { once: true });
  button.append(img);
  const item = el('li', { 'data-name': picture.name }, button);
  item.picture = picture;
  return item;
}

/** A gallery tile's texts in the current language. */
function relabelThumbnail(item) {
  const img = item.querySelector('img');
  if (img) img.alt = describe(item.picture);
  const unreadable = item.querySelector('.unreadable');
  if (unreadable) {
    unreadable.textContent = t('gallery.unreadable');
    item.querySelector('button').setAttribute('aria-label', describe(item.picture));
  }
}

function renderGalleryState() {
  $('gallery-count').textContent = t('gallery.count', { n: gallery.total });
  show($('gallery-empty'), gallery.total === 0 && gallery.names.size === 0);
  show($('gallery-more'), Boolean(gallery.next));
}

function addToGallery(picture) {
  if (gallery.names.has(picture.name)) return;
  gallery.total += 1;
  $('gallery-grid').prepend(thumbnail(picture));
  renderGalleryState();
}

function removeFromGallery(name) {
  const item = [...$('gallery-grid').children].find((node) => node.dataset.name === name);
  if (item) item.remove();
  if (gallery.names.delete(name)) gallery.total = Math.max(0, gallery.total - 1);
  renderGalleryState();
}

function watchGalleryEnd() {
  if (!('IntersectionObserver' in window)) return; // the button still works
  new IntersectionObserver((entries) => {
    gallery.sentinelSeen = entries.some((entry) => entry.isIntersecting);
    if (gallery.sentinelSeen) void loadGalleryPage();
  }, { rootMargin: '600px 0px' }).observe($('gallery-sentinel'));
}

// ---------- the picture viewer ----------

let viewing = null;

function openViewer(picture) {
  viewing = picture;
  const dialog = $('viewer');
  $('viewer-img').src = picture.urls.original;
  $('viewer-img').alt = describe(picture);
  $('viewer-link').href = picture.urls.original;
  const rows = [
    ['viewer.prompt', picture.prompt],
    ['viewer.negative', picture.negative],
    ['viewer.provider', picture.provider],
    ['viewer.created', formatTime(picture.createdAt)],
    ['viewer.size', picture.width && picture.height ? `${picture.width} × ${picture.height}` : null],
    ['viewer.seed', picture.seed === null || picture.seed === undefined ? null : String(picture.seed)],
  ];
  $('viewer-meta').replaceChildren(...rows.filter(([, value]) => value).flatMap(([key, value]) => [el('dt', { text: t(key) }), el('dd', { text: value })]));
  showError($('viewer-error'), null);
  $('viewer-delete').disabled = false;
  dialog.showModal();
}

async function deleteViewed() {
  const picture = viewing;
  if (!picture || !confirm(t('viewer.confirmDelete'))) return;
  $('viewer-delete').disabled = true;
  try {
    await api(`/api/pictures/${encodeURIComponent(picture.name)}`, { method: 'DELETE', auth: true });
    removeFromGallery(picture.name);
    $('viewer').close();
    if (state.frame?.name === picture.name) void loadFrame();
  } catch (error) {
    $('viewer-delete').disabled = false;
    showError($('viewer-error'), error);
  }
}

// ---------- start ----------

function refreshLanguage() {
  applyLanguage();
  renderFrame();
  renderProviders();
  renderPrompts();
  renderGalleryState();
  for (const item of $('gallery-grid').children) relabelThumbnail(item);
  if (state.generation) renderGenerationProgress();
}

function start() {
  applyLanguage();
  updateForgetButton();
  $('lang').addEventListener('click', () => {
    lang = lang === 'ru' ? 'en' : 'ru';
    store.set(LANG_KEY, lang);
    refreshLanguage();
  });
  $('forget-token').addEventListener('click', () => token.forget());
  $('generate-form').addEventListener('submit', startGeneration);
  $('generate-provider').addEventListener('change', updatePromptField);
  $('prompt-add').addEventListener('submit', addPrompt);
  $('gallery-more').addEventListener('click', () => void loadGalleryPage());
  $('frame-open').addEventListener('click', () => state.frame && openViewer(state.frame));
  $('viewer-close').addEventListener('click', () => $('viewer').close());
  $('viewer-delete').addEventListener('click', deleteViewed);
  // A tap on the backdrop (outside the dialog's box) closes the viewer.
  $('viewer').addEventListener('click', (event) => { if (event.target === $('viewer')) $('viewer').close(); });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') { void loadProviders(); void loadFrame(); void loadNotices(); }
  });
  void Promise.all([loadNotices(), loadFrame(), loadProviders(), loadPrompts(), loadGalleryPage()]).then(() => {
    watchGalleryEnd();
    void resumeGeneration();
    document.body.dataset.ready = 'true'; // for tests and for CSS: first data is in
  });
}

start();
