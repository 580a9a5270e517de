#!/usr/bin/env python3
"""Independent check of the numbers in sql/models.sql and test/models.sql.

Pure Python + mpmath (30 digits), written from the papers' formulas, sharing
no code with src/.  It rebuilds the CDNOW calibration summary from
CDNOW_sample.txt, and prints:
  - log-likelihood and gradient (should be ~0) of BG/NBD, MBG/NBD and
    Gamma-Gamma at the estimates lifecycle reports;
  - P(alive), expected purchases (via mpmath's own hyp2f1), expected spend
    and CLV for the cases the tests use.
Usage: python3 test/reference/models.py [path/to/CDNOW_sample.txt]
"""
import sys
from datetime import date
import mpmath as mp

mp.mp.dps = 30
path = sys.argv[1] if len(sys.argv) > 1 else 'test/fixtures/CDNOW_sample.txt'
END = date(1997, 9, 30)

# Per customer: purchase days (several orders a day are one purchase) and spend per day.
days = {}
for line in open(path):
    f = line.split()
    cust, d, amount = int(f[1]), f[2], mp.mpf(f[4])
    day = date(int(d[:4]), int(d[4:6]), int(d[6:]))
    if day > END:
        continue
    days.setdefault(cust, {}).setdefault(day, mp.mpf(0))
    days[cust][day] += amount

rows = []   # (x, t_x, T, mean spend of repeat days)
by_id = {}
for cust, spend in sorted(days.items()):
    ds = sorted(spend)
    x = len(ds) - 1
    t_x = mp.mpf((ds[-1] - ds[0]).days) / 7
    T = mp.mpf((END - ds[0]).days) / 7
    m = sum(spend[d] for d in ds[1:]) / x if x else mp.mpf(0)
    rows.append((x, t_x, T, m))
    by_id[cust] = rows[-1]

# Repeat purchase days in the 39-week holdout (1997-10-01 to 1998-06-30).
holdout = set()
for line in open(path):
    f = line.split()
    d = f[2]
    day = date(int(d[:4]), int(d[4:6]), int(d[6:]))
    if date(1997, 10, 1) <= day <= date(1998, 6, 30):
        holdout.add((int(f[1]), day))


def bg_ll(r, alpha, a, b, s=0):
    """Sum of the BG/NBD (s=0) or MBG/NBD (s=1) log-likelihoods, eq. (6) of FHL 2005."""
    total = mp.mpf(0)
    for x, t_x, T, _ in rows:
        A1 = mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(alpha)
        A2 = mp.loggamma(a + b) + mp.loggamma(b + x + s) - mp.loggamma(b) - mp.loggamma(a + b + x + s)
        L = (alpha + T) ** (-(r + x))
        if x + s > 0:
            L += a / (b + x + s - 1) * (alpha + t_x) ** (-(r + x))
        total += A1 + A2 + mp.log(L)
    return total


def gg_ll(p, q, g):
    """Sum of the Gamma-Gamma log-likelihoods of the repeat buyers' mean spend."""
    total = mp.mpf(0)
    for x, _, _, m in rows:
        if x == 0:
            continue
        total += (mp.loggamma(p * x + q) - mp.loggamma(p * x) - mp.loggamma(q) + q * mp.log(g)
                  + (p * x - 1) * mp.log(m) + p * x * mp.log(x) - (p * x + q) * mp.log(x * m + g))
    return total


def gradient(f, theta):
    return [mp.diff(lambda v, i=i: f(*(theta[:i] + [v] + theta[i + 1:])), theta[i]) for i in range(len(theta))]


def p_alive(params, x, t_x, T, s=0):
    r, alpha, a, b = params
    if x + s == 0:
        return mp.mpf(1)
    return 1 / (1 + a / (b + x + s - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))


def expected(params, x, t_x, T, t, s=0):
    """FHL 2005 eq. (10) (Batislam et al. for s=1), with mpmath's hyp2f1."""
    r, alpha, a, b = [mp.mpf(v) for v in params]
    A, B, C = r + x, b + x + s, a + b + x + s - 1
    z = mp.mpf(t) / (alpha + T + t)
    bracket = 1 - ((alpha + T) / (alpha + T + t)) ** A * mp.hyp2f1(A, B, C, z)
    if a == 1:   # the limit a -> 1
        return mp.limit(lambda aa: expected((r, alpha, aa, b), x, t_x, T, t, s), 1)
    return C / (a - 1) * bracket * p_alive((r, alpha, a, b), x, t_x, T, s)


def spend(params, x, m):
    p, q, g = params
    return p * (g + x * m) / (p * x + q - 1)


def clv(bg, gg, x, t_x, T, m, periods, length, rate, s=0):
    e = spend(gg, x, m)
    return sum((expected(bg, x, t_x, T, i * length, s) - expected(bg, x, t_x, T, (i - 1) * length, s))
               * e / (1 + rate) ** i for i in range(1, periods + 1))


def fitted(values):
    return [mp.mpf(v) for v in values.split()]


def hessian_se(f, theta):
    """Standard errors from the inverse of the numerical Hessian of -f."""
    n = len(theta)
    h = mp.matrix(n, n)
    for i in range(n):
        for j in range(n):
            def g(u, v, i=i, j=j):
                t = list(theta)
                t[i] += u
                t[j] += v
                return f(*t)
            if i == j:
                h[i, j] = -mp.diff(lambda u: g(u, 0), 0, 2)
            else:
                h[i, j] = -mp.diff(g, (0, 0), (1, 1))
    cov = h ** -1
    return [mp.sqrt(cov[i, i]) for i in range(n)]


if __name__ == '__main__':
    mp.mp.dps = 30
    print('customers', len(rows), 'repeat buyers', sum(1 for r in rows if r[0] > 0))
    # the estimates lifecycle reports (sql/models.sql)
    bg = fitted('0.2425945224291255 4.41360201895131 0.7929220169543877 2.425906775770057')
    mbg = fitted('0.5248431596094024 6.183085282325714 0.8913593895894201 1.6140022357357413')
    gg = fitted('6.249572223645793 3.7442246733165576 15.443521115380362')
    mbg_ll = lambda *t: bg_ll(*t, s=1)
    for name, f, est in (('BG/NBD', bg_ll, bg), ('MBG/NBD', mbg_ll, mbg), ('Gamma-Gamma', gg_ll, gg)):
        print(name, 'LL', mp.nstr(f(*est), 12),
              'gradient', [mp.nstr(g, 3) for g in gradient(f, est)],
              'se', [mp.nstr(v, 6) for v in hessian_se(f, est)])
    paper = [mp.mpf(v) for v in ('0.243', '4.414', '0.793', '2.426')]
    print('customer 1 at the paper parameters: P(alive)', mp.nstr(p_alive(paper, 2, mp.mpf('30.43'), mp.mpf('38.86')), 6),
          'E[39 weeks]', mp.nstr(expected(paper, 2, mp.mpf('30.43'), mp.mpf('38.86'), 39), 6))
    print('new customer at the fit:', [mp.nstr(expected(bg, 0, 0, 0, mp.mpf(t)), 6)
                                       for t in ('0.1429', '1', '3', '31.8571', '32', '78')])
    print('MBG/NBD one-time buyer (0, 0, 38.86): P(alive)', mp.nstr(p_alive(mbg, 0, 0, mp.mpf('38.86'), 1), 6))
    print('customer, P(alive), E[39 weeks], expected spend, CLV(12 x 4.345 weeks, 1%) under BG/NBD + Gamma-Gamma')
    for cust in (1, 2, 3, 6, 9, 18):
        x, t_x, T, m = by_id[cust]
        print(cust, x, mp.nstr(t_x, 6), mp.nstr(T, 6), mp.nstr(m, 6), mp.nstr(p_alive(bg, x, t_x, T), 8),
              mp.nstr(expected(bg, x, t_x, T, 39), 8), mp.nstr(spend(gg, x, m), 8),
              mp.nstr(clv(bg, gg, x, t_x, T, m, 12, mp.mpf('4.345'), mp.mpf('0.01')), 8))
    print('holdout repeat purchase days', len(holdout))
    print('expected purchases where the textbook formula struggles (params, s, x, t_x, T, horizon):')
    for params, s, x, t_x, T, h in (((0.5, 5, 1, 2), 0, 3, 10, 20, 15), ((0.5, 5, 1, 2), 1, 3, 10, 20, 15),
                                    ((0.243, 4.414, 0.793, 2.426), 0, 2, 30.43, 38.86, 1e-9),
                                    ((0.243, 4.414, 0.793, 2.426), 0, 0, 0, 0, 1e5),
                                    ((0.243, 4.414, 1.793, 2.426), 0, 0, 0, 0, 1e5),
                                    ((0.3, 2, 5, 1), 0, 0, 0, 10, 50), ((0.5, 3, 0.3, 0.4), 0, 0, 0, 10, 20),
                                    ((0.5, 3, 0.3, 0.4), 1, 0, 0, 10, 20), ((2.5, 3, 0.3, 0.4), 0, 7, 5, 10, 1000),
                                    ((0.243, 4.414, 0.793, 2.426), 1, 2, 30.43, 38.86, 39)):
        # floats as PostgreSQL parses them: the exact binary value of each literal
        args = [mp.mpf(v) for v in (t_x, T, h)]
        print(' ', params, s, x, t_x, T, h, mp.nstr(expected([mp.mpf(v) for v in params], x, *args, s=s), 17))
    print('BG/NBD sum of E[39 weeks] over all customers',
          mp.nstr(sum(expected(bg, x, t_x, T, 39) for x, t_x, T, _ in rows), 10))
