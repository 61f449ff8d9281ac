---es # Lección 1: un clasificador lineal para MNIST
---en # Lesson 1: a linear classifier for MNIST
---
---es El clasificador más sencillo multiplica la imagen aplanada `x` (784
---es valores) por una matriz de pesos `W` (784×10), suma un sesgo `b` y
---es convierte las 10 puntuaciones en probabilidades con **softmax**:
---es `p = softmax(x · W + b)`. La clase predicha es la de mayor probabilidad.
---es Entrenar es ajustar `W` y `b` para que la probabilidad de la clase
---es correcta sea alta (la *entropía cruzada* sea baja).
---en The simplest classifier multiplies the flattened image `x` (784 values)
---en by a weight matrix `W` (784×10), adds a bias `b` and turns the 10 scores
---en into probabilities with **softmax**: `p = softmax(x · W + b)`. The
---en predicted class is the most probable one. Training adjusts `W` and `b`
---en so that the correct class gets a high probability (a low
---en *cross-entropy*).
---
---es ## Los datos
---en ## The data
local train, test = data.mnist()
if lesson.quick then
  train = data.subset(train, 12000)
  test = data.subset(test, 2000)
end
print(train)
print(test)

---es ## El modelo
---en ## The model
---es `Rescaling(1/255)` lleva los píxeles a [0, 1], `Flatten` aplana cada
---es imagen y `Dense(10, "softmax")` es el clasificador lineal: 784 · 10
---es pesos más 10 sesgos.
---en `Rescaling(1/255)` brings the pixels to [0, 1], `Flatten` flattens each
---en image and `Dense(10, "softmax")` is the linear classifier: 784 · 10
---en weights plus 10 biases.
---es Las capas deducen su tamaño de la primera entrada que ven: pasamos una
---es imagen por el modelo y `summary()` muestra cada capa, la forma de su
---es salida y sus parámetros.
---en The layers infer their sizes from the first input they see: we pass one
---en image through the model and `summary()` shows each layer, the shape of
---en its output and its parameters.
local model = nn.Sequential{
  nn.Rescaling(1 / 255),
  nn.Flatten(),
  nn.Dense(10, "softmax"),
}
model:predict(train.X:narrow(1, 1, 1))
model:summary()
model:compile{
  optimizer = optim.sgd{lr = 0.1},
  loss = "cross_entropy",
  metrics = {"accuracy"},
}

---es ## Entrenamiento
---en ## Training
---es Descenso por gradiente estocástico con lotes de 64 imágenes. Guardamos
---es un 10 % del entrenamiento para *validación*: imágenes que el modelo no
---es usa para aprender y que nos dicen cómo generaliza.
---en Stochastic gradient descent on batches of 64 images. We keep 10% of the
---en training set for *validation*: images the model does not learn from,
---en which tell us how well it generalises.
local hist = model:fit(train.X, train.y, {
  epochs = lesson.quick and 3 or 5,
  batch_size = 64,
  validation_split = 0.1,
})
plot.history(hist)

---es Las curvas de entrenamiento y validación van juntas: un modelo lineal
---es tiene poca capacidad y apenas sobreajusta.
---en The training and validation curves stay together: a linear model has
---en little capacity and hardly overfits.
---
---es ## Resultado en el conjunto de prueba
---en ## Result on the test set
local result = model:evaluate(test.X, test.y)
print(lesson.t({es = "pérdida en prueba %.4f, exactitud en prueba %.2f%%",
                en = "test loss %.4f, test accuracy %.2f%%"}, result.loss, 100 * result.accuracy))
lesson.expect("test accuracy", result.accuracy, lesson.quick and {min = 0.87, max = 0.95} or {min = 0.91, max = 0.94})

---es Cerca del **92 %**. Parece mucho, pero veamos *en qué* se equivoca.
---en About **92%**. It sounds like a lot, but let us see *where* it fails.
---
---es ## Matriz de confusión
---en ## Confusion matrix
---es Cada fila es la clase verdadera y cada columna la predicha: la diagonal
---es son los aciertos. La última columna es la *sensibilidad* de cada clase y la
---es última fila la *precisión*.
---en Each row is the true class and each column the predicted one: the
---en diagonal holds the hits. The last column is each class's *recall* and
---en the last row the *precision*.
local pred = model:predict(test.X):argmax(2)
local cm = metrics.confusion(test.y, pred, test.classes)
print(cm)
plot.confusion(cm, {percent = true})
print(lesson.t{es = "Las confusiones más frecuentes (real → predicha):",
               en = "The most frequent confusions (true → predicted):"})
print(cm:most_confused(3))
lesson.expect("confusion matrix agrees with evaluate", cm:accuracy(), result.accuracy)

---es ## Lo que ha aprendido: una plantilla por dígito
---en ## What it learned: one template per digit
---es Cada columna de `W` tiene 784 pesos, uno por píxel: con
---es `W:reshape(28, 28, 10)` cada clase se ve como una imagen de 28×28. En
---es rojo los píxeles que suman a favor de la clase, en azul los que restan.
---es Son *plantillas*: el clasificador compara la imagen con cada una.
---en Each column of `W` has 784 weights, one per pixel: with
---en `W:reshape(28, 28, 10)` each class shows as a 28×28 image. Red pixels
---en count for the class, blue ones against. They are *templates*: the
---en classifier compares the image with each of them.
local W = model.layers[3].W
print("W:", table.concat(W:shape(), " x "))
local templates = W:reshape(28, 28, 10)
print(lesson.t{es = "plantillas:", en = "templates:"}, table.concat(templates:shape(), " x "))
plot.weights(W, {shape = {28, 28}, labels = train.classes, cols = 5})

---es Un único modelo lineal solo puede guardar **una** plantilla por clase:
---es un "7" escrito de otra forma no se parece a ella. Por eso se queda en el
---es 92 %, y por eso en la lección 2 añadiremos una capa oculta.
---en A single linear model can keep only **one** template per class: a "7"
---en written another way does not look like it. That is why it stops at 92%,
---en and why lesson 2 adds a hidden layer.
