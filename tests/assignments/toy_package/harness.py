"""Drivers of the toy package assignment."""


def product_rule(kit, a, b):
    """Gradients of f = a * b + a with the student's Scalar: (df/da, df/db)."""
    Scalar = kit.student.minigrad.value.Scalar
    x, y = Scalar(a), Scalar(b)
    f = x * y + x
    f.backward()
    return float(x.grad), float(y.grad)
