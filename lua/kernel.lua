-- kernel.lua — nnlab as a Jupyter kernel (`nnlab --kernel CONN`): each cell
-- is compiled and run as the REPL runs a line (lua/repl.lua), its value shown
-- as the REPL shows it, plots sent to the cell as images, io.read answered by
-- the notebook, completion and help from the REPL's; and `--install-kernel`,
-- which writes the kernel spec.
local C = require "_kernel"
local repl = require "repl"

local M = {}

local ARRAY = { __jsontype = "array" }
local function array(t) return setmetatable(t or {}, ARRAY) end

-- ---- cells ------------------------------------------------------------------

-- A notebook's cells share their variables: a `local` declared at the start
-- of a line (top level) becomes a global, so `local model = ...` in one cell
-- is `model` in the next. Line numbers stay the same.
function M.globalise(code)
  local out = {}
  for line in (code .. "\n"):gmatch("(.-)\n") do
    local names = line:match("^local%s+([%a_][%w_%s,]*)$")
    if line:match("^local%s+function%s") then line = line:gsub("^local%s+", "", 1)
    elseif names and not names:find("^function%s") then line = (names:gsub("%s+$", "")) .. " = nil"
    elseif line:match("^local%s+[%a_]") then
      line = line:gsub("^local%s+", "", 1):gsub("%s*<%a+>", "")
    end
    out[#out + 1] = line
  end
  return table.concat(out, "\n")
end

-- The chunk of a cell: the whole cell as an expression or statements, or
-- statements followed by an expression on the last line (`x = f()` then `x`),
-- whose value is shown. Returns the chunk, or nil and "incomplete" or the error.
function M.compile(code, name)
  local chunk, err = repl.compile(code, name)
  if chunk or err == "incomplete" then return chunk, err end
  local head, last = code:match("^(.*\n)([^\n]*%S[^\n]*)%s*$")
  if head then
    local ok = load("return " .. last, name, "t")
    local both = ok and load(head .. "return " .. last, name, "t")
    if both then return both end
  end
  return nil, err
end

-- HTML for values that read better as a table in a notebook: a confusion
-- matrix or a tensor is its text in a <pre>, which keeps the columns.
local function html_of(v, text)
  local mt = getmetatable(v)
  local name = type(mt) == "table" and rawget(mt, "__name")
  if name == "nnlab.Tensor" or name == "nnlab.Confusion" then
    return "<pre>" .. text:gsub("[&<>]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;" }) .. "</pre>"
  end
  return nil
end

-- Runs a cell. Returns true and a MIME bundle (or nil), or false, the error's
-- name, its message and the traceback lines.
function M.execute(code, count, silent)
  local name = "=In[" .. tostring(count) .. "]"
  local chunk, err = M.compile(M.globalise(code), name)
  if not chunk then
    if err == "incomplete" then
      local _, msg = load(code, name, "t")
      err = msg or "incomplete statement"
    end
    return false, "SyntaxError", err, array { err }
  end
  local ok, r = repl.run(chunk)
  io.stdout:flush()
  if not ok then
    local lines = array()
    for l in tostring(r):gmatch("[^\n]+") do lines[#lines + 1] = l end
    local ename = tostring(r):find("interrupted!", 1, true) and "Interrupted" or "Error"
    return false, ename, lines[1] or "", lines
  end
  if silent or r.n == 0 then return true, nil end
  local texts, html = {}, nil
  for i = 1, r.n do
    local okshow, t = pcall(repl.show, r[i])
    io.stdout:flush()
    if okshow and t then texts[#texts + 1] = t end
    if r.n == 1 and okshow and t then html = html_of(r[i], t) end
  end
  if #texts == 0 then return true, nil end
  return true, { ["text/plain"] = table.concat(texts, "\t"), ["text/html"] = html }
end

-- The byte position in `code` of the character at `cursor` (0-based, in
-- characters as Jupyter counts them).
local function byte_at(code, cursor)
  return utf8.offset(code, cursor + 1) or (#code + 1)
end

function M.complete(code, cursor)
  local before = code:sub(1, byte_at(code, cursor) - 1)
  local word = before:match("[%w_%.:]*$")
  local line = before:match("[^\n]*$")
  local matches = repl.complete(line:sub(1, #line - #word), word)
  return array(matches), cursor - #word, cursor
end

local function value_of(path)
  local v = _G
  for part in path:gmatch("[^%.:]+") do
    if type(v) ~= "table" and type(v) ~= "userdata" then return nil end
    local ok, r = pcall(function() return v[part] end)
    if not ok then return nil end
    v = r
  end
  return v
end

-- What help(x) says of the name under the cursor (nil when it says nothing).
function M.inspect(code, cursor)
  local pos = byte_at(code, cursor)
  local name = (code:sub(1, pos - 1):match("[%w_%.:]*$") .. code:sub(pos):match("^[%w_%.:]*")):gsub("[%.:]+$", "")
  if name == "" then return nil end
  local text = help.text(name)
  if text:find("^help: no documentation") then
    local v = value_of(name)
    if v == nil then return nil end
    text = help.text(v)
    if text:find("^help: ") then return name .. " = " .. repl.show(v) end
  end
  return text
end

function M.is_complete(code)
  local chunk, err = M.compile(M.globalise(code))
  if chunk then return "complete" end
  return err == "incomplete" and "incomplete" or "invalid"
end

-- ---- plots in the cell --------------------------------------------------------

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local data = f:read("a")
  f:close()
  return data
end

-- Every image a plot writes is shown in the running cell.
local function show_plot(path, title)
  local data = read(path)
  if not data then return end
  local bundle = { ["text/plain"] = "[plot: " .. (title or path:match("[^/]+$")) .. "]" }
  if path:match("%.svg$") then bundle["image/svg+xml"] = data
  else bundle["image/png"] = require("_lesson").base64(data) end
  C.display(bundle)
end

-- Plots go to --out when it was given, else to a private temporary folder;
-- png unless --plot svg (or none, or dumb: text in the cell).
local function setup_plots(opts)
  local tmp
  local dir = opts.out
  if not dir then
    tmp = os.tmpname()
    os.remove(tmp)
    dir = tmp
  end
  local mode = opts.plot
  if mode ~= "svg" and mode ~= "none" and mode ~= "dumb" then mode = "png" end
  plot.output(mode, dir)
  plot.on_file = show_plot
  return tmp
end

-- ---- input -------------------------------------------------------------------

-- io.read in a cell asks the notebook for a line (the stdin channel):
-- formats "l" (the default), "L" (with its newline) and "n" (a number).
local function read_input(fmt, ...)
  if select("#", ...) > 0 then error("io.read: in a notebook, read one value at a time", 2) end
  fmt = type(fmt) == "string" and fmt:gsub("^%*", "") or fmt or "l"
  if fmt ~= "l" and fmt ~= "L" and fmt ~= "n" then
    error(string.format("io.read: in a notebook, expected format \"l\", \"L\" or \"n\", got %s", tostring(fmt)), 2)
  end
  local line = C.input("")
  if fmt == "n" then return tonumber(line) end
  return fmt == "L" and (line .. "\n") or line
end

-- ---- serving ------------------------------------------------------------------

function M.serve(connection_file, opts)
  lesson.quick, lesson.lang = opts.quick and true or false, opts.lang or lesson.lang
  local tmp = setup_plots(opts)
  io.read = read_input
  local banner = string.format("nnlab %s (%s) -- help() for an overview, help(x) for x", nnlab.version, _VERSION)
  local ok, err = pcall(C.serve, connection_file, {
    execute = M.execute, complete = M.complete, inspect = M.inspect, is_complete = M.is_complete,
  }, { version = nnlab.version, lua = _VERSION:match("[%d%.]+"), banner = banner })
  if tmp then os.execute("rm -rf '" .. tmp:gsub("'", "'\\''") .. "'") end
  if not ok then error(err, 0) end
  return 0
end

-- ---- the kernel spec ------------------------------------------------------------

-- Where Jupyter looks: "user" is the user's data folder, "system"
-- /usr/local/share, anything else a prefix (P/share/jupyter/kernels).
function M.spec_dir(where)
  if where == "user" then
    local data = os.getenv("JUPYTER_DATA_DIR")
    if not data or data == "" then
      local xdg = os.getenv("XDG_DATA_HOME")
      if not xdg or xdg == "" then xdg = (os.getenv("HOME") or ".") .. "/.local/share" end
      data = xdg .. "/jupyter"
    end
    return data .. "/kernels/nnlab"
  end
  local prefix = where == "system" and "/usr/local" or where
  return prefix .. "/share/jupyter/kernels/nnlab"
end

-- The kernel's command: this nnlab (or NNLAB_KERNEL_BIN, for `make install`
-- into a staging folder), the options given with --install-kernel, and
-- --kernel {connection_file}.
function M.spec(opts)
  local exe = os.getenv("NNLAB_KERNEL_BIN")
  if not exe or exe == "" then exe = C.exe() end
  local argv = array { exe }
  if opts.quick then argv[#argv + 1] = "--quick" end
  if opts.seed and opts.seed ~= 42 then argv[#argv + 1] = "--seed"; argv[#argv + 1] = tostring(opts.seed) end
  local given = { plot = opts.plot, out = opts.out, lang = opts.lang_given,
    threads = opts.threads_given and tostring(opts.threads_given) }
  for _, k in ipairs({ "threads", "lang", "plot", "out" }) do
    if given[k] then argv[#argv + 1] = "--" .. k; argv[#argv + 1] = given[k] end
  end
  argv[#argv + 1] = "--kernel"
  argv[#argv + 1] = "{connection_file}"
  return { argv = argv, display_name = "nnlab (Lua 5.4)", language = "lua", interrupt_mode = "signal",
    metadata = { nnlab_version = nnlab.version } }
end

function M.install(where, opts)
  local dir = M.spec_dir(where)
  local ok, err = require("_plot").mkdirs(dir)
  if not ok then error("--install-kernel: cannot create " .. dir .. ": " .. tostring(err), 0) end
  local path = dir .. "/kernel.json"
  -- through a temporary file and a rename (the writer every nnlab file uses)
  local wok, werr = require("_plot").write(path, C.json(M.spec(opts), 1) .. "\n")
  if not wok then error("--install-kernel: " .. werr, 0) end
  print("installed the Jupyter kernel spec nnlab in " .. dir)
  return 0
end

return M
