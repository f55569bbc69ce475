/** Notebook HTML tables (lib/course/html.ts): text is escaped and the Deno kernel can display them. No services. */
import assert from "node:assert/strict";
import { bytes, escapeHtml, htmlTable, raw } from "../lib/course/html.ts";
import { formatBytes, formatNumber, formatTable } from "../lib/util/mod.ts";

Deno.test("htmlTable", async (t) => {
  await t.step("escapes text, keeps raw markup, aligns numbers", () => {
    const table = htmlTable(["name", "n"], [["<b>&", 3], [raw("<i>x</i>"), null]]);
    assert.match(table.html, /<th style="text-align:left">name<\/th>/);
    assert.match(table.html, /<td style="text-align:left">&lt;b&gt;&amp;<\/td>/);
    assert.match(table.html, /<td style="text-align:right">3<\/td>/);
    assert.match(table.html, /<td style="text-align:left"><i>x<\/i><\/td>/);
    assert.match(table.html, /<td style="text-align:right"><\/td>/, "null renders empty");
  });
  await t.step("aligns by column, not by value type, headers included", () => {
    // kafkajs returns offsets as strings: the column is still numeric.
    const table = htmlTable(["partition", "offset", "region"], [[0, "40464", "eu"], [1, 7, "us"]]);
    assert.match(table.html, /<th style="text-align:right">offset<\/th>/);
    assert.match(table.html, /<th style="text-align:left">region<\/th>/);
    assert.match(table.html, /<td style="text-align:right">40,464<\/td>/);
    assert.match(table.html, /<td style="text-align:right">7<\/td>/);
  });
  await t.step("thousands separators as in charts; ids, ports and small numbers untouched", () => {
    const table = htmlTable(["revenue", "port", "year"], [["1306158 JPY", 19093, 2026]]);
    assert.match(table.html, />1,306,158 JPY</);
    assert.match(table.html, />19093</);
    assert.match(table.html, />2026</);
  });
  await t.step("byte units", () => {
    const table = htmlTable(["config", "value"], [["segment.bytes", bytes(67108864)]]);
    assert.match(table.html, />64 MiB</);
  });
  await t.step("is displayable by the Deno kernel", () => {
    const table = htmlTable(["a"], [["1"]]);
    const display = (table as unknown as Record<symbol, () => Record<string, string>>)[
      Symbol.for("Jupyter.display")
    ];
    assert.equal(typeof display, "function");
    assert.deepEqual(display(), { "text/html": table.html });
  });
  await t.step("escapeHtml covers attribute quotes", () => {
    assert.equal(escapeHtml(`"'<>&`), "&quot;&#39;&lt;&gt;&amp;");
  });
});

Deno.test("formatTable and number formatting", async (t) => {
  await t.step("numeric columns are right-aligned with their header", () => {
    const text = formatTable(["topic", "offset"], [["orders", "40464"], ["payments", "9"]]);
    assert.equal(
      text,
      ["topic     offset", "--------  ------", "orders    40,464", "payments       9"].join("\n"),
    );
  });
  await t.step("formatNumber and formatBytes", () => {
    assert.equal(formatNumber(40464), "40,464");
    assert.equal(formatNumber(-1234567.891), "-1,234,567.89");
    assert.equal(formatNumber(0.012345), "0.0123");
    assert.equal(formatNumber("not a number"), "not a number");
    assert.equal(formatNumber(12345n), "12,345");
    assert.equal(formatBytes(512), "512 B");
    assert.equal(formatBytes(1536), "1.5 KiB");
    assert.equal(formatBytes(67108864), "64 MiB");
  });
});
