import { useState } from "preact/hooks";
import { errorText, type Model } from "../model.js";
import { downloadPortfolio } from "../upload.js";

/** "Portfolio (.zip)": the mentorship's approved versions, reviews, goals and reassessments, for either member. */
export function PortfolioButton({ model, mentorshipId }: { model: Model; mentorshipId: bigint }) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      class="btn btn-small"
      disabled={busy}
      title="The approved versions, every review and comment, the goals with their history and the reassessments, as one .zip"
      onClick={async () => {
        setBusy(true);
        try {
          await downloadPortfolio(mentorshipId);
        } catch (err) {
          model.notify(`Could not download the portfolio: ${errorText(err)}`, "error");
        } finally {
          setBusy(false);
        }
      }}
    >
      {busy ? "Preparing the portfolio…" : "Portfolio (.zip)"}
    </button>
  );
}
