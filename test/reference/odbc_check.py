"""What a BI tool sees of a segment view through a real driver: psqlODBC.

Usage: python3 test/reference/odbc_check.py 'DRIVER={PostgreSQL Unicode};...' VIEW
Prints one line per check, "name value", for test/scripts/odbc.sh to compare:
how many customers a stage filter bound as a varchar parameter finds (as
BI tools send it), the ODBC type the driver reports for the columns a BI
tool groups and filters by, and the size and scale of the averages.
"""
import sys

import pyodbc

connection = pyodbc.connect(sys.argv[1], autocommit=True)
view = sys.argv[2]
cursor = connection.cursor()

# a filter bound as a parameter: pyodbc binds Python str as SQL_VARCHAR/WVARCHAR
cursor.execute("SELECT count(*) FROM %s WHERE stage = ?" % view, "churned")
print("bound_varchar_filter", cursor.fetchone()[0])
cursor.execute("SELECT count(*) FROM %s WHERE stage IN (?, ?)" % view, "churned", "dormant")
print("bound_in_filter", cursor.fetchone()[0])

# the types the driver reports: strings, not memo (SQL_LONGVARCHAR) or unknown
cursor.execute("SELECT stage, segment, recommended_action, orders, monetary FROM %s LIMIT 1" % view)
for name, type_code, display, internal, precision, scale, nullable in cursor.description:
    print("type_" + name, type_code.__name__)
for column in cursor.columns(table=view.split(".")[-1]):
    if column.column_name in ("stage", "segment", "recommended_action"):
        print("odbc_type_" + column.column_name, column.type_name)
    # averages have a declared size and scale, not size 0
    if column.column_name in ("aov", "mean_interval_days"):
        print("odbc_size_" + column.column_name, "%s,%s" % (column.column_size, column.decimal_digits))
