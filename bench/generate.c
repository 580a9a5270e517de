/*
 * generate.c
 *	  Deterministic synthetic orders for the lifecycle benchmark.
 *
 * Writes rows of orders(customer_id bigint, ordered_at timestamptz,
 * amount numeric(12,2)) to stdout in COPY text format (tab-separated, one
 * row a line, times in UTC), by default in time order.  Not part of the
 * extension: bench/run compiles it with gcc.
 *
 * The model (true parameters printed to stderr and by --params):
 *   - customers arrive uniformly over the window, each with a first purchase
 *     on the arrival day; customer ids are in arrival order;
 *   - BG/NBD (Fader, Hardie & Lee 2005) in continuous time: purchase rate
 *     lambda ~ Gamma(r, rate alpha) per day, dropout probability
 *     p ~ Beta(a, b); the first purchase at a uniform instant of the
 *     arrival day, repeat purchases a Poisson process of rate lambda, and
 *     after each repeat purchase the customer drops out with probability p;
 *   - Gamma-Gamma spend (Fader, Hardie & Lee 2005b): nu ~ Gamma(q, rate
 *     gamma), the spend of one purchase ~ Gamma(p, rate nu);
 *   - a purchase is 1, 2 or 3 orders that split its spend, each at a random
 *     minute of the purchase's day (two purchases on one day make one
 *     purchase day in the orders);
 *   - some orders are followed by a refund row (negative, all or part of the
 *     order) 1-14 days later, if that day is still inside the window.
 *
 * --histories FILE also writes each customer's exact history under the
 * model, one tab-separated line a customer: id, x (repeat purchases), t_x
 * and T (days from the first purchase to the last one and to the end of
 * the window, unrounded), and the mean spend of the repeat purchases (0 if
 * none, unrounded).  Fitting the models to these recovers the true
 * parameters within their standard errors; fitting them to summaries of
 * the orders measures in whole days and cents instead.
 *
 * Usage: generate [--customers N] [--seed S] [--start YYYY-MM-DD]
 *                 [--years Y] [--order time|customer] [--histories FILE]
 *                 [--params]
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The true parameters of the model. */
typedef struct Model
{
	double		r;				/* BG/NBD: shape of the purchase rate */
	double		alpha;			/* BG/NBD: rate of the purchase rate, in days */
	double		a;				/* BG/NBD: dropout Beta(a, b) */
	double		b;
	double		gg_p;			/* Gamma-Gamma: shape of one day's spend */
	double		gg_q;			/* Gamma-Gamma: shape of the customer's nu */
	double		gg_gamma;		/* Gamma-Gamma: rate of the customer's nu */
	double		two_orders;		/* share of purchase days with 2 orders */
	double		three_orders;	/* share of purchase days with 3 orders */
	double		refund_rate;	/* share of orders followed by a refund */
	double		full_refund;	/* share of refunds that return the whole order */
	int			refund_max_days;	/* a refund comes 1..this many days later */
} Model;

static const Model model = {
	.r = 0.75, .alpha = 25.0, .a = 0.8, .b = 7.0,
	.gg_p = 6.0, .gg_q = 4.0, .gg_gamma = 30.0,
	.two_orders = 0.12, .three_orders = 0.04,
	.refund_rate = 0.03, .full_refund = 0.5, .refund_max_days = 14,
};

/* Options. */
typedef struct Options
{
	long		customers;
	uint64_t	seed;
	int			start_y,
				start_m,
				start_d;
	int			years;
	int			by_customer;	/* rows in customer order, not time order */
	int			params_only;
	const char *histories;		/* file for the exact histories, or NULL */
} Options;

/* One output row; minute counts from the window's first midnight. */
typedef struct Row
{
	uint32_t	customer;
	uint32_t	minute;
	int32_t		cents;
} Row;

typedef struct Rows
{
	Row		   *row;
	size_t		n,
				cap;
} Rows;

/* Realized totals, for stderr. */
typedef struct Totals
{
	long		purchases,
				orders,
				refunds;
} Totals;

#define MINUTES_PER_DAY 1440

/* ---------- random numbers: xoshiro256** seeded by splitmix64 ---------- */

static uint64_t rng_s[4];

/* The next splitmix64 output; used only to seed xoshiro. */
static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t	z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* The next 64 random bits (xoshiro256**). */
static inline uint64_t
rng_next(void)
{
	uint64_t	result = rotl(rng_s[1] * 5, 7) * 9;
	uint64_t	t = rng_s[1] << 17;

	rng_s[2] ^= rng_s[0];
	rng_s[3] ^= rng_s[1];
	rng_s[1] ^= rng_s[2];
	rng_s[0] ^= rng_s[3];
	rng_s[2] ^= t;
	rng_s[3] = rotl(rng_s[3], 45);
	return result;
}

/* Uniform in [0, 1). */
static inline double
uniform(void)
{
	return (rng_next() >> 11) * 0x1.0p-53;
}

/* Uniform in (0, 1]: safe under log(). */
static inline double
uniform_pos(void)
{
	return ((rng_next() >> 11) + 1) * 0x1.0p-53;
}

/* Uniform integer in [0, n). */
static inline uint32_t
uniform_int(uint32_t n)
{
	return (uint32_t) ((rng_next() >> 32) * n >> 32);
}

/* Standard normal (Box-Muller, both values used). */
static double
normal(void)
{
	static int	have = 0;
	static double spare;
	double		u,
				v,
				radius;

	if (have)
	{
		have = 0;
		return spare;
	}
	u = uniform_pos();
	v = uniform();
	radius = sqrt(-2.0 * log(u));
	spare = radius * sin(2.0 * M_PI * v);
	have = 1;
	return radius * cos(2.0 * M_PI * v);
}

/* Gamma(shape, rate 1): Marsaglia & Tsang, boosted for shape < 1. */
static double
gamma_draw(double shape)
{
	double		d,
				c;

	if (shape < 1.0)
		return gamma_draw(shape + 1.0) * pow(uniform_pos(), 1.0 / shape);
	d = shape - 1.0 / 3.0;
	c = 1.0 / sqrt(9.0 * d);
	for (;;)
	{
		double		x,
					v,
					u;

		do
		{
			x = normal();
			v = 1.0 + c * x;
		} while (v <= 0.0);
		v = v * v * v;
		u = uniform_pos();
		if (u < 1.0 - 0.0331 * x * x * x * x ||
			log(u) < 0.5 * x * x + d * (1.0 - v + log(v)))
			return d * v;
	}
}

/* Beta(a, b) from two gammas. */
static double
beta_draw(double a, double b)
{
	double		x = gamma_draw(a);

	return x / (x + gamma_draw(b));
}

/* ---------- calendar ---------- */

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static long
days_from_civil(int y, int m, int d)
{
	long		era,
				yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The civil date of a day count since 1970-01-01. */
static void
civil_from_days(long z, int *y, int *m, int *d)
{
	long		era,
				doe,
				yoe,
				doy,
				mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = (int) (yoe + era * 400 + (*m <= 2));
}

/* ---------- the model ---------- */

/* Append a row, growing the array. */
static void
rows_add(Rows *rows, uint32_t customer, uint32_t minute, int32_t cents)
{
	if (rows->n == rows->cap)
	{
		rows->cap = rows->cap ? rows->cap * 2 : 1 << 20;
		rows->row = realloc(rows->row, rows->cap * sizeof(Row));
		if (rows->row == NULL)
		{
			fprintf(stderr, "generate: out of memory\n");
			exit(1);
		}
	}
	rows->row[rows->n].customer = customer;
	rows->row[rows->n].minute = minute;
	rows->row[rows->n].cents = cents;
	rows->n++;
}

/* A refund of all or part of an order, a few days later, if still in the window. */
static void
maybe_refund(Rows *rows, Totals *totals, uint32_t customer, int day, int32_t cents,
			 int ndays)
{
	int			refund_day;
	int32_t		refund;

	if (uniform() >= model.refund_rate)
		return;
	refund_day = day + 1 + (int) uniform_int(model.refund_max_days);
	if (refund_day >= ndays || cents == 0)
		return;
	refund = cents;
	if (uniform() >= model.full_refund)
		refund = (int32_t) llround(cents * (0.1 + 0.8 * uniform()));
	if (refund < 1)
		refund = 1;
	rows_add(rows, customer, (uint32_t) refund_day * MINUTES_PER_DAY + uniform_int(MINUTES_PER_DAY),
			 -refund);
	totals->refunds++;
}

/*
 * One purchase: its spend split over 1-3 orders on its day, each maybe
 * refunded.  Returns the spend, unrounded.
 */
static double
purchase(Rows *rows, Totals *totals, uint32_t customer, int day, double nu,
			 int ndays)
{
	double		u = uniform();
	int			k = u < model.three_orders ? 3 : u < model.three_orders + model.two_orders ? 2 : 1;
	double		spend = gamma_draw(model.gg_p) / nu;
	double		cents_d = llround(spend * 100.0);
	int32_t		cents = cents_d > 2e9 ? 2000000000 : (int32_t) cents_d;
	double		weight[3],
				total = 0;
	int32_t		left = cents;

	for (int i = 0; i < k; i++)
		total += weight[i] = 1.0 + uniform();
	for (int i = 0; i < k; i++)
	{
		int32_t		part = i == k - 1 ? left : (int32_t) (cents * weight[i] / total);

		left -= part;
		rows_add(rows, customer, (uint32_t) day * MINUTES_PER_DAY + uniform_int(MINUTES_PER_DAY),
				 part);
		maybe_refund(rows, totals, customer, day, part, ndays);
	}
	totals->purchases++;
	totals->orders += k;
	return spend;
}

/*
 * One customer's whole history: the first purchase at a uniform instant of
 * the arrival day, then BG/NBD repeat purchases until dropout or the end of
 * the window (times in days since the window's start).  Writes the exact
 * history to "histories" if given.
 */
static void
customer_history(Rows *rows, Totals *totals, uint32_t customer, int arrival, int ndays,
				 FILE *histories)
{
	double		lambda = gamma_draw(model.r) / model.alpha;
	double		p = beta_draw(model.a, model.b);
	double		nu = gamma_draw(model.gg_q) / model.gg_gamma;
	double		first = arrival + uniform();
	double		last = first;
	double		repeat_spend = 0;
	long		x = 0;

	purchase(rows, totals, customer, arrival, nu, ndays);
	for (;;)
	{
		double		next = last - log(uniform_pos()) / lambda;

		if (next >= ndays)
			break;
		last = next;
		x++;
		repeat_spend += purchase(rows, totals, customer, (int) floor(last), nu, ndays);
		if (uniform() < p)
			break;
	}
	if (histories != NULL)
		fprintf(histories, "%u\t%ld\t%.17g\t%.17g\t%.17g\n", customer, x, last - first,
				ndays - first, x > 0 ? repeat_spend / x : 0.0);
}

/* ---------- ordering and output ---------- */

/* Sort all rows by minute (stable counting sort: ties keep generation order). */
static void
sort_by_time(Rows *rows, int ndays)
{
	size_t		nkeys = (size_t) ndays * MINUTES_PER_DAY;
	size_t	   *start = calloc(nkeys + 1, sizeof(size_t));
	Row		   *sorted = malloc(rows->n * sizeof(Row));

	if (start == NULL || sorted == NULL)
	{
		fprintf(stderr, "generate: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < rows->n; i++)
		start[rows->row[i].minute + 1]++;
	for (size_t k = 0; k < nkeys; k++)
		start[k + 1] += start[k];
	for (size_t i = 0; i < rows->n; i++)
		sorted[start[rows->row[i].minute]++] = rows->row[i];
	free(start);
	free(rows->row);
	rows->row = sorted;
}

/* Sort each customer's rows (contiguous, few) by minute: insertion sort. */
static void
sort_within_customers(Rows *rows)
{
	for (size_t i = 1; i < rows->n; i++)
	{
		Row			row = rows->row[i];
		size_t		j = i;

		while (j > 0 && rows->row[j - 1].customer == row.customer &&
			   rows->row[j - 1].minute > row.minute)
		{
			rows->row[j] = rows->row[j - 1];
			j--;
		}
		rows->row[j] = row;
	}
}

/* Write an unsigned integer in decimal; returns the new end. */
static inline char *
put_uint(char *p, uint64_t v)
{
	char		tmp[24];
	int			n = 0;

	do
	{
		tmp[n++] = (char) ('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/* Write every row as COPY text: id, "YYYY-MM-DD HH:MM:00+00", amount. */
static void
write_rows(const Rows *rows, int ndays, long start_day)
{
	char	   *dates = malloc((size_t) ndays * 10);
	char		clock[MINUTES_PER_DAY][5];
	size_t		bufsize = 1 << 20;
	char	   *buf = malloc(bufsize);
	char	   *p = buf;

	for (int i = 0; i < ndays; i++)
	{
		int			y,
					m,
					d;
		char		tmp[16];

		civil_from_days(start_day + i, &y, &m, &d);
		snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", y, m, d);
		memcpy(dates + (size_t) i * 10, tmp, 10);
	}
	for (int i = 0; i < MINUTES_PER_DAY; i++)
	{
		char		tmp[8];

		snprintf(tmp, sizeof(tmp), "%02d:%02d", i / 60, i % 60);
		memcpy(clock[i], tmp, 5);
	}
	for (size_t i = 0; i < rows->n; i++)
	{
		const Row  *row = &rows->row[i];
		int32_t		cents = row->cents;
		uint32_t	abs_cents = cents < 0 ? (uint32_t) -(int64_t) cents : (uint32_t) cents;

		if (p - buf > (ptrdiff_t) bufsize - 128)
		{
			fwrite(buf, 1, p - buf, stdout);
			p = buf;
		}
		p = put_uint(p, row->customer);
		*p++ = '\t';
		memcpy(p, dates + (size_t) (row->minute / MINUTES_PER_DAY) * 10, 10);
		p += 10;
		*p++ = ' ';
		memcpy(p, clock[row->minute % MINUTES_PER_DAY], 5);
		p += 5;
		memcpy(p, ":00+00\t", 7);
		p += 7;
		if (cents < 0)
			*p++ = '-';
		p = put_uint(p, abs_cents / 100);
		*p++ = '.';
		*p++ = (char) ('0' + abs_cents % 100 / 10);
		*p++ = (char) ('0' + abs_cents % 10);
		*p++ = '\n';
	}
	fwrite(buf, 1, p - buf, stdout);
	if (fflush(stdout) != 0)
	{
		perror("generate: write");
		exit(1);
	}
	free(buf);
	free(dates);
}

/* ---------- main ---------- */

/* Print the true parameters, one "name value" a line. */
static void
print_params(FILE *out, const Options *opt, int ndays)
{
	fprintf(out, "customers %ld\nseed %llu\nstart %04d-%02d-%02d\nyears %d\ndays %d\n",
			opt->customers, (unsigned long long) opt->seed,
			opt->start_y, opt->start_m, opt->start_d, opt->years, ndays);
	fprintf(out, "bgnbd_r %g\nbgnbd_alpha_days %g\nbgnbd_a %g\nbgnbd_b %g\n",
			model.r, model.alpha, model.a, model.b);
	fprintf(out, "gg_p %g\ngg_q %g\ngg_gamma %g\n", model.gg_p, model.gg_q, model.gg_gamma);
	fprintf(out, "two_orders_share %g\nthree_orders_share %g\nrefund_rate %g\n"
			"full_refund_share %g\nrefund_max_days %d\n",
			model.two_orders, model.three_orders, model.refund_rate,
			model.full_refund, model.refund_max_days);
}

/* Exit with the usage message. */
static void
usage(void)
{
	fprintf(stderr,
			"usage: generate [--customers N] [--seed S] [--start YYYY-MM-DD] [--years Y]\n"
			"                [--order time|customer] [--histories FILE] [--params]\n");
	exit(2);
}

/* Parse the command line into opt. */
static void
parse_options(int argc, char **argv, Options *opt)
{
	for (int i = 1; i < argc; i++)
	{
		const char *arg = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(arg, "--params") == 0)
		{
			opt->params_only = 1;
			continue;
		}
		if (val == NULL)
			usage();
		i++;
		if (strcmp(arg, "--customers") == 0)
			opt->customers = atol(val);
		else if (strcmp(arg, "--seed") == 0)
			opt->seed = strtoull(val, NULL, 10);
		else if (strcmp(arg, "--years") == 0)
			opt->years = atoi(val);
		else if (strcmp(arg, "--start") == 0)
		{
			if (sscanf(val, "%d-%d-%d", &opt->start_y, &opt->start_m, &opt->start_d) != 3 ||
				opt->start_m < 1 || opt->start_m > 12 || opt->start_d < 1 || opt->start_d > 31)
				usage();
		}
		else if (strcmp(arg, "--histories") == 0)
			opt->histories = val;
		else if (strcmp(arg, "--order") == 0 && strcmp(val, "time") == 0)
			opt->by_customer = 0;
		else if (strcmp(arg, "--order") == 0 && strcmp(val, "customer") == 0)
			opt->by_customer = 1;
		else
			usage();
	}
	if (opt->customers < 1 || opt->customers > 100000000 || opt->years < 1 || opt->years > 20)
		usage();
}

int
main(int argc, char **argv)
{
	Options		opt = {.customers = 1000000, .seed = 20230101,
	.start_y = 2023, .start_m = 1, .start_d = 1, .years = 3};
	Rows		rows = {0};
	Totals		totals = {0};
	long		start_day,
				end_day;
	int			ndays;
	uint64_t	seed;
	FILE	   *histories = NULL;
	clock_t		t0 = clock();

	parse_options(argc, argv, &opt);
	start_day = days_from_civil(opt.start_y, opt.start_m, opt.start_d);
	end_day = days_from_civil(opt.start_y + opt.years, opt.start_m, opt.start_d);
	ndays = (int) (end_day - start_day);
	if (opt.params_only)
	{
		print_params(stdout, &opt, ndays);
		return 0;
	}
	print_params(stderr, &opt, ndays);
	if (opt.histories != NULL && (histories = fopen(opt.histories, "w")) == NULL)
	{
		perror("generate: histories");
		return 1;
	}

	seed = opt.seed;
	for (int i = 0; i < 4; i++)
		rng_s[i] = splitmix64(&seed);
	for (long c = 0; c < opt.customers; c++)
	{
		/* stratified arrival: ids follow sign-up order, days stay uniform */
		int			arrival = (int) (((double) c + uniform()) * ndays / opt.customers);

		customer_history(&rows, &totals, (uint32_t) (c + 1), arrival, ndays, histories);
	}
	if (opt.by_customer)
		sort_within_customers(&rows);
	else
		sort_by_time(&rows, ndays);
	write_rows(&rows, ndays, start_day);

	if (histories != NULL && fclose(histories) != 0)
	{
		perror("generate: histories");
		return 1;
	}
	fprintf(stderr, "rows %zu\norders %ld\nrefunds %ld\npurchases %ld\n"
			"orders_per_customer %.3f\ncpu_seconds %.2f\n",
			rows.n, totals.orders, totals.refunds, totals.purchases,
			(double) totals.orders / opt.customers,
			(double) (clock() - t0) / CLOCKS_PER_SEC);
	free(rows.row);
	return 0;
}
