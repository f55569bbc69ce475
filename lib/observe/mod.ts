/**
 * Observability: Prometheus metrics (registry, exposition, parsing), the
 * metrics HTTP server, alert rules and their evaluator, and the stack's
 * health checks.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "./mod.ts";
 * const metrics = new MetricsRegistry();
 * metrics.counter({ name: "demo_total", help: "Demo events." }).inc();
 * console.log(metrics.render());
 * ```
 *
 * @module
 */
export * from "./alerts.ts";
export * from "./health.ts";
export * from "./metrics_server.ts";
export * from "./prometheus.ts";
export * from "./quorum.ts";
