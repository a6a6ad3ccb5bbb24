import { createServer, type AddressInfo } from 'node:net';
import { startIngest } from './services';

// A service that cannot start must fail its test at once with its own words, not a 30 s timeout with
// no output: CI lost a run to an ingest whose port was taken and a message captured before it spoke.
it('a service that exits while the test waits for it fails the wait at once, with its output', async () => {
  // Accepts and drops every connection: a port someone else holds, where a readiness fetch hangs.
  const holder = createServer((c) => c.destroy());
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  const port = (holder.address() as AddressInfo).port;
  const started = Date.now();
  try {
    await expect(startIngest({ PORT: String(port) })).rejects.toThrow(/the process exited \(1\) first; output:\n[\s\S]*EADDRINUSE/);
    expect(Date.now() - started).toBeLessThan(20_000);
  } finally {
    holder.close();
  }
});
