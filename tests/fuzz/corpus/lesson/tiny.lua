--- # Tiny lesson
---es Una lección **pequeña** para probar el `runner`: cada párrafo se ajusta al ancho de la terminal aunque sea largo, muy largo, larguísimo.
---en A **small** lesson to try the `runner`: every paragraph is wrapped to the width of the terminal even when it is long, very long, really long.
local squares = {}
for i = 1, 3 do squares[i] = i * i end
print("squares", table.concat(squares, " "))

---
---es ## Suma
---en ## Sum
--- - a list item
local total = 0
for _, v in ipairs(squares) do total = total + v end
io.write("total = ", total, "\n")
lesson.expect("sum of squares", total, 14)
lesson.expect("quick flag", lesson.quick, false)

---es Fin.
---en The end.
