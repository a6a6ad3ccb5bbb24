/**
 * Takes the pending hash: RENAME it to the flush's own key and register the flush id, in one atomic
 * step. Redis runs a script without interleaving, so a counter batch lands either wholly before (in
 * the taken hash) or wholly after (in a fresh pending hash the counter's HINCRBY creates) — and of two
 * flushers racing, only the first finds a pending hash to rename.
 * KEYS: pending hash, flushing hash, flush registry set. ARGV: flush id. Returns 1 taken, 0 nothing pending.
 */
export const TAKE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
`;

/**
 * After MySQL committed a flush: display = MySQL value + the delta pending right now, per key, in
 * one atomic step (a counter batch cannot land between the HGET and the SET). This corrects the
 * drift a re-seed during the flush can cause (the counter read MySQL before the commit).
 * KEYS[1]: pending hash, KEYS[2..]: display keys. ARGV: per display key, pending field and MySQL value.
 * Integers up to 2^53 are exact in Lua's doubles; '%.0f' keeps large ones out of exponent notation.
 */
export const REALIGN_SCRIPT = `
local pending = KEYS[1]
for i = 2, #KEYS do
  local b = (i - 2) * 2 + 1
  local p = tonumber(redis.call('HGET', pending, ARGV[b]) or '0')
  redis.call('SET', KEYS[i], string.format('%.0f', tonumber(ARGV[b + 1]) + p))
end
return #KEYS - 1
`;
