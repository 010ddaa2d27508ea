import { useEffect, useRef } from "react";

// Asks the server "anything new?" every `interval` ms, only while the page is visible and
// `active` is true, so a minimized Mini App costs the server nothing.
export function LiveTicker({ interval = 2000, active = true, onTick }) {
  const tick = useRef(onTick);
  tick.current = onTick;
  useEffect(() => {
    if (!active) return undefined;
    const id = setInterval(() => {
      if (document.visibilityState === "visible" && tick.current) tick.current();
    }, interval);
    return () => clearInterval(id);
  }, [interval, active]);
  return null;
}
