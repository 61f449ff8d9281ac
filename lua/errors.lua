-- errors.lua — how an error reaches the user: at the user's line, without
-- nnlab's own frames. An error raised by the library about the user's input
-- (a missing dataset, a wrong argument) is its message at the line of the
-- user's call; an error in the user's own code adds the user's frames; with
-- --traceback every frame is shown. Unknown names get a "did you mean".
-- Error messages are English in every language, as Python's are.
local M = {}

-- A chunk of nnlab's own Lua library ("@lua/nn.lua", or under NNLAB_LUA_PATH).
local function is_library(source)
  local name = source:match("^@lua/([%w_]+)%.lua$")
  if name and package.loaded[name] ~= nil then return true end
  local dev = os.getenv("NNLAB_LUA_PATH")
  if dev and dev ~= "" then
    name = source:match("^@" .. dev:gsub("%p", "%%%0") .. "/([%w_]+)%.lua$")
    if name and package.loaded[name] ~= nil then return true end
  end
  return false
end

local function is_user(info)
  return info.what ~= "C" and not is_library(info.source) and info.currentline and info.currentline > 0
end

-- ---- did you mean ----------------------------------------------------------

-- Optimal string alignment distance (Levenshtein plus swapping two
-- neighbours, so "fti" is one step from "fit").
local function distance(a, b)
  local d = {}
  for i = 0, #a do d[i] = { [0] = i } end
  for j = 0, #b do d[0][j] = j end
  for i = 1, #a do
    for j = 1, #b do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      local v = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:sub(i, i) == b:sub(j - 1, j - 1) and a:sub(i - 1, i - 1) == b:sub(j, j) then
        v = math.min(v, d[i - 2][j - 2] + 1)
      end
      d[i][j] = v
    end
  end
  return d[#a][#b]
end

-- Names of methods and fields: the keys of every table reachable from the
-- library's modules and the metatables of its objects (also through the
-- upvalues of an __index function, where the C bindings keep methods).
local function member_names()
  local names, seen, queue = {}, {}, {}
  local function push(v, depth)
    if depth <= 3 and not seen[v] and v ~= _G then
      seen[v] = true
      queue[#queue + 1] = { v, depth }
    end
  end
  for name in pairs(package.loaded) do
    if is_library("@lua/" .. name .. ".lua") then push(package.loaded[name], 0) end
  end
  for _, mt in pairs(debug.getregistry()) do
    if type(mt) == "table" and type(rawget(mt, "__name")) == "string" and mt.__name:find("^nnlab%.") then
      push(mt, 0)
    end
  end
  local i = 1
  while queue[i] do -- breadth first: each table at its smallest depth
    local v, depth = queue[i][1], queue[i][2]
    i = i + 1
    if type(v) == "table" then
      for k, x in pairs(v) do
        if type(k) == "string" and k:match("^[%a_][%w_]*$") and k:sub(1, 2) ~= "__" then names[k] = true end
        if type(x) == "table" or (type(x) == "function" and (k == "__index" or depth < 1)) then push(x, depth + 1) end
      end
      local mt = getmetatable(v)
      if type(mt) == "table" then push(mt, depth + 1) end
    else
      for u = 1, 8 do
        local n, up = debug.getupvalue(v, u)
        if n == nil then break end
        if type(up) == "table" or type(up) == "function" then push(up, depth + 1) end
      end
    end
  end
  return names
end

local function closest(name, candidates)
  local best, bestd
  local limit = #name <= 4 and 1 or 2
  for c in pairs(candidates) do
    if c ~= name then
      local d = distance(name, c)
      if d <= limit and (not bestd or d < bestd or (d == bestd and c < best)) then best, bestd = c, d end
    end
  end
  return best
end

-- " (did you mean 'fit'?)" for an error about an unknown method, field or
-- global, or "" when nothing is close.
function M.did_you_mean(msg)
  if type(msg) ~= "string" then return "" end
  local kind, name = msg:match("attempt to %a+ a nil value %((%a+) '([%w_]+)'%)")
  if not kind then return "" end
  local candidates
  if kind == "global" then
    candidates = {}
    for k in pairs(_G) do
      if type(k) == "string" then candidates[k] = true end
    end
  elseif kind == "method" or kind == "field" then
    candidates = member_names()
  else
    return ""
  end
  local best = closest(name, candidates)
  return best and string.format(" (did you mean '%s'?)", best) or ""
end

-- The locals of the user's main chunk (a script or lesson) on the stack
-- above `level`, by name: what -i gives the REPL, after the lesson (the
-- runner's last line calls this) or at an error.
function M.main_locals(level)
  for l = level + 1, math.huge do
    local info = debug.getinfo(l, "Sl")
    if not info then return {} end
    if info.what == "main" and is_user(info) then
      local out = {}
      for i = 1, math.huge do
        local name, value = debug.getlocal(l, i)
        if name == nil then break end
        if name:match("^[%a_][%w_]*$") and name ~= "__nnlab_step" then out[name] = value end
      end
      return out
    end
  end
end

-- ---- the message ---------------------------------------------------------

local function frame_line(info)
  local where = info.short_src .. ":" .. info.currentline .. ":"
  if info.what == "main" then return "\t" .. where .. " in main chunk" end
  if info.name then -- worded as Lua's own traceback
    local what = (info.namewhat == "global" or info.namewhat == "") and "function" or info.namewhat
    return string.format("\t%s in %s '%s'", where, what, info.name)
  end
  return string.format("\t%s in function <%s:%d>", where, info.short_src, info.linedefined)
end

-- The text of an error for the user, computed in a message handler (level:
-- the level of the function that raised it, 2 when called from the handler
-- directly). full: every frame (--traceback).
function M.format(e, level, full)
  level = level + 1
  if type(e) ~= "string" then
    local mt = getmetatable(e)
    local ok, s = pcall(tostring, e)
    e = mt and mt.__tostring and ok and s or string.format("(error object is a %s value)", type(e))
  end
  if e:find("interrupted!$") then return e end
  e = e .. M.did_you_mean(e)
  if full then return debug.traceback(e, level) end
  -- who raised it: the user's own code, or the library (Lua or C) on the
  -- user's behalf
  local raiser = debug.getinfo(level, "Sf")
  local by_library = false
  if raiser and raiser.what == "C" and raiser.func ~= error and raiser.func ~= assert then
    by_library = true
  else
    local l = level + ((raiser and raiser.what == "C") and 1 or 0)
    local info = debug.getinfo(l, "S")
    by_library = info ~= nil and info.what ~= "C" and is_library(info.source)
  end
  local user = {}
  for l = level, math.huge do
    local info = debug.getinfo(l, "Sln")
    if not info then break end
    if is_user(info) then user[#user + 1] = info end
  end
  local src, rest = e:match("^([^\n]-):%d+: (.*)$")
  if by_library or not user[1] then
    if src and is_library("@" .. src) then e = rest end
    if user[1] and not (src and not is_library("@" .. src)) then
      e = user[1].short_src .. ":" .. user[1].currentline .. ": " .. e
    end
    return e
  end
  local lines = { e, "stack traceback:" }
  for _, info in ipairs(user) do lines[#lines + 1] = frame_line(info) end
  return table.concat(lines, "\n")
end

return M
