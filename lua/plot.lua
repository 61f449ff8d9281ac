-- plot.lua — plots drawn by gnuplot: the layouts (history, images, weight
-- templates, example grids, confusion matrices, lines) as gnuplot scripts,
-- and where they go (window, numbered png/svg files with the .gp script and
-- its binary data beside each, the terminal, or nowhere). The C side
-- (_plot) runs gnuplot through pipes and writes mosaics of tiles as float32.
local C = require "_plot"
local T = require("i18n").t
local M = {}

local MODES = { window = true, png = true, svg = true, dumb = true, none = true }
local MODE_LIST = "window, png, svg, dumb or none"

local st = { mode = nil, dir = nil, count = 0, files = {}, warned = false, window_n = 0 }

M.on_file = nil -- function(path, title, script): told of every image file written (script: drawn later)
M._draw_later = false -- set by the lesson runner under --sandbox

local function options()
  local n = rawget(_G, "nnlab")
  return (type(n) == "table" and type(n.options) == "table") and n.options or {}
end

local function default_dir()
  local o = options()
  if o.out then return o.out end
  local script = o.scripts and o.scripts[1]
  if script then
    local base = script:match("([^/]+)$"):gsub("%.lua$", "")
    return "out/" .. base
  end
  return "out/repl"
end

local function gnuplot_exe() return C.find() end

-- A window terminal that this gnuplot has (qt, wxt or x11), or nil.
local function window_terminal(exe)
  local out = C.run(exe, "set print '-'\nprint GPVAL_TERMINALS\n", nil, true)
  if not out then return nil end
  for _, t in ipairs({ "qt", "wxt", "x11" }) do
    if (" " .. out .. " "):find("%s" .. t .. "%s") then return t end
  end
  return nil
end

local function check_mode(mode, who)
  if mode ~= "auto" and not MODES[mode] then
    error(string.format("%s: unknown output mode %s (expected %s)", who,
      type(mode) == "string" and ("'" .. mode .. "'") or type(mode), MODE_LIST), 3)
  end
end

-- `window` when there is a display and gnuplot can open a window, else png.
local function resolve(mode)
  if mode ~= "auto" and mode ~= "window" then return mode end
  local exe = gnuplot_exe()
  local display = os.getenv("DISPLAY") or os.getenv("WAYLAND_DISPLAY")
  if exe and display and display ~= "" then
    local term = window_terminal(exe)
    if term then
      st.terminal = term
      return "window"
    end
  end
  return "png"
end

-- plot.output([mode [, dir]]) -> mode, dir. Sets where plots go; the
-- numbering starts again at 01. Without arguments it only reports.
function M.output(mode, dir)
  if mode == nil and dir == nil then
    M._current()
    return st.mode, st.dir
  end
  check_mode(mode, "plot.output")
  if dir ~= nil and type(dir) ~= "string" then
    error("plot.output: dir: expected a folder name, got " .. type(dir), 2)
  end
  st.mode, st.dir, st.count, st.files = resolve(mode), dir or default_dir(), 0, {}
  return st.mode, st.dir
end

-- The image files written so far (since the last plot.output): {path=, title=}.
function M.files()
  local out = {}
  for i, f in ipairs(st.files) do out[i] = { path = f.path, title = f.title, script = f.script } end
  return out
end

local function current()
  if not st.mode then
    local m = options().plot or os.getenv("NNLAB_PLOT")
    if m == "" then m = nil end
    if m and m ~= "auto" and not MODES[m] then
      error(string.format("plot: unknown output mode '%s' from --plot or NNLAB_PLOT (expected %s)", m, MODE_LIST), 3)
    end
    M.output(m or "auto")
  end
  return st.mode
end
M._current = current

-- Every string that reaches a gnuplot script goes through text() or q().
-- gnuplot reads its script line by line, and a line starting with "!" is a
-- shell command, so control characters (newline, carriage return, NUL, ...)
-- become spaces; in single quotes gnuplot does no backquote or macro
-- substitution, and a quote is doubled.
local function text(s) return (tostring(s):gsub("%c", " ")) end
local function q(s) return "'" .. text(s):gsub("'", "''") .. "'" end
M._quote = q

local function num(x)
  if x ~= x then return "NaN" end
  if x == math.huge then return "Inf" elseif x == -math.huge then return "-Inf" end
  return string.format("%.9g", x)
end

local function fail(who, msg) error(who .. ": " .. msg, 0) end

-- Draws one plot. spec: kind, title, who, width and height (pixels),
-- data = function(base) writing the data files base.* into the folder, and
-- body = function(base) returning the gnuplot commands after the terminal
-- (and, when it knows them only then, the width and height).
local function emit(spec)
  local mode = current()
  if mode == "none" then return nil end
  local who = spec.who
  local ok, err = C.mkdirs(st.dir)
  if not ok then fail(who, err) end
  st.count = st.count + 1
  local base = string.format("%02d_%s", st.count, spec.kind)
  if spec.data then spec.data(base) end
  local body, bw, bh = spec.body(base)
  local exe = gnuplot_exe()
  local w, h = math.floor(bw or spec.width), math.floor(bh or spec.height)
  local ext = mode == "svg" and "svg" or "png"
  local image = base .. "." .. ext
  local term
  if mode == "svg" then
    term = string.format("set terminal svg size %d,%d font 'sans,10' background rgb 'white'", w, h)
  else
    term = string.format("set terminal pngcairo size %d,%d font 'sans,10' background rgb 'white'", w, h)
  end
  local script = string.format("# %s — drawn by nnlab; run `gnuplot %s.gp` in this folder to draw it again\n%s\nset output %s\n%s\nunset output\n",
    text(spec.title or spec.kind), base, term, q(image), body)
  local gp = st.dir .. "/" .. base .. ".gp"
  ok, err = C.write(gp, script)
  if not ok then fail(who, err) end
  if exe and M._draw_later then
    -- under `--check --sandbox` the lesson cannot start gnuplot: the grader
    -- draws the script after the lesson (M.on_file is told of it)
    local path = st.dir .. "/" .. image
    st.files[#st.files + 1] = { path = path, title = spec.title, script = gp }
    if type(M.on_file) == "function" then M.on_file(path, spec.title, gp) end
    return path
  end
  if not exe then
    if not st.warned then
      st.warned = true
      io.stderr:write(string.format("plot: gnuplot is not installed, so no plot is drawn (the .gp scripts and data are in %s); install it with: apt-get install gnuplot-nox\n", st.dir))
    end
    return nil
  end
  if mode == "png" or mode == "svg" then
    local tmp = "." .. image .. ".tmp"
    local run = script:gsub("set output " .. q(image):gsub("%p", "%%%0"), function() return "set output " .. q(tmp) end, 1)
    ok, err = C.run(exe, run, st.dir)
    if not ok then
      os.remove(st.dir .. "/" .. tmp)
      fail(who, err)
    end
    local drawn = io.open(st.dir .. "/" .. tmp, "rb")
    local size = drawn and drawn:seek("end") or 0
    if drawn then drawn:close() end
    if size == 0 then -- gnuplot stopped (`exit`, `quit`) before drawing anything
      os.remove(st.dir .. "/" .. tmp)
      fail(who, "gnuplot drew nothing (expected commands that draw a plot; did they `exit` first?)")
    end
    ok, err = os.rename(st.dir .. "/" .. tmp, st.dir .. "/" .. image)
    if not ok then fail(who, err) end
    local path = st.dir .. "/" .. image
    st.files[#st.files + 1] = { path = path, title = spec.title, script = st.dir .. "/" .. base .. ".gp" }
    if type(M.on_file) == "function" then M.on_file(path, spec.title) end
    return path
  elseif mode == "dumb" then
    local out
    out, err = C.run(exe, string.format("set terminal dumb size 100,30\n%s\n", body), st.dir, true)
    if not out then fail(who, err) end
    io.write(out)
    return nil
  else -- window: one gnuplot kept open, a new window per plot
    st.window_n = st.window_n + 1
    local dir = st.dir:sub(1, 1) == "/" and st.dir or (os.getenv("PWD") or ".") .. "/" .. st.dir
    ok, err = C.session_send(exe, string.format("cd %s\nset terminal %s %d size %d,%d title %s\n%s\n",
      q(dir), st.terminal or "qt", st.window_n, w, h, q(spec.title or base), body))
    if not ok then fail(who, err) end
    return nil
  end
end

-- ---- argument helpers ------------------------------------------------------

local function is_tensor(x) return getmetatable(x) and getmetatable(x).__name == "nnlab.Tensor" end

local function check_tensor(x, who, what)
  if not is_tensor(x) then fail(who, string.format("%s: expected a Tensor, got %s", what, type(x))) end
  return x
end

local function check_opts(opts, who, allowed)
  if opts == nil then return {} end
  if type(opts) ~= "table" then fail(who, "options: expected a table, got " .. type(opts)) end
  for k in pairs(opts) do
    if not allowed[k] then
      local names = {}
      for n in pairs(allowed) do names[#names + 1] = n end
      table.sort(names)
      fail(who, string.format("unknown option '%s' (expected %s)", tostring(k), table.concat(names, ", ")))
    end
  end
  return opts
end

local function shape_str(t) return table.concat(t:shape(), "x") end

-- Pixel margins around the plotted area, as gnuplot screen fractions.
local function margins(left, right, bottom, top, pw, ph)
  local W, H = left + pw + right, bottom + ph + top
  return W, H, string.format("set lmargin at screen %.6f\nset rmargin at screen %.6f\nset bmargin at screen %.6f\nset tmargin at screen %.6f\n",
    left / W, (left + pw) / W, bottom / H, (bottom + ph) / H)
end

local DIVERGING = "set palette defined (0 '#2166ac', 0.25 '#67a9cf', 0.5 '#f7f7f7', 0.75 '#ef8a62', 1 '#b2182b')"

-- Mosaic plot: tiles from src written as one binary image, captions under
-- the tiles, palette by kind ("grey", "diverging" or "rgb").
local function mosaic_plot(spec)
  local m = spec.mosaic
  local captions = spec.captions
  local band = (captions and #captions > 0) and math.max(4, math.ceil(m.h * 0.4)) or 0
  local gap = spec.gap or (m.n == 1 and 0 or math.max(1, math.floor(m.h / 10)))
  local maxdim = math.max(m.h, m.w)
  local scale = spec.scale or math.max(1, math.floor(100 / maxdim))
  if captions then -- wide enough for the longest caption (about 6.5 px a character at 9 pt)
    local longest = 0
    for _, cap in ipairs(captions) do longest = math.max(longest, utf8.len(cap) or #cap) end
    scale = math.max(scale, math.min(8, math.ceil((longest * 6.5 + 6) / (m.w + gap))))
  end
  local cols = m.cols
  local rgb = m.c == 3
  local colorbox = spec.colorbox
  local layout
  local file
  return emit {
    kind = spec.kind, title = spec.title, who = spec.who,
    data = function(base)
      file = base .. ".bin"
      local mw, mh, lo, hi, c = C.mosaic(st.dir .. "/" .. file, spec.src, {
        who = spec.who, layout = m.layout, h = m.h, w = m.w, c = m.c, index = m.index,
        cols = cols, gap = gap, band = band, smooth = spec.smooth, minmax = spec.minmax,
        bg = rgb and 255 or nil })
      layout = { w = mw, h = mh, lo = lo, hi = hi, cols = c }
    end,
    body = function()
      local pw, ph = layout.w * scale, layout.h * scale
      local right = colorbox and 90 or 20
      local top = spec.title and 40 or 15
      local W, H, marg = margins(20, right, 15, top, pw, ph)
      if W < 240 then
        local extra = 240 - W
        W, H, marg = margins(20 + extra // 2, right + extra - extra // 2, 15, top, pw, ph)
      end
      local s = {}
      s[#s + 1] = "unset key\nunset border\nunset xtics\nunset ytics\n" .. marg
      s[#s + 1] = string.format("set xrange [-0.5:%d.5]\nset yrange [%d.5:-0.5]", layout.w - 1, layout.h - 1)
      if spec.title then s[#s + 1] = "set title " .. q(spec.title) .. " noenhanced" end
      if rgb then
        s[#s + 1] = "unset colorbox"
      else
        if spec.palette == "diverging" then
          local lim = math.max(math.abs(layout.lo), math.abs(layout.hi), 1e-12)
          s[#s + 1] = DIVERGING
          s[#s + 1] = string.format("set cbrange [%s:%s]", num(-lim), num(lim))
        else
          s[#s + 1] = "set palette grey gamma 1" -- pixel brightness = value
          if spec.cbrange then s[#s + 1] = string.format("set cbrange [%s:%s]", num(spec.cbrange[1]), num(spec.cbrange[2])) end
        end
        if colorbox then
          s[#s + 1] = string.format("set colorbox user origin screen %.6f,%.6f size screen %.6f,%.6f\nset cbtics",
            (20 + pw + 12) / W, 15 / H, 14 / W, ph / H)
        else
          s[#s + 1] = "unset colorbox"
        end
      end
      if captions then
        for i, cap in ipairs(captions) do
          local gx, gy = (i - 1) % layout.cols, (i - 1) // layout.cols
          local x = gx * (m.w + gap) + (m.w - 1) / 2
          local y = gy * (m.h + band + gap) + m.h + band / 2 - 0.5
          s[#s + 1] = string.format("set label %d %s at %s,%s center front noenhanced font ',%d'", i, q(cap),
            num(x), num(y), scale >= 3 and 9 or 8)
        end
      end
      s[#s + 1] = string.format("plot %s binary array=(%d,%d) format='%s' with %s notitle", q(file), layout.w, layout.h,
        rgb and "%float%float%float" or "%float", rgb and "rgbimage" or "image")
      return table.concat(s, "\n"), W, H
    end,
  }
end

-- ---- the plots -------------------------------------------------------------

-- plot.image(t [, {title=, colorbox=, palette="grey"|"diverging"}]):
-- H x W as a heatmap (uint8 on a fixed 0..255 grey scale; other dtypes on
-- their own range with a colour box), H x W x 3 as a colour image (uint8 as
-- it is, other dtypes min-max scaled).
function M.image(t, opts)
  local who = "plot.image"
  check_tensor(t, who, "t")
  opts = check_opts(opts, who, { title = true, colorbox = true, palette = true })
  local sh = t:shape()
  local c
  if #sh == 2 then c = 1
  elseif #sh == 3 and sh[3] == 3 then c = 3
  else fail(who, "expected an H x W or H x W x 3 tensor, got " .. shape_str(t)) end
  if opts.palette ~= nil and opts.palette ~= "grey" and opts.palette ~= "diverging" then
    fail(who, "palette: expected grey or diverging, got " .. tostring(opts.palette))
  end
  local u8 = t.dtype == "uint8"
  local colorbox = opts.colorbox
  if colorbox == nil then colorbox = c == 1 and not u8 end
  return mosaic_plot {
    kind = "image", who = who, title = opts.title, src = t,
    mosaic = { layout = "single", h = sh[1], w = sh[2], c = c, n = 1, cols = 1 },
    scale = math.max(1, math.floor(400 / math.max(sh[1], sh[2]))), gap = 0,
    minmax = c == 3 and not u8, palette = opts.palette or "grey",
    cbrange = (u8 and c == 1) and { 0, 255 } or nil, colorbox = colorbox,
  }
end

local function tile_shape(shape, who)
  if type(shape) ~= "table" or (#shape ~= 2 and not (#shape == 3 and shape[3] == 3)) then
    fail(who, "shape: expected {H, W} or {H, W, 3}, got " ..
      (type(shape) == "table" and ("{" .. table.concat(shape, ",") .. "}") or type(shape)))
  end
  for i = 1, #shape do
    if math.type(shape[i]) ~= "integer" or shape[i] < 1 then
      fail(who, "shape: expected positive integers, got {" .. table.concat(shape, ",") .. "}")
    end
  end
  return shape[1], shape[2], shape[3] or 1
end

local function default_cols(n)
  if n <= 12 then return math.max(1, math.ceil(n / 2)) end
  return math.ceil(math.sqrt(n))
end

local function check_labels(labels, n, who)
  if labels == nil then return nil end
  if type(labels) ~= "table" then fail(who, "labels: expected a list of names, got " .. type(labels)) end
  local out = {}
  for i = 1, n do out[i] = labels[i] ~= nil and tostring(labels[i]) or "" end
  return out
end

-- plot.weights(W, {shape=, labels=, cols=, smooth=false, title=}): one tile
-- per column of W (inputs x units). Grey tiles share a diverging palette
-- centred on 0 (blue negative, white 0, red positive) with a colour box;
-- RGB tiles are min-max scaled one by one. smooth=true (or a sigma in
-- pixels) blurs each tile with a Gaussian (sigma 1) before drawing.
function M.weights(W, opts)
  local who = "plot.weights"
  check_tensor(W, who, "W")
  opts = check_opts(opts, who, { shape = true, labels = true, cols = true, smooth = true, title = true })
  if W:dim() ~= 2 then fail(who, "expected a 2-D weight matrix (inputs x units), got " .. shape_str(W)) end
  if opts.shape == nil then fail(who, "shape: expected {H, W} or {H, W, 3} (the image each column is), got nil") end
  local h, w, c = tile_shape(opts.shape, who)
  local units = W:size(2)
  local sigma = opts.smooth == true and 1.0 or tonumber(opts.smooth) or 0
  local sm = opts.smooth
  if sm ~= nil and type(sm) ~= "boolean" and not (type(sm) == "number" and sm >= 0 and sm <= 6) then
    fail(who, "smooth: expected true, false or a sigma in pixels from 0 to 6, got " ..
      (type(sm) == "number" and tostring(sm) or type(sm)))
  end
  local title = opts.title
  if title == nil then title = T("plot.weights", units,
    table.concat(opts.shape, "x"), sigma > 0 and T("plot.smoothed") or "") end
  return mosaic_plot {
    kind = "weights", who = who, title = title, src = W,
    mosaic = { layout = "columns", h = h, w = w, c = c, n = units, cols = opts.cols or default_cols(units) },
    captions = check_labels(opts.labels, units, who), smooth = sigma,
    minmax = c == 3, palette = "diverging", colorbox = c == 1,
  }
end

-- Images of X (N x H x W or N x H x W x 3), the tiles listed in index.
local function image_grid(X, index, captions, cols, title, kind, who)
  local sh = X:shape()
  local c
  if #sh == 3 then c = 1
  elseif #sh == 4 and sh[4] == 3 then c = 3
  else fail(who, "X: expected N x H x W or N x H x W x 3 images, got " .. shape_str(X)) end
  local n = index and #index or sh[1]
  if n > 1000 then fail(who, string.format("expected at most 1000 images, got %d (take a narrow of X)", n)) end
  local u8 = X.dtype == "uint8"
  return mosaic_plot {
    kind = kind, who = who, title = title, src = X,
    mosaic = { layout = "rows", h = sh[2], w = sh[3], c = c, n = n, index = index, cols = cols or default_cols(n) },
    captions = captions, minmax = not u8,
    palette = "grey", cbrange = u8 and { 0, 255 } or nil, colorbox = false,
  }
end

-- plot.grid(X, {labels=, cols=, title=}): example images in a grid; labels
-- are one caption per image (a list of names, or an int32 tensor of class
-- indices together with classes=).
function M.grid(X, opts)
  local who = "plot.grid"
  check_tensor(X, who, "X")
  opts = check_opts(opts, who, { labels = true, cols = true, title = true, classes = true })
  local n = X:dim() >= 1 and X:size(1) or 0
  local labels = opts.labels
  if is_tensor(labels) then
    if labels:dim() ~= 1 or labels:numel() ~= n then
      fail(who, string.format("labels: expected %d class indices, got %s", n, shape_str(labels)))
    end
    local names, out = opts.classes, {}
    for i = 1, n do
      local k = math.tointeger(labels[i]) or labels[i]
      out[i] = names and names[k] or tostring(k)
    end
    labels = out
  end
  return image_grid(X, nil, check_labels(labels, n, who), opts.cols, opts.title, "grid", who)
end

local function class_indices(t, n, who, what)
  check_tensor(t, who, what)
  if t:dim() == 2 then t = t:argmax(2) end
  if t:dim() ~= 1 or t:numel() ~= n then
    fail(who, string.format("%s: expected %d class indices (as X has images), got %s", what, n, shape_str(t)))
  end
  return t
end

-- plot.mistakes(X, y_true, y_pred, classes [, {n=16, cols=, title=}]):
-- the first n examples whose prediction is wrong, captioned
-- "true → predicted". y_pred may be an N x K score matrix (predict's
-- probabilities): the caption then ends with the predicted class's
-- probability. Returns the path, or nil (and draws nothing) when there is
-- no mistake.
function M.mistakes(X, y_true, y_pred, classes, opts)
  local who = "plot.mistakes"
  check_tensor(X, who, "X")
  opts = check_opts(opts, who, { n = true, cols = true, title = true })
  local N = X:dim() >= 1 and X:size(1) or 0
  y_true = class_indices(y_true, N, who, "y_true")
  local scores = is_tensor(y_pred) and y_pred:dim() == 2 and y_pred or nil
  y_pred = class_indices(y_pred, N, who, "y_pred")
  if type(classes) ~= "table" then fail(who, "classes: expected a list of names, got " .. type(classes)) end
  local limit = opts.n or 16
  if math.type(limit) ~= "integer" or limit < 1 then fail(who, "n: expected a positive integer, got " .. tostring(opts.n)) end
  local index, captions = {}, {}
  local K = #classes
  for i = 1, N do
    local a, b = math.tointeger(y_true[i]), math.tointeger(y_pred[i])
    for _, v in ipairs({ { a, "y_true", y_true[i] }, { b, "y_pred", y_pred[i] } }) do
      if not v[1] or v[1] < 1 or v[1] > K then
        fail(who, string.format("%s: expected class indices in 1..%d, got %s at position %d", v[2], K, tostring(v[3]), i))
      end
    end
    if a ~= b and #index < limit then
      index[#index + 1] = i
      captions[#captions + 1] = classes[a] .. " → " .. classes[b] ..
        (scores and string.format(" %.0f%%", 100 * scores[i][b]) or "")
    end
  end
  if #index == 0 then return nil end
  return image_grid(X, index, captions, opts.cols, opts.title or T("plot.mistakes"), "mistakes", who)
end

-- plot.confusion_examples(X, y_true, probs, classes [, {title=}]): the
-- "top samples" grid of ConvNetJS's CIFAR-10 demo: K x K cells, row i the
-- true class, column j the predicted one; in each cell the image of class i
-- predicted as j that the model gave the highest probability of j, with
-- that probability (the diagonal also names the class). Empty where no
-- image of class i was predicted as j. probs is the N x K output of predict.
function M.confusion_examples(X, y_true, probs, classes, opts)
  local who = "plot.confusion_examples"
  check_tensor(X, who, "X")
  check_tensor(probs, who, "probs")
  opts = check_opts(opts, who, { title = true })
  local N = X:dim() >= 1 and X:size(1) or 0
  if type(classes) ~= "table" or #classes < 2 then
    fail(who, "classes: expected a list of at least 2 names, got " .. type(classes))
  end
  local K = #classes
  if probs:dim() ~= 2 or probs:size(1) ~= N or probs:size(2) ~= K then
    fail(who, string.format("probs: expected %d x %d scores (images x classes), got %s", N, K, shape_str(probs)))
  end
  y_true = class_indices(y_true, N, who, "y_true")
  local pred, best, at = probs:argmax(2), {}, {}
  for i = 1, N do
    local a, b = math.tointeger(y_true[i]), math.tointeger(pred[i])
    if not a or a < 1 or a > K then
      fail(who, string.format("y_true: expected class indices in 1..%d, got %s at position %d", K, tostring(y_true[i]), i))
    end
    local cell, p = (a - 1) * K + b, probs[i][b]
    if not best[cell] or p > best[cell] then best[cell], at[cell] = p, i end
  end
  local index, captions = {}, {}
  for cell = 1, K * K do
    local i, j = (cell - 1) // K + 1, (cell - 1) % K + 1
    index[cell] = at[cell] or 0
    captions[cell] = at[cell] and string.format("%s%.0f%%", i == j and (classes[i] .. " ") or "", 100 * best[cell]) or ""
  end
  return image_grid(X, index, captions, K, opts.title or T("plot.confusion_examples"), "confusion_examples", who)
end

-- plot.feature_maps(a [, {cols=, title=, name=}]): the channels of one
-- image's activations (H x W x C, or 1 x H x W x C as model:activations
-- gives them) as C grey images, each scaled to its own range.
function M.feature_maps(a, opts)
  local who = "plot.feature_maps"
  check_tensor(a, who, "a")
  opts = check_opts(opts, who, { cols = true, title = true, name = true })
  local sh = a:shape()
  if #sh == 4 and sh[1] == 1 then sh = { sh[2], sh[3], sh[4] } end
  if #sh ~= 3 then fail(who, "expected H x W x C or 1 x H x W x C activations, got " .. shape_str(a)) end
  local h, w, c = sh[1], sh[2], sh[3]
  local cols = a:contiguous():reshape(h * w, c) -- inputs x units: one tile per channel
  return mosaic_plot {
    kind = "feature_maps", who = who,
    title = opts.title or T("plot.feature_maps", c, opts.name or (h .. "x" .. w)), src = cols,
    mosaic = { layout = "columns", h = h, w = w, c = 1, n = c, cols = opts.cols or default_cols(c) },
    minmax = true, palette = "grey", cbrange = { 0, 255 }, colorbox = false,
  }
end

-- The cells plot.confusion shows: counts, or with normalize "true" each row
-- divided by its sum (the recall of every cell), with "pred" each column by
-- its sum (precision); an empty row or column stays 0.
local function confusion_cells(cm, normalize)
  local K, counts = cm.k, cm.counts
  local cells = {}
  for i = 1, K do
    cells[i] = {}
    for j = 1, K do cells[i][j] = counts:get(i, j) end
  end
  if normalize then
    for a = 1, K do
      local sum = 0
      for b = 1, K do sum = sum + (normalize == "true" and cells[a][b] or cells[b][a]) end
      for b = 1, K do
        local i, j = a, b
        if normalize == "pred" then i, j = b, a end
        cells[i][j] = sum > 0 and cells[i][j] / sum or 0
      end
    end
  end
  return cells
end

-- plot.confusion(cm [, {percent=, normalize="true"|"pred", title=, xlabel=,
-- ylabel=}]): a white-to-blue heatmap, true classes down, predicted across,
-- the count (or the normalised share, in %) written in every cell; with
-- percent, the recall % of each row in a column on the right, the precision
-- % of each column in a row below and the accuracy in the corner.
function M.confusion(cm, opts)
  local who = "plot.confusion"
  local mt = getmetatable(cm)
  if not (mt and mt.__name == "nnlab.Confusion") then
    fail(who, "cm: expected a Confusion (from metrics.confusion), got " .. type(cm))
  end
  opts = check_opts(opts, who, { title = true, percent = true, normalize = true, xlabel = true, ylabel = true })
  local norm = opts.normalize
  if norm ~= nil and norm ~= "true" and norm ~= "pred" then
    fail(who, "normalize: expected \"true\" or \"pred\", got " .. (type(norm) == "string" and ("'" .. norm .. "'") or type(norm)))
  end
  if opts.percent ~= nil and type(opts.percent) ~= "boolean" then
    fail(who, "percent: expected true or false, got " .. type(opts.percent))
  end
  for _, k in ipairs { "title", "xlabel", "ylabel" } do
    if opts[k] ~= nil and type(opts[k]) ~= "string" then fail(who, k .. ": expected a string, got " .. type(opts[k])) end
  end
  local K, names = cm.k, cm.classes
  local cells = confusion_cells(cm, norm)
  local extra = opts.percent and 1 or 0 -- the margin column and row
  local file, top = nil, 0
  for i = 1, K do
    for j = 1, K do top = math.max(top, cells[i][j]) end
  end
  -- Past 40 classes the counts are not written in the cells and past 100 only
  -- some tics are named: a label per cell is K^2 gnuplot commands (1000
  -- classes took minutes), and the picture stays about 800 pixels wide.
  local cell = K <= 10 and 56 or K <= 50 and math.max(12, math.floor(560 / K)) or math.max(1, math.floor(800 / K))
  local tic_step = K <= 100 and 1 or math.ceil(K / 50)
  local longest = 4
  for _, n in ipairs(names) do longest = math.max(longest, utf8.len(n) or #n) end
  if opts.percent then longest = math.max(longest, utf8.len(T("plot.precision"))) end
  local side = 40 + 7 * longest
  local title = opts.title or T("plot.confusion", 100 * cm:accuracy())
  local side_n = K + extra
  return emit {
    kind = "confusion", who = who, title = title,
    data = function(base)
      file = base .. ".bin"
      local flat = {}
      for i = 1, K do flat[i] = cells[i] end
      C.mosaic(st.dir .. "/" .. file, require("tensor").new(flat), { who = who, layout = "single", h = K, w = K, c = 1 })
    end,
    body = function()
      local W, H, marg = margins(side + 30, 100, math.floor(side * 0.75) + 40, 45, side_n * cell, side_n * cell)
      local s = { "unset key", marg, "set title " .. q(title) .. " noenhanced" }
      s[#s + 1] = string.format("set xrange [-0.5:%d.5]\nset yrange [%d.5:-0.5]", side_n - 1, side_n - 1)
      local xt, yt = {}, {}
      for i = 1, K, tic_step do
        xt[#xt + 1] = q(names[i]) .. " " .. (i - 1)
        yt[#yt + 1] = xt[#xt]
      end
      if opts.percent then
        xt[#xt + 1] = q(T("plot.recall")) .. " " .. K
        yt[#yt + 1] = q(T("plot.precision")) .. " " .. K
      end
      s[#s + 1] = "set xtics (" .. table.concat(xt, ", ") .. ") rotate by 45 right noenhanced scale 0"
      s[#s + 1] = "set ytics (" .. table.concat(yt, ", ") .. ") noenhanced scale 0"
      s[#s + 1] = "set xlabel " .. q(opts.xlabel or T("plot.predicted")) .. " noenhanced"
      s[#s + 1] = "set ylabel " .. q(opts.ylabel or T("plot.true")) .. " noenhanced"
      s[#s + 1] = "set palette defined (0 '#ffffff', 1 '#c6dbef', 2 '#4292c6', 3 '#08306b')"
      local cmax = norm and 1 or math.max(top, 1)
      s[#s + 1] = "set cbrange [0:" .. num(cmax) .. "]"
      s[#s + 1] = string.format("set colorbox user origin screen %.6f,%.6f size screen %.6f,%.6f",
        (side + 30 + side_n * cell + 15) / W, (math.floor(side * 0.75) + 40 + extra * cell) / H, 14 / W, K * cell / H)
      local fs = K <= 10 and 10 or math.max(5, math.floor(cell / 5))
      local function label(text, x, y, colour)
        s[#s + 1] = string.format("set label %s at %d,%d center front font ',%d' textcolor rgb '%s'",
          q(text), x, y, fs, colour or "#000000")
      end
      for i = 1, K <= 40 and K or 0 do
        for j = 1, K do
          local v = cells[i][j]
          label(norm and string.format("%.0f%%", 100 * v) or tostring(v), j - 1, i - 1,
            v > 0.55 * cmax and v > 0 and "#ffffff" or "#000000")
        end
      end
      if opts.percent then
        local recall, precision = cm:recall(), cm:precision()
        s[#s + 1] = string.format("set object 1 rectangle from %f,-0.5 to %f,%f behind fillcolor rgb '#eeeeee' fillstyle solid noborder",
          K - 0.5, K + 0.5, K + 0.5)
        s[#s + 1] = string.format("set object 2 rectangle from -0.5,%f to %f,%f behind fillcolor rgb '#eeeeee' fillstyle solid noborder",
          K - 0.5, K - 0.5, K + 0.5)
        for i = 1, K do label(string.format("%.1f%%", 100 * recall[i]), K, i - 1) end
        for j = 1, K do label(string.format("%.1f%%", 100 * precision[j]), j - 1, K) end
        label(string.format("%.1f%%", 100 * cm:accuracy()), K, K, "#08306b")
      end
      s[#s + 1] = string.format("plot %s binary array=(%d,%d) format='%%float' with image notitle", q(file), K, K)
      return table.concat(s, "\n"), W, H
    end,
  }
end

-- Series as {name, values} pairs: a list of numbers, a list of such pairs
-- ({name=, values=} or {"name", {...}}), or a table name -> values (drawn
-- in name order).
local function series_list(series, who)
  if type(series) ~= "table" then fail(who, "series: expected a table, got " .. type(series)) end
  local out = {}
  if type(series[1]) == "number" then return { { name = "", values = series } } end
  if series[1] ~= nil then
    for i, s in ipairs(series) do
      if type(s) ~= "table" then fail(who, string.format("series[%d]: expected a table, got %s", i, type(s))) end
      out[i] = { name = s.name or s[1] or tostring(i), values = s.values or s[2] }
    end
  else
    local names = {}
    for k in pairs(series) do names[#names + 1] = k end
    table.sort(names, function(a, b) return tostring(a) < tostring(b) end)
    for i, k in ipairs(names) do out[i] = { name = tostring(k), values = series[k] } end
  end
  if #out == 0 then fail(who, "series: expected at least one series, got none") end
  for _, s in ipairs(out) do
    if type(s.values) ~= "table" then fail(who, string.format("series '%s': expected a list of numbers, got %s", s.name, type(s.values))) end
    for j, v in ipairs(s.values) do
      if type(v) ~= "number" then fail(who, string.format("series '%s'[%d]: expected a number, got %s", s.name, j, type(v))) end
    end
  end
  return out
end

-- Writes the series as columns x, s1, s2, ... (NaN where a series is
-- shorter) and returns the plot command for them.
local function lines_data(base, list, x0)
  local rows = 0
  for _, s in ipairs(list) do rows = math.max(rows, #s.values) end
  local lines = { "# x " .. table.concat((function()
    local t = {}
    for i, s in ipairs(list) do t[i] = text(s.name):gsub("%s", "_") end
    return t
  end)(), " ") }
  for r = 1, rows do
    local row = { num(x0 + r - 1) }
    for i, s in ipairs(list) do row[i + 1] = s.values[r] and num(s.values[r]) or "NaN" end
    lines[#lines + 1] = table.concat(row, " ")
  end
  local ok, err = C.write(st.dir .. "/" .. base, table.concat(lines, "\n") .. "\n")
  if not ok then error(err, 0) end
end

local function plot_cmd(file, list, first_col)
  local parts = {}
  for i, s in ipairs(list) do
    parts[i] = string.format("%s using 1:%d with linespoints lw 2 pt 7 ps 0.6 title %s",
      i == 1 and q(file) or "''", first_col + i - 1, q(s.name))
  end
  return "plot " .. table.concat(parts, ", \\\n     ")
end

-- plot.lines(series [, {title=, xlabel=, ylabel=, ymin=, ymax=, x0=1}]).
function M.lines(series, opts)
  local who = "plot.lines"
  local list = series_list(series, who)
  opts = check_opts(opts, who, { title = true, xlabel = true, ylabel = true, ymin = true, ymax = true, x0 = true })
  local file
  return emit {
    kind = "lines", who = who, title = opts.title, width = 800, height = 480,
    data = function(base)
      file = base .. ".dat"
      local ok, err = pcall(lines_data, file, list, opts.x0 or 1)
      if not ok then fail(who, err) end
    end,
    body = function()
      local s = { "set grid", "set key outside right top noenhanced" }
      if opts.title then s[#s + 1] = "set title " .. q(opts.title) .. " noenhanced" end
      if opts.xlabel then s[#s + 1] = "set xlabel " .. q(opts.xlabel) .. " noenhanced" end
      if opts.ylabel then s[#s + 1] = "set ylabel " .. q(opts.ylabel) .. " noenhanced" end
      if opts.ymin or opts.ymax then
        s[#s + 1] = string.format("set yrange [%s:%s]", opts.ymin and num(opts.ymin) or "*", opts.ymax and num(opts.ymax) or "*")
      end
      if #list == 1 and list[1].name == "" then s[#s + 1] = "unset key" end
      s[#s + 1] = plot_cmd(file, list, 2)
      return table.concat(s, "\n")
    end,
  }
end

-- The step between the epoch tics of plot.history: every epoch up to 12,
-- then 2, 5, 10, 20, 50, ... so that no more than 12 labels share the axis.
local function epoch_tic_step(cols)
  local n = 0
  for _, c in ipairs(cols) do n = math.max(n, #c.values) end
  local step, i = 1, 0
  while n / step > 12 do
    i = i + 1
    step = ({ 2, 5, 10 })[(i - 1) % 3 + 1] * 10 ^ ((i - 1) // 3)
  end
  return math.tointeger(step) or step
end

-- plot.history(hist [, {title=}]): loss (left) and accuracy (right) per
-- epoch, training and validation, from fit's history.
function M.history(hist, opts)
  local who = "plot.history"
  if type(hist) ~= "table" then fail(who, "hist: expected the history table from fit, got " .. type(hist)) end
  opts = check_opts(opts, who, { title = true })
  if type(hist.loss) ~= "table" then fail(who, "hist.loss: expected a list of numbers (fit's history), got " .. type(hist.loss)) end
  local cols = {}
  for _, k in ipairs({ "loss", "val_loss", "accuracy", "val_accuracy" }) do
    if hist[k] ~= nil and #hist[k] > 0 then cols[#cols + 1] = { name = k, values = hist[k] } end
  end
  series_list(cols, who) -- checks every value is a number
  local file
  local pos = {}
  for i, c in ipairs(cols) do pos[c.name] = i + 1 end
  return emit {
    kind = "history", who = who, title = opts.title or T("plot.history"), width = 1000, height = 420,
    data = function(base)
      file = base .. ".dat"
      local ok, err = pcall(lines_data, file, cols, 1)
      if not ok then fail(who, err) end
    end,
    body = function()
      local s = { "set grid", "set xlabel " .. q(T("plot.epoch")), "set xtics " .. epoch_tic_step(cols),
        string.format("set multiplot layout 1,2 title %s noenhanced", q(opts.title or T("plot.history"))) }
      for _, panel in ipairs({ { "loss", "plot.loss" }, { "accuracy", "plot.accuracy" } }) do
        local parts = {}
        for _, k in ipairs({ panel[1], "val_" .. panel[1] }) do
          if pos[k] then
            parts[#parts + 1] = string.format("%s using 1:%d with linespoints lw 2 pt 7 ps 0.6 title %s",
              #parts == 0 and q(file) or "''", pos[k], q(T(k:find("^val_") and "plot.validation" or "plot.training")))
          end
        end
        s[#s + 1] = "set title " .. q(T(panel[2])) .. "\nset ylabel " .. q(T(panel[2])) ..
          (panel[1] == "loss" and "\nset key top right" or "\nset key bottom right")
        if #parts > 0 then s[#s + 1] = "plot " .. table.concat(parts, ", ")
        else s[#s + 1] = "set label 1 " .. q(T("plot.no_data")) .. " at graph 0.5,0.5 center\nplot [0:1] [0:1] NaN notitle\nunset label 1" end
      end
      s[#s + 1] = "unset multiplot"
      return table.concat(s, "\n")
    end,
  }
end

-- plot.gnuplot(commands [, {width=, height=, title=}]): gnuplot commands as
-- they are (a string or a list of lines) in the current output mode. A
-- gnuplot error becomes a Lua error with gnuplot's message.
function M.gnuplot(commands, opts)
  local who = "plot.gnuplot"
  if type(commands) == "table" then commands = table.concat(commands, "\n") end
  if type(commands) ~= "string" then fail(who, "commands: expected a string or a list of lines, got " .. type(commands)) end
  opts = check_opts(opts, who, { width = true, height = true, title = true })
  return emit {
    kind = "gnuplot", who = who, title = opts.title, width = opts.width or 800, height = opts.height or 500,
    body = function() return commands end,
  }
end

-- Closes the window-mode gnuplot (windows already drawn stay open).
function M.close() C.session_close() end

return M
