// shardlog web console. No framework and no build step: the page is served
// from the binary (embed) and talks to the same Kinesis JSON API as any
// client (POST / with X-Amz-Target). Two server-sent event streams add
// what the API has no cheap call for: per-stream counters once a second
// (/console/api/stats) and the live tail of a shard (/console/api/tail).
'use strict';

const TARGET = 'Kinesis_20131202.';
const TAIL_KEEP = 500; // records kept on the tail page

// ---------- small helpers ----------

const $ = (sel, root = document) => root.querySelector(sel);

function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

function h(html) {
  const t = document.createElement('template');
  t.innerHTML = html.trim();
  return t.content.firstElementChild;
}

function fmtBytes(n) {
  if (!n) return '0 B';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(n < 10 ? 1 : 0) : n) + ' ' + u[i];
}

// Formatters are built once: toLocaleString builds one per call, which
// costs most of the time of rendering 1,000 rows.
const numFmt = new Intl.NumberFormat();
const timeFmt = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
});
const fmtNum = n => numFmt.format(n);

function fmtRate(n) {
  if (!n) return '0';
  return n >= 100 ? fmtNum(Math.round(n)) : n.toFixed(1);
}

function fmtTime(ms) {
  if (!ms) return '—';
  return timeFmt.format(ms) + '.' + String(ms % 1000).padStart(3, '0');
}

// The JSON 1.1 protocol sends timestamps as epoch seconds.
const fromEpoch = s => (typeof s === 'number' ? s * 1000 : Date.parse(s));

function b64encode(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function b64decode(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

let toastTimer;
function toast(msg, kind = 'info') {
  const t = $('#toast');
  t.dataset.kind = kind;
  t.textContent = msg;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.textContent = ''; }, kind === 'error' ? 8000 : 4000);
}

// ---------- the Kinesis API ----------

class APIError extends Error {
  constructor(type, message, status) { super(`${type}: ${message}`); this.type = type; this.status = status; }
}

// unsignedAuth returns the headers auth mode none requires of every API
// request, as AWS does (server/authform.go): a date and an Authorization
// header shaped like a SigV4 signature. The page cannot sign; under mode
// none nothing checks the signature, and on the admin listener nothing
// checks the header at all.
function unsignedAuth() {
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  return {
    'X-Amz-Date': amzDate,
    'Authorization': 'AWS4-HMAC-SHA256 Credential=console/' + amzDate.slice(0, 8) +
      '/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=' + '0'.repeat(64),
  };
}

async function api(op, body = {}) {
  const r = await fetch('/', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': TARGET + op, ...unsignedAuth() },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  let j = {};
  try { j = text ? JSON.parse(text) : {}; } catch (e) { j = { message: text }; }
  if (!r.ok) {
    const type = String(j.__type || 'HTTP ' + r.status).split('#').pop();
    throw new APIError(type, j.message || j.Message || '', r.status);
  }
  return j;
}

async function listAllStreams(onPage) {
  let out = await api('ListStreams', { Limit: 10000 });
  let all = out.StreamSummaries || [];
  onPage(all);
  while (out.HasMoreStreams && out.NextToken) {
    out = await api('ListStreams', { NextToken: out.NextToken });
    all = all.concat(out.StreamSummaries || []);
    onPage(all);
  }
  return all;
}

async function listAllShards(name) {
  let out = await api('ListShards', { StreamName: name, MaxResults: 10000 });
  let all = out.Shards || [];
  while (out.NextToken) {
    out = await api('ListShards', { NextToken: out.NextToken, MaxResults: 10000 });
    all = all.concat(out.Shards || []);
  }
  return all;
}

async function listAllConsumers(arn) {
  let out = await api('ListStreamConsumers', { StreamARN: arn, MaxResults: 10000 });
  let all = out.Consumers || [];
  while (out.NextToken) {
    out = await api('ListStreamConsumers', { StreamARN: arn, NextToken: out.NextToken, MaxResults: 10000 });
    all = all.concat(out.Consumers || []);
  }
  return all;
}

// ---------- live counters (server-sent events) ----------

const stats = { byName: new Map(), listeners: new Set(), source: null };

function startStats() {
  const src = new EventSource('/console/api/stats');
  stats.source = src;
  const conn = $('#conn');
  src.addEventListener('open', () => { conn.dataset.state = 'live'; conn.textContent = 'live'; });
  src.addEventListener('error', () => { conn.dataset.state = 'down'; conn.textContent = 'reconnecting…'; });
  src.addEventListener('stats', ev => {
    const msg = JSON.parse(ev.data);
    stats.byName = new Map(msg.streams.map(s => [s.name, s]));
    for (const f of stats.listeners) f(stats.byName);
  });
}

function onStats(f) {
  stats.listeners.add(f);
  return () => stats.listeners.delete(f);
}

// ---------- theme ----------

const THEMES = ['auto', 'light', 'dark'];

function applyTheme(theme) {
  if (theme === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  const b = $('#theme');
  b.textContent = 'Theme: ' + theme;
  b.setAttribute('aria-label', `Theme: ${theme}. Switch theme`);
}

function initTheme() {
  let theme = 'auto';
  try { theme = localStorage.getItem('shardlog-theme') || 'auto'; } catch (e) { /* private mode */ }
  const forced = new URLSearchParams(location.search).get('theme');
  if (THEMES.includes(forced)) theme = forced;
  applyTheme(theme);
  $('#theme').addEventListener('click', () => {
    theme = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
    try { localStorage.setItem('shardlog-theme', theme); } catch (e) { /* ignore */ }
    applyTheme(theme);
  });
}

// ---------- routing ----------

let cleanup = [];

function crumbs(parts) {
  $('#crumbs').innerHTML = parts.map(([label, href], i) =>
    i === parts.length - 1 ? `<li><span aria-current="page">${esc(label)}</span></li>` : `<li><a href="${esc(href)}">${esc(label)}</a></li>`).join('');
}

function route() {
  for (const f of cleanup) f();
  cleanup = [];
  const main = $('#main');
  main.replaceChildren();
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 'stream' && parts[1] && parts[2] === 'shard' && parts[3]) {
    tailView(main, parts[1], parts[3]);
  } else if (parts[0] === 'stream' && parts[1]) {
    streamView(main, parts[1]);
  } else {
    streamsView(main);
  }
}

const streamHref = name => '#/stream/' + encodeURIComponent(name);
const tailHref = (name, shard) => streamHref(name) + '/shard/' + encodeURIComponent(shard);

// After a route change, move focus to the new view's heading so keyboard
// and screen-reader users start at the top of what changed.
function focusHeading(main) {
  const h1 = $('h1', main);
  if (h1) h1.focus();
}

// ---------- view: all streams ----------

function streamsView(main) {
  crumbs([['Streams', '#/']]);
  document.title = 'Streams · shardlog';
  main.append(h(`<section aria-labelledby="streams-h">
  <h1 id="streams-h" tabindex="-1">Streams <span id="streams-count" class="muted"></span></h1>
  <form id="create" class="panel bar" aria-labelledby="create-h">
    <h2 id="create-h" class="sr-only">Create a stream</h2>
    <label>Stream name <input id="create-name" name="name" required maxlength="128" pattern="[a-zA-Z0-9_.\\-]+" autocomplete="off" placeholder="orders"></label>
    <label>Shards <input id="create-shards" name="shards" type="number" min="1" max="10000" value="1" style="width:6rem"></label>
    <label>Capacity mode <select id="create-mode" name="mode"><option>PROVISIONED</option><option>ON_DEMAND</option></select></label>
    <button id="create-submit" type="submit">Create stream</button>
    <span class="muted" id="create-out" role="status"></span>
  </form>
  <div class="bar">
    <label>Filter by name <input id="filter" type="search" placeholder="type to filter" autocomplete="off"></label>
  </div>
  <div class="scroll">
  <table id="streams-table">
    <caption class="sr-only">Streams with their status, capacity mode, open shards, retention and live throughput</caption>
    <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Mode</th><th scope="col" class="num">Open shards</th><th scope="col" class="num">Retention</th><th scope="col" class="num">Records/s</th><th scope="col" class="num">Bytes/s</th><th scope="col" class="num">Records</th><th scope="col" class="num">Stored</th><th scope="col">Created</th></tr></thead>
    <tbody></tbody>
  </table>
  </div>
  <p id="streams-empty" class="empty" hidden>No streams yet. Create one above, or with <code>aws kinesis create-stream</code>.</p>
</section>`));
  const tbody = $('#streams-table tbody', main);
  let rows = new Map(); // name -> tr
  let summaries = [];
  let filter = '';

  // render rebuilds the table from summaries; the filter only hides rows,
  // so typing in it costs no rebuild of a thousand rows per key.
  function render() {
    const html = [];
    for (const s of summaries) {
      const n = esc(s.StreamName);
      const st = stats.byName.get(s.StreamName);
      html.push(`<tr data-name="${n}"><td><a href="${esc(streamHref(s.StreamName))}" data-stream="${n}">${n}</a></td>` +
        `<td><span class="status status-${esc(s.StreamStatus)}">${esc(s.StreamStatus)}</span></td>` +
        `<td>${esc((s.StreamModeDetails || {}).StreamMode || '')}</td>` +
        `<td class="num">${st ? st.shards : ''}</td><td class="num">${st ? st.retention + ' h' : ''}</td>` +
        `<td class="num">${st ? fmtRate(st.rps) : ''}</td><td class="num">${st ? fmtBytes(st.bps) : ''}</td>` +
        `<td class="num">${st ? fmtNum(st.records) : ''}</td><td class="num">${st ? fmtBytes(st.bytes) : ''}</td>` +
        `<td>${esc(fmtTime(fromEpoch(s.StreamCreationTimestamp)))}</td></tr>`);
    }
    tbody.innerHTML = html.join('');
    rows = new Map();
    for (const tr of tbody.rows) rows.set(tr.dataset.name, tr);
    applyFilter();
    $('#streams-count', main).textContent = `(${fmtNum(summaries.length)})`;
    $('#streams-empty', main).hidden = summaries.length > 0;
  }

  function applyFilter() {
    for (const [name, tr] of rows) {
      const hide = filter !== '' && !name.toLowerCase().includes(filter);
      if (tr.hidden !== hide) tr.hidden = hide;
    }
  }

  // Counters change every second: touch only the cells that changed.
  function update(byName) {
    if (loading) return;
    if (byName.size !== summaries.length || summaries.some(s => !byName.has(s.StreamName))) {
      reload();
      return;
    }
    for (const [name, tr] of rows) {
      const st = byName.get(name);
      if (!st) continue;
      const cells = tr.cells;
      const vals = [st.shards, st.retention + ' h', fmtRate(st.rps), fmtBytes(st.bps), fmtNum(st.records), fmtBytes(st.bytes)];
      for (let i = 0; i < vals.length; i++) {
        const c = cells[3 + i];
        if (c.textContent !== String(vals[i])) c.textContent = vals[i];
      }
      const status = cells[1].firstChild;
      const s = stats.byName.get(name).status;
      if (status && status.textContent !== s) { status.textContent = s; status.className = 'status status-' + s; }
    }
  }

  let loading = null;
  function reload() {
    if (loading) return loading;
    let pages = 0;
    loading = listAllStreams(all => { summaries = all; if (pages++ === 0) render(); })
      .then(all => {
        summaries = all;
        if (pages > 1) render();
        if (!window.__consoleReady) window.__consoleReady = performance.now();
        document.body.dataset.streams = String(summaries.length);
      })
      .catch(e => toast('ListStreams failed: ' + e.message, 'error'))
      .finally(() => { loading = null; });
    return loading;
  }

  $('#filter', main).addEventListener('input', ev => { filter = ev.target.value.trim().toLowerCase(); applyFilter(); });
  $('#create', main).addEventListener('submit', async ev => {
    ev.preventDefault();
    const name = $('#create-name', main).value.trim();
    const mode = $('#create-mode', main).value;
    const body = { StreamName: name, StreamModeDetails: { StreamMode: mode } };
    if (mode === 'PROVISIONED') body.ShardCount = Number($('#create-shards', main).value || 1);
    const btn = $('#create-submit', main);
    btn.disabled = true;
    try {
      await api('CreateStream', body);
      $('#create-out', main).textContent = `Created ${name}.`;
      $('#create-name', main).value = '';
      await reload();
      const link = $(`a[data-stream="${CSS.escape(name)}"]`, main);
      if (link) link.focus();
    } catch (e) {
      $('#create-out', main).textContent = '';
      toast('CreateStream failed: ' + e.message, 'error');
    } finally {
      btn.disabled = false;
    }
  });
  cleanup.push(onStats(update));
  reload();
}

// ---------- view: one stream ----------

function shardTree(shards, name) {
  const ids = new Set(shards.map(s => s.ShardId));
  const children = new Map();
  const roots = [];
  for (const s of shards) {
    if (s.ParentShardId && ids.has(s.ParentShardId)) {
      if (!children.has(s.ParentShardId)) children.set(s.ParentShardId, []);
      children.get(s.ParentShardId).push(s);
    } else roots.push(s);
    if (s.AdjacentParentShardId && ids.has(s.AdjacentParentShardId)) {
      if (!children.has(s.AdjacentParentShardId)) children.set(s.AdjacentParentShardId, []);
      children.get(s.AdjacentParentShardId).push({ ref: s });
    }
  }
  const node = s => {
    if (s.ref) return `<li><span class="muted">→ ${esc(s.ref.ShardId)} (merged with ${esc(s.ref.ParentShardId)})</span></li>`;
    const closed = !!(s.SequenceNumberRange || {}).EndingSequenceNumber;
    const kids = children.get(s.ShardId) || [];
    const how = kids.filter(k => !k.ref).length === 2 ? ' · split' : kids.length ? ' · merged' : '';
    return `<li><a href="${esc(tailHref(name, s.ShardId))}" class="${closed ? 'node-closed' : ''}">${esc(s.ShardId)}</a>` +
      `<span class="muted"> ${closed ? 'closed' + how : 'open'}</span>` +
      (kids.length ? `<ul>${kids.map(node).join('')}</ul>` : '') + '</li>';
  };
  return `<ul class="tree" aria-label="Shard lineage: parents with their children">${roots.map(node).join('')}</ul>`;
}

function shortKey(k) {
  return k.length > 14 ? k.slice(0, 6) + '…' + k.slice(-6) : k;
}

function streamView(main, name) {
  crumbs([['Streams', '#/'], [name, streamHref(name)]]);
  document.title = name + ' · shardlog';
  main.append(h(`<section aria-labelledby="stream-h">
  <h1 id="stream-h" tabindex="-1">${esc(name)}</h1>
  <div class="grid2">
    <div class="panel"><h2>Summary</h2><dl class="facts" id="facts"><dt>Loading…</dt><dd></dd></dl>
      <div class="bar" style="margin-top:1rem">
        <button id="delete" type="button" class="danger">Delete stream…</button>
        <span id="delete-ask" class="confirm" hidden>Delete <b>${esc(name)}</b> and all its records?
          <button id="delete-confirm" type="button" class="danger">Delete</button>
          <button id="delete-cancel" type="button" class="ghost">Cancel</button></span>
      </div>
    </div>
    <form class="panel" id="put" aria-labelledby="put-h">
      <h2 id="put-h">Put a test record</h2>
      <div class="bar">
        <label>Partition key <input id="put-pk" required maxlength="256" value="console"></label>
        <label>Explicit hash key (optional) <input id="put-ehk" pattern="[0-9]*" placeholder="decimal"></label>
      </div>
      <label style="display:flex">Data (UTF-8 text) <textarea id="put-data">{"hello": "shardlog"}</textarea></label>
      <div class="bar"><button id="put-submit" type="submit">Put record</button></div>
      <div id="put-out" class="out" role="status"></div>
    </form>
  </div>
  <h2 id="shards-h">Shards</h2>
  <div class="scroll"><table id="shards-table" aria-labelledby="shards-h">
    <thead><tr><th scope="col">Shard</th><th scope="col">State</th><th scope="col">Hash key range</th><th scope="col">Parent</th><th scope="col">Adjacent parent</th><th scope="col">Sequence range</th><th scope="col" class="num">Segments</th><th scope="col" class="num">Stored</th><th scope="col">Live tail</th></tr></thead>
    <tbody><tr><td colspan="9" class="muted">Loading…</td></tr></tbody></table></div>
  <div class="grid2">
    <div><h2 id="lineage-h">Lineage</h2><div id="lineage" aria-labelledby="lineage-h" class="panel"></div></div>
    <div><h2 id="consumers-h">Consumers</h2><div id="consumers" class="panel"></div></div>
  </div>
  <h2 id="segments-h">Segment files</h2>
  <div class="scroll"><table id="segments-table" aria-labelledby="segments-h">
    <thead><tr><th scope="col">Shard</th><th scope="col">File</th><th scope="col" class="num">Positions</th><th scope="col" class="num">Records</th><th scope="col" class="num">Bytes</th><th scope="col">First arrival</th><th scope="col">Last arrival</th><th scope="col">State</th></tr></thead>
    <tbody></tbody></table></div>
</section>`));

  let summary = null;
  async function load() {
    try {
      const [d, shards, segs] = await Promise.all([
        api('DescribeStreamSummary', { StreamName: name }),
        listAllShards(name),
        fetch('/console/api/segments?stream=' + encodeURIComponent(name)).then(r => r.ok ? r.json() : { shards: [] }),
      ]);
      summary = d.StreamDescriptionSummary;
      renderFacts();
      const segBy = new Map(segs.shards.map(s => [s.shardId, s.segments]));
      $('#shards-table tbody', main).innerHTML = shards.map(s => {
        const r = s.HashKeyRange || {}, q = s.SequenceNumberRange || {};
        const sg = segBy.get(s.ShardId) || [];
        const closed = !!q.EndingSequenceNumber;
        return `<tr><th scope="row" class="mono">${esc(s.ShardId)}</th><td>${closed ? 'closed' : 'open'}</td>` +
          `<td class="mono" title="${esc(r.StartingHashKey)} – ${esc(r.EndingHashKey)}">${esc(shortKey(r.StartingHashKey))} – ${esc(shortKey(r.EndingHashKey))}</td>` +
          `<td class="mono">${esc(s.ParentShardId || '—')}</td><td class="mono">${esc(s.AdjacentParentShardId || '—')}</td>` +
          `<td class="mono" title="${esc(q.StartingSequenceNumber)} – ${esc(q.EndingSequenceNumber || 'open')}">${esc(shortKey(q.StartingSequenceNumber || ''))} – ${esc(q.EndingSequenceNumber ? shortKey(q.EndingSequenceNumber) : 'open')}</td>` +
          `<td class="num">${sg.length}</td><td class="num">${fmtBytes(sg.reduce((a, x) => a + x.bytes, 0))}</td>` +
          `<td><a href="${esc(tailHref(name, s.ShardId))}" data-tail="${esc(s.ShardId)}">Tail ${esc(s.ShardId.replace(/^shardId-0*(?=\d)/, '#'))}</a></td></tr>`;
      }).join('') || '<tr><td colspan="9" class="muted">No shards retained.</td></tr>';
      $('#lineage', main).innerHTML = shardTree(shards, name);
      $('#segments-table tbody', main).innerHTML = segs.shards.flatMap(s => s.segments.map(g =>
        `<tr><td class="mono">${esc(s.shardId)}</td><td class="mono">${esc(g.name)}</td><td class="num">${g.base}–${g.next}</td>` +
        `<td class="num">${fmtNum(g.next - g.base)}</td><td class="num">${fmtBytes(g.bytes)}</td>` +
        `<td>${esc(fmtTime(g.firstMs))}</td><td>${esc(fmtTime(g.lastMs))}</td>` +
        `<td>${g.compressed ? 'sealed, compressed' : g.sealed ? 'sealed' : 'active'}</td></tr>`)).join('');
      const consumers = await listAllConsumers(summary.StreamARN);
      $('#consumers', main).innerHTML = consumers.length ? `<table><thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Registered</th></tr></thead><tbody>` +
        consumers.map(c => `<tr><td title="${esc(c.ConsumerARN)}">${esc(c.ConsumerName)}</td><td><span class="status status-${esc(c.ConsumerStatus)}">${esc(c.ConsumerStatus)}</span></td><td>${esc(fmtTime(fromEpoch(c.ConsumerCreationTimestamp)))}</td></tr>`).join('') +
        '</tbody></table>' : '<p class="empty">No enhanced fan-out consumers.</p>';
      document.body.dataset.view = 'stream';
    } catch (e) {
      if (e.type === 'ResourceNotFoundException') {
        main.replaceChildren(h(`<section><h1 tabindex="-1">${esc(name)}</h1><p>This stream does not exist (any more). <a href="#/">All streams</a></p></section>`));
      } else toast('Loading the stream failed: ' + e.message, 'error');
    }
  }

  function renderFacts() {
    if (!summary) return;
    const st = stats.byName.get(name);
    const facts = [
      ['Status', `<span class="status status-${esc(summary.StreamStatus)}">${esc(summary.StreamStatus)}</span>`],
      ['Capacity mode', esc((summary.StreamModeDetails || {}).StreamMode)],
      ['Open shards', esc(summary.OpenShardCount)],
      ['Retention', esc(summary.RetentionPeriodHours) + ' hours'],
      ['Encryption', esc(summary.EncryptionType || 'NONE')],
      ['Consumers', esc(summary.ConsumerCount ?? 0)],
      ['Created', esc(fmtTime(fromEpoch(summary.StreamCreationTimestamp)))],
      ['ARN', `<code>${esc(summary.StreamARN)}</code>`],
      ['Incoming', st ? `<span id="rate">${fmtRate(st.rps)} records/s · ${fmtBytes(st.bps)}/s</span>` : '<span id="rate">—</span>'],
    ];
    $('#facts', main).innerHTML = facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('');
  }

  $('#delete', main).addEventListener('click', () => { $('#delete-ask', main).hidden = false; $('#delete-confirm', main).focus(); });
  $('#delete-cancel', main).addEventListener('click', () => { $('#delete-ask', main).hidden = true; $('#delete', main).focus(); });
  $('#delete-confirm', main).addEventListener('click', async () => {
    try {
      await api('DeleteStream', { StreamName: name, EnforceConsumerDeletion: true });
      toast(`Deleted ${name}.`);
      location.hash = '#/';
    } catch (e) {
      toast('DeleteStream failed: ' + e.message, 'error');
    }
  });
  $('#put', main).addEventListener('submit', async ev => {
    ev.preventDefault();
    const body = {
      StreamName: name,
      PartitionKey: $('#put-pk', main).value,
      Data: b64encode(new TextEncoder().encode($('#put-data', main).value)),
    };
    const ehk = $('#put-ehk', main).value.trim();
    if (ehk) body.ExplicitHashKey = ehk;
    try {
      const r = await api('PutRecord', body);
      $('#put-out', main).innerHTML = `Stored in <a href="${esc(tailHref(name, r.ShardId))}">${esc(r.ShardId)}</a> as <code>${esc(r.SequenceNumber)}</code>.`;
    } catch (e) {
      $('#put-out', main).textContent = '';
      toast('PutRecord failed: ' + e.message, 'error');
    }
  });
  cleanup.push(onStats(byName => {
    const st = byName.get(name), rate = $('#rate', main);
    if (st && rate) rate.textContent = `${fmtRate(st.rps)} records/s · ${fmtBytes(st.bps)}/s`;
  }));
  load();
}

// ---------- view: live tail of a shard ----------

const decoder = new TextDecoder('utf-8', { fatal: true });

function render(bytes, format) {
  let text = null;
  if (format !== 'hex') {
    try { text = decoder.decode(bytes); } catch (e) { text = null; }
  }
  if (format === 'auto' || format === 'json') {
    if (text !== null) {
      try { return ['json', JSON.stringify(JSON.parse(text), null, 2)]; } catch (e) { /* not JSON */ }
    }
    if (format === 'json') return ['text', text ?? hexdump(bytes)];
  }
  if (format !== 'hex' && text !== null && !/[\u0000-\u0008\u000e-\u001f]/.test(text)) return ['text', text];
  return ['hex', hexdump(bytes)];
}

function hexdump(bytes) {
  const lines = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    const hex = Array.from(row, b => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(row, b => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
    lines.push(off.toString(16).padStart(8, '0') + '  ' + hex.padEnd(48) + ' ' + ascii);
  }
  return lines.join('\n') || '(empty)';
}

function tailView(main, name, shardId) {
  crumbs([['Streams', '#/'], [name, streamHref(name)], [shardId, tailHref(name, shardId)]]);
  document.title = 'Tail ' + shardId + ' · ' + name + ' · shardlog';
  main.append(h(`<section aria-labelledby="tail-h">
  <h1 id="tail-h" tabindex="-1">Live tail <span class="muted">${esc(name)} / ${esc(shardId)}</span></h1>
  <div class="panel bar">
    <label>Start from <select id="tail-from"><option value="latest">Latest (new records only)</option><option value="trim_horizon">Oldest retained record</option></select></label>
    <label>Show data as <select id="tail-format"><option value="auto">Auto (JSON, text or hex)</option><option value="text">Text</option><option value="json">Pretty JSON</option><option value="hex">Hex</option></select></label>
    <button id="tail-pause" type="button" class="ghost" aria-pressed="false">Pause</button>
    <button id="tail-clear" type="button" class="ghost">Clear</button>
    <span id="tail-state" role="status" class="muted" data-state="connecting">Connecting…</span>
  </div>
  <div id="tail" class="tail" role="log" aria-label="Records, newest first" aria-live="off"></div>
  <p id="tail-empty" class="empty">Waiting for records. Put one from the <a href="${esc(streamHref(name))}">stream page</a> or any client.</p>
</section>`));
  const list = $('#tail', main), state = $('#tail-state', main);
  let format = 'auto', paused = false, count = 0, src = null;
  const held = []; // records that arrived while paused
  const recs = []; // {rec, bytes, el}

  function draw(r) {
    const [kind, text] = render(r.bytes, format);
    $('pre', r.el).textContent = text;
    $('.kind', r.el).textContent = kind + (r.rec.size > r.bytes.length ? ` (first ${fmtBytes(r.bytes.length)} of ${fmtBytes(r.rec.size)})` : '');
  }

  function add(rec) {
    const el = h(`<article class="rec fresh" aria-label="Record ${esc(rec.seq)}">
      <header><span>seq <b class="mono">${esc(rec.seq)}</b></span><span>key <b>${esc(rec.pk)}</b></span>
      ${rec.ehk ? `<span>hash key <b class="mono">${esc(rec.ehk)}</b></span>` : ''}
      <span>arrived <b>${esc(fmtTime(rec.ms))}</b></span><span><b>${fmtBytes(rec.size)}</b> · <span class="kind"></span></span></header><pre></pre></article>`);
    const r = { rec, bytes: b64decode(rec.data), el };
    draw(r);
    recs.push(r);
    list.append(el);
    count++;
    while (recs.length > TAIL_KEEP) recs.shift().el.remove();
    $('#tail-empty', main).hidden = true;
  }

  function connect() {
    if (src) src.close();
    const from = $('#tail-from', main).value;
    src = new EventSource(`/console/api/tail?stream=${encodeURIComponent(name)}&shard=${encodeURIComponent(shardId)}&from=${from}`);
    state.dataset.state = 'connecting';
    state.textContent = 'Connecting…';
    src.addEventListener('open', () => {
      state.dataset.state = 'live';
      state.textContent = `Live · ${fmtNum(count)} records`;
    });
    src.addEventListener('records', ev => {
      const batch = JSON.parse(ev.data);
      if (paused) held.push(...batch);
      else batch.forEach(add);
      state.textContent = `Live · ${fmtNum(count)} records` + (held.length ? ` · ${held.length} held` : '');
    });
    src.addEventListener('end', () => {
      src.close();
      state.dataset.state = 'end';
      state.textContent = `Shard closed: all ${fmtNum(count)} records shown. Follow its children from the stream page.`;
    });
    src.addEventListener('failure', ev => {
      src.close();
      state.dataset.state = 'down';
      state.textContent = JSON.parse(ev.data).message;
    });
    src.addEventListener('error', () => {
      if (src.readyState === EventSource.CLOSED) {
        state.dataset.state = 'down';
        state.textContent = 'Cannot tail this shard (does it still exist?).';
      } else {
        state.dataset.state = 'connecting';
        state.textContent = 'Reconnecting…';
      }
    });
  }

  $('#tail-from', main).addEventListener('change', () => { list.replaceChildren(); recs.length = 0; count = 0; connect(); });
  $('#tail-format', main).addEventListener('change', ev => { format = ev.target.value; recs.forEach(draw); });
  $('#tail-clear', main).addEventListener('click', () => { list.replaceChildren(); recs.length = 0; $('#tail-empty', main).hidden = false; });
  $('#tail-pause', main).addEventListener('click', ev => {
    paused = !paused;
    ev.target.setAttribute('aria-pressed', String(paused));
    ev.target.textContent = paused ? 'Resume' : 'Pause';
    if (!paused) held.splice(0).forEach(add);
  });
  cleanup.push(() => { if (src) src.close(); });
  connect();
}

// ---------- start ----------

window.addEventListener('hashchange', () => { route(); focusHeading($('#main')); });
document.addEventListener('DOMContentLoaded', () => {
  initTheme();
  startStats();
  route();
});
