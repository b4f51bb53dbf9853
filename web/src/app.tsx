import { Role } from "@preceptor/client";
import { useEffect, useState } from "preact/hooks";

const BANNER_DELAY_MS = 700;
import { navigate, useRoute, useSelect, type Route } from "./hooks.js";
import { roleLabel } from "./labels.js";
import type { Model } from "./model.js";
import { AssignmentScreen, AssignmentsScreen } from "./screens/Assignments.js";
import { CallPanel } from "./screens/Call.js";
import { ConversationScreen } from "./screens/Conversation.js";
import { DirectoryScreen } from "./screens/Directory.js";
import { EngagementScreen } from "./screens/Engagement.js";
import { GoalsScreen } from "./screens/Goals.js";
import { MeetingsScreen } from "./screens/Meetings.js";
import { MentorshipList } from "./screens/MentorshipList.js";
import { OfficeHoursScreen } from "./screens/OfficeHours.js";
import { ReminderBanners } from "./screens/Reminders.js";
import { SettingsScreen } from "./screens/Settings.js";
import { SignIn } from "./screens/SignIn.js";
import { WorkBanners } from "./screens/WorkBanners.js";

export function App({ model }: { model: Model }) {
  // Only what decides the frame; each screen follows the model itself.
  useSelect(model, (m) => [m.signedIn, m.role, m.me?.id]);
  const route = useRoute();

  const signedIn = model.signedIn;
  useEffect(() => {
    if (signedIn && route.name === "signin") navigate("/");
  }, [signedIn, route.name]);

  if (!signedIn) return <SignIn model={model} />;

  const isDirector = model.role === Role.PROGRAM_DIRECTOR || model.role === Role.ADMIN;
  return (
    <div class="app">
      <a class="skip-link" href="#main" onClick={skipToMain}>
        Skip to content
      </a>
      <Header model={model} route={route} isDirector={isDirector} />
      <ConnectionBanner model={model} />
      <Notices model={model} />
      {!isDirector && <ReminderBanners model={model} />}
      {!isDirector && <WorkBanners model={model} />}
      <CallPanel model={model} />
      <Screen model={model} route={route} isDirector={isDirector} />
    </div>
  );
}

function skipToMain(e: MouseEvent) {
  e.preventDefault();
  document.getElementById("main")?.focus();
}

function Screen({ model, route, isDirector }: { model: Model; route: Route; isDirector: boolean }) {
  switch (route.name) {
    case "home":
    case "signin":
      if (isDirector) {
        return (
          <main id="main" tabIndex={-1} class="page">
            <EngagementScreen model={model} />
          </main>
        );
      }
      return (
        <main id="main" tabIndex={-1} class="page page-narrow">
          <MentorshipList model={model} />
        </main>
      );
    case "engagement":
      return (
        <main id="main" tabIndex={-1} class="page">
          <EngagementScreen model={model} />
        </main>
      );
    case "directory":
      return (
        <main id="main" tabIndex={-1} class="page page-narrow">
          <DirectoryScreen model={model} />
        </main>
      );
    case "meetings":
      return (
        <main id="main" tabIndex={-1} class="page page-narrow">
          <MeetingsScreen model={model} focusId={route.meetingId} />
        </main>
      );
    case "officeHours":
      return (
        <main id="main" tabIndex={-1} class="page page-narrow">
          <OfficeHoursScreen key={String(route.mentorId ?? "")} model={model} mentorId={route.mentorId} />
        </main>
      );
    case "settings":
      return (
        <main id="main" tabIndex={-1} class="page page-narrow">
          <SettingsScreen model={model} />
        </main>
      );
    case "goals":
      return (
        <main id="main" tabIndex={-1} class="page page-narrow">
          <GoalsScreen key={String(route.mentorshipId)} model={model} mentorshipId={route.mentorshipId} />
        </main>
      );
    case "assignments":
      return (
        <main id="main" tabIndex={-1} class="page page-narrow">
          <AssignmentsScreen key={String(route.mentorshipId ?? "")} model={model} mentorshipId={route.mentorshipId} />
        </main>
      );
    case "assignment":
      return (
        <main id="main" tabIndex={-1} class="page page-narrow">
          <AssignmentScreen key={String(route.id)} model={model} id={route.id} />
        </main>
      );
    case "conversation":
      return (
        <div class="split">
          <aside class="split-list" aria-label="Mentorships">
            <MentorshipList model={model} compact currentConversation={route.id} />
          </aside>
          <main id="main" tabIndex={-1} class="split-main">
            <ConversationScreen key={String(route.id)} model={model} id={route.id} />
          </main>
        </div>
      );
    case "unknown":
      return (
        <main id="main" tabIndex={-1} class="page page-narrow">
          <div class="empty" role="alert">
            <h1>Page not found</h1>
            <p>There is nothing at this address.</p>
            <p>
              <a href="#/">Back to your mentorships</a>
            </p>
          </div>
        </main>
      );
  }
}

function Header({ model, route, isDirector }: { model: Model; route: Route; isDirector: boolean }) {
  useSelect(model, (m) => [m.me, m.role]);
  const me = model.me;
  const isMentee = model.role === Role.MENTEE;
  const member = isMentee || model.role === Role.MENTOR;
  const current = (name: Route["name"]) => (route.name === name ? "page" : undefined);
  return (
    <header class="topbar">
      <a class="brand" href="#/">
        Preceptor
      </a>
      <nav class="topnav" aria-label="Main">
        {isDirector ? (
          <a href="#/engagement" aria-current={current("engagement") ?? current("home")}>
            Engagement
          </a>
        ) : (
          <a href="#/" aria-current={current("home") ?? current("conversation")}>
            Mentorships
          </a>
        )}
        {member && (
          <a href="#/meetings" aria-current={current("meetings")}>
            Meetings
          </a>
        )}
        {member && (
          <a href="#/assignments" aria-current={current("assignments") ?? current("assignment")}>
            Assignments
          </a>
        )}
        {member && (
          <a href="#/office-hours" aria-current={current("officeHours")}>
            Office hours
          </a>
        )}
        {isMentee && (
          <a href="#/directory" aria-current={current("directory")}>
            Find a mentor
          </a>
        )}
        {member && (
          <a href="#/settings" aria-current={current("settings")}>
            Settings
          </a>
        )}
      </nav>
      <ConnectionPill model={model} />
      <div class="me">
        {me && (
          <span class="me-name" title={roleLabel(me.role)}>
            {me.displayName}
            <span class="me-role"> · {roleLabel(me.role)}</span>
          </span>
        )}
        <button
          type="button"
          class="btn btn-quiet"
          onClick={async () => {
            await model.logout();
            location.hash = "#/signin";
            location.reload();
          }}
        >
          Sign out
        </button>
      </div>
    </header>
  );
}

export function connectionText(model: Model): { text: string; kind: "ok" | "wait" | "off" } {
  const c = model.conn;
  if (model.browserOffline) return { text: "Offline", kind: "off" };
  switch (c.state) {
    case "authenticated":
      return { text: "Online", kind: "ok" };
    case "connecting":
      return { text: model.everAuthenticated ? "Reconnecting…" : "Connecting…", kind: "wait" };
    case "connected":
      return { text: "Signing in…", kind: "wait" };
    case "disconnected":
      if (!c.willReconnect) return { text: "Offline", kind: "off" };
      return { text: model.everAuthenticated ? "Reconnecting…" : "Connecting…", kind: "wait" };
  }
}

function ConnectionPill({ model }: { model: Model }) {
  useSelect(model, (m) => connectionText(m).text);
  const { text, kind } = connectionText(model);
  return (
    <span class={`pill pill-${kind}`} data-testid="connection-pill">
      <span class="dot" aria-hidden="true" />
      {text}
    </span>
  );
}

/** Shown whenever the app is not live: what is typed waits in the outbox. */
function ConnectionBanner({ model }: { model: Model }) {
  useSelect(model, (m) => [connectionText(m).text, m.outbox.length]);
  const { text, kind } = connectionText(model);
  const pending = model.outbox.length;
  // A link that comes up (or back) within a moment shows no banner, only the
  // pill; "Offline" and anything with messages waiting show at once.
  const [waited, setWaited] = useState(false);
  useEffect(() => {
    if (kind !== "wait") {
      setWaited(false);
      return;
    }
    const t = setTimeout(() => setWaited(true), BANNER_DELAY_MS);
    return () => clearTimeout(t);
  }, [kind]);
  const show = kind === "off" || (kind === "wait" && (waited || pending > 0));
  return (
    <div role="status" aria-live="polite" class="banner-slot">
      {show && (
        <div class={`banner banner-${kind}`} data-testid="connection-banner">
          <strong>{text}</strong>
          {kind === "off"
            ? " You can keep writing; messages are sent when you are back online."
            : " Messages you write are kept and sent once the connection is back."}
          {pending > 0 && ` ${pending} waiting to be sent.`}
        </div>
      )}
    </div>
  );
}

function Notices({ model }: { model: Model }) {
  useSelect(model, (m) => m.notices);
  if (model.notices.length === 0) return null;
  return (
    <div class="notices" role="alert">
      {model.notices.map((n) => (
        <div key={n.id} class={`notice notice-${n.kind}`}>
          <span>{n.text}</span>
          <button type="button" class="btn btn-quiet btn-small" onClick={() => model.dismiss(n.id)}>
            Dismiss
          </button>
        </div>
      ))}
    </div>
  );
}
