-- grader.lua — `nnlab --check` as a grader's tool. Every lesson runs in its
-- own nnlab process (a fresh Lua state) under a time and a memory limit, and
-- optionally the sandbox; its results come back through a socket that only
-- nnlab's C code writes to, never by reading what the lesson prints. Its
-- os.exit, error, crash, time-out or interrupt is that lesson's failure, and
-- the batch goes on (after Ctrl-C it stops). A closing summary per file, the
-- failing files and `N passed, N failed` come after all the lessons' output;
-- --junit and --json write the same results for CI (temporary file, rename).
local G = require "_grader"
local M = {}

local format, concat = string.format, table.concat

local function basename(path)
  return (path:match("([^/]+)$") or path):gsub("%.lua$", "")
end

-- The folder of a lesson's plots and files (--out, else out/<lesson>).
function M.out_dir(path, opts)
  return opts.out or ("out/" .. basename(path))
end

-- ---- one lesson ---------------------------------------------------------------

-- The child's command line: the parent's options that shape a lesson's run.
local function child_args(path, opts)
  local a = { "--check", "--seed", tostring(opts.seed or 42), "--lang", opts.lang or "es",
    "--max-memory", tostring(opts.max_memory or 0) }
  local function add(...) for _, v in ipairs({ ... }) do a[#a + 1] = v end end
  if opts.threads then add("--threads", tostring(opts.threads)) end
  if opts.quick then add("--quick") end
  if opts.plot then add("--plot", opts.plot) end
  if opts.out then add("--out", opts.out) end
  if opts.sandbox then add("--sandbox") end
  for _, stat in ipairs(opts.exec or {}) do add("-e", stat) end
  add("--", path)
  return a
end

local function fields(rec)
  local t = {}
  for f in (rec .. "\0"):gmatch("([^\0]*)\0") do t[#t + 1] = f end
  return t
end

local function seconds(s) return format("%.1f s", s) end

-- Why the lesson failed as a whole (nil when it ran to its end and recorded
-- its expectations), from what the parent saw and the records.
local function lesson_failure(r, rec, opts)
  if r.interrupted then return "interrupted", "interrupted (Ctrl-C): the batch stops here" end
  if r.timed_out then return "timeout", "timed out after " .. format("%g", opts.timeout) .. " s" end
  if r.signal then
    if r.signame == "SIGINT" then return "interrupted", "interrupted (SIGINT)" end
    if r.signame == "SIGXFSZ" then return "signal", "killed by SIGXFSZ (a file grew past the size limit)" end
    return "signal", "killed by " .. r.signame
  end
  if rec.exit_arg then return "exit", "exited early with os.exit(" .. rec.exit_arg .. ")" end
  if rec.error then
    local mem = rec.error_kind == "memory" or rec.error:find("out of memory", 1, true)
      or rec.error:find("not enough memory", 1, true)
    if mem and (opts.max_memory or 0) > 0 then
      return "memory", format("ran out of memory (--max-memory %d MB): %s", opts.max_memory, rec.error)
    end
    return "error", rec.error
  end
  if not rec.done then return "exit", format("exited early with status %s", tostring(r.exit)) end
  if r.exit ~= 0 then return "exit", format("exited with status %d after its last step", r.exit) end
  if (rec.sent or 0) > rec.before_done then
    return "lost", format("%d of its %d expectation results did not arrive", rec.sent - rec.before_done, rec.sent)
  end
  if #rec.expectations == 0 then
    return "no-expectations", "records no expectations (a lesson must check something with lesson.expect)"
  end
  return nil
end

-- The records of a child: expectations, its end, its error, os.exit.
local function read_records(records)
  local rec = { expectations = {}, plots = {} }
  for _, raw in ipairs(records) do
    local f = fields(raw)
    if f[1] == "E" then
      rec.expectations[#rec.expectations + 1] = { ok = f[2] == "1", name = f[3], value = f[4],
        expected = f[5], where = f[6], at = tonumber(f[7]) or 0 }
    elseif f[1] == "D" then rec.done, rec.sent, rec.before_done = true, tonumber(f[2]), #rec.expectations
    elseif f[1] == "X" then rec.exit_arg = f[2]
    elseif f[1] == "R" then rec.error_kind, rec.error = f[2], f[3]
    elseif f[1] == "S" then rec.sandbox = f[2]
    elseif f[1] == "P" then rec.plots[#rec.plots + 1] = f[2]
    end
  end
  return rec
end

-- Draws the plots a sandboxed lesson left as gnuplot scripts, each in a
-- jail (see grader.c); only scripts inside the lesson's folder.
local function draw_plots(res, dir)
  local exe = require("_plot").find()
  if not exe or #res.plots == 0 then return end
  local root = G.resolve(dir)
  for _, gp in ipairs(res.plots) do
    local real = G.resolve(gp)
    local ok, err, stop
    if not (root and real and real:sub(1, #root + 1) == root .. "/" and real:match("%.gp$")) then
      ok, err = nil, "not a .gp script in " .. dir
    else
      ok, err, stop = G.draw(exe, real:match("^(.*)/[^/]*$"), real, 60)
    end
    if stop then
      res.stop = true
      return
    end
    if not ok then
      err = err:gsub("%s+$", "")
      res.plot_errors[#res.plot_errors + 1] = gp .. ": " .. err
      io.stderr:write(format("nnlab: %s: plot %s not drawn: %s\n", res.file, gp, err))
    end
  end
end

local function run_one(path, opts)
  local r = G.spawn(child_args(path, opts), opts.timeout or 0)
  local rec = read_records(r.records)
  local res = { file = path, seconds = r.seconds, expectations = rec.expectations, plots = rec.plots,
    plot_errors = {}, sandbox = rec.sandbox, exit = r.exit, signal = r.signame,
    stdout = r.stdout, stderr = r.stderr, stop = r.stop, passed = 0, failed = 0 }
  for _, e in ipairs(rec.expectations) do
    if e.ok then res.passed = res.passed + 1 else res.failed = res.failed + 1 end
  end
  res.kind, res.reason = lesson_failure(r, rec, opts)
  res.status = (res.reason == nil and res.failed == 0) and "pass" or "fail"
  if opts.sandbox and not r.stop then draw_plots(res, M.out_dir(path, opts)) end
  return res
end

-- ---- reports ------------------------------------------------------------------

-- Lesson output is bytes; reports are UTF-8: invalid bytes become U+FFFD.
local function utf8_clean(s)
  local out, i = {}, 1
  while i <= #s do
    local n, bad = utf8.len(s, i)
    if n then
      out[#out + 1] = s:sub(i)
      break
    end
    out[#out + 1] = s:sub(i, bad - 1) .. "\u{FFFD}"
    i = bad + 1
  end
  return concat(out)
end

local function json_string(s)
  return '"' .. utf8_clean(s):gsub('[%c"\\]', function(c)
    local named = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
    return named[c] or format("\\u%04x", c:byte())
  end) .. '"'
end

-- JSON of plain values; objects are lists of {key, value} pairs, in order.
local function json(v, indent)
  indent = indent or ""
  local t = type(v)
  if v == nil then return "null" end
  if t == "boolean" then return tostring(v) end
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    return math.type(v) == "integer" and tostring(v) or format("%.4f", v)
  end
  if t == "string" then return json_string(v) end
  local inner, parts = indent .. "  ", {}
  if v.object then
    for _, kv in ipairs(v.object) do
      parts[#parts + 1] = inner .. json_string(kv[1]) .. ": " .. json(kv[2], inner)
    end
    return #parts == 0 and "{}" or ("{\n" .. concat(parts, ",\n") .. "\n" .. indent .. "}")
  end
  for i, x in ipairs(v) do parts[i] = inner .. json(x, inner) end
  return #parts == 0 and "[]" or ("[\n" .. concat(parts, ",\n") .. "\n" .. indent .. "]")
end

local function obj(pairs_) return { object = pairs_ } end

local function json_report(results, totals, opts)
  local lessons = {}
  for i, r in ipairs(results) do
    local exps = {}
    for k, e in ipairs(r.expectations or {}) do
      exps[k] = obj { { "name", e.name }, { "ok", e.ok }, { "value", e.value }, { "expected", e.expected },
        { "where", e.where }, { "seconds", e.at } }
    end
    lessons[i] = obj {
      { "file", r.file }, { "status", r.status }, { "passed", r.passed }, { "failed", r.failed },
      { "seconds", r.seconds },
      { "failure", r.reason and obj { { "kind", r.kind }, { "message", r.reason } } or nil },
      { "expectations", exps }, { "exit_status", r.exit }, { "signal", r.signal },
      { "sandbox", r.sandbox }, { "plot_errors", r.plot_errors or {} },
      { "stdout", r.stdout or "" }, { "stderr", r.stderr or "" },
    }
  end
  return json(obj {
    { "tool", "nnlab --check" }, { "version", nnlab and nnlab.version or "?" },
    { "passed", totals.passed }, { "failed", totals.failed },
    { "status", totals.failed == 0 and not totals.interrupted and "pass" or "fail" },
    { "interrupted", totals.interrupted },
    { "limits", obj { { "timeout", opts.timeout or 0 }, { "max_memory_mb", opts.max_memory or 0 },
      { "sandbox", opts.sandbox and true or false } } },
    { "lessons", lessons },
  }) .. "\n"
end

-- XML 1.0 text: escaped, and without the control characters it cannot hold.
local function xml(s)
  s = utf8_clean(tostring(s)):gsub("[\0-\8\11\12\14-\31\127]", "?")
  s = s:gsub("\u{FFFE}", "?"):gsub("\u{FFFF}", "?")
  return (s:gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&apos;" }))
end

local function attrs(list)
  local out = {}
  for _, kv in ipairs(list) do
    if kv[2] ~= nil then out[#out + 1] = format('%s="%s"', kv[1], xml(kv[2])) end
  end
  return concat(out, " ")
end

local function junit_report(results, totals)
  local out = { '<?xml version="1.0" encoding="UTF-8"?>' }
  local function add(s) out[#out + 1] = s end
  local all = { tests = 0, failures = 0, errors = 0, skipped = 0, time = 0 }
  local suites = {}
  for _, r in ipairs(results) do
    local class = r.file:gsub("%.lua$", ""):gsub("^%./", ""):gsub("/", ".")
    local cases, n = {}, { tests = 0, failures = 0, errors = 0, skipped = 0 }
    local last = 0
    for _, e in ipairs(r.expectations or {}) do
      n.tests = n.tests + 1
      local head = format("    <testcase %s", attrs { { "classname", class }, { "name", e.name }, { "file", r.file },
        { "line", e.where:match(":(%d+)$") }, { "time", format("%.3f", math.max(0, e.at - last)) } })
      last = e.at
      if e.ok then
        cases[#cases + 1] = head .. "/>"
      else
        n.failures = n.failures + 1
        cases[#cases + 1] = head .. ">\n      <failure " ..
          attrs { { "type", "expectation" }, { "message", format("%s %s (expected %s)", e.name, e.value, e.expected) } } ..
          ">" .. xml(format("expected: %s\ngiven: %s\nat: %s", e.expected, e.value, e.where)) .. "</failure>\n    </testcase>"
      end
    end
    if r.status == "not run" or r.reason then
      n.tests = n.tests + 1
      local name = r.kind == "no-expectations" and "records at least one expectation" or "runs to its end"
      local head = format("    <testcase %s>\n      ", attrs { { "classname", class }, { "name", name },
        { "file", r.file }, { "time", format("%.3f", math.max(0, (r.seconds or 0) - last)) } })
      if r.status == "not run" then
        n.skipped = n.skipped + 1
        cases[#cases + 1] = head .. "<skipped " .. attrs { { "message", r.reason } } .. "/>\n    </testcase>"
      else
        local tag = r.kind == "no-expectations" and "failure" or "error"
        if tag == "failure" then n.failures = n.failures + 1 else n.errors = n.errors + 1 end
        cases[#cases + 1] = head .. format("<%s %s>%s</%s>\n    </testcase>", tag,
          attrs { { "type", r.kind }, { "message", r.reason:match("^[^\n]*") } }, xml(r.reason), tag)
      end
    end
    for k, v in pairs(n) do all[k] = all[k] + v end
    all.time = all.time + (r.seconds or 0)
    local suite = { format("  <testsuite %s>", attrs { { "name", r.file }, { "tests", n.tests },
      { "failures", n.failures }, { "errors", n.errors }, { "skipped", n.skipped },
      { "time", format("%.3f", r.seconds or 0) }, { "timestamp", r.timestamp } }) }
    suite[#suite + 1] = "    <properties>"
    suite[#suite + 1] = "      <property " .. attrs { { "name", "status" }, { "value", r.status } } .. "/>"
    if r.sandbox then suite[#suite + 1] = "      <property " .. attrs { { "name", "sandbox" }, { "value", r.sandbox } } .. "/>" end
    suite[#suite + 1] = "    </properties>"
    for _, c in ipairs(cases) do suite[#suite + 1] = c end
    suite[#suite + 1] = "    <system-out>" .. xml(r.stdout or "") .. "</system-out>"
    suite[#suite + 1] = "    <system-err>" .. xml(r.stderr or "") .. "</system-err>"
    suite[#suite + 1] = "  </testsuite>"
    suites[#suites + 1] = concat(suite, "\n")
  end
  add(format("<testsuites %s>", attrs { { "name", "nnlab --check" }, { "tests", all.tests },
    { "failures", all.failures }, { "errors", all.errors }, { "skipped", all.skipped },
    { "time", format("%.3f", all.time) } }))
  for _, s in ipairs(suites) do add(s) end
  add("</testsuites>")
  return concat(out, "\n") .. "\n"
end

-- A report file appears whole or not at all: _plot.write writes a temporary
-- file beside it, then renames it (created as fopen creates files, so the
-- umask applies).
local function write_atomically(path, text)
  local ok, err = require("_plot").write(path, text)
  if not ok then error(err, 0) end
end

-- Fails before any lesson runs when a report cannot be written there.
local function check_target(path, option)
  local tmp = format("%s.tmp-check-%s", path, tostring({}):match("0x(%x+)") or "0")
  local f, err = io.open(tmp, "wb")
  if not f then error(format("%s: cannot write %s: %s", option, path, err), 0) end
  f:close()
  os.remove(tmp)
end

-- ---- the batch ----------------------------------------------------------------

local RULE = "======== nnlab --check: results (recorded by nnlab, not printed by the lessons) ========"

local function indent(s, pad) return (s:gsub("\n", "\n" .. pad)) end

-- One line per file, "STATUS file (P passed, F failed, T s)", then ": why"
-- when the lesson failed as a whole; its failed checks below it.
local function summary(results, totals)
  local out = { "", RULE }
  local failing = {}
  for _, r in ipairs(results) do
    if r.status == "not run" then
      out[#out + 1] = format("NOT RUN %s: %s", r.file, r.reason)
    else
      if r.status ~= "pass" then failing[#failing + 1] = r.file end
      local head = format("%s %s (%d passed, %d failed, %s)", r.status == "pass" and "PASS" or "FAIL", r.file,
        r.passed, r.failed, seconds(r.seconds))
      out[#out + 1] = r.reason and (head .. ": " .. indent(r.reason, "    ")) or head
      for _, e in ipairs(r.expectations) do
        if not e.ok then out[#out + 1] = format("    FAIL %s %s (expected %s) [%s]", e.name, e.value, e.expected, e.where) end
      end
    end
    for _, e in ipairs(r.plot_errors or {}) do out[#out + 1] = "    plot not drawn: " .. indent(e, "      ") end
  end
  local layers = {}
  for _, r in ipairs(results) do
    if r.sandbox and not layers[r.sandbox] then
      layers[r.sandbox] = true
      out[#out + 1] = "sandbox: " .. r.sandbox
    end
  end
  if #failing > 0 then
    out[#out + 1] = format("failing files (%d):", #failing)
    for _, f in ipairs(failing) do out[#out + 1] = "  " .. f end
  end
  if totals.interrupted then out[#out + 1] = "interrupted: the lessons after it did not run" end
  out[#out + 1] = format("%d passed, %d failed", totals.passed, totals.failed)
  return concat(out, "\n") .. "\n"
end

-- Runs the lessons in paths; returns the exit status (0 when all passed).
function M.check_files(paths, opts)
  if opts.junit then check_target(opts.junit, "--junit") end
  if opts.json then check_target(opts.json, "--json") end
  local results, totals = {}, { passed = 0, failed = 0, interrupted = false }
  local ok, err = pcall(function()
    for _, path in ipairs(paths) do
      if totals.interrupted then
        results[#results + 1] = { file = path, status = "not run", passed = 0, failed = 0, seconds = 0,
          expectations = {}, reason = "the batch was interrupted before it" }
      else
        io.stdout:write("== ", path, "\n")
        io.stdout:flush()
        local timestamp = os.date("!%Y-%m-%dT%H:%M:%S")
        local r = run_one(path, opts)
        r.timestamp = timestamp
        results[#results + 1] = r
        totals.passed = totals.passed + r.passed
        totals.failed = totals.failed + r.failed + (r.reason and 1 or 0)
        if r.stop then totals.interrupted = true end
      end
    end
  end)
  if not ok then
    -- Ctrl-C between two lessons: the same as during one
    if not tostring(err):find("interrupted!", 1, true) then error(err, 0) end
    totals.interrupted = true
    for i = #results + 1, #paths do
      results[i] = { file = paths[i], status = "not run", passed = 0, failed = 0, seconds = 0,
        expectations = {}, reason = "the batch was interrupted before it" }
    end
  end
  io.stdout:flush()
  io.stdout:write(summary(results, totals))
  io.stdout:flush()
  if opts.junit then write_atomically(opts.junit, junit_report(results, totals)) end
  if opts.json then write_atomically(opts.json, json_report(results, totals, opts)) end
  return (totals.failed == 0 and not totals.interrupted) and 0 or 1
end

return M
