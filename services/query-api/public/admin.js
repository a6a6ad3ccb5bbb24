/* global document, window, fetch, sessionStorage, Chart, URLSearchParams */
// The admin page. Every figure comes from the token-guarded API; the page itself holds no data.
// Values are written with textContent only: search queries are user input and must never become HTML.
'use strict';

const TOKEN_KEY = 'tally-admin-token';
const REFRESH_MS = 30_000;
const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  dashboard: null,
  topWindow: '24h',
  topMetric: 'by_views',
  charts: {},
  timer: null,
};
const $ = (id) => document.getElementById(id);
const fmt = new Intl.NumberFormat('en');

class Unauthorized extends Error {}

async function api(path) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${state.token}` } });
  if (res.status === 401) throw new Unauthorized('token refused');
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`);
  return body;
}

function fillTable(id, rows, cells) {
  const tbody = $(id).querySelector('tbody');
  tbody.replaceChildren();
  if (rows.length === 0) {
    const tr = tbody.insertRow();
    const td = tr.insertCell();
    td.colSpan = $(id).querySelectorAll('th').length;
    td.className = 'muted';
    td.textContent = 'nothing yet';
    return;
  }
  for (const row of rows) {
    const tr = tbody.insertRow();
    for (const c of cells(row)) {
      const td = tr.insertCell();
      const value = typeof c === 'object' && c !== null ? c.v : c;
      td.textContent = typeof value === 'number' ? fmt.format(value) : String(value ?? '—');
      if (typeof value === 'number') td.classList.add('num');
      if (c && c.bad) td.classList.add('bad');
    }
  }
}

/** Creates the chart once, then only swaps its data: Chart.js animates the change in place. */
function drawChart(name, type, labels, datasets, extra = {}) {
  const existing = state.charts[name];
  if (existing) {
    existing.data.labels = labels;
    existing.data.datasets = datasets;
    existing.update();
    return;
  }
  state.charts[name] = new Chart($(name), {
    type,
    data: { labels, datasets },
    options: { responsive: true, maintainAspectRatio: false, plugins: { legend: { display: datasets.length > 1 } }, ...extra },
  });
}

function renderTop() {
  const d = state.dashboard;
  if (!d) return;
  const list = d.snapshot.top_movies[state.topWindow][state.topMetric];
  for (const b of $('top-window').querySelectorAll('button')) b.classList.toggle('active', b.dataset.window === state.topWindow);
  for (const b of $('top-metric').querySelectorAll('button')) b.classList.toggle('active', b.dataset.metric === state.topMetric);
  fillTable('top-table', list, (m) => [list.indexOf(m) + 1, m.code, m.title, m.count]);
  const label = state.topMetric === 'by_views' ? 'views' : 'downloads';
  drawChart(
    'top-chart',
    'bar',
    list.map((m) => m.code),
    [{ label, data: list.map((m) => m.count), backgroundColor: '#2f6fdf' }],
    { indexAxis: 'y' },
  );
  $('top-chart').dataset.window = state.topWindow;
}

function renderDashboard() {
  const s = state.dashboard.snapshot;
  const fallback = state.dashboard.source !== 'snapshot';
  $('source').hidden = false;
  $('source').textContent = fallback ? 'computed live from MySQL (no snapshot available)' : 'snapshot';
  $('source').classList.toggle('fallback', fallback);
  $('generated').textContent = `figures as of ${new Date(s.generated_at).toLocaleString()}`;
  renderTop();
  drawChart(
    'trend-chart',
    'line',
    s.daily_trends.map((t) => t.date),
    [
      { label: 'views', data: s.daily_trends.map((t) => t.views), borderColor: '#2f6fdf', tension: 0.2 },
      { label: 'downloads', data: s.daily_trends.map((t) => t.downloads), borderColor: '#27ae60', tension: 0.2 },
      { label: 'unique viewers', data: s.daily_trends.map((t) => t.unique_viewers), borderColor: '#b7791f', tension: 0.2 },
    ],
  );
  drawChart(
    'clicks-chart',
    'bar',
    s.recommendation_clicks.map((c) => c.reason),
    [{ label: 'clicks', data: s.recommendation_clicks.map((c) => c.clicks), backgroundColor: '#8e44ad' }],
  );
  fillTable('clicks-table', s.recommendation_clicks, (c) => [c.reason, c.clicks]);
}

async function loadSearches() {
  const params = new URLSearchParams({ window: $('search-window').value, limit: '15' });
  if ($('search-entity').value) params.set('entity_type', $('search-entity').value);
  const [popular, zero] = await Promise.all([
    api(`/v1/analytics/searches?${params}`),
    api(`/v1/analytics/searches?${params}&zero_results=true`),
  ]);
  fillTable('popular-searches', popular.items, (s) => [s.query, s.entity_type, s.searches, s.avg_results]);
  fillTable('zero-searches', zero.items, (s) => [s.query, s.entity_type, s.searches, s.zero_result_searches]);
}

function ago(seconds) {
  if (seconds === null) return 'never';
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

async function loadHealth() {
  const h = await api('/v1/admin/pipeline-health');
  const lag = Array.isArray(h.consumer_lag) ? h.consumer_lag : [];
  fillTable('lag-table', lag, (g) => [
    g.group,
    g.lag === null ? { v: g.error || 'unknown', bad: true } : { v: g.lag, bad: g.lag > 10_000 },
    g.topics.length ? `${g.topics[0].topic} (${fmt.format(g.topics[0].lag)})` : '—',
  ]);
  const jobs = Array.isArray(h.jobs) ? h.jobs : [];
  fillTable('jobs-table', jobs, (j) => [
    j.job,
    { v: ago(j.seconds_since), bad: j.seconds_since === null },
    j.last_success_at ? new Date(j.last_success_at).toLocaleString() : '—',
  ]);
  fillTable('dead-table', Array.isArray(h.dead_letters) ? h.dead_letters : [], (d) => [d.reason, { v: d.count, bad: d.count > 0 }]);
}

async function refresh() {
  try {
    state.dashboard = await api('/v1/analytics/dashboard');
    renderDashboard();
    await Promise.all([loadSearches(), loadHealth()]);
    $('load-error').textContent = '';
  } catch (err) {
    if (err instanceof Unauthorized) return signOut('Your token is no longer accepted; sign in again.');
    $('load-error').textContent = `Could not load everything: ${err.message}`;
  }
}

function showDashboard(on) {
  $('login').hidden = on;
  $('dashboard').hidden = !on;
  $('logout').hidden = !on;
  if (!on) $('source').hidden = true;
}

function signOut(message = '') {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  state.dashboard = null;
  window.clearInterval(state.timer);
  for (const c of Object.values(state.charts)) c.destroy();
  state.charts = {};
  $('generated').textContent = '';
  $('login-error').textContent = message;
  showDashboard(false);
}

async function signIn(token) {
  state.token = token;
  try {
    await api('/v1/admin/session');
  } catch (err) {
    signOut(err instanceof Unauthorized ? 'Unknown admin token.' : `Cannot reach the API: ${err.message}`);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $('login-error').textContent = '';
  showDashboard(true);
  await refresh();
  state.timer = window.setInterval(refresh, REFRESH_MS);
}

$('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void signIn($('token').value.trim());
  $('token').value = '';
});
$('logout').addEventListener('click', () => signOut());
$('top-window').addEventListener('click', (e) => {
  if (e.target.dataset.window) {
    state.topWindow = e.target.dataset.window;
    renderTop();
  }
});
$('top-metric').addEventListener('click', (e) => {
  if (e.target.dataset.metric) {
    state.topMetric = e.target.dataset.metric;
    renderTop();
  }
});
for (const id of ['search-window', 'search-entity'])
  $(id).addEventListener('change', () => void loadSearches().catch((err) => ($('load-error').textContent = err.message)));

if (state.token) void signIn(state.token);
