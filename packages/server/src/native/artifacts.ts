/**
 * A run's artifacts: the list, and one artifact's bytes with the media type it was stored with.
 * The path only selects among the run's recorded artifacts (content-addressed), never a file on
 * disk. Every artifact is served under a CSP that runs no script and loads nothing (an SVG or HTML
 * artifact is a document a browser would otherwise run), and nosniff.
 */
import { NotFound } from "@runledger/runtime"
import { Schema } from "effect"
import { route } from "./route.ts"
import { ArtifactEntry } from "./schemas.ts"

const SAFE_HEADERS = {
  "content-security-policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox",
  "x-content-type-options": "nosniff"
}

export const ARTIFACT_ROUTES = [
  route({
    method: "GET",
    path: "/api/runledger/runs/{runId}/artifacts",
    summary: "A run's artifacts: path, size, sha256 and media type of each.",
    response: Schema.Struct({ artifacts: Schema.Array(ArtifactEntry) }),
    handle: async ({ params }, { tracker }) => ({ artifacts: (await tracker.getRun(params.runId)).artifacts })
  }),
  route({
    method: "GET",
    path: "/api/runledger/runs/{runId}/artifacts/{path+}",
    summary: "One artifact's bytes, with the media type it was stored with (served with a CSP that runs no script).",
    response: { contentType: "application/octet-stream", description: "The artifact's bytes; Content-Type is its stored media type." },
    handle: async ({ params }, { tracker }) => {
      const run = await tracker.getRun(params.runId)
      const artifact = run.artifacts.find((a) => a.path === params.path)
      if (artifact === undefined) {
        throw new NotFound({ kind: "artifact", id: `${run.id}/${params.path}`, message: `Run ${run.id} has no artifact ${JSON.stringify(params.path)}; GET /api/runledger/runs/${run.id}/artifacts lists them.` })
      }
      const bytes = await tracker.readArtifact(run.id, artifact.path)
      return new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { "content-type": artifact.mediaType, "content-length": String(bytes.byteLength), ...SAFE_HEADERS } })
    }
  })
]
