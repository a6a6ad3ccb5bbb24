import type { SinkBinding } from '@tally/kafka';
import { classifyStoreError } from '@tally/runtime';
import type { Sender } from './subjects';
import type { ForgottenSet } from './tombstones';

/**
 * The binding with forgotten people's events taken out of every chunk before the sink sees it, so
 * neither the live consumer nor `tally replay` (which runs the same bindings) brings their data back,
 * and no aggregate moves for a late event of theirs. The offsets still advance past them (the chunk
 * is done): skipping is the effect. A chunk left empty is handed on only to sinks that record their
 * progress from empty chunks (handleEmptyChunks).
 */
export function skippingForgotten<T>(
  binding: SinkBinding<T>,
  forgotten: ForgottenSet,
  senderOf: (value: T) => Sender,
  onSkip: (topic: string, count: number) => void = () => undefined,
): SinkBinding<T> {
  return {
    ...binding,
    handle: async (batch) => {
      try {
        await forgotten.refresh();
      } catch (error) {
        // MySQL unreachable: transient, the runner retries the chunk; the table missing: a schema error.
        return { kind: 'retry', error: classifyStoreError(error) };
      }
      if (forgotten.size === 0) return binding.handle(batch);
      const kept = batch.messages.filter((m) => !forgotten.has(senderOf(m.value)));
      const skipped = batch.messages.length - kept.length;
      if (skipped === 0) return binding.handle(batch);
      onSkip(batch.topic, skipped);
      if (kept.length === 0 && !binding.handleEmptyChunks) return { kind: 'done' };
      return binding.handle({ ...batch, messages: kept });
    },
  };
}
