"""The unbiased pass@k estimator (Chen et al. 2021), in its numerically stable product form.

1 - C(n-c, k) / C(n, k) overflows floats for realistic n when computed with
binomials; the equivalent product 1 - prod_{i=n-c+1}^{n} (1 - k/i) does not.
"""

from __future__ import annotations

import math


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn from n (c of them correct) is correct."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got n={n}, k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))
