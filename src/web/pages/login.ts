import { html, type SafeHtml } from "../html.js";
import { layout } from "../layout.js";

export function loginPage(next: string, error?: string): SafeHtml {
  const body = html`<section class="card login">
    <h1>Sign in</h1>
    <p>Paste an API token. An administrator creates one with</p>
    <pre class="command">npx fleetledger token create --name me --role admin --json</pre>
    ${error && html`<p class="alert-box" role="alert">${error}</p>`}
    <form method="post" action="/login">
      <input type="hidden" name="next" value="${next}">
      <label for="token">API token</label>
      <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required autofocus
        placeholder="flt_…">
      <button type="submit" class="primary">Sign in</button>
    </form>
  </section>`;
  return layout("Sign in", body, "login", { bare: true });
}
