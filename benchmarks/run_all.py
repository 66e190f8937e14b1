"""Every benchmark in one run: retrieval quality, ingestion speed, search latency, the
relevance gate's calibration, answering latency and quality with the bundled model, answer
correctness (extractive, generative, guarded), the corrected-answer matcher's threshold,
knowledge-gap clustering, load, evaluation throughput and the publish gate's cost.

    python -m benchmarks.run_all [--data PATH] [--quick]
"""

from __future__ import annotations

import time

from benchmarks import (
    answer_correctness,
    answering_latency,
    answering_quality,
    corrected_answers,
    evaluation,
    gaps,
    gate_calibration,
    ingestion,
    latency,
    load,
    retrieval,
)
from benchmarks.eval_sets import data_dir
from benchmarks.report import RESULTS, arguments, write_json


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
    collected = gate_calibration.collect(data, args.quick, RESULTS / "embedding_cache")
    curves = gate_calibration.sweep(collected)
    gate = gate_calibration.summary(collected, curves)
    gate_calibration.chart(curves, gate, RESULTS / "gate_calibration.png")
    write_json("gate_calibration", {"quick": args.quick, **gate, "curves": curves})
    sections.append(("Relevance gate (fallback rates by threshold)", gate_calibration.render(curves, gate)))
    corrections = corrected_answers.run(data, args.quick)
    write_json("corrected_answers", {"quick": args.quick, **corrections})
    sections.append(("Corrected answers (matcher threshold)", corrected_answers.render(corrections)))
    answering = answering_latency.run(data, args.quick)
    write_json("answering_latency", {"quick": args.quick, **answering})
    sections.append(("Answering latency", answering_latency.render(answering)))
    quality = answering_quality.run(data, args.quick)
    write_json("answering_quality", {"quick": args.quick, **quality})
    sections.append(("Answering quality", answering_quality.render(quality)))
    correctness = answer_correctness.run(data, args.quick)
    write_json("answer_correctness", {"quick": args.quick, **correctness})
    sections.append(("Answer correctness", answer_correctness.render(correctness)))
    gap_result = gaps.run(data, args.quick)
    write_json("gaps", {"quick": args.quick, **gap_result})
    sections.append(("Knowledge-gap clustering", gaps.render(gap_result)))
    loaded = load.run(data, 10 if args.quick else 20, 30 if args.quick else 60)
    write_json("load", {"quick": args.quick, **loaded})
    sections.append(("Load", load.render(loaded)))
    evaluated = evaluation.run(args.quick)
    write_json("evaluation", {"quick": args.quick, **evaluated})
    sections.append(("Evaluation throughput and the publish gate's cost", evaluation.render(evaluated)))
    minutes = (time.perf_counter() - started) / 60
    for title, body in sections:
        print(f"\n## {title}\n\n{body}")
    print(f"\n(run_all took {minutes:.1f} min)")
    write_json(
        "run_all", {"quick": args.quick, "minutes": minutes, "retrieval": results, "ingestion": ingest, "latency": lat}
    )


if __name__ == "__main__":
    main()
