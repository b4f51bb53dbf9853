import { useState } from "preact/hooks";
import { connectionText } from "../app.js";
import { useModel } from "../hooks.js";
import { errorText, type Model } from "../model.js";
import { FormError } from "../components/Dialog.js";

export function SignIn({ model }: { model: Model }) {
  useModel(model);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const conn = connectionText(model);

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    if (busy) return;
    setError("");
    if (!username.trim() || !password) {
      setError("Enter your username and password.");
      return;
    }
    setBusy(true);
    try {
      await model.login(username.trim(), password);
      setPassword("");
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="signin">
      <form class="card signin-card" onSubmit={submit} noValidate aria-labelledby="signin-title">
        <h1 id="signin-title">
          <span class="brand-mark">Preceptor</span>
          <span class="signin-sub">Sign in to your mentorship program</span>
        </h1>
        {model.signedOutReason && (
          <p class="banner banner-wait" role="status">
            {model.signedOutReason}
          </p>
        )}
        <div class="field">
          <label for="username">Username</label>
          <input
            id="username"
            name="username"
            autocomplete="username"
            autocapitalize="none"
            spellcheck={false}
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
            required
          />
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            required
          />
        </div>
        <FormError error={error} testId="signin-error" />
        <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <p class="muted small" role="status">
          {conn.kind === "ok" || model.conn.state === "connected" ? "Connected to the server." : conn.text}
        </p>
      </form>
    </main>
  );
}
