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
 * one atomic step (a counter batch cannot land between the read of the pending hash and the SET).
 * This corrects the drift a re-seed during the flush can cause (the counter read MySQL before the
 * commit).
 * KEYS[1]: pending hash, KEYS[2..n+1]: display keys. ARGV[1]: their pending fields, ARGV[2]: their
 * MySQL values, each comma-separated, in the keys' order (realignArgs).
 * One HMGET and one MSET per 1,000 keys instead of an HGET and a SET per key: ~4.5 → ~3.7 µs of
 * Redis time per key on the 2-core bench box. Lua's unpack stops near 8,000 values, hence the
 * sub-batches.
 * A key with nothing pending takes the MySQL value as sent; otherwise the sum is exact up to 2^53 in
 * Lua's doubles, and '%.0f' keeps large ones out of exponent notation.
 */
export const REALIGN_SCRIPT = `
local pending = KEYS[1]
local n = #KEYS - 1
local fields, values = {}, {}
for f in string.gmatch(ARGV[1], '[^,]+') do fields[#fields + 1] = f end
for v in string.gmatch(ARGV[2], '[^,]+') do values[#values + 1] = v end
if #fields ~= n or #values ~= n then return redis.error_reply('realign: ' .. n .. ' keys, ' .. #fields .. ' fields, ' .. #values .. ' values') end
for s = 1, n, 1000 do
  local e = math.min(s + 999, n)
  local p = redis.call('HMGET', pending, unpack(fields, s, e))
  local kv = {}
  for i = s, e do
    local v = values[i]
    local d = p[i - s + 1]
    if d then v = string.format('%.0f', tonumber(v) + tonumber(d)) end
    kv[#kv + 1] = KEYS[i + 1]
    kv[#kv + 1] = v
  end
  redis.call('MSET', unpack(kv))
end
return n
`;
