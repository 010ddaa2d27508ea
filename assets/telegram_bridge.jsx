import { useContext, useEffect, useRef } from "react";
import { useNavigate } from "react-router";
import { getBackendURL } from "$/utils/state";
import { ColorModeContext } from "$/utils/context-registry";
import env from "$/env.json";

// The Telegram WebApp lifecycle, forwarded to Python state.
//
// Every page mounts a TelegramBridge, but the subscriptions to Telegram are made once per
// page load (module state below): a client-side navigation swaps the handlers, it does not
// call ready() again or miss an event between two pages.

const webApp = () => (window.Telegram && window.Telegram.WebApp) || null;

// A Telegram client is really there: a way to reach it, and a launch from it (a plain
// browser, or a page in some other iframe, can load the script too).
export const inTelegram = () => {
  const app = webApp();
  const channel =
    window.TelegramWebviewProxy ||
    (window.external && "notify" in window.external) ||
    window.parent !== window;
  return !!(channel && app && app.initData);
};

export const supports = (version) => {
  const app = webApp();
  return !!app && app.isVersionAtLeast(version);
};

// Native controls only inside a client that has them; elsewhere the page's own buttons.
export const nativeControls = (version) => inTelegram() && supports(version);

// The launch's initData goes with the socket's first event: Reflex sends sessionStorage-
// backed state (SessionState.launch) with its hydrate, so the server binds the member
// without asking the page first. This module runs before the socket opens; the value is
// checked on the server like anything else from the browser.
try {
  const initData = webApp() && webApp().initData;
  if (initData) window.sessionStorage.setItem("tg_launch", initData);
} catch (e) {
  // Storage may be unavailable (private modes): the page is asked instead.
}

const RESUME_TIMEOUT_MS = 6000;
const RELOAD_COOLDOWN_MS = 30000;
const RELOADED_AT = "tg_bridge_reloaded_at";

const bridge = {
  started: false,
  handlers: {},
  active: true,
  pendingResume: null,
  watchdog: null,
  setColorMode: null,
};

const call = (name, ...args) => {
  const handler = bridge.handlers[name];
  if (handler) handler(...args);
};

const sides = (inset) => ({
  top: Math.round((inset && inset.top) || 0),
  bottom: Math.round((inset && inset.bottom) || 0),
  left: Math.round((inset && inset.left) || 0),
  right: Math.round((inset && inset.right) || 0),
});

// Only a real client sends activated/deactivated; the dev launch in a plain browser says
// 8.0 too, and there the page's visibility is the signal.
const hasActivationEvents = () => inTelegram() && supports("8.0");

const isActiveNow = () => {
  const app = webApp();
  if (app && hasActivationEvents()) return app.isActive !== false;
  return document.visibilityState === "visible";
};

const applyColorScheme = (scheme) => {
  // Telegram's colours come as --tg-theme-* vars (the script sets them); Radix's own
  // palette follows Reflex's colour mode, which owns the `light` / `dark` class. Its
  // provider reads the saved mode after this first runs, so the saved mode is set too.
  const mode = scheme === "dark" ? "dark" : "light";
  try {
    window.localStorage.setItem("theme", mode);
  } catch (e) {
    // Storage may be blocked: the colour mode below still applies for this page.
  }
  if (bridge.setColorMode) bridge.setColorMode(mode);
};

const viewport = (app) => ({
  height: Math.round(app.viewportHeight || window.innerHeight),
  stable_height: Math.round(app.viewportStableHeight || window.innerHeight),
  is_expanded: !!app.isExpanded,
});

const info = () => {
  const app = webApp();
  if (!app) {
    return { version: "", platform: "", in_telegram: false, color_scheme: "light",
             is_active: isActiveNow(), viewport: {}, safe_area: {}, content_safe_area: {} };
  }
  return {
    version: app.version,
    platform: app.platform,
    in_telegram: inTelegram(),
    color_scheme: app.colorScheme,
    is_active: isActiveNow(),
    viewport: viewport(app),
    safe_area: sides(app.safeAreaInset),
    content_safe_area: sides(app.contentSafeAreaInset),
  };
};

// Does the backend answer plain HTTP? Then a resume that got no reply means the socket is
// stuck (a half-open connection after the phone slept), and a reload is the cure.
const backendAnswers = async () => {
  try {
    const response = await fetch(getBackendURL(env.PING), { cache: "no-store" });
    return response.ok;
  } catch (e) {
    return false;
  }
};

const watchResume = (nonce, answeringSince = null) => {
  window.clearTimeout(bridge.watchdog);
  bridge.watchdog = window.setTimeout(async () => {
    if (bridge.pendingResume !== nonce) return;
    if (!navigator.onLine || !(await backendAnswers())) {
      // Offline or the backend is down: the socket keeps retrying; look again later.
      watchResume(nonce);
      return;
    }
    // The backend answers: give the socket's own retry one more period to get through
    // (a reload would drop events queued while the connection was down).
    const since = answeringSince ?? Date.now();
    const last = parseInt(window.sessionStorage.getItem(RELOADED_AT) || "0", 10);
    if (Date.now() - since < RESUME_TIMEOUT_MS || Date.now() - last < RELOAD_COOLDOWN_MS) {
      watchResume(nonce, since);
      return;
    }
    window.sessionStorage.setItem(RELOADED_AT, String(Date.now()));
    window.location.reload();
  }, RESUME_TIMEOUT_MS);
};

// Whether the Mini App is shown, kept where the socket's hydrate reads it
// (LifecycleState.shown): a tab whose state is new after a reconnect (a backend that died)
// then knows it is minimized without another deactivated event.
const rememberActive = (active) => {
  try {
    window.sessionStorage.setItem("tg_active", active ? "1" : "0");
  } catch (e) {
    // Storage may be unavailable: the server counts the tab as shown until told.
  }
};

const becameActive = () => {
  if (bridge.active) return;
  bridge.active = true;
  rememberActive(true);
  document.documentElement.dataset.tgActive = "true";
  const nonce = `${Date.now()}-${Math.random().toString(36).slice(2, 10)}`;
  bridge.pendingResume = nonce;
  // Sending an event reconnects the socket if it dropped; the reply carries the nonce back.
  call("onActivated", nonce);
  watchResume(nonce);
};

const becameInactive = () => {
  if (!bridge.active) return;
  bridge.active = false;
  rememberActive(false);
  // Minimized again before the last resume was answered: the next activation starts over
  // (no polling and no reload while minimized).
  bridge.pendingResume = null;
  window.clearTimeout(bridge.watchdog);
  document.documentElement.dataset.tgActive = "false";
  call("onDeactivated");
};

const start = () => {
  if (bridge.started) return;
  bridge.started = true;
  const app = webApp();
  bridge.active = isActiveNow();
  rememberActive(bridge.active);
  document.documentElement.dataset.tgActive = String(bridge.active);
  window.appTelegram = { haptic, supports, inTelegram };
  if (app) {
    app.ready();
    app.expand();
    if (supports("7.7")) app.disableVerticalSwipes();
    applyColorScheme(app.colorScheme);
    app.onEvent("themeChanged", () => {
      applyColorScheme(app.colorScheme);
      call("onThemeChanged", app.colorScheme);
    });
    app.onEvent("viewportChanged", (event) => {
      // Mid-drag heights change every frame: only settled ones go to the server, and only
      // heights it does not have yet (a client that opens expanded answers expand() with
      // the viewport that ready() has just sent).
      if (!event || !event.isStateStable) return;
      const settled = viewport(app);
      const key = `${settled.height}/${settled.stable_height}`;
      if (key === bridge.sentViewport) return;
      bridge.sentViewport = key;
      call("onViewportChanged", settled);
    });
    if (supports("8.0")) {
      app.onEvent("safeAreaChanged", () => call("onSafeAreaChanged", sides(app.safeAreaInset)));
      app.onEvent("contentSafeAreaChanged", () =>
        call("onContentSafeAreaChanged", sides(app.contentSafeAreaInset)),
      );
    }
  }
  if (hasActivationEvents()) {
    app.onEvent("activated", becameActive);
    app.onEvent("deactivated", becameInactive);
  } else {
    // Clients before Bot API 8.0 have no activated/deactivated: the page's visibility is
    // the closest signal (the webview is hidden when the client is minimized).
    document.addEventListener("visibilitychange", () =>
      document.visibilityState === "visible" ? becameActive() : becameInactive(),
    );
  }
  const ready = info();
  bridge.sentViewport = `${ready.viewport.height}/${ready.viewport.stable_height}`;
  call("onReady", ready);
};

function haptic(kind) {
  const app = webApp();
  if (!app || !nativeControls("6.1")) return;
  if (kind === "success" || kind === "error" || kind === "warning") {
    app.HapticFeedback.notificationOccurred(kind);
  } else {
    app.HapticFeedback.impactOccurred(kind || "light");
  }
}

export function TelegramBridge({ resumed, ...handlers }) {
  bridge.handlers = handlers;
  bridge.setColorMode = useContext(ColorModeContext).setColorMode;
  useEffect(() => {
    start();
  }, []);
  useEffect(() => {
    // The server answered this resume: the socket is live and the screen refreshed.
    if (resumed && resumed === bridge.pendingResume) {
      bridge.pendingResume = null;
      window.clearTimeout(bridge.watchdog);
    }
  }, [resumed]);
  return null;
}

// Telegram's BackButton, shown while this component is mounted; it goes to `href`.
export function TelegramBackButton({ href }) {
  const navigate = useNavigate();
  const target = useRef(href);
  target.current = href;
  useEffect(() => {
    const app = webApp();
    if (!app || !nativeControls("6.1")) return undefined;
    const back = () => navigate(target.current);
    document.documentElement.classList.add("tg-back");
    app.BackButton.onClick(back);
    app.BackButton.show();
    return () => {
      app.BackButton.offClick(back);
      app.BackButton.hide();
      document.documentElement.classList.remove("tg-back");
    };
  }, []);
  return null;
}

// Telegram's MainButton as the screen's primary action, with its progress state.
export function TelegramMainButton({ text, enabled = true, progress = false, onClick }) {
  const click = useRef(onClick);
  click.current = onClick;
  useEffect(() => {
    const app = webApp();
    if (!app || !nativeControls("6.0")) return undefined;
    const pressed = () => {
      // Reflex's inputs send their value when they lose focus (or after 300 ms); the
      // MainButton takes no focus, so blur first: the value goes before the click.
      if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
      if (click.current) click.current();
    };
    document.documentElement.classList.add("tg-main");
    app.MainButton.onClick(pressed);
    return () => {
      app.MainButton.offClick(pressed);
      app.MainButton.hideProgress();
      app.MainButton.hide();
      document.documentElement.classList.remove("tg-main");
    };
  }, []);
  useEffect(() => {
    const app = webApp();
    if (!app || !nativeControls("6.0")) return;
    app.MainButton.setParams({ text, is_active: !!enabled && !progress, is_visible: true });
    if (progress) app.MainButton.showProgress(false);
    else app.MainButton.hideProgress();
  }, [text, enabled, progress]);
  return null;
}

// Ask before the Mini App is closed while `enabled` (a form with unsent input).
export function TelegramClosingConfirmation({ enabled }) {
  useEffect(() => {
    const app = webApp();
    if (!app || !nativeControls("6.2")) return undefined;
    if (enabled) app.enableClosingConfirmation();
    else app.disableClosingConfirmation();
    return () => app.disableClosingConfirmation();
  }, [enabled]);
  return null;
}
