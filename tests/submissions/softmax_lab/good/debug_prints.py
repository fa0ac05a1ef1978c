"""my lab2 -- still has all my debugging prints in it, sorry!

Loses: none
"""
import torch

print("loading my softmax lab, torch version", torch.__version__)
print("=" * 40)


def softmax(a):
    print("softmax: input shape", a.shape, "max", a.max().item(), "min", a.min().item())
    shifted = a - a.max()
    print("softmax: shifted", shifted.flatten()[:5])
    exps = torch.exp(shifted)
    out = exps / exps.sum()
    print("softmax: output sums to", out.sum().item())
    return out


def linear(x, weight, bias):
    print("linear: x", tuple(x.shape), "weight", tuple(weight.shape), "bias", tuple(bias.shape))
    out = torch.mm(weight, x) + bias
    print("linear: out", out.t())
    return out


def loss(label, predictions):
    print("loss: label =", label)
    print(predictions)
    value = -torch.log(predictions[label])
    print("loss value:", value)
    return value


def loss_softmax_backward(label, predictions):
    print("loss_softmax_backward", label, predictions.shape)
    grad = predictions.clone()
    grad[label] -= 1
    print("grad:", grad.flatten())
    return grad


def linear_backward(x, weight, bias, gradOutput):
    print("linear_backward: gradOutput", gradOutput.flatten())
    gradWeight = torch.mm(gradOutput, x.t())
    gradBias = gradOutput.clone()
    print("gradWeight", gradWeight.shape, "gradBias", gradBias.shape)
    print("gradWeight norm", gradWeight.norm().item())
    return gradWeight, gradBias


def loss_backward(label, predictions):
    print("loss_backward: label", label, "p[label]", predictions[label].item())
    grad = torch.zeros_like(predictions)
    grad[label] = -1.0 / predictions[label]
    print("loss_backward: grad", grad.flatten())
    return grad


def softmax_backward(inputTensor, gradOutput):
    print("softmax_backward: in", inputTensor.flatten(), "gradOut", gradOutput.flatten())
    y = softmax(inputTensor)
    result = y * (gradOutput - (y * gradOutput).sum())
    print("softmax_backward: result", result.flatten())
    return result


def color_histogram(img, bins):
    print("color_histogram: img", img.shape, "bins", bins, "range", img.min().item(), img.max().item())
    blocks = []
    for i, channel in enumerate(img):
        values = channel.reshape(-1)
        index = torch.clamp((values * bins).long(), 0, bins - 1)
        counts = torch.bincount(index, minlength=bins).to(img.dtype)
        print("channel", "RGB"[i], "counts", counts.tolist())
        blocks.append(counts / values.numel())
    hist = torch.cat(blocks)
    print("histogram:", hist)
    return hist


def max_margin_loss(label, scores, delta):
    print("max_margin_loss: label", label, "delta", delta)
    print(scores)
    margins = torch.clamp(scores - scores[label] + delta, min=0)
    margins[label] = 0
    print("margins", margins.flatten())
    return margins.sum()


def max_margin_loss_backward(label, scores, delta):
    print("max_margin_loss_backward: label", label, "delta", delta)
    active = (scores - scores[label] + delta > 0).to(scores.dtype)
    active[label] = 0
    print("active", active.flatten())
    grad = active.clone()
    grad[label] = -active.sum()
    print("grad", grad.flatten())
    return grad


print("all functions defined!")
