-- test_cifar.lua — data.cifar_batches on a tiny CIFAR-10 layout made by numpy
-- and packed with `tar` (members out of order, as in the real archive), read
-- from the .tar.gz, a plain .tar and the folder, compared with numpy; and the
-- bad archives: truncated, corrupt, records not whole, labels out of range.
local T = require "testlib"

T.python [==[
import subprocess, gzip
rng = np.random.default_rng(3)
os.makedirs('set/cifar-10-batches-bin', exist_ok=True)
d = 'set/cifar-10-batches-bin/'
def batch(name, n, labels=None):
    lab = rng.integers(0, 10, n) if labels is None else np.array(labels)
    pix = rng.integers(0, 256, (n, 3072))
    rec = np.concatenate([lab[:, None], pix], axis=1).astype(np.uint8)
    open(d + name, 'wb').write(rec.tobytes())
for k, n in zip(range(1, 6), [3, 2, 4, 1, 3]):
    batch('data_batch_%d.bin' % k, n, [0, 9, 5][:n] if k == 1 else None)
batch('test_batch.bin', 5)
names = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']
open(d + 'batches.meta.txt', 'w').write('\n'.join(names) + '\n\n')
order = ['data_batch_4.bin', 'data_batch_2.bin', 'batches.meta.txt', 'data_batch_1.bin',
         'data_batch_5.bin', 'data_batch_3.bin', 'test_batch.bin']
members = ['cifar-10-batches-bin/' + m for m in order]
subprocess.check_call(['tar', 'czf', 'tiny.tar.gz', '-C', 'set'] + members)
subprocess.check_call(['tar', 'cf', 'tiny.tar', '-C', 'set'] + members)
tgz = open('tiny.tar.gz', 'rb').read()
open('trunc.tar.gz', 'wb').write(tgz[:int(len(tgz) * 0.6)])
open('notrailer.tar.gz', 'wb').write(tgz[:-4])
tar = open('tiny.tar', 'rb').read()
open('trunc.tar', 'wb').write(tar[:2048 + 700])
open('noend.tar', 'wb').write(tar[:512 * (len(tar) // 512 - 20)][:tar.find(b'\0' * 1024, 4096)])
open('junk.tar', 'wb').write(bytes(rng.integers(0, 256, 4096).astype(np.uint8)))
# variants built from copies of the folder
import shutil
def variant(name, change):
    shutil.copytree('set', name)
    change(name + '/cifar-10-batches-bin/')
    subprocess.check_call(['tar', 'czf', name + '.tar.gz', '-C', name, 'cifar-10-batches-bin'])
variant('partial', lambda p: open(p + 'data_batch_2.bin', 'ab').write(b'\x01\x02\x03'))
def badlabel(p):
    b = bytearray(open(p + 'data_batch_3.bin', 'rb').read()); b[3073] = 12
    open(p + 'data_batch_3.bin', 'wb').write(bytes(b))
variant('badlabel', badlabel)
variant('fewnames', lambda p: open(p + 'batches.meta.txt', 'w').write('a\nb\nc\n'))
variant('notest', lambda p: os.remove(p + 'test_batch.bin'))
]==]

local function compare(train, test, what)
  tensor.save(train.X, T.tmp("Xtr.npy")); tensor.save(train.y, T.tmp("ytr.npy"))
  tensor.save(test.X, T.tmp("Xte.npy")); tensor.save(test.y, T.tmp("yte.npy"))
  local out = T.python [==[
d = 'set/cifar-10-batches-bin/'
def read(files):
    r = np.concatenate([np.fromfile(d + f, np.uint8).reshape(-1, 3073) for f in files])
    X = r[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return X, r[:, 0].astype(np.int32) + 1
Xtr, ytr = read(['data_batch_%d.bin' % k for k in range(1, 6)])
Xte, yte = read(['test_batch.bin'])
for name, ref in [('Xtr', Xtr), ('ytr', ytr), ('Xte', Xte), ('yte', yte)]:
    got = np.load(name + '.npy')
    print(name, got.dtype == ref.dtype, got.shape == ref.shape, np.array_equal(got, ref))
]==]
  T.eq(out, "Xtr True True True\nytr True True True\nXte True True True\nyte True True True\n", what)
end

for _, src in ipairs { "tiny.tar.gz", "tiny.tar", "set/cifar-10-batches-bin", "set" } do
  T.test("cifar_batches from " .. src .. " matches numpy (HWC, batches in number order)", function()
    local train, test = data.cifar_batches(T.tmp(src))
    T.eq(#train, 13, "train rows"); T.eq(#test, 5, "test rows")
    T.eq(train.X.dtype, "uint8")
    compare(train, test, src)
  end)
end

T.test("cifar classes come from batches.meta.txt, labels 1-based", function()
  local train = data.cifar_batches(T.tmp("tiny.tar.gz"))
  T.eq(#train.classes, 10)
  T.eq(train.classes[1], "airplane"); T.eq(train.classes[10], "truck")
  -- data_batch_1 starts with labels 0, 9, 5
  T.eq(train.y:get(1), 1); T.eq(train.y:get(2), 10); T.eq(train.y:get(3), 6)
  T.ok(tostring(train):find("CIFAR-10 train: 13 images (13x32x32x3 uint8), 10 classes: airplane", 1, true),
    tostring(train))
end)

T.test("data.cifar10 finds the archive through NNLAB_DATA", function()
  os.execute("cp " .. T.tmp("tiny.tar.gz") .. " " .. T.tmp("set/cifar-10-binary.tar.gz"))
  local out = T.sh(string.format(
    "NNLAB_DATA=%s NNLAB_CACHE=%s NNLAB_MIRRORS=http://127.0.0.1:9/ %s -e 'local a, b = data.cifar10(); print(#a, #b, a.name)'",
    T.tmp("set"), T.tmp("cache"), os.getenv("NNLAB_BIN")))
  T.eq(out, "13\t5\tCIFAR-10 train\n")
end)

local function bad(file, parts)
  T.test("cifar rejects " .. file, function()
    local p = type(parts) == "table" and parts or { parts }
    table.insert(p, T.tmp(file))
    T.raises(function() return data.cifar_batches(T.tmp(file)) end, p)
  end)
end
bad("trunc.tar.gz", "truncated")
bad("notrailer.tar.gz", "truncated")
bad("trunc.tar", "truncated")
bad("noend.tar", "truncated")
bad("junk.tar", "corrupt header")
bad("partial.tar.gz", { "data_batch_2.bin", "record count not whole", "6149 bytes" })
bad("partial/cifar-10-batches-bin", { "data_batch_2.bin", "record count not whole" })
bad("badlabel.tar.gz", { "data_batch_3.bin", "record 2 has label 12 (expected 0..9)" })
bad("fewnames.tar.gz", { "label 9 out of range", "batches.meta.txt names 3 classes" })
bad("notest.tar.gz", "no test_batch.bin")
bad("notest/cifar-10-batches-bin", "no test_batch.bin")
bad("missing.tar.gz", "cannot open")

-- A header whose base-256 size field holds 2^63 - 1: padding it to 512 bytes
-- would overflow, so it is refused as a bad size (built here, checksum and all).
do
  local h = { ("data_batch_1.bin"):byte(1, -1) }
  for i = #h + 1, 512 do h[i] = 0 end
  h[125] = 0x80
  for i = 126, 128 do h[i] = 0 end
  h[129] = 0x7F
  for i = 130, 136 do h[i] = 0xFF end
  h[157] = ("0"):byte()
  for i = 149, 156 do h[i] = 32 end
  local sum = 0
  for i = 1, 512 do sum = sum + h[i] end
  local ck = string.format("%06o\0 ", sum)
  for i = 1, 8 do h[148 + i] = ck:byte(i) end
  local f = io.open(T.tmp("hugesize.tar"), "wb")
  for i = 1, 512 do f:write(string.char(h[i])) end
  f:write(string.rep("\0", 1024)); f:close()
end
bad("hugesize.tar", { "hugesize.tar", "bad size field" })

T.done()
