-- lesson.lua — the literate lesson runner. A lesson is a plain Lua script
-- whose lines starting with "---" are Markdown prose ("---es"/"---en" for one
-- language). The file runs as one chunk (prose lines are comments to Lua, so
-- locals live across steps and error line numbers are the file's); a call
-- inserted at the start of each code step tells the runner where it is.
local C = require "_lesson"
local page = require "lesson_page"
local i18n = require "i18n"

-- lesson.lang reads and sets the language of everything nnlab shows
-- (lua/i18n.lua): assigning "en" or "es" switches it, anything else is an error.
local M = setmetatable({ quick = false }, {
  __index = function(_, k) if k == "lang" then return i18n.lang() end end,
  __newindex = function(t, k, v)
    if k == "lang" then i18n.set(v) else rawset(t, k, v) end
  end,
})

-- lesson.t{es=..., en=...} [, ...]: the string of the current language, for
-- a lesson's own printed lines; further arguments format it (string.format).
function M.t(texts, ...)
  if type(texts) ~= "table" then
    error("lesson.t: expected a table {es=..., en=...}, got " .. type(texts), 2)
  end
  local lang = i18n.lang()
  local s = texts[lang]
  if type(s) ~= "string" then
    error(string.format("lesson.t: no string for language '%s' (the table has %s)", lang,
      type(s) == "nil" and "none" or type(s)), 2)
  end
  if select("#", ...) > 0 then return string.format(s, ...) end
  return s
end

-- ---- parsing ----------------------------------------------------------------

-- A line is prose when it starts with exactly three dashes ("----" and longer
-- runs of dashes stay code comments). "---xx text" with two lower-case letters
-- then a space (or nothing) is prose of language xx; "--- text" is for all.
local function classify(line)
  if line:sub(1, 3) ~= "---" or line:sub(4, 4) == "-" then return nil end
  local rest = line:sub(4)
  local lang, text = rest:match("^(%l%l)$"), ""
  if not lang then lang, text = rest:match("^(%l%l) (.*)$") end
  if lang then return true, lang, text end
  return true, nil, (rest:gsub("^ ", "", 1))
end

-- Splits source text into blocks: {kind="prose", lines={{lang=, text=}...}}
-- and {kind="code", first=, last=, step=n}. Blank lines between two prose
-- runs keep them one block (with a paragraph break); code runs of blank lines
-- only are not steps.
local function parse(src)
  local lines = {}
  for l in (src:gsub("\r\n", "\n") .. (src:sub(-1) == "\n" and "" or "\n")):gmatch("(.-)\n") do
    lines[#lines + 1] = l
  end
  local blocks, cur, nsteps = {}, nil, 0
  local function close_code(i)
    if cur and cur.kind == "code" then
      cur.last = i
      local blank = true
      for k = cur.first, cur.last do
        if lines[k]:find("%S") then blank = false break end
      end
      if blank then
        blocks[#blocks] = nil
        cur = blocks[#blocks]
        if cur then cur.lines[#cur.lines + 1] = { text = "" } end
      else
        nsteps = nsteps + 1
        cur.step = nsteps
      end
    end
  end
  for i, l in ipairs(lines) do
    local prose, lang, text = classify(l)
    if i == 1 and l:sub(1, 1) == "#" then prose = nil end
    if prose then
      close_code(i - 1)
      if not (cur and cur.kind == "prose") then
        cur = { kind = "prose", lines = {} }
        blocks[#blocks + 1] = cur
      end
      cur.lines[#cur.lines + 1] = { lang = lang, text = text }
    elseif not (cur and cur.kind == "code") then
      cur = { kind = "code", first = i }
      blocks[#blocks + 1] = cur
    end
  end
  close_code(#lines)
  return { lines = lines, blocks = blocks, nsteps = nsteps }
end

-- The chunk Lua runs: the file with "__nnlab_step(n);" put in front of the
-- first non-blank line of each step, and on line 1 a local that takes the
-- step function from a global the runner removes again at once. A "#!" first
-- line becomes a comment. Every line keeps its number.
local HANDOFF = "__nnlab_lesson_step"

local function instrument(doc)
  local out = {}
  for i, l in ipairs(doc.lines) do out[i] = l end
  if out[1] and out[1]:sub(1, 1) == "#" then out[1] = "--" .. out[1] end
  for _, b in ipairs(doc.blocks) do
    if b.kind == "code" and b.step then
      for k = b.first, b.last do
        if out[k]:find("%S") then
          out[k] = "__nnlab_step(" .. b.step .. "); " .. out[k]
          break
        end
      end
    end
  end
  out[1] = "local __nnlab_step = " .. HANDOFF .. "; " .. (out[1] or "")
  return table.concat(out, "\n") .. "\n"
end

-- Prose must stand between complete statements: a step marker inside an
-- expression would change the code (in a table constructor its ";" is a
-- field separator). So the code before each step must compile on its own;
-- if it does not, the prose line that opened the step is named.
local function check_prose_places(doc, path)
  local lines = {}
  for i, l in ipairs(doc.lines) do lines[i] = l end
  if lines[1] and lines[1]:sub(1, 1) == "#" then lines[1] = "--" .. lines[1] end
  if not load(table.concat(lines, "\n"), "=check", "t") then return end -- its own error comes later
  for _, b in ipairs(doc.blocks) do
    if b.kind == "code" and b.step and b.step > 1 then
      local ok, err = load(table.concat(lines, "\n", 1, b.first - 1), "=check", "t")
      if not ok then
        local at = b.first - 1 -- the first prose line after the last code line
        while at > 1 and (classify(doc.lines[at - 1]) or not doc.lines[at - 1]:find("%S")) do at = at - 1 end
        while not classify(doc.lines[at]) do at = at + 1 end
        error(string.format("%s:%d: prose line inside an unfinished statement or expression (the code " ..
          "before it is not complete: %s); put prose only between complete statements, or write this " ..
          "line as a '--' code comment", path, at, (err:gsub("^check:%d+: ", ""))), 0)
      end
    end
  end
end

-- ---- expectations -----------------------------------------------------------

local state -- the lesson being run: doc, opts, outputs, plots, records

local function fmt_value(v)
  if math.type(v) == "integer" then return tostring(v) end
  if v ~= v then return "nan" end
  if type(v) == "number" then return string.format("%.4g", v) end
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) == "table" then
    local parts = {}
    for i = 1, #v do parts[i] = fmt_value(v[i]) end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  return tostring(v)
end

local function same(a, b)
  if type(a) == "number" and type(b) == "number" then
    return a == b or math.abs(a - b) <= 1e-9 * math.max(1, math.abs(b))
  end
  if type(a) == "table" and type(b) == "table" then
    if #a ~= #b then return false end
    for i = 1, #b do
      if not same(a[i], b[i]) then return false end
    end
    return true
  end
  return a == b
end

-- Reads the third argument of expect: a range {min=, max=} or a value.
local function judge(value, spec)
  if type(spec) == "table" and (spec.min ~= nil or spec.max ~= nil or next(spec) ~= nil and #spec == 0) then
    for k in pairs(spec) do
      if k ~= "min" and k ~= "max" then
        error(string.format("lesson.expect: unknown option '%s' (expected min= and/or max=)", tostring(k)), 3)
      end
    end
    local lo, hi = spec.min, spec.max
    for key, v in pairs({ min = lo, max = hi }) do
      if type(v) ~= "number" then
        error(string.format("lesson.expect: %s= expects a number, got %s", key, type(v)), 3)
      end
    end
    local want = lo and hi and (fmt_value(lo) .. ".." .. fmt_value(hi))
      or lo and (">= " .. fmt_value(lo)) or ("<= " .. fmt_value(hi))
    local ok = type(value) == "number" and value == value
      and (lo == nil or value >= lo) and (hi == nil or value <= hi)
    return ok, want
  end
  return same(value, spec), fmt_value(spec)
end

function M.expect(name, value, spec)
  if type(name) ~= "string" then
    error(string.format("lesson.expect: expected a name (string) as argument 1, got %s", type(name)), 2)
  end
  if spec == nil then
    error("lesson.expect: expected a range {min=, max=} or an expected value as argument 3, got nil", 2)
  end
  local ok, want = judge(value, spec)
  local line = string.format("%s %s %s (%s %s)", ok and "PASS" or "FAIL", name, fmt_value(value),
    i18n.t("lesson.expected"), want)
  local rec = { name = name, ok = ok, line = line }
  if state then
    state.records[#state.records + 1] = rec
    if state.opts.check then state.real_print(line) end
  end
  return ok
end

-- ---- running ----------------------------------------------------------------

local function basename(path)
  return (path:match("([^/]+)$") or path):gsub("%.lua$", "")
end

local function want_lang(l) return l.lang == nil or l.lang == M.lang end

-- Prints the prose blocks that come before block index `upto` and were not
-- printed yet (not under --check or --render: there the terminal shows output only).
local function flush_prose(s, upto)
  while s.next_block < upto do
    local b = s.doc.blocks[s.next_block]
    s.next_block = s.next_block + 1
    if b.kind == "prose" and s.show_prose then
      local md = {}
      for _, l in ipairs(b.lines) do
        if want_lang(l) then md[#md + 1] = l.text end
      end
      local text = page.format_terminal(md, { width = s.width, color = s.color })
      if text ~= "" then s.real_write("\n", text, "\n\n") end
    end
  end
end


-- Under --render, standard output goes through a capture (C side: file
-- descriptor 1 points at a temporary file), so what C code prints, such as
-- fit's epoch lines, is in order with what Lua prints. collect() moves what
-- arrived into the current step's output and echoes it to the terminal.
local function keep(s, text)
  if text ~= "" then
    local key = s.current or 0
    local buf = s.outputs[key] or {}
    s.outputs[key] = buf
    buf[#buf + 1] = text
  end
end

local function collect(s)
  if s.cap then keep(s, s.cap:take()) end
end

-- Sets up a run: the capture and prompt echoing under --render (print and
-- io.write are wrapped to collect after each call), and the plot hook.
local function install(s)
  s.real_print, s.real_write = print, io.write
  s.saved_on_file = plot and rawget(plot, "on_file")
  if s.opts.render then
    s.cap = C.capture_stdout()
    _G.print = function(...)
      s.real_print(...)
      collect(s)
    end
    io.write = function(...)
      local f = s.real_write(...)
      collect(s)
      return f
    end
  end
  if type(plot) == "table" then
    plot.on_file = function(path, title)
      collect(s)
      if s.current then
        local list = s.plots[s.current] or {}
        s.plots[s.current] = list
        -- `at`: how many pieces of output came before it (a notebook interleaves them)
        list[#list + 1] = { path = path, title = title, at = #(s.outputs[s.current] or {}) }
      end
      if s.show_prose then s.real_write(i18n.t("lesson.plot", path), "\n") end
    end
  end
end

local function uninstall(s)
  if s.cap then
    keep(s, s.cap:stop())
    s.cap = nil
  end
  _G.print, io.write = s.real_print, s.real_write
  if type(plot) == "table" then plot.on_file = s.saved_on_file end
  rawset(_G, HANDOFF, nil)
end

-- step(0) is called on the lesson's last line under -i: it keeps the
-- lesson's top-level locals (its caller's) for the REPL that follows.
local function step(n)
  local s = state
  rawset(_G, HANDOFF, nil)
  if not s then return end
  if n == 0 then
    s.locals = require("errors").main_locals(1)
    return
  end
  local bi = s.step_block[n]
  collect(s)
  flush_prose(s, bi)
  s.next_block = bi + 1
  s.current = n
end

local function out_dir(path, opts)
  return opts.out or ("out/" .. basename(path))
end

-- Where the plots go: under --render, png files (the page needs images);
-- otherwise the plot module's own choice, in this lesson's folder.
local function setup_plots(path, opts)
  if type(plot) ~= "table" or type(plot.output) ~= "function" then return end
  if opts.render then plot.output("png", out_dir(path, opts))
  elseif opts.check then plot.output(opts.plot or os.getenv("NNLAB_PLOT") or "none", out_dir(path, opts))
  end
end

-- Reads and compiles a lesson and sets up its run (print and io.write
-- captured, the step function handed over); returns the state and the chunk.
local function prepare(path, opts, env)
  local f, err = io.open(path, "rb")
  if not f then error(string.format("lesson: cannot open %s", err), 0) end
  local src = f:read("a")
  f:close()
  local doc = parse(src)
  check_prose_places(doc, path)
  -- A script without prose, run without --render or --check, is a plain
  -- script: it runs as it is, nothing replaced.
  local plain = not opts.render and not opts.check
  for _, b in ipairs(doc.blocks) do
    if b.kind == "prose" then plain = false end
  end
  local code = plain and src:gsub("^#", "--#", 1) or instrument(doc)
  -- under -i a last line hands the top-level locals to the REPL (not after
  -- a final return statement, where no line may follow)
  local captures = false
  if opts.interactive and not opts.check then
    local with = (plain and ("local __nnlab_step = " .. HANDOFF .. "; " .. code) or code) .. "\n__nnlab_step(0)\n"
    if load(with, "=check", "t") then code, captures = with, true end
  end
  local chunk, cerr = load(code, "@" .. path, "t", env)
  if not chunk then error(cerr, 0) end
  M.quick = opts.quick and true or false
  if opts.lang then M.lang = opts.lang end
  local s = { doc = doc, opts = opts, path = path, outputs = {}, plots = {}, records = {},
    next_block = 1, step_block = {}, plain = plain,
    show_prose = not opts.check and not opts.render,
    width = math.min(C.term_width() or tonumber(os.getenv("COLUMNS") or "") or 80, 100),
    color = opts.stdout_tty and os.getenv("NO_COLOR") == nil and os.getenv("TERM") ~= "dumb" }
  for i, b in ipairs(doc.blocks) do
    if b.step then s.step_block[b.step] = i end
  end
  state = s
  if plain then
    if captures then rawset(_G, HANDOFF, step) end
    return s, chunk
  end
  install(s)
  setup_plots(path, opts)
  rawset(_G, HANDOFF, step)
  return s, chunk
end

-- Ends a run: print and io.write restored; the prose after the last step
-- printed, or the error and the step it stopped in kept for the page.
local function finish(s, err)
  state = nil
  if s.plain then return end
  uninstall(s)
  if err == nil then
    s.current = nil
    flush_prose(s, #s.doc.blocks + 1)
  else
    s.error, s.error_step = err, s.current
  end
end

local function report_unmet(s)
  for _, r in ipairs(s.records) do
    if not r.ok then io.stderr:write("nnlab: ", s.path, ": ", i18n.t("lesson.unmet"), r.line, "\n") end
  end
end

-- The error propagates untouched (the host's handler then shows the lesson's
-- own traceback); a to-be-closed guard restores print and writes the page.
-- The folder of a --render page is made before the lesson runs, so a bad
-- path fails at once rather than after the training.
local function make_page_folder(path)
  local dir = path:match("^(.*)/[^/]*$")
  if not dir or dir == "" then return end
  for _, l in ipairs { "es", "en" } do
    local d = dir:gsub("{lang}", l)
    local ok, err = require("_plot").mkdirs(d)
    if not ok then error(string.format("--render %s: %s", path, tostring(err)), 0) end
  end
end

function M.run_file(path, opts, ...)
  opts = opts or nnlab.options
  if opts.render then
    page.check_target(opts.render)
    make_page_folder(opts.render)
  end
  local s, chunk = prepare(path, opts, _G)
  local guard <close> = setmetatable({}, { __close = function(_, err)
    finish(s, err)
    if opts.render then
      local info = { lang = M.lang, quick = M.quick, version = nnlab and nnlab.version }
      if err == nil then
        print(i18n.t("lesson.wrote", table.concat(page.write(s, opts.render, info), ", ")))
      elseif pcall(page.write, s, opts.render, info) then
        io.stderr:write(string.format("nnlab: wrote %s up to the error\n", opts.render))
      end
    end
    if err == nil then report_unmet(s) end
  end })
  local results = table.pack(chunk(...))
  if opts.interactive and s.locals then
    for k, v in pairs(s.locals) do rawset(_G, k, v) end
  end
  return table.unpack(results, 1, results.n)
end

-- The message of a lesson's error and the traceback lines in the lesson
-- itself (where the student looks), not those in nnlab's own code.
local function lesson_error(path)
  return function(e)
    if type(e) ~= "string" then return tostring(e) end
    local out = { e }
    for line in debug.traceback("", 2):gmatch("[^\n]+") do
      if line:find(path, 1, true) then out[#out + 1] = "  " .. line:gsub("^%s+", "") end
    end
    return table.concat(out, "\n")
  end
end

-- Runs every lesson with its checks, each in its own global environment
-- (reading through to _G) and from the same seed, so one lesson's globals or
-- random draws cannot change another's results. An error is that lesson's FAIL.
function M.check_files(paths, opts)
  opts = opts or nnlab.options
  local passed, failed = 0, 0
  for _, path in ipairs(paths) do
    print("== " .. path)
    if tensor and type(tensor.seed) == "function" then tensor.seed(opts.seed or 42) end
    local env = setmetatable({}, { __index = _G })
    env._G = env
    local s
    local ok, err = xpcall(function()
      local chunk
      s, chunk = prepare(path, opts, env)
      local guard <close> = setmetatable({}, { __close = function(_, e) finish(s, e) end })
      chunk()
    end, lesson_error(path))
    for _, r in ipairs(s and s.records or {}) do
      if r.ok then passed = passed + 1 else failed = failed + 1 end
    end
    if not ok then
      failed = failed + 1
      print(string.format("FAIL %s: %s", path, (err:gsub("\n", "\n    "))))
    elseif #s.records == 0 then
      print(i18n.t("lesson.no_expect", path))
    end
    collectgarbage()
  end
  print(string.format("%d passed, %d failed", passed, failed))
  return failed == 0 and 0 or 1
end

-- The chunk run for a lesson's source text, and its parse (for the fuzz
-- target tests/fuzz/fuzz_lesson.c).
function M._instrument(src)
  local doc = parse(src)
  return instrument(doc), doc
end

return M
