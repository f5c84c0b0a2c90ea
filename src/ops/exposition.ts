/**
 * The two text formats a Prometheus server scrapes: the classic text format 0.0.4, and
 * OpenMetrics 1.0 when the scraper asks for it (Prometheus does, by default). Pure: metric
 * families in, text out. Both formats carry the same series under the same names.
 */

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  labels?: Labels;
  value: number;
}

/** Cumulative counts: `counts[i]` observations were <= `bounds[i]`; `count` is the +Inf bucket. */
export interface HistogramSample {
  labels?: Labels;
  bounds: readonly number[];
  counts: readonly number[];
  sum: number;
  count: number;
}

interface FamilyBase {
  /** For counters, the name without `_total`: OpenMetrics names the family so and its sample with it. */
  name: string;
  help: string;
  /** OpenMetrics only, and the name must end with it: `seconds`, `bytes`. */
  unit?: string;
}

export type MetricFamily =
  | (FamilyBase & { type: "counter" | "gauge"; samples: readonly Sample[] })
  | (FamilyBase & { type: "histogram"; histograms: readonly HistogramSample[] });

export type ExpositionFormat = "prometheus" | "openmetrics";

export const CONTENT_TYPES: Record<ExpositionFormat, string> = {
  prometheus: "text/plain; version=0.0.4; charset=utf-8",
  openmetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8",
};

/**
 * OpenMetrics only when the Accept header asks for it at least as much as for the text format
 * (Prometheus sends `application/openmetrics-text;version=1.0.0,…,text/plain;version=0.0.4;q=0.5,…`);
 * `curl` and anything that does not ask gets the text format.
 */
export function negotiateFormat(accept: string | null): ExpositionFormat {
  if (accept === null) return "prometheus";
  let openMetrics = 0;
  let text = 0;
  for (const part of accept.split(",")) {
    const [mediaType = "", ...parameters] = part.split(";").map((piece) => piece.trim().toLowerCase());
    const qualityParameter = parameters.find((parameter) => parameter.startsWith("q="));
    const quality = qualityParameter === undefined ? 1 : Number(qualityParameter.slice(2));
    if (!Number.isFinite(quality)) continue;
    if (mediaType === "application/openmetrics-text") openMetrics = Math.max(openMetrics, quality);
    else if (mediaType === "text/plain" || mediaType === "text/*" || mediaType === "*/*") text = Math.max(text, quality);
  }
  return openMetrics > 0 && openMetrics >= text ? "openmetrics" : "prometheus";
}

export function render(families: readonly MetricFamily[], format: ExpositionFormat): string {
  const lines: string[] = [];
  for (const family of families) {
    const openMetrics = format === "openmetrics";
    const familyName = family.type === "counter" && !openMetrics ? `${family.name}_total` : family.name;
    lines.push(`# HELP ${familyName} ${escapeHelp(family.help, openMetrics)}`, `# TYPE ${familyName} ${family.type}`);
    if (openMetrics && family.unit !== undefined) lines.push(`# UNIT ${familyName} ${family.unit}`);
    if (family.type === "histogram") {
      for (const histogram of family.histograms) renderHistogram(lines, family.name, histogram);
      continue;
    }
    const sampleName = family.type === "counter" ? `${family.name}_total` : family.name;
    for (const sample of family.samples) lines.push(`${sampleName}${formatLabels(sample.labels)} ${formatNumber(sample.value)}`);
  }
  if (format === "openmetrics") lines.push("# EOF");
  return `${lines.join("\n")}\n`;
}

function renderHistogram(lines: string[], name: string, histogram: HistogramSample): void {
  histogram.bounds.forEach((bound, index) => {
    const le = { ...histogram.labels, le: formatNumber(bound) };
    lines.push(`${name}_bucket${formatLabels(le)} ${formatNumber(histogram.counts[index] ?? 0)}`);
  });
  lines.push(`${name}_bucket${formatLabels({ ...histogram.labels, le: "+Inf" })} ${formatNumber(histogram.count)}`);
  lines.push(`${name}_sum${formatLabels(histogram.labels)} ${formatNumber(histogram.sum)}`);
  lines.push(`${name}_count${formatLabels(histogram.labels)} ${formatNumber(histogram.count)}`);
}

function formatLabels(labels: Labels | undefined): string {
  if (labels === undefined) return "";
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`);
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

/** Queue names come from the user: a quote, backslash or newline in one must not break the line. */
function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (character) => (character === "\n" ? "\\n" : `\\${character}`));
}

/** The text format escapes only backslash and newline in HELP (a `\"` there is a parse error); OpenMetrics quotes too. */
function escapeHelp(help: string, openMetrics: boolean): string {
  return help.replace(openMetrics ? /[\\"\n]/g : /[\\\n]/g, (character) => (character === "\n" ? "\\n" : `\\${character}`));
}
