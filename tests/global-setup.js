// Integration tests spawn compiled service processes (tests/dist, services/*/dist): build first, so a
// plain `npx jest` never runs stale JavaScript. Incremental: a no-change build takes ~1 s.
// TALLY_BUILD="services/flusher tests" narrows the build to those projects (and what they reference),
// for working on one service while another part of the tree is mid-edit.
const { execSync } = require('node:child_process');
module.exports = async () => {
  const targets = (process.env.TALLY_BUILD || '').trim();
  execSync(`npx tsc -b ${targets}`, { cwd: __dirname + '/..', stdio: 'inherit' });
};
