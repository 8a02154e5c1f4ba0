-- The scripting sandbox, run once when a thread's Lua state is made,
-- before any script. Redis 7.0 makes the globals and every library
-- table read-only; stock Lua 5.1 cannot, so each table a script can
-- reach is replaced by an empty proxy that reads through to it and
-- refuses writes. The functions that write around __newindex (rawset,
-- table.insert, table.remove, table.sort) refuse proxies, and the ones
-- that walk a table (next, pairs) see through them.
--
-- Arguments: the real globals, with `redis` and Redis's math.random
-- already in place (from Rust); `stopping()`, true once the running
-- script was killed: the protected calls below re-raise then, so that a
-- script cannot catch its own kill (Redis makes sure of it by raising the
-- kill on every line); and `register_function` (from Rust), for the
-- library API.
-- Returns: the protected globals (the scripts' environment; KEYS and
-- ARGV are set in the real ones for each run, `invoke.rs`), the
-- functions' environment, the function that switches it to the library
-- API and back, and the functions' globals (the thread's globals while a
-- function runs, so that a chunk it loads gets them, `invoke.rs`).
local G, stopping, register_function = ...

local error, type, tostring, select = error, type, tostring, select
local setmetatable, getmetatable = setmetatable, getmetatable
local raw_rawset, raw_next, raw_loadstring = rawset, next, loadstring
local tinsert, tremove, tsort = table.insert, table.remove, table.sort
local concat = table.concat

-- proxy -> the table it stands for
local real_of = setmetatable({}, { __mode = 'k' })

local function readonly()
  error('Attempt to modify a readonly table', 2)
end

local function refuse_proxy(t)
  if real_of[t] then
    error('Attempt to modify a readonly table', 0)
  end
end

local function protect(t)
  local p = {}
  real_of[p] = t
  setmetatable(p, { __index = t, __newindex = readonly, __metatable = false })
  return p
end

-- Redis 7.0's globals are these and no more (no print, dofile,
-- loadfile, getfenv, setfenv, newproxy, module, require).
for _, name in ipairs({ 'print', 'dofile', 'loadfile', 'getfenv', 'setfenv', 'newproxy',
  'module', 'require', 'package', 'io', 'os', 'debug' }) do
  G[name] = nil
end

-- Redis's pcall: an error table with an `err` field is caught as its
-- message, as Redis 6's string errors were.
local raw_pcall = pcall
local function caught(ok, ...)
  if ok then
    return true, ...
  end
  local e = ...
  if stopping() then
    error(e, 0)
  end
  if type(e) == 'table' then
    local msg = e.err
    if type(msg) == 'string' or type(msg) == 'number' then
      e = msg
    end
  end
  return false, e
end
G.pcall = function(...)
  return caught(raw_pcall(...))
end

local raw_xpcall = xpcall
local function rethrow_if_stopping(ok, ...)
  if not ok and stopping() then
    error((...), 0)
  end
  return ok, ...
end
G.xpcall = function(f, handler)
  return rethrow_if_stopping(raw_xpcall(f, handler))
end
local raw_resume = coroutine.resume
G.coroutine.resume = function(co, ...)
  return rethrow_if_stopping(raw_resume(co, ...))
end

-- Writes that bypass __newindex refuse the proxies.
G.rawset = function(t, k, v)
  refuse_proxy(t)
  return raw_rawset(t, k, v)
end
G.table.insert = function(t, ...)
  refuse_proxy(t)
  return tinsert(t, ...)
end
G.table.remove = function(t, ...)
  refuse_proxy(t)
  return tremove(t, ...)
end
G.table.sort = function(t, ...)
  refuse_proxy(t)
  return tsort(t, ...)
end
-- Walks see the table a proxy stands for, without handing it out.
G.next = function(t, k)
  return raw_next(real_of[t] or t, k)
end
local next = G.next
G.pairs = function(t)
  return next, t, nil
end

-- Bytecode is read as text, as Redis 7.0 reads it (its loader refuses
-- binary chunks): a crafted one could corrupt the interpreter.
local function text_only(s, name)
  if s:byte(1) == 27 then
    return raw_loadstring(' ' .. s, name or s)
  end
  return raw_loadstring(s, name)
end
G.loadstring = function(s, name)
  if type(s) ~= 'string' then
    return raw_loadstring(s, name)
  end
  return text_only(s, name)
end
G.load = function(reader, name)
  if type(reader) ~= 'function' then
    error("bad argument #1 to 'load' (function expected, got " .. type(reader) .. ')', 2)
  end
  local parts = {}
  while true do
    local piece = reader()
    if piece == nil or piece == '' then break end
    if type(piece) ~= 'string' then
      return nil, 'reader function must return a string'
    end
    parts[#parts + 1] = piece
  end
  return text_only(concat(parts), name or '=(load)')
end

-- A global that does not exist is an error, as in Redis.
local missing = {
  __index = function(_, name)
    error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
  end,
}
setmetatable(G, missing)
local real_redis = rawget(G, 'redis')

-- Every library table, and the string metatable, behind a proxy.
for _, name in ipairs({ 'string', 'math', 'table', 'coroutine', 'redis', 'bit', 'struct', 'cjson',
  'cmsgpack' }) do
  local lib = rawget(G, name)
  if lib ~= nil then
    raw_rawset(G, name, protect(lib))
  end
end
local string_meta = getmetatable('')
string_meta.__index = rawget(G, 'string')
string_meta.__metatable = protect(string_meta)

local env = protect(G)
raw_rawset(G, '_G', env)

-- Functions. Redis 7.0 gives them a Lua state of their own, whose globals
-- are a script's but for KEYS, ARGV, the error handler and the
-- debugger's entries in `redis`. Every library's code runs in one
-- environment, read-only, which reads through to the library API while a
-- library loads (`redis.register_function`, `redis.log` and the
-- constants, nothing else) and to the functions' globals otherwise.
local FG = {}
for k, v in raw_next, G do
  FG[k] = v
end
local function_redis = {}
for k, v in raw_next, real_redis do
  if k ~= 'breakpoint' and k ~= 'debug' and k ~= 'replicate_commands' then
    function_redis[k] = v
  end
end
FG.redis = protect(function_redis)
setmetatable(FG, missing)
local function_globals = protect(FG)
raw_rawset(FG, '_G', function_globals)

local library_redis = { register_function = register_function }
for _, k in ipairs({ 'log', 'LOG_DEBUG', 'LOG_VERBOSE', 'LOG_NOTICE', 'LOG_WARNING', 'REDIS_VERSION',
  'REDIS_VERSION_NUM' }) do
  library_redis[k] = real_redis[k]
end
local library_api = protect(setmetatable({ redis = protect(setmetatable(library_redis, missing)) },
  missing))

local function_env = {}
local function_meta = { __index = function_globals, __newindex = readonly, __metatable = false }
setmetatable(function_env, function_meta)

local function set_loading(on)
  function_meta.__index = on and library_api or function_globals
end

return env, function_env, set_loading, function_globals
