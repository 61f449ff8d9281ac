---es # Lección 0: una imagen es una matriz de números
---en # Lesson 0: an image is a matrix of numbers
---
---es Para el ordenador, una imagen en escala de grises no es más que una
---es tabla de números: uno por píxel, de 0 (negro) a 255 (blanco). Las redes
---es de esta asignatura no ven filas ni columnas: reciben un **vector**. Por
---es eso, el primer paso es *aplanar* la imagen: poner sus filas una detrás de
---es otra.
---en To a computer, a greyscale image is just a table of numbers: one per
---en pixel, from 0 (black) to 255 (white). The networks of this course do not
---en see rows and columns: they take a **vector**. So the first step is to
---en *flatten* the image: lay its rows one after the other.
---
---es ## Una imagen de 3×3
---en ## A 3×3 image
---es Empecemos por una imagen diminuta de 3×3 píxeles con los valores 0..8.
---en Let us start with a tiny 3×3 image holding the values 0..8.
local img = tensor.arange(9):reshape(3, 3)
print(img)

---es Aplanarla da 9 valores: la fila 1, luego la fila 2, luego la fila 3.
---es El píxel de la fila `i` y la columna `j` acaba en la posición
---es `(i - 1) * 3 + j` del vector.
---en Flattening it gives 9 values: row 1, then row 2, then row 3. The pixel
---en in row `i` and column `j` ends up at position `(i - 1) * 3 + j` of the
---en vector.
local flat = img:flatten()
print(flat)
print(lesson.t{es = "píxel (2, 3) =", en = "pixel (2, 3) ="}, img:get(2, 3), "  flat[6] =", flat[6])
lesson.expect("3x3 image flattens to 9 values", flat:numel(), 9)
lesson.expect("rows one after the other", flat:totable(), {0, 1, 2, 3, 4, 5, 6, 7, 8})
lesson.expect("pixel (2,3) is flat[6]", flat[6], img:get(2, 3))

---es ## MNIST: dígitos de 28×28
---en ## MNIST: 28×28 digits
---es MNIST tiene 60 000 imágenes de entrenamiento y 10 000 de prueba de
---es dígitos escritos a mano, en gris, de 28×28 píxeles. `X` guarda las
---es imágenes (bytes de 0 a 255) e `y` la clase de cada una (1..10: la clase
---es 1 es el dígito "0").
---en MNIST holds 60,000 training and 10,000 test images of handwritten
---en digits, grey, 28×28 pixels. `X` holds the images (bytes from 0 to 255)
---en and `y` the class of each (1..10: class 1 is the digit "0").
local train, test = data.mnist()
print("train.X", table.concat(train.X:shape(), " x "), train.X.dtype)
print("train.y", table.concat(train.y:shape(), " x "), train.y.dtype)
print("test.X ", table.concat(test.X:shape(), " x "))
print(lesson.t{es = "clases", en = "classes"}, table.concat(train.classes, " "))
lesson.expect("MNIST train images", train.X:shape(), {60000, 28, 28})
lesson.expect("MNIST test images", test.X:shape(), {10000, 28, 28})

---es Aplanada, cada imagen de MNIST es un vector de 28 · 28 = **784**
---es valores: la entrada de nuestro primer clasificador.
---en Flattened, each MNIST image is a vector of 28 · 28 = **784** values:
---en the input of our first classifier.
local flat_mnist = train.X:reshape(train.X:size(1), -1)
print(lesson.t{es = "aplanadas:", en = "flattened:"}, table.concat(flat_mnist:shape(), " x "))
lesson.expect("a flattened MNIST image", flat_mnist:size(2), 784)

---es Veamos un ejemplo de cada clase: el primero que aparece de cada dígito.
---en Here is one example of each class: the first one of each digit.
local function first_of_each_class(ds)
  local first, found = {}, 0
  for i = 1, ds.y:numel() do
    local c = ds.y[i]
    if not first[c] then
      first[c], found = i, found + 1
      if found == #ds.classes then break end
    end
  end
  return ds.X:index(tensor.new(first, "int32"))
end
plot.grid(first_of_each_class(train), {labels = train.classes, cols = 5})

---es ## CIFAR-10: fotos en color de 32×32
---en ## CIFAR-10: 32×32 colour photos
---es CIFAR-10 tiene 50 000 fotos de entrenamiento y 10 000 de prueba, de
---es 32×32 píxeles y **3 canales** (rojo, verde, azul), en 10 clases:
---es aviones, coches, pájaros, gatos...
---en CIFAR-10 has 50,000 training and 10,000 test photos of 32×32 pixels
---en with **3 channels** (red, green, blue), in 10 classes: airplanes, cars,
---en birds, cats...
local ctrain, ctest = data.cifar10()
print("train.X", table.concat(ctrain.X:shape(), " x "), ctrain.X.dtype)
print("test.X ", table.concat(ctest.X:shape(), " x "))
print(lesson.t{es = "clases", en = "classes"}, table.concat(ctrain.classes, " "))
lesson.expect("CIFAR-10 train images", ctrain.X:shape(), {50000, 32, 32, 3})

---es Aplanada, cada foto da 32 · 32 · 3 = **3072** valores: casi cuatro
---es veces más que un dígito de MNIST. El píxel de la fila `i`, columna `j`
---es y canal `c` va a la posición `((i - 1) * 32 + (j - 1)) * 3 + c`.
---en Flattened, each photo gives 32 · 32 · 3 = **3072** values: almost four
---en times as many as an MNIST digit. The pixel in row `i`, column `j` and
---en channel `c` goes to position `((i - 1) * 32 + (j - 1)) * 3 + c`.
local flat_cifar = ctrain.X:reshape(ctrain.X:size(1), -1)
print(lesson.t{es = "aplanadas:", en = "flattened:"}, table.concat(flat_cifar:shape(), " x "))
print(lesson.t{es = "píxel (5, 7), verde =", en = "pixel (5, 7), green ="}, ctrain.X[1]:get(5, 7, 2),
      "  flat[1][404] =", flat_cifar[1][((5 - 1) * 32 + (7 - 1)) * 3 + 2])
lesson.expect("a flattened CIFAR-10 image", flat_cifar:size(2), 3072)
lesson.expect("channel order in the vector", flat_cifar[1][((5 - 1) * 32 + (7 - 1)) * 3 + 2],
              ctrain.X[1]:get(5, 7, 2))

plot.grid(first_of_each_class(ctrain), {labels = ctrain.classes, cols = 5})

---es Al aplanar perdemos la forma de la imagen: para la red, el píxel de al
---es lado es una entrada más, igual que uno del otro extremo. Aun así, como
---es veremos en las próximas lecciones, un clasificador lineal sobre estos
---es vectores ya reconoce el 92 % de los dígitos.
---en Flattening loses the shape of the image: to the network, the
---en neighbouring pixel is just another input, like one from the far corner.
---en Even so, as the next lessons show, a linear classifier on these vectors
---en already recognises 92% of the digits.
