import { useEffect, useRef } from "react";

// Calls onTick every `interval` ms, only while the page is visible and
// `active` is true, so a minimized Mini App costs the server nothing.
export function LiveTicker({ interval = 2000, active = true, onTick }) {
  const tick = useRef(onTick);
  tick.current = onTick;
  useEffect(() => {
    if (!active) return undefined;
    const id = setInterval(() => {
      const app = window.Telegram && window.Telegram.WebApp;
      const shown = document.visibilityState === "visible" && !(app && app.isActive === false);
      if (shown && tick.current) tick.current();
    }, interval);
    return () => clearInterval(id);
  }, [interval, active]);
  return null;
}
