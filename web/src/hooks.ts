import { useEffect, useRef, useState } from "preact/hooks";
import type { Model } from "./model.js";

/** Re-renders the component whenever the model changes. */
export function useModel(model: Model): number {
  const [, setVersion] = useState(model.version);
  useEffect(() => model.subscribe(() => setVersion(model.version)), [model]);
  return model.version;
}

/**
 * Re-renders the component only when what `select` picks from the model
 * changes (compared shallowly: a value, or an array of values). Components
 * that show little (the header, the banner) use it, so a new message renders
 * the conversation and the list, not the whole page.
 */
export function useSelect<T>(model: Model, select: (m: Model) => T): T {
  const [, force] = useState(0);
  const value = select(model);
  const latest = useRef({ value, select });
  latest.current = { value, select };
  useEffect(
    () =>
      model.subscribe(() => {
        const next = latest.current.select(model);
        if (!shallowEqual(next, latest.current.value)) force((n) => n + 1);
      }),
    [model],
  );
  return value;
}

function shallowEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  return a.every((x, i) => Object.is(x, b[i]));
}

export type Route =
  | { name: "home" }
  | { name: "signin" }
  | { name: "conversation"; id: bigint }
  | { name: "directory" }
  | { name: "engagement" }
  | { name: "meetings"; meetingId?: bigint }
  | { name: "officeHours"; mentorId?: bigint }
  | { name: "settings" }
  | { name: "goals"; mentorshipId: bigint }
  | { name: "assignments"; mentorshipId?: bigint }
  | { name: "assignment"; id: bigint }
  | { name: "unknown"; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "") || "/";
  if (path === "/" || path === "") return { name: "home" };
  if (path === "/signin") return { name: "signin" };
  if (path === "/directory") return { name: "directory" };
  if (path === "/engagement") return { name: "engagement" };
  if (path === "/meetings") return { name: "meetings" };
  if (path === "/office-hours") return { name: "officeHours" };
  if (path === "/settings") return { name: "settings" };
  if (path === "/assignments") return { name: "assignments" };
  const goals = /^\/mentorships\/(\d{1,20})\/goals$/.exec(path);
  if (goals) return { name: "goals", mentorshipId: BigInt(goals[1]!) };
  const work = /^\/mentorships\/(\d{1,20})\/assignments$/.exec(path);
  if (work) return { name: "assignments", mentorshipId: BigInt(work[1]!) };
  const as = /^\/assignments\/(\d{1,20})$/.exec(path);
  if (as) return { name: "assignment", id: BigInt(as[1]!) };
  const mt = /^\/meetings\/(\d{1,20})$/.exec(path);
  if (mt) return { name: "meetings", meetingId: BigInt(mt[1]!) };
  const oh = /^\/office-hours\/(\d{1,20})$/.exec(path);
  if (oh) return { name: "officeHours", mentorId: BigInt(oh[1]!) };
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
export const meetingHref = (id: bigint): string => `#/meetings/${id}`;
export const goalsHref = (mentorshipId: bigint): string => `#/mentorships/${mentorshipId}/goals`;
export const assignmentsHref = (mentorshipId: bigint): string => `#/mentorships/${mentorshipId}/assignments`;
export const assignmentHref = (id: bigint): string => `#/assignments/${id}`;

/**
 * Date.now(), again every `everyMs`, and right after the time `nextAfter(now)`
 * gives (when given): the times that move a button in or out of view, such as
 * a meeting's start. The next time is found from the `now` returned, so a
 * render in between (an event) does not put the wake-up off.
 */
export function useNow(everyMs = 15_000, nextAfter?: (now: number) => number | undefined): number {
  const [now, setNow] = useState(Date.now());
  const nextAt = nextAfter?.(now);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    const wait = nextAt === undefined ? Infinity : nextAt - Date.now() + 20;
    const once =
      wait < everyMs ? setTimeout(() => setNow(Math.max(Date.now(), nextAt! + 1)), Math.max(0, wait)) : undefined;
    return () => {
      clearInterval(t);
      if (once !== undefined) clearTimeout(once);
    };
  }, [everyMs, nextAt]);
  return now;
}
