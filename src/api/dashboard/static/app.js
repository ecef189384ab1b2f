// The aks-emu dashboard: draws the DashboardState the admin API streams as server-sent
// events (src/api/dashboard/model.ts) and drives the fault API. Plain browser JavaScript,
// no build step. Every name from the manifests reaches the page through textContent or
// setAttribute, never as markup, so a name cannot become HTML.
'use strict';

(function () {
  const SVG = 'http://www.w3.org/2000/svg';
  const EVENTS = '/aks-emu/v1/dashboard/events';
  const FAULTS = '/aks-emu/v1/faults';
  const COLUMNS = ['frontend', 'rule', 'node', 'service', 'pod', 'route'];
  const HEADINGS = { frontend: 'LB frontends', rule: 'LB rules', node: 'Nodes', service: 'Services', pod: 'Pods', route: 'Ingress / routes' };
  const BOX_W = 220;
  const BOX_H = 38;
  const COL_GAP = 70;
  const ROW_GAP = 12;
  const TOP = 30;

  /** An example of each fault type's params (docs/faults.md lists them all), shown as the field's placeholder. */
  const EXAMPLE_PARAMS = {
    slow: 'delay=200ms jitter=20ms',
    crash: 'restartAfter=10s',
    'slow-start': 'delay=2s window=30s',
    latency: 'delay=200ms jitter=20ms',
    bandwidth: 'rate=100',
    reset: 'fraction=1',
    blackhole: 'fraction=1',
    'close-after': 'bytes=1024',
    'idle-timeout': 'timeout=4s tcpReset=true',
    'snat-exhaustion': 'ports=64',
    status: 'code=503 first=2',
    delay: 'delay=1s fraction=1',
    abort: 'fraction=0.5',
    'slow-body': 'rate=10 fraction=1',
  };

  const $ = (id) => document.getElementById(id);
  let latest = null;
  let selected = null;
  let targetsShown = '';

  function el(name, attrs, text) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clip(text, max) {
    return text.length > max ? `${text.slice(0, max - 1)}…` : text;
  }

  function rateText(rate) {
    return rate >= 10 ? `${Math.round(rate)}/s` : `${rate.toFixed(1)}/s`;
  }

  function layout(state) {
    const pos = new Map();
    let height = 0;
    COLUMNS.forEach((kind, col) => {
      const items = state.nodes.filter((n) => n.kind === kind);
      items.forEach((n, row) => {
        const p = { x: 10 + col * (BOX_W + COL_GAP), y: TOP + row * (BOX_H + ROW_GAP), col };
        pos.set(n.id, p);
        height = Math.max(height, p.y + BOX_H + 10);
      });
    });
    return { pos, width: 20 + COLUMNS.length * (BOX_W + COL_GAP) - COL_GAP, height: Math.max(height, 100) };
  }

  function drawGraph(state) {
    const svg = $('graph');
    const { pos, width, height } = layout(state);
    const frag = document.createDocumentFragment();
    COLUMNS.forEach((kind, col) => {
      frag.appendChild(el('text', { x: 10 + col * (BOX_W + COL_GAP), y: 16, class: 'heading' }, HEADINGS[kind]));
    });
    for (const e of state.edges) {
      const a = pos.get(e.from);
      const b = pos.get(e.to);
      if (!a || !b) continue;
      const back = b.col <= a.col;
      const x1 = back ? a.x : a.x + BOX_W;
      const x2 = back ? b.x + BOX_W : b.x;
      const y1 = a.y + BOX_H / 2;
      const y2 = b.y + BOX_H / 2;
      const bend = back ? -60 : 45;
      const active = (e.rate || 0) > 0;
      const g = el('g', {
        class: `edge${active ? ' active' : ''}${back ? ' back' : ''}`,
        'data-id': e.id,
        'data-from': e.from,
        'data-to': e.to,
        'data-status': e.status,
        'data-rate': e.rate === undefined ? '' : e.rate,
        'data-total': e.total === undefined ? '' : e.total,
        'data-error-rate': e.errorRate === undefined ? '' : e.errorRate,
      });
      const widthPx = 1.2 + Math.min(6, Math.log2(1 + (e.rate || 0)));
      g.appendChild(el('path', { d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`, 'stroke-width': widthPx.toFixed(2) }));
      const label = [];
      if (active) label.push(rateText(e.rate));
      if ((e.errorRate || 0) > 0) label.push(`✕ ${rateText(e.errorRate)}`);
      if (label.length > 0) g.appendChild(el('text', { x: (x1 + x2) / 2 - 14, y: (y1 + y2) / 2 - 4 }, label.join(' ')));
      // Edges to and from a route count HTTP requests (the L7 route counters); the others connections.
      const unit = e.from.startsWith('route:') || e.to.startsWith('route:') ? 'requests' : 'connections';
      const tip =
        `${e.from} → ${e.to}: ${e.status}` + (e.total !== undefined ? `, ${e.total} ${unit}` : '') + (e.errors !== undefined ? `, ${e.errors} failed` : '');
      g.appendChild(el('title', {}, tip));
      frag.appendChild(g);
    }
    for (const n of state.nodes) {
      const p = pos.get(n.id);
      const g = el('g', {
        class: `node${selected === n.id ? ' selected' : ''}`,
        transform: `translate(${p.x},${p.y})`,
        'data-id': n.id,
        'data-kind': n.kind,
        'data-status': n.status,
        tabindex: 0,
      });
      g.appendChild(el('rect', { width: BOX_W, height: BOX_H }));
      g.appendChild(el('text', { x: 6, y: 15 }, clip(n.label, 36)));
      const badge = n.faults.length > 0 ? `⚡${n.faults.length} ` : '';
      g.appendChild(el('text', { x: 6, y: 30, class: 'sub' }, clip(`${badge}${n.sublabel}`, 40)));
      g.appendChild(el('title', {}, `${n.label} (${n.status})\n${n.sublabel}\n${n.detail}`));
      g.addEventListener('click', () => select(n.id));
      g.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') select(n.id);
      });
      frag.appendChild(g);
    }
    svg.replaceChildren(frag);
    svg.setAttribute('width', width);
    svg.setAttribute('height', height);
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  }

  function describeSelected() {
    const n = selected && latest ? latest.nodes.find((x) => x.id === selected) : undefined;
    if (!selected) return;
    $('selected').textContent = n
      ? `${n.label} (${n.status})\n${n.sublabel}\n${n.detail}${n.faultTarget ? `\nfault target: ${n.faultTarget}` : ''}`
      : 'gone from the cluster';
  }

  function select(id) {
    selected = id;
    describeSelected();
    const n = latest && latest.nodes.find((x) => x.id === id);
    if (n && n.faultTarget) {
      $('fault-target').value = n.faultTarget;
      fillTypes();
    }
    if (latest) drawGraph(latest);
  }

  function fillTargets(state) {
    const targets = [...new Set(state.nodes.filter((n) => n.faultTarget).map((n) => n.faultTarget))];
    const key = targets.join('\n');
    if (key === targetsShown) return;
    targetsShown = key;
    const select = $('fault-target');
    const keep = select.value;
    const groups = new Map();
    for (const t of targets) {
      const kind = t.split('/')[0];
      if (!groups.has(kind)) groups.set(kind, []);
      groups.get(kind).push(t);
    }
    const frag = document.createDocumentFragment();
    for (const [kind, items] of groups) {
      const og = document.createElement('optgroup');
      og.label = kind;
      for (const t of items) {
        const o = document.createElement('option');
        o.value = t;
        o.textContent = t;
        og.appendChild(o);
      }
      frag.appendChild(og);
    }
    select.replaceChildren(frag);
    if (targets.includes(keep)) select.value = keep;
    fillTypes();
  }

  function fillTypes() {
    const kind = ($('fault-target').value || '').split('/')[0];
    const types = (latest && latest.faultTypes[kind]) || [];
    const select = $('fault-type');
    const keep = select.value;
    select.replaceChildren(
      ...types.map((t) => {
        const o = document.createElement('option');
        o.value = t;
        o.textContent = t;
        return o;
      }),
    );
    if (types.includes(keep)) select.value = keep;
    showExample();
  }

  function showExample() {
    $('fault-params').placeholder = EXAMPLE_PARAMS[$('fault-type').value] || '(none)';
  }

  function describeParams(params) {
    return Object.entries(params || {})
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
  }

  function drawFaults(state) {
    $('faults-unavailable').hidden = state.faultsAvailable;
    $('fault-form').hidden = !state.faultsAvailable;
    $('fault-clear').disabled = state.faults.length === 0;
    const list = $('fault-list');
    list.replaceChildren(
      ...state.faults.map((f) => {
        const li = document.createElement('li');
        li.dataset.faultId = f.id;
        const text = document.createElement('span');
        const until = f.expiresAt ? `, until ${new Date(f.expiresAt).toLocaleTimeString()}` : '';
        text.textContent = `${f.type} on ${f.target} ${describeParams(f.params)} (fired ${f.fired}${until})`;
        const rm = document.createElement('button');
        rm.type = 'button';
        rm.textContent = 'Remove';
        rm.className = 'fault-remove';
        rm.addEventListener('click', () => call('DELETE', `${FAULTS}/${encodeURIComponent(f.id)}`));
        li.append(text, rm);
        return li;
      }),
    );
  }

  function drawSummary(state) {
    const count = (kind) => state.nodes.filter((n) => n.kind === kind).length;
    const ready = state.nodes.filter((n) => n.kind === 'pod' && n.status === 'ok').length;
    const some = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
    $('summary').textContent = [
      some(count('node'), 'node'),
      some(count('service'), 'Service'),
      `${ready}/${some(count('pod'), 'pod')} ready`,
      some(state.activeConnections, 'open connection'),
      some(state.faults.length, 'fault'),
    ].join(' · ');
    $('updated').textContent = `snapshot ${state.snapshotVersion}, ${new Date(state.generatedAt).toLocaleTimeString()}`;
  }

  function render(state) {
    latest = state;
    drawGraph(state);
    fillTargets(state);
    drawFaults(state);
    drawSummary(state);
    describeSelected();
  }

  /** `fraction=1 delay=200ms` → {fraction: 1, delay: "200ms"}; numbers and booleans typed. */
  function parseParams(text) {
    const params = {};
    for (const part of text.split(/[\s,]+/).filter(Boolean)) {
      const eq = part.indexOf('=');
      if (eq <= 0) throw new Error(`params: "${part}" is not key=value`);
      const key = part.slice(0, eq);
      const raw = part.slice(eq + 1);
      params[key] = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw === 'true' ? true : raw === 'false' ? false : raw;
    }
    return params;
  }

  async function call(method, url, body) {
    $('fault-error').textContent = '';
    try {
      const res = await fetch(url, {
        method,
        headers: body === undefined ? authHeaders() : { 'content-type': 'application/json', ...authHeaders() },
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
      });
      if (!res.ok) {
        let message = `${res.status} ${res.statusText}`;
        const type = res.headers.get('content-type') || '';
        if (type.includes('json')) {
          const status = await res.json();
          if (status && typeof status.message === 'string') message = status.message;
        }
        $('fault-error').textContent = message;
        return false;
      }
      return true;
    } catch (err) {
      $('fault-error').textContent = String(err && err.message ? err.message : err);
      return false;
    }
  }

  const TOKEN_KEY = 'aks-emu-admin-token';
  const RETRY_MS = 2000;

  function token() {
    return window.sessionStorage.getItem(TOKEN_KEY) || '';
  }

  function authHeaders() {
    const t = token();
    return t ? { authorization: `Bearer ${t}` } : {};
  }

  function setConn(state, text) {
    const conn = $('conn');
    conn.dataset.state = state;
    conn.textContent = text;
  }

  /** One server-sent event block (`event:`, `data:` lines) → its event name and data. */
  function parseEvent(block) {
    let event = 'message';
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const name = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (name === 'event') event = value;
      else if (name === 'data') data.push(value);
    }
    return { event, data: data.join('\n') };
  }

  /**
   * Reads the event stream with fetch rather than EventSource, which cannot send the admin
   * API's bearer token; reconnects after RETRY_MS as EventSource would.
   */
  async function connect() {
    // /dashboard?interval=MS asks the stream for that sampling interval (the server checks it).
    const interval = new URLSearchParams(window.location.search).get('interval');
    const url = interval && /^\d+$/.test(interval) ? `${EVENTS}?interval=${interval}` : EVENTS;
    let res;
    try {
      res = await fetch(url, { headers: { accept: 'text/event-stream', ...authHeaders() }, cache: 'no-store', credentials: 'same-origin' });
    } catch (err) {
      setConn('reconnecting', `reconnecting… (${err && err.message ? err.message : err})`);
      window.setTimeout(connect, RETRY_MS);
      return;
    }
    if (res.status === 401) {
      setConn('unauthorized', token() ? 'the admin token was refused' : 'the admin API needs its token');
      $('token-form').hidden = false;
      return;
    }
    if (!res.ok || !res.body) {
      setConn('reconnecting', `reconnecting… (HTTP ${res.status})`);
      window.setTimeout(connect, RETRY_MS);
      return;
    }
    $('token-form').hidden = true;
    setConn('live', 'live');
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
          const ev = parseEvent(block);
          if (ev.event === 'state' && ev.data) render(JSON.parse(ev.data));
          else if (ev.event === 'error') setConn('reconnecting', `stream error: ${JSON.parse(ev.data).message}`);
        }
      }
    } catch (err) {
      setConn('reconnecting', `reconnecting… (${err && err.message ? err.message : err})`);
      window.setTimeout(connect, RETRY_MS);
      return;
    }
    // An `error` event has said why the stream ended: keep its words on screen.
    if ($('conn').dataset.state === 'live') setConn('reconnecting', 'reconnecting…');
    window.setTimeout(connect, RETRY_MS);
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('fault-target').addEventListener('change', fillTypes);
    $('fault-type').addEventListener('change', showExample);
    $('fault-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      let params;
      try {
        params = parseParams($('fault-params').value);
      } catch (err) {
        $('fault-error').textContent = err.message;
        return;
      }
      const body = { type: $('fault-type').value, target: $('fault-target').value, params };
      const duration = $('fault-for').value.trim();
      if (duration !== '') body.for = duration;
      if (await call('POST', FAULTS, body)) $('fault-params').value = '';
    });
    $('fault-clear').addEventListener('click', () => call('DELETE', FAULTS));
    $('token-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      window.sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
      $('token').value = '';
      setConn('connecting', 'connecting…');
      connect();
    });
    connect();
  });
})();
