import { useEffect, useState } from "preact/hooks";
import type { Model } from "./model.js";

/** Re-renders the component whenever the model changes. */
export function useModel(model: Model): number {
  const [, setVersion] = useState(model.version);
  useEffect(() => model.subscribe(() => setVersion(model.version)), [model]);
  return model.version;
}

export type Route =
  | { name: "home" }
  | { name: "signin" }
  | { name: "conversation"; id: bigint }
  | { name: "directory" }
  | { name: "engagement" }
  | { name: "unknown"; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "") || "/";
  if (path === "/" || path === "") return { name: "home" };
  if (path === "/signin") return { name: "signin" };
  if (path === "/directory") return { name: "directory" };
  if (path === "/engagement") return { name: "engagement" };
  const m = /^\/c\/(\d{1,20})$/.exec(path);
  if (m) return { name: "conversation", id: BigInt(m[1]!) };
  return { name: "unknown", path };
}

export function useRoute(): Route {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const h = () => setHash(location.hash);
    window.addEventListener("hashchange", h);
    return () => window.removeEventListener("hashchange", h);
  }, []);
  return parseRoute(hash);
}

export function navigate(path: string): void {
  if (location.hash !== "#" + path) location.hash = path;
}

export const conversationHref = (id: bigint): string => `#/c/${id}`;
