// The fields of a telemetry payload: flattening nested objects to dotted paths, labels and units from names.
//
// `{"battery":{"voltage":53.2,"soc":85},"pv_power_w":1250.5}` has the fields `battery.voltage` (V),
// `battery.soc` (%) and `pv_power_w` (W). Units come from the usual suffixes (`_w`, `_v`, `_a`, `_pct`, …) and
// a few well-known names; a field without a recognisable unit has none.

import type { JsonObject, JsonValue } from "./protocol";

/** A leaf of a payload: a number, string, boolean or null (arrays are kept whole). */
export type FieldValue = number | string | boolean | null | JsonValue[];

/** How deep nested objects are followed. */
const MAX_DEPTH = 6;

/** Every leaf of `data` by dotted path, in the payload's order. */
export function flattenFields(data: JsonObject): Map<string, FieldValue> {
  const out = new Map<string, FieldValue>();
  const walk = (value: JsonValue, path: string, depth: number) => {
    if (typeof value === "object" && value !== null && !Array.isArray(value) && depth < MAX_DEPTH) {
      for (const [key, inner] of Object.entries(value)) walk(inner, path ? `${path}.${key}` : key, depth + 1);
    } else if (path) {
      out.set(path, value as FieldValue);
    }
  };
  walk(data, "", 0);
  return out;
}

/** The finite numeric leaves of `data` by dotted path: what can be charted. */
export function numericFields(data: JsonObject): Map<string, number> {
  const out = new Map<string, number>();
  for (const [path, value] of flattenFields(data)) {
    if (typeof value === "number" && Number.isFinite(value)) out.set(path, value);
  }
  return out;
}

/** Fields shown and charted first when present: battery voltage, then state of charge. */
export const PREFERRED_FIELDS = ["battery.voltage", "battery.soc"];

/** `paths` with {@link PREFERRED_FIELDS} first, the rest in their given order. */
export function orderFields(paths: Iterable<string>): string[] {
  const all = [...paths];
  const first = PREFERRED_FIELDS.filter((p) => all.includes(p));
  return [...first, ...all.filter((p) => !first.includes(p))];
}

const SUFFIX_UNITS: [string, string][] = [
  ["_kwh", "kWh"],
  ["_wh", "Wh"],
  ["_kw", "kW"],
  ["_w", "W"],
  ["_mv", "mV"],
  ["_v", "V"],
  ["_ma", "mA"],
  ["_a", "A"],
  ["_pct", "%"],
  ["_percent", "%"],
  ["_c", "°C"],
  ["_celsius", "°C"],
  ["_hz", "Hz"],
  ["_ms", "ms"],
  ["_secs", "s"],
  ["_s", "s"],
];

const NAME_UNITS: Record<string, string> = {
  voltage: "V",
  current: "A",
  power: "W",
  soc: "%",
  temperature: "°C",
  temp: "°C",
  frequency: "Hz",
  humidity: "%",
};

const WORDS: Record<string, string> = {
  soc: "state of charge",
  pv: "PV",
  ac: "AC",
  dc: "DC",
  gpio: "GPIO",
  temp: "temperature",
};

/** The unit of a field from its last path segment, or `""`. */
export function fieldUnit(path: string): string {
  const name = lastSegment(path).toLowerCase();
  if (name in NAME_UNITS) return NAME_UNITS[name];
  const match = SUFFIX_UNITS.find(([suffix]) => name.endsWith(suffix) && name.length > suffix.length);
  return match ? match[1] : "";
}

/** A readable label: `battery.soc` → "Battery state of charge", `pv_power_w` → "PV power". */
export function fieldLabel(path: string): string {
  const words = path
    .split(".")
    .map((segment, i, all) => (i === all.length - 1 ? withoutUnitSuffix(segment) : segment))
    .flatMap((segment) => segment.split(/[_\s]+/))
    .filter(Boolean)
    .map((word) => WORDS[word.toLowerCase()] ?? word);
  const text = words.join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A value for display: numbers with at most 3 decimals (as sent when fewer), booleans as on/off. */
export function formatValue(value: FieldValue): string {
  if (typeof value === "number") {
    return Number.isInteger(value) ? String(value) : String(Math.round(value * 1000) / 1000);
  }
  if (typeof value === "boolean") return value ? "on" : "off";
  if (value === null) return "–";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function lastSegment(path: string): string {
  const dot = path.lastIndexOf(".");
  return dot < 0 ? path : path.slice(dot + 1);
}

function withoutUnitSuffix(name: string): string {
  const lower = name.toLowerCase();
  const match = SUFFIX_UNITS.find(([suffix]) => lower.endsWith(suffix) && lower.length > suffix.length);
  return match ? name.slice(0, name.length - match[0].length) : name;
}
