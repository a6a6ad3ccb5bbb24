/**
 * Settings that changed name: old → new. The old name keeps working so a deployment upgrades
 * without editing its environment first; loadConfig warns once per process, naming both.
 */
export const RENAMED_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  // counter and event-logger said PARTITIONS_CONCURRENTLY, history (and its README) PARTITION_CONCURRENCY.
  PARTITIONS_CONCURRENTLY: 'PARTITION_CONCURRENCY',
});

/**
 * The environment with each renamed setting under its new name, and one warning per old name set:
 * the old value is used only when the new name is unset; when both are set the new one wins.
 */
export function applyRenamed(
  env: Readonly<Record<string, string>>,
  renamed: Readonly<Record<string, string>> = RENAMED_SETTINGS,
): { env: Record<string, string>; warnings: string[] } {
  const out = { ...env };
  const warnings: string[] = [];
  for (const [oldName, newName] of Object.entries(renamed)) {
    const old = out[oldName];
    if (old === undefined) continue;
    delete out[oldName];
    if (out[newName] === undefined) {
      out[newName] = old;
      warnings.push(`${oldName} is deprecated: set ${newName} instead (using ${oldName}=${old} for now)`);
    } else {
      warnings.push(`${oldName} is deprecated and ignored: ${newName} is also set and wins; unset ${oldName}`);
    }
  }
  return { env: out, warnings };
}
