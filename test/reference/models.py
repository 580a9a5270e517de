#!/usr/bin/env python3
"""Independent check of the numbers in sql/models.sql and test/models.sql.

Pure Python + mpmath (40 digits), written from the papers' formulas, sharing
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

mp.mp.dps = 40
path = sys.argv[1] if len(sys.argv) > 1 else '../shared/datasets/cdnow/CDNOW_sample.txt'
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
for cust, spend in days.items():
    ds = sorted(spend)
    x = len(ds) - 1
    t_x = mp.mpf((ds[-1] - ds[0]).days) / 7
    T = mp.mpf((END - ds[0]).days) / 7
    m = sum(spend[d] for d in ds[1:]) / x if x else mp.mpf(0)
    rows.append((x, t_x, T, m))


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


if __name__ == '__main__':
    print('customers', len(rows), 'repeat buyers', sum(1 for r in rows if r[0] > 0))
    for name, s, est in [('BG/NBD', 0, sys.stdin and None), ('MBG/NBD', 1, None)]:
        pass
    est_bg = [mp.mpf(v) for v in ('0.2425945224291255', '4.41360201895131', '0.7929220169543877', '2.425906775770057')]
    est_mbg = [mp.mpf(v) for v in ('0.5248431596094405', '6.183085282325957', '0.8913593895893378', '1.6140022357354344')]
    est_gg = [mp.mpf(v) for v in ('6.249572223645793', '3.7442246733165576', '15.443521115380362')]
    print('BG/NBD  LL', mp.nstr(bg_ll(*est_bg), 12), 'gradient', [mp.nstr(g, 3) for g in gradient(bg_ll, est_bg)])
    print('MBG/NBD LL', mp.nstr(bg_ll(*est_mbg, s=1), 12), 'gradient',
          [mp.nstr(g, 3) for g in gradient(lambda *t: bg_ll(*t, s=1), est_mbg)])
    print('GG      LL', mp.nstr(gg_ll(*est_gg), 12), 'gradient', [mp.nstr(g, 3) for g in gradient(gg_ll, est_gg)])
