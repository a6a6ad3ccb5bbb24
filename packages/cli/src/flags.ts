import { InvalidArgumentError } from 'commander';
import { DURATION_FORMAT, tryParseDuration } from '@tally/config';

// Flag parsers shared by the commands: each error names the flag and becomes commander's exit 2.

export const positiveInt = (name: string) => (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`${name} must be a positive whole number`);
  return Number(v);
};

/** A parser whose error message (naming the flag) becomes commander's invalid-argument error (exit 2). */
export const parsedBy =
  <T>(parse: (v: string) => T) =>
  (v: string): T => {
    try {
      return parse(v);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };

/** A duration by the one rule of every setting (@tally/config); the error names the flag. */
export const durationFlag = (flag: string) =>
  parsedBy((v: string) => {
    const ms = tryParseDuration(v);
    if (ms === undefined) throw new Error(`${flag}: "${v}" is not a duration (examples: ${DURATION_FORMAT})`);
    return ms;
  });
