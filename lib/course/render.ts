/**
 * Executed notebooks as static HTML pages, so the course can be read without
 * running it: markdown cells rendered, code cells with their outputs, charts
 * embedded (inline SVG, which Debian's nbconvert drops, is written into the
 * page as is), and an index page linking every notebook.
 *
 * The markdown renderer covers what the course's notebooks use: headings,
 * paragraphs, emphasis, inline code, links, fenced code, bullet and numbered
 * lists, block quotes and pipe tables.
 *
 * @example
 * ```ts
 * import { renderNotebookHtml } from "./render.ts";
 * const nb = { cells: [{ cell_type: "markdown", source: "# Title", metadata: {} }] };
 * console.log(renderNotebookHtml(nb, { title: "demo" }).includes("<h1>Title</h1>")); // true
 * ```
 *
 * @module
 */
import { escapeHtml } from "./html.ts";
import { cellSource, type GradingNotebook } from "./grading.ts";

function inline(text: string): string {
  const codes: string[] = [];
  let out = text.replace(/`([^`]+)`/g, (_, c: string) => {
    codes.push(`<code>${escapeHtml(c)}</code>`);
    return `\u0000${codes.length - 1}\u0000`;
  });
  out = escapeHtml(out)
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^*\w])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>")
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_, label: string, href: string) => {
      const target = href.replace(/\.ipynb(#|$)/, ".html$1");
      return `<a href="${target}">${label}</a>`;
    });
  // deno-lint-ignore no-control-regex
  return out.replace(/\u0000(\d+)\u0000/g, (_, i: string) => codes[Number(i)]);
}

function tableRow(line: string): string[] {
  return line.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim());
}

/**
 * Markdown (the subset the notebooks use) to HTML.
 *
 * @example
 * ```ts
 * import { markdownToHtml } from "./render.ts";
 * console.log(markdownToHtml("Some **bold** and `code`."));
 * // <p>Some <strong>bold</strong> and <code>code</code>.</p>
 * ```
 */
export function markdownToHtml(markdown: string): string {
  const lines = markdown.split("\n");
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = /^\s*(`{3,}|~{3,})\s*(\w*)/.exec(line);
    if (fence) {
      const end = lines.findIndex((l, j) => j > i && l.trim().startsWith(fence[1]));
      const stop = end < 0 ? lines.length : end;
      out.push(`<pre><code>${escapeHtml(lines.slice(i + 1, stop).join("\n"))}</code></pre>`);
      i = stop + 1;
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      const level = heading[1].length;
      out.push(`<h${level}>${inline(heading[2])}</h${level}>`);
      i++;
      continue;
    }
    if (/^\s*\|/.test(line) && i + 1 < lines.length && /^\s*\|?\s*:?-{2,}/.test(lines[i + 1])) {
      const head = tableRow(line);
      let j = i + 2;
      const rows: string[][] = [];
      while (j < lines.length && /^\s*\|/.test(lines[j])) rows.push(tableRow(lines[j++]));
      out.push(
        `<table><thead><tr>${head.map((h) => `<th>${inline(h)}</th>`).join("")}</tr></thead>` +
          `<tbody>${
            rows.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`).join("")
          }</tbody></table>`,
      );
      i = j;
      continue;
    }
    const list = /^\s*([-*]|\d+\.)\s+/.exec(line);
    if (list) {
      const ordered = /\d/.test(list[1]);
      const items: string[] = [];
      while (i < lines.length && lines[i].trim() !== "") {
        const item = /^\s*([-*]|\d+\.)\s+(.*)$/.exec(lines[i]);
        if (item) items.push(item[2]);
        else items[items.length - 1] += ` ${lines[i].trim()}`;
        i++;
      }
      const tag = ordered ? "ol" : "ul";
      out.push(`<${tag}>${items.map((t) => `<li>${inline(t)}</li>`).join("")}</${tag}>`);
      continue;
    }
    if (/^>\s?/.test(line)) {
      const quoted: string[] = [];
      while (i < lines.length && /^>\s?/.test(lines[i])) {
        quoted.push(lines[i++].replace(/^>\s?/, ""));
      }
      out.push(`<blockquote>${markdownToHtml(quoted.join("\n"))}</blockquote>`);
      continue;
    }
    if (line.trim() === "") {
      i++;
      continue;
    }
    const para: string[] = [];
    while (
      i < lines.length && lines[i].trim() !== "" &&
      !/^(#{1,6}\s|\s*(`{3}|~{3})|>|\s*\|)/.test(lines[i]) &&
      !/^\s*([-*]|\d+\.)\s+/.test(lines[i])
    ) para.push(lines[i++]);
    out.push(`<p>${inline(para.join(" "))}</p>`);
  }
  return out.join("\n");
}

function text(value: unknown): string {
  return Array.isArray(value) ? value.join("") : String(value ?? "");
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

/**
 * One output of a code cell as HTML: HTML and SVG as they are, PNG as an
 * image, text in a `<pre>`; errors show their name and message.
 *
 * @example
 * ```ts
 * import { outputToHtml } from "./render.ts";
 * console.log(outputToHtml({ output_type: "stream", name: "stdout", text: "hi\n" }));
 * ```
 */
export function outputToHtml(output: Record<string, unknown>): string {
  const type = output.output_type;
  if (type === "stream") {
    const cls = output.name === "stderr" ? "stderr" : "stdout";
    return `<pre class="${cls}">${escapeHtml(text(output.text).replace(ANSI, ""))}</pre>`;
  }
  if (type === "error") {
    return `<pre class="error">${
      escapeHtml(`${output.ename}: ${output.evalue}`.replace(ANSI, ""))
    }</pre>`;
  }
  const data = (output.data ?? {}) as Record<string, unknown>;
  if (data["text/html"] !== undefined) return `<div class="html">${text(data["text/html"])}</div>`;
  if (data["image/svg+xml"] !== undefined) {
    return `<div class="svg">${text(data["image/svg+xml"])}</div>`;
  }
  if (data["image/png"] !== undefined) {
    return `<img alt="chart" src="data:image/png;base64,${text(data["image/png"]).trim()}">`;
  }
  if (data["text/markdown"] !== undefined) return markdownToHtml(text(data["text/markdown"]));
  if (data["text/plain"] !== undefined) return `<pre>${escapeHtml(text(data["text/plain"]))}</pre>`;
  return "";
}

const STYLE =
  `body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;` +
  `line-height:1.45;color:#1f2328}pre{background:#f6f8fa;padding:.6em;overflow-x:auto;font-size:13px}` +
  `.cell{margin:1.2em 0}.source{border-left:3px solid #4c78a8}.stderr{background:#fff8e6}` +
  `.error{background:#ffebe9}table{border-collapse:collapse;margin:.5em 0}` +
  `td,th{border:1px solid #d0d7de;padding:2px 8px;font-size:13px}.tag{color:#9a6700;font-size:12px}` +
  `nav{margin-bottom:1em}`;

/** Options for {@linkcode renderNotebookHtml}. */
export interface RenderOptions {
  /** The page title. */
  title: string;
  /** Cells carrying any of these tags are left out (e.g. the grader's fallback cells). */
  hideTags?: readonly string[];
  /** A link back to the index; default `index.html`. */
  indexHref?: string;
}

/**
 * An executed notebook as one self-contained HTML page.
 *
 * @example
 * ```ts
 * import { renderNotebookHtml } from "./render.ts";
 * const nb = { cells: [{ cell_type: "code", source: "1 + 1", metadata: {}, outputs: [
 *   { output_type: "execute_result", data: { "text/plain": "2" } },
 * ] }] };
 * console.log(renderNotebookHtml(nb, { title: "demo" }).includes("<pre>2</pre>")); // true
 * ```
 */
export function renderNotebookHtml(notebook: GradingNotebook, options: RenderOptions): string {
  const hide = new Set(options.hideTags ?? []);
  const cells = notebook.cells.filter((c) => !(c.metadata?.tags ?? []).some((t) => hide.has(t)));
  const body = cells.map((cell) => {
    if (cell.cell_type === "markdown") {
      return `<div class="cell">${markdownToHtml(cellSource(cell))}</div>`;
    }
    if (cell.cell_type !== "code") return "";
    const tags = cell.metadata?.tags ?? [];
    const label = tags.includes("exercise")
      ? `<div class="tag">exercise ${
        escapeHtml(cell.metadata.exercise?.id ?? "")
      }: your code goes here</div>`
      : "";
    const outputs = (cell.outputs ?? []).map((o) => outputToHtml(o)).join("\n");
    return `<div class="cell">${label}<pre class="source"><code>${
      escapeHtml(cellSource(cell))
    }</code></pre>${outputs}</div>`;
  }).join("\n");
  return `<!doctype html><html><head><meta charset="utf-8"><title>${
    escapeHtml(options.title)
  }</title>` +
    `<style>${STYLE}</style></head><body><nav><a href="${
      escapeHtml(options.indexHref ?? "index.html")
    }">← all notebooks</a></nav>\n${body}\n</body></html>\n`;
}

/**
 * The index page: one link per rendered notebook, with its first heading.
 *
 * @example
 * ```ts
 * import { renderIndexHtml } from "./render.ts";
 * console.log(renderIndexHtml([{ href: "01.html", title: "01 · Basic concepts" }]).includes("01.html")); // true
 * ```
 */
export function renderIndexHtml(pages: readonly { href: string; title: string }[]): string {
  const items = pages.map((p) =>
    `<li><a href="${escapeHtml(p.href)}">${escapeHtml(p.title)}</a></li>`
  )
    .join("");
  return `<!doctype html><html><head><meta charset="utf-8"><title>ShopStream course</title>` +
    `<style>${STYLE}</style></head><body><h1>ShopStream: the notebooks</h1><ol>${items}</ol>` +
    `</body></html>\n`;
}

/**
 * A notebook's title: its first markdown heading, else the fallback.
 *
 * @example
 * ```ts
 * import { notebookTitle } from "./render.ts";
 * console.log(notebookTitle({ cells: [{ cell_type: "markdown", source: "# 01 · Log", metadata: {} }] }, "x")); // 01 · Log
 * ```
 */
export function notebookTitle(notebook: GradingNotebook, fallback: string): string {
  for (const cell of notebook.cells) {
    if (cell.cell_type !== "markdown") continue;
    const m = /^#\s+(.+)$/m.exec(cellSource(cell));
    if (m) return m[1].trim();
  }
  return fallback;
}
