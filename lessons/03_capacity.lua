---es # Lección 3: capacidad y sobreajuste
---en # Lesson 3: capacity and overfitting
---
---es Una red con más neuronas o más capas puede representar funciones más
---es complicadas: tiene más **capacidad**. Pero con más capacidad también
---es puede *memorizar* el conjunto de entrenamiento en vez de aprender lo que
---es generaliza. Lo veremos comparando la curva de entrenamiento con la de
---es **validación**, sobre 10 000 fotos de CIFAR-10 para que se vea pronto.
---en A network with more neurons or more layers can represent more
---en complicated functions: it has more **capacity**. But more capacity also
---en lets it *memorise* the training set instead of learning what
---en generalises. We will see it by comparing the training curve with the
---en **validation** curve, on 10,000 CIFAR-10 photos so that it shows early.
local train, test = data.cifar10()
train = data.subset(train, lesson.quick and 4000 or 10000)
test = data.subset(test, lesson.quick and 1000 or 5000)
print(lesson.t{es = "entrenamiento:", en = "train:"}, train.X:size(1), lesson.t{es = "prueba:", en = "test:"}, test.X:size(1))

local EPOCHS = lesson.quick and 8 or 25

-- Builds, trains and evaluates one network; returns its history and test accuracy.
local function experiment(name, layers)
  local model = nn.Sequential(layers)
  model:compile{
    optimizer = optim.sgd{lr = 0.01, momentum = 0.9},
    loss = "cross_entropy",
    metrics = {"accuracy"},
  }
  print("== " .. name)
  local hist = model:fit(train.X, train.y, {epochs = EPOCHS, batch_size = 64, validation_split = 0.2})
  local acc = model:evaluate(test.X, test.y).accuracy
  print(lesson.t({es = "%s: entrenamiento %.1f%%  validación %.1f%%  prueba %.1f%%",
                  en = "%s: train %.1f%%  validation %.1f%%  test %.1f%%"}, name,
    100 * hist.accuracy[#hist.accuracy], 100 * hist.val_accuracy[#hist.val_accuracy], 100 * acc))
  return hist, acc
end

-- The epoch with the lowest validation loss: after it, the model overfits.
local function best_epoch(hist)
  local best = 1
  for e = 2, #hist.val_loss do
    if hist.val_loss[e] < hist.val_loss[best] then best = e end
  end
  return best
end

---es ## 1. Una capa oculta de 112 neuronas
---en ## 1. One hidden layer of 112 neurons
---es Casi el doble de neuronas que en la lección 2.
---en Almost twice as many neurons as in lesson 2.
local wide, wide_acc = experiment("Dense(112)", {
  nn.Rescaling(1 / 127.5, -1), nn.Flatten(),
  nn.Dense(112, "relu"),
  nn.Dense(10, "softmax"),
})
local TRAIN, VALIDATION = lesson.t{es = "entrenamiento", en = "training"}, lesson.t{es = "validación", en = "validation"}
local EPOCH = lesson.t{es = "época", en = "epoch"}
plot.lines({[TRAIN] = wide.loss, [VALIDATION] = wide.val_loss},
  {title = lesson.t{es = "Dense(112): pérdida", en = "Dense(112): loss"}, xlabel = EPOCH,
   ylabel = lesson.t{es = "entropía cruzada", en = "cross-entropy"}})

---es La pérdida de entrenamiento baja sin parar, pero la de validación deja
---es de bajar y empieza a **subir**: a partir de ahí el modelo aprende
---es detalles de sus fotos de entrenamiento que no sirven para fotos nuevas.
---en The training loss keeps going down, but the validation loss stops
---en falling and starts to **rise**: from then on the model learns details of
---en its training photos that do not help with new ones.
local wide_best = best_epoch(wide)
local gap = wide.accuracy[#wide.accuracy] - wide.val_accuracy[#wide.val_accuracy]
print(lesson.t({es = "pérdida de validación mínima en la época %d de %d; distancia final entre entrenamiento y validación: %.1f puntos",
                en = "lowest validation loss at epoch %d of %d; final train-validation gap %.1f points"},
  wide_best, #wide.val_loss, 100 * gap))
lesson.expect("overfitting starts before the last epoch", wide_best, {max = EPOCHS - 1})
lesson.expect("train accuracy ends above validation", gap, {min = lesson.quick and 0.05 or 0.15})

---es ## 2. Dos capas ocultas
---en ## 2. Two hidden layers
---es Más capas dan más capacidad con pocos parámetros más: 112 neuronas y
---es luego 64.
---en More layers give more capacity for few extra parameters: 112 neurons
---en and then 64.
local deep, deep_acc = experiment("Dense(112) + Dense(64)", {
  nn.Rescaling(1 / 127.5, -1), nn.Flatten(),
  nn.Dense(112, "relu"),
  nn.Dense(64, "relu"),
  nn.Dense(10, "softmax"),
})
local ACCURACY = lesson.t{es = "exactitud", en = "accuracy"}
plot.lines({[TRAIN] = deep.accuracy, [VALIDATION] = deep.val_accuracy},
  {title = "Dense(112) + Dense(64): " .. ACCURACY, xlabel = EPOCH, ylabel = ACCURACY})
print(lesson.t({es = "pérdida de validación mínima en la época %d", en = "lowest validation loss at epoch %d"},
  best_epoch(deep)))

---es ## 3. Dropout
---en ## 3. Dropout
---es `Dropout(p)` apaga al azar una fracción `p` de las neuronas en cada lote
---es de entrenamiento (y ninguna al evaluar). La red no puede fiarse de una
---es neurona concreta y memoriza menos: la separación entre entrenamiento y
---es validación se reduce.
---en `Dropout(p)` switches off a random fraction `p` of the neurons in each
---en training batch (and none when evaluating). The network cannot rely on
---en any single neuron and memorises less: the gap between training and
---en validation shrinks.
local drop, drop_acc = experiment("Dense(112) + Dropout(0.5)", {
  nn.Rescaling(1 / 127.5, -1), nn.Flatten(),
  nn.Dense(112, "relu"),
  nn.Dropout(0.5),
  nn.Dense(10, "softmax"),
})
local NO = lesson.t{es = "sin dropout", en = "no dropout"}
plot.lines({[TRAIN .. ", " .. NO] = wide.accuracy, [VALIDATION .. ", " .. NO] = wide.val_accuracy,
            [TRAIN .. ", dropout"] = drop.accuracy, [VALIDATION .. ", dropout"] = drop.val_accuracy},
  {title = lesson.t{es = "Dropout reduce la distancia", en = "Dropout narrows the gap"}, xlabel = EPOCH,
   ylabel = ACCURACY})

local drop_gap = drop.accuracy[#drop.accuracy] - drop.val_accuracy[#drop.val_accuracy]
print(lesson.t({es = "distancia entre entrenamiento y validación: %.1f puntos sin dropout, %.1f con él",
                en = "train-validation gap: %.1f points without dropout, %.1f with"}, 100 * gap, 100 * drop_gap))
print(lesson.t({es = "exactitud en prueba: Dense(112) %.1f%%, dos capas %.1f%%, con dropout %.1f%%",
                en = "test accuracy: Dense(112) %.1f%%, two layers %.1f%%, with dropout %.1f%%"},
  100 * wide_acc, 100 * deep_acc, 100 * drop_acc))
lesson.expect("dropout narrows the train-validation gap", gap - drop_gap, {min = 0.02})

---es Más capacidad solo ayuda si hay datos para llenarla. Con pocos datos,
---es la curva de validación dice cuándo parar (*early stopping*) y técnicas
---es como Dropout frenan la memorización.
---en More capacity only helps when there is data to fill it. With little
---en data, the validation curve tells when to stop (*early stopping*), and
---en techniques such as Dropout hold memorisation back.
