import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerSettings {
  service: string;
  level: string;
  /** Replace ips and user agents in log lines (IP anonymization is on). */
  redactPersonalData?: boolean;
  /** Where to write; defaults to stdout (tests pass a stream). */
  destination?: pino.DestinationStream;
}

// Paths where events and requests carry personal data; pino censors them at serialization time.
const PERSONAL_PATHS = [
  'ip',
  'user_agent',
  '*.ip',
  '*.user_agent',
  'event.ip',
  'event.user_agent',
  'req.remoteAddress',
  'req.headers["user-agent"]',
];

/** JSON logs with the service name on every line; children add partition, topic, request id. */
export function createLogger(s: LoggerSettings): Logger {
  return pino(
    {
      level: s.level,
      base: { service: s.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: s.redactPersonalData ? { paths: PERSONAL_PATHS, censor: '[redacted]' } : undefined,
      formatters: { level: (label) => ({ level: label }) },
    },
    s.destination,
  );
}
