-- sandbox.lua — the Lua half of `nnlab --check --sandbox`, set up in the
-- lesson's own process just before it runs: no programs (os.execute,
-- io.popen), no C code (package.loadlib, C searchers, require of anything but
-- nnlab's modules and Lua's libraries), no binary chunks (load, loadfile,
-- dofile read text only), no writing, renaming or removing files outside the
-- lesson's folder (io.open, io.output, os.remove, os.rename, tensor.save,
-- model:save, plot.output, downloads), and a debug library reduced to
-- traceback and getinfo (the rest could swap upvalues or the metatables
-- that tell C code what a userdata is). Tables are changed in place, so the
-- library's own code goes through the same doors; the functions replaced
-- stay reachable only as upvalues here, which the reduced debug library
-- cannot read. The operating-system half (seccomp, Landlock, limits) is in
-- src/lesson/sandbox.c.
local G = require "_grader"
local M = {}

-- Public module names a sandboxed lesson may require (what is already loaded).
local PUBLIC = { "tensor", "data", "nn", "optim", "metrics", "plot", "lesson", "help",
  "string", "table", "math", "utf8", "coroutine", "os", "io", "debug" }

function M.apply(out_dir)
  -- everything used below is captured now: the lesson could replace the
  -- globals and library fields afterwards
  local error, type, tostring, format, sub, find, select = error, type, tostring, string.format, string.sub, string.find, select
  local resolve, real_open, real_output, real_remove, real_rename = G.resolve, io.open, io.output, os.remove, os.rename
  local real_load, real_loadfile = load, loadfile
  local root = assert(resolve(out_dir))

  local function refuse(name, why)
    return function()
      error(format("%s is not allowed under --sandbox (%s)", name, why), 2)
    end
  end

  -- Raises unless path is the lesson's folder or inside it.
  local function inside(path, who)
    if type(path) ~= "string" then return end -- the function itself says what it expected
    local real = resolve(path)
    if real and (real == root or sub(real, 1, #root + 1) == root .. "/") then return end
    error(format("%s: writing '%s' is not allowed under --sandbox (only inside %s)", who, path, out_dir), 3)
  end

  -- programs and C code
  os.execute = refuse("os.execute", "the lesson may not run programs")
  io.popen = refuse("io.popen", "the lesson may not run programs")
  package.loadlib = refuse("package.loadlib", "the lesson may not load C code")
  nnlab.repl = refuse("nnlab.repl", "it would write the REPL's history")

  -- files
  os.tmpname = refuse("os.tmpname", "the lesson may write only inside " .. out_dir)
  io.tmpfile = refuse("io.tmpfile", "the lesson may write only inside " .. out_dir)
  io.open = function(path, mode)
    if type(mode) == "string" and find(mode, "[wa+]") then inside(path, "io.open") end
    return real_open(path, mode)
  end
  io.output = function(file)
    if type(file) == "string" then inside(file, "io.output") end
    return real_output(file)
  end
  os.remove = function(path)
    inside(path, "os.remove")
    return real_remove(path)
  end
  os.rename = function(from, to)
    inside(from, "os.rename")
    inside(to, "os.rename")
    return real_rename(from, to)
  end
  local save = tensor.save
  tensor.save = function(t, path)
    inside(path, "tensor.save")
    return save(t, path)
  end
  local model_mt = debug.getregistry()["nnlab.Model"]
  if model_mt and type(model_mt.methods) == "table" and model_mt.methods.save then
    local model_save = model_mt.methods.save
    model_mt.methods.save = function(self, path)
      inside(path, "model:save")
      return model_save(self, path)
    end
  end
  local output = plot.output
  plot.output = function(mode, dir)
    if dir ~= nil then inside(dir, "plot.output") end
    return output(mode, dir)
  end
  data.fetch = refuse("data.fetch", "no downloads: give the datasets with NNLAB_DATA")

  -- chunks: text only
  local function text_only(f, e, who)
    if not f and type(e) == "string" and find(e, "binary chunk", 1, true) then
      e = who .. ": binary chunks are not allowed under --sandbox (they could crash the interpreter)"
    end
    return f, e
  end
  -- (an env given as nil is still given: the arguments keep their count)
  load = function(chunk, name, _, ...)
    if type(chunk) == "string" and sub(chunk, 1, 1) == "\27" then
      return nil, "load: binary chunks are not allowed under --sandbox (they could crash the interpreter)"
    end
    local f, e
    if select("#", ...) > 0 then f, e = real_load(chunk, name, "t", ...) else f, e = real_load(chunk, name, "t") end
    return text_only(f, e, "load")
  end
  local function loadfile_text(path, _, ...)
    local f, e
    if select("#", ...) > 0 then f, e = real_loadfile(path, "t", ...) else f, e = real_loadfile(path, "t") end
    return text_only(f, e, "loadfile")
  end
  loadfile = loadfile_text
  dofile = function(path)
    local f, e = loadfile_text(path)
    if not f then error(e, 2) end
    return f()
  end

  -- require: only what is loaded already, and public
  local loaded = {}
  for _, name in ipairs(PUBLIC) do loaded[name] = package.loaded[name] end
  loaded._G = _G
  require = function(name)
    local m = loaded[name]
    if m == nil then
      error(format("require: '%s' is not allowed under --sandbox (only nnlab's modules and Lua's standard libraries)",
        tostring(name)), 2)
    end
    return m
  end
  _G.package = { config = package.config, path = package.path, cpath = "", loaded = loaded, preload = {},
    searchers = {}, searchpath = package.searchpath,
    loadlib = refuse("package.loadlib", "the lesson may not load C code") }
  loaded.package = _G.package

  -- debug: traceback and getinfo
  for name in pairs(debug) do
    if name ~= "traceback" and name ~= "getinfo" then
      debug[name] = refuse("debug." .. name, "it could reach into nnlab's internals")
    end
  end
end

return M
