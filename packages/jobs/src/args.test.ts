import { jobUsage, parseJobArgs, JobArgsError } from './args';

const flags = [
  { name: 'full', description: 'resync every row' },
  { name: 'reindex', description: 'rebuild indices' },
];

describe('parseJobArgs', () => {
  it('defaults to the scheduled mode', () => {
    expect(parseJobArgs([], flags)).toEqual({ once: false, help: false, flags: new Set() });
  });
  it('--once runs one job', () => {
    expect(parseJobArgs(['--once'], flags).once).toBe(true);
  });
  it('a job flag implies --once', () => {
    const a = parseJobArgs(['--full'], flags);
    expect(a.once).toBe(true);
    expect([...a.flags]).toEqual(['full']);
  });
  it('names an unknown option', () => {
    expect(() => parseJobArgs(['--fulll'], flags)).toThrow(JobArgsError);
    expect(() => parseJobArgs(['--fulll'], flags)).toThrow(/--fulll/);
  });
  it('refuses positionals', () => {
    expect(() => parseJobArgs(['now'], flags)).toThrow(/now/);
  });
  it('refuses a flag without the one it requires, and two that conflict, naming both', () => {
    const withRules = [
      ...flags,
      { name: 'take-over', description: 'x', requires: ['reindex'] },
      { name: 'init', description: 'y', conflicts: ['reindex', 'full'] },
    ];
    expect(() => parseJobArgs(['--take-over'], withRules)).toThrow(new JobArgsError('--take-over needs --reindex'));
    expect([...parseJobArgs(['--reindex', '--take-over'], withRules).flags]).toEqual(['reindex', 'take-over']);
    expect(() => parseJobArgs(['--init', '--full'], withRules)).toThrow(new JobArgsError('--init cannot be combined with --full'));
  });
  it('usage lists every flag and the exit codes', () => {
    const u = jobUsage('es-sync', 'Copies counts.', flags);
    expect(u).toMatch(/--full/);
    expect(u).toMatch(/--reindex/);
    expect(u).toMatch(/75 another instance/);
  });
});
