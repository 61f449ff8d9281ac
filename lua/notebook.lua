-- notebook.lua — a lesson that ran, written as a Jupyter notebook (nbformat
-- 4.5) by `--render page.ipynb`: its prose in the chosen language as Markdown
-- cells, each step as a code cell with what it printed and the plots it drew
-- in the order they came, and metadata naming the nnlab kernel.
local page = require "lesson_page"
local K = require "_kernel"
local L = require "_lesson"

local M = {}

local ARRAY = { __jsontype = "array" }
local function array(t) return setmetatable(t or {}, ARRAY) end

-- nbformat stores text as a list of lines, each but the last ending in "\n".
local function lines(text)
  local out = array()
  for l in text:gmatch("[^\n]*\n?") do
    if l ~= "" then out[#out + 1] = l end
  end
  return out
end

local function read(path)
  local f, err = io.open(path, "rb")
  if not f then error("lesson: --render: cannot read the plot " .. err, 0) end
  local data = f:read("a")
  f:close()
  return data
end

local function stream(text)
  text = page.clean_output(text)
  if text == "" then return nil end
  return { output_type = "stream", name = "stdout", text = lines(text .. "\n") }
end

local function image(p)
  local data = read(p.path)
  local bundle = { ["text/plain"] = lines("[plot: " .. (p.title or p.path:match("[^/]+$")) .. "]") }
  if p.path:match("%.svg$") then bundle["image/svg+xml"] = lines(data)
  else bundle["image/png"] = L.base64(data) end
  return { output_type = "display_data", data = bundle, metadata = {} }
end

-- The outputs of step n: printed text and plots interleaved by when they came.
local function outputs(s, n)
  local out, pieces, done = array(), s.outputs[n] or {}, 0
  local function text_until(k)
    local o = stream(table.concat(pieces, "", done + 1, k))
    if o then out[#out + 1] = o end
    done = k
  end
  for _, p in ipairs(s.plots[n] or {}) do
    text_until(math.min(p.at or #pieces, #pieces))
    out[#out + 1] = image(p)
  end
  text_until(#pieces)
  if s.error and s.error_step == n then
    local msg = tostring(s.error)
    out[#out + 1] = { output_type = "error", ename = "Error", evalue = msg:match("^[^\n]*"),
      traceback = lines(msg) }
  end
  return out
end

local function prose(b, lang)
  local md = {}
  for _, l in ipairs(b.lines) do
    if l.lang == nil or l.lang == lang then md[#md + 1] = l.text end
  end
  while #md > 0 and not md[#md]:find("%S") do md[#md] = nil end
  while #md > 0 and not md[1]:find("%S") do table.remove(md, 1) end
  return table.concat(md, "\n")
end

M.kernelspec = { name = "nnlab", display_name = "nnlab (Lua 5.4)", language = "lua" }
M.language_info = { name = "lua", version = (_VERSION:match("[%d%.]+")), mimetype = "text/x-lua",
  file_extension = ".lua", codemirror_mode = "lua", pygments_lexer = "lua" }

-- The notebook's JSON text.
function M.render(s, info)
  local cells, count = array(), 0
  local function add(cell)
    cell.id = "cell-" .. (#cells + 1)
    cell.metadata = cell.metadata or {}
    cells[#cells + 1] = cell
  end
  for _, b in ipairs(s.doc.blocks) do
    if b.kind == "prose" then
      local md = prose(b, info.lang)
      if md ~= "" then add { cell_type = "markdown", source = lines(md) } end
    else
      local code, outs = page.code_of(s.doc, b), outputs(s, b.step)
      if code ~= "" or #outs > 0 then
        count = count + 1
        add { cell_type = "code", execution_count = count, source = lines(code), outputs = outs }
      end
    end
  end
  local nb = {
    nbformat = 4, nbformat_minor = 5, cells = cells,
    metadata = { kernelspec = M.kernelspec, language_info = M.language_info,
      nnlab = { lesson = s.path, lang = info.lang, quick = info.quick or false, seed = s.opts.seed or 42,
        version = info.version } },
  }
  return K.json(nb, 1) .. "\n"
end

return M
