// `useNow(ms)`: the current time, re-rendering every `ms`; the timer goes with the component.

import { useEffect, useState } from "preact/hooks";

/** Date.now(), refreshed every `intervalMs`. */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
