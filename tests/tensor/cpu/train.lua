-- train.lua OUTDIR — the course's CIFAR-10 model (uint8 images rescaled,
-- 3072 -> 64 ReLU -> 10, SGD momentum 0.9, batch 64) on 320 made-up images
-- for 3 epochs: its losses printed, its weights saved as .npy, so that two
-- runs on different processors can be compared bit for bit.
local out = arg[1]
tensor.seed(3)
local X = (tensor.rand(320, 3072) * 255):type("uint8")
local y = (tensor.rand(320) * 10):type("int32") + 1
local model = nn.Sequential{ nn.Rescaling(1/255), nn.Dense(64, "relu"), nn.Dense(10, "softmax") }
model:compile{ optimizer = optim.sgd{ lr = 0.01, momentum = 0.9 }, loss = "cross_entropy" }
local h = model:fit(X, y, { epochs = 3, batch_size = 64, verbose = 0 })
for i, l in ipairs(h.loss) do print(string.format("epoch %d loss %.9g", i, l)) end
tensor.save(model.layers[2].W, out .. "/W1.npy")
tensor.save(model.layers[3].W, out .. "/W2.npy")
tensor.save(model:predict(X), out .. "/P.npy")
