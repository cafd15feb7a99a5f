// One field over time, drawn by uPlot; redrawn from the history when its version changes, resized with its box,
// re-themed when the colour scheme changes, destroyed on unmount.

import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";

import { fieldLabel, fieldUnit, formatValue, type SampleHistory } from "../client";

interface Props {
  history: SampleHistory;
  version: number;
  path: string;
  visible: boolean;
}

const HEIGHT = 180;
/** The narrowest time span a chart shows, in seconds. */
const MIN_SPAN_S = 60;

/** A chart of `path`, with an accessible summary of what it shows. */
export function FieldChart({ history, version, path, visible }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const dark = useDarkScheme();
  const label = fieldLabel(path);
  const unit = fieldUnit(path);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const chart = new uPlot(
      options(label, unit, element.clientWidth),
      history.columns([path]) as uPlot.AlignedData,
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
  }, [path, dark]);

  useEffect(() => {
    if (visible) plot.current?.setData(history.columns([path]) as uPlot.AlignedData);
  }, [version, visible]);

  const values = history
    .samples()
    .map((s) => s.values.get(path))
    .filter((v): v is number => v !== undefined);
  const summary = values.length
    ? `${label}: ${values.length} points, latest ${formatValue(values[values.length - 1])}${unit ? ` ${unit}` : ""}, ` +
      `range ${formatValue(Math.min(...values))} to ${formatValue(Math.max(...values))}`
    : `${label}: no points yet`;

  return (
    <figure class="chart" data-field={path} data-points={values.length}>
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

function xRange(u: uPlot, min: number, max: number): uPlot.Range.MinMax {
  const times = u.data[0];
  if (times.length === 0) return [min, max];
  const last = times[times.length - 1];
  return last - times[0] < MIN_SPAN_S ? [last - MIN_SPAN_S, last] : [min, max];
}

function options(label: string, unit: string, width: number): uPlot.Options {
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
    // At least a minute wide, so a young chart fills from the right instead of zooming into seconds (uPlot
    // itself widens a single point to 86,400 units, i.e. 1,000 days of seconds).
    scales: { x: { time: true, range: xRange } },
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
