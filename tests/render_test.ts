/**
 * The static HTML rendering of executed notebooks (`deno task notebooks html`):
 * markdown subset, outputs (HTML tables, inline SVG charts kept as they are,
 * PNG, text, errors), hidden grader cells, and the index page.
 */
import assert from "node:assert/strict";
import {
  markdownToHtml,
  notebookTitle,
  outputToHtml,
  renderIndexHtml,
  renderNotebookHtml,
} from "../lib/course/mod.ts";

Deno.test("markdownToHtml renders the subset the notebooks use", () => {
  const html = markdownToHtml(
    [
      "## 2 · Segments",
      "A **log** is *append-only*; see `Log.open` and [02a](02a_cluster_and_topics.ipynb).",
      "",
      "- one",
      "- two",
      "",
      "1. first",
      "",
      "| a | b |",
      "|---|---|",
      "| 1 | <x> |",
      "",
      "```ts",
      "const a = 1 < 2;",
      "```",
      "> quoted",
    ].join("\n"),
  );
  assert.match(html, /<h2>2 · Segments<\/h2>/);
  assert.match(html, /<strong>log<\/strong> is <em>append-only<\/em>/);
  assert.match(html, /<code>Log.open<\/code>/);
  assert.match(html, /<a href="02a_cluster_and_topics.html">02a<\/a>/);
  assert.match(html, /<ul><li>one<\/li><li>two<\/li><\/ul>/);
  assert.match(html, /<ol><li>first<\/li><\/ol>/);
  assert.match(html, /<td>&lt;x&gt;<\/td>/);
  assert.match(html, /<pre><code>const a = 1 &lt; 2;<\/code><\/pre>/);
  assert.match(html, /<blockquote><p>quoted<\/p><\/blockquote>/);
});

Deno.test("outputs keep charts and tables, strip colour codes", () => {
  const svg = '<svg xmlns="http://www.w3.org/2000/svg"><rect width="3"/></svg>';
  assert.equal(
    outputToHtml({ output_type: "display_data", data: { "image/svg+xml": [svg] } }),
    `<div class="svg">${svg}</div>`,
  );
  assert.match(
    outputToHtml({ output_type: "execute_result", data: { "text/html": "<table></table>" } }),
    /<table><\/table>/,
  );
  assert.match(
    outputToHtml({ output_type: "display_data", data: { "image/png": "iVBOR\n" } }),
    /src="data:image\/png;base64,iVBOR"/,
  );
  assert.equal(
    outputToHtml({ output_type: "stream", name: "stderr", text: "\x1b[31mred\x1b[0m" }),
    '<pre class="stderr">red</pre>',
  );
  assert.match(
    outputToHtml({ output_type: "error", ename: "TypeError", evalue: "x is <bad>" }),
    /TypeError: x is &lt;bad&gt;/,
  );
});

Deno.test("renderNotebookHtml: one page, hidden cells left out, exercise cells labelled", () => {
  const nb = {
    cells: [
      { cell_type: "markdown", source: ["# 01 · Basic concepts\n", "Why."], metadata: {} },
      {
        cell_type: "code",
        source: "function f() {}",
        metadata: { tags: ["exercise"], exercise: { id: "01.1" } },
        outputs: [],
      },
      {
        cell_type: "code",
        source: "SECRET_SOLUTION",
        metadata: { tags: ["grader-fallback"] },
        outputs: [],
      },
      {
        cell_type: "code",
        source: "chart",
        metadata: {},
        outputs: [{ output_type: "display_data", data: { "image/svg+xml": "<svg></svg>" } }],
      },
    ],
  };
  const page = renderNotebookHtml(nb, { title: "01", hideTags: ["grader-fallback"] });
  assert.match(page, /^<!doctype html>/);
  assert.match(page, /<h1>01 · Basic concepts<\/h1>/);
  assert.match(page, /exercise 01.1: your code goes here/);
  assert.match(page, /<svg><\/svg>/);
  assert.doesNotMatch(page, /SECRET_SOLUTION/);
  assert.equal(notebookTitle(nb, "fallback"), "01 · Basic concepts");
  assert.match(
    renderIndexHtml([{ href: "01.html", title: "01 · Basic" }]),
    /<a href="01.html">01 · Basic<\/a>/,
  );
});
