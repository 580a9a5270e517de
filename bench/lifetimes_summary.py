"""Time Python lifetimes' summary step on the benchmark's orders.

Usage: python3 bench/lifetimes_summary.py ORDERS.csv
Prints "load SECONDS" (pandas.read_csv) and "summary SECONDS"
(lifetimes.utils.summary_data_from_transaction_data, freq='D', with
monetary values, observation end 2025-12-31), then the customer count.
Run by bench/sections/40_refresh.sh with PYTHONPATH naming the lifetimes
and autograd source trees.
"""
import sys
import time

import pandas as pd
from lifetimes.utils import summary_data_from_transaction_data

started = time.perf_counter()
orders = pd.read_csv(sys.argv[1], parse_dates=["ordered_at"])
orders["ordered_at"] = orders["ordered_at"].dt.tz_convert("UTC").dt.tz_localize(None)
print("load %.2f" % (time.perf_counter() - started))

started = time.perf_counter()
summary = summary_data_from_transaction_data(
    orders, "customer_id", "ordered_at", monetary_value_col="amount",
    observation_period_end="2025-12-31", freq="D")
print("summary %.2f" % (time.perf_counter() - started))
print("customers %d" % len(summary))
