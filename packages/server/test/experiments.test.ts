/**
 * Experiment tags through MLflow's API: on experiments/create, by set-experiment-tag, returned by
 * experiments/get and search, refused on a deleted experiment with MLflow's error; and the same
 * tags in the CLI's listing and in the read model.
 */
import { afterAll, describe, expect, it } from "vitest"
import { parseListing } from "../../cli/test/formats.ts"
import { cli, mlflow, type ServerProcess, startServerProcess, storeDir } from "./helpers.ts"

type Tagged = { experiment_id: string; name: string; tags: Array<{ key: string; value: string }> }
const tagsOf = (e: Tagged) => Object.fromEntries(e.tags.map((t) => [t.key, t.value]))

describe("experiment tags", () => {
  const servers: ServerProcess[] = []
  afterAll(async () => {
    for (const s of servers) await s.stop()
  })

  it("are set on create and by set-experiment-tag, shown by get, search (and filtered by), the CLI and the read model; a deleted experiment refuses them", async () => {
    const dir = storeDir()
    const server = await startServerProcess(dir)
    servers.push(server)
    const created = await mlflow(server.url, "POST", "experiments/create", { name: "vision", tags: [{ key: "team", value: "cv" }, { key: "stage", value: "dev" }] })
    expect(created.status).toBe(200)
    const id = created.json.experiment_id as string
    expect((await mlflow(server.url, "POST", "experiments/set-experiment-tag", { experiment_id: id, key: "stage", value: "prod" })).status).toBe(200)
    expect((await mlflow(server.url, "POST", "experiments/set-experiment-tag", { experiment_id: "0", key: "note", value: "the default" })).status).toBe(200)

    const got = await mlflow(server.url, "GET", "experiments/get", { experiment_id: id })
    expect(tagsOf(got.json.experiment as Tagged)).toEqual({ team: "cv", stage: "prod" })
    const searched = (await mlflow(server.url, "POST", "experiments/search", {})).json.experiments as Tagged[]
    expect(tagsOf(searched.find((e) => e.experiment_id === id)!)).toEqual({ team: "cv", stage: "prod" })
    expect(tagsOf(searched.find((e) => e.name === "Default")!)).toEqual({ note: "the default" })

    const byTag = await mlflow(server.url, "POST", "experiments/search", { filter: "tags.stage = 'prod' AND name LIKE 'vis%'" })
    expect((byTag.json.experiments as Tagged[]).map((e) => e.experiment_id)).toEqual([id])
    const noTag = await mlflow(server.url, "POST", "experiments/search", { filter: "tags.stage != 'prod'" })
    expect(noTag.json.experiments ?? []).toEqual([])

    // Refusals: over MLflow's limit, unknown experiment, deleted experiment. None appends anything.
    const long = await mlflow(server.url, "POST", "experiments/set-experiment-tag", { experiment_id: id, key: "k", value: "x".repeat(8001) })
    expect(long.status).toBe(400)
    expect(long.json.error_code).toBe("INVALID_PARAMETER_VALUE")
    const unknown = await mlflow(server.url, "POST", "experiments/set-experiment-tag", { experiment_id: "no-such", key: "k", value: "v" })
    expect(unknown.status).toBe(404)
    expect(unknown.json.error_code).toBe("RESOURCE_DOES_NOT_EXIST")
    expect((await mlflow(server.url, "POST", "experiments/delete", { experiment_id: id })).status).toBe(200)
    const deleted = await mlflow(server.url, "POST", "experiments/set-experiment-tag", { experiment_id: id, key: "stage", value: "gone" })
    expect(deleted.status).toBe(400)
    expect(deleted.json).toMatchObject({ error_code: "INVALID_PARAMETER_VALUE", message: expect.stringContaining(`The experiment ${id} must be in the 'active' state. Current state is deleted.`) })
    const again = await mlflow(server.url, "GET", "experiments/get", { experiment_id: id })
    expect(tagsOf(again.json.experiment as Tagged)).toEqual({ team: "cv", stage: "prod" })
    const duplicate = await mlflow(server.url, "POST", "experiments/create", { name: "vision", tags: [{ key: "team", value: "other" }] })
    expect(duplicate.json.error_code).toBe("RESOURCE_ALREADY_EXISTS")
    expect(await server.stop()).toEqual({ status: 0, signal: null })

    const listed = await cli(["experiments", "--view", "all", "--json", "--dir", dir])
    expect(listed.status, listed.stderr).toBe(0)
    const experiments = parseListing<{ id: string; tags: Record<string, string> }>(listed.stdout, "experiments")
    expect(experiments.find((e) => e.id === id)?.tags).toEqual({ team: "cv", stage: "prod" })
    const sql = await cli(["sql", `SELECT tags FROM experiments WHERE experiment_id = '${id}'`, "--json", "--dir", dir])
    expect(sql.status, sql.stderr).toBe(0)
    expect((JSON.parse(sql.stdout) as Array<{ tags: string }>).map((r) => JSON.parse(r.tags) as unknown)).toEqual([{ team: "cv", stage: "prod" }])
    const events = await cli(["events", "--dir", dir])
    expect(events.stdout).toMatch(/ExperimentTagsSet.*stage=prod/)
    expect(events.stdout).not.toContain("gone")
  })
})
