"""einsum and torch.linalg: norms, solve, inverse, determinant, decompositions, gradients through them."""
import numpy as np
import torch


def show(name, x):
    if isinstance(x, torch.Tensor):
        x = x.detach().reshape(-1).tolist()
    elif not isinstance(x, (list, tuple)):
        x = [x]
    print(name, " ".join(f"{float(v):.6g}" for v in x))


rng = np.random.default_rng(0)
A = torch.from_numpy(rng.standard_normal((4, 4)))
S = A @ A.T + 4 * torch.eye(4, dtype=torch.float64)
b = torch.from_numpy(rng.standard_normal(4))
B = torch.from_numpy(rng.standard_normal((3, 4, 5)))
C = torch.from_numpy(rng.standard_normal((3, 5, 2)))

show("einsum_bmm", torch.einsum("bij,bjk->bik", B, C))
show("einsum_trace", torch.einsum("ii->", S))
show("einsum_outer", torch.einsum("i,j->ij", b, b[:3]))
show("einsum_sum", torch.einsum("bij->j", B))
show("norms", [torch.linalg.norm(A).item(), torch.linalg.norm(A, ord=1).item(), torch.linalg.vector_norm(b, ord=3).item(),
               torch.linalg.matrix_norm(A, ord="fro").item()])
show("solve", torch.linalg.solve(S, b))
show("inv", torch.linalg.inv(S))
show("det", [torch.linalg.det(A).item(), torch.linalg.slogdet(S)[1].item()])
show("cholesky", torch.linalg.cholesky(S))
show("eigvalsh", torch.linalg.eigvalsh(S))
show("svdvals", torch.linalg.svdvals(B[0]))
Q, R = torch.linalg.qr(A)
show("qr_recon", Q @ R - A)
show("lstsq", torch.linalg.lstsq(B[0].T, torch.ones(5, dtype=torch.float64).unsqueeze(1)).solution)
show("pinv", torch.linalg.pinv(B[1]).sum())
show("matrix_power", torch.linalg.matrix_power(S / 10, 3))

X = S.clone().requires_grad_(True)
loss = torch.linalg.solve(X, b).pow(2).sum() + torch.logdet(X)
loss.backward()
show("grad_solve_logdet", X.grad)
W = B[0].clone().requires_grad_(True)
torch.einsum("ij,ij->", W, W).backward()
show("grad_einsum", W.grad - 2 * B[0])
