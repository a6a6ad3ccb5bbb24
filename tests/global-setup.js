// Integration tests spawn compiled service processes (tests/dist, services/*/dist): build first, so a
// plain `npx jest` never runs stale JavaScript. Incremental: a no-change build takes ~1 s.
const { execSync } = require('node:child_process');
module.exports = async () => {
  execSync('npx tsc -b', { cwd: __dirname + '/..', stdio: 'inherit' });
};
