// The dashboard page: reads the token (from the link's #token=..., kept for
// this tab only), opens the live feed and renders each snapshot it pushes.
import { render, setFilter } from './views.js';

const TOKEN_KEY = 'tsray-dashboard-token';
const $ = (id) => document.getElementById(id);
let last;
let backoff = 500;

function token() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    // Out of the address bar and history.
    history.replaceState(null, '', location.pathname);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function status(text, ok) {
  const el = $('conn');
  el.textContent = text;
  el.className = `conn ${ok ? 'on' : 'off'}`;
}

function connect() {
  const t = token();
  if (!t) { $('login').hidden = false; status('no token', false); return; }
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?token=${encodeURIComponent(t)}`);
  ws.onopen = () => { backoff = 500; status('live', true); };
  ws.onmessage = (e) => {
    const s = JSON.parse(e.data);
    if (s.error) { status(`error: ${s.error}`, false); return; }
    last = s;
    render(s);
  };
  ws.onclose = (e) => {
    // A refused upgrade closes before opening: most likely a wrong token.
    if (e.code === 1006 && !last) { sessionStorage.removeItem(TOKEN_KEY); $('login').hidden = false; status('token refused', false); return; }
    status('reconnecting', false);
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 10_000);
  };
}

for (const b of document.querySelectorAll('#tabs button')) {
  b.addEventListener('click', () => {
    for (const x of document.querySelectorAll('#tabs button, .tab')) x.classList.remove('on');
    b.classList.add('on');
    $(b.dataset.tab).classList.add('on');
  });
}
$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('token').value);
  $('login').hidden = true;
  connect();
});
document.addEventListener('change', (e) => {
  if (e.target.id === 'state-filter') { setFilter(e.target.value); if (last) render(last); }
});
connect();
