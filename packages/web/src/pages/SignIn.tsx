/**
 * The sign-in page, shown when the server was started with `--token` and this browser has no live
 * session: the token typed here is sent once (`POST /api/runledger/session`) and never kept by the
 * page; the server answers an HttpOnly cookie that every later request carries.
 */
import { useState } from "preact/hooks"
import { session } from "../api/client.ts"

export function SignIn({ notice, onSignedIn }: { readonly notice: string | null; readonly onSignedIn: () => void }) {
  const [token, setToken] = useState("")
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  return (
    <section class="signin">
      <h1>Sign in</h1>
      <p>This server needs its token (the one it was started with: <code>--token</code> or <code>$RUNLEDGER_TOKEN</code>).</p>
      {notice ? <p class="warning" role="note">{notice}</p> : null}
      <form
        onSubmit={(e) => {
          e.preventDefault()
          setError(null)
          setBusy(true)
          session.signIn(token).then(
            () => {
              setToken("")
              onSignedIn()
            },
            (x: Error) => {
              setBusy(false)
              setError(x.message)
            }
          )
        }}
      >
        <label>
          Token{" "}
          <input type="password" name="token" autoComplete="current-password" autoFocus required value={token} onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)} />
        </label>{" "}
        <button type="submit" disabled={busy || token === ""}>Sign in</button>
      </form>
      {error ? <p class="error" role="alert">{error}</p> : null}
    </section>
  )
}
