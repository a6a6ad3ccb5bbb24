/**
 * One atomic step per partition chunk (Redis runs a script without interleaving other commands):
 *   1. compare-and-set guard: the partition's applied offset must still be what this consumer read,
 *      else another member (after a rebalance) or a zombie advanced it → "conflict", nothing written;
 *   2. per effect: skip an event id counted within the dedup window (SET NX EX);
 *   3. seed a missing display key from MySQL (passed in) + its pending delta, then INCRBY the summed
 *      delta; HINCRBY the pending hash (what the flusher will move to MySQL);
 *   4. record the chunk's last offset as applied and as covered by the pending hash.
 * KEYS: applied hash, pending hash. ARGV: appliedField, expected ('' = none), newOffset,
 *   pendingOffsetField, dedupTtlSeconds, nEffects, then per effect: seenKey, displayKey, pendingField,
 *   delta, seed ('' = not read: the key existed when checked).
 * Returns {'ok', counted, duplicates} | {'conflict', current} | {'need_seed', displayKey}.
 */
export const APPLY_SCRIPT = `
local applied, pending = KEYS[1], KEYS[2]
local field, expected, newOffset, offField = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ttl, n = tonumber(ARGV[5]), tonumber(ARGV[6])
local current = redis.call('HGET', applied, field) or ''
if current ~= expected then return {'conflict', current} end
-- Every display key must exist or come with a seed; checked before any write, so a 'need_seed'
-- answer leaves Redis untouched (the caller reads MySQL for it and calls again).
for i = 0, n - 1 do
  local b = 7 + i * 5
  if ARGV[b + 4] == '' and redis.call('EXISTS', ARGV[b + 1]) == 0 then return {'need_seed', ARGV[b + 1]} end
end
local sums, seeds, order = {}, {}, {}
local counted, dups = 0, 0
for i = 0, n - 1 do
  local b = 7 + i * 5
  local seenKey, displayKey, pendingField = ARGV[b], ARGV[b + 1], ARGV[b + 2]
  local delta, seed = tonumber(ARGV[b + 3]), ARGV[b + 4]
  if seed ~= '' then seeds[displayKey] = seed end
  if redis.call('SET', seenKey, '1', 'NX', 'EX', ttl) then
    if sums[displayKey] == nil then
      sums[displayKey] = 0
      order[#order + 1] = {displayKey, pendingField}
    end
    sums[displayKey] = sums[displayKey] + delta
    counted = counted + 1
  else
    dups = dups + 1
  end
end
for _, kp in ipairs(order) do
  local displayKey, pendingField = kp[1], kp[2]
  if redis.call('EXISTS', displayKey) == 0 then
    local p = tonumber(redis.call('HGET', pending, pendingField) or '0')
    redis.call('SET', displayKey, tonumber(seeds[displayKey] or '0') + p)
  end
  if sums[displayKey] ~= 0 then
    redis.call('INCRBY', displayKey, sums[displayKey])
    redis.call('HINCRBY', pending, pendingField, sums[displayKey])
  end
end
redis.call('HSET', applied, field, newOffset)
redis.call('HSET', pending, offField, newOffset)
return {'ok', counted, dups}
`;
