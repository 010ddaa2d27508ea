// An emulated Telegram client around the page, installed before any page script runs.
// telegram-web-app.js talks to a native client through window.TelegramWebviewProxy
// (page -> host) and window.Telegram.WebView.receiveEvent (host -> page); this stands in
// for the client: it records every postEvent and answers the requests a client answers.
// `__TG_HOST_CONFIG__` is replaced by the Python side with this launch's settings.
(() => {
  const config = __TG_HOST_CONFIG__;
  const host = {
    config,
    posted: [],
    hidden: false,
    mainButton: {},
    backButtonVisible: false,
    closingConfirmation: false,
    verticalSwipes: null,
  };
  window.__tgHost = host;

  // What the app sent to its server (Reflex's instrumentation hook), so a test can show
  // that a minimized app stays quiet.
  host.sent = [];
  host.received = [];
  host.socket = [];
  // Hooks the app may have installed itself (reflex-otel) keep working.
  const previous = window.__reflex_otel || {};
  const chain = (name, record) =>
    function (...args) {
      record(...args);
      return previous[name] ? previous[name].apply(this, args) : undefined;
    };
  window.__reflex_otel = Object.assign({}, previous, {
    onEventSend: chain("onEventSend", (event) => {
      host.sent.push({ name: event.name, at: Date.now() });
    }),
    onSocketConnect: chain("onSocketConnect", () => {
      host.socket.push({ connected: true, at: Date.now() });
    }),
    onSocketDisconnect: chain("onSocketDisconnect", (reason) => {
      host.socket.push({ connected: false, reason, at: Date.now() });
    }),
  });

  const deliver = (type, data) => {
    const webView = window.Telegram && window.Telegram.WebView;
    if (webView) webView.receiveEvent(type, data);
  };
  // Replies arrive asynchronously, as from a real client.
  host.send = (type, data) => setTimeout(() => deliver(type, data), 0);

  const viewport = () => ({
    height: config.viewport.height,
    is_expanded: config.viewport.is_expanded,
    is_state_stable: true,
  });

  const replies = {
    web_app_request_theme: () => host.send("theme_changed", { theme_params: config.theme }),
    web_app_request_viewport: () => host.send("viewport_changed", viewport()),
    web_app_request_safe_area: () => host.send("safe_area_changed", config.safe_area),
    web_app_request_content_safe_area: () =>
      host.send("content_safe_area_changed", config.content_safe_area),
    web_app_expand: () => {
      config.viewport.is_expanded = true;
      host.send("viewport_changed", viewport());
    },
    web_app_setup_main_button: (data) => {
      host.mainButton = data;
    },
    web_app_setup_back_button: (data) => {
      host.backButtonVisible = !!data.is_visible;
    },
    web_app_setup_closing_behavior: (data) => {
      host.closingConfirmation = !!data.need_confirmation;
    },
    web_app_setup_swipe_behavior: (data) => {
      host.verticalSwipes = !!data.allow_vertical_swipe;
    },
  };

  window.TelegramWebviewProxy = {
    postEvent(type, json) {
      let data = null;
      try {
        data = json ? JSON.parse(json) : null;
      } catch (e) {
        data = json;
      }
      host.posted.push({ type, data, at: Date.now() });
      const reply = replies[type];
      if (reply) reply(data || {});
    },
  };

  // The network, as far as WebSockets go: Chromium's offline emulation (which the kit also
  // turns on, for HTTP) leaves open WebSockets alone, so going offline here closes them
  // and points new ones at a closed port until the network is back.
  const NativeWebSocket = window.WebSocket;
  host.offline = false;
  host.sockets = new Set();
  class HostWebSocket extends NativeWebSocket {
    constructor(url, protocols) {
      const target = host.offline ? String(url).replace(/^(wss?:\/\/)[^/]+/, "$1127.0.0.1:9") : url;
      super(target, protocols);
      host.sockets.add(this);
      this.addEventListener("close", () => host.sockets.delete(this));
      // What the server sent this page (state updates, pushes), as it arrived.
      this.addEventListener("message", (event) => {
        if (!this.stalled && typeof event.data === "string") {
          host.received.push({ at: Date.now(), data: event.data });
        }
      });
    }
    // A stalled socket (a phone that slept behind a NAT that forgot it) stays open and
    // silently loses every frame, both ways.
    send(data) {
      if (!this.stalled) super.send(data);
    }
    set onmessage(handler) {
      super.onmessage = handler && ((event) => this.stalled || handler.call(this, event));
    }
    get onmessage() {
      return super.onmessage;
    }
  }
  window.WebSocket = HostWebSocket;
  host.stallSockets = () => {
    host.sockets.forEach((socket) => {
      socket.stalled = true;
    });
  };
  host.setOffline = (offline) => {
    host.offline = offline;
    if (offline) host.sockets.forEach((socket) => socket.close(4000, "network lost"));
  };

  // The page's visibility, as a phone reports it when the client is minimized.
  const proto = Document.prototype;
  Object.defineProperty(proto, "visibilityState", {
    configurable: true,
    get: () => (host.hidden ? "hidden" : "visible"),
  });
  Object.defineProperty(proto, "hidden", { configurable: true, get: () => host.hidden });
  host.setHidden = (hidden) => {
    if (host.hidden === hidden) return;
    host.hidden = hidden;
    document.dispatchEvent(new Event("visibilitychange"));
  };
})();
