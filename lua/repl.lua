-- repl.lua — what the interactive session does with the lines repl.c reads:
-- compile them (as an expression first, as lua.c does, so `2+2` prints 4),
-- wait for more lines while the statement is incomplete, run the chunk, print
-- its results readably, and list the completions for the Tab key.
local i18n = require "i18n"
local M = {}

local MAX_DEPTH = 3     -- nested tables deeper than this print as {...}
local MAX_ITEMS = 30    -- entries shown per table before "... (N more)"
local WIDTH = 78        -- a table whose entries fit in this prints on one line

local pending = nil     -- the lines of a statement that is not complete yet

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in
  local nil not or repeat return then true until while]]):gmatch("%a+") do
  KEYWORDS[w] = true
end

function M.banner()
  local v = nnlab and nnlab.version or "?"
  print(i18n.t("repl.banner", v, _VERSION))
  return false
end

-- ---- printing -------------------------------------------------------------

local function mt_field(v, name)
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, name) or nil
end

local function type_name(v)
  local n = mt_field(v, "__name")
  return type(n) == "string" and n:gsub("^nnlab%.", "") or nil
end

local function is_tensor(v) return type(v) == "userdata" and mt_field(v, "__name") == "nnlab.Tensor" end

local function dims(t)
  local ok, shape = pcall(function() return t:shape() end)
  if not ok or type(shape) ~= "table" then return "?" end
  if #shape == 0 then return "scalar" end
  return table.concat(shape, "x")
end

local function brief_tensor(t)
  local ok, dt = pcall(function() return t.dtype end)
  return string.format("Tensor(%s %s)", dims(t), ok and tostring(dt) or "?")
end

local function safe_tostring(v)
  local ok, s = pcall(tostring, v)
  if ok and type(s) == "string" then return s end
  return string.format("<%s: tostring failed: %s>", type(v), tostring(s))
end

local function quote(s)
  return (string.format("%q", s):gsub("\\\n", "\\n"))
end

local function is_dataset(v)
  return type(v) == "table" and is_tensor(rawget(v, "X")) and is_tensor(rawget(v, "y"))
end

-- "mnist-train: X 60000x28x28 uint8, y 60000 int32, 10 classes: 0, 1, ..."
local function describe_dataset(ds)
  local parts = { i18n.t("data.repl", tostring(rawget(ds, "name") or "?"),
    brief_tensor(ds.X):match("%((.*)%)"), brief_tensor(ds.y):match("%((.*)%)")) }
  local classes = rawget(ds, "classes")
  if type(classes) == "table" then
    local names = {}
    for i = 1, math.min(#classes, 10) do names[i] = tostring(classes[i]) end
    if #classes > 10 then names[#names + 1] = "..." end
    parts[#parts + 1] = i18n.t("data.repl_classes", #classes, table.concat(names, ", "))
  end
  return table.concat(parts)
end

local function is_model(v)
  return type(v) == "table" and type(rawget(v, "layers")) == "table" and getmetatable(v) ~= nil
    and type(v.summary) == "function"
end

-- A model prints as its summary (the string it returns, or what it prints).
local function describe_model(m)
  if mt_field(m, "__tostring") then return safe_tostring(m) end
  local ok, s = pcall(m.summary, m)
  if ok and type(s) == "string" then return s end
  if ok then return nil end -- it printed itself
  return "<model: summary failed: " .. tostring(s) .. ">"
end

local function describe_function(f)
  local ok, help = pcall(require, "help")
  if ok and type(help) == "table" and type(help.signature_of) == "function" then
    local ok2, sig = pcall(help.signature_of, f)
    if ok2 and sig then return "function: " .. sig end
  end
  return safe_tostring(f)
end

local render

-- A value inside a table: one line.
local function inline(v, depth, path)
  local tv = type(v)
  if tv == "string" then return quote(v) end
  if math.type(v) == "float" then return (string.format("%.6g", v)) end
  if tv == "table" and not mt_field(v, "__tostring") and not is_model(v) then
    return render(v, depth, path, "")
  end
  if is_tensor(v) then return brief_tensor(v) end
  if is_dataset(v) and not mt_field(v, "__tostring") then return "<" .. describe_dataset(v) .. ">" end
  if tv == "function" then return describe_function(v) end
  local s = safe_tostring(v)
  if s:find("\n") then
    s = (type_name(v) or tv) .. ": " .. s:match("^[^\n]*") .. " ..."
  end
  return s
end

local function sort_keys(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

local function key_text(k, depth, path)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") and not KEYWORDS[k] then return k end
  return "[" .. inline(k, depth, path) .. "]"
end

-- A table: the array part in order, then the other keys sorted; one line
-- when it is short, otherwise one entry per line (a plain list of scalars
-- fills its lines). Floats inside tables show 6 significant digits. `path` holds the tables
-- being printed above this one, so only a real cycle prints as <cycle>.
function render(t, depth, path, indent)
  if path[t] then return "<cycle>" end
  if next(t) == nil then return "{}" end
  if depth >= MAX_DEPTH then return "{...}" end
  path[t] = true
  local items, n, shown = {}, rawlen(t), 0
  for i = 1, n do
    if shown >= MAX_ITEMS then break end
    items[#items + 1] = inline(rawget(t, i), depth + 1, path)
    shown = shown + 1
  end
  local keys = {}
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, sort_keys)
  for _, k in ipairs(keys) do
    if shown >= MAX_ITEMS then break end
    items[#items + 1] = key_text(k, depth + 1, path) .. " = " .. inline(rawget(t, k), depth + 1, path)
    shown = shown + 1
  end
  local total = n + #keys
  if total > shown then items[#items + 1] = string.format("... (%d more)", total - shown) end
  path[t] = nil
  local one = "{" .. table.concat(items, ", ") .. "}"
  if #one + #indent <= WIDTH and not one:find("\n") then return one end
  local inner = indent .. "  "
  if #keys == 0 and not one:find("[{\n]", 2) then
    -- a plain list (history values, shapes): as many per line as fit
    local lines, line = {}, inner
    for i, s in ipairs(items) do
      local piece = s .. (i < #items and "," or "")
      if #line + #piece + 1 > WIDTH and line ~= inner then
        lines[#lines + 1] = line
        line = inner
      end
      line = line == inner and (inner .. piece) or (line .. " " .. piece)
    end
    lines[#lines + 1] = line
    return "{\n" .. table.concat(lines, "\n") .. "\n" .. indent .. "}"
  end
  local lines = {}
  for i, s in ipairs(items) do lines[i] = inner .. s:gsub("\n", "\n" .. inner) end
  return "{\n" .. table.concat(lines, ",\n") .. "\n" .. indent .. "}"
end

local MODULES = { "tensor", "data", "nn", "optim", "metrics", "plot", "lesson" }

-- A module prints as the names of its functions (help(m) documents them).
local function describe_module(name, m)
  local names = {}
  for k, f in pairs(m) do
    if type(k) == "string" and type(f) == "function" and not k:match("^_") then names[#names + 1] = k end
  end
  table.sort(names)
  local body = #names > 0 and table.concat(names, " ") or "(no functions)"
  local lines, line = {}, "module " .. name .. ":"
  for word in body:gmatch("%S+") do
    if #line + #word + 1 > WIDTH then lines[#lines + 1] = line; line = "  " .. word
    else line = line .. " " .. word end
  end
  lines[#lines + 1] = line
  lines[#lines + 1] = "help(" .. name .. ") documents them."
  return table.concat(lines, "\n")
end

-- The text printed for a result (nil when the value printed itself).
function M.show(v)
  local tv = type(v)
  if tv == "string" then return v end
  if tv == "table" then
    for _, name in ipairs(MODULES) do
      if rawget(_G, name) == v then return describe_module(name, v) end
    end
  end
  if is_tensor(v) then return safe_tostring(v) end
  if is_model(v) then return describe_model(v) end
  if tv == "table" and mt_field(v, "__tostring") then return safe_tostring(v) end
  if is_dataset(v) then return describe_dataset(v) end
  if tv == "table" then return render(v, 0, {}, "") end
  if tv == "function" then return describe_function(v) end
  return safe_tostring(v)
end

local function print_results(r)
  local out = {}
  for i = 1, r.n do out[#out + 1] = M.show(r[i]) end
  if #out > 0 then print(table.concat(out, "\t")) end
end

-- ---- evaluation ------------------------------------------------------------

-- An incomplete chunk's syntax error ends at <eof> (lua.c's test; an
-- unfinished long string says '<eof>').
local function incomplete(err)
  -- "syntax error near <eof>" is a finished line that is not a statement
  -- (`x = 1; x`): no further line would help, so it is reported at once.
  if err:find(": syntax error near <eof>$") then return false end
  return err:sub(-5) == "<eof>" or err:sub(-7) == "'<eof>'"
end

-- The chunk for `src`, or nil and "incomplete", or nil and the error.
-- `name` names the chunk in error messages ("=stdin" when not given).
function M.compile(src, name)
  name = name or "=stdin"
  local expr, eerr = load("return " .. src, name, "t")
  if expr then return expr end
  local stat, serr = load(src, name, "t")
  if stat then return stat end
  if incomplete(serr) or incomplete(eerr) then return nil, "incomplete" end
  return nil, serr
end

-- The traceback, without the REPL's own frames; empty when it would only
-- say "in main chunk".
local function trim_traceback(msg)
  local head, tb = msg:match("^(.-)\nstack traceback:\n(.*)$")
  if not head then return msg end
  local keep = {}
  for line in tb:gmatch("[^\n]+") do
    if line:find("in function 'xpcall'", 1, true) or line:find("lua/repl.lua", 1, true)
      or line:find("in main chunk", 1, true) then break end
    if line:find("(...tail calls...)", 1, true) then goto continue end
    keep[#keep + 1] = line
    ::continue::
  end
  local useful = false
  for _, line in ipairs(keep) do
    if not line:match("^%s*%[C%]") then useful = true end
  end
  if not useful then return head end
  return head .. "\nstack traceback:\n" .. table.concat(keep, "\n")
end

local function handler(e)
  if type(e) ~= "string" then
    local mt = getmetatable(e)
    e = mt and mt.__tostring and safe_tostring(e) or string.format("(error object is a %s value)", type(e))
  end
  if e:find("interrupted!$") then return e end
  return debug.traceback(e .. require("errors").did_you_mean(e), 2)
end

-- Runs a compiled chunk: true and its results (a table.pack), or false and
-- the error with the traceback of the user's own frames.
function M.run(chunk)
  local r = table.pack(xpcall(chunk, handler))
  if not r[1] then return false, trim_traceback(r[2]) end
  table.remove(r, 1)
  r.n = r.n - 1
  return true, r
end

-- Takes one line; returns true when the statement needs more lines.
function M.feed(line)
  local src = pending and (pending .. "\n" .. line) or line
  local chunk, err = M.compile(src)
  if not chunk and err == "incomplete" then
    pending = src
    return true
  end
  pending = nil
  if not chunk then
    io.stderr:write(err, "\n")
    return false
  end
  local ran, r = M.run(chunk)
  if not ran then
    io.stdout:flush()
    io.stderr:write(r, "\n")
    return false
  end
  local ok, perr = pcall(print_results, r) -- Ctrl-C while printing a big result
  if not ok then io.stderr:write(tostring(perr), "\n") end
  return false
end

-- Forgets a half-typed statement (Ctrl-C at the prompt).
function M.reset()
  pending = nil
  return false
end

-- ---- completion ------------------------------------------------------------

-- Tables that hold a userdata's methods: its metatable's __index table, or
-- the tables a C __index function keeps as upvalues, or method tables kept
-- in the metatable itself.
local function method_tables(v, out, seen)
  local mt = getmetatable(v)
  if type(mt) ~= "table" or seen[mt] then return out end
  seen[mt] = true
  local idx = rawget(mt, "__index")
  if type(idx) == "table" then
    out[#out + 1] = idx
    method_tables(idx, out, seen)
  elseif type(idx) == "function" then
    for i = 1, 20 do
      local name, up = debug.getupvalue(idx, i)
      if name == nil then break end
      if type(up) == "table" and up ~= _G then out[#out + 1] = up end
    end
    local only_methods = {}
    for k, f in next, mt do
      if type(k) == "string" and not k:match("^__") then
        if type(f) == "function" then only_methods[k] = f
        elseif type(f) == "table" then out[#out + 1] = f end
      end
    end
    out[#out + 1] = only_methods
  end
  return out
end

-- The names reachable from v with `.` (fields) or `:` (methods only).
local function names_of(v, methods_only)
  local names, seen = {}, {}
  local function add(tbl)
    for k, f in next, tbl do
      if type(k) == "string" and k:match("^[%a_][%w_]*$") and not k:match("^__")
        and (not methods_only or type(f) == "function") then
        if not seen[k] then seen[k] = true; names[#names + 1] = k end
      end
    end
  end
  if type(v) == "table" then add(v) end
  if type(v) == "string" then add(string) end
  for _, tbl in ipairs(method_tables(v, {}, {})) do add(tbl) end
  return names
end

local function lookup(v, k)
  if type(v) == "table" then
    local r = rawget(v, k)
    if r ~= nil then return r end
  end
  if type(v) ~= "table" and type(v) ~= "userdata" then return nil end
  local ok, r = pcall(function() return v[k] end)
  return ok and r or nil
end

-- Candidates for the word before the cursor: a global, `a.b.fie` or
-- `obj:meth`. Only plain names are looked up; nothing is evaluated.
function M.complete(line, word)
  local _ = line
  local out = {}
  local base, sep, part = word:match("^(.-)([%.:])([%w_]*)$")
  if not base then
    if not word:match("^[%a_]?[%w_]*$") then return out end
    for _, k in ipairs(names_of(_G, false)) do
      if k:sub(1, #word) == word then out[#out + 1] = k end
    end
    for k in pairs(KEYWORDS) do
      if k:sub(1, #word) == word and #word > 0 then out[#out + 1] = k end
    end
  else
    if not base:match("^[%a_][%w_]*$") and not base:match("^[%a_][%w_%.]*[%w_]$") then return out end
    local v = _G
    for name in base:gmatch("[^%.]+") do
      v = lookup(v, name)
      if v == nil then return out end
    end
    for _, k in ipairs(names_of(v, sep == ":")) do
      -- names starting with "_" are private unless asked for
      if k:sub(1, #part) == part and (k:sub(1, 1) ~= "_" or part:sub(1, 1) == "_") then
        out[#out + 1] = base .. sep .. k
      end
    end
  end
  table.sort(out)
  return out
end

return M
