-- test_cifar_order.lua — how CIFAR batches are put in number order: batches
-- of one size go straight to their place, whatever the archive's order
-- (with missing numbers closed up), batches of mixed sizes are appended and
-- ordered after; batches larger than one read chunk go through the reading
-- thread; a batch that appears twice is refused. Each compared with numpy.
local T = require "testlib"

T.python [==[
import subprocess, shutil
rng = np.random.default_rng(5)
def make(name, sizes, order, dup=None):
    d = name + '/cifar-10-batches-bin/'
    os.makedirs(d, exist_ok=True)
    for k, n in sizes.items():
        rec = np.concatenate([rng.integers(0, 10, (n, 1)), rng.integers(0, 256, (n, 3072))], axis=1)
        open(d + k, 'wb').write(rec.astype(np.uint8).tobytes())
    open(d + 'batches.meta.txt', 'w').write('\n'.join('c%d' % i for i in range(10)) + '\n')
    members = ['cifar-10-batches-bin/' + m for m in order + ['batches.meta.txt']]
    subprocess.check_call(['tar', 'cf', name + '.tar', '-C', name] + members)
    if dup:  # a second member of the same name, appended to the archive
        shutil.copy(d + dup, name + '/again')
        subprocess.check_call(['tar', 'rf', name + '.tar', '-C', name, '--transform',
                               's,^again,cifar-10-batches-bin/' + dup + ',', 'again'])
    subprocess.check_call(['gzip', '-kf', name + '.tar'])
# one size, out of order, larger than a read chunk (256 records)
make('uniform', {'data_batch_%d.bin' % k: 300 for k in (1, 2, 3)} | {'test_batch.bin': 270},
     ['data_batch_3.bin', 'test_batch.bin', 'data_batch_1.bin', 'data_batch_2.bin'])
# one size with a number missing (no data_batch_3)
make('gap', {'data_batch_%d.bin' % k: 7 for k in (1, 2, 4)} | {'test_batch.bin': 2},
     ['data_batch_4.bin', 'data_batch_1.bin', 'test_batch.bin', 'data_batch_2.bin'])
# sizes change after two batches went to their places
make('mixed', {'data_batch_1.bin': 5, 'data_batch_2.bin': 5, 'data_batch_3.bin': 9,
               'test_batch.bin': 3},
     ['data_batch_2.bin', 'data_batch_1.bin', 'data_batch_3.bin', 'test_batch.bin'])
make('twice', {'data_batch_1.bin': 4, 'data_batch_2.bin': 4, 'test_batch.bin': 1},
     ['data_batch_2.bin', 'data_batch_1.bin', 'test_batch.bin'], dup='data_batch_2.bin')
]==]

local function compare(name, batches)
  local train, test = data.cifar_batches(T.tmp(name .. ".tar.gz"))
  tensor.save(train.X, T.tmp("Xtr.npy")); tensor.save(train.y, T.tmp("ytr.npy"))
  tensor.save(test.X, T.tmp("Xte.npy")); tensor.save(test.y, T.tmp("yte.npy"))
  local out = T.python(string.format([==[
d = '%s/cifar-10-batches-bin/'
def read(files):
    r = np.concatenate([np.fromfile(d + f, np.uint8).reshape(-1, 3073) for f in files])
    return r[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), r[:, 0].astype(np.int32) + 1
Xtr, ytr = read(['data_batch_%%d.bin' %% k for k in (%s)])
Xte, yte = read(['test_batch.bin'])
for n, ref in [('Xtr', Xtr), ('ytr', ytr), ('Xte', Xte), ('yte', yte)]:
    got = np.load(n + '.npy')
    print(n, got.shape == ref.shape and np.array_equal(got, ref))
]==], name, table.concat(batches, ", ")))
  T.eq(out, "Xtr True\nytr True\nXte True\nyte True\n", name)
end

T.test("batches of one size, out of order, through the reading thread", function()
  compare("uniform", { 1, 2, 3 })
end)
T.test("batches of one size with a number missing close up", function()
  compare("gap", { 1, 2, 4 })
end)
T.test("a batch of another size after two placed ones: appended, then ordered", function()
  compare("mixed", { 1, 2, 3 })
end)
T.test("a batch that appears twice is refused", function()
  T.raises(function() return data.cifar_batches(T.tmp("twice.tar.gz")) end,
    { "data_batch_2.bin appears twice" })
end)
