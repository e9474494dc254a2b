#!/usr/bin/python3
"""An independent, deliberately naive implementation of metrics.md in numpy:
dense N x N matrices, full sorts, the HSIC formulas written out literally,
SVCCA by full SVDs. Slow and memory-hungry on purpose: it is the yardstick
prh's blocked implementation is checked against (small N only)."""
import numpy as np


def preprocess(x, clamp=True, q=0.95, exact=False, normalize=True):
    x = np.asarray(x, dtype=np.float64)
    if clamp and q < 1:
        if exact:
            t = np.sort(np.abs(x).ravel())[int(q * x.size)]
        else:
            t = np.quantile(np.abs(x), q, axis=1).mean()
        x = np.clip(x, -t, t)
    if normalize:
        nrm = np.linalg.norm(x, axis=1, keepdims=True)
        x = np.where(nrm > 0, x / np.where(nrm > 0, nrm, 1), 0)
    return x


def knn(x, k):
    g = x @ x.T
    n = len(x)
    out = np.empty((n, k), dtype=np.int64)
    for i in range(n):
        cand = [(-g[i, j], j) for j in range(n) if j != i]
        cand.sort()
        out[i] = [j for _, j in cand[:k]]
    return out


def mutual_knn(na, nb, k):
    return np.mean([len(set(na[i, :k]) & set(nb[i, :k])) / k for i in range(len(na))])


def cycle_knn(na, nb, k):
    n = len(na)
    return np.mean([any(i in na[j, :k] for j in nb[i, :k]) for i in range(n)])


def lcs(a, b):
    dp = np.zeros((len(a) + 1, len(b) + 1), dtype=int)
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            dp[i, j] = dp[i - 1, j - 1] + 1 if a[i - 1] == b[j - 1] else max(dp[i - 1, j], dp[i, j - 1])
    return dp[-1, -1]


def lev(a, b):
    dp = np.zeros((len(a) + 1, len(b) + 1), dtype=int)
    dp[:, 0] = np.arange(len(a) + 1)
    dp[0, :] = np.arange(len(b) + 1)
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            dp[i, j] = min(dp[i - 1, j] + 1, dp[i, j - 1] + 1, dp[i - 1, j - 1] + (a[i - 1] != b[j - 1]))
    return dp[-1, -1]


def lcs_knn(na, nb, k):
    return np.mean([lcs(na[i, :k], nb[i, :k]) / k for i in range(len(na))])


def edit_distance_knn(na, nb, k):
    return 1 - np.mean([lev(na[i, :k], nb[i, :k]) / k for i in range(len(na))])


def hsic_biased(K, L):
    n = len(K)
    H = np.eye(n) - 1.0 / n
    return np.trace(K @ H @ L @ H)


def hsic_unbiased(K, L):
    m = len(K)
    Kt = K.copy()
    np.fill_diagonal(Kt, 0)
    Lt = L.copy()
    np.fill_diagonal(Lt, 0)
    v = (np.sum(Kt * Lt.T) + np.sum(Kt) * np.sum(Lt) / ((m - 1) * (m - 2))
         - 2 * np.sum(Kt @ Lt) / (m - 2))
    return v / (m * (m - 3))


def ratio(kl, kk, ll):
    p = kk * ll
    return float("nan") if p <= 0 else kl / (np.sqrt(p) + 1e-6)


def kernel(x, kind, sigma):
    if kind == "linear":
        return x @ x.T
    d2 = np.sum((x[:, None, :] - x[None, :, :]) ** 2, axis=-1)
    return np.exp(-d2 / (2 * sigma ** 2))


def cka(a, b, kind="linear", sigma=1.0, unbiased=False):
    K, L = kernel(a, kind, sigma), kernel(b, kind, sigma)
    f = hsic_unbiased if unbiased else hsic_biased
    return ratio(f(K, L), f(K, K), f(L, L))


def cknna(a, b, k):
    K, L = a @ a.T, b @ b.T
    n = len(a)

    def mask(x):
        m = np.zeros((n, n))
        for i, row in enumerate(knn(x, k)):
            m[i, row] = 1
        return m

    mk, ml = mask(a), mask(b)
    m = mk * ml
    kl = hsic_unbiased(m * K, m * L)
    kk = hsic_unbiased(mk * K, mk * K)
    ll = hsic_unbiased(ml * L, ml * L)
    return ratio(kl, kk, ll)


def svcca(a, b, cca_dim=10):
    def basis(x):
        x = x - x.mean(axis=0)
        x = x / (x.std(axis=0, ddof=1) + 1e-8)
        u, _, _ = np.linalg.svd(x, full_matrices=False)
        return u[:, :cca_dim]

    s = np.linalg.svd(basis(a).T @ basis(b), compute_uv=False)
    return float(np.mean(s))


def score(a, b, metric, **p):
    """a, b: preprocessed [N, D] arrays."""
    k = p.get("k", 10)
    if metric in ("mutual_knn", "cycle_knn", "lcs_knn", "edit_distance_knn"):
        na, nb = knn(a, k), knn(b, k)
        return globals()[metric](na, nb, k)
    if metric == "cka":
        return cka(a, b, p.get("kernel", "linear"), p.get("sigma", 1.0))
    if metric == "unbiased_cka":
        return cka(a, b, p.get("kernel", "linear"), p.get("sigma", 1.0), unbiased=True)
    if metric == "cknna":
        return cknna(a, b, k)
    if metric == "svcca":
        return svcca(a, b, p.get("cca_dim", 10))
    raise ValueError(metric)
