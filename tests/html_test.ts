/** Notebook HTML tables (lib/course/html.ts): text is escaped and the Deno kernel can display them. No services. */
import assert from "node:assert/strict";
import { escapeHtml, htmlTable, raw } from "../lib/course/html.ts";

Deno.test("htmlTable", async (t) => {
  await t.step("escapes text, keeps raw markup, aligns numbers", () => {
    const table = htmlTable(["name", "n"], [["<b>&", 3], [raw("<i>x</i>"), null]]);
    assert.match(table.html, /<th style="text-align:left">name<\/th>/);
    assert.match(table.html, /<td style="text-align:left">&lt;b&gt;&amp;<\/td>/);
    assert.match(table.html, /<td style="text-align:right">3<\/td>/);
    assert.match(table.html, /<td style="text-align:left"><i>x<\/i><\/td>/);
    assert.match(table.html, /<td style="text-align:left"><\/td>/, "null renders empty");
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
