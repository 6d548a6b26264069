// Calls to the gateway's JSON routes, with the bearer token when one is set. The token is asked
// for once and kept in sessionStorage (this tab only).

import { $ } from "./dom.js";

const KEY = "mario.token";

export const auth = {
  required: document.querySelector('meta[name="mario-auth"]')?.getAttribute("content") === "token",
  get token() {
    return sessionStorage.getItem(KEY) ?? "";
  },
  set(token) {
    sessionStorage.setItem(KEY, token);
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
};

export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let asking;

/** Shows the token dialog; resolves once a token was entered. One dialog at a time. */
export function askToken(message) {
  asking ??= new Promise((resolve) => {
    const dialog = $("#token-dialog");
    const input = $("#token-input");
    $("#token-hint").textContent = message ?? "";
    input.value = "";
    const onSubmit = (event) => {
      event.preventDefault();
      const token = input.value.trim();
      if (token === "") {
        $("#token-hint").textContent = "Enter the token the gateway was started with.";
        return;
      }
      auth.set(token);
      $("#token-form").removeEventListener("submit", onSubmit);
      dialog.close();
      asking = undefined;
      resolve(token);
    };
    $("#token-form").addEventListener("submit", onSubmit);
    dialog.addEventListener("cancel", (event) => event.preventDefault());
    dialog.showModal();
    input.focus();
  });
  return asking;
}

/** fetch + JSON + the gateway's `{error:{code,message}}` shape; asks for the token on 401. */
export async function api(path, { method = "GET", body } = {}) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const headers = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (auth.token !== "") headers.authorization = `Bearer ${auth.token}`;
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    let payload;
    try {
      payload = text === "" ? undefined : JSON.parse(text);
    } catch {
      payload = undefined;
    }
    if (response.status === 401) {
      auth.clear();
      await askToken(payload?.error?.message ?? "The gateway refused the token.");
      continue;
    }
    if (!response.ok) {
      const message = payload?.error?.message ?? `${method} ${path}: HTTP ${response.status}`;
      throw new ApiError(message, response.status, payload?.error?.code);
    }
    return payload;
  }
  throw new ApiError("the gateway refused the token three times", 401, "UNAUTHORIZED");
}

let toastTimer;

/** A short message at the bottom of the page. */
export function toast(message, kind = "info") {
  const el = $("#toast");
  el.textContent = message;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, 4000);
}
