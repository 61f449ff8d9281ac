-- decay.lua OUTDIR — values that would be subnormal unless flushed, saved
-- as .npy for tests/tensor/test_cpu.sh and test_cpu_emulated.sh to count.
-- A dead ReLU layer gets zero gradients; with weight decay lr*wd = 0.5 its
-- weights halve every step, reaching the subnormal range after 126 steps.
local out = arg[1]
tensor.seed(1)
local model = nn.Sequential{ nn.Dense(3, "relu"), nn.Dense(2, "softmax") }
model:predict(tensor.rand(1, 4))
model.layers[1].b:fill(-100)
model:compile{ optimizer = optim.sgd{ lr = 1, weight_decay = 0.5 },
               loss = "cross_entropy" }
local X, y = tensor.rand(135, 4), tensor.ones({135}, "int32")
model:fit(X, y, { epochs = 1, batch_size = 1, shuffle = false, verbose = 0 })
tensor.save(model.layers[1].W, out .. "/W.npy")
-- a product whose every term is subnormal (1e-20 * 1e-20), large enough
-- for the matrix library to use both threads
local a = tensor.full({512, 512}, 1e-20)
tensor.save(a:matmul(a), out .. "/P.npy")
-- nnlab's own element-wise kernel
tensor.save(tensor.full({1000}, 1e-30) * 1e-10, out .. "/E.npy")
