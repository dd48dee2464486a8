/**
 * Time travel: the state as of a moment (an ISO date-time) or a log position (digits), exactly as the
 * CLI's --as-of reads it. The value lives in the URL (`asOf=`), so the past view is a link too.
 */
import { useEffect, useState } from "preact/hooks"

export function AsOf(props: { readonly value: string | undefined; readonly onChange: (asOf: string | undefined) => void }) {
  const [text, setText] = useState(props.value ?? "")
  useEffect(() => setText(props.value ?? ""), [props.value])
  const apply = () => {
    const t = text.trim()
    props.onChange(t === "" ? undefined : t)
  }
  return (
    <form
      class="asof"
      role="search"
      aria-label="Time travel"
      onSubmit={(e) => {
        e.preventDefault()
        apply()
      }}
    >
      <label>
        As of{" "}
        <input
          name="asOf"
          value={text}
          placeholder="2026-11-30T12:00 or log position"
          onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
          aria-describedby="asof-help"
        />
      </label>
      <button type="submit">Go</button>
      {props.value !== undefined ? (
        <button type="button" onClick={() => props.onChange(undefined)}>
          Now
        </button>
      ) : null}
      <span id="asof-help" class="hint">
        {props.value !== undefined ? `Showing the state as of ${props.value}.` : "Now (live)."}
      </span>
    </form>
  )
}
