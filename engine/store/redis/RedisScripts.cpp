// SPDX-License-Identifier: GPL-3.0-or-later
#include "RedisScripts.h"

#include <QCryptographicHash>

namespace greygate {

const QByteArray &RedisScripts::decide()
{
    // Kept in step with GreylistEngine::decide() (engine/greylist): the same verdicts at the
    // same edges. Deferred triplets live for the window plus a grace period, so that the
    // sweep that claims the window's end can still read the attempts.
    static const QByteArray script = QByteArrayLiteral(R"LUA(
local t = redis.call('TIME')
local now = tonumber(t[1])
local delay = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local life = tonumber(ARGV[3])
local awl = tonumber(ARGV[4])
local grace = tonumber(ARGV[5])
local function notePass()
  if awl == 0 then return end
  local c = redis.call('HMGET', KEYS[2], 'passes', 'counted')
  if not c[1] then
    redis.call('HSET', KEYS[2], 'passes', 1, 'last', now, 'counted', now)
  else
    redis.call('HSET', KEYS[2], 'last', now)
    if now - tonumber(c[2]) >= delay then
      redis.call('HINCRBY', KEYS[2], 'passes', 1)
      redis.call('HSET', KEYS[2], 'counted', now)
    end
  end
  redis.call('EXPIRE', KEYS[2], life)
end
if awl > 0 then
  local passes = tonumber(redis.call('HGET', KEYS[2], 'passes') or '0')
  if passes >= awl then
    redis.call('HSET', KEYS[2], 'last', now)
    redis.call('EXPIRE', KEYS[2], life)
    if redis.call('HGET', KEYS[1], 'status') == '0' then
      redis.call('DEL', KEYS[1])
    end
    return {3, 0, 0, 0, 0, now, 0, 0, 0}
  end
end
local h = redis.call('HMGET', KEYS[1], 'status', 'first', 'last', 'attempts')
local pfirst, pattempts = 0, 0
if h[1] then
  local first = tonumber(h[2])
  local attempts = tonumber(h[4])
  if h[1] == '1' then
    if now - tonumber(h[3]) < life then
      attempts = attempts + 1
      redis.call('HSET', KEYS[1], 'last', now, 'attempts', attempts)
      redis.call('EXPIRE', KEYS[1], life)
      notePass()
      return {2, attempts, first, 0, 0, now, 0, 0, 0}
    end
  else
    local elapsed = now - first
    if elapsed < window then
      attempts = attempts + 1
      if elapsed < delay then
        redis.call('HSET', KEYS[1], 'last', now, 'attempts', attempts)
        local wait = delay - math.max(elapsed, 0)
        return {0, attempts, first, wait, 0, now, 0, 0, 0}
      end
      redis.call('HSET', KEYS[1], 'status', 1, 'last', now, 'passed', now, 'attempts', attempts)
      redis.call('EXPIRE', KEYS[1], life)
      notePass()
      return {1, attempts, first, 0, elapsed, now, 0, 0, 0}
    end
    pfirst, pattempts = first, attempts
  end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'status', 0, 'first', now, 'last', now, 'passed', 0, 'attempts', 1)
if pfirst > 0 then
  redis.call('HSET', KEYS[1], 'pfirst', pfirst, 'pattempts', pattempts)
end
redis.call('EXPIRE', KEYS[1], window + grace)
return {0, 1, now, delay, 0, now, 1, pfirst, pattempts}
)LUA");
    return script;
}

const QByteArray &RedisScripts::expire()
{
    static const QByteArray script = QByteArrayLiteral(R"LUA(
local h = redis.call('HMGET', KEYS[1], 'status', 'first', 'attempts', 'pfirst', 'pattempts')
if h[1] == '0' and h[2] == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return tonumber(h[3])
end
if h[4] == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'pfirst', 'pattempts')
  return tonumber(h[5])
end
return false
)LUA");
    return script;
}

const QByteArray &RedisScripts::due()
{
    static const QByteArray script = QByteArrayLiteral(R"LUA(
local t = redis.call('TIME')
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', t[1], 'LIMIT', 0, tonumber(ARGV[1]))
)LUA");
    return script;
}

const QByteArray &RedisScripts::release()
{
    // As GreylistEngine::release(); a deferred triplet whose window has closed is what the
    // sweep is about to claim: not in the queue any more.
    static const QByteArray script = QByteArrayLiteral(R"LUA(
local t = redis.call('TIME')
local now = tonumber(t[1])
local h = redis.call('HMGET', KEYS[1], 'status', 'first')
if not h[1] then return 0 end
if h[1] == '1' then return 2 end
if now - tonumber(h[2]) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'status', 1, 'last', now, 'passed', now)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
)LUA");
    return script;
}

const QByteArray &RedisScripts::remove()
{
    static const QByteArray script = QByteArrayLiteral(R"LUA(
local t = redis.call('TIME')
local h = redis.call('HMGET', KEYS[1], 'status', 'first')
if not h[1] then return 0 end
if h[1] == '0' and tonumber(t[1]) - tonumber(h[2]) >= tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
return 1
)LUA");
    return script;
}

const QByteArray &RedisScripts::maxRevision()
{
    static const QByteArray script = QByteArrayLiteral(R"LUA(
local r = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > r then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
)LUA");
    return script;
}

QByteArray RedisScripts::sha1(const QByteArray &script)
{
    return QCryptographicHash::hash(script, QCryptographicHash::Sha1).toHex();
}

} // namespace greygate
