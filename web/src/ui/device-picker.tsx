// The device picker: every device the token covers, with a filter when there are many.

import { useState } from "preact/hooks";

interface Props {
  devices: string[];
  open: string[];
  active: string | null;
  onPick: (id: string) => void;
}

/** Shown above this many devices: a filter field. */
const FILTER_FROM = 8;

/** The list of devices; picking one opens (or shows) its tab. */
export function DevicePicker({ devices, open, active, onPick }: Props) {
  const [filter, setFilter] = useState("");
  const needle = filter.trim().toLowerCase();
  const shown = needle ? devices.filter((id) => id.toLowerCase().includes(needle)) : devices;
  return (
    <nav class="picker" aria-labelledby="picker-title">
      <h2 id="picker-title">Devices</h2>
      {devices.length > FILTER_FROM && (
        <input
          type="search"
          class="picker-filter"
          placeholder="Filter"
          aria-label="Filter devices"
          value={filter}
          onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
        />
      )}
      <ul>
        {shown.map((id) => (
          <li key={id}>
            <button
              type="button"
              class={`device${id === active ? " active" : ""}`}
              aria-current={id === active ? "true" : undefined}
              onClick={() => onPick(id)}
            >
              <span class="device-name">{id}</span>
              {open.includes(id) && <span class="dot" aria-label="open" title="open" />}
            </button>
          </li>
        ))}
      </ul>
      {shown.length === 0 && <p class="muted">No device matches.</p>}
    </nav>
  );
}
