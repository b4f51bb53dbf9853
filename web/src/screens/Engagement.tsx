import { MentorshipState, type GetFitSummaryResult } from "@preceptor/client";
import { useEffect, useState } from "preact/hooks";
import { downloadText, toCsv } from "../csv.js";
import { fullTime, isoTime, purposeLabel, shortTime, stateLabel } from "../labels.js";
import { ENGAGEMENT_CSV_HEADER, engagementCsvRow } from "./engagement-csv.js";
import { useModel } from "../hooks.js";
import type { Model } from "../model.js";

type Filter = "all" | "active" | "overdue";

export function EngagementScreen({ model }: { model: Model }) {
  useModel(model);
  const [filter, setFilter] = useState<Filter>("all");
  const [fit, setFit] = useState<GetFitSummaryResult | null>(null);
  useEffect(() => {
    void model.refreshLists();
    model.client
      .call("getFitSummary", {})
      .then(setFit)
      .catch(() => setFit(null)); // a server without it: no line
  }, []);

  const all = [...model.mentorships.values()]
    .filter((v) => v.mentorship)
    .sort((a, b) => (a.mentorship!.id < b.mentorship!.id ? -1 : 1));
  const rows = all.filter((v) =>
    filter === "all"
      ? true
      : filter === "active"
        ? v.mentorship!.state === MentorshipState.ACTIVE
        : v.engagement?.checkinOverdue,
  );
  const overdue = all.filter((v) => v.engagement?.checkinOverdue).length;
  const active = all.filter((v) => v.mentorship!.state === MentorshipState.ACTIVE).length;

  function download() {
    const stamp = new Date().toISOString().slice(0, 10);
    downloadText(`preceptor-engagement-${stamp}.csv`, toCsv(ENGAGEMENT_CSV_HEADER, rows.map(engagementCsvRow)));
  }

  return (
    <section aria-labelledby="engagement-title" class="engagement">
      <div class="title-row">
        <h1 id="engagement-title">Engagement</h1>
        <div class="actions">
          <button type="button" class="btn" onClick={() => model.refreshLists()}>
            Refresh
          </button>
          <button type="button" class="btn btn-primary" onClick={download} disabled={!model.listsLoaded}>
            Download CSV
          </button>
        </div>
      </div>
      <p class="muted">
        Metadata only: who is paired, how often they are in touch and meet, whether check-ins are overdue, and how many
        assignments and goals they have. Message content, agendas, meeting notes, assignment titles, documents, comments
        and goal texts are never shown here.
      </p>
      <p class="stats">
        <span>
          <strong>{all.length}</strong> mentorships
        </span>
        <span>
          <strong>{active}</strong> active
        </span>
        <span>
          <strong>{overdue}</strong> with a check-in overdue
        </span>
        {fit && (
          <span data-testid="fit-summary">
            "A good fit?" after a first meeting: <strong>{String(fit.yes)}</strong> yes, <strong>{String(fit.unsure)}</strong>{" "}
            unsure, <strong>{String(fit.no)}</strong> no
          </span>
        )}
      </p>
      <fieldset class="choices choices-inline">
        <legend class="visually-hidden">Show</legend>
        {(["all", "active", "overdue"] as Filter[]).map((f) => (
          <label key={f} class="choice">
            <input type="radio" name="engagement-filter" checked={filter === f} onChange={() => setFilter(f)} />
            {f === "all" ? "All" : f === "active" ? "Active" : "Check-in overdue"}
          </label>
        ))}
      </fieldset>
      {!model.listsLoaded ? (
        <p class="muted" role="status">
          {model.listsError || "Loading…"}
        </p>
      ) : rows.length === 0 ? (
        <p class="muted">No mentorships to show.</p>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Engagement table (scrolls sideways)">
          <table class="table" data-testid="engagement-table">
            <thead>
              <tr>
                <th scope="col">Mentor</th>
                <th scope="col">Mentee</th>
                <th scope="col">Purpose</th>
                <th scope="col">State</th>
                <th scope="col">Started</th>
                <th scope="col">Last contact</th>
                <th scope="col" class="num">
                  Messages
                </th>
                <th scope="col" class="num">
                  Check-ins
                </th>
                <th scope="col">Check-in overdue</th>
                <th scope="col" class="num">
                  Meetings held
                </th>
                <th scope="col" class="num">
                  Upcoming
                </th>
                <th scope="col" class="num">
                  No-shows
                </th>
                <th scope="col" class="num">
                  Assignments open
                </th>
                <th scope="col" class="num">
                  Overdue
                </th>
                <th scope="col" class="num">
                  Approved
                </th>
                <th scope="col" class="num">
                  Goals open
                </th>
                <th scope="col" class="num">
                  Goals done
                </th>
                <th scope="col">Last reassessment</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((v) => {
                const m = v.mentorship!;
                const e = v.engagement;
                return (
                  <tr key={String(m.id)} class={e?.checkinOverdue ? "row-overdue" : ""}>
                    <td>{v.mentor?.displayName}</td>
                    <td>{v.mentee?.displayName}</td>
                    <td>{purposeLabel(m.purpose)}</td>
                    <td>
                      <span class={`state state-${stateLabel(m.state).toLowerCase()}`}>{stateLabel(m.state)}</span>
                    </td>
                    <td>
                      {m.startedAtMs ? <time dateTime={isoTime(m.startedAtMs)}>{shortTime(m.startedAtMs)}</time> : "—"}
                    </td>
                    <td>
                      {e?.lastContactMs ? (
                        <time dateTime={isoTime(e.lastContactMs)} title={fullTime(e.lastContactMs)}>
                          {shortTime(e.lastContactMs)}
                        </time>
                      ) : (
                        "—"
                      )}
                    </td>
                    <td class="num">{String(e?.messageCount ?? 0n)}</td>
                    <td class="num">{String(e?.checkinCount ?? 0n)}</td>
                    <td>
                      {e?.checkinOverdue ? (
                        <strong class="overdue">Yes, since {shortTime(e.checkinDueSinceMs)}</strong>
                      ) : (
                        "No"
                      )}
                    </td>
                    <td class="num">{String(e?.meetingsHeld ?? 0n)}</td>
                    <td class="num">{String(e?.meetingsUpcoming ?? 0n)}</td>
                    <td class="num">{String(e?.meetingNoShows ?? 0n)}</td>
                    <td class="num">{String(e?.assignmentsOpen ?? 0n)}</td>
                    <td class="num">
                      {e?.assignmentsOverdue ? <strong class="overdue">{String(e.assignmentsOverdue)}</strong> : "0"}
                    </td>
                    <td class="num">{String(e?.assignmentsApproved ?? 0n)}</td>
                    <td class="num">{String(e?.goalsOpen ?? 0n)}</td>
                    <td class="num">{String(e?.goalsDone ?? 0n)}</td>
                    <td>
                      {e?.lastReassessmentMs ? (
                        <time dateTime={isoTime(e.lastReassessmentMs)} title={fullTime(e.lastReassessmentMs)}>
                          {shortTime(e.lastReassessmentMs)}
                        </time>
                      ) : (
                        "Never"
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
