---es # Lección 2: CIFAR-10, del clasificador lineal a una capa oculta
---en # Lesson 2: CIFAR-10, from a linear classifier to a hidden layer
---
---es Con MNIST, un clasificador lineal acierta el 92 %. Las fotos de CIFAR-10
---es son mucho más difíciles: el mismo objeto aparece con cualquier fondo,
---es tamaño, postura y color. Primero veremos hasta dónde llega el modelo
---es lineal y después añadiremos una **capa oculta de 64 neuronas ReLU**.
---en On MNIST a linear classifier gets 92% right. CIFAR-10 photos are much
---en harder: the same object appears on any background, at any size, pose
---en and colour. First we see how far the linear model gets, then we add a
---en **hidden layer of 64 ReLU neurons**.
local train, test = data.cifar10()
if lesson.quick then
  train = data.subset(train, 10000)
  test = data.subset(test, 2000)
end
print(train)
print(test)

---es ## 1. El clasificador lineal
---en ## 1. The linear classifier
---es Igual que en la lección 1, ahora con 32 · 32 · 3 = 3072 entradas. Los
---es píxeles se llevan a [-1, 1] (`Rescaling(1/127.5, -1)`): centrar los
---es datos en 0 ayuda mucho al descenso por gradiente.
---en As in lesson 1, now with 32 · 32 · 3 = 3072 inputs. The pixels are
---en mapped to [-1, 1] (`Rescaling(1/127.5, -1)`): centring the data on 0
---en helps gradient descent a lot.
local linear = nn.Sequential{
  nn.Rescaling(1 / 127.5, -1),
  nn.Flatten(),
  nn.Dense(10, "softmax"),
}
linear:compile{
  optimizer = optim.sgd{lr = 0.001, momentum = 0.9},
  loss = "cross_entropy",
  metrics = {"accuracy"},
}
local hist_linear = linear:fit(train.X, train.y, {
  epochs = lesson.quick and 3 or 5,
  batch_size = 64,
  validation_split = 0.1,
})
plot.history(hist_linear)

local linear_acc = linear:evaluate(test.X, test.y).accuracy
print(lesson.t({es = "exactitud del modelo lineal en prueba: %.2f%%  (al azar: 10%%)",
                en = "linear test accuracy: %.2f%%  (chance: 10%%)"}, 100 * linear_acc))
lesson.expect("linear test accuracy", linear_acc, lesson.quick and {min = 0.30, max = 0.45} or {min = 0.36, max = 0.43})

---es Alrededor del **38-40 %**: muy lejos del 92 % de MNIST, pero casi cuatro
---es veces mejor que adivinar al azar (10 %).
---en Around **38-40%**: far from MNIST's 92%, but almost four times better
---en than guessing at random (10%).
local linear_pred = linear:predict(test.X):argmax(2)
local linear_cm = metrics.confusion(test.y, linear_pred, test.classes)
print(linear_cm)
plot.confusion(linear_cm)

---es ### Las 10 plantillas en color
---en ### The 10 colour templates
---es Cada columna de `W` (3072×10) es una imagen de 32×32×3: la "foto" que
---es el modelo busca para cada clase. Tienen mucho ruido (cada píxel se
---es aprende por separado), pero se adivinan formas: el centro verde de la
---es rana, la mancha rojiza del coche y del caballo, el azul de abajo en el
---es barco.
---en Each column of `W` (3072×10) is a 32×32×3 image: the "photo" the model
---en looks for in each class. They are noisy (each pixel is learned on its
---en own), but shapes show through: the green centre of frog, the reddish
---en blob of automobile and horse, the blue at the bottom of ship.
local W = linear.layers[3].W
print("W:", table.concat(W:shape(), " x "), "->", table.concat(W:reshape(32, 32, 3, 10):shape(), " x "))
plot.weights(W, {shape = {32, 32, 3}, labels = train.classes, cols = 5})

---es ## 2. Una capa oculta de 64 neuronas
---en ## 2. A hidden layer of 64 neurons
---es Entre la entrada y la salida ponemos 64 neuronas con activación ReLU
---es (`max(0, z)`). Cada neurona aprende su propio detector y la capa de
---es salida combina los 64 resultados: ya no hay una única plantilla por
---es clase. Son 3072 · 64 + 64 + 64 · 10 + 10 = 197 322 parámetros.
---en Between input and output we put 64 neurons with a ReLU activation
---en (`max(0, z)`). Each neuron learns its own detector and the output layer
---en combines the 64 results: there is no longer a single template per
---en class. That is 3072 · 64 + 64 + 64 · 10 + 10 = 197,322 parameters.
local model = nn.Sequential{
  nn.Rescaling(1 / 127.5, -1),
  nn.Flatten(),
  nn.Dense(64, "relu"),
  nn.Dense(10, "softmax"),
}
model:compile{
  optimizer = optim.sgd{lr = 0.002, momentum = 0.9},
  loss = "cross_entropy",
  metrics = {"accuracy"},
}
local hist = model:fit(train.X, train.y, {
  epochs = lesson.quick and 6 or 20,
  batch_size = 64,
  validation_split = 0.1,
})
model:summary()
plot.history(hist)

local acc = model:evaluate(test.X, test.y).accuracy
print(lesson.t({es = "exactitud con capa oculta en prueba: %.2f%%  (lineal: %.2f%%)",
                en = "hidden layer test accuracy: %.2f%%  (linear: %.2f%%)"}, 100 * acc, 100 * linear_acc))
lesson.expect("hidden test accuracy", acc, lesson.quick and {min = 0.36, max = 0.55} or {min = 0.46, max = 0.56})
lesson.expect("the hidden layer beats the linear model", acc - linear_acc, {min = lesson.quick and 0.0 or 0.05})

---es ### Los pesos de las 64 neuronas
---en ### The weights of the 64 neurons
---es Cada neurona oculta tiene 3072 pesos: también se pueden ver como una
---es imagen de 32×32×3. Sin más, parecen ruido...
---en Each hidden neuron has 3072 weights: they can also be seen as a
---en 32×32×3 image. As they are, they look like noise...
local W1 = model.layers[3].W
print("W1:", table.concat(W1:shape(), " x "))
plot.weights(W1, {shape = {32, 32, 3}, cols = 8})

---es ...pero suavizadas aparecen manchas de color y bordes: cada neurona
---es responde a un patrón de colores en una zona de la imagen.
---en ...but smoothed, colour blobs and edges appear: each neuron responds to
---en a pattern of colours in some region of the image.
plot.weights(W1, {shape = {32, 32, 3}, cols = 8, smooth = true})

---es ## 3. La matriz de confusión, fila a fila
---en ## 3. The confusion matrix, row by row
local pred = model:predict(test.X):argmax(2)
local cm = metrics.confusion(test.y, pred, test.classes)
print(cm)
plot.confusion(cm, {percent = true})

---es Leamos cada fila: cuántas fotos de esa clase acierta (su *sensibilidad*) y con qué
---es otra clase la confunde más.
---en Let us read each row: how many photos of that class it gets right
---en (*recall*) and which other class it takes them for most often.
local recall = cm:recall()
for i, name in ipairs(test.classes) do
  local worst, worst_count = nil, -1
  for j = 1, #test.classes do
    if j ~= i and cm.counts:get(i, j) > worst_count then worst, worst_count = j, cm.counts:get(i, j) end
  end
  print(lesson.t({es = "%-10s sensibilidad %5.1f%%   confundida sobre todo con %-10s (%d veces)",
                  en = "%-10s recall %5.1f%%   most often taken for %-10s (%d times)"},
    name, 100 * recall[i], test.classes[worst], worst_count))
end

---es Los vehículos (avión, coche, barco, camión) y la rana salen mejor que
---es el resto de animales. Las confusiones más frecuentes son entre clases
---es parecidas: **perro y gato**, camión y coche, avión y barco (el cielo y el
---es mar son igual de azules), y los animales sobre fondos verdes y marrones
---es (pájaro, ciervo, rana).
---en Vehicles (airplane, automobile, ship, truck) and frogs do better than
---en the other animals. The most frequent confusions are between similar
---en classes: **dog and cat**, truck and automobile, airplane and ship (sky
---en and sea are just as blue), and the animals on green and brown
---en backgrounds (bird, deer, frog).
print(lesson.t{es = "los pares más confundidos (real → predicha):", en = "the most confused pairs (true → predicted):"})
local pairs_ = cm:most_confused(5)
print(pairs_)

---es ### Ejemplos de sus errores
---en ### Examples of its mistakes
---es Primero errores cualesquiera; después, solo los del par más confundido.
---en First any mistakes; then only those of the most confused pair.
plot.mistakes(test.X, test.y, pred, test.classes, {n = 16})

local top = pairs_[1]
local idx = {}
for i = 1, test.y:numel() do
  if test.y[i] == top["true"] and pred[i] == top.pred then idx[#idx + 1] = i end
end
local sel = tensor.new(idx, "int32")
plot.mistakes(test.X:index(sel), test.y:index(sel), pred:index(sel), test.classes, {n = 8})

---es Muchas de estas fotos también nos harían dudar a nosotros a 32×32
---es píxeles. Una red que mira la imagen *aplanada* no sabe qué píxeles son
---es vecinos: las redes convolucionales, que sí lo saben, llegan al 79 % de
---es la clase con una red pequeña y pasan del 90 % con redes grandes. La
---es lección 4 (`nnlab lessons/04_cifar_cnn.lua`) construye esa red pequeña.
---en Many of these photos would make us hesitate too at 32×32 pixels. A
---en network that looks at the *flattened* image does not know which pixels
---en are neighbours: convolutional networks, which do, reach the class's 79%
---en with a small network and pass 90% with large ones. Lesson 4 (`nnlab
---en lessons/04_cifar_cnn.lua`) builds that small network.
