/**
 * Takes the pending hash: RENAME it to the flush's own key and register the flush id, in one atomic
 * step. Redis runs a script without interleaving, so a counter batch lands either wholly before (in
 * the taken hash) or wholly after (in a fresh pending hash the counter's HINCRBY creates) — and of two
 * flushers racing, only the first finds a pending hash to rename. The flush generation moves with
 * it, so a seed whose MySQL read came before the take is noted (noteReseedLua, @tally/layout).
 * KEYS: pending hash, flushing hash, flush registry set, flush generation. ARGV: flush id. Returns 1
 * taken, 0 nothing pending.
 */
export const TAKE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('INCR', KEYS[4])
return 1
`;

/**
 * Takes the set of display keys seeded while a flush may have been in progress (RENAME), merging it
 * into one a killed run left (SUNIONSTORE), so a seed noted meanwhile goes to a fresh set and waits
 * for the next run instead of being dropped with this one.
 * KEYS: realign set, taken realign set. Returns the taken set's size.
 */
export const TAKE_REALIGN_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('EXISTS', KEYS[2]) == 1 then
    redis.call('SUNIONSTORE', KEYS[2], KEYS[2], KEYS[1])
    redis.call('DEL', KEYS[1])
  else
    redis.call('RENAME', KEYS[1], KEYS[2])
  end
end
return redis.call('SCARD', KEYS[2])
`;

/**
 * After a flush is committed and cleaned up: display = MySQL value + the delta pending right now, per
 * key, in one atomic step (a counter batch cannot land between the read of the pending hash and the
 * SET), for the keys noted as seeded while a flush may have been in progress (a seed that read
 * MySQL before the commit misses that flush's deltas).
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
