import { z } from 'zod';
import { baseConfigSchema, ConfigError, loadConfig, bool, durationMs, port } from './index';

describe('loadConfig', () => {
  it('gives the local-stack defaults when nothing is set', () => {
    const c = loadConfig(baseConfigSchema, {});
    expect(c.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(c.MYSQL_URL).toBe('mysql://tally:tally@127.0.0.1:3306/tally');
    expect(c.ES_FLAVOR).toBe('opensearch');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('parses typed values from strings', () => {
    const schema = baseConfigSchema.extend({
      PORT: port().default(8080),
      DEBUG: bool().default('false'),
      FLUSH: durationMs().default('5m'),
    });
    const c = loadConfig(schema, { KAFKA_BROKERS: 'a:1, b:2', PORT: '9000', DEBUG: 'yes', FLUSH: '30s' });
    expect(c.KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
    expect(c).toMatchObject({ PORT: 9000, DEBUG: true, FLUSH: 30_000 });
    expect(loadConfig(schema, {}).FLUSH).toBe(300_000);
  });

  it('names every bad variable and the reason', () => {
    const schema = baseConfigSchema.extend({ PORT: port(), SECRET: z.string() });
    let err: unknown;
    try {
      loadConfig(schema, { PORT: '70000', ES_FLAVOR: 'solr', KAFKA_BROKERS: 'a:1,,b:2' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        { variable: 'PORT', reason: 'must be a port from 1 to 65535' },
        { variable: 'SECRET', reason: 'is required but not set' },
        { variable: 'KAFKA_BROKERS', reason: 'must be a comma-separated list without empty items' },
        expect.objectContaining({ variable: 'ES_FLAVOR' }),
      ]),
    );
    expect((err as Error).message).toContain('PORT: must be a port from 1 to 65535');
  });

  it('treats an empty string as unset', () => {
    expect(loadConfig(baseConfigSchema, { REDIS_URL: '' }).REDIS_URL).toBe('redis://127.0.0.1:6379');
  });

  it('rejects malformed durations and booleans', () => {
    const schema = z.object({ D: durationMs(), B: bool() });
    expect(() => loadConfig(schema, { D: 'soon', B: 'maybe' })).toThrow(/D: must be a duration[\s\S]*B: must be true or false/);
  });
});
