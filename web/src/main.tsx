import { render } from "preact";
import { PreceptorClient, WebStorage } from "@preceptor/client";
import { App } from "./app.js";
import { Model } from "./model.js";
import "./styles/app.css";

const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/v1/ws";
const storage = new WebStorage();
// The SDK keeps its token under "preceptor.token": knowing a session is saved
// before the (async) start lets the first paint be the main screen.
let savedSession = false;
try {
  savedSession = localStorage.getItem("preceptor.token") !== null;
} catch {
  // Storage blocked: no saved session.
}

const client = new PreceptorClient({ url, storage, deviceName: deviceName() });
const model = new Model(client, savedSession);

window.addEventListener("online", () => model.setBrowserOffline(false));
window.addEventListener("offline", () => model.setBrowserOffline(true));
window.addEventListener("pagehide", () => model.flushReads());
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") model.flushReads();
});

render(<App model={model} />, document.getElementById("app")!);
model.start().catch((err) => model.notify(`Could not start: ${String(err)}`, "error"));

function deviceName(): string {
  const ua = navigator.userAgent;
  const browser = /Firefox\//.test(ua) ? "Firefox" : /Edg\//.test(ua) ? "Edge" : /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS X/.test(ua) ? "macOS" : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "";
  return `Web: ${browser}${os ? " on " + os : ""}`;
}
