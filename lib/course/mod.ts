/**
 * The course's own machinery: running notebooks on the Deno kernel,
 * stripping and checking them, and the HTML tables and SVG charts the
 * notebooks display.
 *
 * @example
 * ```ts
 * import { barChart, htmlTable } from "./mod.ts";
 * const table = htmlTable(["region", "orders"], [["eu", 3]]);
 * const chart = barChart([{ label: "eu", value: 3 }], { title: "orders" });
 * console.log(table, chart);
 * ```
 *
 * @module
 */
export * from "./chart.ts";
export * from "./exercise.ts";
export * from "./grade.ts";
export * from "./grading.ts";
export * from "./html.ts";
export * from "./jupyter.ts";
export * from "./notebooks.ts";
export * from "./render.ts";
export * from "./site.ts";
export * from "./solutions.ts";
