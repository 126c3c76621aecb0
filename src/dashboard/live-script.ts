/**
 * The Now page's only script (inline, allowed by its hash): it listens to /events and
 * writes the device's state into the page. Text only (textContent, SVG attributes), never
 * HTML, so nothing the device reports can become markup. Without it the page still shows
 * the state as it was when loaded.
 */
export const LIVE_SCRIPT = `
(function () {
  var root = document.getElementById('now');
  if (!root || !window.EventSource) return;
  var NS = 'http://www.w3.org/2000/svg';
  function field(name) { return root.querySelector('[data-field="' + name + '"]'); }
  function set(name, text) { var el = field(name); if (el) el.textContent = text; }
  function item(text, cls) { var li = document.createElement('li'); li.textContent = text; if (cls) li.className = cls; return li; }
  function ledItem(led) {
    var li = document.createElement('li');
    var svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('width', '18'); svg.setAttribute('height', '18'); svg.setAttribute('aria-hidden', 'true');
    var c = document.createElementNS(NS, 'circle');
    c.setAttribute('cx', '9'); c.setAttribute('cy', '9'); c.setAttribute('r', '7');
    c.setAttribute('stroke', '#555');
    c.setAttribute('fill', led.pattern === 'off' ? '#e4e6ea' : (led.color || '#2f80ed'));
    c.setAttribute('class', 'led ' + led.pattern);
    svg.appendChild(c);
    var label = document.createElement('span');
    label.textContent = led.name + ': ' + led.pattern;
    li.appendChild(svg); li.appendChild(label);
    li.setAttribute('data-led', led.name); li.setAttribute('data-pattern', led.pattern);
    return li;
  }
  var source = new EventSource('/events');
  source.addEventListener('now', function (ev) {
    var v = JSON.parse(ev.data);
    root.setAttribute('data-state', v.state);
    set('state', v.stateText);
    set('link', v.linkText);
    set('mqtt', v.mqttText);
    set('counters', v.countersText);
    set('updated', 'live, updated ' + new Date().toLocaleTimeString());
    field('leds').replaceChildren.apply(field('leds'), v.leds.map(ledItem));
    var problems = v.problems.length ? v.problems.map(function (p) { return item(p.part + ': ' + p.message + ' (' + p.code + ')', 'bad'); })
      : [item('none', 'ok')];
    field('problems').replaceChildren.apply(field('problems'), problems);
    document.getElementById('mute-form').hidden = v.muted;
    document.getElementById('unmute-form').hidden = !(v.muted && v.canUnmute);
    document.getElementById('unmute-note').hidden = !(v.muted && !v.canUnmute);
  });
  source.addEventListener('error', function () { set('updated', 'connection lost, retrying…'); });
})();
`;
