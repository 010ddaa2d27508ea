import { useEffect, useRef } from "react";

// Calls onVisible when it scrolls into view (with a margin, so the next page is usually
// there before the member reaches the end). `enabled` false while a page is loading or
// when there is nothing more, so one scroll asks for one page.
export function ScrollSentinel({ enabled = true, margin = "200px", onVisible }) {
  const node = useRef(null);
  const visible = useRef(onVisible);
  visible.current = onVisible;
  useEffect(() => {
    if (!enabled || !node.current || !("IntersectionObserver" in window)) return undefined;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting) && visible.current) visible.current();
      },
      { rootMargin: `0px 0px ${margin} 0px` },
    );
    observer.observe(node.current);
    return () => observer.disconnect();
  }, [enabled, margin]);
  return <div ref={node} className="scroll-sentinel" aria-hidden="true" />;
}
