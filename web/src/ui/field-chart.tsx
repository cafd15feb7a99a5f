// One field over time, drawn by uPlot; redrawn from the history when its version changes, resized with its box,
// re-themed when the colour scheme changes, destroyed on unmount. Spans the chosen range once it is loaded; a
// gap in the data breaks the line; the pointer shows the time and value under it. The figure's `data-*`
// attributes say what it draws (points, gaps, first and last time), for people reading the DOM and for tests.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import uPlot from "uplot";

import { fieldLabel, fieldUnit, formatValue, type ChartSeries, type HistoryRange, type SampleHistory } from "../client";
import { tooltipLines, tooltipPlugin } from "./chart-tooltip";
import { axisSpan } from "./time-axis";

interface Props {
  history: SampleHistory;
  version: number;
  path: string;
  visible: boolean;
  range: HistoryRange;
}

const HEIGHT = 180;

/** A chart of `path`, with an accessible summary of what it shows. */
export function FieldChart({ history, version, path, visible, range }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const dark = useDarkScheme();
  const label = fieldLabel(path);
  const unit = fieldUnit(path);
  // `history` is mutable: `version` says when it changed.
  // eslint-disable-next-line react-hooks/exhaustive-deps -- the memo's key is the history's version
  const series = useMemo(() => history.chart([path]), [history, version, path]);
  // uPlot's callbacks read the latest series and range through these.
  const current = useRef({ series, range });
  current.current = { series, range };

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const describe = (idx: number) => tooltipLines(current.current.series.rows, idx, path, unit, Date.now());
    const span = (u: uPlot, min: number, max: number) => xRange(u, min, max, current.current.range);
    const chart = new uPlot(
      options(label, unit, element.clientWidth, span, tooltipPlugin(describe)),
      current.current.series.columns,
      element,
    );
    plot.current = chart;
    const observer = new ResizeObserver(() => {
      if (element.clientWidth > 0) chart.setSize({ width: element.clientWidth, height: HEIGHT });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [path, label, unit, dark]);

  useEffect(() => {
    if (visible) plot.current?.setData(series.columns);
  }, [series, visible, range.ms, range.to]);

  const drawn = useMemo(() => drawnPoints(series), [series]);
  const axis = axisSpan(range, series.columns[0]);
  const { values } = drawn;
  const summary = values.length
    ? `${label}: ${values.length} points${series.gaps > 0 ? ` with ${series.gaps} ${series.gaps === 1 ? "gap" : "gaps"}` : ""}, ` +
      `latest ${formatValue(values[values.length - 1])}${unit ? ` ${unit}` : ""}, ` +
      `range ${formatValue(drawn.min)} to ${formatValue(drawn.max)}`
    : `${label}: no points yet`;

  return (
    <figure
      class="chart"
      data-field={path}
      data-points={values.length}
      data-gaps={series.gaps}
      data-first={drawn.first ?? undefined}
      data-last={drawn.last ?? undefined}
      data-axis-from={axis ? Math.round(axis[0] * 1000) : undefined}
      data-axis-to={axis ? Math.round(axis[1] * 1000) : undefined}
    >
      <figcaption>
        {label}
        {unit && <span class="muted"> ({unit})</span>}
      </figcaption>
      <div ref={box} class="chart-box" role="img" aria-label={summary} />
    </figure>
  );
}

/** Whether the page is in dark mode; follows the system setting live. */
function useDarkScheme(): boolean {
  const query = "(prefers-color-scheme: dark)";
  const [dark, setDark] = useState(() => matchMedia(query).matches);
  useEffect(() => {
    const media = matchMedia(query);
    const change = () => setDark(media.matches);
    media.addEventListener("change", change);
    return () => media.removeEventListener("change", change);
  }, []);
  return dark;
}

/** The values drawn (gap rows and points without this field left out), their extremes and first and last time. */
function drawnPoints(series: ChartSeries) {
  const [times, column] = series.columns;
  const values: number[] = [];
  let first: number | null = null;
  let last: number | null = null;
  let min = Infinity;
  let max = -Infinity;
  column.forEach((value, i) => {
    if (value === null) return;
    values.push(value);
    first ??= Math.round(times[i] * 1000);
    last = Math.round(times[i] * 1000);
    min = Math.min(min, value);
    max = Math.max(max, value);
  });
  return { values, first, last, min, max };
}

function xRange(u: uPlot, min: number, max: number, range: HistoryRange): uPlot.Range.MinMax {
  return axisSpan(range, u.data[0]) ?? [min, max];
}

function options(
  label: string,
  unit: string,
  width: number,
  range: uPlot.Range.Function,
  tooltip: uPlot.Plugin,
): uPlot.Options {
  const css = getComputedStyle(document.documentElement);
  const color = (name: string) => css.getPropertyValue(name).trim();
  const axis: uPlot.Axis = {
    stroke: color("--muted"),
    grid: { stroke: color("--grid"), width: 1 },
    ticks: { stroke: color("--grid"), width: 1 },
  };
  return {
    width: Math.max(width, 240),
    height: HEIGHT,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    // The chosen range once loaded, else at least a minute (see time-axis.ts).
    scales: { x: { time: true, range } },
    plugins: [tooltip],
    axes: [axis, { ...axis, size: 56, values: (_u, ticks) => ticks.map((v) => formatValue(v)) }],
    series: [
      {},
      {
        label: unit ? `${label} (${unit})` : label,
        stroke: color("--accent"),
        width: 2,
        fill: color("--accent-fill"),
        points: { size: 5 },
        spanGaps: false,
      },
    ],
  };
}
