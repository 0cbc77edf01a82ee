"""Tools beside the pipeline (the DAG generator, bench, roofline, GPU check, sweep); no DVC stage depends on them."""
