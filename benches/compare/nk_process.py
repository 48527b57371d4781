"""NeuroKit2's `emg_process` on every sEMG channel of one recording, one call per channel:
what a researcher reaching for NeuroKit2 would run. Timed by bench.py.

    python nk_process.py RECORDING.parquet
"""

import sys
import warnings

import neurokit2 as nk
import pyarrow.parquet as pq
import numpy as np


def main(path):
    warnings.filterwarnings("ignore")  # "No events found", once per quiet channel
    table = pq.read_table(path)
    time = table.column("time_s").to_numpy()
    fs = int(round(1.0 / float(np.median(np.diff(time[:1000])))))
    activations = 0
    for name in table.column_names:
        if name.startswith("EMG"):
            signals, _ = nk.emg_process(table.column(name).to_numpy(), sampling_rate=fs)
            activations += int(signals["EMG_Onsets"].sum())
    print(f"{activations} activation onsets")


if __name__ == "__main__":
    main(sys.argv[1])
