"""Parquet recordings written by pyarrow, the writer behind pandas' to_parquet, in the
layouts palpa's page reader takes and in those it leaves to polars.

Usage: make_fixtures.sh (makes the pinned virtual environment, then runs this).

Every file holds the same 3000 rows (palpa's tests compute them again):
  time_s  = i / 1000
  emg     = (i * 37) % 101 - 50
  force   = 0.25 * (i % 7)
in row groups of 1000 rows and data pages of about 2 kB, so every column spans many pages.
"""

import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/parquet")
OUT.mkdir(parents=True, exist_ok=True)
ROWS = 3000

time_s = [i / 1000 for i in range(ROWS)]
emg = [float((i * 37) % 101 - 50) for i in range(ROWS)]
force = [0.25 * (i % 7) for i in range(ROWS)]


def write(name, table, **options):
    pq.write_table(table, OUT / name, row_group_size=1000, data_page_size=2048, **options)


def doubles(nullable=True, with_nulls=False):
    force_column = [None if with_nulls and i % 500 == 7 else v for i, v in enumerate(force)]
    fields = [pa.field(n, pa.float64(), nullable=nullable) for n in ("time_s", "EMG UT L [uV]", "force [N]")]
    return pa.table([time_s, emg, force_column], schema=pa.schema(fields))


# Taken by the page reader: PLAIN doubles, v1 and v2 pages, three codecs, required columns.
write("plain_v1_snappy.parquet", doubles(), use_dictionary=False, compression="snappy")
write("plain_v2_gzip.parquet", doubles(), use_dictionary=False, compression="gzip",
      data_page_version="2.0")
write("plain_required_zstd.parquet", doubles(nullable=False), use_dictionary=False,
      compression="zstd")
# Left to polars: dictionary pages (pyarrow's default), missing values, narrower types.
write("dictionary.parquet", doubles())
write("nulls.parquet", doubles(with_nulls=True), use_dictionary=False)
narrow = pa.table({
    "time_s": pa.array(time_s, pa.float64()),
    "EMG UT L [uV]": pa.array([int(v) for v in emg], pa.int32()),
    "force [N]": pa.array(force, pa.float32()),
})
write("narrow_types.parquet", narrow, use_dictionary=False)
print(f"{len(list(OUT.glob('*.parquet')))} files in {OUT} (pyarrow {pa.__version__})")
