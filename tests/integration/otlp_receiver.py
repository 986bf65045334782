"""A local OpenTelemetry metrics receiver (OTLP over HTTP, protobuf) on 127.0.0.1, for capturing Airflow's Stats.

Airflow with ``[metrics] otel_on`` exports through the OTLP HTTP exporter; this server decodes each
``ExportMetricsServiceRequest`` with the ``opentelemetry-proto`` classes Airflow already installs and
keeps the latest value of every (metric, attributes) point: counters are cumulative, so the last
export holds the totals.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Point = tuple[str, frozenset[tuple[str, str]]]


@dataclass
class CapturedMetrics:
    """The latest value of every point: a sum's value, a gauge's value, a histogram's count."""

    points: dict[Point, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, payload: bytes) -> None:
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

        request = ExportMetricsServiceRequest.FromString(payload)
        with self.lock:
            for resource in request.resource_metrics:
                for scope in resource.scope_metrics:
                    for metric in scope.metrics:
                        for point, value in _values(metric):
                            attributes = frozenset((a.key, a.value.string_value) for a in point.attributes)
                            self.points[(metric.name, attributes)] = value

    def named(self, name: str) -> dict[frozenset[tuple[str, str]], float]:
        with self.lock:
            return {attrs: value for (metric, attrs), value in self.points.items() if metric == name}

    def total(self, name: str, **attributes: str) -> float:
        """The sum over the points of ``name`` whose attributes include ``attributes``."""
        wanted = set(attributes.items())
        return sum(value for attrs, value in self.named(name).items() if wanted <= set(attrs))


def _values(metric: Any) -> Iterator[tuple[Any, float]]:
    kind = metric.WhichOneof("data")
    if kind in ("sum", "gauge"):
        for point in getattr(metric, kind).data_points:
            yield point, point.as_double if point.WhichOneof("value") == "as_double" else float(point.as_int)
    elif kind in ("histogram", "exponential_histogram"):
        for point in getattr(metric, kind).data_points:
            yield point, float(point.count)


@contextmanager
def otlp_receiver() -> Iterator[tuple[int, CapturedMetrics]]:
    """(port, captured): an OTLP/HTTP metrics endpoint at ``http://127.0.0.1:<port>/v1/metrics``."""
    captured = CapturedMetrics()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.rstrip("/") == "/v1/metrics":
                captured.record(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], captured
    finally:
        server.shutdown()
        server.server_close()
