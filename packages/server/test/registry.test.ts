/**
 * MLflow's model registry calls, replayed from the bodies MLflow's own tests assert its client
 * sends (fixtures/mlflow-registry-requests.json), against a real server over a real store.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cli, mlflow, type Replayed, replay, type ServerProcess, startServerProcess, steps, storeDir } from "./helpers.ts"

const fixture = steps("mlflow-registry-requests.json")

describe("MLflow's registry calls, replayed", () => {
  let server: ServerProcess
  let dir = ""
  let vars: Record<string, string> = {}
  let replies: ReadonlyArray<Replayed> = []

  beforeAll(async () => {
    dir = storeDir()
    server = await startServerProcess(dir)
    ;({ vars, replies } = await replay(server.url, fixture))
  })

  afterAll(async () => {
    await server?.stop()
  })

  const reply = (call: string) => replies.find((r) => r.step.call === call)!.json

  it("answers every request with MLflow's status and error code", () => {
    expect(replies.map((r) => ({ call: r.step.call, status: r.status, error_code: r.json.error_code }))).toEqual(
      fixture.map((s) => ({ call: s.call, status: s.expect.status, error_code: s.expect.error_code }))
    )
  })

  it("shows the version as MLflow's entities: version a string, stage and alias, the run's source", () => {
    expect(reply("create_model_version (CreateModelVersion from the run)").model_version).toMatchObject({
      name: "model_1",
      version: "1",
      current_stage: "None",
      source: `runs:/${vars.RUN}/model`,
      run_id: vars.RUN,
      status: "READY"
    })
    expect(reply("get_latest_versions (GetLatestVersions, POST)").model_versions).toEqual([expect.objectContaining({ version: "1", current_stage: "Production" })])
    expect(reply("get_model_version_by_alias (GetModelVersionByAlias)").model_version).toMatchObject({ version: "1", aliases: ["test_alias"] })
    expect(reply("get_registered_model (GetRegisteredModel)").registered_model).toMatchObject({
      name: "model_1",
      description: "best model ever",
      tags: [{ key: "key", value: "value" }, { key: "anotherKey", value: "some other value" }],
      aliases: [{ alias: "test_alias", version: "1" }],
      latest_versions: [expect.objectContaining({ version: "1", current_stage: "Production" })]
    })
    expect((reply("search_registered_models by name").registered_models as unknown[]).length).toBe(1)
    // update_registered_model and update_model_version replace the descriptions: the answers and later reads show them.
    expect(reply("update_registered_model (UpdateRegisteredModel)").registered_model).toMatchObject({ name: "model_1", description: "test model" })
    expect(reply("update_model_version (UpdateModelVersion)").model_version).toMatchObject({ version: "1", description: "test model" })
    expect(reply("get_model_version after the update").model_version).toMatchObject({ version: "1", description: "test model" })
    expect(reply("get_registered_model after the update").registered_model).toMatchObject({ description: "test model" })
    expect((reply("search_model_versions (SearchModelVersions, as in the test)").model_versions as unknown[]).length).toBe(1)
    // The rename moves the model with its versions and stages; renamed back, it is the same model again.
    expect(reply("rename_registered_model (RenameRegisteredModel)").registered_model).toMatchObject({
      name: "model_2",
      description: "best model ever",
      tags: [{ key: "key", value: "value" }, { key: "anotherKey", value: "some other value" }],
      latest_versions: [expect.objectContaining({ name: "model_2", version: "1", current_stage: "Production" })]
    })
    expect(reply("get_model_version by the new name after the rename").model_version).toMatchObject({ name: "model_2", version: "1", run_id: vars.RUN })
    expect(reply("rename_registered_model back to the old name").registered_model).toMatchObject({ name: "model_1", latest_versions: [expect.objectContaining({ version: "1", current_stage: "Production" })] })
  })

  it("records runs/log-model as MLflow's server does: the model's JSON in the run's mlflow.log-model.history tag", async () => {
    const { json } = await mlflow(server.url, "GET", "runs/get", { run_id: vars.RUN })
    const tags = (json.run as { data: { tags: Array<{ key: string; value: string }> } }).data.tags
    const history = JSON.parse(tags.find((t) => t.key === "mlflow.log-model.history")!.value) as Array<{ artifact_path: string; run_id: string }>
    expect(history).toEqual([expect.objectContaining({ artifact_path: "model", run_id: vars.RUN })])
  })

  it("delete_registered_model leaves the model's events in the log, and no row of it in the read model", async () => {
    const sql = await cli(["sql", "SELECT (SELECT count(*) FROM models) AS models, (SELECT count(*) FROM model_versions) AS versions, (SELECT count(*) FROM model_aliases) AS aliases", "--json", "--dir", dir])
    expect(sql.status, sql.stderr).toBe(0)
    expect(JSON.parse(sql.stdout)).toEqual([{ models: 0, versions: 0, aliases: 0 }])
    const text = await (await fetch(`${server.url}/api/runledger/events?stream=model-model_1`)).text()
    const types = text.trim().split("\n").map((l) => (JSON.parse(l) as { type: string }).type)
    expect(types[0]).toBe("ModelRegistered")
    expect(types[types.length - 1]).toBe("ModelDeleted")
    expect(types).toContain("ModelDescribed")
    // Its models:/ URI no longer resolves.
    const download = await cli(["models", "download", "models:/model_1/1", "--out", `${dir}-download`, "--dir", dir])
    expect(download.status).not.toBe(0)
    expect(download.stderr).toContain('No registered model "model_1"')
  })
})
