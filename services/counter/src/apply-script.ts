import { noteReseedLua } from '@tally/layout';

/**
 * One atomic step per partition chunk (Redis runs a script without interleaving other commands):
 *   1. compare-and-set guard: the partition's applied offset must still be what this consumer read,
 *      else another member (after a rebalance) or a zombie advanced it → "conflict", nothing written;
 *   2. per count effect (view, download): skip an event id counted within the dedup window (SET NX EX);
 *   3. per state effect (like/unlike, rating, watchlist): compare with the user's stored state (or its
 *      MySQL seed) by (occurred_at, event_id); only a newer change is stored (state hash and pending
 *      hash), and it moves the figures: a flag by new − old (0 when the user already was in that
 *      state), a rating's count by (new > 0) − (old > 0) and its sum by new − old. No
 *      dedup key: a retry or a replay carries the same rank, which is never newer than itself;
 *   4. seed a missing display key from MySQL (passed in) + its pending delta, then INCRBY the summed
 *      delta; HINCRBY the pending hash (what the flusher will move to MySQL); a key seeded while a
 *      flush may have been in progress is noted for the flusher's re-align (noteReseedLua);
 *   5. record the chunk's last offset as applied and as covered by the pending hash.
 * KEYS: applied hash, pending hash, flush registry, flush generation, realign set. ARGV: appliedField,
 *   expected ('' = none), newOffset, pendingOffsetField, dedupTtlSeconds, nEffects, then one JSON array of strings (A below; one
 *   argument instead of thousands: building and writing each argument was the counter's largest
 *   cost per event, and Redis parses one JSON text faster than as many protocol arguments, #19)
 *   holding per effect (5): seenKey, displayKey,
 *   pendingField, delta, seed ('' = not read: the key existed when checked); then nStates, and per
 *   state (14): stateKey, userField, at, eventId, value, pendingStateField, stateSeed ('' = the field
 *   existed when checked; else `at|eventId|value` from MySQL or '0||0'), kind ('flag' | 'rating'),
 *   then two (displayKey, pendingField, displaySeed) triples: a flag's figure (second triple empty),
 *   or a rating's count and sum; last, the flush generation read before the seeds' MySQL read ('' =
 *   none, or no seeds read).
 * Returns {'ok', counted, duplicates, unchanged} | {'conflict', current} | {'need_seed', key}:
 * duplicates are client retries absorbed by the dedup window (reprocessing), unchanged are state
 * changes that were not newer than the user's state (an older event, a like by a liker): normal traffic.
 */
export const APPLY_SCRIPT = `
local applied, pending = KEYS[1], KEYS[2]
local field, expected, newOffset, offField = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ttl, n = tonumber(ARGV[5]), tonumber(ARGV[6])
local A = cjson.decode(ARGV[7])
${noteReseedLua({ flushes: 'KEYS[3]', generation: 'KEYS[4]', realign: 'KEYS[5]', seen: 'ARGV[8]' })}
local sb = 1 + n * 5
local ns = tonumber(A[sb] or '0')
local current = redis.call('HGET', applied, field) or ''
if current ~= expected then return {'conflict', current} end
-- Every display key and user state must exist or come with a seed; checked before any write, so a
-- 'need_seed' answer leaves Redis untouched (the caller reads MySQL for it and calls again).
-- A key found here still exists at the end: nothing else runs during a script, and expiry uses the
-- script's start time. So each display key is asked once (a popular movie's come many times a chunk).
local exists = {}
local function present(key)
  if exists[key] then return true end
  if redis.call('EXISTS', key) == 1 then
    exists[key] = true
    return true
  end
  return false
end
for i = 0, n - 1 do
  local b = 1 + i * 5
  if A[b + 4] == '' and not present(A[b + 1]) then return {'need_seed', A[b + 1]} end
end
for j = 0, ns - 1 do
  local b = sb + 1 + j * 14
  if A[b + 6] == '' and redis.call('HEXISTS', A[b], A[b + 1]) == 0 then return {'need_seed', A[b]} end
  for _, k in ipairs({b + 8, b + 11}) do
    if A[k] ~= '' and A[k + 2] == '' and not present(A[k]) then return {'need_seed', A[k]} end
  end
end
local sums, seeds, order = {}, {}, {}
local counted, dups, unchanged = 0, 0, 0
local function add(displayKey, pendingField, delta, seed)
  if seed ~= '' then seeds[displayKey] = seed end
  if sums[displayKey] == nil then
    sums[displayKey] = 0
    order[#order + 1] = {displayKey, pendingField}
  end
  sums[displayKey] = sums[displayKey] + delta
end
for i = 0, n - 1 do
  local b = 1 + i * 5
  if redis.call('SET', A[b], '1', 'NX', 'EX', ttl) then
    add(A[b + 1], A[b + 2], tonumber(A[b + 3]), A[b + 4])
    counted = counted + 1
  else
    if A[b + 4] ~= '' then seeds[A[b + 1]] = A[b + 4] end
    dups = dups + 1
  end
end
local function b2n(x) if x > 0 then return 1 end return 0 end
for j = 0, ns - 1 do
  local b = sb + 1 + j * 14
  local stateKey, user, at, eid, value = A[b], A[b + 1], tonumber(A[b + 2]), A[b + 3], tonumber(A[b + 4])
  local cur = redis.call('HGET', stateKey, user) or A[b + 6]
  local cAt, cId, cVal = string.match(cur, '^(%d+)|([^|]*)|(%d+)$')
  cAt, cVal = tonumber(cAt), tonumber(cVal)
  if at > cAt or (at == cAt and eid > cId) then
    local s = A[b + 2] .. '|' .. eid .. '|' .. A[b + 4]
    redis.call('HSET', stateKey, user, s)
    redis.call('HSET', pending, A[b + 5], s)
    if A[b + 7] == 'rating' then
      add(A[b + 8], A[b + 9], b2n(value) - b2n(cVal), A[b + 10])
      add(A[b + 11], A[b + 12], value - cVal, A[b + 13])
    else
      add(A[b + 8], A[b + 9], value - cVal, A[b + 10])
    end
    counted = counted + 1
  else
    for _, k in ipairs({b + 8, b + 11}) do
      if A[k] ~= '' and A[k + 2] ~= '' then seeds[A[k]] = A[k + 2] end
    end
    unchanged = unchanged + 1
  end
end
for _, kp in ipairs(order) do
  local displayKey, pendingField = kp[1], kp[2]
  if not present(displayKey) then
    local p = tonumber(redis.call('HGET', pending, pendingField) or '0')
    redis.call('SET', displayKey, tonumber(seeds[displayKey] or '0') + p)
    noteReseed(pendingField)
  end
  if sums[displayKey] ~= 0 then
    redis.call('INCRBY', displayKey, sums[displayKey])
    redis.call('HINCRBY', pending, pendingField, sums[displayKey])
  end
end
redis.call('HSET', applied, field, newOffset)
redis.call('HSET', pending, offField, newOffset)
return {'ok', counted, dups, unchanged}
`;
