---es # Lección 4: redes convolucionales en CIFAR-10
---en # Lesson 4: convolutional networks on CIFAR-10
---
---es La lección 2 terminó en un 50 % con una capa oculta y una observación:
---es una red que mira la imagen *aplanada* no sabe qué píxeles son vecinos.
---es Aquí construimos la red pequeña de la demo de CIFAR-10 de ml4a /
---es ConvNetJS (la que enlaza la clase) y nos acercamos a su matriz de
---es confusión del 79 %.
---en Lesson 2 ended at 50% with a hidden layer and a remark: a network that
---en looks at the *flattened* image does not know which pixels are
---en neighbours. Here we build the small network of the ml4a / ConvNetJS
---en CIFAR-10 demo (the one the class links to) and come close to its 79%
---en confusion matrix.
local train, test = data.cifar10()
if lesson.quick then
  train = data.subset(train, 5000)
  test = data.subset(test, 1000)
end
print(train)
print(test)

---es ## 1. Aplanar olvida a los vecinos
---en ## 1. Flattening forgets the neighbours
---es Desordenemos los 3072 valores de cada imagen, con **la misma**
---es permutación para todas. Para nosotros las fotos se vuelven ruido...
---en Let us shuffle the 3072 values of every image, with **the same**
---en permutation for all of them. To us the photos turn into noise...
local N, Nt = train.X:size(1), test.X:size(1)
local p = {}
for i = 1, 3072 do p[i] = i end
local r = tensor.rand(3072) -- the seeded generator: the same shuffle every run
for i = 3072, 2, -1 do
  local j = math.floor(r[i] * i) + 1
  p[i], p[j] = p[j], p[i]
end
local perm = tensor.new(p, "int32")
local function shuffled(X, n) -- the columns of the n x 3072 matrix, in the order perm gives
  return X:reshape(n, 3072):t():index(perm):t():contiguous():reshape(n, 32, 32, 3)
end
local trainP, testP = shuffled(train.X, N), shuffled(test.X, Nt)
plot.grid(tensor.cat({train.X:narrow(1, 1, 6), trainP:narrow(1, 1, 6)}, 1), {cols = 6,
  title = lesson.t{es = "arriba las fotos, abajo los mismos píxeles desordenados",
                   en = "top: the photos; below: the same pixels, shuffled"}})

---es ...pero a un clasificador lineal le da igual: aprende lo mismo con los
---es píxeles desordenados, porque nunca supo cuáles estaban juntos.
---en ...but a linear classifier does not care: it learns the same from the
---en shuffled pixels, because it never knew which ones were together.
local function linear_accuracy(Xtr, Xte)
  local m = nn.Sequential{nn.Rescaling(1 / 127.5, -1), nn.Flatten(), nn.Dense(10, "softmax")}
  m:compile{optimizer = optim.sgd{lr = 0.001, momentum = 0.9}, loss = "cross_entropy", metrics = {"accuracy"}}
  m:fit(Xtr, train.y, {epochs = 3, batch_size = 64, verbose = 0})
  return m:evaluate(Xte, test.y).accuracy
end
local acc_plain, acc_shuffled = linear_accuracy(train.X, test.X), linear_accuracy(trainP, testP)
print(lesson.t({es = "lineal: %.1f%% con las fotos, %.1f%% con los píxeles desordenados",
                en = "linear: %.1f%% on the photos, %.1f%% on the shuffled pixels"},
  100 * acc_plain, 100 * acc_shuffled))
lesson.expect("shuffling the pixels changes little for a linear model", math.abs(acc_plain - acc_shuffled),
  {max = lesson.quick and 0.06 or 0.03})
trainP, testP = nil, nil
collectgarbage()

---es ## 2. Una convolución a mano
---en ## 2. A convolution by hand
---es Una convolución pasa un filtro pequeño (aquí 3×3) por toda la imagen:
---es cada píxel de la salida es la suma de los 9 vecinos multiplicados por
---es los pesos del filtro. El filtro de Sobel de abajo responde a los
---es **bordes verticales**: claro a un lado, oscuro al otro.
---en A convolution slides a small filter (here 3×3) over the whole image:
---en each output pixel is the sum of its 9 neighbours times the filter's
---en weights. The Sobel filter below responds to **vertical edges**: light
---en on one side, dark on the other.
local k = 8
local img = test.X[k]:float():mean(3):reshape(32, 32) / 255 -- grey, 0..1
local sobel = tensor.new({{-1, 0, 1}, {-2, 0, 2}, {-1, 0, 1}})
local edges = tensor.zeros(30, 30)
for i = 1, 3 do
  for j = 1, 3 do
    edges = edges + img:narrow(1, i, 30):narrow(2, j, 30) * sobel[i][j]
  end
end
plot.image(img, {title = test.classes[test.y[k]]})
plot.image(edges, {palette = "diverging",
  title = lesson.t{es = "Sobel: bordes verticales (30×30)", en = "Sobel: vertical edges (30×30)"}})

---es Lo mismo con una capa `Conv2D` de un filtro, con nuestros pesos
---es (`W` es alto × ancho × canales de entrada × filtros, como en Keras):
---en The same with a `Conv2D` layer of one filter, given our weights (`W` is
---en height × width × input channels × filters, as in Keras):
local conv = nn.Conv2D(1, 3)
local one = nn.Sequential{conv}
one:forward(img:reshape(1, 32, 32, 1)) -- builds W and b from the input's shape
conv.W = sobel:reshape(3, 3, 1, 1)
conv.b = tensor.zeros(1)
local by_layer = one:forward(img:reshape(1, 32, 32, 1)):reshape(30, 30)
local diff = (by_layer - edges):abs():max()
print(lesson.t({es = "diferencia máxima entre la capa y la cuenta a mano: %g",
                en = "largest difference between the layer and the sum by hand: %g"}, diff))
lesson.expect("Conv2D computes the sum by hand", diff, {max = 1e-5})

---es ## 3. Pooling
---en ## 3. Pooling
---es `MaxPool2D(2)` se queda con el máximo de cada cuadro de 2×2: el mapa de
---es bordes pasa de 30×30 a 15×15 y conserva dónde hay bordes fuertes, aunque
---es se muevan un píxel. Cada bloque de la red convolucional reduce así el
---es tamaño y amplía lo que ve cada neurona.
---en `MaxPool2D(2)` keeps the largest value of every 2×2 square: the edge
---en map goes from 30×30 to 15×15 and keeps where the strong edges are, even
---en if they move by a pixel. Each block of the convolutional network shrinks
---en the size this way and widens what each neuron sees.
local pool = nn.Sequential{nn.MaxPool2D(2)}
local pooled = pool:forward(edges:abs():reshape(1, 30, 30, 1))
print("edges:", table.concat(edges:shape(), "x"), "->", table.concat(pooled:shape(), "x"))
plot.image(pooled:reshape(15, 15),
  {title = lesson.t{es = "|bordes| tras MaxPool2D(2) (15×15)", en = "|edges| after MaxPool2D(2) (15×15)"}})

---es ## 4. La red de ml4a / ConvNetJS
---en ## 4. The ml4a / ConvNetJS network
---es Tres bloques de convolución 5×5 (16, 20 y 20 filtros, con relleno para
---es conservar el tamaño) + ReLU + max pooling 2×2, y después 320 → 10 con
---es softmax. Como en la demo, cada foto se voltea al azar y se desplaza
---es hasta 2 píxeles mientras se entrena (**aumento de datos**: el modelo
---es nunca ve dos veces la misma imagen). Añadimos **normalización por
---es lotes** tras cada convolución, que ConvNetJS no tenía: con ella la red
---es llega en 50 épocas (unos 9 minutos) a lo que la demo tardaba horas en conseguir. El
---es resumen muestra cómo cada bloque reduce la imagen a la mitad y los
---es pocos parámetros (unos 23 000, frente a los 197 000 de la lección 2).
---en Three blocks of 5×5 convolution (16, 20 and 20 filters, padded to keep
---en the size) + ReLU + 2×2 max pooling, then 320 → 10 with a softmax. As in
---en the demo, each photo is flipped at random and shifted by up to 2 pixels
---en while training (**data augmentation**: the model never sees the same
---en image twice). We add **batch normalization** after each convolution,
---en which ConvNetJS did not have: with it the network gets in 50 epochs (about 9 minutes)
---en where the demo needed hours. The summary shows each block halving the
---en image and the few parameters (about 23,000, against lesson 2's 197,000).
local function block(filters)
  return nn.Conv2D(filters, 5, {padding = "same"}), nn.BatchNormalization({momentum = 0.9}),
         nn.ReLU(), nn.MaxPool2D(2)
end
local layers = {nn.Rescaling(1 / 127.5, -1), nn.RandomFlip("horizontal"), nn.RandomTranslation(2 / 32, 2 / 32)}
for _, f in ipairs({16, 20, 20}) do
  for _, l in ipairs({block(f)}) do layers[#layers + 1] = l end
end
layers[#layers + 1] = nn.Flatten()
layers[#layers + 1] = nn.Dense(10, "softmax")
local model = nn.Sequential(layers)
model:predict(train.X:narrow(1, 1, 1)) -- one image through it: the layers learn their sizes
model:compile{
  optimizer = optim.sgd{lr = 0.025, momentum = 0.9, nesterov = true, weight_decay = 5e-4},
  loss = "cross_entropy",
  metrics = {"accuracy"},
}
model:summary()

---es Descenso por gradiente con momento de Nesterov, una tasa de aprendizaje
---es que baja en coseno de 0,025 a 0 a lo largo del entrenamiento, y lotes
---es de 32. Vigilamos la exactitud en prueba época a época (sin usarla para
---es decidir nada).
---en Gradient descent with Nesterov momentum, a learning rate that falls
---en along a cosine from 0.025 to 0 over the training, and batches of 32. We
---en watch the test accuracy epoch by epoch (without using it to decide
---en anything).
local hist = model:fit(train.X, train.y, {
  epochs = lesson.quick and 3 or 50,
  batch_size = 32,
  lr_schedule = "cosine",
  validation_data = {test.X, test.y},
})
plot.history(hist)

local probs = model:predict(test.X)
local pred = probs:argmax(2)
local acc = metrics.accuracy(pred, test.y)
print(lesson.t({es = "exactitud de la red convolucional en prueba: %.2f%%  (lección 2: alrededor del 50%%)",
                en = "convolutional network test accuracy: %.2f%%  (lesson 2: about 50%%)"}, 100 * acc))
lesson.expect("convolutional test accuracy", acc, lesson.quick and {min = 0.30} or {min = 0.77})

---es ## 5. La matriz de confusión de la clase
---en ## 5. The class's confusion matrix
---es Al lado de cada clase, la sensibilidad que mostró la clase (la demo de
---es ConvNetJS, 79 % en total).
---en Beside each class, the recall the class showed (the ConvNetJS demo, 79%
---en in all).
local cm = metrics.confusion(test.y, pred, test.classes)
print(cm)
plot.confusion(cm, {percent = true})
local course = {85, 91, 67, 56, 77, 73, 84, 85, 84, 87}
local recall, precision = cm:recall(), cm:precision()
print(lesson.t({es = "%-10s %8s %8s %8s", en = "%-10s %8s %8s %8s"}, "",
  lesson.t{es = "sensib.", en = "recall"}, lesson.t{es = "clase", en = "course"},
  lesson.t{es = "precisión", en = "precision"}))
for i, name in ipairs(test.classes) do
  print(string.format("%-10s %7.1f%% %7d%% %7.1f%%", name, 100 * recall[i], course[i], 100 * precision[i]))
end

---es En la clase, **gato** era la clase más difícil, **coche** la más fácil,
---es y perro y gato el par que más se confundía. ¿Y aquí?
---en In the class, **cat** was the hardest class, **automobile** the easiest,
---en and dog and cat the most confused pair. And here?
local hardest, easiest = 1, 1
for i = 2, #test.classes do
  if recall[i] < recall[hardest] then hardest = i end
  if recall[i] > recall[easiest] then easiest = i end
end
print(lesson.t({es = "la más difícil: %s (%.1f%%); la más fácil: %s (%.1f%%)",
                en = "hardest: %s (%.1f%%); easiest: %s (%.1f%%)"},
  test.classes[hardest], 100 * recall[hardest], test.classes[easiest], 100 * recall[easiest]))
print(cm:most_confused(5))

---es ### Los ejemplos más seguros de cada celda
---en ### The most confident examples of each cell
---es Como la vista "top samples" de la demo: en cada celda, la foto que la
---es red clasificó así con más seguridad. La diagonal son aciertos; fuera de
---es ella, los errores de los que la red estaba más convencida.
---en Like the demo's "top samples" view: in each cell, the photo the network
---en put there most confidently. The diagonal holds hits; off it, the
---en mistakes the network was most sure of.
plot.confusion_examples(test.X, test.y, probs, test.classes)
plot.mistakes(test.X, test.y, probs, test.classes, {n = 16})

---es ## 6. Qué ha aprendido
---en ## 6. What it learned
---es Los 16 filtros de la primera capa, como imágenes en color de 5×5:
---es detectores de bordes con distintas orientaciones y de manchas de color.
---en The 16 filters of the first layer, as 5×5 colour images: detectors of
---en edges at several orientations and of colour blobs.
local first = model.layers[4]
plot.weights(first.W:reshape(5 * 5 * 3, 16), {shape = {5, 5, 3}, cols = 8,
  title = lesson.t{es = "los 16 filtros 5×5×3 de la primera capa", en = "the 16 5×5×3 filters of the first layer"}})

---es Y lo que ve la red de una foto de prueba tras cada bloque: 16 mapas de
---es 16×16, 20 de 8×8 y 20 de 4×4, cada vez más pequeños y más abstractos.
---en And what the network sees of one test photo after each block: 16 maps
---en of 16×16, 20 of 8×8 and 20 of 4×4, ever smaller and more abstract.
local x = test.X:narrow(1, k, 1)
plot.grid(x, {labels = {test.classes[test.y[k]]}})
local acts = model:activations(x)
for b, at in ipairs({7, 11, 15}) do
  local c = acts[at]:size(4)
  plot.feature_maps(acts[at], {title = lesson.t({es = "%d mapas tras el bloque %d", en = "%d feature maps after block %d"}, c, b)})
end
