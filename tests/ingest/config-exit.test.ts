import { ServiceProcess } from '../helpers/process';

// Invalid configuration stops a service before it connects anywhere, naming each bad variable.
it.each([
  ['services/ingest-api/dist/main.js', 'ingest-api'],
  ['services/counter/dist/main.js', 'counter'],
])('%s exits 2 naming the bad variables', async (entry, name) => {
  const p = new ServiceProcess(entry, { MANAGEMENT_PORT: '70000', PORT: 'eighty', KAFKA_BROKERS: 'a:1,,b:2' });
  const exit = await p.waitExit(15_000);
  expect(exit.code).toBe(2);
  expect(p.output).toContain(`${name}: invalid configuration`);
  expect(p.output).toContain('KAFKA_BROKERS: must be a comma-separated list without empty items');
  expect(p.output).toMatch(/(PORT|MANAGEMENT_PORT): must be a port/);
});
