-- lesson_page.lua — how a lesson looks: its Markdown prose formatted for the
-- terminal (headings that stand out, wrapped paragraphs, lists, code), and the
-- workbook page written by --render: Markdown with the code, output and plots
-- of every step, or one self-contained HTML file made by libcmark.
local C = require "_lesson"

local M = {}

-- ---- the terminal ----------------------------------------------------------

local ESC = string.char(27)
local STYLE = { bold = "1", italic = "3", code = "36", h1 = "1;4;34", h2 = "1;34", h3 = "1", quote = "2" }

local function paint(text, style, color)
  if not color then return text end
  return ESC .. "[" .. STYLE[style] .. "m" .. text .. ESC .. "[0m"
end

-- Visible width: ANSI sequences take no room, a UTF-8 character one column.
local function width_of(s)
  s = s:gsub(ESC .. "%[[%d;]*m", "")
  return utf8.len(s) or #s
end

-- Inline Markdown: code spans, images, links, **strong**, *emphasis*. On a
-- colour terminal they become ANSI styles; otherwise the markers go, except
-- the backticks of code, which read well as they are.
local function inline(text, color)
  local codes = {}
  text = text:gsub("`([^`]+)`", function(c)
    codes[#codes + 1] = color and paint(c, "code", true) or ("`" .. c .. "`")
    return "\0" .. #codes .. "\0"
  end)
  text = text:gsub("!%[([^%]]*)%]%(([^%)]*)%)", function(alt, url) return "[" .. (alt ~= "" and alt or url) .. "]" end)
  text = text:gsub("%[([^%]]+)%]%(([^%)]+)%)", "%1 (%2)")
  text = text:gsub("%*%*(.-)%*%*", function(t) return paint(t, "bold", color) end)
  text = text:gsub("__(.-)__", function(t) return paint(t, "bold", color) end)
  text = text:gsub("%f[%w%*]%*([^%s%*][^%*]-)%*%f[^%w%*]", function(t) return paint(t, "italic", color) end)
  text = text:gsub("%f[%w_]_([^%s_][^_]-)_%f[^%w_]", function(t) return paint(t, "italic", color) end)
  return (text:gsub("%z(%d+)%z", function(i) return codes[tonumber(i)] end))
end

-- Greedy word wrap to `width` columns; `first` starts the first line and
-- `rest` the following ones (a list bullet and its hanging indent).
local function wrap(text, width, first, rest)
  local lines, line, lw = {}, first, width_of(first)
  local empty = true
  for word in text:gmatch("%S+") do
    local w = width_of(word)
    if not empty and lw + 1 + w > width then
      lines[#lines + 1] = line
      line, lw, empty = rest .. word, width_of(rest) + w, false
    else
      line = empty and (line .. word) or (line .. " " .. word)
      lw = lw + (empty and 0 or 1) + w
      empty = false
    end
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n")
end

-- Formats Markdown lines for the terminal; opts.width (columns, 80) and
-- opts.color (ANSI styles). Returns the text without a final newline.
function M.format_terminal(md, opts)
  opts = opts or {}
  local width, color = opts.width or 80, opts.color
  local out, para, fence = {}, {}, nil
  local function flush()
    if #para > 0 then
      local item = para.item
      local text = inline(table.concat(para, " "), color)
      if item then out[#out + 1] = wrap(text, width, para.indent .. item, para.indent .. (" "):rep(width_of(item)))
      elseif para.quote then out[#out + 1] = wrap(paint(text, "quote", color), width, "  | ", "  | ")
      else out[#out + 1] = wrap(text, width, "", "") end
    end
    para = {}
  end
  for _, line in ipairs(md) do
    if fence then
      if line:match("^%s*```") or line:match("^%s*~~~") then fence = nil
      else out[#out + 1] = "    " .. paint(line, "code", color) end
    elseif line:match("^%s*```") or line:match("^%s*~~~") then
      flush()
      fence = true
    elseif line:match("^%s*$") then
      flush()
      if out[#out] ~= "" and #out > 0 then out[#out + 1] = "" end
    elseif line:match("^#+%s") then
      flush()
      local hashes, title = line:match("^(#+)%s+(.-)%s*#*%s*$")
      local level = math.min(#hashes, 3)
      title = inline(title, false)
      if #out > 0 and out[#out] ~= "" then out[#out + 1] = "" end
      out[#out + 1] = paint(title, "h" .. level, color)
      if level <= 2 then out[#out + 1] = (level == 1 and "=" or "-"):rep(width_of(title)) end
    elseif line:match("^%s*[-*+]%s+") or line:match("^%s*%d+[.)]%s+") then
      flush()
      local indent, bullet, text = line:match("^(%s*)([-*+])%s+(.*)$")
      if bullet then bullet = "• " else indent, bullet, text = line:match("^(%s*)(%d+[.)])%s+(.*)$"); bullet = bullet .. " " end
      para = { text, item = bullet, indent = "  " .. indent }
    elseif line:match("^%s*|") then
      flush()
      out[#out + 1] = "  " .. line
    elseif line:match("^    ") and #para == 0 then
      out[#out + 1] = "    " .. paint(line:sub(5), "code", color)
    elseif line:match("^%s*>") then
      if not para.quote then flush() end
      para.quote = true
      para[#para + 1] = line:gsub("^%s*>%s?", "")
    else
      para[#para + 1] = line:gsub("^%s+", "")
    end
  end
  flush()
  while out[#out] == "" do out[#out] = nil end
  while out[1] == "" do table.remove(out, 1) end
  return table.concat(out, "\n")
end

-- ---- the workbook page -----------------------------------------------------

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then error("lesson: --render: cannot read the plot " .. err, 0) end
  local data = f:read("a")
  f:close()
  return data
end

-- Through a temporary file and a rename (the writer every nnlab file uses).
local function write_file(path, data)
  local ok, err = require("_plot").write(path, data)
  if not ok then error("lesson: --render: " .. err, 0) end
end

-- Captured output as the page shows it: no ANSI styles, a line rewritten with
-- "\r" (a progress bar) keeps its last state, no trailing blank lines.
local function clean_output(text)
  text = text:gsub(ESC .. "%[[%d;?]*%a", "")
  local lines = {}
  for l in (text .. "\n"):gmatch("(.-)\n") do
    l = l:gsub("\r+$", "")
    l = l:match("([^\r]*)$")
    lines[#lines + 1] = (l:gsub("%s+$", ""))
  end
  while #lines > 0 and lines[#lines] == "" do lines[#lines] = nil end
  return table.concat(lines, "\n")
end

-- A fence longer than any run of backticks inside the text.
local function fenced(text, info)
  local longest = 0
  for run in text:gmatch("`+") do longest = math.max(longest, #run) end
  local f = ("`"):rep(math.max(3, longest + 1))
  return f .. info .. "\n" .. text .. "\n" .. f
end

-- The step's code as the student sees it: the grader's lesson.expect(...)
-- statements (with their continuation lines) are left out. The runner has
-- bound those calls to its own function (__nnlab_expect), which a page
-- shows by the name the lesson wrote.
local function without_expect(lines)
  local out, depth = {}, 0
  for _, l in ipairs(lines) do
    if depth > 0 or l:match("^%s*lesson%.expect%s*%(") or l:match("^%s*__nnlab_expect%s*%(") then
      local opened = select(2, l:gsub("[%(%{%[]", "")) - select(2, l:gsub("[%)%}%]]", ""))
      depth = math.max(0, depth + opened)
    else
      out[#out + 1] = (l:gsub("__nnlab_expect%(", "lesson.expect("))
    end
  end
  while #out > 0 and not out[#out]:find("%S") do out[#out] = nil end
  return out
end

local function code_of(doc, b)
  local first, last = b.first, b.last
  while first < last and not doc.lines[first]:find("%S") do first = first + 1 end
  while last > first and not doc.lines[last]:find("%S") do last = last - 1 end
  local t = {}
  for i = first, last do t[#t + 1] = doc.lines[i] end
  if first == 1 and t[1]:sub(1, 2) == "#!" then table.remove(t, 1) end
  return table.concat(without_expect(t), "\n")
end
M.code_of, M.clean_output = code_of, clean_output

-- The page as Markdown; image_ref(path) gives the link of each plot.
local function markdown(s, info, image_ref)
  local out = {}
  for _, b in ipairs(s.doc.blocks) do
    if b.kind == "prose" then
      local any = false
      for _, l in ipairs(b.lines) do
        if l.lang == nil or l.lang == info.lang then
          if any and out[#out]:match("^#+%s") and l.text ~= "" then out[#out + 1] = "" end
          out[#out + 1] = l.text
          any = true
        end
      end
      if any then out[#out + 1] = "" end
    else
      local code = code_of(s.doc, b)
      if code ~= "" then out[#out + 1] = fenced(code, "lua") .. "\n" end
      local text = clean_output(table.concat(s.outputs[b.step] or {}))
      if s.error and s.error_step == b.step then
        text = (text ~= "" and (text .. "\n") or "") .. "error: " .. tostring(s.error)
      end
      if text ~= "" then out[#out + 1] = fenced(text, "output") .. "\n" end
      for _, p in ipairs(s.plots[b.step] or {}) do
        local alt = (p.title or p.path:match("([^/]+)$")):gsub("[%[%]]", "")
        out[#out + 1] = "![" .. alt .. "](" .. image_ref(p.path) .. ")\n"
      end
    end
  end
  out[#out + 1] = string.format("---\n\n*%s `%s` %s nnlab %s (`--render%s --seed %s`).*\n",
    info.lang == "es" and "Generado a partir de" or "Generated from", s.path,
    info.lang == "es" and "con" or "by", info.version or "", info.quick and " --quick" or "",
    tostring(s.opts.seed or 42))
  return (table.concat(out, "\n"):gsub("\n\n\n+", "\n\n"))
end

local CSS = [[
body{margin:0;background:#fdfdfb;color:#222;font:17px/1.6 "Source Serif Pro",Georgia,"DejaVu Serif",serif}
main{max-width:48em;margin:0 auto;padding:2em 1.2em 4em}
h1,h2,h3{font-family:"Source Sans Pro","Helvetica Neue",Arial,sans-serif;line-height:1.25;color:#1a3a5a}
h1{font-size:2em;border-bottom:2px solid #d8e0e8;padding-bottom:.2em}
h2{font-size:1.45em;margin-top:1.8em}
code{font:0.88em/1.45 "DejaVu Sans Mono",Menlo,Consolas,monospace;background:#f0f2f4;padding:.1em .3em;border-radius:3px}
pre{overflow-x:auto;padding:.8em 1em;border-radius:5px;background:#f3f5f7;border:1px solid #e2e6ea}
pre code{background:none;padding:0}
pre:has(code.language-output){background:#fff;border:none;border-left:4px solid #8fb3d9;padding-left:1em}
code.language-output{color:#333}
img{max-width:100%;height:auto;display:block;margin:1em auto;border:1px solid #eee}
table{border-collapse:collapse}td,th{border:1px solid #ccd;padding:.2em .6em}
blockquote{margin:1em 0;padding:.2em 1em;border-left:4px solid #e0c070;background:#fffbea}
hr{border:none;border-top:1px solid #ddd;margin:3em 0 1em}
main>p:last-child{font-size:.85em;color:#777}
]]

local function html_escape(s)
  return (s:gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end

local function dirname(path) return path:match("^(.*)/[^/]*$") or "." end

-- Checks the page name before the lesson runs: .md, .html or .ipynb.
function M.check_target(path)
  if not (path:match("%.md$") or path:match("%.html?$") or path:match("%.ipynb$")) then
    error(string.format("--render expects a file name ending in .md, .html or .ipynb, got '%s'", path), 0)
  end
end

-- One self-contained HTML page from Markdown: libcmark does the conversion;
-- every image link to a local file (relative to `base`) becomes a data: URI.
function M.html(md, lang, base)
  md = md:gsub("(!%[[^%]]*%]%()([^%)]+)%)", function(head, url)
    if url:match("^%a[%w+.-]*:") then return nil end
    local file = url:sub(1, 1) == "/" and url or (base .. "/" .. url)
    local kind = url:match("%.svg$") and "svg+xml" or url:match("%.jpe?g$") and "jpeg" or "png"
    return head .. "data:image/" .. kind .. ";base64," .. C.base64(read_file(file)) .. ")"
  end)
  local title = md:match("^#%s+([^\n]-)%s*\n") or md:match("\n#%s+([^\n]-)%s*\n") or "nnlab"
  return table.concat({
    "<!DOCTYPE html>", '<html lang="' .. lang .. '">', "<head>", '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    "<title>" .. html_escape((title:gsub("[`*_]", ""))) .. "</title>", "<style>", CSS, "</style>", "</head>",
    "<body><main>", C.markdown_to_html(md), "</main></body>", "</html>", "" }, "\n")
end

-- Converts a Markdown page written by --render (images beside it) into HTML.
function M.convert(md_path, html_path, lang)
  local md = read_file(md_path)
  write_file(html_path, M.html(md, lang or md_path:match("%.(%l%l)%.md$") or "es", dirname(md_path)))
end

-- The languages of a lesson's prose, in order of first use.
local function languages(doc)
  local seen, out = {}, {}
  for _, b in ipairs(doc.blocks) do
    for _, l in ipairs(b.lines or {}) do
      if l.lang and not seen[l.lang] then
        seen[l.lang] = true
        out[#out + 1] = l.lang
      end
    end
  end
  return out
end

-- Writes the page of a lesson that ran (state s). A .md page gets its plots
-- copied into a folder named after the lesson beside it (relative links); an
-- .html page embeds them as data: URIs and needs nothing beside it. A
-- "{lang}" in the name writes one page per language of the prose, from the
-- same run. Returns the list of pages written.
function M.write(s, path, info)
  M.check_target(path)
  if path:find("{lang}", 1, true) then
    local langs, written = languages(s.doc), {}
    if #langs == 0 then langs = { info.lang } end
    for _, lang in ipairs(langs) do
      local one = {}
      for k, v in pairs(info) do one[k] = v end
      one.lang = lang
      local p = path:gsub("{lang}", lang)
      M.write(s, p, one)
      written[#written + 1] = p
    end
    return written
  end
  local lesson = (s.path:match("([^/]+)$") or s.path):gsub("%.lua$", "")
  if path:match("%.ipynb$") then
    require("_plot").mkdirs(dirname(path)) -- as a .md page makes its folder
    write_file(path, require("notebook").render(s, info))
  elseif path:match("%.md$") then
    local dir = dirname(path) .. "/" .. lesson
    local made = false
    local md = markdown(s, info, function(p)
      if not made then
        os.execute("mkdir -p '" .. dir:gsub("'", "'\\''") .. "'")
        made = true
      end
      local name = p:match("([^/]+)$")
      write_file(dir .. "/" .. name, read_file(p))
      return lesson .. "/" .. name
    end)
    write_file(path, md)
  else
    write_file(path, M.html(markdown(s, info, function(p) return p end), info.lang, "."))
  end
  return { path }
end

return M
