"""Every benchmark in one run: retrieval quality, ingestion speed, search latency.

    python -m benchmarks.run_all [--data PATH] [--quick]
"""
from __future__ import annotations

import time

from benchmarks import ingestion, latency, retrieval
from benchmarks.eval_sets import data_dir
from benchmarks.report import arguments, write_json


def main() -> None:
    args = arguments(__doc__.split("\n\n")[0])
    data = data_dir(args.data)
    started = time.perf_counter()
    sections = []
    results = retrieval.run(data, args.quick)
    write_json("retrieval", {"quick": args.quick, "k": retrieval.K, "sets": results})
    sections.append(("Retrieval (k = 5 for recall, 10 for MRR)", retrieval.render(results)))
    ingest = ingestion.run(data, args.quick)
    write_json("ingestion", {"quick": args.quick, **ingest})
    sections.append(("Ingestion", ingestion.render(ingest)))
    lat = latency.run(data, args.quick)
    write_json("latency", {"quick": args.quick, **lat})
    sections.append(("Search latency", latency.render(lat)))
    minutes = (time.perf_counter() - started) / 60
    for title, body in sections:
        print(f"\n## {title}\n\n{body}")
    print(f"\n(run_all took {minutes:.1f} min)")
    write_json("run_all", {"quick": args.quick, "minutes": minutes, "retrieval": results,
                           "ingestion": ingest, "latency": lat})


if __name__ == "__main__":
    main()
