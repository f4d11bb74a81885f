import gc

from portal import create_app

app = create_app()

# What the app holds from start-up lives as long as the process: keep the collector from
# walking it again in every full collection (each took ~100 ms in the middle of a request).
gc.collect()
gc.freeze()
