/**
 * MLflow's artifacts: `artifacts/list`, and the artifact proxy the client uses for runs whose
 * artifact_uri is `mlflow-artifacts:/<experiment>/<run>/artifacts` (entities.ts):
 * `/api/2.0/mlflow-artifacts/artifacts/<experiment>/<run>/artifacts/<path>`: PUT uploads, GET
 * downloads, and GET on the bare prefix with `?path=` lists.
 *
 * Artifacts are immutable in runledger (an event names a content address; a second upload to a
 * path is a new event, and the log keeps both), so DELETE is refused. A path with a `..` segment, a leading `/`,
 * a backslash or a NUL is refused before a byte is read. Bytes go to the store's artifact store
 * only, by content address: no path from a request ever names a file on disk.
 */
import type { RunView } from "@runledger/runtime"
import { call, experimentIdOf, type Handler, type MlflowContext, type Route, run } from "./context.ts"
import { runArtifactUri } from "./entities.ts"
import { invalidParameter, MlflowError } from "./errors.ts"
import { optionalString, runIdOf } from "./json.ts"
import { runById } from "./runs.ts"
import { recordMlflow } from "./writes.ts"

/** A relative artifact path, or "" for the root; anything that could step outside is refused. */
export const checkPath = (path: string): string => {
  if (path.includes("\0")) throw invalidParameter("An artifact path must not contain a NUL character.")
  if (path.includes("\\")) throw invalidParameter(`Invalid artifact path ${JSON.stringify(path)}: use '/' to separate directories, not '\\'.`)
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) throw invalidParameter(`Invalid artifact path ${JSON.stringify(path)}: it must be relative, not absolute.`)
  const trimmed = path.replace(/\/+$/, "")
  if (trimmed.split("/").some((s) => s === ".." || s === ".")) {
    throw invalidParameter(`Invalid artifact path ${JSON.stringify(path)}: '..' and '.' segments are not allowed.`)
  }
  if (trimmed.split("/").some((s) => s === "") && trimmed !== "") throw invalidParameter(`Invalid artifact path ${JSON.stringify(path)}: it has an empty segment ('//').`)
  return trimmed
}

type ArtifactRef = RunView["artifacts"][number]

interface FileInfo {
  readonly path: string
  readonly is_dir: boolean
  readonly file_size?: number
}

/** The direct children of `dir` ("" for the root), directories first, as MLflow lists them. */
const listing = (artifacts: ReadonlyArray<ArtifactRef>, dir: string): FileInfo[] => {
  const prefix = dir === "" ? "" : `${dir}/`
  const dirs = new Set<string>()
  const files: FileInfo[] = []
  for (const a of artifacts) {
    if (!a.path.startsWith(prefix)) continue
    const rest = a.path.slice(prefix.length)
    const slash = rest.indexOf("/")
    if (slash === -1) files.push({ path: a.path, is_dir: false, file_size: a.size })
    else dirs.add(prefix + rest.slice(0, slash))
  }
  return [...[...dirs].sort().map((path) => ({ path, is_dir: true })), ...files.sort((a, b) => a.path.localeCompare(b.path))]
}

const list: Handler = async (ctx, f) => {
  const view = await runById(ctx, runIdOf(f))
  const dir = checkPath(optionalString(f, "path") ?? "")
  return { root_uri: runArtifactUri(view.experimentId, view.id), files: listing(view.artifacts, dir) }
}

export const ARTIFACT_ROUTES: ReadonlyArray<Route> = [
  ["GET", "artifacts/list", list]
]

// -- the proxy -----------------------------------------------------------------

export interface ProxyTarget {
  readonly runId: string
  readonly path: string
  /** Whether the run was deleted when the target was read (an upload's early check). */
  readonly deleted: boolean
}

/** `<experiment>/<run>/artifacts[/<path>]` of the proxy, checked against the run it names. */
export const proxyTarget = async (ctx: MlflowContext, proxyPath: string): Promise<ProxyTarget> => {
  const m = /^([^/]+)\/([^/]+)\/artifacts(?:\/(.*))?$/.exec(proxyPath)
  if (m === null) {
    throw invalidParameter(`Invalid artifact location ${JSON.stringify(proxyPath)}: expected <experiment id>/<run id>/artifacts/<path>, as in a run's artifact_uri.`)
  }
  const path = checkPath(m[3] ?? "")
  const view = await runById(ctx, m[2])
  if (view.experimentId !== experimentIdOf(ctx, m[1])) {
    throw new MlflowError("RESOURCE_DOES_NOT_EXIST", `Run ${view.id} is not in experiment ${m[1]}; use the run's artifact_uri.`)
  }
  return { runId: view.id, path, deleted: view.lifecycle === "deleted" }
}

/**
 * What can be told before an upload's bytes are read, so a refused upload stores no blob: a file
 * path, and a run that takes writes. The tracker decides the rest when the event is appended.
 */
export const checkUpload = (target: ProxyTarget): void => {
  if (target.path === "") throw invalidParameter("An upload needs a file path after artifacts/.")
  if (target.deleted) throw invalidParameter(`Run ${target.runId} is deleted; restore it before uploading artifacts to it.`)
}

/** Store an uploaded file (already on local disk) as the run's artifact at `target.path`. */
export const storeUpload = async (ctx: MlflowContext, target: ProxyTarget, file: string, mediaType: string): Promise<void> => {
  const blob = await run(ctx.tracker.effect.putArtifact({ file }))
  await recordMlflow(ctx, target.runId, [{ _tag: "StoreArtifact", path: target.path, sha256: blob.sha256, size: blob.size, mediaType }])
}

export const download = (ctx: MlflowContext, target: ProxyTarget): Promise<Uint8Array> => call(ctx.tracker.readArtifact(target.runId, target.path))

/** The proxy's listing: paths relative to the listed directory, as MLflow's proxy gives them. */
export const proxyList = async (ctx: MlflowContext, target: ProxyTarget): Promise<{ files: ReadonlyArray<FileInfo> }> => {
  const view = await runById(ctx, target.runId)
  const cut = target.path === "" ? 0 : target.path.length + 1
  return { files: listing(view.artifacts, target.path).map((x) => ({ ...x, path: x.path.slice(cut) })) }
}

export const refuseDelete = (): never => {
  throw new MlflowError("PERMISSION_DENIED", "runledger's artifacts are immutable: the log keeps every artifact a run stored, so they cannot be deleted. Delete the run instead (it can be restored).")
}
