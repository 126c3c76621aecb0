import { STYLE } from './assets.js';
import { esc } from './http.js';
import { LIVE_SCRIPT } from './live-script.js';
import type { NowView } from './now.js';

export type PageName = 'now' | 'sent' | 'proof';

const NAV: Array<[PageName, string, string]> = [
  ['now', '/now', 'Now'],
  ['sent', '/sent', 'What was sent'],
  ['proof', '/proof', 'Proof'],
];

function document(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head><body>${body}<script>${LIVE_SCRIPT}</script></body></html>`;
}

/** A signed-in page: the menu, a sign-out form (POST with the CSRF token), the content. */
export function layout(
  page: PageName,
  deviceName: string,
  csrf: string,
  title: string,
  content: string,
): string {
  const links = NAV.map(
    ([name, href, label]) =>
      `<a href="${href}"${name === page ? ' aria-current="page"' : ''}>${label}</a>`,
  ).join('');
  return document(
    `${title} · ${deviceName}`,
    `<header><span class="name">${esc(deviceName)}</span><nav>${links}</nav>
<form method="post" action="/signout"><input type="hidden" name="csrf" value="${esc(csrf)}"><button>Sign out</button></form></header>
<main><h1>${esc(title)}</h1>${content}</main>`,
  );
}

export function signInPage(
  deviceName: string,
  csrf: string,
  message?: { text: string; error: boolean },
): string {
  const note = message
    ? `<p class="notice${message.error ? ' error' : ''}" role="alert">${esc(message.text)}</p>`
    : '';
  return document(
    `Sign in · ${deviceName}`,
    `<main class="signin"><div class="card"><h1>${esc(deviceName)}</h1>${note}
<form method="post" action="/signin">
<input type="hidden" name="csrf" value="${esc(csrf)}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button></form>
<p class="sub">Set or change the password on the speaker with <code>earshot dashboard password</code>.</p></div></main>`,
  );
}

export function ledList(view: NowView): string {
  return view.leds
    .map((led) => {
      const fill = led.pattern === 'off' ? '#e4e6ea' : (led.color ?? '#2f80ed');
      return `<li data-led="${esc(led.name)}" data-pattern="${esc(led.pattern)}"><svg width="18" height="18" aria-hidden="true"><circle cx="9" cy="9" r="7" stroke="#555" fill="${esc(fill)}" class="led ${esc(led.pattern)}"/></svg><span>${esc(led.name)}: ${esc(led.pattern)}</span></li>`;
    })
    .join('');
}

export function nowContent(view: NowView, csrf: string, notice?: string): string {
  const problems = view.problems.length
    ? view.problems
        .map((p) => `<li class="bad">${esc(p.part)}: ${esc(p.message)} (${esc(p.code)})</li>`)
        .join('')
    : '<li class="ok">none</li>';
  const hidden = (h: boolean): string => (h ? ' hidden' : '');
  return `${notice ? `<p class="notice" role="status">${esc(notice)}</p>` : ''}
<div id="now" data-state="${esc(view.state)}" class="cards">
<section class="card"><h2>The speaker</h2>
<p class="state" data-field="state">${esc(view.stateText)}</p>
<form id="mute-form" method="post" action="/mute"${hidden(view.muted)}>
<input type="hidden" name="csrf" value="${esc(csrf)}"><input type="hidden" name="muted" value="true">
<button class="mute" type="submit">Mute</button></form>
<form id="unmute-form" method="post" action="/mute"${hidden(!(view.muted && view.canUnmute))}>
<input type="hidden" name="csrf" value="${esc(csrf)}"><input type="hidden" name="muted" value="false">
<button type="submit">Unmute</button></form>
<p id="unmute-note" class="sub"${hidden(!(view.muted && !view.canUnmute))}>To unmute, press the mute button on the speaker.</p>
<p class="sub" data-field="updated">as loaded</p></section>
<section class="card"><h2>Lights</h2><ul class="plain leds" data-field="leds">${ledList(view)}</ul></section>
<section class="card"><h2>Connections</h2>
<p>Cloud: <span data-field="link">${esc(view.linkText)}</span></p>
<p>MQTT: <span data-field="mqtt">${esc(view.mqttText)}</span></p>
<p class="sub" data-field="counters">${esc(view.countersText)}</p></section>
<section class="card"><h2>Problems</h2><ul class="plain" data-field="problems">${problems}</ul></section>
</div>`;
}

export function notFoundPage(): string {
  return document('Not found', '<main><h1>Not found</h1><p><a href="/now">Back</a></p></main>');
}
