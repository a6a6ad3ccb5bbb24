// patches/kafkajs+2.2.4.patch, applied by `patch-package` at every `npm ci`/`npm install`
// (package.json postinstall): an idle kafkajs connection must not re-arm a 1 ms timer for ever.
// This fails when the patch did not apply (a kafkajs upgrade, an install that skipped scripts).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RequestQueue = require('kafkajs/src/network/requestQueue') as new (o: object) => {
  pending: unknown[];
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
};

const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const queue = () => new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 30_000, clientId: 't', broker: 'b', logger });

describe('kafkajs request queue (patched)', () => {
  it('schedules no check while nothing is pending (kafkajs#1556: unpatched, a 1 ms timer for ever)', () => {
    const q = queue();
    try {
      q.checkPendingRequests(); // what every response does
      expect(q.throttleCheckTimeoutId).toBeNull();
    } finally {
      clearTimeout(q.throttleCheckTimeoutId ?? undefined); // unpatched: stop the loop, or Jest never exits
    }
  });

  it('still schedules a check when a request waits', () => {
    const q = queue();
    q.pending.push({});
    q.scheduleCheckPendingRequests();
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    clearTimeout(q.throttleCheckTimeoutId!);
  });
});
