/**
 * The page's one style sheet, inline in every page and allowed by its hash (http.ts).
 * No framework: a few rules, readable on a phone.
 */
export const STYLE = `
:root { --ink: #1d2330; --muted: #5b6372; --line: #d9dde4; --bg: #f6f7f9; --card: #fff;
  --sent: #2e7d32; --aborted: #e0a100; --failed: #c62828; --accent: #1f5fbf; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: var(--bg); }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; padding: .6rem 1rem;
  background: var(--ink); color: #fff; }
header .name { font-weight: 600; margin-right: auto; }
header a { color: #fff; text-decoration: none; padding: .2rem .5rem; border-radius: 4px; }
header a[aria-current="page"] { background: rgba(255,255,255,.18); }
header form { margin: 0; }
header button { background: transparent; color: #fff; border: 1px solid rgba(255,255,255,.5); }
main { max-width: 1020px; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; margin: .4rem 0 1rem; }
h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem; }
.state { font-size: 1.5rem; font-weight: 600; }
.sub { color: var(--muted); font-size: .92rem; }
button, .button { font: inherit; padding: .45rem .9rem; border-radius: 6px; border: 1px solid var(--accent);
  background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
.button.plain { background: #fff; color: var(--accent); }
button.mute { background: var(--failed); border-color: var(--failed); font-size: 1.1rem; }
ul.plain { list-style: none; padding: 0; margin: 0; }
ul.leds li { display: flex; align-items: center; gap: .5rem; margin: .2rem 0; }
.led.blink { animation: blink .5s steps(1) infinite; }
.led.double-blink { animation: blink .6s steps(1) infinite; }
.led.pulse { animation: pulse 2s ease-in-out infinite; }
@keyframes blink { 50% { opacity: .12; } }
@keyframes pulse { 50% { opacity: .25; } }
.ok { color: var(--sent); } .bad { color: var(--failed); } .warn { color: #9a6b00; }
.notice { padding: .6rem .8rem; border-radius: 6px; background: #fff4d6; border: 1px solid #f0d28a; margin: 0 0 1rem; }
.error { background: #fde7e7; border-color: #f2b8b8; }
table { border-collapse: collapse; width: 100%; background: var(--card); font-size: .92rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef0f4; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; }
form.filters { display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; margin: 0 0 1rem; }
label { display: block; font-size: .9rem; color: var(--muted); }
input, select { font: inherit; padding: .35rem .4rem; border: 1px solid var(--line); border-radius: 5px; }
.timeline { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .5rem; margin-bottom: .6rem; }
.timeline svg { width: 100%; height: auto; display: block; }
.legend { display: flex; flex-wrap: wrap; gap: 1rem; font-size: .88rem; color: var(--muted); margin-bottom: 1rem; }
.legend span { display: inline-flex; align-items: center; gap: .3rem; }
.signin { max-width: 360px; margin: 12vh auto; }
.signin input { width: 100%; margin: .3rem 0 .8rem; }
.proof p { margin: .3rem 0 .6rem; }
.mono { font-family: ui-monospace, monospace; font-size: .85rem; word-break: break-all; }
`;
