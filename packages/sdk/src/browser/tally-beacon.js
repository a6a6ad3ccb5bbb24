/* Tally beacon (ES2017): tally.track(event); set data-endpoint/data-key (and data-user-token) or call tally.init().
   Key in the query, body text/plain: sendBeacon sets no headers; text/plain skips CORS preflight. */
/* global window, Blob, setTimeout, clearTimeout */
(function (w) {
  'use strict';
  const d = (w.document.currentScript || {}).dataset || {};
  // userToken: the signed-in user's token, signed by the web app's back end (data-user-token): a
  // browser key's user_id counts only with it, and events without a user_id get the token's.
  const cfg = { endpoint: d.endpoint, key: d.key, userToken: d.userToken, batch: 20, delay: 3000 };
  let q = [],
    timer = null,
    wait = cfg.delay;
  const now = () => new Date().toISOString();
  const later = () => timer || (timer = setTimeout(flush, wait));

  function uuid() {
    if (w.crypto.randomUUID) return w.crypto.randomUUID(); // HTTPS only
    const b = w.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; // version 4
    b[8] = (b[8] & 63) | 128; // variant 10xx
    return Array.from(b, (x) => (x + 256).toString(16).slice(1))
      .join('')
      .replace(/(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
  }

  // Resent events keep their ids: the server dedups them.
  function retry(events) {
    q = events.concat(q).slice(0, 500);
    wait = Math.min(wait * 2, 60000);
    later();
  }

  function flush(unloading) {
    clearTimeout(timer);
    timer = null;
    const url = cfg.endpoint + '?key=' + encodeURIComponent(cfg.key);
    while (q.length) {
      const events = q.splice(0, cfg.batch); // 20 stay far below the 64 KB beacon/keepalive cap
      const payload = { events: events.map((e) => Object.assign({}, e, { sent_at: now() })) };
      if (cfg.userToken) payload.user_token = cfg.userToken;
      const json = JSON.stringify(payload);
      const body = new Blob([json], { type: 'text/plain' });
      if (unloading === true && w.navigator.sendBeacon(url, body)) continue;
      w.fetch(url, { method: 'POST', body, keepalive: true }).then(
        (r) => (r.status === 429 || r.status >= 500 ? retry(events) : (wait = cfg.delay)),
        () => retry(events),
      );
    }
  }

  w.tally = {
    init: (o) => Object.assign(cfg, o),
    flush,
    track(e) {
      const user = cfg.userToken ? { user_id: Number(String(cfg.userToken).split('.')[1]) } : {};
      q.push(Object.assign({ event_id: uuid(), occurred_at: now() }, user, e));
      if (q.length >= cfg.batch) flush();
      else later();
    },
  };
  // pagehide: older Safari skips visibilitychange on tab close.
  w.document.addEventListener('visibilitychange', () => w.document.visibilityState === 'hidden' && flush(true));
  w.addEventListener('pagehide', () => flush(true));
})(window);
