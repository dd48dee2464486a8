/**
 * Renaming a registered model over HTTP, on a real server over a real store: the native route
 * (and its OpenAPI entry), MLflow's endpoint under /ajax-api, renames racing to one name through
 * the server (exactly one wins), and the remote client's renameModel.
 */
import { openTracker } from "@runledger/runtime"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { mlflow, type ServerProcess, startServerProcess, storeDir } from "./helpers.ts"

const native = async (url: string, name: string, body: unknown) => {
  const res = await fetch(`${url}/api/runledger/models/${encodeURIComponent(name)}/rename`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
  return { status: res.status, json: (await res.json()) as { model?: Record<string, unknown>; error?: { message: string } } }
}

describe("renaming a model over HTTP", () => {
  let server: ServerProcess

  beforeAll(async () => {
    server = await startServerProcess(storeDir())
    for (const name of ["m1", "m2", "m3", "m4", "taken"]) expect((await mlflow(server.url, "POST", "registered-models/create", { name, description: `${name} text` })).status).toBe(200)
  })

  afterAll(async () => {
    await server?.stop()
  })

  it("the native route renames, and refuses unknown models, taken and bad names; OpenAPI describes it", async () => {
    const ok = await native(server.url, "m1", { newName: "m1 renamed" })
    expect(ok.status).toBe(200)
    expect(ok.json.model).toMatchObject({ name: "m1 renamed", description: "m1 text" })
    expect((await native(server.url, "m1", { newName: "x" })).status).toBe(404)
    const taken = await native(server.url, "m2", { newName: "taken" })
    expect(taken.status).toBe(400)
    expect(taken.json.error!.message).toContain("already registered")
    expect((await native(server.url, "m2", { newName: "" })).status).toBe(400)
    expect((await native(server.url, "m2", {})).status).toBe(400)
    const models = (await (await fetch(`${server.url}/api/runledger/models`)).json()) as { models: Array<{ name: string }> }
    expect(models.models.map((m) => m.name)).toEqual(["m1 renamed", "m2", "m3", "m4", "taken"])
    const doc = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> }
    expect(Object.keys(doc.paths["/api/runledger/models/{name}/rename"])).toEqual(["post"])
  })

  it("MLflow's rename under /ajax-api; two renames racing to one name through the server: exactly one wins", async () => {
    const res = await fetch(`${server.url}/ajax-api/2.0/mlflow/registered-models/rename`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "m2", new_name: "m2b" }) })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { registered_model: { name: string } }).registered_model.name).toBe("m2b")
    for (let round = 0; round < 3; round++) {
      const [a, b] = [`race-a${round}`, `race-b${round}`]
      for (const name of [a, b]) expect((await mlflow(server.url, "POST", "registered-models/create", { name })).status).toBe(200)
      const replies = await Promise.all([a, b].map((name) => mlflow(server.url, "POST", "registered-models/rename", { name, new_name: `race${round}` })))
      expect(replies.map((r) => r.status).sort()).toEqual([200, 400])
      const names = ((await mlflow(server.url, "GET", "registered-models/search", { max_results: 1000 })).json.registered_models as Array<{ name: string }>).map((m) => m.name)
      expect(names.filter((n) => n === `race${round}`).length).toBe(1)
      expect(names.filter((n) => n === a || n === b).length).toBe(1)
    }
  })

  it("the remote client renames through the server's store", async () => {
    const tracker = await openTracker({ uri: server.url })
    try {
      expect(await tracker.renameModel("m3", "m3 remote")).toMatchObject({ name: "m3 remote", description: "m3 text" })
      expect(await tracker.renameModel("m4", "taken").then(() => undefined, (e: unknown) => e)).toMatchObject({ _tag: "InvalidInput" })
    } finally {
      await tracker.close()
    }
    expect((await mlflow(server.url, "GET", "registered-models/get", { name: "m3 remote" })).status).toBe(200)
    expect((await mlflow(server.url, "GET", "registered-models/get", { name: "m3" })).json.error_code).toBe("RESOURCE_DOES_NOT_EXIST")
  })
})
