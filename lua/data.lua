-- data.lua — the datasets of the course: MNIST, Fashion-MNIST and CIFAR-10
-- found on disk (NNLAB_DATA, ./data, the cache, /usr/share/datasets) or
-- downloaded from a list of mirrors and checked against their MD5, plus
-- dataset tables with batches, subsets and splits. Reading is in C (_data).
local C = require "_data"
local i18n = require "i18n"
local M = {}

-- Calls a reader, raising its error as it is (the message names the file;
-- a position inside this module would only confuse).
local function read(f, ...)
  local r = table.pack(pcall(f, ...))
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end

M.idx = C.idx
M.cifar_batches = function(path)
  local Xtr, ytr, Xte, yte, classes = read(C.cifar_batches, path)
  return M.dataset { X = Xtr, y = ytr, classes = classes, name = "CIFAR-10 train" },
         M.dataset { X = Xte, y = yte, classes = classes, name = "CIFAR-10 test" }
end

-- Where each dataset comes from: the folder it lives in below a data
-- directory, its files with their published MD5 sums and sizes in bytes (a
-- download may not be larger; without a size the cap is 1 GB), and the mirrors tried
-- in order (NNLAB_MIRRORS, a space- or semicolon-separated list of base URLs,
-- replaces them for every dataset).
M.sources = {
  mnist = {
    title = "MNIST", dir = "mnist",
    files = {
      { name = "train-images-idx3-ubyte.gz", md5 = "f68b3c2dcbeaaa9fbdd348bbdeb94873", size = 9912422 },
      { name = "train-labels-idx1-ubyte.gz", md5 = "d53e105ee54ea40749a09fcbcd1e9432", size = 28881 },
      { name = "t10k-images-idx3-ubyte.gz", md5 = "9fb629c4189551a2d022fa330f9573f3", size = 1648877 },
      { name = "t10k-labels-idx1-ubyte.gz", md5 = "ec29112dd5afa0611ce80d1b7f02629c", size = 4542 },
    },
    mirrors = {
      "https://ossci-datasets.s3.amazonaws.com/mnist",
      "https://storage.googleapis.com/cvdf-datasets/mnist",
      "http://yann.lecun.com/exdb/mnist",
    },
  },
  fashion_mnist = {
    title = "Fashion-MNIST", dir = "fashion-mnist",
    files = {
      { name = "train-images-idx3-ubyte.gz", md5 = "8d4fb7e6c68d591d4c3dfef9ec88bf0d", size = 26421880 },
      { name = "train-labels-idx1-ubyte.gz", md5 = "25c81989df183df01b3e8a0aad5dffbe", size = 29515 },
      { name = "t10k-images-idx3-ubyte.gz", md5 = "bef4ecab320f06d8554ea6380940ec79", size = 4422102 },
      { name = "t10k-labels-idx1-ubyte.gz", md5 = "bb300cfdad3c16e7a12a480ee83cd310", size = 5148 },
    },
    mirrors = {
      "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com",
      "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion",
    },
  },
  cifar10 = {
    title = "CIFAR-10", dir = "",
    files = { { name = "cifar-10-binary.tar.gz", md5 = "c32a1d4ab5d03f1284b67883e8d87530", size = 170052171 } },
    mirrors = { "https://www.cs.toronto.edu/~kriz" },
  },
}
local ALIASES = { ["fashion-mnist"] = "fashion_mnist", ["cifar-10"] = "cifar10", cifar = "cifar10" }

local MNIST_CLASSES = { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" }
local FASHION_CLASSES = { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
  "Shirt", "Sneaker", "Bag", "Ankle boot" }

---------------------------------------------------------------------------
-- Datasets

local Dataset = {}
Dataset.__index = Dataset

local function nrows(t) return t:shape()[1] end

function Dataset.__len(ds) return nrows(ds.y) end

function Dataset.__tostring(ds)
  local shape = table.concat(ds.X:shape(), "x")
  local classes = ds.classes or {}
  local shown = {}
  for i = 1, math.min(#classes, 10) do shown[i] = classes[i] end
  if #classes > 10 then shown[#shown + 1] = "..." end
  -- "MNIST train" shows as "MNIST entrenamiento" in Spanish; the name stays
  local name = tostring(ds.name or "dataset"):gsub(" (%l+)$", function(part)
    if part == "train" or part == "test" then return " " .. i18n.t("data." .. part) end
  end)
  return i18n.t("data.describe", name, nrows(ds.y), shape, ds.X.dtype, #classes, table.concat(shown, ", "))
end

local function check_ds(ds, who)
  if type(ds) ~= "table" or ds.X == nil or ds.y == nil then
    error(who .. ": expected a dataset {X=, y=, ...}, got " .. type(ds), 3)
  end
  return nrows(ds.y)
end

-- data.dataset{X=, y=, classes=, name=}: gives a table the dataset methods.
function M.dataset(t)
  if type(t) ~= "table" or t.X == nil or t.y == nil then
    error("dataset: expected a table {X=, y=, classes=, name=}, got " .. type(t), 2)
  end
  if nrows(t.X) ~= nrows(t.y) then
    error(string.format("dataset: X has %d rows but y has %d", nrows(t.X), nrows(t.y)), 2)
  end
  return setmetatable(t, Dataset)
end

local function derived(ds, X, y, name)
  return M.dataset { X = X, y = y, classes = ds.classes, name = name or ds.name }
end

-- ds:batches(size [, {shuffle=true, seed=, drop_last=false}]) iterates over
-- X, y minibatches; shuffled batches are copies gathered in a new random
-- order each call, unshuffled ones are views in the dataset's order.
function Dataset:batches(size, opts)
  local n = check_ds(self, "batches")
  opts = opts or {}
  if math.type(size) ~= "integer" or size < 1 then
    error("batches: expected a batch size >= 1, got " .. tostring(size), 2)
  end
  local shuffle = opts.shuffle ~= false
  local perm = shuffle and C.permutation(n, opts.seed) or nil
  local start = 1
  local X, y = self.X, self.y
  return function()
    if start > n then return nil end
    local len = math.min(size, n - start + 1)
    if len < size and opts.drop_last then return nil end
    local s = start
    start = start + len
    if perm then
      local idx = perm:narrow(1, s, len)
      return C.gather(X, idx), C.gather(y, idx)
    end
    return X:narrow(1, s, len), y:narrow(1, s, len)
  end
end

-- data.subset(ds, n [, seed]): n rows drawn at random without replacement.
function M.subset(ds, n, seed)
  local N = check_ds(ds, "subset")
  if math.type(n) ~= "integer" or n < 0 or n > N then
    error(string.format("subset: expected a count in 0..%d, got %s", N, tostring(n)), 2)
  end
  local idx = C.permutation(N, seed):narrow(1, 1, n)
  return derived(ds, C.gather(ds.X, idx), C.gather(ds.y, idx))
end

-- data.split(ds, fraction [, seed]) -> a, b: a random floor(N*fraction) rows
-- in a, the rest in b (e.g. 0.8 for training, 0.2 for validation).
function M.split(ds, fraction, seed)
  local N = check_ds(ds, "split")
  if type(fraction) ~= "number" or not (fraction > 0 and fraction < 1) then
    error("split: expected a fraction between 0 and 1, got " .. tostring(fraction), 2)
  end
  local k = math.floor(N * fraction)
  local perm = C.permutation(N, seed)
  local a, b = perm:narrow(1, 1, k), perm:narrow(1, k + 1, N - k)
  return derived(ds, C.gather(ds.X, a), C.gather(ds.y, a)),
         derived(ds, C.gather(ds.X, b), C.gather(ds.y, b))
end

---------------------------------------------------------------------------
-- Finding files

local function getenv(name)
  local v = os.getenv(name)
  if v == "" then return nil end
  return v
end

local function cache_dir()
  local c = getenv("NNLAB_CACHE")
  if c then return c end
  return (getenv("HOME") or ".") .. "/.cache/nnlab"
end

-- The folders searched, in order.
function M.search_path()
  local dirs = {}
  for d in (getenv("NNLAB_DATA") or ""):gmatch("[^:]+") do dirs[#dirs + 1] = d end
  dirs[#dirs + 1] = "./data"
  dirs[#dirs + 1] = cache_dir()
  dirs[#dirs + 1] = "/usr/share/datasets"
  return dirs
end

local function join(dir, sub)
  if sub == "" then return dir end
  if dir == "" then return sub end
  return dir .. "/" .. sub
end

-- The path of `name` (or of its gzip-less / gzipped twin) in folder, or nil.
local function find_in(folder, name)
  local plain = name:gsub("%.gz$", "")
  for _, cand in ipairs { name, plain, plain .. ".gz" } do
    local p = folder .. "/" .. cand
    if C.stat(p) == "file" then return p end
  end
  return nil
end

-- For the IDX sets: the paths of all files from the first folder holding them.
local function find_files(src)
  for _, d in ipairs(M.search_path()) do
    local folder, paths = join(d, src.dir), {}
    for i, f in ipairs(src.files) do
      paths[i] = find_in(folder, f.name)
      if not paths[i] then paths = nil; break end
    end
    if paths then return paths end
  end
  return nil
end

local function mirrors_for(src)
  local env = getenv("NNLAB_MIRRORS")
  if env then
    local list = {}
    for m in env:gmatch("[^%s;]+") do list[#list + 1] = m end
    return list
  end
  return src.mirrors
end

-- data.fetch(name): downloads the files of a dataset that are not already in
-- the cache folder (~/.cache/nnlab or NNLAB_CACHE), trying each mirror in
-- turn, and returns that folder.
function M.fetch(name)
  local key = ALIASES[name] or name
  local src = M.sources[key]
  if not src then
    local known = {}
    for k in pairs(M.sources) do known[#known + 1] = k end
    table.sort(known)
    error(string.format("fetch: unknown dataset %q (expected one of %s)", tostring(name),
      table.concat(known, ", ")), 2)
  end
  local folder = join(cache_dir(), src.dir)
  local ok, why = C.mkdir(folder)
  if not ok then error("fetch: " .. why, 2) end
  local timeout = tonumber(getenv("NNLAB_CONNECT_TIMEOUT") or "") or 3
  for _, f in ipairs(src.files) do
    local dest = folder .. "/" .. f.name
    if C.stat(dest) ~= "file" then
      local tried = {}
      local done = false
      for _, m in ipairs(mirrors_for(src)) do
        local url = m:gsub("/+$", "") .. "/" .. f.name
        local got, err = C.download(url, dest, f.md5, f.name, timeout, f.size or 1e9)
        if got then
          done = true
          break
        end
        tried[#tried + 1] = "    " .. url .. ": " .. err
      end
      if not done then
        local looked = {}
        for _, d in ipairs(M.search_path()) do looked[#looked + 1] = "    " .. join(d, src.dir) end
        error(string.format(
          "%s: cannot find or download %s.\n  Looked in:\n%s\n  Tried the mirrors:\n%s\n" ..
          "  To provide the files by hand, download them elsewhere and put them in one of the\n" ..
          "  folders above, or set NNLAB_DATA to a folder holding %s (see data/README.md).",
          src.title, f.name, table.concat(looked, "\n"),
          #tried > 0 and table.concat(tried, "\n") or "    (none: NNLAB_MIRRORS is empty)",
          join(src.dir, f.name)), 0)
      end
    end
  end
  return folder
end

---------------------------------------------------------------------------
-- The datasets

local function load_idx_set(key, classes, title)
  local src = M.sources[key]
  local paths = find_files(src)
  if not paths then
    M.fetch(key)
    paths = find_files(src)
    if not paths then error(title .. ": files downloaded but not found in " .. cache_dir(), 0) end
  end
  -- the four files are decompressed at the same time (threads in C)
  local Xtr, ytr, Xte, yte = read(C.idx_many, paths)
  local function part(X, img, ylab, lab, name)
    local y = read(C.to_labels, ylab, #classes, lab)
    local shape = X:shape()
    if X.dtype ~= "uint8" or #shape ~= 3 then
      error(string.format("%s: %s: expected N x 28 x 28 unsigned bytes, got %s %s", title, img,
        table.concat(shape, "x"), X.dtype), 0)
    end
    if shape[1] ~= nrows(y) then
      error(string.format("%s: %s has %d images but %s has %d labels", title, img, shape[1],
        lab, nrows(y)), 0)
    end
    return M.dataset { X = X, y = y, classes = classes, name = title .. " " .. name }
  end
  return part(Xtr, paths[1], ytr, paths[2], "train"), part(Xte, paths[3], yte, paths[4], "test")
end

function M.mnist() return load_idx_set("mnist", MNIST_CLASSES, "MNIST") end

function M.fashion_mnist() return load_idx_set("fashion_mnist", FASHION_CLASSES, "Fashion-MNIST") end

function M.cifar10()
  local path
  for _, d in ipairs(M.search_path()) do
    if C.stat(d .. "/cifar-10-binary.tar.gz") == "file" then path = d .. "/cifar-10-binary.tar.gz"
    elseif C.stat(d .. "/cifar-10-batches-bin") == "dir" then path = d .. "/cifar-10-batches-bin" end
    if path then break end
  end
  if not path then path = M.fetch("cifar10") .. "/cifar-10-binary.tar.gz" end
  return M.cifar_batches(path)
end

return M
