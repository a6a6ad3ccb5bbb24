import { ServiceProcess } from '../helpers/process';

// Invalid configuration stops the event-logger before it connects anywhere, naming each bad variable.
it('exits 2 naming the bad variables', async () => {
  const p = new ServiceProcess('services/event-logger/dist/main.js', {
    MANAGEMENT_PORT: '70000',
    MAX_CHUNK: 'lots',
    TOPIC_PREFIX: 'bad prefix!',
  });
  const exit = await p.waitExit(15_000);
  expect(exit.code).toBe(2);
  expect(p.output).toContain('event-logger: invalid configuration');
  expect(p.output).toMatch(/MANAGEMENT_PORT: must be a port/);
  expect(p.output).toContain('MAX_CHUNK:');
  expect(p.output).toContain('TOPIC_PREFIX: may contain only letters');
});
