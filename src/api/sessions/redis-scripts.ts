// Lua scripts of the Redis session store. Each runs atomically on the Redis server and
// reads the server's clock (TIME), so that every API copy agrees on expiry. A session is
// a hash {user, csrf, exp, epoch} (epoch: the user's session epoch at login) whose key TTL is the smaller of the idle timeout and the time
// left until its absolute expiry `exp` (milliseconds since the epoch).

/** KEYS[1] session key; ARGV[1] user id, ARGV[2] CSRF token, ARGV[3] absolute lifetime ms, ARGV[4] idle timeout ms, ARGV[5] the user's session epoch */
export const REDIS_SESSION_CREATE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'user', ARGV[1], 'csrf', ARGV[2], 'exp', string.format('%.0f', now + tonumber(ARGV[3])), 'epoch', ARGV[5])
redis.call('PEXPIRE', KEYS[1], math.min(tonumber(ARGV[3]), tonumber(ARGV[4])))
return 1`;

/** The session's {user, csrf, exp, epoch}, its TTL slid to the idle timeout (never past `exp`); nil when gone.
 * KEYS[1] session key; ARGV[1] idle timeout ms */
export const REDIS_SESSION_TOUCH = `
local s = redis.call('HMGET', KEYS[1], 'user', 'csrf', 'exp', 'epoch')
if not s[1] or not s[3] then return nil end
local t = redis.call('TIME')
local left = tonumber(s[3]) - (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
if left <= 0 then
  redis.call('DEL', KEYS[1])
  return nil
end
redis.call('PEXPIRE', KEYS[1], math.min(tonumber(ARGV[1]), left))
return {s[1], s[2], s[3], s[4]}`;
