import { useEffect } from "react";
import { nativeControls } from "./telegram_bridge.jsx";

// A form the server hears nothing of until it is sent (components/form_draft.py).
//
// Inputs bound to state cost a Reflex event per pause in typing; on the send form that was
// three events for every transfer. Here what the member types stays in the tab's
// sessionStorage, so a reload, a resume or a backend restart puts it back, and Telegram asks
// before closing while any of it is filled in. The send event reads the inputs themselves;
// after a send the server clears the draft with window.appDrafts.clear(name).

const PREFIX = "draft:";
const storageKey = (form, id) => `${PREFIX}${form}:${id}`;

const storage = () => {
  try {
    return window.sessionStorage;
  } catch (e) {
    return null; // storage may be unavailable (private modes): the draft lives in the inputs
  }
};

const read = (key) => (storage() && storage().getItem(key)) || "";

const write = (key, value) => {
  const store = storage();
  if (!store) return;
  if (value) store.setItem(key, value);
  else store.removeItem(key);
};

const savedKeys = (form) => {
  const store = storage();
  if (!store) return [];
  const keys = [];
  for (let i = 0; i < store.length; i += 1) {
    const key = store.key(i);
    if (key && key.startsWith(`${PREFIX}${form}:`)) keys.push(key);
  }
  return keys;
};

const mounted = {}; // form name -> its input ids, while the form is on screen

const confirmClosing = (filled) => {
  if (!nativeControls("6.2")) return;
  const app = window.Telegram.WebApp;
  if (filled) app.enableClosingConfirmation();
  else app.disableClosingConfirmation();
};

const isFilled = (form) =>
  (mounted[form] || []).some((id) => {
    const input = document.getElementById(id);
    return !!(input ? input.value : read(storageKey(form, id)));
  });

const drafts = {
  // Also when the form is no longer on screen (the member left before the answer came):
  // what was sent must not come back as a draft.
  clear(form) {
    for (const key of savedKeys(form)) write(key, "");
    for (const id of mounted[form] || []) {
      const input = document.getElementById(id);
      if (input) input.value = "";
    }
    if (mounted[form]) confirmClosing(false);
  },
};
// The build prerenders pages where there is no window.
if (typeof window !== "undefined") window.appDrafts = drafts;

export function FormDraft({ name, fields }) {
  const ids = (fields || []).join(" ");
  useEffect(() => {
    const list = ids.split(" ").filter(Boolean);
    mounted[name] = list;
    for (const id of list) {
      const input = document.getElementById(id);
      const saved = read(storageKey(name, id));
      if (input && saved && !input.value) input.value = saved;
    }
    confirmClosing(isFilled(name));
    const onInput = (event) => {
      const target = event.target;
      if (!target || !list.includes(target.id)) return;
      write(storageKey(name, target.id), target.value);
      confirmClosing(isFilled(name));
    };
    document.addEventListener("input", onInput, true);
    return () => {
      document.removeEventListener("input", onInput, true);
      delete mounted[name];
      confirmClosing(false);
    };
  }, [name, ids]);
  return null;
}
