-- lesson.lua — the literate lesson runner. A lesson is a plain Lua script
-- whose lines starting with "---" are Markdown prose ("---es"/"---en" for one
-- language). The file runs as one chunk (prose lines are comments to Lua, so
-- locals live across steps and error line numbers are the file's); a call
-- inserted at the start of each code step tells the runner where it is.
local C = require "_lesson"
local G = require "_grader"
local grader = require "grader"
local page = require "lesson_page"
local i18n = require "i18n"

-- lesson.lang reads and sets the language of everything nnlab shows
-- (lua/i18n.lua): assigning "en" or "es" switches it, anything else is an error.
local M = setmetatable({ quick = false }, {
  __index = function(_, k) if k == "lang" then return i18n.lang() end end,
  __newindex = function(t, k, v)
    if k == "lang" then
      i18n.set(v)
      G.expected_word(i18n.t("lesson.expected"))
    else
      rawset(t, k, v)
    end
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

-- Every call written `lesson.expect(` in the lesson's code (not in its
-- strings or comments) is made to call the expect function the runner hands
-- over when the lesson starts, whatever the lesson does to the name
-- `lesson` or its field `expect` meanwhile: a lesson cannot replace the
-- check by another function. Names that start with __nnlab_ are the
-- runner's. Lines and their numbers stay as they are.
local function capture_expect(src, path)
  local out, last, i, n = {}, 1, 1, #src
  local function line_at(k) return select(2, src:sub(1, k):gsub("\n", "")) + 1 end
  if src:sub(1, 1) == "#" then i = (src:find("\n", 1, true) or n) + 1 end
  while i <= n do
    local c = src:sub(i, i)
    local long = (c == "[" and src:match("^%[(=*)%[", i)) or
      (c == "-" and src:sub(i + 1, i + 1) == "-" and src:match("^%-%-%[(=*)%[", i))
    if long then
      local _, e = src:find("]" .. long .. "]", i, true)
      i = (e or n) + 1
    elseif c == "-" and src:sub(i + 1, i + 1) == "-" then
      i = (src:find("\n", i, true) or n) + 1
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n do
        local d = src:sub(j, j)
        if d == "\\" then j = j + 2
        elseif d == c or d == "\n" then break
        else j = j + 1 end
      end
      i = j + 1
    elseif c:match("[%a_]") then
      local s, e = src:find("^[%a_][%w_]*", i)
      local word = src:sub(s, e)
      if word:sub(1, 8) == "__nnlab_" then
        error(string.format("%s:%d: '%s': names that start with __nnlab_ belong to nnlab's lesson runner", path,
          line_at(i), word), 0)
      end
      local before = word == "lesson" and src:sub(math.max(1, i - 200), i - 1):match("(%.?[%.:])%s*$")
      if word == "lesson" and (before == nil or before == "..") then
        local _, call = src:find("^%s*%.%s*expect%s*%(", e + 1)
        if call then
          out[#out + 1] = src:sub(last, i - 1) .. "__nnlab_expect("
          last, e = call + 1, call
        end
      end
      i = e + 1
    elseif c:match("%d") then
      i = select(2, src:find("^%d[%w_%.]*", i)) + 1
    else
      i = i + 1
    end
  end
  out[#out + 1] = src:sub(last)
  return table.concat(out)
end

-- The chunk Lua runs: the file with "__nnlab_step(n);" put in front of the
-- first non-blank line of each step, and on line 1 constant locals that take
-- the step and expect functions from globals the runner removes again at
-- once. A "#!" first line becomes a comment. Every line keeps its number.
local HANDOFF, HANDOFF_EXPECT = "__nnlab_lesson_step", "__nnlab_lesson_expect"

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
  out[1] = "local __nnlab_step <const>, __nnlab_expect <const> = " .. HANDOFF .. ", " .. HANDOFF_EXPECT .. "; " ..
    (out[1] or "")
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

-- lesson.expect is judged in C (_grader.expect: raw accesses only, so a
-- lesson's metatables or replaced library functions cannot change a
-- verdict); in a --check child the C side also sends each result to the
-- parent and prints its line. Captured now, before any lesson runs.
local judge = G.expect
G.expected_word(i18n.t("lesson.expected"))

function M.expect(name, value, spec)
  local ok, line = judge(name, value, spec, 2)
  if state then state.records[#state.records + 1] = { name = name, ok = ok, line = line } end
  return ok
end

-- ---- running ----------------------------------------------------------------

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
  rawset(_G, HANDOFF_EXPECT, nil)
end

-- step(0) is called on the lesson's last line under -i: it keeps the
-- lesson's top-level locals (its caller's) for the REPL that follows.
local function step(n)
  local s = state
  rawset(_G, HANDOFF, nil)
  rawset(_G, HANDOFF_EXPECT, nil)
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

local out_dir = grader.out_dir

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
  if not plain then doc = parse(capture_expect(src, path)) end
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
  -- in a --check child the C function itself: no Lua upvalue to swap
  rawset(_G, HANDOFF_EXPECT, G.child() and judge or M.expect)
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
local traceback, tostring_, concat = debug.traceback, tostring, table.concat
local function lesson_error(path)
  return function(e)
    if type(e) ~= "string" then return tostring_(e) end
    local out = { e }
    for line in traceback("", 2):gmatch("[^\n]+") do
      if line:find(path, 1, true) then out[#out + 1] = "  " .. line:gsub("^%s+", "") end
    end
    return concat(out, "\n")
  end
end

-- Runs the lessons in paths and their checks, each in its own nnlab
-- process (lua/grader.lua); returns the exit status.
function M.check_files(paths, opts)
  return grader.check_files(paths, opts or nnlab.options)
end

-- Inside a --check child: runs its one lesson. _grader.run starts it after
-- the memory limit and, with --sandbox, the sandbox (Lua's library here,
-- then the operating system's layer in C), and alone tells the parent that
-- it ran to its end; it and the other reporting functions are captured now.
local run_lesson, report, plot_later = G.run, G.report, G.plot_later

local function not_started(msg)
  report(msg)
  io.stderr:write("nnlab: ", msg, "\n")
  return 1
end

function M._check_child(path, opts)
  local ok, s, chunk = pcall(prepare, path, opts, _G)
  if not ok then return not_started(tostring_(s)) end
  local dir = out_dir(path, opts)
  local conf = { max_memory = opts.max_memory or 0 }
  if opts.sandbox then
    local made, err = require("_plot").mkdirs(dir)
    if not made then return not_started(err) end
    conf.sandbox, conf.max_file = G.resolve(dir), opts.max_memory or 0
    -- gnuplot cannot start in the sandbox: plots are left as .gp scripts
    -- with their data, which the parent draws in a jail of its own
    if type(plot) == "table" then
      plot._draw_later = true
      plot.on_file = function(_, _, script)
        if script then plot_later(script) end
      end
    end
    require("sandbox").apply(dir)
  end
  local ran, err = run_lesson(chunk, lesson_error(path), conf)
  finish(s, not ran and err or nil)
  if not ran then io.stderr:write("nnlab: ", err, "\n") end
  return ran and 0 or 1
end

-- The chunk run for a lesson's source text, and its parse (for the fuzz
-- target tests/fuzz/fuzz_lesson.c).
function M._instrument(src)
  local doc = parse(src)
  return instrument(doc), doc
end

return M
