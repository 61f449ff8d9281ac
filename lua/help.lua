-- help.lua — the documentation of nnlab's public API, in one place: `help(x)`
-- in the REPL and docs/api.md (help.write_markdown) are both made from TEXT
-- below. An entry starts with "@ signature"; the lines after it are the
-- description, lines starting with "> " the example. "# name | title" starts
-- a section (a module or a type) and its paragraph describes it.
local i18n = require "i18n"
local M = {}
-- taken now: under `--check --sandbox` the lesson's debug library lacks them
local getupvalue, getregistry = debug.getupvalue, debug.getregistry

local TEXT = [==[
# nnlab | nnlab
nnlab is a workbook for image classification with neural networks. Every
module is loaded as a global: tensor, data, nn, optim, metrics, plot, lesson
and help. Type an expression to see its value; `help(x)` documents any
module, function or object; Tab completes names after `.` and `:`.

@ nnlab.version
The version of nnlab, a string such as "0.1.0".
> nnlab.version

@ nnlab.options
The command-line options as a table: seed, threads, quick, check, render,
plot, out, lang, scripts, args, exec, interactive, stdin_tty, stdout_tty,
kernel and install_kernel (Jupyter).
> nnlab.options.seed

@ nnlab.repl()
Opens the interactive session: a banner, readline editing with history in
~/.nnlab_history, Tab completion, expressions printed without `=`, multi-line
statements continued with a `>>` prompt. An error prints its message and the
session goes on; Ctrl-C stops a running computation or `fit` and returns to
the prompt; Ctrl-C at the prompt clears the line; Ctrl-D leaves.
> nnlab.repl()

@ nnlab.clock() -> number
Seconds from a monotonic clock, for timing a step of a script.
> local t0 = nnlab.clock(); model:fit(X, y); print(nnlab.clock() - t0)

# help | Help
`help` prints the documentation kept in lua/help.lua; docs/api.md is made
from the same text.

@ help(x)
Prints the documentation of x: a module (`help(tensor)`), a function
(`help(tensor.zeros)`, found by identity), an object (`help(t)` for a tensor
prints the Tensor type and its methods), or a public name as a string
(`help("Model:fit")`). Without an argument it prints an overview.
> help(tensor.zeros)

@ help.markdown() -> string
The whole API reference as Markdown, the text of docs/api.md.
> print(help.markdown():sub(1, 200))

@ help.write_markdown(path)
Writes help.markdown() to the file `path` (make docs writes docs/api.md).
> help.write_markdown("docs/api.md")

@ help.missing() -> list
The public functions and methods (found in the module tables and the
objects' metatables) that have no documentation; empty when every one has.
> help.missing()

@ help.text([x]) -> string
The text help(x) prints, as a string.
> help.text("tensor.zeros")

@ help.names() -> list
Every documented public name, in the order of the reference.
> #help.names()

@ help.signature_of(f) -> string|nil
The documented signature of the function f, or nil when f is not part of
the public API. The REPL prints functions with it.
> help.signature_of(tensor.zeros)

# tensor | Tensors
Dense n-dimensional arrays of float32 (the default), uint8 or int32. A
tensor is a storage plus a shape, strides and an offset; views share the
storage. Positions are 1-based. A shape is a table `{2,3}` or sizes `2,3`.

@ tensor.new(nested_table [, dtype]) -> Tensor
A tensor with the values and the shape of a nested table of numbers (rows of
equal length). dtype is "float32" (default), "uint8" or "int32".
> tensor.new({{1, 2, 3}, {4, 5, 6}})

@ tensor.zeros(shape [, dtype]) -> Tensor
A new tensor of the given shape filled with 0.
> tensor.zeros(2, 3)

@ tensor.ones(shape [, dtype]) -> Tensor
A new tensor of the given shape filled with 1.
> tensor.ones({3}, "int32")

@ tensor.full(shape, v [, dtype]) -> Tensor
A new tensor of the given shape with every element set to v.
> tensor.full({2, 2}, 7)

@ tensor.arange(n) / tensor.arange(a, b [, step]) -> Tensor
Evenly spaced values as numpy's arange: 0, 1, ..., n-1, or a, a+step, ...
up to but excluding b.
> tensor.arange(5)   -- 0 1 2 3 4

@ tensor.rand(shape) -> Tensor
Uniform random float32 values in [0, 1), from the seeded generator.
> tensor.rand(2, 3)

@ tensor.randn(shape) -> Tensor
Standard normal random float32 values (mean 0, standard deviation 1).
> tensor.randn(1000):std()

@ tensor.seed(n)
Seeds the generator behind rand, randn and shuffling; the same seed gives the
same numbers (nnlab seeds it with --seed, 42 by default).
> tensor.seed(1); print(tensor.rand(1)[1])

@ tensor.cat(list [, dim]) -> Tensor
Concatenates tensors of equal shape except in dimension dim (default 1).
> tensor.cat({tensor.ones(2, 3), tensor.zeros(1, 3)}):shape()   -- {3, 3}

@ tensor.stack(list) -> Tensor
Stacks tensors of the same shape along a new first dimension.
> tensor.stack({tensor.ones(3), tensor.zeros(3)}):shape()   -- {2, 3}

@ tensor.save(t, path)
Writes t to a NumPy .npy file (readable with numpy.load), through a
temporary file renamed over path: if writing fails the old file stays. A
symlink is written through to its target; a folder, FIFO or device is refused.
> tensor.save(tensor.arange(4), "/tmp/a.npy")

@ tensor.load(path) -> Tensor
Reads a NumPy .npy file of float32, uint8 or int32 values.
> tensor.load("/tmp/a.npy")

@ Tensor
A tensor object. `t.dtype` is its element type, `#t` the size of dimension
1, `t[i]` row i (a view, or a number for a 1-D tensor), `t[i] = v` sets it,
`tostring(t)` prints it as numpy does. Operators `+ - * /` and unary `-`
broadcast as numpy does.
> t = tensor.arange(6):reshape(2, 3); t.dtype, #t, t[2][3]

@ Tensor:shape() -> table
The sizes of the dimensions as a list.
> tensor.zeros(2, 3):shape()   -- {2, 3}

@ Tensor:size(d) -> integer
The size of dimension d.
> tensor.zeros(2, 3):size(2)   -- 3

@ Tensor:dim() -> integer
The number of dimensions.
> tensor.zeros(2, 3):dim()   -- 2

@ Tensor:numel() -> integer
The number of elements (the product of the sizes).
> tensor.zeros(2, 3):numel()   -- 6

@ Tensor:get(i, j, ...) -> number
The element at the given 1-based position, one index per dimension.
> tensor.arange(6):reshape(2, 3):get(2, 1)   -- 3

@ Tensor:set(i, j, ..., v)
Sets the element at the given position to v.
> t = tensor.zeros(2, 2); t:set(1, 2, 5)

@ Tensor:narrow(dim, start, len) -> Tensor
A view of len positions of dimension dim starting at start.
> tensor.arange(10):narrow(1, 3, 4)   -- 2 3 4 5

@ Tensor:select(dim, i) -> Tensor
A view of position i of dimension dim, one dimension fewer.
> tensor.arange(6):reshape(2, 3):select(2, 1)   -- 0 3

@ Tensor:index(idx) -> Tensor
A new tensor of the rows named by an int32 tensor of positions (a gather,
used for minibatches).
> X:index(tensor.new({3, 1}, "int32"))

@ Tensor:totable() -> table
The values as nested Lua tables.
> tensor.arange(3):totable()   -- {0, 1, 2}

@ Tensor:reshape(...) -> Tensor
The same elements in a new shape; one size may be -1 (inferred). A view when
the layout allows it, else a copy.
> tensor.arange(6):reshape(3, -1)

@ Tensor:view(...) -> Tensor
The same as reshape: the elements in a new shape, one size may be -1.
> tensor.arange(6):view(2, 3)

@ Tensor:flatten([start_dim]) -> Tensor
Merges the dimensions from start_dim (default 1) into one.
> tensor.zeros(10, 28, 28):flatten(2):shape()   -- {10, 784}

@ Tensor:transpose(d1, d2) -> Tensor
A view with dimensions d1 and d2 swapped.
> tensor.zeros(2, 3):transpose(1, 2):shape()   -- {3, 2}

@ Tensor:t() -> Tensor
The transpose of a 2-D tensor (a view).
> tensor.arange(6):reshape(2, 3):t()

@ Tensor:contiguous() -> Tensor
t itself when its elements are laid out in order, else a contiguous copy.
> tensor.zeros(2, 3):t():contiguous()

@ Tensor:clone() -> Tensor
A copy with its own storage.
> u = t:clone()

@ Tensor:float() -> Tensor
A float32 copy (t itself when it is already float32).
> data.mnist().X:float()

@ Tensor:uint8() -> Tensor
A uint8 copy; values are converted as C converts them.
> tensor.new({1.0, 2.0}):uint8()

@ Tensor:int() -> Tensor
An int32 copy.
> tensor.new({1.0, 2.0}):int()

@ Tensor:type(dtype) -> Tensor
A copy converted to dtype ("float32", "uint8" or "int32"); t itself when it
already has that dtype.
> tensor.arange(3):type("int32")

@ Tensor:fill(v) -> Tensor
Sets every element to v, in place; returns t.
> tensor.zeros(3):fill(2)

@ Tensor:copy(src) -> Tensor
Copies the values of src (same number of elements) into t; returns t.
> tensor.zeros(3):copy(tensor.arange(3))

@ Tensor:add(u) -> Tensor
t + u element by element, with numpy broadcasting; u may be a number.
> tensor.ones(2, 3):add(tensor.arange(3))

@ Tensor:sub(u) -> Tensor
t - u element by element, with broadcasting.
> tensor.ones(3):sub(1)

@ Tensor:mul(u) -> Tensor
t * u element by element (not the matrix product: see matmul).
> tensor.arange(3):mul(2)

@ Tensor:div(u) -> Tensor
t / u element by element, with broadcasting.
> tensor.arange(3):div(2)

@ Tensor:pow(p) -> Tensor
t raised to the power p, element by element.
> tensor.arange(4):pow(2)   -- 0 1 4 9

@ Tensor:add_(u) -> Tensor
In-place t = t + u; returns t. Likewise sub_, mul_, div_.
> t:add_(1)

@ Tensor:sub_(u) -> Tensor
In-place t = t - u; returns t.
> t:sub_(t:mean())

@ Tensor:mul_(u) -> Tensor
In-place t = t * u; returns t.
> t:mul_(0.5)

@ Tensor:div_(u) -> Tensor
In-place t = t / u; returns t.
> t:div_(255)

@ Tensor:pow_(p) -> Tensor
In-place t = t ^ p; returns t.
> t:pow_(2)

@ Tensor:neg() -> Tensor
-t element by element (the same as unary minus).
> tensor.arange(3):neg()   -- -0 -1 -2

@ Tensor:neg_() -> Tensor
In-place t = -t; returns t.
> t:neg_()

@ Tensor:exp() -> Tensor
e^t element by element.
> tensor.zeros(2):exp()   -- 1 1

@ Tensor:exp_() -> Tensor
In-place t = e^t; returns t.
> t:exp_()

@ Tensor:log() -> Tensor
The natural logarithm element by element.
> tensor.ones(2):log()   -- 0 0

@ Tensor:log_() -> Tensor
In-place t = log(t); returns t.
> t:log_()

@ Tensor:sqrt() -> Tensor
The square root element by element.
> tensor.new({4, 9}):sqrt()   -- 2 3

@ Tensor:sqrt_() -> Tensor
In-place t = sqrt(t); returns t.
> t:sqrt_()

@ Tensor:abs() -> Tensor
The absolute value element by element.
> tensor.new({-1, 2}):abs()

@ Tensor:abs_() -> Tensor
In-place t = |t|; returns t.
> t:abs_()

@ Tensor:tanh() -> Tensor
The hyperbolic tangent element by element.
> tensor.zeros(2):tanh()

@ Tensor:tanh_() -> Tensor
In-place t = tanh(t); returns t.
> t:tanh_()

@ Tensor:sigmoid() -> Tensor
1 / (1 + e^-t) element by element.
> tensor.zeros(2):sigmoid()   -- 0.5 0.5

@ Tensor:sigmoid_() -> Tensor
In-place t = sigmoid(t); returns t.
> t:sigmoid_()

@ Tensor:relu() -> Tensor
max(t, 0) element by element.
> tensor.new({-1, 2}):relu()   -- 0 2

@ Tensor:relu_() -> Tensor
In-place t = max(t, 0); returns t.
> t:relu_()

@ Tensor:clamp(lo, hi) -> Tensor
Each element limited to [lo, hi].
> tensor.arange(5):clamp(1, 3)   -- 1 1 2 3 3

@ Tensor:clamp_(lo, hi) -> Tensor
In-place clamp: each element limited to [lo, hi]; returns t.
> t:clamp_(0, 1)

@ Tensor:softmax(dim) -> Tensor
e^t / sum(e^t) along dimension dim (computed stably, by subtracting the
maximum first); each slice sums to 1.
> tensor.new({{1, 2, 3}}):softmax(2)

@ Tensor:sum([dim]) -> number|Tensor
The sum of all elements (a number), or along dimension dim (a tensor
without that dimension).
> tensor.ones(2, 3):sum(1)   -- 2 2 2

@ Tensor:mean([dim]) -> number|Tensor
The mean of all elements, or along dimension dim.
> tensor.arange(4):mean()   -- 1.5

@ Tensor:max([dim]) -> number|Tensor
The largest element, or the largest along dimension dim.
> tensor.arange(4):max()   -- 3

@ Tensor:min([dim]) -> number|Tensor
The smallest element, or the smallest along dimension dim.
> tensor.arange(4):min()   -- 0

@ Tensor:std([dim]) -> number|Tensor
The standard deviation of the elements, or along dimension dim.
> tensor.randn(10000):std()   -- about 1

@ Tensor:argmax([dim]) -> integer|Tensor
The 1-based position of the largest element, or the positions along
dimension dim (int32): the predicted class of each row of scores.
> probs:argmax(2)

@ Tensor:argmin([dim]) -> integer|Tensor
The 1-based position of the smallest element, or along dimension dim.
> tensor.new({3, 1, 2}):argmin()   -- 2

@ Tensor:eq(u) -> Tensor
A uint8 mask: 1 where t == u, else 0 (u a tensor or a number, broadcast).
> pred:eq(y):sum()   -- how many are right

@ Tensor:ne(u) -> Tensor
A uint8 mask: 1 where t ~= u.
> pred:ne(y):sum()

@ Tensor:lt(u) -> Tensor
A uint8 mask: 1 where t < u.
> tensor.arange(4):lt(2)   -- 1 1 0 0

@ Tensor:le(u) -> Tensor
A uint8 mask: 1 where t <= u.
> tensor.arange(4):le(2)

@ Tensor:gt(u) -> Tensor
A uint8 mask: 1 where t > u.
> tensor.arange(4):gt(2)

@ Tensor:ge(u) -> Tensor
A uint8 mask: 1 where t >= u.
> tensor.arange(4):ge(2)

@ Tensor:matmul(u) -> Tensor
The matrix product of two 2-D tensors (m x k by k x n gives m x n),
computed by the matrix library (`nnlab --version` names it).
> tensor.ones(2, 3):matmul(tensor.ones(3, 4))

# data | Datasets
Datasets are tables {X=, y=, classes=, name=}: X is uint8 images (N x 28 x 28
for MNIST, N x 32 x 32 x 3 for CIFAR-10), y int32 labels 1..K, and
classes[y[i]] the name of a label. Files are looked for in NNLAB_DATA,
./data, ~/.cache/nnlab and /usr/share/datasets, and downloaded when missing.

@ data.mnist() -> train, test
The MNIST handwritten digits: 60000 training and 10000 test images of
28 x 28; classes "0".."9" (so classes[1] == "0").
> train, test = data.mnist(); train

@ data.fashion_mnist() -> train, test
Fashion-MNIST: 28 x 28 pictures of 10 kinds of clothing, as MNIST.
> train, test = data.fashion_mnist()

@ data.cifar10() -> train, test
CIFAR-10: 50000 training and 10000 test colour images of 32 x 32 x 3 in 10
classes ("airplane", "automobile", ...), read from cifar-10-binary.tar.gz.
> train, test = data.cifar10(); train.classes

@ data.idx(path) -> Tensor
Reads an IDX file (raw or .gz) into a tensor of its type and shape.
> data.idx("data/mnist/t10k-labels-idx1-ubyte.gz")

@ data.cifar_batches(path) -> train, test
Reads the CIFAR-10 binary batches from a directory or straight from
cifar-10-binary.tar.gz, without unpacking it.
> data.cifar_batches("data/cifar-10-binary.tar.gz")

@ data.fetch(name) -> folder
Downloads the files of a dataset ("mnist", "fashion_mnist", "cifar10") that
are not already in ~/.cache/nnlab (or NNLAB_CACHE), trying each mirror in
turn with a progress bar, checks their MD5 and returns that folder. Only
http and https (also after redirects); a download larger than the file's
known size fails. Each goes to its own temporary file, renamed into place once
verified; a second nnlab waits for the first. Without network, the error
names the file, where it was looked for and how to provide it.
> data.fetch("mnist")

@ data.subset(ds, n [, seed]) -> Dataset
A dataset of n examples of ds drawn at random without replacement (seeded).
> small = data.subset(train, 1000)

@ data.split(ds, fraction [, seed]) -> Dataset, Dataset
Splits ds at random: floor(N * fraction) examples in the first dataset, the
rest in the second (0.8 for training and 0.2 for validation, say).
> tr, va = data.split(train, 0.9)

@ data.dataset{X=, y=, classes=, name=} -> Dataset
Makes a table a dataset (gives it the methods and the printing of one); X
and y must have the same number of rows.
> ds = data.dataset{X = tensor.zeros({4, 2, 2}, "uint8"), y = tensor.new({1, 2, 1, 2}, "int32"), classes = {"a", "b"}, name = "tiny"}

@ data.search_path() -> list
The folders where dataset files are looked for, in order: each of
NNLAB_DATA (colon separated), ./data, ~/.cache/nnlab (or NNLAB_CACHE) and
/usr/share/datasets.
> data.search_path()

@ Dataset
A dataset table {X=, y=, classes=, name=}; `#ds` is its number of examples
and it prints as its name, sizes and classes.
> #train, train.X:shape(), train.classes[train.y[1]]

@ Dataset:batches(size [, {shuffle=true, seed=, drop_last=false}]) -> iterator
Iterates over minibatches: each step gives X and y of `size` examples (the
last may be smaller unless drop_last), shuffled in a new order each call
unless shuffle=false (then they are views in the dataset's order).
> for X, y in train:batches(64) do ... end

# nn | Neural networks
Layers and models shaped as Keras: a Sequential model of layers is compiled
with an optimizer and a loss, then fit, evaluated and used to predict.

@ nn.Sequential(layers) -> Model
A model that applies its layers in order.
> model = nn.Sequential{ nn.Flatten(), nn.Dense(10, "softmax") }

@ nn.Dense(units [, activation] [, {init=}]) -> Layer
A fully connected layer: y = activation(x W + b). layer.W is inputs x units
(the input size is inferred on first use), layer.b has `units` values; both
are the layer's own tensors. Activations: relu, sigmoid, tanh, softmax,
linear (default; it may be left out before the options). init says how W
and b start, drawn from the seeded generator: "glorot_uniform" (the
default, as in Keras: W uniform in +-sqrt(6/(inputs+units)), b zero),
"he_uniform" (+-sqrt(6/inputs), b zero), "lecun_uniform" (+-sqrt(3/inputs),
b zero) or "torch" (W and b uniform in +-1/sqrt(inputs), the default of
PyTorch's and Torch7's Linear layer).
> nn.Dense(64, "relu")
> nn.Dense(64, "relu", {init = "torch"})
> nn.Dense(10, {init = "he_uniform"})

@ nn.Flatten() -> Layer
Reshapes each example to one dimension: N x 28 x 28 becomes N x 784.
> nn.Flatten()

@ nn.Rescaling(scale [, offset]) -> Layer
y = x * scale + offset, as float32 (turns uint8 pixels into 0..1).
> nn.Rescaling(1/255)

@ nn.ReLU() -> Layer
max(x, 0) as a layer of its own.
> nn.ReLU()

@ nn.Sigmoid() -> Layer
1 / (1 + e^-x) as a layer.
> nn.Sigmoid()

@ nn.Tanh() -> Layer
tanh(x) as a layer.
> nn.Tanh()

@ nn.Softmax() -> Layer
The softmax of each row as a layer.
> nn.Softmax()

@ nn.Dropout(p) -> Layer
While training, zeroes each value with probability p and scales the others by
1/(1-p); does nothing at prediction time.
> nn.Dropout(0.5)

@ nn.Conv2D(filters, kernel_size [, activation] [, {stride=1, padding="valid", init=}]) -> Layer
A 2-D convolution over images N x H x W x C (channels last, as the
datasets): each of the `filters` kernels slides over the image and gives
one output channel, y = activation(sum of x * W over the window + b).
kernel_size and stride are a number or a pair {height, width}. padding is
"valid" (no padding: the output shrinks by kernel - 1), "same" (the output
is ceil(H / stride) x ceil(W / stride), zeros split as Keras does, the odd
one at the bottom and right) or a number N of zero rows and columns on
every side. layer.W is kh x kw x in_channels x filters (Keras's layout),
layer.b has `filters` values; they start as Dense's init says, with
Keras's fans (kh*kw*in_channels inputs, kh*kw*filters outputs).
Activations: relu, sigmoid, tanh, linear (default). The input must be
images, not flattened rows.
> nn.Conv2D(16, 5, "relu", {padding = "same"})
> nn.Conv2D(32, 3, "relu", {stride = 2, padding = 1})
> nn.Conv2D(8, {3, 5}, {init = "he_uniform"})

@ nn.MaxPool2D(pool_size [, {stride=pool_size}]) -> Layer
Keeps the largest value of each pool_size window of each channel: an
N x H x W x C batch becomes N x floor((H - ph) / sh + 1) x ... x C. The
window moves by `stride` (by default the window's size, so windows do not
overlap); both are a number or a pair {height, width}; no padding.
> nn.MaxPool2D(2)
> nn.MaxPool2D(3, {stride = 2})

@ nn.AvgPool2D(pool_size [, {stride=pool_size}]) -> Layer
As nn.MaxPool2D, with the mean of each window instead of its largest value.
> nn.AvgPool2D(2)
> nn.AvgPool2D({2, 3}, {stride = 1})

@ nn.BatchNormalization([{momentum=0.99, eps=0.001}]) -> Layer
Normalizes each feature (after Dense) or each channel (the last axis, after
Conv2D) as Keras does: y = gamma * (x - mean) / sqrt(var + eps) + beta.
While training (fit, model:train()) mean and var are the batch's (var
divided by n, not n-1), and the layer keeps moving averages of them:
moving = momentum * moving + (1 - momentum) * batch. Outside training
(predict, evaluate, model:eval()) it uses the moving averages. layer.gamma
(starts at 1) and layer.beta (0) are trained; layer.moving_mean (0) and
layer.moving_variance (1) are not, but the model file keeps them (the
summary counts them as non-trainable).
> nn.BatchNormalization()
> nn.BatchNormalization({momentum = 0.9})

@ nn.RandomFlip([mode]) -> Layer
Data augmentation for images (N x H x W x C): while training, mirrors each
image left-right and/or upside-down, each with probability 1/2, drawn from
the seeded generator; does nothing at prediction time. mode:
"horizontal_and_vertical" (the default, as Keras), "horizontal" or
"vertical".
> nn.RandomFlip("horizontal")

@ nn.RandomTranslation(height_factor, width_factor) -> Layer
Data augmentation for images (N x H x W x C): while training, shifts each
image by whole pixels, up to factor x size in each direction (as Keras's
fractions: 2/32 on 32 x 32 images is up to 2 pixels), filling with zeros
(Keras reflects by default); does nothing at prediction time. Factors in
[0, 1).
> nn.RandomTranslation(2/32, 2/32)

@ nn.CrossEntropyLoss([{from_logits=false}]) -> Loss
Cross-entropy between class probabilities (the output of a model ending in
softmax) and labels 1..K: the mean over the batch of -log p[y]. With
from_logits=true the output is raw scores and the softmax is fused in, which
is numerically stable.
> loss = nn.CrossEntropyLoss(); loss:forward(model:forward(X), y)

@ nn.MSELoss() -> Loss
The mean squared error between the output and the target.
> nn.MSELoss():forward(out, target)

@ nn.load(path) -> Model
Reads a model written by model:save (checking its version and checksum);
files written by earlier versions of nnlab load too.
> model = nn.load("mnist.nnl")

@ Model
A Sequential model. model.layers lists its layers; the REPL prints it as its
summary.
> model.layers[1].W:shape()

@ Model:add(layer) -> Model
Appends a layer.
> model:add(nn.Dense(10, "softmax"))

@ Model:summary()
Prints a table as Keras does: each layer, its output shape and its number of
parameters, and the total (tostring(model) is the same text); when some are
not trained (BatchNormalization's moving statistics), the trainable and
non-trainable counts as well.
> model:summary()

@ Model:compile{optimizer=, loss=, metrics=} -> Model
Sets the optimizer (optim.sgd{...}, optim.adam{...}, or the name "sgd" or
"adam"; default sgd), the loss ("cross_entropy", the default, also
"sparse_categorical_crossentropy", or "mse") and the metrics ({"accuracy"}).
Returns the model.
> model:compile{optimizer = optim.sgd{lr = 0.01}, loss = "cross_entropy", metrics = {"accuracy"}}

@ Model:fit(X, y, options) -> history
Trains the model. Options: epochs, batch_size, validation_split,
validation_data={X, y}, shuffle=true, verbose=1 (a progress bar per epoch),
on_epoch=function(epoch, logs) (returning false stops after that epoch),
lr_schedule, early_stopping. Returns {loss=, accuracy=, val_loss=,
val_accuracy=, seconds=, lr=}, one value per epoch. Ctrl-C stops after the
current batch and returns the history of the complete epochs; the model
stays usable. lr_schedule sets the optimizer's lr before each epoch (Keras's
LearningRateScheduler): a function(epoch, lr) returning the new lr, called
with the epoch number as printed (1 for "Epoch 1/5", not Keras's 0) and the
current lr; "cosine" (from the optimizer's lr down towards 0 over the
epochs: lr0*(1+cos(pi*(epoch-1)/epochs))/2, PyTorch's CosineAnnealingLR);
or optim.schedules.cosine{min_lr=} / optim.schedules.step(every, factor)
(also written {cosine=true, min_lr=} and {step=every, factor=}). The last lr
stays set after fit, as in Keras. early_stopping={patience=0,
monitor="val_loss", min_delta=0, restore_best=false} (Keras's EarlyStopping;
monitor is "val_loss", "val_accuracy", "loss" or "accuracy"): training stops
once the monitored value has not improved by more than min_delta for
`patience` epochs, and the history ends there; restore_best (or Keras's
restore_best_weights) puts back every tensor of every layer as it was after
the best epoch when fit ends, whether it stopped early or not.
> hist = model:fit(train.X, train.y, {epochs = 5, batch_size = 64})
> hist = model:fit(X, y, {epochs = 30, validation_split = 0.1, lr_schedule = "cosine", early_stopping = {patience = 3, restore_best = true}})

@ Model:evaluate(X, y) -> table
The loss and the metrics on X, y: {loss=, accuracy=}.
> model:evaluate(test.X, test.y)

@ Model:predict(X) -> Tensor
The model's output for X (N x K scores or probabilities).
> model:predict(test.X):argmax(2)

@ Model:activations(X [, batch_size=256]) -> list of Tensors
Every layer's output for X, in order: entry i is layer i's output, N x that
layer's output shape (Keras: a Model whose outputs are all the layers'
outputs, then predict). Inference mode, computed batch_size rows at a time;
the last entry is model:predict(X).
> a = model:activations(test.X:narrow(1, 1, 8)); a[3]:shape()

@ Model:forward(x) -> Tensor
The output for a batch x, keeping what backward needs.
> out = model:forward(X)

@ Model:backward(x, grad_output) -> Tensor
Back-propagates grad_output: stores (overwrites) layer.dW and layer.db in
every layer and returns the gradient for x. It needs a model:forward of the
same batch first (fit's last batch does not count). fit with SGD's momentum
leaves dW and db of Dense layers at zero: their gradients go straight into
the optimizer's velocity.
> model:backward(X, loss:backward(out, y))

@ Model:save(path)
Writes the model to a versioned file with a checksum, atomically (the old
file stays if writing fails): each layer as its kind, its options and its
named tensors with their shapes. A symlink is written through to its target; a
folder, FIFO or device is refused.
> model:save("mnist.nnl")

@ Model:train([on]) -> Model
Puts the model in training mode (Dropout and augmentation active,
BatchNormalization on batch statistics) for model:forward, or out of it with
train(false). fit switches it on by itself; fit, predict, evaluate and
activations leave the mode as they found it.
> model:train()

@ Model:eval() -> Model
Puts the model in inference mode (Dropout and augmentation do nothing,
BatchNormalization uses its moving statistics), as predict does.
> model:eval()

@ Layer
A layer (nn.Dense, nn.Flatten, ...). Every layer has `name` and
`activation`; a Dense layer has `units`, `init`, `W` (inputs x units) and `b`, its
own tensors (assigning layer.W = t copies t's values in), and after
model:backward the gradients `dW` and `db`; Rescaling has `scale` and
`offset`, Dropout `p`; BatchNormalization has `momentum`, `eps`, `gamma`,
`beta`, `moving_mean` and `moving_variance` (and `dgamma`, `dbeta`),
RandomFlip `mode`, RandomTranslation `height_factor` and `width_factor`.
> model.layers[2].W:shape()

@ Loss
A loss object (nn.CrossEntropyLoss, nn.MSELoss).
> nn.MSELoss()

@ Loss:forward(output, y) -> number
The loss, averaged over the batch.
> nn.CrossEntropyLoss():forward(out, y)

@ Loss:backward(output, y) -> Tensor
The gradient of the loss for output.
> g = loss:backward(out, y)

# optim | Optimizers
Update rules for the parameters of a model.

@ optim.sgd{lr, momentum=0, nesterov=false, weight_decay=0} -> Optimizer
Stochastic gradient descent, with PyTorch's update rule: `g = dW + weight_decay*W`,
`v = momentum*v + g`, then `W = W - lr*v` (with nesterov: `W = W - lr*(g + momentum*v)`).
> optim.sgd{lr = 0.01, momentum = 0.9}

@ optim.adam{lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8} -> Optimizer
Adam: moving averages of the gradient and its square, bias-corrected,
W = W - lr * m / (sqrt(v) + eps).
> optim.adam{lr = 1e-3}

@ optim.schedules.cosine([{min_lr=0}]) -> schedule
For fit's lr_schedule: cosine annealing from the optimizer's lr to min_lr
over fit's epochs, lr = min_lr + (lr0 - min_lr)*(1 + cos(pi*(epoch-1)/epochs))/2
for epoch 1, 2, ... (PyTorch's CosineAnnealingLR with T_max = epochs, stepped
each epoch). lr_schedule = "cosine" is the same with min_lr 0.
> model:fit(X, y, {epochs = 20, lr_schedule = optim.schedules.cosine{min_lr = 1e-4}})

@ optim.schedules.step(every [, factor=0.1]) -> schedule
For fit's lr_schedule: the lr is multiplied by factor every `every` epochs,
lr = lr0 * factor^floor((epoch-1)/every) (PyTorch's StepLR). Also written
step{every=, factor=} or, in fit, lr_schedule = {step=every, factor=}.
> model:fit(X, y, {epochs = 30, lr_schedule = optim.schedules.step(10, 0.5)})

@ Optimizer
An optimizer made by optim.sgd or optim.adam. Its settings read as fields
(lr, momentum, nesterov, weight_decay, beta1, beta2, eps, kind, steps);
`opt.lr = x` changes the learning rate (for schedules).
> opt = optim.sgd{lr = 0.1}; opt.lr

@ Optimizer:step(model)
Applies one update to every layer's parameters from its dW and db.
> opt:step(model)

# metrics | Metrics
Accuracy, confusion matrices and per-class reports.

@ metrics.accuracy(pred, y) -> number
The fraction of examples whose prediction equals y; pred is class indices or
an N x K score matrix (its argmax is taken).
> metrics.accuracy(model:predict(test.X), test.y)

@ metrics.confusion(y_true, y_pred [, classes]) -> Confusion
A confusion matrix: counts[i][j] is how many examples of class i were
predicted as j. classes is the list of class names (K = #classes) or the
number K; without it K is the largest label seen.
> cm = metrics.confusion(test.y, pred, test.classes); print(cm)

@ metrics.report(y_true, y_pred [, classes] [, {digits=2}]) -> string
Per-class precision, recall, F1 and support, then accuracy, macro and
weighted averages, laid out as scikit-learn's classification_report. The
text is returned, not printed.
> print(metrics.report(test.y, pred, test.classes))

@ Confusion
A confusion matrix. cm.counts is K x K int32, rows the true class, columns
the predicted one; cm.k is K and cm.classes the names. tostring(cm) is the
course's table: class names on rows and columns, recall % per row, precision
% per column and the overall accuracy, in the language of --lang; class
names are shown whole (two staggered header lines when they are wider than
a column: CIFAR-10's table is 95 columns wide).
> cm.counts

@ Confusion:accuracy() -> number
The fraction on the diagonal.
> cm:accuracy()

@ Confusion:recall() -> table
Per class: correct / examples of that class (the row).
> cm:recall()

@ Confusion:precision() -> table
Per class: correct / predictions of that class (the column).
> cm:precision()

@ Confusion:f1() -> table
Per class: 2 * precision * recall / (precision + recall).
> cm:f1()

@ Confusion:most_confused(n) -> list
The n largest off-diagonal cells as {true=, pred=, count=} (class indices),
largest first. The list prints as one "cat → dog: 168 times" line a pair,
in the language of --lang.
> print(cm:most_confused(3))

@ Confusion:support() -> table
Per class: how many examples of that class there are (the row sums).
> cm:support()

# plot | Plots
Plots drawn by gnuplot: in a window, as numbered png/svg files under
out/<script>/ with the .gp script and its data beside each (to draw it
again), in the terminal (dumb), or nowhere (none). Each plot function returns
the image file it wrote, or nil when nothing was written.

@ plot.history(hist [, {title=}])
Loss (left) and accuracy (right) per epoch, training and validation, from
the history that fit returns.
> plot.history(hist)

@ plot.image(t [, {title=, colorbox=, palette="grey"|"diverging"}])
A 2-D tensor as a heatmap (uint8 on a fixed 0..255 grey scale, other dtypes
on their own range with a colour box), or H x W x 3 as a colour image (uint8
as it is, other dtypes min-max scaled).
> plot.image(train.X[1])

@ plot.weights(W, {shape=, labels=, cols=, smooth=false, title=})
One tile per column of W (inputs x units), each reshaped to `shape` ({28,28}
or {32,32,3}): the per-class templates of a linear classifier, or the hidden
neurons. Grey tiles share a diverging palette centred on 0 (blue negative,
white 0, red positive); RGB tiles are min-max scaled one by one.
smooth=true (or a sigma in pixels, 0 to 6) blurs each tile with a Gaussian first.
> plot.weights(model.layers[2].W, {shape = {28, 28}, labels = train.classes})

@ plot.grid(X, {labels=, cols=, title=, classes=})
Example images in a grid with captions: labels is a list of names, or an
int32 tensor of class indices together with classes=.
> plot.grid(train.X:narrow(1, 1, 16), {labels = train.y:narrow(1, 1, 16), classes = train.classes, cols = 8})

@ plot.confusion(cm [, {percent=false, normalize=, title=, xlabel=, ylabel=}])
A confusion matrix as a white-to-blue heatmap with the count written in
every cell (up to 40 classes), true classes down and predicted across. percent=true adds the
recall % of each row in a column on the right, the precision % of each
column in a row below and the accuracy in the corner (the course's layout).
normalize="true" shows each row as % of its class (recall per cell),
normalize="pred" each column as % of its predictions (precision per cell).
title, xlabel and ylabel replace the default words.
> plot.confusion(cm, {percent = true, normalize = "true"})

@ plot.mistakes(X, y_true, y_pred, classes [, {n=16, cols=, title=}])
The first n examples whose prediction is wrong, captioned "true -> predicted";
y_pred may be an N x K score matrix. Draws nothing (returns nil) when there
is no mistake.
> plot.mistakes(test.X, test.y, model:predict(test.X), test.classes, {n = 16})

@ plot.confusion_examples(X, y_true, probs, classes [, {title=}])
The confusion matrix drawn with images (the "top samples" grid of ConvNetJS's
CIFAR-10 demo): K x K cells, row i the true class and column j the predicted
one; each cell shows the image of class i predicted as j to which the model
gave the highest probability of j, captioned with that probability (the
diagonal also names the class). A cell stays empty when no image of class i
was predicted as j. probs is the N x K output of predict.
> plot.confusion_examples(test.X, test.y, model:predict(test.X), test.classes)

@ plot.feature_maps(a [, {cols=, title=, name=}])
The channels of one image's activations (H x W x C, or 1 x H x W x C as
model:activations gives them) as C grey tiles, each scaled to its own range:
what each filter of a convolution found in the image.
> plot.feature_maps(model:activations(test.X:narrow(1, 1, 1))[2])

@ plot.lines(series [, {title=, xlabel=, ylabel=, ymin=, ymax=, x0=1}])
Line plot of one or more series: a list of numbers, a list of {name,
values}, or a table name -> values.
> plot.lines({train = hist.loss, validation = hist.val_loss}, {title = "loss"})

@ plot.gnuplot(commands [, {width=, height=, title=}])
Gnuplot commands as they are (a string or a list of lines), drawn in the
current output mode; a gnuplot error becomes a Lua error with gnuplot's
message.
> plot.gnuplot("plot sin(x)")

@ plot.output([mode [, dir]]) -> mode, dir
Sets where plots go: "window", "png", "svg", "dumb" or "none", and the
folder for files; the numbering starts again at 01. Without arguments it only
reports the current choice.
> plot.output("png", "out/mine")

@ plot.files() -> list
The image files written since the last plot.output, as {path=, title=}.
> plot.files()[1].path

@ plot.close()
Closes the gnuplot behind window mode (windows already drawn stay open).
> plot.close()

# lesson | Lessons
A lesson is a Lua script whose "---" lines are Markdown prose ("---es" and
"---en" for one language). Running it prints the prose with the code's
output; --render writes a workbook page; --check runs its expectations.

@ lesson.expect(name, value, {min=, max=} | expected) -> boolean
Records a check: value within [min, max] (either bound may be left out), or
equal to expected. Under --check each prints as PASS or FAIL and goes to the
grader from nnlab's C code; every call written lesson.expect(...) in a lesson
reaches this function, whatever the lesson assigns meanwhile. Returns whether
it passed.
> lesson.expect("test accuracy", acc, {min = 0.9})

@ lesson.quick
true under --quick: a lesson then uses a subset and fewer epochs.
> local epochs = lesson.quick and 1 or 10

@ lesson.lang
The language of the prose and of everything nnlab prints or draws: fit's
lines, summaries, datasets, the confusion table, plot titles, help headings;
"es" or "en", from --lang, else LANG (en* gives en), else es. Assigning
"es" or "en" switches it; anything else is an error.
> print(lesson.lang)

@ lesson.t({es=, en=} [, ...]) -> string
The string of the current language from a table of both, for a lesson's
own printed lines; further arguments format it as string.format does. A
table without the current language is an error.
> print(lesson.t({es = "exactitud %.1f%%", en = "accuracy %.1f%%"}, 91.8))

@ lesson.run_file(path, opts, ...)
Runs a lesson file as nnlab does for `nnlab path`: prose and output in
order. opts is nnlab.options.
> lesson.run_file("lessons/00_flatten.lua", nnlab.options)

@ lesson.check_files(paths, opts) -> status
Runs the lessons in paths and their checks, as `nnlab --check` does: each in
its own nnlab process under opts.timeout (seconds), opts.max_memory (MB) and,
with opts.sandbox, the sandbox; prints the summary, writes opts.junit and
opts.json when set, and returns the exit status.
> lesson.check_files({"lessons/01_mnist_linear.lua"}, nnlab.options)
]==]

-- ---- parsing the text ----------------------------------------------------

local docs, order, sections -- name -> entry; entries in order; section list

local function entry_name(sig)
  return sig:match("^([%w_%.:]+)")
end

local function parse()
  if docs then return end
  docs, order, sections = {}, {}, {}
  local cur, sec
  for line in (TEXT .. "\n"):gmatch("(.-)\n") do
    local sname, title = line:match("^# ([%w_]+) | (.+)$")
    local sig = line:match("^@ (.+)$")
    if sname then
      sec = { name = sname, title = title, text = {}, entries = {} }
      sections[#sections + 1] = sec
      cur = sec
    elseif sig then
      cur = { name = entry_name(sig), sig = sig, text = {}, example = {}, section = sec }
      docs[cur.name] = cur
      order[#order + 1] = cur
      sec.entries[#sec.entries + 1] = cur
    elseif line:match("^> ") and cur then
      cur.example[#cur.example + 1] = line:sub(3)
    elseif line ~= "" and cur then
      cur.text[#cur.text + 1] = line
    end
  end
  for _, e in ipairs(order) do e.desc = table.concat(e.text, " ") end
  for _, s in ipairs(sections) do s.desc = table.concat(s.text, " ") end
end

-- ---- finding the public API ----------------------------------------------

local MODULES = { "tensor", "data", "nn", "optim", "metrics", "plot", "lesson", "help", "nnlab" }

-- Type names whose methods are documented under another name.
local ALIAS = { Sequential = "Model", SGD = "Optimizer", Sgd = "Optimizer", Adam = "Optimizer",
  ConfusionMatrix = "Confusion" }

local function type_of(v)
  local mt = getmetatable(v)
  local n = type(mt) == "table" and rawget(mt, "__name")
  if type(n) == "string" then return (n:gsub("^nnlab%.", "")) end
  return nil
end

-- Documentation names to try, in order, for method m of type T.
local function method_doc_names(T, m)
  local names = { T .. ":" .. m }
  if ALIAS[T] then names[#names + 1] = ALIAS[T] .. ":" .. m end
  if T:match("Loss$") then names[#names + 1] = "Loss:" .. m end
  if T:match("Optimizer$") or T:match("^SGD") then names[#names + 1] = "Optimizer:" .. m end
  if rawget(_G, "nn") and type(nn) == "table" and rawget(nn, T) and not T:match("Loss$") then
    names[#names + 1] = "Layer:" .. m
  end
  return names
end

local function type_doc_name(T)
  parse()
  for _, n in ipairs({ T, ALIAS[T] or "", "nn." .. T, (T:match("Loss$") and "Loss") or "" }) do
    if docs[n] then return n end
  end
  if rawget(_G, "nn") and type(nn) == "table" and rawget(nn, T) then return "Layer" end
  return nil
end

-- Functions reachable as methods through the metatable mt: its __index
-- table (and that table's own metatable), the tables a C __index keeps as
-- upvalues, and functions stored in the metatable under ordinary names.
local function methods_of_mt(mt, out)
  local seen = {}
  local function add(tbl)
    for k, f in next, tbl do
      if type(k) == "string" and not k:match("^_") and type(f) == "function" then out[k] = f end
    end
  end
  local function walk(m, depth)
    if type(m) ~= "table" or seen[m] or depth > 4 then return end
    seen[m] = true
    local idx = rawget(m, "__index")
    if type(idx) == "table" then
      add(idx)
      walk(getmetatable(idx), depth + 1)
    elseif type(idx) == "function" then
      for i = 1, 20 do
        local name, up = getupvalue(idx, i)
        if name == nil then break end
        if type(up) == "table" and up ~= _G then add(up) end
      end
      add(m)
      for k, t in next, m do -- a method table kept in the metatable (mt.methods)
        if type(k) == "string" and not k:match("^__") and type(t) == "table" then add(t) end
      end
    end
  end
  walk(mt, 0)
  return out
end

-- The methods of an object: its own function fields (a table) and those
-- reachable through its metatable.
local function methods_of(v)
  local out = {}
  if type(v) == "table" then
    for k, f in next, v do
      if type(k) == "string" and type(f) == "function" and not k:match("^_") then out[k] = f end
    end
  end
  return methods_of_mt(getmetatable(v), out)
end

-- Small objects of the types made in Lua, so their methods can be listed.
local function samples()
  local list = {}
  local function try(label, fn)
    local ok, v = pcall(fn)
    if ok and v ~= nil then list[#list + 1] = { label = label, value = v } end
  end
  local G = _G
  if type(G.nn) == "table" then
    try("Model", function() return G.nn.Sequential { G.nn.Dense(2) } end)
    for k, ctor in pairs(G.nn) do
      if type(k) == "string" and k:match("^%u") and type(ctor) == "function" and k ~= "Sequential" then
        for _, args in ipairs({ {}, { 2 }, { 0.5 } }) do
          local ok, v = pcall(ctor, table.unpack(args))
          if ok and v ~= nil then list[#list + 1] = { label = k, value = v }; break end
        end
      end
    end
  end
  if type(G.optim) == "table" then
    try("Optimizer", function() return G.optim.sgd { lr = 0.1 } end)
    try("Optimizer", function() return G.optim.adam {} end)
  end
  if type(G.tensor) == "table" then
    try("Tensor", function() return G.tensor.zeros(2) end)
    if type(G.metrics) == "table" then
      try("Confusion", function()
        local y = G.tensor.new({ 1, 2 }, "int32")
        return G.metrics.confusion(y, y, { "a", "b" })
      end)
    end
    if type(G.data) == "table" then
      try("Dataset", function() -- data.dataset draws nothing from the seeded generator
        return G.data.dataset { X = G.tensor.zeros({ 2, 2 }, "uint8"), y = G.tensor.new({ 1, 2 }, "int32"),
          classes = { "a", "b" }, name = "tiny" }
      end)
    end
  end
  return list
end

-- Every public function: { name=, fn=, doc_names={...} } for module
-- functions, methods of the nnlab.* metatables and of the sample objects.
local function public_functions()
  local out = {}
  for _, mname in ipairs(MODULES) do
    local mod = rawget(_G, mname)
    if type(mod) == "table" then
      local keys = {}
      for k, f in pairs(mod) do
        if type(k) == "string" and type(f) == "function" and not k:match("^_") then keys[#keys + 1] = k end
      end
      table.sort(keys)
      for _, k in ipairs(keys) do
        local name = mname .. "." .. k
        out[#out + 1] = { name = name, fn = mod[k], doc_names = { name } }
      end
    end
  end
  for _, sub in ipairs { "optim.schedules" } do -- tables of functions inside a module
    local m, k = sub:match("^(%w+)%.(%w+)$")
    local t = type(rawget(_G, m)) == "table" and rawget(_G, m)[k]
    for name, f in pairs(type(t) == "table" and t or {}) do
      if type(f) == "function" then out[#out + 1] = { name = sub .. "." .. name, fn = f, doc_names = { sub .. "." .. name } } end
    end
  end
  local seen_types = {}
  local function add_type(T, ms)
    local keys = {}
    for k in pairs(ms) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do
      out[#out + 1] = { name = T .. ":" .. k, fn = ms[k], doc_names = method_doc_names(T, k) }
    end
    seen_types[T] = true
  end
  local reg = getregistry()
  local tnames = {}
  for k, mt in pairs(reg) do
    if type(k) == "string" and k:match("^nnlab%.") and type(mt) == "table" then tnames[#tnames + 1] = k end
  end
  table.sort(tnames)
  for _, k in ipairs(tnames) do
    add_type((k:gsub("^nnlab%.", "")), methods_of_mt(reg[k], {}))
  end
  for _, s in ipairs(samples()) do
    local T = type_of(s.value) or s.label
    if not seen_types[T] and (type(s.value) == "table" or type(s.value) == "userdata") then
      add_type(T, methods_of(s.value))
    end
  end
  return out
end

local reverse -- function -> documentation name

local function doc_for(item)
  for _, n in ipairs(item.doc_names) do
    if docs[n] then return n end
  end
  return nil
end

local function build_reverse()
  if reverse then return reverse end
  parse()
  reverse = {}
  for _, item in ipairs(public_functions()) do
    local n = doc_for(item)
    if n and reverse[item.fn] == nil then reverse[item.fn] = n end
  end
  return reverse
end

-- ---- printing ---------------------------------------------------------------

local function wrap(text, indent, width)
  local lines, line = {}, indent
  for word in text:gmatch("%S+") do
    if #line + #word + 1 > width and line ~= indent then
      lines[#lines + 1] = line
      line = indent
    end
    line = line == indent and (indent .. word) or (line .. " " .. word)
  end
  if line ~= indent then lines[#lines + 1] = line end
  return table.concat(lines, "\n")
end

local function entry_text(e)
  local out = { e.sig, "", wrap(e.desc, "  ", 78) }
  if #e.example > 0 then
    out[#out + 1] = ""
    out[#out + 1] = i18n.t("help.example")
    for _, l in ipairs(e.example) do out[#out + 1] = "    > " .. l end
  end
  return table.concat(out, "\n")
end

local function list_entries(title, entries)
  local out = { title }
  for _, e in ipairs(entries) do out[#out + 1] = "  " .. e.sig end
  return table.concat(out, "\n")
end

local function section_text(sec)
  local out = { sec.name .. " — " .. sec.title, "", wrap(sec.desc, "  ", 78), "" }
  local funcs, types = {}, {}
  for _, e in ipairs(sec.entries) do
    if e.name:find("[.]") or e.name == sec.name then funcs[#funcs + 1] = e
    elseif not e.name:find(":") then types[#types + 1] = e.name end
  end
  out[#out + 1] = list_entries(i18n.t("help.functions"), funcs)
  if #types > 0 then
    out[#out + 1] = ""
    out[#out + 1] = i18n.t("help.types") .. table.concat(types, ", ")
  end
  return table.concat(out, "\n")
end

local function type_text(name)
  local e = docs[name]
  local methods = {}
  for _, m in ipairs(order) do
    if m.name:sub(1, #name + 1) == name .. ":" then methods[#methods + 1] = m end
  end
  local out = { entry_text(e) }
  if #methods > 0 then
    local names = {}
    for i, m in ipairs(methods) do names[i] = m.name:match(":(.*)$") end
    out[#out + 1] = ""
    out[#out + 1] = i18n.t("help.methods", name)
    out[#out + 1] = wrap(table.concat(names, " "), "  ", 78)
  end
  return table.concat(out, "\n")
end

-- The documentation text for a name ("tensor.zeros", "Tensor", "tensor").
local function text_for_name(name)
  parse()
  for _, s in ipairs(sections) do
    if s.name == name then return section_text(s) end
  end
  local e = docs[name]
  if not e then return nil end
  if not name:find("[.:]") and e.section and e.section.name ~= name then return type_text(name) end
  return entry_text(e)
end

local function overview()
  parse()
  local out = { "nnlab " .. tostring(rawget(_G, "nnlab") and nnlab.version or ""), "",
    wrap(sections[1].desc, "  ", 78), "", i18n.t("help.modules") }
  for i = 2, #sections do
    out[#out + 1] = string.format("  %-8s %s", sections[i].name, sections[i].title)
  end
  out[#out + 1] = ""
  out[#out + 1] = i18n.t("help.try")
  return table.concat(out, "\n")
end

local function suggestions(name)
  parse()
  local last = name:match("([%w_]+)$") or name
  local found = {}
  for _, e in ipairs(order) do
    local tail = e.name:match("([%w_]+)$")
    if tail == last or (#last >= 3 and e.name:lower():find(last:lower(), 1, true)) then
      found[#found + 1] = e.name
    end
  end
  return found
end

-- The text help(x) prints.
function M.text(...)
  parse()
  if select("#", ...) == 0 then return overview() end
  local x = ...
  local tx = type(x)
  if tx == "string" then
    local t = text_for_name(x) or text_for_name((x:gsub("^(%u[%w_]*)%.([%w_]+)$", "%1:%2")))
    if t then return t end
    local near = suggestions(x)
    return string.format('help: no documentation for "%s"%s', x,
      #near > 0 and (" (did you mean " .. table.concat(near, ", ") .. "?)") or
      ' (expected a public name such as "tensor.zeros" or "Model:fit"; help() lists the modules)')
  end
  if tx == "table" and x == M then return text_for_name("help") end
  for _, mname in ipairs(MODULES) do
    if rawget(_G, mname) == x and tx == "table" then return text_for_name(mname) end
  end
  if tx == "function" then
    local n = build_reverse()[x]
    if n then return entry_text(docs[n]) end
    return "help: this function is not part of nnlab's public API (no documentation)"
  end
  if tx == "userdata" or tx == "table" then
    local T = type_of(x)
    if not T and tx == "table" and type(rawget(x, "layers")) == "table" then T = "Model" end
    if not T and tx == "table" and rawget(x, "X") ~= nil and rawget(x, "y") ~= nil then T = "Dataset" end
    local n = T and type_doc_name(T)
    if n then
      if n:find("^nn%.") then return entry_text(docs[n]) .. "\n\n" .. type_text("Layer") end
      return type_text(n)
    end
  end
  return string.format("help: no documentation for a %s value (expected a module, a function, an object of nnlab or a name)", tx)
end

function M.signature_of(f)
  local n = build_reverse()[f]
  return n and docs[n].sig or nil
end

function M.names()
  parse()
  local out = {}
  for i, e in ipairs(order) do out[i] = e.name end
  return out
end

function M.missing()
  parse()
  local out = {}
  for _, item in ipairs(public_functions()) do
    if not doc_for(item) then out[#out + 1] = item.name end
  end
  return out
end

-- The API reference as Markdown (docs/api.md).
function M.markdown()
  parse()
  local out = { "# nnlab API reference", "",
    "Generated from `lua/help.lua` by `help.write_markdown`; in the REPL, `help(x)` prints the same text.", "" }
  for _, s in ipairs(sections) do
    out[#out + 1] = string.format("- [%s — %s](#%s--%s)", s.name, s.title, s.name, s.title:lower():gsub("%s+", "-"))
  end
  out[#out + 1] = ""
  for _, s in ipairs(sections) do
    out[#out + 1] = "## " .. s.name .. " — " .. s.title
    out[#out + 1] = ""
    out[#out + 1] = s.desc
    out[#out + 1] = ""
    for _, e in ipairs(s.entries) do
      out[#out + 1] = "### `" .. e.sig .. "`"
      out[#out + 1] = ""
      out[#out + 1] = e.desc
      out[#out + 1] = ""
      if #e.example > 0 then
        out[#out + 1] = "```lua"
        for _, l in ipairs(e.example) do out[#out + 1] = l end
        out[#out + 1] = "```"
        out[#out + 1] = ""
      end
    end
  end
  return table.concat(out, "\n")
end

function M.write_markdown(path)
  if type(path) ~= "string" then
    error(string.format("help.write_markdown: expected a file path (string), got %s", type(path)), 2)
  end
  local ok, err = require("_plot").write(path, M.markdown()) -- temporary file, then rename
  if not ok then error("help.write_markdown: " .. err, 2) end
  return true
end

return setmetatable(M, {
  __call = function(_, ...) print(M.text(...)) end,
  __tostring = function() return "help: help() for an overview, help(x) for the documentation of x" end,
})
