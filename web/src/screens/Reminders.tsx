import { meetingHref, useNow, useSelect } from "../hooks.js";
import { timeRange, whereText } from "../labels.js";
import { startsIn } from "../meetings.js";
import type { Model } from "../model.js";

/**
 * Meeting reminders the server sent (MeetingReminder), over every screen:
 * each stays until dismissed or its meeting ends, is cancelled or moved. The
 * live region is always there, so a reminder that comes in is announced.
 */
export function ReminderBanners({ model }: { model: Model }) {
  const mt = model.meetings;
  // Re-rendered when a reminder, its meeting or the minute shown changes.
  useSelect(model, (m) => m.meetings.activeReminders().flatMap((x) => [x.reminder, x.meeting]));
  const now = useNow(15_000);
  const shown = mt.activeReminders(now);
  const me = model.me?.id;
  return (
    <div role="status" aria-live="polite" class="reminders">
      {shown.map(({ reminder: r, meeting: m }) => {
        const other = model.userName(m.mentorId === me ? m.menteeId : m.mentorId);
        const start = Number(m.startMs);
        const soon = start > now ? `starts ${startsIn(start, now)}` : "has started";
        return (
          <div key={String(m.id)} class="banner banner-reminder" data-testid="reminder">
            <p>
              <strong>Reminder:</strong> your meeting with {other} {soon}:{" "}
              <time dateTime={new Date(start).toISOString()} data-testid="reminder-time">
                {timeRange(m.startMs, m.durationMinutes)}
              </time>{" "}
              (your time) · {whereText(m.where)}.
              {r.late && " This reminder comes late: the server could not send it on time."}
              {r.heldForQuietHours && !r.late && " Held until your quiet hours ended."}
            </p>
            <div class="actions">
              <a class="btn btn-small" href={meetingHref(m.id)}>
                Open meeting
              </a>
              <button type="button" class="btn btn-quiet btn-small" onClick={() => mt.dismissReminder(m.id)}>
                Dismiss<span class="visually-hidden"> the reminder</span>
              </button>
            </div>
          </div>
        );
      })}
    </div>
  );
}
