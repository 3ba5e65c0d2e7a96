import { createHash } from 'node:crypto';
import type { DayCounts } from '../operations/generation-ledger.js';
import type { ProviderStatusReport, StatusReport } from './status-report.js';

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (char) => HTML_ENTITIES[char] ?? char);
}

const HTML_ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * The status page: one self-contained HTML document (inline CSS, no scripts, no external
 * files), readable on a phone. What upstream ImageServer's page shows (requests, errors,
 * images sent, per-provider successes and errors, today's and yesterday's generations), plus
 * each provider's ready state, the library size, uptime and version. Every dynamic string
 * goes through {@link escapeHtml}: provider names and reasons come from configuration.
 */
export function renderStatusPage(report: StatusReport, now: Date): string {
  const sources = Object.entries(report.images_sent.by_source)
    .map(([source, count]) => `${escapeHtml(source)} ${escapeHtml(count)}`)
    .join(' · ');
  const providers =
    report.providers.length === 0 ? '<p class="muted">No provider is configured.</p>' : report.providers.map((provider) => providerCard(provider, now)).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="60">
<title>aiframe-server status</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>aiframe-server</h1>
<p class="muted">version ${escapeHtml(report.version)} · up ${escapeHtml(formatDuration(report.uptime_seconds))} · since ${escapeHtml(formatLocalTime(new Date(report.started_at), now))}</p>
${report.notices.map((notice) => `<p class="notice ${notice.level === 'error' ? 'no' : 'warn'}" role="alert">${escapeHtml(notice.message)}</p>`).join('\n')}
<section class="tiles">
${tile(report.requests.total, 'requests')}
${tile(report.requests.errors, 'errors')}
${tile(report.images_sent.total, 'images sent')}
${tile(report.library.pictures, 'pictures in library')}
</section>
${sources === '' ? '' : `<p class="muted">images by source: ${sources}</p>`}
<h2>Providers</h2>
${providers}
<p class="muted"><a href="/">the web page</a> · <a href="status.json">status.json</a> · <a href="metrics">metrics</a> · counts since start reset on restart; today and yesterday do not</p>
</main>
</body>
</html>
`;
}

function tile(value: number, label: string): string {
  return `<div class="tile"><b>${escapeHtml(value)}</b><span>${escapeHtml(label)}</span></div>`;
}

function providerCard(provider: ProviderStatusReport, now: Date): string {
  const state = provider.ready ? '<span class="badge ok">ready</span>' : '<span class="badge no">not ready</span>';
  const why: string[] = [];
  if (provider.reason !== undefined) why.push(escapeHtml(provider.reason));
  if (provider.next_allowed_at !== undefined) {
    const next = new Date(provider.next_allowed_at);
    why.push(`next at ${escapeHtml(formatLocalTime(next, now))} (${escapeHtml(formatRelative(next, now))})`);
  }
  const limit = provider.daily_limit === undefined ? '' : ` of ${escapeHtml(provider.daily_limit)}`;
  return `<article class="provider">
<h3>${escapeHtml(provider.display_name)} <code>${escapeHtml(provider.id)}</code> ${state}</h3>
${why.length === 0 ? '' : `<p class="why">${why.join(' · ')}</p>`}
<table>
<tr><th></th><th>calls</th><th>ok</th><th>failed</th></tr>
${dayRow('today', provider.today, limit)}
${dayRow('yesterday', provider.yesterday, '')}
<tr><th>since start</th><td>${escapeHtml(provider.since_start.successes + provider.since_start.failures)}</td><td>${escapeHtml(provider.since_start.successes)}</td><td>${escapeHtml(provider.since_start.failures)}</td></tr>
</table>
</article>`;
}

function dayRow(label: string, counts: DayCounts, limit: string): string {
  return `<tr><th>${escapeHtml(label)}</th><td>${escapeHtml(counts.calls)}${limit}</td><td>${escapeHtml(counts.successes)}</td><td>${escapeHtml(counts.failures)}</td></tr>`;
}

/** `3 d 4 h`, `2 h 5 min`, `7 min`, `42 s`. */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${minutes} min`;
  if (minutes > 0) return `${minutes} min`;
  return `${seconds} s`;
}

/** `HH:MM` when on the same local day as `now`, else `YYYY-MM-DD HH:MM` (server time zone). */
export function formatLocalTime(date: Date, now: Date): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  const sameDay = date.getFullYear() === now.getFullYear() && date.getMonth() === now.getMonth() && date.getDate() === now.getDate();
  return sameDay ? time : `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${time}`;
}

function formatRelative(date: Date, now: Date): string {
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  if (seconds <= 0) return 'now';
  return `in ${formatDuration(Math.max(seconds, 60))}`;
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1d1d1f;--bg:#f5f5f7;--card:#fff;--muted:#6e6e73;--ok:#1a7f37;--no:#b35900;--line:#d2d2d7}
@media (prefers-color-scheme:dark){:root{--fg:#f5f5f7;--bg:#111;--card:#1d1d1f;--muted:#a1a1a6;--ok:#3fb950;--no:#f0883e;--line:#38383a}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:42rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.25rem 0}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
h3{font-size:1rem;margin:0 0 .4rem;display:flex;flex-wrap:wrap;gap:.4rem;align-items:center}
.muted,.why{color:var(--muted);font-size:.9rem;overflow-wrap:anywhere}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(8rem,1fr));gap:.5rem}
.tile,.provider{background:var(--card);border:1px solid var(--line);border-radius:.6rem;padding:.75rem}
.tile b{display:block;font-size:1.6rem;font-variant-numeric:tabular-nums}
.tile span{color:var(--muted);font-size:.85rem}
.provider{margin-bottom:.6rem}
.badge{font-size:.75rem;font-weight:600;padding:.1rem .45rem;border-radius:1rem;border:1px solid currentColor}
.ok{color:var(--ok)}.no{color:var(--no)}
.notice{border:1px solid currentColor;border-radius:.6rem;padding:.6rem .8rem;background:var(--card);font-weight:600}.warn{color:var(--muted)}
code{font-size:.85rem;color:var(--muted)}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{text-align:right;padding:.2rem .4rem;border-top:1px solid var(--line)}
th:first-child{text-align:left;font-weight:500}
tr:first-child th{border-top:0;color:var(--muted);font-weight:500;font-size:.85rem}
a{color:inherit}
`;

/**
 * The CSP hash source of the page's one inline `<style>`: the status page sends it in its
 * Content-Security-Policy, so that style applies and no other inline style or script would.
 */
export const STATUS_PAGE_STYLE_HASH = `sha256-${createHash('sha256').update(STYLE).digest('base64')}`;
